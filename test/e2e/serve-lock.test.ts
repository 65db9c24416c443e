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

    const second = await fnProcess(['serve', '--port', '0', '--json', '--data-dir', dataDir], { env: { FN_SERVICE_KEY: 'k' }, timeout: 20_000 });
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
