// Worker thread entry: runs calls for one app version, one at a time. Started with an empty
// environment, so no secret of the server is reachable from function code.
import { parentPort, workerData } from 'node:worker_threads';
import { AppSandbox } from './sandbox.js';
import type { AppBundle, CallRequest } from './types.js';

const port = parentPort!;
const sandbox = new AppSandbox((workerData as { bundle: AppBundle }).bundle);
let failCurrent: ((code: 'UNHANDLED_REJECTION' | 'FUNCTION_ERROR', message: string) => void) | undefined;

process.on('unhandledRejection', (reason) => {
  failCurrent?.('UNHANDLED_REJECTION', `unhandled promise rejection: ${(reason as Error)?.message ?? String(reason)}`);
});
process.on('uncaughtException', (error) => {
  failCurrent?.('FUNCTION_ERROR', `uncaught exception: ${error?.message ?? String(error)}`);
});

port.on('message', (message: { type: 'call'; id: number; request: CallRequest }) => {
  if (message.type !== 'call') return;
  let settled = false;
  // recycle: the call was ended from outside (a stray rejection or exception) and may still be
  // running, so the host replaces this worker rather than give it another call.
  const send = (outcome: unknown, recycle = false) => {
    if (settled) return;
    settled = true;
    failCurrent = undefined;
    port.postMessage({ type: 'done', id: message.id, outcome, recycle });
  };
  const started = performance.now();
  failCurrent = (code, text) => {
    const logs = sandbox.current?.logs ?? [];
    send({ ok: false, error: { code, message: text, status: 500 }, logs, durationMs: performance.now() - started, runAs: { userId: message.request.caller.id } }, true);
  };
  sandbox.run(message.request).then((outcome) => send(outcome), (error: Error) => failCurrent?.('FUNCTION_ERROR', error.message));
});

port.postMessage({ type: 'ready' });
