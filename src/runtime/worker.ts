// Worker thread entry: runs calls for one app version, one after another in the order they
// arrive. Started with an empty environment. An error that escapes a call (a timer that throws,
// a rejection nobody handles) ends that call if it is still running, and is dropped if the call
// has already answered: it never lands on another call.
import { parentPort, workerData } from 'node:worker_threads';
import { AppSandbox, currentFrame } from './sandbox.js';
import type { AppBundle, CallRequest } from './types.js';

const port = parentPort!;
const sandbox = new AppSandbox((workerData as { bundle: AppBundle }).bundle);
const queue: { id: number; request: CallRequest }[] = [];
let running = false;

process.on('unhandledRejection', (reason) => {
  currentFrame()?.call.fail('UNHANDLED_REJECTION', `unhandled promise rejection: ${(reason as Error)?.message ?? String(reason)}`);
});
process.on('uncaughtException', (error) => {
  currentFrame()?.call.fail('FUNCTION_ERROR', `uncaught exception: ${error?.message ?? String(error)}`);
});

function pump(): void {
  if (running) return;
  const next = queue.shift();
  if (!next) return;
  running = true;
  void sandbox.run(next.request).then(({ outcome, recycle }) => {
    port.postMessage({ type: 'done', id: next.id, outcome, recycle });
    running = false;
    // A recycled worker takes no more calls; the host sends the waiting ones elsewhere.
    if (!recycle) pump();
  });
}

port.on('message', (message: { type: 'call'; id: number; request: CallRequest }) => {
  if (message.type !== 'call') return;
  queue.push({ id: message.id, request: message.request });
  pump();
});

port.postMessage({ type: 'ready' });
