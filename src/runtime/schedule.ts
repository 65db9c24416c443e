// The runtime host's scheduling policy, as pure functions: which worker a call goes to, when calls
// sent ahead come back, when a worker starts or stops, and what becomes of each call of a worker
// that dies. They read worker-state records and the time `now` they are given (performance.now()
// in the host, a number in tests); RuntimeHost (host.ts) applies what they decide and keeps the
// threads, the timers and the messages. See README.md for the policy in prose.
import { PIPELINE_DEPTH } from './limits.js';

/** Calls of a function whose last call took less than this may queue up on one worker. */
export const QUICK_MS = 1;
/** A worker whose running call started this long ago takes no more quick calls while another can. */
export const BUSY_MS = 5;
/** Any call running this long holds its worker, whatever was known of its function. */
export const HELD_MS = 100;

/** A call as the policy sees it. */
export interface ScheduledCall {
  readonly request: { readonly name: string };
}

/** A worker as the policy sees it. */
export interface WorkerState {
  /** Calls sent to the worker, in order; the first is running once the worker is ready. */
  readonly sent: readonly ScheduledCall[];
  /** The worker has started and reads its calls. */
  readonly ready: boolean;
  /** When the running call (the head of `sent`) started; undefined when none runs. */
  readonly startedAt: number | undefined;
}

/** How long the last call of each function took, in ms (learned from answers). */
export type Durations = ReadonlyMap<string, number>;

/** A function is quick if its last call took under QUICK_MS; one not seen yet is not. */
export function isQuick(durations: Durations, name: string): boolean {
  return (durations.get(name) ?? QUICK_MS) < QUICK_MS;
}

/** How long the worker's running call has been running, in ms; -1 if none is. */
export function runningFor(worker: WorkerState, now: number): number {
  return worker.startedAt === undefined ? -1 : now - worker.startedAt;
}

/**
 * The worker a call of `name` goes to, or undefined: it waits (see growCheck).
 * - A free worker (nothing sent) takes any call.
 * - A quick call may queue (to PIPELINE_DEPTH) behind quick calls on a worker whose running call
 *   started under BUSY_MS ago (or has not started): the quick calls of a turn go to one worker in
 *   one message, and a second worker wakes up only when the first has enough to do.
 * - Any other call (a function not seen yet, or one that takes longer, as one waiting on I/O does)
 *   never goes behind another call.
 * - Once the pool is at its most workers (`full`), a quick call goes behind the least loaded worker
 *   whose running call started under BUSY_MS ago, rather than wait.
 * `workers` are those of the current version, in the order they started.
 */
export function pickWorker<W extends WorkerState>(
  name: string,
  workers: readonly W[],
  now: number,
  durations: Durations,
  full: boolean,
): W | undefined {
  const quick = isQuick(durations, name);
  for (const w of workers) {
    if (!w.sent.length) return w;
    if (quick && w.sent.length < PIPELINE_DEPTH && isQuick(durations, w.sent[0]!.request.name) && runningFor(w, now) < BUSY_MS) return w;
  }
  if (!quick || !full) return undefined;
  let best: W | undefined;
  for (const w of workers)
    if (w.sent.length < PIPELINE_DEPTH && runningFor(w, now) < BUSY_MS && (!best || w.sent.length < best.sent.length)) best = w;
  return best;
}

/**
 * What to do for calls that wait for a worker (when the pool can grow):
 * - 'dispatch': a worker is free: send them.
 * - 'grow': every worker is held by a slow call: start one more. Held: a call of a function known
 *   to take QUICK_MS or more that has run BUSY_MS (or that a starting worker is about to run), or
 *   any call that has run HELD_MS. Not for workers kept busy by quick calls, nor at start-up, when
 *   first calls run for a moment: more threads would only share the same cores.
 * - 'wait': a starting worker will run a call not known to be slow: its answer dispatches again.
 * - a number: ask again in that many ms, when a running call crosses its mark.
 */
export function growCheck(workers: readonly WorkerState[], now: number, durations: Durations): 'dispatch' | 'grow' | 'wait' | number {
  let next = Infinity;
  for (const w of workers) {
    if (!w.sent.length) return 'dispatch';
    const name = w.sent[0]!.request.name;
    const knownSlow = durations.has(name) && !isQuick(durations, name);
    const age = runningFor(w, now);
    if (age < 0) {
      if (knownSlow) continue;
      return 'wait';
    }
    const mark = knownSlow ? BUSY_MS : HELD_MS;
    if (age <= mark) next = Math.min(next, mark - age);
  }
  return next === Infinity ? 'grow' : next;
}

/**
 * Whether the calls sent ahead to a worker (behind its running call) come back now: when its
 * running call has run BUSY_MS or more. A function that is usually quick and sometimes slow (a
 * cache miss waiting on I/O) then holds up only the calls sent in its first BUSY_MS. Returns true,
 * or the ms until it would (Infinity: nothing waits behind a running call).
 */
export function takeBackDue(worker: WorkerState, now: number): true | number {
  if (worker.sent.length < 2) return Infinity;
  const age = worker.ready ? runningFor(worker, now) : -1;
  if (age < 0) return BUSY_MS;
  return age >= BUSY_MS ? true : BUSY_MS - age;
}

/** Whether an idle worker stops: only one above the kept number (`kept`) of the current version. */
export function stopsWhenIdle(worker: WorkerState, current: number, kept: number): boolean {
  return !worker.sent.length && current > kept;
}

/** Checks (one per turn of the event loop) an answer already posted may take to be read. */
export const ANSWER_CHECKS = 100;

/**
 * The time limit of the worker's running call, checked at `now`: undefined when none runs; the ms
 * left; 'answered' when its time is up but the worker has finished it (`over`, from the shared
 * claim: this thread was late to read the answer, which is on its way: check again next turn and
 * never blame it), unless `overChecks` such checks found it so already (the answer is lost); else
 * 'expired': the worker is stopped, and the call fails (504 if it was running).
 */
export function deadlineCheck(
  worker: WorkerState,
  now: number,
  timeoutMs: number,
  over: boolean,
  overChecks = 0,
): number | 'answered' | 'expired' | undefined {
  if (worker.startedAt === undefined) return undefined;
  const left = worker.startedAt + timeoutMs - now;
  return left > 0 ? left : over && overChecks < ANSWER_CHECKS ? 'answered' : 'expired';
}

/**
 * What becomes of a call sent to a worker that died, given what the shared claim said:
 * - 'again': the worker had not started it (the host took it back): it goes to the front of the
 *   queue, for another worker. So does every call of a worker that died before it was ready,
 *   except the first, which gets the failure (a worker that cannot start fails its first call).
 * - 'blame': it was running: it gets the failure that ended the worker.
 * - 'lost': it had started and finished, or started with no failure given (the worker was
 *   recycled): its answer did not reach the host; it fails with WORKER_EXITED, never runs twice.
 */
export function fateAfterDeath(
  ready: boolean,
  first: boolean,
  takenBack: boolean,
  state: 'waiting' | 'running' | 'over',
  failed: boolean,
): 'again' | 'blame' | 'lost' {
  if (!ready) return first && failed ? 'blame' : 'again';
  if (takenBack) return 'again';
  return failed && state === 'running' ? 'blame' : 'lost';
}

/** What the host learns of a function whose call ended its worker: it is not quick any more. */
export function durationAfterDeath(timedOut: boolean, timeoutMs: number): number {
  return timedOut ? timeoutMs : QUICK_MS;
}
