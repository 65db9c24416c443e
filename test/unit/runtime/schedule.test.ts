// The scheduling policy on a fake clock: each decision of RuntimeHost (which worker a call goes
// to, when calls come back, when a worker starts or stops, what becomes of the calls of a worker
// that dies) from worker-state records and a time given as a number.
import { describe, expect, it } from 'vitest';
import { PIPELINE_DEPTH } from '../../../src/runtime/limits.js';
import {
  ANSWER_CHECKS,
  BUSY_MS,
  deadlineCheck,
  fateAfterDeath,
  growCheck,
  HELD_MS,
  isQuick,
  pickWorker,
  QUICK_MS,
  stopsWhenIdle,
  takeBackDue,
  type WorkerState,
} from '../../../src/runtime/schedule.js';

const NOW = 10_000;
const call = (name: string) => ({ request: { name } });
/** A ready worker with these calls sent (the first running since `ranMs` before NOW), or idle. */
const worker = (names: string[] = [], ranMs = 0, ready = true): WorkerState & { tag?: string } => ({
  sent: names.map(call),
  ready,
  startedAt: ready && names.length ? NOW - ranMs : undefined,
});
const tagged = (tag: string, w: WorkerState) => Object.assign(w, { tag });
/** What the host learned: quick functions answer in under QUICK_MS, slow ones take longer. */
const durations = new Map([
  ['quick', QUICK_MS / 10],
  ['slow', 50],
]);

describe('pickWorker', () => {
  it('gives any call to a free worker, the first free one', () => {
    const workers = [tagged('a', worker(['slow'], 20)), tagged('b', worker()), tagged('c', worker())];
    for (const name of ['quick', 'slow', 'unseen']) expect(pickWorker(name, workers, NOW, durations, false)).toBe(workers[1]);
  });

  it('queues quick calls behind a quick call that started under BUSY_MS ago: one worker takes the calls of a turn', () => {
    const a = worker(['quick', 'quick'], BUSY_MS - 1);
    expect(pickWorker('quick', [a, worker()], NOW, durations, false)).toBe(a);
    // On a worker still starting (nothing runs yet) too.
    const starting = worker(['quick'], 0, false);
    expect(pickWorker('quick', [starting, worker()], NOW, durations, false)).toBe(starting);
  });

  it('never puts a quick call behind a slow one, nor behind a quick one that has run BUSY_MS', () => {
    const slowRunning = worker(['slow'], 0);
    const free = worker();
    expect(pickWorker('quick', [slowRunning, free], NOW, durations, false)).toBe(free);
    expect(pickWorker('quick', [slowRunning], NOW, durations, false)).toBeUndefined();
    expect(pickWorker('quick', [worker(['quick'], BUSY_MS)], NOW, durations, false)).toBeUndefined();
  });

  it('never puts a call of a function not seen yet, or a slow one, behind another call', () => {
    const busy = [worker(['quick'], 0), worker(['quick'], 0)];
    expect(isQuick(durations, 'unseen')).toBe(false);
    for (const name of ['unseen', 'slow']) {
      expect(pickWorker(name, busy, NOW, durations, false)).toBeUndefined();
      expect(pickWorker(name, busy, NOW, durations, true)).toBeUndefined();
    }
  });

  it('sends at most PIPELINE_DEPTH calls to one worker', () => {
    const full = worker(Array(PIPELINE_DEPTH).fill('quick'), 0);
    const other = worker(['quick'], 0);
    expect(pickWorker('quick', [full, other], NOW, durations, false)).toBe(other);
    expect(pickWorker('quick', [full], NOW, durations, true)).toBeUndefined();
  });

  it('once no more workers may start, puts a quick call behind the least loaded worker not held', () => {
    const held = worker(['slow'], BUSY_MS + 1);
    const two = worker(['slow', 'quick'], 1);
    const one = worker(['slow'], 2);
    expect(pickWorker('quick', [held, two, one], NOW, durations, false)).toBeUndefined();
    expect(pickWorker('quick', [held, two, one], NOW, durations, true)).toBe(one);
    expect(pickWorker('quick', [held], NOW, durations, true)).toBeUndefined();
  });
});

describe('growCheck', () => {
  it('dispatches when a worker is free', () => {
    expect(growCheck([worker(['slow'], 500), worker()], NOW, durations)).toBe('dispatch');
  });

  it('starts a worker when every worker is held by a slow call', () => {
    expect(growCheck([worker(['slow'], BUSY_MS + 1), worker(['slow'], 30)], NOW, durations)).toBe('grow');
    // A call of any function holds its worker once it has run HELD_MS: a first call that hangs.
    expect(growCheck([worker(['unseen'], HELD_MS + 1), worker(['quick'], HELD_MS + 5)], NOW, durations)).toBe('grow');
  });

  it('asks again when the first running call would cross its mark', () => {
    expect(growCheck([worker(['slow'], 2), worker(['slow'], 30)], NOW, durations)).toBe(BUSY_MS - 2);
    expect(growCheck([worker(['unseen'], 40)], NOW, durations)).toBe(HELD_MS - 40);
    // Workers kept busy by quick calls do not grow the pool: more threads would share the same cores.
    expect(growCheck([worker(['quick', 'quick'], 1)], NOW, durations)).toBe(HELD_MS - 1);
  });

  it('waits for a starting worker unless what it will run is known to be slow', () => {
    expect(growCheck([worker(['unseen'], 0, false)], NOW, durations)).toBe('wait');
    expect(growCheck([worker(['quick'], 0, false)], NOW, durations)).toBe('wait');
    expect(growCheck([worker(['slow'], 0, false), worker(['slow'], 10)], NOW, durations)).toBe('grow');
  });
});

describe('takeBackDue', () => {
  it('takes back the calls behind a running call once it has run BUSY_MS', () => {
    expect(takeBackDue(worker(['quick', 'quick'], BUSY_MS), NOW)).toBe(true);
    expect(takeBackDue(worker(['quick', 'quick'], 2), NOW)).toBe(BUSY_MS - 2);
  });

  it('has nothing to take back from a worker with one call or none, and waits for a starting one', () => {
    expect(takeBackDue(worker(['slow'], 1000), NOW)).toBe(Infinity);
    expect(takeBackDue(worker(), NOW)).toBe(Infinity);
    expect(takeBackDue(worker(['quick', 'quick'], 0, false), NOW)).toBe(BUSY_MS);
  });
});

describe('stopsWhenIdle', () => {
  it('stops an idle worker only above the kept number', () => {
    expect(stopsWhenIdle(worker(), 3, 2)).toBe(true);
    expect(stopsWhenIdle(worker(), 2, 2)).toBe(false);
    expect(stopsWhenIdle(worker(['quick'], 0), 3, 2)).toBe(false);
  });
});

describe('deadlineCheck', () => {
  it('gives the time left of the running call, from when it started', () => {
    expect(deadlineCheck(worker(['slow'], 40), NOW, 100, false)).toBe(60);
    expect(deadlineCheck(worker(), NOW, 100, false)).toBeUndefined();
    expect(deadlineCheck(worker(['slow'], 0, false), NOW, 100, false)).toBeUndefined();
  });

  it('expires a call still running at its limit, but never one the worker finished (this thread read its answer late)', () => {
    expect(deadlineCheck(worker(['slow'], 100), NOW, 100, false)).toBe('expired');
    expect(deadlineCheck(worker(['slow'], 250), NOW, 100, true)).toBe('answered');
    expect(deadlineCheck(worker(['slow'], 250), NOW, 100, true, ANSWER_CHECKS - 1)).toBe('answered');
  });

  it('gives up on an answer that never comes: the worker is replaced, the call is not left waiting', () => {
    expect(deadlineCheck(worker(['slow'], 250), NOW, 100, true, ANSWER_CHECKS)).toBe('expired');
    // The fate of a call the worker had finished: lost, not blamed for the time limit, not run again.
    expect(fateAfterDeath(true, true, false, 'over', true)).toBe('lost');
  });
});

describe('fateAfterDeath', () => {
  it('fails the running call with the failure, sends the calls not started elsewhere, and never runs a started call twice', () => {
    // [ready, first, takenBack, state, failed] -> fate
    const table: [boolean, boolean, boolean, 'waiting' | 'running' | 'over', boolean, string][] = [
      [true, true, false, 'running', true, 'blame'],
      [true, false, true, 'over', true, 'again'],
      [true, false, false, 'over', true, 'lost'],
      // Recycled (no failure given): the call it had started is lost, not blamed, not run again.
      [true, true, false, 'running', false, 'lost'],
      [true, false, true, 'over', false, 'again'],
      // A worker that failed to start: its first call gets the failure, the others go elsewhere.
      [false, true, false, 'waiting', true, 'blame'],
      [false, false, false, 'waiting', true, 'again'],
      [false, true, false, 'waiting', false, 'again'],
    ];
    for (const [ready, first, takenBack, state, failed, fate] of table)
      expect([ready, first, takenBack, state, failed, fateAfterDeath(ready, first, takenBack, state, failed)]).toEqual([
        ready,
        first,
        takenBack,
        state,
        failed,
        fate,
      ]);
  });
});
