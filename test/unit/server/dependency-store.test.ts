import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { dependencySet, packDependencies } from '../../../src/project/dependencies.js';
import { DependencyMismatchError, DependencyStore } from '../../../src/server/dependency-store.js';
import { FileStore } from '../../../src/server/store.js';

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fn-deps-'));
  temps.push(dir);
  return dir;
}

/** functions/node_modules with one package and a .bin link. */
function modules(text = 'module.exports = 1;\n'): string {
  const dir = join(temp(), 'node_modules');
  mkdirSync(join(dir, 'one'), { recursive: true });
  writeFileSync(join(dir, 'one', 'package.json'), '{"name":"one"}');
  writeFileSync(join(dir, 'one', 'index.js'), text);
  mkdirSync(join(dir, '.bin'));
  symlinkSync('../one/index.js', join(dir, '.bin', 'one'));
  return dir;
}

describe('dependency sets', () => {
  it('one hash for the same files, another when a byte changes; links are not part of it', () => {
    const a = dependencySet(modules());
    const b = dependencySet(modules());
    expect(a.hash).toBe(b.hash);
    expect(a.packages).toBe(1);
    expect(a.files.map((f) => f.path)).toEqual(['one/index.js', 'one/package.json']);
    expect(dependencySet(modules('module.exports = 2;\n')).hash).not.toBe(a.hash);
  });

  it('fn serve keeps a sent set under its hash, and refuses one whose files hash to another', async () => {
    const dir = modules();
    const set = dependencySet(dir);
    const archive = await packDependencies(dir, set);
    const store = new DependencyStore(temp());
    expect(store.info('app', set.hash)).toBeUndefined();
    expect(store.put('app', set.hash, archive)).toEqual({ hash: set.hash, packages: 1 });
    expect(readFileSync(join(store.modulesDir('app', set.hash), 'one', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(store.info('app', set.hash)).toEqual({ hash: set.hash, packages: 1 });
    const other = '0'.repeat(64);
    expect(() => store.put('app', other, archive)).toThrow(DependencyMismatchError);
    expect(existsSync(join(store.root('app'), other))).toBe(false);
    // Nothing half-made is left beside the sets.
    expect(readdirSync(store.root('app'))).toEqual([set.hash]);
  });

  it('an archive with a link or a path out of its folder: those entries are not unpacked', async () => {
    const staging = temp();
    mkdirSync(join(staging, 'node_modules', 'evil'), { recursive: true });
    writeFileSync(join(staging, 'node_modules', 'evil', 'index.js'), 'x');
    symlinkSync('/etc/passwd', join(staging, 'node_modules', 'evil', 'passwd'));
    const file = join(staging, 'a.tgz');
    await tar.c({ gzip: true, cwd: staging, file }, ['node_modules']);
    const expected = dependencySet(join(staging, 'node_modules'));
    const store = new DependencyStore(temp());
    store.put('app', expected.hash, readFileSync(file));
    const unpacked = join(store.modulesDir('app', expected.hash), 'evil');
    expect(readdirSync(unpacked)).toEqual(['index.js']);
  });

  it('what a crash left half unpacked is removed when fn serve takes its data dir', () => {
    const dataDir = temp();
    const deps = new DependencyStore(dataDir);
    const half = join(deps.root('app'), `${'a'.repeat(64)}.4242.0badf00d.tmp`);
    mkdirSync(join(half, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(deps.root('app'), `${'a'.repeat(64)}.tgz.4242.0badf00d.tmp`), 'x');
    mkdirSync(join(deps.root('app'), 'b'.repeat(64)));
    const store = new FileStore(dataDir);
    store.lock();
    try {
      expect(store.collected.tempFiles).toBe(2);
      expect(readdirSync(deps.root('app'))).toEqual(['b'.repeat(64)]);
    } finally {
      store.unlock();
    }
  });
});
