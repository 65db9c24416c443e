// The app watcher's policy with a fake clock and made-up snapshots (ChangeScheduler), then the
// real watcher on a real folder: a second save of one file right after the first is never missed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChangeScheduler,
  DEBOUNCE_MS,
  SETTLE_MS,
  watchApp,
  type AppWatcher,
  type Snapshot,
  type Timers,
} from '../../../src/project/watch.js';
import { tempDir, writeTree } from '../manifest/tmp-tree.js';

/** Timers that fire only when the test moves the clock. */
function fakeClock(): Timers & { advance(ms: number): Promise<void> } {
  let now = 0;
  let next = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    set: (fn, ms) => {
      const id = next++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clear: (handle) => void pending.delete(handle as number),
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        // Let a run's promise settle.
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
      now = end;
    },
  };
}

/** Files as a test sets them: path → stamp. */
function files(): { snapshot: () => Snapshot; save: (path: string) => void } {
  const stamps = new Map<string, number>();
  return {
    snapshot: () => new Map([...stamps].map(([p, n]) => [p, String(n)])),
    save: (path) => void stamps.set(path, (stamps.get(path) ?? 0) + 1),
  };
}

describe('ChangeScheduler', () => {
  it('runs once for a burst of events, DEBOUNCE_MS after the last', async () => {
    const clock = fakeClock();
    const fs = files();
    const runs: string[][] = [];
    const s = new ChangeScheduler(
      fs.snapshot,
      (changed) => void runs.push(changed),
      () => {},
      undefined,
      clock,
    );
    fs.save('a.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS - 1);
    fs.save('b.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS - 1);
    expect(runs).toEqual([]);
    await clock.advance(1);
    expect(runs).toEqual([['a.js', 'b.js']]);
  });

  it('a save during a run gives exactly one more run after it', async () => {
    const clock = fakeClock();
    const fs = files();
    const runs: string[][] = [];
    let finish: () => void = () => {};
    const s = new ChangeScheduler(
      fs.snapshot,
      (changed) => {
        runs.push(changed);
        return runs.length === 1 ? new Promise<void>((resolve) => (finish = resolve)) : undefined;
      },
      () => {},
      undefined,
      clock,
    );
    fs.save('a.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS);
    expect(runs).toHaveLength(1);
    // Two saves while the first run is still going.
    fs.save('a.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS);
    fs.save('b.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS);
    expect(runs).toHaveLength(1);
    finish();
    await clock.advance(1);
    expect(runs).toEqual([['a.js'], ['a.js', 'b.js']]);
    await clock.advance(SETTLE_MS * 2);
    expect(runs).toHaveLength(2);
  });

  it('a save that sends no event (chokidar drops a second change within 50 ms) is run SETTLE_MS + DEBOUNCE_MS after the last run', async () => {
    const clock = fakeClock();
    const fs = files();
    const runs: string[][] = [];
    const s = new ChangeScheduler(
      fs.snapshot,
      (changed) => void runs.push(changed),
      () => {},
      undefined,
      clock,
    );
    fs.save('a.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS);
    fs.save('a.js'); // no event
    await clock.advance(SETTLE_MS + DEBOUNCE_MS - 1);
    expect(runs).toEqual([['a.js']]);
    await clock.advance(1);
    expect(runs).toEqual([['a.js'], ['a.js']]);
    await clock.advance(SETTLE_MS * 3);
    expect(runs).toHaveLength(2);
  });

  it('runs when the files moved since the baseline the caller saw; a run that throws goes to onError and the watch goes on', async () => {
    const clock = fakeClock();
    const fs = files();
    const baseline = fs.snapshot();
    fs.save('a.js');
    const errors: unknown[] = [];
    let calls = 0;
    const s = new ChangeScheduler(
      fs.snapshot,
      () => {
        calls++;
        if (calls === 1) throw new Error('first run fails');
      },
      (e) => errors.push(e),
      baseline,
      clock,
    );
    s.check();
    await clock.advance(DEBOUNCE_MS);
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    fs.save('a.js');
    s.changed();
    await clock.advance(DEBOUNCE_MS);
    expect(calls).toBe(2);
  });
});

describe('watchApp on a real folder', () => {
  let watcher: AppWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  it('sees a second save of one file made while the run for the first reads it (no event comes for it)', async () => {
    const root = writeTree(tempDir(), { 'functions/a.js': 'exports = () => 0;\n' });
    const file = join(root, 'functions', 'a.js');
    const seen: string[] = [];
    let round = 0;
    watcher = await watchApp({
      paths: [join(root, 'functions')],
      run: () => {
        const text = readFileSync(file, 'utf8');
        seen.push(text);
        // The second save lands within chokidar's 50 ms of the first: it sends no event.
        if (text === `exports = () => ${round}1;\n`) writeFileSync(file, `exports = () => ${round}2;\n`);
      },
      onError: (error) => {
        throw error;
      },
    });
    for (round = 1; round <= 3; round++) {
      writeFileSync(file, `exports = () => ${round}1;\n`);
      const deadline = Date.now() + 5000;
      while (seen.at(-1) !== `exports = () => ${round}2;\n` && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toContain(`exports = () => ${round}1;\n`);
      expect(seen.at(-1)).toBe(`exports = () => ${round}2;\n`);
    }
  });
});
