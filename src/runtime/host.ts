// The runtime host: a pool of worker threads for the current app version, with a time limit per
// call, a heap limit per worker and a concurrency limit. Each worker runs its calls one after
// another; calls are sent ahead (up to PIPELINE_DEPTH) so no worker waits on the round trip, and
// the calls of one turn of the event loop go to one worker in one message. Calls sent ahead that
// have not started are taken back when the call ahead of them runs long (see takeBackHeld).
// Workers above the kept number start while calls wait behind slow ones, and stop when idle (see
// dispatch, grow). A worker that hangs, runs out of memory or exits is replaced: the call it was
// running fails, the calls queued behind it (not started) go to another worker, and every other
// call goes on. A new version (hot reload or a deployment) is served from the next call on; calls
// already sent finish on the old workers.
import { Worker } from 'node:worker_threads';
import type { DataLinkSource } from './data-bridge.js';
import type { AppBundle, CallError, CallOutcome, CallRequest, RunAs, RuntimeLimits } from './types.js';
import { DEFAULT_LIMITS, PIPELINE_DEPTH } from './types.js';
import { callState, CLAIM_SLOTS, encodeCall, nextClaim, offerCall, readDone, takeBackCall, type CallBatch, type DoneBatch } from './wire.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** The limit flags fn dev and fn serve share. */
export interface LimitFlags {
  timeout?: number;
  memory?: number;
  concurrency?: number;
  workers?: number;
  maxWorkers?: number;
}

export function limitsFrom(flags: LimitFlags, defaults: Partial<RuntimeLimits> = {}): Partial<RuntimeLimits> {
  const limits: Partial<RuntimeLimits> = { ...defaults };
  if (flags.timeout !== undefined) limits.timeoutMs = flags.timeout;
  if (flags.memory !== undefined) limits.memoryMb = flags.memory;
  if (flags.concurrency !== undefined) limits.concurrency = flags.concurrency;
  if (flags.workers !== undefined) limits.workers = flags.workers;
  if (flags.maxWorkers !== undefined) limits.maxWorkers = flags.maxWorkers;
  return limits;
}

/** An outcome from a worker, or one decided here (which does not know who the function ran as). */
type Finished = Omit<CallOutcome, 'runAs'> & { runAs?: RunAs };

interface Pending {
  id: number;
  request: CallRequest;
  done: (outcome: CallOutcome) => void;
  settled: boolean;
  /** Its claim number on the worker it was last sent to (see wire.ts), 0 before it is sent. */
  claim: number;
}

interface Slot {
  worker: Worker;
  version: string;
  ready: boolean;
  /** Calls sent to this worker, in order; the first is running. */
  sent: Pending[];
  retired: boolean;
  /** When the running call (the head of `sent`) runs out of time; 0 when none is running. */
  deadline: number;
  /** Set while a time-limit check is scheduled; it reschedules itself when the deadline moved. */
  timer: NodeJS.Timeout | undefined;
  /** Calls sent in this turn of the event loop, posted together at its end. */
  outbox: CallBatch;
  /** Who runs each call sent ahead: shared with the worker (see wire.ts). */
  claims: Int32Array;
  /** The claim number of the last call sent. */
  claim: number;
  /** Set while a worker above the kept number is idle: it stops when this fires (workerIdleMs). */
  idle: NodeJS.Timeout | undefined;
  /** Set while a call at the head of the queue is checked for being started (see checkPickup). */
  pickup: NodeJS.Timeout | undefined;
}

/** Calls of a function whose last call took less than this may queue up on one worker. */
const QUICK_MS = 1;
/** A worker whose running call started this long ago takes no more quick calls while another can. */
const BUSY_MS = 5;
/** Any call running this long holds its worker, whatever was known of its function. */
const HELD_MS = 100;
/**
 * A worker that has not started the call at the head of its queue this long after it got there is
 * kept busy by code of an earlier call that answered and went on (a timer, a promise that spins):
 * it is replaced, and its calls not started run elsewhere.
 */
export const PICKUP_MS = 1_000;

export class RuntimeHost {
  readonly limits: RuntimeLimits;
  private bundle: AppBundle | undefined;
  private slots: Slot[] = [];
  /** The slots that take new calls: not retired, of the current version. */
  private current: Slot[] = [];
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private nextId = 1;
  private closed = false;
  /** Slots with calls in their outbox; posted at the end of this turn. */
  private posting: Slot[] = [];
  /** How long the last call of each function took, in ms. */
  private readonly lastMs = new Map<string, number>();
  /** Set while calls wait for a free worker: when it fires and they still wait, one more starts. */
  private growTimer: NodeJS.Timeout | undefined;
  /** Set while calls wait on a worker behind another: when it fires, those behind a long call come back. */
  private takeBackTimer: NodeJS.Timeout | undefined;
  /** Where workers started from now on reach the app's data sources (context.services). */
  private data: DataLinkSource | undefined;

  constructor(limits: Partial<RuntimeLimits> = {}) {
    const merged = { ...DEFAULT_LIMITS, ...limits };
    this.limits = { ...merged, maxWorkers: Math.max(merged.workers, merged.maxWorkers) };
  }

  get app(): AppBundle | undefined {
    return this.bundle;
  }

  /** The app's data sources, for the workers started from now on (set before setApp). */
  setData(data: DataLinkSource | undefined): void {
    this.data = data;
  }

  /** Serve this version from the next call on; workers of older versions retire when idle. */
  setApp(bundle: AppBundle): void {
    this.bundle = bundle;
    // A new version may have made a function slower or faster: learn again.
    this.lastMs.clear();
    for (const slot of [...this.slots]) if (slot.version !== bundle.version) this.retire(slot);
    this.refresh();
    this.fill();
    this.dispatch();
  }

  call(request: CallRequest): Promise<CallOutcome> {
    return new Promise((resolve) => this.submit(request, resolve));
  }

  /**
   * Runs a call and gives its outcome to `done`, once: at once (in this turn) when the call is
   * refused before reaching a worker (no such function, too many calls, closing). The server's
   * path, without a promise per call.
   */
  submit(request: CallRequest, done: (outcome: CallOutcome) => void): void {
    if (this.closed) return refused(request, done, { code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 });
    if (this.bundle?.broken !== undefined) return refused(request, done, { code: 'FUNCTION_INVALID', message: this.bundle.broken, status: 500 });
    const fn = this.bundle && Object.hasOwn(this.bundle.functions, request.name) ? this.bundle.functions[request.name] : undefined;
    if (!fn || (request.via === 'client' && fn.private)) return refused(request, done, { code: 'FUNCTION_NOT_FOUND', message: `function "${request.name}" not found`, status: 404 });
    // A function whose file or entry has an error answers it, at once: no worker compiles it.
    if (fn.broken !== undefined) return refused(request, done, { code: 'FUNCTION_INVALID', message: fn.broken, status: 500 });
    if (this.inFlight >= this.limits.concurrency) return refused(request, done, { code: 'TOO_MANY_REQUESTS', message: `more than ${this.limits.concurrency} calls at once`, status: 429 });
    this.inFlight++;
    this.queue.push({ id: this.nextId++, request, done, settled: false, claim: 0 });
    this.dispatch();
  }

  /** Gives a call its outcome (the first one only). */
  private settle(pending: Pending, outcome: CallOutcome): void {
    if (pending.settled) return;
    pending.settled = true;
    this.inFlight--;
    try {
      pending.done(outcome);
    } catch (error) {
      // The caller's own failure: it must not stop the answers after this one.
      process.emitWarning(`an answer handler failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.growTimer);
    clearTimeout(this.takeBackTimer);
    const closing = (p: Pending) => this.settle(p, { ok: false, error: { code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 }, logs: [], durationMs: 0, runAs: { userId: p.request.caller.id } });
    this.queue.splice(0).forEach(closing);
    const slots = this.slots.splice(0);
    this.current = [];
    this.posting = [];
    for (const slot of slots) {
      clearTimeout(slot.timer);
      clearTimeout(slot.idle);
      slot.sent.splice(0).forEach(closing);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private refresh(): void {
    const version = this.bundle?.version;
    this.current = this.slots.filter((s) => !s.retired && s.version === version);
  }

  private fill(): void {
    if (this.closed || !this.bundle) return;
    while (this.current.length < this.limits.workers) this.spawn();
  }

  private spawn(): Slot {
    const bundle = this.bundle!;
    const claims = new SharedArrayBuffer(CLAIM_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const data = this.data?.connect();
    const worker = new Worker(WORKER_URL, {
      workerData: { bundle, claims, data },
      transferList: data ? [data.port] : [],
      env: {},
      // Only the permission model's flags carry over: on Node 20 a worker given other execArgv
      // runs outside the permission model of its process (see runner-client.ts).
      execArgv: permissionArgs(),
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.limits.memoryMb >> 3)) },
    });
    // Output written around console (process.stdout of the worker) is not the function's log.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    const slot: Slot = { worker, version: bundle.version, ready: false, sent: [], retired: false, deadline: 0, timer: undefined, outbox: [], claims: new Int32Array(claims), claim: 0, idle: undefined, pickup: undefined };
    worker.on('message', (m: DoneBatch | { type: 'ready' }) => {
      if (Array.isArray(m)) {
        readDone(m, (id, outcome, recycle) => this.done(slot, id, outcome, recycle));
        this.dispatch();
      } else if (m.type === 'ready') {
        slot.ready = true;
        this.flush(slot);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.crash(slot, failure(memory ? 'MEMORY_LIMIT' : 'WORKER_EXITED', memory ? `the function ran out of memory (limit ${this.limits.memoryMb} MB per worker)` : `the function crashed its worker: ${error.message}`));
    });
    worker.on('exit', (code) => this.crash(slot, failure('WORKER_EXITED', `the function ended its worker (exit code ${code})`)));
    this.slots.push(slot);
    this.refresh();
    return slot;
  }

  private isQuick(name: string): boolean {
    return (this.lastMs.get(name) ?? QUICK_MS) < QUICK_MS;
  }

  /** How long the call at the head of a worker's queue has been running, in ms; -1 if none is. */
  private runningFor(slot: Slot, now: number): number {
    return slot.deadline === 0 ? -1 : now - (slot.deadline - this.limits.timeoutMs);
  }

  /**
   * Sends waiting calls, in order, to workers of the current version.
   * - A call of a function whose last call took under QUICK_MS may queue up (to PIPELINE_DEPTH)
   *   on a worker running a call of such a function that started under BUSY_MS ago: the quick
   *   calls of a turn go to one worker in one message, and a second worker wakes up only when
   *   the first has enough to do.
   * - Any other call (a function not seen yet, or one that takes longer, as one waiting on I/O
   *   does) goes to a free worker, never behind another call.
   * - A call that no worker can take waits here (see grow); once the pool is at maxWorkers, a
   *   quick call goes behind the least loaded worker whose running call started under BUSY_MS
   *   ago, rather than wait.
   * - Calls behind another are taken back if it runs BUSY_MS or more (see takeBackHeld).
   */
  private dispatch(): void {
    if (this.closed || !this.bundle) return;
    if (this.current.length < this.limits.workers) this.fill();
    const slots = this.current;
    let now = 0;
    while (this.queue.length) {
      let slot: Slot | undefined;
      const quick = this.isQuick(this.queue[0]!.request.name);
      for (let i = 0; i < slots.length && !slot; i++) {
        const s = slots[i]!;
        if (!s.sent.length) slot = s;
        else if (quick && s.sent.length < PIPELINE_DEPTH && this.isQuick(s.sent[0]!.request.name)) {
          now ||= performance.now();
          if (this.runningFor(s, now) < BUSY_MS) slot = s;
        }
      }
      if (!slot && quick && this.slots.length >= this.limits.maxWorkers) {
        now ||= performance.now();
        for (let i = 0; i < slots.length; i++) {
          const s = slots[i]!;
          if (s.sent.length < PIPELINE_DEPTH && this.runningFor(s, now) < BUSY_MS && (!slot || s.sent.length < slot.sent.length)) slot = s;
        }
      }
      if (!slot) return this.growLater(BUSY_MS);
      const pending = this.queue.shift()!;
      // Behind another call: taken back if that one runs long (see takeBackHeld).
      if (slot.sent.push(pending) > 1) this.takeBackTimer ??= setTimeout(this.takeBackHeld, BUSY_MS);
      if (slot.idle) {
        clearTimeout(slot.idle);
        slot.idle = undefined;
      }
      if (slot.ready) this.post(slot, pending);
    }
  }

  private growLater(ms: number): void {
    if (!this.growTimer && this.slots.length < this.limits.maxWorkers) this.growTimer = setTimeout(this.grow, Math.max(1, Math.ceil(ms)));
  }

  /**
   * Calls wait for a worker: one more starts (up to maxWorkers, counting workers of an older
   * version still finishing) when every worker is held by a slow call: one of a function known to
   * take QUICK_MS or more that has run over BUSY_MS (or that a starting worker is about to run),
   * or any call that has run over HELD_MS. Not for workers kept busy by quick calls, nor at
   * start-up, when first calls run for a moment: more threads would only share the same cores.
   * Checked again when a running call would cross its mark; an answer or a crash dispatches again.
   */
  private readonly grow = (): void => {
    this.growTimer = undefined;
    if (this.closed || !this.bundle || !this.queue.length || this.slots.length >= this.limits.maxWorkers) return;
    const now = performance.now();
    let next = Infinity;
    for (const s of this.current) {
      if (!s.sent.length) return this.dispatch();
      const name = s.sent[0]!.request.name;
      const knownSlow = this.lastMs.has(name) && !this.isQuick(name);
      const age = this.runningFor(s, now);
      // Starting: held if what it will run is known to be slow; else its answers dispatch again.
      if (age < 0) {
        if (knownSlow) continue;
        return;
      }
      const mark = knownSlow ? BUSY_MS : HELD_MS;
      if (age <= mark) next = Math.min(next, mark - age);
    }
    if (next === Infinity) {
      this.spawn();
      this.dispatch();
    } else this.growLater(next);
  };

  /**
   * Calls sent ahead to a worker whose running call has run BUSY_MS or more come back to the front
   * of the queue (those the worker has not started: it runs them in order, so the last ones), and
   * go to another worker, or wait for one: a function that is usually quick and sometimes slow
   * (a cache miss waiting on I/O) holds up only the calls sent in its first BUSY_MS. Checked again
   * while calls still wait behind others.
   */
  private readonly takeBackHeld = (): void => {
    this.takeBackTimer = undefined;
    if (this.closed) return;
    const now = performance.now();
    let next = Infinity;
    const back: Pending[] = [];
    for (const slot of this.current) {
      if (slot.sent.length < 2) continue;
      const age = slot.ready ? this.runningFor(slot, now) : -1;
      if (age < BUSY_MS) {
        next = Math.min(next, BUSY_MS - age);
        continue;
      }
      let from = slot.sent.length;
      while (from > 1 && takeBackCall(slot.claims, slot.sent[from - 1]!.claim)) from--;
      back.push(...slot.sent.splice(from));
    }
    if (back.length) {
      // In the order they came, ahead of the calls that came after them.
      this.queue.unshift(...back.sort((a, b) => a.id - b.id));
      this.dispatch();
    }
    if (next !== Infinity) this.takeBackTimer ??= setTimeout(this.takeBackHeld, Math.max(1, Math.ceil(next)));
  };

  private flush(slot: Slot): void {
    for (const p of slot.sent) this.post(slot, p);
    this.arm(slot);
  }

  /** Queues the call for the worker; the calls of this turn are posted together at its end. */
  private post(slot: Slot, pending: Pending): void {
    pending.claim = slot.claim = nextClaim(slot.claim);
    offerCall(slot.claims, pending.claim);
    if (slot.outbox.push(pending.claim, encodeCall(pending.id, pending.request)) === 2 && this.posting.push(slot) === 1) setImmediate(this.postAll);
    if (slot.sent[0] === pending) this.arm(slot);
  }

  private readonly postAll = (): void => {
    const posting = this.posting;
    this.posting = [];
    for (const slot of posting) {
      if (!slot.outbox.length) continue;
      const batch = slot.outbox;
      slot.outbox = [];
      slot.worker.postMessage(batch);
    }
  };

  /**
   * The time limit runs for the call at the head of a worker's queue: the one running. Moving the
   * deadline costs no timer: the pending check finds it moved and waits for the rest.
   */
  private arm(slot: Slot): void {
    if (!slot.ready || !slot.sent.length) {
      slot.deadline = 0;
      return;
    }
    slot.deadline = performance.now() + this.limits.timeoutMs;
    if (!slot.timer) slot.timer = setTimeout(() => this.checkDeadline(slot), this.limits.timeoutMs);
    if (!slot.pickup) (slot.pickup = setTimeout(() => this.checkPickup(slot), PICKUP_MS)).unref();
  }

  /** A worker that leaves the call at the head of its queue unstarted for PICKUP_MS is replaced. */
  private checkPickup(slot: Slot): void {
    slot.pickup = undefined;
    if (!slot.deadline || !this.slots.includes(slot)) return;
    const waited = performance.now() - (slot.deadline - this.limits.timeoutMs);
    if (waited < PICKUP_MS) (slot.pickup = setTimeout(() => this.checkPickup(slot), Math.ceil(PICKUP_MS - waited))).unref();
    else if (callState(slot.claims, slot.sent[0]!.claim) === 'waiting') this.crash(slot, undefined);
  }

  private checkDeadline(slot: Slot): void {
    slot.timer = undefined;
    if (!slot.deadline || !this.slots.includes(slot)) return;
    const left = slot.deadline - performance.now();
    if (left > 0) slot.timer = setTimeout(() => this.checkDeadline(slot), Math.ceil(left));
    // Over on the worker, its answer not read yet (this thread was late): the answer is on its way.
    else if (slot.ready && callState(slot.claims, slot.sent[0]!.claim) === 'over') slot.timer = setTimeout(() => this.checkDeadline(slot), 1);
    else this.crash(slot, failure('EXECUTION_TIME_LIMIT', `execution time limit exceeded (${this.limits.timeoutMs} ms)`));
  }

  private done(slot: Slot, id: number, outcome: Finished, recycle: boolean): void {
    const head = slot.sent[0];
    if (!head || head.id !== id) return;
    slot.sent.shift();
    outcome.runAs ??= { userId: head.request.caller.id };
    this.lastMs.set(head.request.name, outcome.durationMs);
    this.settle(head, outcome as CallOutcome);
    if (recycle) return this.crash(slot, undefined);
    this.arm(slot);
    if (slot.retired && !slot.sent.length) void slot.worker.terminate();
    else if (!slot.sent.length) this.stopWhenIdle(slot);
  }

  /** A worker above the kept number that has no calls stops if it still has none workerIdleMs later. */
  private stopWhenIdle(slot: Slot): void {
    if (slot.idle || this.current.length <= this.limits.workers) return;
    slot.idle = setTimeout(() => {
      slot.idle = undefined;
      if (slot.sent.length || this.current.length <= this.limits.workers || !this.current.includes(slot)) return;
      this.retire(slot);
      this.refresh();
    }, this.limits.workerIdleMs);
    slot.idle.unref();
  }

  /**
   * The worker is gone or must go: the running call gets `failed` (when given), the calls queued
   * behind it that it had not started go back to the front of the queue, and any other it had
   * started (its answer lost with the worker) fails with WORKER_EXITED rather than run twice.
   */
  private crash(slot: Slot, failed: Finished | undefined): void {
    if (!this.slots.includes(slot)) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.idle);
    clearTimeout(slot.pickup);
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.retired = true;
    // When the running call started: the failure it gets says how long it ran.
    const startedAt = slot.deadline ? slot.deadline - this.limits.timeoutMs : undefined;
    slot.deadline = 0;
    slot.outbox = [];
    this.refresh();
    const sent = slot.sent.splice(0);
    const again: Pending[] = [];
    const blame = (p: Pending, outcome: Finished) => {
      // A call that ended its worker is not quick, whatever its function did before.
      this.lastMs.set(p.request.name, outcome.error?.code === 'EXECUTION_TIME_LIMIT' ? this.limits.timeoutMs : QUICK_MS);
      this.settle(p, { ...outcome, durationMs: startedAt === undefined ? outcome.durationMs : performance.now() - startedAt, runAs: { userId: p.request.caller.id } });
    };
    if (!slot.ready) {
      // Nothing was posted: the first call is the one a worker that fails to start fails.
      if (sent[0] && failed) blame(sent.shift()!, failed);
      again.push(...sent);
    } else {
      // Calls the worker had not started run elsewhere; one it had started never runs again.
      for (const p of sent) {
        if (takeBackCall(slot.claims, p.claim)) again.push(p);
        else if (failed && callState(slot.claims, p.claim) === 'running') blame(p, failed);
        else this.settle(p, { ...failure('WORKER_EXITED', 'the worker stopped before the answer of this call reached the server'), runAs: { userId: p.request.caller.id } });
      }
    }
    this.queue.unshift(...again);
    void slot.worker.terminate();
    this.dispatch();
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    clearTimeout(slot.idle);
    if (!slot.sent.length) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.deadline = 0;
      clearTimeout(slot.timer);
      void slot.worker.terminate();
    }
  }
}

/** This process's permission-model flags (none outside a runner), for the threads it starts. */
export function permissionArgs(): string[] {
  return process.execArgv.filter((a) => a === '--permission' || a === '--experimental-permission' || a.startsWith('--allow-'));
}

function refused(request: CallRequest, done: (outcome: CallOutcome) => void, error: CallError): void {
  done({ ok: false, error, logs: [], durationMs: 0, runAs: { userId: request.caller.id } });
}

function failure(code: CallError['code'], message: string): Finished {
  const status = code === 'EXECUTION_TIME_LIMIT' ? 504 : 500;
  return { ok: false, error: { code, message, status }, logs: [], durationMs: 0 };
}
