// The runtime host: a pool of worker threads for the current app version, with a time limit per
// call, a heap limit per worker and a concurrency limit. Each worker runs its calls one after
// another; calls are sent ahead (up to PIPELINE_DEPTH) so no worker waits on the round trip, and
// the calls of one turn of the event loop go to one worker in one message. Which worker a call goes
// to, when calls sent ahead come back and when workers start or stop is decided in schedule.ts
// (pure functions, the policy); this class applies it and keeps the threads, timers and messages
// (README.md has both). A call that cannot be encoded, posted or decoded fails alone with
// CALL_ENCODING_FAILED, and never stays queued. A worker that hangs, runs out of memory or exits is replaced: the call it was
// running fails, the calls queued behind it (not started) go to another worker, and every other
// call goes on. A new version (hot reload or a deployment) is served from the next call on; calls
// already sent finish on the old workers.
import { Worker } from 'node:worker_threads';
import type { DataLinkSource } from './data-bridge.js';
import {
  BUSY_MS,
  deadlineCheck,
  durationAfterDeath,
  fateAfterDeath,
  growCheck,
  pickWorker,
  stopsWhenIdle,
  takeBackDue,
} from './schedule.js';
import type { AppBundle, CallError, CallOutcome, CallRequest, RunAs, RuntimeLimits } from './types.js';
import { DEFAULT_LIMITS } from './types.js';
import {
  callState,
  CLAIM_SLOTS,
  encodeCall,
  nextClaim,
  offerCall,
  readDone,
  takeBackCall,
  type CallBatch,
  type DoneBatch,
} from './wire.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** An outcome from a worker, or one decided here (which does not know who the function ran as). */
type Finished = DistributiveOmit<CallOutcome, 'runAs'> & { runAs?: RunAs };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  id: number;
  request: CallRequest;
  done: (outcome: CallOutcome) => void;
  settled: boolean;
  /** Its claim number on the worker it was last sent to (see wire.ts), 0 before it is sent. */
  claim: number;
  /** The number of the message that carried it to that worker (1 for the first), 0 before. */
  message: number;
}

interface Slot {
  worker: Worker;
  version: string;
  ready: boolean;
  /** Calls sent to this worker, in order; the first is running once the worker is ready. */
  sent: Pending[];
  retired: boolean;
  /** When the running call (the head of `sent`) started, by performance.now(); undefined when none runs. */
  startedAt: number | undefined;
  /** Set while a time-limit check is scheduled; it reschedules itself when the start moved. */
  timer: NodeJS.Timeout | undefined;
  /** Checks that found the running call over on the worker, its answer not read yet. */
  overChecks: number;
  /** Calls sent in this turn of the event loop, posted together at its end, and who they are. */
  outbox: CallBatch;
  outboxCalls: Pending[];
  /** Who runs each call sent ahead: shared with the worker (see wire.ts). */
  claims: Int32Array;
  /** The claim number of the last call sent. */
  claim: number;
  /** Messages posted to the worker so far. */
  messages: number;
  /** Set while a worker above the kept number is idle: it stops when this fires (workerIdleMs). */
  idle: NodeJS.Timeout | undefined;
  /** Set while the call at the head of the queue is checked for being started (see checkPickup). */
  pickup: NodeJS.Timeout | undefined;
}

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
  /** Set while calls wait for a free worker: when it fires and they still wait, one more may start. */
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
    if (this.bundle?.broken !== undefined)
      return refused(request, done, { code: 'FUNCTION_INVALID', message: this.bundle.broken, status: 500 });
    // A service call (request.service) names an operation, not a function: the worker checks it.
    if (request.service === undefined) {
      const fn = this.bundle && Object.hasOwn(this.bundle.functions, request.name) ? this.bundle.functions[request.name] : undefined;
      if (!fn || (request.via === 'client' && fn.private))
        return refused(request, done, { code: 'FUNCTION_NOT_FOUND', message: `function "${request.name}" not found`, status: 404 });
      // A function whose file or entry has an error answers it, at once: no worker compiles it.
      if (fn.broken !== undefined) return refused(request, done, { code: 'FUNCTION_INVALID', message: fn.broken, status: 500 });
    }
    if (this.inFlight >= this.limits.concurrency)
      return refused(request, done, {
        code: 'TOO_MANY_REQUESTS',
        message: `more than ${this.limits.concurrency} calls at once`,
        status: 429,
      });
    this.inFlight++;
    this.queue.push({ id: this.nextId++, request, done, settled: false, claim: 0, message: 0 });
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
    const closing = (p: Pending) =>
      this.settle(p, { ...failure('SERVER_CLOSING', 'the server is shutting down'), runAs: { userId: p.request.caller.id } });
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
      resourceLimits: {
        maxOldGenerationSizeMb: this.limits.memoryMb,
        maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.limits.memoryMb >> 3)),
      },
    });
    // Output written around console (process.stdout of the worker) is not the function's log.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    const slot: Slot = {
      worker,
      version: bundle.version,
      ready: false,
      sent: [],
      retired: false,
      startedAt: undefined,
      timer: undefined,
      overChecks: 0,
      outbox: [],
      outboxCalls: [],
      claims: new Int32Array(claims),
      claim: 0,
      messages: 0,
      idle: undefined,
      pickup: undefined,
    };
    worker.on('message', (m: DoneBatch | { type: 'ready' } | { type: 'undecodable'; message: number }) => {
      if (Array.isArray(m)) {
        readDone(m, (id, outcome, recycle) => this.done(slot, id, outcome, recycle));
        this.dispatch();
      } else if (m.type === 'ready') {
        slot.ready = true;
        this.flush(slot);
      } else if (m.type === 'undecodable') {
        // A message of calls the worker could not read: those calls fail, the rest go on.
        for (const p of slot.sent.filter((p) => p.message === m.message)) this.drop(slot, p, 'the worker could not read this call');
      }
    });
    // An answer this thread cannot read: it is the answer of the running call (each answer is
    // posted before the next call starts), which the worker has finished.
    worker.on('messageerror', (error) => {
      const head = slot.sent[0];
      if (!head) return;
      slot.sent.shift();
      this.settle(head, {
        ...failure('CALL_ENCODING_FAILED', `the answer of this call could not be read: ${error.message}`),
        runAs: { userId: head.request.caller.id },
      });
      this.arm(slot);
      if (!slot.sent.length) this.idleNow(slot);
      this.dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.crash(
        slot,
        failure(
          memory ? 'MEMORY_LIMIT' : 'WORKER_EXITED',
          memory
            ? `the function ran out of memory (limit ${this.limits.memoryMb} MB per worker)`
            : `the function crashed its worker: ${error.message}`,
        ),
      );
    });
    worker.on('exit', (code) => this.crash(slot, failure('WORKER_EXITED', `the function ended its worker (exit code ${code})`)));
    this.slots.push(slot);
    this.refresh();
    return slot;
  }

  /** Sends waiting calls, in order, to workers of the current version (see pickWorker). */
  private dispatch(): void {
    if (this.closed || !this.bundle) return;
    if (this.current.length < this.limits.workers) this.fill();
    if (!this.queue.length) return;
    const now = performance.now();
    const full = this.slots.length >= this.limits.maxWorkers;
    while (this.queue.length) {
      const slot = pickWorker(this.queue[0]!.request.name, this.current, now, this.lastMs, full);
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

  /** Calls wait for a worker: one more starts (up to maxWorkers) when growCheck says so. */
  private readonly grow = (): void => {
    this.growTimer = undefined;
    if (this.closed || !this.bundle || !this.queue.length || this.slots.length >= this.limits.maxWorkers) return;
    const decision = growCheck(this.current, performance.now(), this.lastMs);
    if (decision === 'dispatch') this.dispatch();
    else if (decision === 'grow') {
      this.spawn();
      this.dispatch();
    } else if (decision !== 'wait') this.growLater(decision);
  };

  /**
   * Calls sent ahead to a worker whose running call runs long (see takeBackDue) come back to the
   * front of the queue (those the worker has not started: it runs them in order, so the last ones)
   * and go to another worker, or wait for one. Checked again while calls still wait behind others.
   */
  private readonly takeBackHeld = (): void => {
    this.takeBackTimer = undefined;
    if (this.closed) return;
    const now = performance.now();
    let next = Infinity;
    const back: Pending[] = [];
    for (const slot of this.current) {
      const due = takeBackDue(slot, now);
      if (due !== true) {
        next = Math.min(next, due);
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
    for (const p of [...slot.sent]) this.post(slot, p);
    this.arm(slot);
  }

  /**
   * Queues the call for the worker; the calls of this turn are posted together at its end. A call
   * that cannot be encoded fails here, alone.
   */
  private post(slot: Slot, pending: Pending): void {
    let message: CallBatch[number];
    try {
      message = encodeCall(pending.id, pending.request);
    } catch (error) {
      return this.drop(slot, pending, `its arguments cannot be sent to a worker: ${(error as Error)?.message ?? String(error)}`);
    }
    pending.claim = slot.claim = nextClaim(slot.claim);
    offerCall(slot.claims, pending.claim);
    slot.outbox.push(pending.claim, message);
    slot.outboxCalls.push(pending);
    // The first call for this worker in this turn: its outbox is posted at the end of the turn.
    if (slot.outboxCalls.length === 1) {
      if (!this.posting.length) setImmediate(this.postAll);
      this.posting.push(slot);
    }
    if (slot.sent[0] === pending) this.arm(slot);
  }

  private readonly postAll = (): void => {
    const posting = this.posting;
    this.posting = [];
    for (const slot of posting) {
      if (!slot.outboxCalls.length) continue;
      const batch = slot.outbox;
      const calls = slot.outboxCalls;
      slot.outbox = [];
      slot.outboxCalls = [];
      if (this.postBatch(slot, batch, calls)) continue;
      // One of them cannot be copied to the worker: each goes alone, and those that cannot fail.
      for (let i = 0; i < calls.length; i++) {
        const pending = calls[i]!;
        if (!slot.sent.includes(pending) || this.postBatch(slot, [batch[2 * i]!, batch[2 * i + 1]!], [pending])) continue;
        this.drop(slot, pending, 'its arguments cannot be copied to a worker');
      }
    }
  };

  private postBatch(slot: Slot, batch: CallBatch, calls: Pending[]): boolean {
    try {
      slot.worker.postMessage(batch);
    } catch {
      return false;
    }
    slot.messages++;
    for (const p of calls) p.message = slot.messages;
    return true;
  }

  /** Fails a call sent to a worker that will never run it (taken back first) with CALL_ENCODING_FAILED. */
  private drop(slot: Slot, pending: Pending, why: string): void {
    const at = slot.sent.indexOf(pending);
    if (at < 0) return;
    if (pending.claim) takeBackCall(slot.claims, pending.claim);
    slot.sent.splice(at, 1);
    this.settle(pending, {
      ...failure('CALL_ENCODING_FAILED', `the call failed before it ran: ${why}`),
      runAs: { userId: pending.request.caller.id },
    });
    if (at === 0) this.arm(slot);
    if (!slot.sent.length) this.idleNow(slot);
  }

  /**
   * The time limit runs for the call at the head of a worker's queue: the one running. Moving its
   * start costs no timer: the pending check finds it moved and waits for the rest.
   */
  private arm(slot: Slot): void {
    if (!slot.ready || !slot.sent.length) {
      slot.startedAt = undefined;
      return;
    }
    slot.startedAt = performance.now();
    slot.overChecks = 0;
    if (!slot.timer) slot.timer = setTimeout(() => this.checkDeadline(slot), this.limits.timeoutMs);
    if (!slot.pickup) (slot.pickup = setTimeout(() => this.checkPickup(slot), PICKUP_MS)).unref();
  }

  /** A worker that leaves the call at the head of its queue unstarted for PICKUP_MS is replaced. */
  private checkPickup(slot: Slot): void {
    slot.pickup = undefined;
    if (slot.startedAt === undefined || !this.slots.includes(slot) || !slot.sent.length) return;
    const waited = performance.now() - slot.startedAt;
    if (waited < PICKUP_MS) (slot.pickup = setTimeout(() => this.checkPickup(slot), Math.ceil(PICKUP_MS - waited))).unref();
    else if (callState(slot.claims, slot.sent[0]!.claim) === 'waiting') this.crash(slot, undefined);
  }

  private checkDeadline(slot: Slot): void {
    slot.timer = undefined;
    if (!this.slots.includes(slot) || !slot.sent.length) return;
    const check = deadlineCheck(
      slot,
      performance.now(),
      this.limits.timeoutMs,
      callState(slot.claims, slot.sent[0]!.claim) === 'over',
      slot.overChecks,
    );
    if (check === undefined) return;
    if (check === 'answered') {
      slot.overChecks++;
      slot.timer = setTimeout(() => this.checkDeadline(slot), 1);
    } else if (check === 'expired')
      this.crash(slot, failure('EXECUTION_TIME_LIMIT', `execution time limit exceeded (${this.limits.timeoutMs} ms)`));
    else slot.timer = setTimeout(() => this.checkDeadline(slot), Math.ceil(check));
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
    if (!slot.sent.length) this.idleNow(slot);
  }

  /**
   * A worker with no calls left: a retired one stops; one above the kept number stops if it still
   * has none workerIdleMs later (see stopsWhenIdle).
   */
  private idleNow(slot: Slot): void {
    if (slot.retired) {
      if (!slot.sent.length) this.retire(slot);
      return;
    }
    if (slot.idle || !stopsWhenIdle(slot, this.current.length, this.limits.workers)) return;
    slot.idle = setTimeout(() => {
      slot.idle = undefined;
      if (!this.current.includes(slot) || !stopsWhenIdle(slot, this.current.length, this.limits.workers)) return;
      this.retire(slot);
      this.refresh();
    }, this.limits.workerIdleMs);
    slot.idle.unref();
  }

  /**
   * The worker is gone or must go: each call sent to it meets its fate (see fateAfterDeath): the
   * running call gets `failed`, the calls it had not started go back to the front of the queue,
   * and any other it had started (its answer lost with the worker) fails with WORKER_EXITED.
   */
  private crash(slot: Slot, failed: Finished | undefined): void {
    if (!this.slots.includes(slot)) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.idle);
    clearTimeout(slot.pickup);
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.retired = true;
    // When the running call started: the failure it gets says how long it ran.
    const startedAt = slot.startedAt;
    slot.startedAt = undefined;
    slot.outbox = [];
    slot.outboxCalls = [];
    this.refresh();
    const again: Pending[] = [];
    for (const [i, p] of slot.sent.splice(0).entries()) {
      const fate = fateAfterDeath(
        slot.ready,
        i === 0,
        slot.ready && takeBackCall(slot.claims, p.claim),
        slot.ready ? callState(slot.claims, p.claim) : 'waiting',
        failed !== undefined,
      );
      if (fate === 'again') again.push(p);
      else if (fate === 'blame' && failed) {
        // A call that ended its worker is not quick, whatever its function did before.
        this.lastMs.set(p.request.name, durationAfterDeath(failed.error?.code === 'EXECUTION_TIME_LIMIT', this.limits.timeoutMs));
        this.settle(p, {
          ...failed,
          durationMs: startedAt === undefined ? failed.durationMs : performance.now() - startedAt,
          runAs: { userId: p.request.caller.id },
        });
      } else
        this.settle(p, {
          ...failure('WORKER_EXITED', 'the worker stopped before the answer of this call reached the server'),
          runAs: { userId: p.request.caller.id },
        });
    }
    this.queue.unshift(...again);
    void slot.worker.terminate();
    this.dispatch();
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    clearTimeout(slot.idle);
    if (!slot.sent.length && this.slots.includes(slot)) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.startedAt = undefined;
      clearTimeout(slot.timer);
      void slot.worker.terminate();
    }
  }
}

function refused(request: CallRequest, done: (outcome: CallOutcome) => void, error: CallError): void {
  done({ ok: false, error, logs: [], durationMs: 0, runAs: { userId: request.caller.id } });
}

function failure(code: CallError['code'], message: string): Finished & { ok: false } {
  const status = code === 'EXECUTION_TIME_LIMIT' ? 504 : code === 'SERVER_CLOSING' ? 503 : 500;
  return { ok: false, error: { code, message, status }, logs: [], durationMs: 0 };
}

/** This process's permission-model flags (none outside a runner), for the threads it starts. */
export function permissionArgs(): string[] {
  return process.execArgv.filter((a) => a === '--permission' || a === '--experimental-permission' || a.startsWith('--allow-'));
}
