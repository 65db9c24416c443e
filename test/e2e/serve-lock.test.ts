// One fn serve per data dir: a second one refuses to start (exit 3, naming the holder); after the
// first is killed with SIGKILL (its lock left behind) a new one takes the dir over.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fnProcess, tempDir } from './helpers.js';
import { startServe, type ServeProcess } from './serve-helpers.js';

const running = new Set<ServeProcess>();
afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop()));
  cleanupTemps();
});

describe('fn serve locks its data dir', () => {
  it('refuses a second server on the same dir, and takes over the lock of a killed one', async () => {
    const dataDir = tempDir();
    const first = await startServe(dataDir);
    running.add(first);
    const lock = JSON.parse(readFileSync(join(dataDir, 'lock'), 'utf8')) as { pid: number; host: string; startedAt: string };
    expect(typeof lock.pid).toBe('number');

    const second = await fnProcess(['serve', '--port', '0', '--json', '--data-dir', dataDir], {
      env: { FN_SERVICE_KEY: 'k' },
      timeout: 20_000,
    });
    expect(second.exitCode).toBe(3);
    const said = second.stdout + second.stderr;
    expect(said).toContain('in use by another fn serve');
    expect(said).toContain(`pid ${lock.pid}`);

    await first.kill();
    running.delete(first);
    expect(existsSync(join(dataDir, 'lock'))).toBe(true);
    const third = await startServe(dataDir);
    running.add(third);
    const taken = JSON.parse(readFileSync(join(dataDir, 'lock'), 'utf8')) as { pid: number };
    expect(taken.pid).not.toBe(lock.pid);
    await third.stop();
    running.delete(third);
    // A clean stop gives the dir back.
    expect(existsSync(join(dataDir, 'lock'))).toBe(false);
  }, 60_000);
});

describe('taking over a stale lock', () => {
  it('of several starters at once, exactly one gets the dir', async () => {
    const { execa } = await import('execa');
    const { writeFileSync } = await import('node:fs');
    const { hostname } = await import('node:os');
    const { pathToFileURL } = await import('node:url');
    const { repoRoot } = await import('./helpers.js');
    const dataDir = tempDir();
    // A pid far above any live one, as a process gone since it took the lock.
    writeFileSync(join(dataDir, 'lock'), JSON.stringify({ pid: 4_190_000, host: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    const store = pathToFileURL(join(repoRoot, 'dist', 'server', 'store.js')).href;
    const script = `import(${JSON.stringify(store)}).then(async (m) => { try { m.lockDataDir(process.argv[1]); console.log('got'); await new Promise((r) => setTimeout(r, 1500)); } catch (e) { console.log('refused'); } })`;
    const runs = await Promise.all(Array.from({ length: 6 }, () => execa('node', ['-e', script, dataDir], { reject: false })));
    const said = runs.map((r) => String(r.stdout).trim()).sort();
    expect(said.filter((s) => s === 'got')).toHaveLength(1);
    expect(said.filter((s) => s === 'refused')).toHaveLength(5);
  }, 60_000);
});
