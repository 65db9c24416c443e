// The data thread: the one owner of an app's data sources (see README.md). It holds the backends
// (the embedded engine's collections, the driver's pool) and answers the data bridge's ports, so
// a long query never holds up the thread that serves HTTP, and every worker sees one store.
//
// Messages from the hub: { type: 'sources', sources: BackendSpec[] } adds backends;
// { type: 'connect', port } serves one more port; { type: 'close' } flushes and closes all, then
// answers { type: 'closed' }.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serveDataPort } from './bridge.js';
import { DriverBackend } from './driver.js';
import { EmbeddedEngine } from './embedded.js';
import { DataError } from './errors.js';
import type { DataBackend } from './types.js';

/** How the hub tells the data thread to open one data source. */
export interface BackendSpec {
  name: string;
  /** A connection string: the driver. */
  uri?: string;
  /** Else the embedded engine, in this folder (undefined: in memory). */
  dir?: string;
  serverSelectionTimeoutMS?: number;
}

const port = parentPort!;
const backends = new Map<string, DataBackend>();

function open(specs: BackendSpec[]): void {
  for (const s of specs) {
    if (backends.has(s.name)) continue;
    backends.set(s.name, s.uri ? new DriverBackend(s.uri, s.serverSelectionTimeoutMS) : new EmbeddedEngine(s.dir));
  }
}

const backendOf = (name: string): DataBackend => {
  const b = backends.get(name);
  if (!b) throw new DataError(`no data source named "${name}"`);
  return b;
};

open((workerData as { sources: BackendSpec[] }).sources);

port.on(
  'message',
  (
    m: { type: 'sources'; sources: BackendSpec[] } | { type: 'connect'; port: MessagePort; signal?: SharedArrayBuffer } | { type: 'close' },
  ) => {
    if (m.type === 'sources') open(m.sources);
    else if (m.type === 'connect') serveDataPort(m.port, backendOf, m.signal && new Int32Array(m.signal));
    else if (m.type === 'close') {
      void Promise.allSettled([...backends.values()].map((b) => b.close())).then(() => {
        backends.clear();
        port.postMessage({ type: 'closed' });
      });
    }
  },
);
