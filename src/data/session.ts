// Sessions as function code sees them (client.startSession()): the driver's ClientSession API over
// a BackendSession (the driver's own, the embedded engine's, or a worker's RemoteSession), with
// withTransaction written once here, as the driver writes it: start, run the callback, commit;
// run it all again on TransientTransactionError, commit again on UnknownTransactionCommitResult,
// for up to 120 s.
import { badArgument, TRANSIENT, UNKNOWN_COMMIT } from './errors.js';
import { BACKEND_METHODS, OPTIONS_INDEX, type BackendSession, type CollectionBackend, type Document } from './types.js';
import { cloneValue, isPlainObject } from './values.js';

/** How long withTransaction keeps trying, as the driver. */
const RETRY_MS = 120_000;

function hasLabel(error: unknown, label: string): boolean {
  const e = error as { errorLabels?: unknown; hasErrorLabel?: (l: string) => boolean } | null;
  if (typeof e?.hasErrorLabel === 'function') return e.hasErrorLabel(label);
  return Array.isArray(e?.errorLabels) && e.errorLabels.includes(label);
}

const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.min(2 ** attempt, 100)));

/** A collection whose every call runs in `session`. */
export function bindSession(inner: CollectionBackend, session: BackendSession): CollectionBackend {
  const out = {} as Record<string, unknown>;
  const target = inner as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const m of BACKEND_METHODS) {
    const at = OPTIONS_INDEX[m];
    out[m] = (...args: unknown[]) => {
      const a = [...args];
      while (a.length < at) a.push(undefined);
      a[at] = { ...(a[at] as Document | undefined), session };
      return target[m]!(...a);
    };
  }
  out.watch = inner.watch.bind(inner);
  return out as unknown as CollectionBackend;
}

/** The session function code holds: client.startSession(). */
export class ServiceSession {
  readonly #backend: BackendSession;
  readonly #source: string;

  constructor(backend: BackendSession, source: string) {
    this.#backend = backend;
    this.#source = source;
  }

  /** The backend session of a call's options (`{ session }`), checked to belong to this data source. */
  static of(options: unknown, source: string): BackendSession | undefined {
    const s = isPlainObject(options) ? options.session : undefined;
    if (s === undefined || s === null) return undefined;
    if (!(s instanceof ServiceSession)) throw badArgument('the session option must be a session from startSession()');
    if (s.#source !== source) throw badArgument(`the session belongs to data source "${s.#source}", not "${source}"`);
    return s.#backend;
  }

  startTransaction(options?: unknown): void {
    this.#backend.startTransaction(isPlainObject(options) ? cloneValue(options) : undefined);
  }

  inTransaction(): boolean {
    return this.#backend.inTransaction();
  }

  async commitTransaction(): Promise<void> {
    await this.#backend.commitTransaction();
  }

  async abortTransaction(): Promise<void> {
    await this.#backend.abortTransaction();
  }

  async endSession(): Promise<void> {
    await this.#backend.endSession();
  }

  /** Runs `fn` in a transaction and commits it; runs it again while the error says it may succeed then. */
  async withTransaction<R>(fn: (session: ServiceSession) => R | Promise<R>, options?: unknown): Promise<R> {
    if (typeof fn !== 'function') throw badArgument('session.withTransaction() takes a function');
    const started = Date.now();
    const inTime = () => Date.now() - started < RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      this.startTransaction(options);
      let result: R;
      try {
        result = await fn(this);
      } catch (error) {
        if (this.inTransaction()) await this.abortTransaction().catch(() => undefined);
        if (hasLabel(error, TRANSIENT) && inTime()) {
          await pause(attempt);
          continue;
        }
        throw error;
      }
      // The callback committed or aborted the transaction itself.
      if (!this.inTransaction()) return result;
      for (;;) {
        try {
          await this.commitTransaction();
          return result;
        } catch (error) {
          if (hasLabel(error, UNKNOWN_COMMIT) && inTime()) continue;
          if (hasLabel(error, TRANSIENT) && inTime()) break;
          throw error;
        }
      }
      await pause(attempt);
    }
  }
}
