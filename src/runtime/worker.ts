// Worker thread entry: runs calls for one app version, one after another in the order they
// arrive. Started with an empty environment. An error that escapes a call (a timer that throws,
// a rejection nobody handles) ends that call if it is still running, and is dropped if the call
// has already answered: it never lands on another call.
import { parentPort, workerData } from 'node:worker_threads';
import { AppSandbox, currentFrame } from './sandbox.js';
import type { AppBundle, CallRequest } from './types.js';
import { decodeCall, pushDone, type CallBatch, type DoneBatch } from './wire.js';

const port = parentPort!;
const sandbox = new AppSandbox((workerData as { bundle: AppBundle }).bundle);
const queue: { id: number; request: CallRequest }[] = [];
let running = false;
let stopped = false;

process.on('unhandledRejection', (reason) => {
  currentFrame()?.call.fail('UNHANDLED_REJECTION', `unhandled promise rejection: ${(reason as Error)?.message ?? String(reason)}`);
});
process.on('uncaughtException', (error) => {
  currentFrame()?.call.fail('FUNCTION_ERROR', `uncaught exception: ${error?.message ?? String(error)}`);
});

/** How long each function's last call took, in ms. */
const lastMs = new Map<string, number>();
/** Answers wait to go out together only behind calls of functions whose last call took less. */
const QUICK_MS = 1;
let outbox: DoneBatch = [];
let outboxSince = 0;

function send(): void {
  if (!outbox.length) return;
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
}

/**
 * Runs queued calls one after another; a call answered in its own turn lets the next start at
 * once. Answers given in a row go out in one message, unless the next call may take a while (its
 * function's last call was not quick, or there was none) or the first waiting answer has waited
 * QUICK_MS: an answer is never held back by a slow call.
 */
function pump(): void {
  while (!running && !stopped && queue.length) {
    const next = queue.shift()!;
    if (outbox.length && !((lastMs.get(next.request.name) ?? QUICK_MS) < QUICK_MS && performance.now() - outboxSince < QUICK_MS)) send();
    running = true;
    let sync = true;
    sandbox.start(next.request, ({ outcome, recycle }) => {
      lastMs.set(next.request.name, outcome.durationMs);
      if (!outbox.length) outboxSince = performance.now();
      pushDone(outbox, next.id, outcome, recycle);
      running = false;
      // A recycled worker takes no more calls; the host sends the waiting ones elsewhere.
      if (recycle) {
        stopped = true;
        send();
      } else if (!sync) {
        pump();
        send();
      }
    });
    sync = false;
  }
}

port.on('message', (batch: CallBatch) => {
  for (const message of batch) queue.push(decodeCall(message));
  pump();
  send();
});

port.postMessage({ type: 'ready' });
