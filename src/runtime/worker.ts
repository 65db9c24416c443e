// Worker thread entry: runs calls for one app version, one after another in the order they
// arrive. Started with an empty environment. An error that escapes a call (a timer that throws,
// a rejection nobody handles) ends that call if it is still running, and is dropped if the call
// has already answered: it never lands on another call.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { DataServices, type DataLink } from './data-bridge.js';
import { AppSandbox, currentFrame } from './sandbox.js';
import type { AppBundle, CallRequest } from './types.js';
import { claimCall, decodeCall, finishCall, pushDone, type CallBatch, type DoneBatch } from './wire.js';

lockDown();

const port = parentPort!;
const data = workerData as { bundle: AppBundle; claims: SharedArrayBuffer; data?: DataLink };
const sandbox = new AppSandbox(data.bundle, data.data && new DataServices(data.data));
const claims = new Int32Array(data.claims);
const queue: { claim: number; id: number; request: CallRequest }[] = [];
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
    sandbox.start(next.request, ({ outcome, recycle }) => {
      finishCall(claims, next.claim);
      const batch: DoneBatch = [];
      pushDone(batch, next.id, outcome, recycle);
      port.postMessage(batch);
      running = false;
      // A recycled worker takes no more calls; the host sends the waiting ones elsewhere.
      if (recycle) stopped = true;
      else if (!sync) pump();
    });
    sync = false;
  }
}

port.on('message', (batch: CallBatch) => {
  for (let i = 0; i < batch.length; i += 2) {
    const { id, request } = decodeCall(batch[i + 1] as Exclude<CallBatch[number], number>);
    queue.push({ claim: batch[i] as number, id, request });
  }
  pump();
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
