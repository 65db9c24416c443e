// The worker side of infer-thread.ts: ts-morph and TypeScript load and run here, off the main
// thread, while the main thread validates the app. One inferrer (one ts-morph project) for the
// worker's life, so --watch reuses it from run to run.
import { parentPort, workerData } from 'node:worker_threads';
import { createInferrer, type InferInput } from './infer.js';
import type { FunctionSignature } from './signature.js';

export interface InferRequest {
  id: number;
  functions: InferInput[];
}

export type InferReply = { id: number; signatures: [string, FunctionSignature][] } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('infer-worker.js runs as a worker thread');
const inferrer = createInferrer((workerData as { runtimeText: string }).runtimeText);

port.on('message', (request: InferRequest) => {
  let reply: InferReply;
  try {
    reply = { id: request.id, signatures: [...inferrer.infer(request.functions)] };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
