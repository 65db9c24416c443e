// The data bridge between a runtime's worker threads and the one place its data sources live
// (see README.md): a worker's RemoteCollection sends each CollectionBackend call over a
// MessagePort as BSON, the host runs it on the backend and answers with BSON, so ObjectIds, Dates
// and Decimal128 arrive as the same BSON types on the other side.
//
// Request: BSON { i: id, s: source, d: db, c: collection, m: method, a: [arguments] }
// Answer:  { i, ok: true, r: BSON { r: result } } | { i, ok: true, docs: BSON[] } (find, aggregate)
//          | { i, ok: false, message, code }
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DataError, toDataError } from './errors.js';
import { loadBson } from './libs.js';
import { BACKEND_METHODS, type ArrayCursor, type BackendMethod, type CollectionBackend, type DataBackend } from './types.js';

type Answer =
  | { i: number; ok: true; r?: Uint8Array; docs?: Uint8Array[] }
  | { i: number; ok: false; message: string; code: string | number | undefined };

const SERIALIZE = { ignoreUndefined: true } as const;
const LIST_METHODS = new Set(['find', 'aggregate']);
const ADMIN_METHODS = new Set(['collectionNames', 'databaseNames']);

/**
 * How long a worker waits for one answer before it gives up on the data thread. Its own call's time
 * limit (the runtime's) usually ends it sooner.
 */
const SYNC_WAIT_MS = 120_000;

/** The values of a worker's signal: waiting for an answer, an answer posted, the data thread gone. */
const WAITING = 0;
const ANSWERED = 1;
export const STOPPED = 2;

const stopped = () =>
  new DataError('the data thread stopped (it ran out of memory or failed); restart fn to reach the data again', 'DataThreadStopped');

/**
 * The data thread's side: answers the calls arriving on `port` with the backends `backendOf`
 * gives. With `signal` (the worker waits for answers synchronously), each answer is posted, then
 * signal[0] set to 1 and notified.
 */
export function serveDataPort(port: MessagePort, backendOf: (source: string) => DataBackend, signal?: Int32Array): void {
  const post = (answer: Answer) => {
    port.postMessage(answer);
    if (signal) {
      Atomics.compareExchange(signal, 0, WAITING, ANSWERED);
      Atomics.notify(signal, 0);
    }
  };
  const { BSON } = loadBson();
  port.on('message', (bytes: Uint8Array) => {
    let id = 0;
    void (async () => {
      const req = BSON.deserialize(bytes) as { i: number; s: string; d: string; c: string; m: string; a: unknown[] };
      id = req.i;
      const backend = backendOf(req.s);
      if (ADMIN_METHODS.has(req.m)) {
        const r = req.m === 'collectionNames' ? await backend.collectionNames(req.d) : await backend.databaseNames();
        return { i: id, ok: true, r: BSON.serialize({ r }) } satisfies Answer;
      }
      if (!(BACKEND_METHODS as readonly string[]).includes(req.m)) throw new DataError(`the data bridge has no method ${req.m}`);
      const coll = backend.collection(req.d, req.c) as unknown as Record<string, (...args: unknown[]) => unknown>;
      const value = coll[req.m]!(...req.a);
      if (LIST_METHODS.has(req.m)) {
        const docs = await (value as ArrayCursor).toArray();
        return { i: id, ok: true, docs: docs.map((d) => BSON.serialize(d, SERIALIZE)) } satisfies Answer;
      }
      return { i: id, ok: true, r: BSON.serialize({ r: await value }, SERIALIZE) } satisfies Answer;
    })().then(post, (error: unknown) => {
      const e = toDataError(error);
      post({ i: id, ok: false, message: e.message, code: e.code });
    });
  });
}

/**
 * The worker's side of one port: calls out, answers in. With `signal`, a call waits for its answer
 * synchronously (Atomics.wait, then receiveMessageOnPort): a worker runs one call at a time and has
 * nothing else to do meanwhile, and this saves a turn of its event loop on every answer. Without
 * (the host thread, which must not block), answers arrive as messages.
 */
export class RemoteData {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;

  constructor(
    private readonly port: MessagePort,
    private readonly signal?: Int32Array,
  ) {
    if (!signal) port.on('message', (answer: Answer) => this.answer(answer));
    port.unref();
  }

  private sendSync(i: number, bytes: Uint8Array): Promise<unknown> {
    const signal = this.signal!;
    return new Promise((resolve, reject) => {
      if (Atomics.load(signal, 0) === STOPPED) return reject(stopped());
      this.pending.set(i, { resolve, reject });
      Atomics.compareExchange(signal, 0, ANSWERED, WAITING);
      this.port.postMessage(bytes);
      const deadline = Date.now() + SYNC_WAIT_MS;
      while (this.pending.has(i)) {
        const left = deadline - Date.now();
        if (left <= 0) {
          this.pending.delete(i);
          return reject(new DataError(`the data thread did not answer within ${SYNC_WAIT_MS / 1000} s`));
        }
        Atomics.wait(signal, 0, WAITING, left);
        for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.answer(m.message as Answer);
        if (Atomics.load(signal, 0) === STOPPED && this.pending.has(i)) {
          this.pending.delete(i);
          return reject(stopped());
        }
        Atomics.compareExchange(signal, 0, ANSWERED, WAITING);
      }
    });
  }

  private answer(a: Answer): void {
    const p = this.pending.get(a.i);
    if (!p) return;
    this.pending.delete(a.i);
    if (!this.pending.size && !this.signal) this.port.unref();
    if (!a.ok) return p.reject(new DataError(a.message, a.code));
    const { BSON } = loadBson();
    try {
      if (a.docs) p.resolve(a.docs.map((d) => BSON.deserialize(d)));
      else p.resolve((BSON.deserialize(a.r!) as { r: unknown }).r);
    } catch (error) {
      p.reject(toDataError(error));
    }
  }

  send(source: string, db: string, coll: string, method: string, args: unknown[]): Promise<unknown> {
    const { BSON } = loadBson();
    return new Promise((resolve, reject) => {
      const i = this.nextId++;
      let bytes: Uint8Array;
      try {
        bytes = BSON.serialize({ i, s: source, d: db, c: coll, m: method, a: args }, SERIALIZE);
      } catch (error) {
        return reject(new DataError(`the arguments cannot be sent to the database: ${(error as Error).message}`));
      }
      if (this.signal) return void this.sendSync(i, bytes).then(resolve, reject);
      if (!this.pending.size) this.port.ref();
      this.pending.set(i, { resolve, reject });
      this.port.postMessage(bytes);
    });
  }

  private readonly collections = new Map<string, CollectionBackend>();

  /** A data source seen from this worker. */
  source(name: string): Pick<DataBackend, 'collection' | 'collectionNames' | 'databaseNames'> {
    return {
      collection: (db, coll) => {
        // Made once per namespace: a call that reaches a collection costs no closures after the first.
        const key = `${name}\0${db}\0${coll}`;
        let c = this.collections.get(key);
        if (!c) this.collections.set(key, (c = remoteCollection(this, name, db, coll)));
        return c;
      },
      collectionNames: (db) => this.send(name, db, '', 'collectionNames', []) as Promise<string[]>,
      databaseNames: () => this.send(name, '', '', 'databaseNames', []) as Promise<string[]>,
    };
  }
}

function remoteCollection(remote: RemoteData, source: string, db: string, coll: string): CollectionBackend {
  const c = {} as Record<BackendMethod, unknown>;
  for (const m of BACKEND_METHODS) {
    c[m] = LIST_METHODS.has(m)
      ? (...args: unknown[]) => ({ toArray: () => remote.send(source, db, coll, m, args) })
      : (...args: unknown[]) => remote.send(source, db, coll, m, args);
  }
  return c as unknown as CollectionBackend;
}
