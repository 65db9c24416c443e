// Worker thread entry: runs calls for one app version, one after another in the order they
// arrive. Started with an empty environment. An error that escapes a call (a timer that throws,
// a rejection nobody handles) ends that call if it is still running, and is dropped if the call
// has already answered: it never lands on another call.
import { createRequire } from 'node:module';
import { parentPort, resourceLimits, workerData } from 'node:worker_threads';
import { DataServices, type DataLink } from './data-bridge.js';
import { AppSandbox, currentFrame } from './sandbox.js';
import { jsonFits } from './heap-guard.js';
import type { AppBundle, CallError, CallOutcome, CallRequest } from './types.js';
import { callIdOf, claimCall, decodeCall, finishCall, pushDone, type CallBatch, type DoneBatch } from './wire.js';

lockDown();

const port = parentPort!;
const data = workerData as { bundle: AppBundle; claims: SharedArrayBuffer; data?: DataLink };
const memoryMb = Math.round(resourceLimits.maxOldGenerationSizeMb ?? 0);
const services = data.data && new DataServices(data.data);
const sandbox = new AppSandbox(data.bundle, services);
const claims = new Int32Array(data.claims);
/** Calls received, in order; one that could not be read has no request, and the error it answers. */
const queue: { claim: number; id: number; request: CallRequest | undefined; error?: CallError }[] = [];
/** Messages received so far, read or not: the host numbers the messages it posts the same way. */
let messages = 0;
let running = false;
let stopped = false;

process.on('unhandledRejection', (reason) => {
  currentFrame()?.call.fail('UNHANDLED_REJECTION', `unhandled promise rejection: ${(reason as Error)?.message ?? String(reason)}`, reason);
});
process.on('uncaughtException', (error) => {
  currentFrame()?.call.fail('FUNCTION_ERROR', `uncaught exception: ${error?.message ?? String(error)}`, error);
});

/**
 * Runs queued calls one after another; a call answered in its own turn lets the next start at
 * once. Each answer is posted before the next call starts: the host times the call at the head
 * of its queue, and an answer must never be lost with a worker stopped for a later call.
 */
function pump(): void {
  while (!running && !stopped && queue.length) {
    const next = queue.shift()!;
    // The host takes back calls that wait here behind a call that runs long, to send them elsewhere.
    if (!claimCall(claims, next.claim)) continue;
    running = true;
    let sync = true;
    const answer = ({ outcome, recycle }: { outcome: CallOutcome; recycle: boolean }): void => {
      // What the call left open in the data thread (a transaction, a change stream) ends with it.
      services?.endCall();
      finishCall(claims, next.claim);
      post(next.id, outcome, recycle);
      running = false;
      // A recycled worker takes no more calls; the host sends the waiting ones elsewhere.
      if (recycle) stopped = true;
      else if (!sync) pump();
    };
    if (next.request) sandbox.start(next.request, answer);
    else answer({ outcome: failed(next.error!), recycle: false });
    sync = false;
  }
}

/** Posts an answer; one that cannot be copied to the host is answered with that failure instead. */
function post(id: number, outcome: CallOutcome, recycle: boolean): void {
  const batch: DoneBatch = [];
  pushDone(batch, id, outcome, recycle);
  try {
    port.postMessage(batch);
  } catch (error) {
    const batch: DoneBatch = [];
    pushDone(
      batch,
      id,
      {
        ...failed({
          code: 'CALL_ENCODING_FAILED',
          message: `the answer of this call cannot be sent back: ${(error as Error)?.message ?? String(error)}`,
          status: 500,
        }),
        durationMs: outcome.durationMs,
      },
      recycle,
    );
    port.postMessage(batch);
  }
}

/** A call that failed on the way; who it would have run as is left for the host to fill in (its caller). */
function failed(error: CallError): CallOutcome {
  return { ok: false, error, logs: [], durationMs: 0, runAs: undefined as unknown as CallOutcome['runAs'] };
}

port.on('message', (batch: CallBatch) => {
  messages++;
  for (let i = 0; i < batch.length; i += 2) {
    const message = batch[i + 1] as Exclude<CallBatch[number], number>;
    const claim = batch[i] as number;
    // A call that cannot be read is answered as a failure, in its turn: the host waits for its
    // answer like any other. So is one whose arguments would not fit in this thread's heap.
    if (typeof message === 'string' && !jsonFits(message)) {
      queue.push({
        claim,
        id: callIdOf(message),
        request: undefined,
        error: {
          code: 'MEMORY_LIMIT',
          message: `the call's arguments would not fit in the function's memory once parsed (limit ${memoryMb} MB per worker)`,
          status: 413,
        },
      });
      continue;
    }
    try {
      const { id, request } = decodeCall(message);
      queue.push({ claim, id, request });
    } catch (error) {
      queue.push({
        claim,
        id: callIdOf(message),
        request: undefined,
        error: {
          code: 'CALL_ENCODING_FAILED',
          message: `the call failed before it ran: the worker could not read it: ${(error as Error)?.message ?? String(error)}`,
          status: 500,
        },
      });
    }
  }
  pump();
});
// A message this thread cannot read at all: the host fails the calls it carried.
port.on('messageerror', () => {
  messages++;
  port.postMessage({ type: 'undecodable', message: messages });
});

port.postMessage({ type: 'ready' });

/**
 * What function code could reach in this thread's own objects (through a constructor chain, vm or
 * require) and Node's permission model does not restrict: signalling another process (the server
 * is one), starting threads of its own (each would get all of this back), node:sqlite files
 * outside the permission model. Each is replaced by a function that throws.
 */
function lockDown(): void {
  const denied = (what: string) => () => {
    throw Object.assign(new Error(`${what} is not available to functions`), { code: 'ERR_ACCESS_DENIED' });
  };
  const seal = (target: object, key: string, what: string) => {
    try {
      Object.defineProperty(target, key, { value: denied(what), writable: false, configurable: false, enumerable: false });
    } catch {
      // Not there on this Node: nothing to seal.
    }
  };
  seal(process, 'kill', 'process.kill');
  seal(process, '_kill', 'process.kill');
  const require = createRequire(import.meta.url);
  seal(require('node:worker_threads') as object, 'Worker', 'worker_threads.Worker');
  try {
    const sqlite = require('node:sqlite') as object;
    seal(sqlite, 'DatabaseSync', 'node:sqlite');
    seal(sqlite, 'StatementSync', 'node:sqlite');
  } catch {
    // No node:sqlite on this Node.
  }
}
