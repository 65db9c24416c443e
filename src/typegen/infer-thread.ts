// Runs the inferrer (infer.ts) in worker threads. The first worker starts at once and loads
// ts-morph while fn loads and validates the app. A big app is split over a few workers when the
// machine has idle CPUs, each function always to the same one, and each worker keeps its project
// between calls (--watch), so an edit re-types one file in one worker. A function's signature
// depends on its own source alone, so the split never changes the output.
// Importing this module loads no TypeScript.
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { InferInput } from './infer.js';
import type { InferReply, InferRequest } from './infer-worker.js';
import type { FunctionSignature } from './signature.js';

export interface InferrerPool {
  /** The signatures of the given functions (see TypeInferrer.infer). */
  infer(functions: readonly InferInput[]): Promise<Map<string, FunctionSignature>>;
  /** Stops the workers; pending calls reject. */
  close(): Promise<void>;
}

/** Functions per worker below which another worker costs more (loading TypeScript) than it saves. */
const FUNCTIONS_PER_WORKER = 400;
const MAX_WORKERS = 4;
/** A larger young generation than Node's default: TypeScript allocates a lot of short-lived objects. */
const YOUNG_GENERATION_MB = 48;

/**
 * How many workers suit `functions` functions: one per FUNCTIONS_PER_WORKER, no more than the
 * CPUs that are idle (`make -l` style: a second worker on a busy machine only adds the cost of
 * loading TypeScript twice).
 */
export function poolSize(functions: number, cpus = availableParallelism(), load = loadavg()[0] ?? 0): number {
  const idle = Math.floor(cpus - load + 0.5);
  return Math.max(1, Math.min(idle, Math.ceil(functions / FUNCTIONS_PER_WORKER), MAX_WORKERS));
}

/** The worker a function goes to: stable for a name and a pool size (FNV-1a). */
export function partitionOf(name: string, size: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % size;
}

/** Starts one worker now; the first infer() adds the others its app calls for (then the pool stays as it is). */
export function startInferrerPool(runtimeText: string, size: (functions: number) => number = poolSize): InferrerPool {
  const workers = [startWorker(runtimeText)];
  let sized = false;
  return {
    async infer(functions) {
      if (!sized) {
        sized = true;
        while (workers.length < size(functions.length)) workers.push(startWorker(runtimeText));
      }
      const parts: InferInput[][] = workers.map(() => []);
      for (const f of functions) parts[partitionOf(f.name, workers.length)]!.push(f);
      const results = await Promise.all(workers.map((w, i) => w.infer(parts[i]!)));
      const merged = new Map(results.flatMap((r) => [...r]));
      return new Map(functions.map((f) => [f.name, merged.get(f.name)!]));
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

interface WorkerHandle {
  infer(functions: InferInput[]): Promise<Map<string, FunctionSignature>>;
  close(): Promise<void>;
}

function startWorker(runtimeText: string): WorkerHandle {
  const worker = new Worker(new URL('./infer-worker.js', import.meta.url), {
    workerData: { runtimeText },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  const pending = new Map<number, { resolve: (signatures: Map<string, FunctionSignature>) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let closing = false;

  const failAll = (error: Error) => {
    failure ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: InferReply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if ('error' in reply) call.reject(new Error(`type inference failed: ${reply.error}`));
    else call.resolve(new Map(reply.signatures));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) =>
    failAll(new Error(closing ? 'the type inference worker was stopped' : `the type inference worker stopped (exit code ${code})`)),
  );

  return {
    infer(functions) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const request: InferRequest = { id, functions };
        worker.postMessage(request);
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
