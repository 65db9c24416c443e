// Shared by the end-to-end tests: run the built bin/fn.js the way users do, in temp folders.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type Result } from 'execa';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(repoRoot, 'bin', 'fn.js');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
/** ../shared beside the repository: the corpus and references (read, never copied). */
export const sharedDir = join(repoRoot, '..', 'shared');

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `fn ...args` with NO_COLOR, never rejecting; stdin is empty unless `input` is given. */
export async function fn(args: string[], options: Options & { cwd?: string } = {}): Promise<RunResult> {
  const result = (await execa('node', [bin, ...args], {
    reject: false,
    input: options.input ?? '',
    ...options,
    env: { NO_COLOR: '1', FORCE_COLOR: undefined, CI: '1', ...options.env },
    extendEnv: true,
  })) as Result;
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const temps: string[] = [];

/** A new empty temp folder, removed by cleanupTemps(). */
export function tempDir(prefix = 'fn-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A temp copy of test/fixtures/<name>. */
export function copyFixture(name: string): string {
  const dir = tempDir(`fn-${name.replace(/\W+/g, '-')}-`);
  cpSync(join(fixturesDir, name), dir, { recursive: true });
  return dir;
}

/** Writes a tree of files ({ 'functions/config.json': '[]' }) into a new temp folder. */
export function makeApp(files: Record<string, string>): string {
  const dir = tempDir('fn-app-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

export function cleanupTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Every file and folder under `dir` (folders end with '/'), with the bytes of each file (base64). */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const full = join(abs, entry.name);
      const rel = relative(dir, full).replace(/\\/g, '/');
      if (entry.isDirectory()) {
        out[rel + '/'] = '';
        walk(full);
      } else out[rel] = readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return out;
}
