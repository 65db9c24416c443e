// The file store's lock on its data dir, and what it collects once it holds it.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import { hashText } from '../../../src/manifest/hash.js';
import { FileStore, lockDataDir, lockPath } from '../../../src/server/store.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'fn-store-lock-'));
  dirs.push(d);
  return d;
};
const stores: FileStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.unlock();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that no process has: the largest one above every live pid of this machine. */
function deadPid(): number {
  for (let pid = 4_000_000; pid > 1000; pid -= 7919) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
  throw new Error('no free pid found');
}

describe('lockDataDir', () => {
  it('writes the holder, refuses a second taker in this process, and releases', () => {
    const dir = temp();
    const lock = lockDataDir(dir);
    const held = JSON.parse(readFileSync(lockPath(dir), 'utf8')) as { pid: number; host: string };
    expect(held).toMatchObject({ pid: process.pid, host: hostname() });
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).exitCode).toBe(3);
    expect((error as FnError).message).toContain(`pid ${process.pid}`);
    lock.release();
    expect(existsSync(lockPath(dir))).toBe(false);
    lockDataDir(dir).release();
  });

  it('takes over the lock of a dead process on this host', () => {
    const dir = temp();
    writeFileSync(lockPath(dir), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('refuses a live holder (the parent of this process), and one on another host', () => {
    const dir = temp();
    writeFileSync(lockPath(dir), JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    expect(() => lockDataDir(dir)).toThrow(/in use by another fn serve \(pid \d+ on /);
    writeFileSync(lockPath(dir), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', startedAt: '2020-01-01T00:00:00.000Z' }));
    expect(() => lockDataDir(dir)).toThrow(/on elsewhere\.example/);
    writeFileSync(lockPath(dir), 'not json');
    expect(() => lockDataDir(dir)).toThrow(/cannot be locked/);
  });
});

describe('FileStore.lock collects what crashes left', () => {
  it('removes orphan temp files and blobs no version references, and keeps the rest', async () => {
    const dir = temp();
    const store = new FileStore(dir);
    const a = 'exports = () => 1;\n';
    const b = 'exports = () => 2;\n';
    await store.commit('app', {
      expectedVersion: 0,
      manifest: '[]',
      set: { a: hashText(a) },
      delete: [],
      blobs: { [hashText(a)]: a },
      summary: '',
    });
    await store.commit('app', {
      expectedVersion: 1,
      manifest: '[]',
      set: { b: hashText(b) },
      delete: ['a'],
      blobs: { [hashText(b)]: b },
      summary: '',
    });
    const appDir = join(dir, 'apps', 'app');
    const orphan = 'exports = () => "lost";\n';
    writeFileSync(join(appDir, 'blobs', hashText(orphan)), orphan);
    writeFileSync(join(appDir, 'blobs', `${hashText(orphan)}.123.abcdef01.tmp`), 'half');
    writeFileSync(join(appDir, 'CURRENT.99.0123abcd.tmp'), '3');
    writeFileSync(join(dir, 'keys.json.5.deadbeef.tmp'), '{');
    writeFileSync(join(appDir, 'blobs', 'README'), 'not a blob');
    store.lock();
    stores.push(store);
    expect(store.collected).toEqual({ tempFiles: 3, blobs: 1 });
    // Version 1 still names a: its blob stays, as does b's.
    expect(readdirSync(join(appDir, 'blobs')).sort()).toEqual([hashText(a), hashText(b), 'README'].sort());
    expect(store.current('app')?.version).toBe(2);
    expect(store.readBlob('app', hashText(b))).toBe(b);
    expect(existsSync(join(dir, 'keys.json.5.deadbeef.tmp'))).toBe(false);
  });

  it('keeps every blob of an app with an unreadable version', async () => {
    const dir = temp();
    const store = new FileStore(dir);
    const a = 'exports = () => 1;\n';
    await store.commit('app', {
      expectedVersion: 0,
      manifest: '[]',
      set: { a: hashText(a) },
      delete: [],
      blobs: { [hashText(a)]: a },
      summary: '',
    });
    const appDir = join(dir, 'apps', 'app');
    mkdirSync(join(appDir, 'versions'), { recursive: true });
    writeFileSync(join(appDir, 'versions', '2.json'), '{"trunc');
    const orphan = 'exports = () => "maybe";\n';
    writeFileSync(join(appDir, 'blobs', hashText(orphan)), orphan);
    store.lock();
    stores.push(store);
    expect(store.collected.blobs).toBe(0);
    expect(existsSync(join(appDir, 'blobs', hashText(orphan)))).toBe(true);
  });
});
