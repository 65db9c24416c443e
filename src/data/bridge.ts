// The data bridge between a runtime's worker threads and the one place its data sources live
// (see README.md): a worker's RemoteCollection sends each CollectionBackend call over a
// MessagePort as BSON, the host runs it on the backend and answers with BSON, so ObjectIds, Dates
// and Decimal128 arrive as the same BSON types on the other side.
//
// Request: BSON { i: id, s: source, d: db, c: collection, m: method, a: [arguments], x?: session }
// Answer:  { i, ok: true, r: BSON { r: result } } | { i, ok: true, docs: BSON[] } (find, aggregate)
//          | { i, ok: false, message, code, labels }
//
// Sessions and change streams live in the data thread, one table each per port, under ids the
// worker side chooses (so startSession() and watch() answer at once): m 'startSession' a [id];
// 'session' a [id, 'startTransaction' | 'commitTransaction' | 'abortTransaction' | 'endSession',
// options?]; a collection call in a session carries x: its id. 'watch' a [id, WatchOptions]
// answers the resume token; 'watchNext' a [id, wait ms] answers { e: events, t: token } as soon as
// there are events or the wait is over; 'watchClose' a [id]. 'release' (i 0, no answer), sent when
// a call ends, and the port closing (a worker stopped) abort the port's open transactions, end
// its sessions and close its streams.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { badArgument, DataError, toDataError, UNKNOWN_COMMIT } from './errors.js';
import { loadBson } from './libs.js';
import {
  BACKEND_METHODS,
  OPTIONS_INDEX,
  type ArrayCursor,
  type BackendChangeStream,
  type BackendMethod,
  type BackendSession,
  type ChangeEvent,
  type ChangeStreamOptions,
  type CollectionBackend,
  type DataBackend,
  type Document,
  type WatchOptions,
} from './types.js';

type Answer =
  | { i: number; ok: true; r?: Uint8Array; docs?: Uint8Array[] }
  | { i: number; ok: false; message: string; code: string | number | undefined; labels?: string[] };

const SESSION_OPS = new Set(['startTransaction', 'commitTransaction', 'abortTransaction', 'endSession']);
/** The most events one watchNext answer carries. */
const BATCH = 100;

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
  const sessions = new Map<number, BackendSession>();
  const streams = new Map<number, BackendChangeStream>();
  const release = () => {
    for (const s of sessions.values())
      void (async () => s.inTransaction() && (await s.abortTransaction()))()
        .finally(() => s.endSession())
        .catch(() => undefined);
    for (const s of streams.values()) void s.close().catch(() => undefined);
    sessions.clear();
    streams.clear();
  };
  port.on('close', release);
  const sessionOf = (x: number): BackendSession => {
    const session = sessions.get(x);
    if (!session) throw badArgument('the session has ended (a session lasts until endSession() or the end of the call that started it)');
    return session;
  };
  const streamOf = (x: number): BackendChangeStream => {
    const stream = streams.get(x);
    if (!stream) throw new DataError('the change stream is closed (a stream lasts until close() or the end of the call that opened it)');
    return stream;
  };
  port.on('message', (bytes: Uint8Array) => {
    let id = 0;
    void (async () => {
      const req = BSON.deserialize(bytes) as { i: number; s: string; d: string; c: string; m: string; a: unknown[]; x?: number };
      id = req.i;
      if (req.m === 'release') return release();
      const answer = (r: unknown) => ({ i: id, ok: true, r: BSON.serialize({ r }, SERIALIZE) }) satisfies Answer;
      const backend = backendOf(req.s);
      if (ADMIN_METHODS.has(req.m)) {
        const r = req.m === 'collectionNames' ? await backend.collectionNames(req.d) : await backend.databaseNames();
        return { i: id, ok: true, r: BSON.serialize({ r }) } satisfies Answer;
      }
      if (req.m === 'startSession') {
        sessions.set(req.a[0] as number, backend.startSession());
        return answer(null);
      }
      if (req.m === 'session') {
        const [x, op, options] = req.a as [number, string, Document | undefined];
        if (!SESSION_OPS.has(op)) throw new DataError(`the data bridge has no session method ${op}`);
        const session = sessionOf(x);
        if (op === 'startTransaction') session.startTransaction(options);
        else if (op === 'commitTransaction') await session.commitTransaction();
        else if (op === 'abortTransaction') await session.abortTransaction();
        else {
          sessions.delete(x);
          await session.endSession();
        }
        return answer(null);
      }
      if (req.m === 'watch') {
        const [x, options] = req.a as [number, WatchOptions];
        const opened = backend.watch(options);
        const stream = 'waitForChange' in opened ? opened : new PumpedStream(opened);
        streams.set(x, stream);
        return answer(stream.resumeToken ?? null);
      }
      if (req.m === 'watchNext') {
        const [x, wait] = req.a as [number, number];
        const stream = streamOf(x) as BackendChangeStream & { waitForChange?: (ms: number) => Promise<void> };
        const deadline = Date.now() + wait;
        const events: ChangeEvent[] = [];
        for (;;) {
          const e = await stream.tryNext();
          if (e) {
            events.push(e);
            if (events.length < BATCH) continue;
          }
          const left = deadline - Date.now();
          if (events.length || left <= 0 || !stream.waitForChange || !streams.has(x)) break;
          await stream.waitForChange(Math.min(left, 1000));
        }
        return answer({ e: events, t: stream.resumeToken ?? null });
      }
      if (req.m === 'watchClose') {
        const x = req.a[0] as number;
        const stream = streams.get(x);
        streams.delete(x);
        await stream?.close();
        return answer(null);
      }
      if (!(BACKEND_METHODS as readonly string[]).includes(req.m)) throw new DataError(`the data bridge has no method ${req.m}`);
      const coll = backend.collection(req.d, req.c) as unknown as Record<string, (...args: unknown[]) => unknown>;
      if (req.x !== undefined) {
        const at = OPTIONS_INDEX[req.m as BackendMethod];
        while (req.a.length < at) req.a.push(undefined);
        req.a[at] = { ...(req.a[at] as Document | undefined), session: sessionOf(req.x) };
      }
      const value = coll[req.m]!(...req.a);
      if (LIST_METHODS.has(req.m)) {
        const docs = await (value as ArrayCursor).toArray();
        return { i: id, ok: true, docs: docs.map((d) => BSON.serialize(d, SERIALIZE)) } satisfies Answer;
      }
      return { i: id, ok: true, r: BSON.serialize({ r: await value }, SERIALIZE) } satisfies Answer;
    })().then(
      (a) => a && post(a),
      (error: unknown) => {
        const e = toDataError(error);
        post({ i: id, ok: false, message: e.message, code: e.code, labels: e.errorLabels });
      },
    );
  });
}

let releaseBytes: Uint8Array | undefined;

/**
 * A stream whose tryNext may wait (the driver's waits up to its maxAwaitTimeMS), read ahead in the
 * background so that a watchNext answers at once with what has come: a worker asking for events
 * waits for its answer synchronously, and must not be held while the driver waits for more.
 */
class PumpedStream implements BackendChangeStream {
  private readonly buffer: ChangeEvent[] = [];
  private failure: unknown;
  private closed = false;
  private token: unknown;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly inner: BackendChangeStream) {
    this.token = inner.resumeToken;
    void this.pump();
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.failure === undefined) {
      try {
        const e = await this.inner.tryNext();
        if (e) this.buffer.push(e);
      } catch (error) {
        this.failure = error;
      }
      if (this.buffer.length || this.failure !== undefined) for (const wake of [...this.waiting]) wake();
      // Read ahead at most a batch.
      while (this.buffer.length >= BATCH && !this.closed) await this.waitForChange(1000);
    }
  }

  get resumeToken(): unknown {
    return this.token;
  }

  async tryNext(): Promise<ChangeEvent | null> {
    const e = this.buffer.shift();
    if (e) {
      this.token = e._id;
      return e;
    }
    if (this.failure !== undefined) throw this.failure;
    this.token = this.inner.resumeToken ?? this.token;
    return null;
  }

  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiting]) wake();
    await this.inner.close();
  }
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

  private nextSession = 1;
  private nextStream = 1;
  /** A session or a stream was opened since the last release(). */
  private opened = false;

  constructor(
    private readonly port: MessagePort,
    private readonly signal?: Int32Array,
  ) {
    if (!signal) {
      port.on('message', (answer: Answer) => this.answer(answer));
      port.on('close', () => {
        for (const p of this.pending.values()) p.reject(stopped());
        this.pending.clear();
      });
    }
    port.unref();
  }

  /**
   * Ends what the call that is ending left open: its transactions are aborted (no answer is
   * awaited). Sent only after a session or a stream was opened: a call that only read and wrote
   * costs the data thread no extra message (and wake-up).
   */
  release(): void {
    if (!this.opened) return;
    this.opened = false;
    this.port.postMessage((releaseBytes ??= loadBson().BSON.serialize({ i: 0, s: '', d: '', c: '', m: 'release', a: [] })));
  }

  /** A session of a data source, in the data thread. */
  startSession(source: string): BackendSession {
    this.opened = true;
    return new RemoteSession(this, source, this.nextSession++);
  }

  /** A change stream of a data source, read `wait` ms at a time (0: what there is now). */
  watch(source: string, options: WatchOptions, wait: number): BackendChangeStream {
    this.opened = true;
    return new RemoteChangeStream(this, source, this.nextStream++, options, wait);
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
    if (!a.ok) return p.reject(new DataError(a.message, a.code, a.labels));
    const { BSON } = loadBson();
    try {
      if (a.docs) p.resolve(a.docs.map((d) => BSON.deserialize(d)));
      else p.resolve((BSON.deserialize(a.r!) as { r: unknown }).r);
    } catch (error) {
      p.reject(toDataError(error));
    }
  }

  send(source: string, db: string, coll: string, method: string, args: unknown[], session?: number): Promise<unknown> {
    const { BSON } = loadBson();
    return new Promise((resolve, reject) => {
      const i = this.nextId++;
      let bytes: Uint8Array;
      try {
        bytes = BSON.serialize({ i, s: source, d: db, c: coll, m: method, a: args, ...(session ? { x: session } : {}) }, SERIALIZE);
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
  source(name: string): Pick<DataBackend, 'collection' | 'collectionNames' | 'databaseNames' | 'startSession'> {
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
      startSession: () => this.startSession(name),
    };
  }
}

/** The arguments as they cross: a RemoteSession in the options goes as its id. */
function split(m: BackendMethod, args: unknown[]): [unknown[], number | undefined] {
  const at = OPTIONS_INDEX[m];
  const options = args[at] as { session?: unknown } | undefined;
  if (!options || options.session === undefined) return [args, undefined];
  if (!(options.session instanceof RemoteSession)) throw badArgument('the session option must be a session of this data source');
  const { session, ...rest } = options;
  const out = [...args];
  out[at] = rest;
  return [out, session.id];
}

function remoteCollection(remote: RemoteData, source: string, db: string, coll: string): CollectionBackend {
  const c = {} as Record<BackendMethod | 'watch', unknown>;
  for (const m of BACKEND_METHODS) {
    const send = (args: unknown[]) => {
      const [a, x] = split(m, args);
      return remote.send(source, db, coll, m, a, x);
    };
    c[m] = LIST_METHODS.has(m) ? (...args: unknown[]) => ({ toArray: () => send(args) }) : (...args: unknown[]) => send(args);
  }
  c.watch = (pipeline?: Document[], options: ChangeStreamOptions = {}) =>
    remote.watch(source, { ...options, db, coll, ...(pipeline?.length ? { pipeline } : {}) }, 0);
  return c as unknown as CollectionBackend;
}

/**
 * A session in the data thread, seen from a worker. Whether a transaction is open is known here, so
 * startTransaction() and inTransaction() answer at once, as the driver's do.
 */
export class RemoteSession implements BackendSession {
  private open = false;

  constructor(
    private readonly remote: RemoteData,
    private readonly source: string,
    readonly id: number,
  ) {
    void remote.send(source, '', '', 'startSession', [id]).catch(() => undefined);
  }

  private op(name: string, options?: Document): Promise<unknown> {
    return this.remote.send(this.source, '', '', 'session', options ? [this.id, name, options] : [this.id, name]);
  }

  startTransaction(options?: Document): void {
    if (this.open) throw badArgument('Transaction already in progress');
    this.open = true;
    // The port keeps order: the calls that follow find the transaction started.
    void this.op('startTransaction', options).catch(() => undefined);
  }

  inTransaction(): boolean {
    return this.open;
  }

  async commitTransaction(): Promise<void> {
    if (!this.open) throw badArgument('No transaction started');
    try {
      await this.op('commitTransaction');
      this.open = false;
    } catch (error) {
      if (!(error instanceof DataError && error.hasErrorLabel(UNKNOWN_COMMIT))) this.open = false;
      throw error;
    }
  }

  async abortTransaction(): Promise<void> {
    if (!this.open) throw badArgument('No transaction started');
    this.open = false;
    await this.op('abortTransaction');
  }

  async endSession(): Promise<void> {
    this.open = false;
    await this.op('endSession');
  }
}

/** A change stream in the data thread, seen from here: each tryNext asks for what has come. */
class RemoteChangeStream implements BackendChangeStream {
  private readonly buffer: ChangeEvent[] = [];
  private token: unknown = null;
  private closed = false;
  private readonly opened: Promise<void>;

  constructor(
    private readonly remote: RemoteData,
    private readonly source: string,
    private readonly id: number,
    options: WatchOptions,
    private readonly wait: number,
  ) {
    this.opened = remote.send(source, '', '', 'watch', [id, options]).then((t) => void (this.token = t));
    this.opened.catch(() => undefined);
  }

  get resumeToken(): unknown {
    return this.token;
  }

  async tryNext(): Promise<ChangeEvent | null> {
    await this.opened;
    if (this.closed) throw new DataError('the change stream is closed');
    if (!this.buffer.length) {
      const r = (await this.remote.send(this.source, '', '', 'watchNext', [this.id, this.wait])) as { e: ChangeEvent[]; t: unknown };
      this.buffer.push(...r.e);
      if (!r.e.length) this.token = r.t;
    }
    const e = this.buffer.shift();
    if (e) this.token = e._id;
    return e ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opened.catch(() => undefined);
    await this.remote.send(this.source, '', '', 'watchClose', [this.id]).catch(() => undefined);
  }
}
