// The runtime host: a pool of worker threads for the current app version, with a time limit per
// call, a heap limit per worker and a concurrency limit. A worker that hangs, runs out of memory
// or exits is replaced; the host keeps serving every other call. A new version (hot reload or a
// deployment) is served from the next call on; calls in flight finish on the old workers.
import { Worker } from 'node:worker_threads';
import type { AppBundle, CallError, CallOutcome, CallRequest, RunAs, RuntimeLimits } from './types.js';

/** An outcome from a worker, or one decided here (which does not know who the function ran as). */
type Finished = Omit<CallOutcome, 'runAs'> & { runAs?: RunAs };
import { DEFAULT_LIMITS } from './types.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

interface Slot {
  worker: Worker;
  version: string;
  ready: Promise<void>;
  busy: boolean;
  retired: boolean;
  finish?: (outcome: Finished, recycle: boolean) => void;
}

interface Waiting {
  request: CallRequest;
  resolve: (outcome: CallOutcome) => void;
}

export class RuntimeHost {
  readonly limits: RuntimeLimits;
  private bundle: AppBundle | undefined;
  private slots: Slot[] = [];
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private nextId = 1;
  private closed = false;

  constructor(limits: Partial<RuntimeLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get app(): AppBundle | undefined {
    return this.bundle;
  }

  /** Serve this version from the next call on; workers of older versions retire when idle. */
  setApp(bundle: AppBundle): void {
    this.bundle = bundle;
    for (const slot of this.slots) if (slot.version !== bundle.version) this.retire(slot);
    this.slots = this.slots.filter((s) => !s.retired);
    while (this.slots.length < this.limits.workers) this.spawn();
    this.dispatch();
  }

  async call(request: CallRequest): Promise<CallOutcome> {
    const started = performance.now();
    const quick = (error: CallError): CallOutcome => ({ ok: false, error, logs: [], durationMs: performance.now() - started, runAs: { userId: request.caller.id } });
    if (this.closed) return quick({ code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 });
    const fn = this.bundle && Object.hasOwn(this.bundle.functions, request.name) ? this.bundle.functions[request.name] : undefined;
    if (!fn || (request.via === 'client' && fn.private)) return quick({ code: 'FUNCTION_NOT_FOUND', message: `function "${request.name}" not found`, status: 404 });
    if (this.inFlight >= this.limits.concurrency) return quick({ code: 'TOO_MANY_REQUESTS', message: `more than ${this.limits.concurrency} calls at once`, status: 429 });
    this.inFlight++;
    try {
      return await new Promise<CallOutcome>((resolve) => {
        this.queue.push({ request, resolve });
        this.dispatch();
      });
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.resolve({ ok: false, error: { code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 }, logs: [], durationMs: 0, runAs: { userId: w.request.caller.id } });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }

  private spawn(): Slot {
    const bundle = this.bundle!;
    const worker = new Worker(WORKER_URL, {
      workerData: { bundle },
      env: {},
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.limits.memoryMb >> 3)) },
    });
    // Output written around console (process.stdout of the worker) is not the function's log.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    const slot: Slot = { worker, version: bundle.version, busy: false, retired: false, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve) => {
      const onReady = (m: { type: string }) => {
        if (m.type === 'ready') {
          worker.off('message', onReady);
          resolve();
        }
      };
      worker.on('message', onReady);
      worker.once('exit', () => resolve());
    });
    worker.on('message', (m: { type: string; outcome?: Finished; recycle?: boolean }) => {
      if (m.type === 'done' && slot.finish) slot.finish(m.outcome!, m.recycle === true);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      slot.finish?.(failure(memory ? 'MEMORY_LIMIT' : 'WORKER_EXITED', memory ? `the function ran out of memory (limit ${this.limits.memoryMb} MB per worker)` : `the function crashed its worker: ${error.message}`), true);
    });
    worker.on('exit', (code) => {
      slot.finish?.(failure('WORKER_EXITED', `the function ended its worker (exit code ${code})`), true);
      this.drop(slot);
    });
    this.slots.push(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length && this.bundle && !this.closed) {
      const version = this.bundle.version;
      let slot = this.slots.find((s) => !s.busy && !s.retired && s.version === version);
      if (!slot) {
        const live = this.slots.filter((s) => !s.retired && s.version === version).length;
        if (live >= this.limits.workers) return;
        slot = this.spawn();
      }
      this.run(slot, this.queue.shift()!);
    }
  }

  private run(slot: Slot, waiting: Waiting): void {
    slot.busy = true;
    const id = this.nextId++;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    slot.finish = (outcome, recycle) => {
      slot.finish = undefined;
      clearTimeout(timer);
      slot.busy = false;
      const runAs = outcome.runAs ?? { userId: waiting.request.caller.id };
      waiting.resolve({ ...outcome, runAs, durationMs: outcome.durationMs || performance.now() - started });
      if (recycle || slot.retired || slot.version !== this.bundle?.version) {
        slot.retired = true;
        void slot.worker.terminate();
        this.drop(slot);
      }
      this.dispatch();
    };
    void slot.ready.then(() => {
      if (!slot.finish) return;
      timer = setTimeout(() => {
        slot.finish?.(failure('EXECUTION_TIME_LIMIT', `execution time limit exceeded (${this.limits.timeoutMs} ms)`), true);
      }, this.limits.timeoutMs);
      slot.worker.postMessage({ type: 'call', id, request: waiting.request });
    });
  }

  private retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    if (!slot.busy) void slot.worker.terminate();
    this.drop(slot);
  }

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (!this.closed && this.bundle) {
      while (this.slots.filter((s) => s.version === this.bundle!.version).length < this.limits.workers) this.spawn();
      this.dispatch();
    }
  }
}

function failure(code: CallError['code'], message: string): Finished {
  const status = code === 'EXECUTION_TIME_LIMIT' ? 504 : 500;
  return { ok: false, error: { code, message, status }, logs: [], durationMs: 0 };
}
