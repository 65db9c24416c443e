// Temp folders for tests that read the file system: create one per test, remove them all after.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** A fresh empty folder (real path, so comparisons with resolved paths hold on macOS too). */
export function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fn-unit-')));
  made.push(dir);
  return dir;
}

/** Writes files (path → content, '/'-separated) under root; a path ending in '/' makes a folder. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const full = join(root, ...rel.split('/'));
    if (rel.endsWith('/')) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

/** tempDir() with files in it. */
export function tempTree(files: Record<string, string>): string {
  return writeTree(tempDir(), files);
}
