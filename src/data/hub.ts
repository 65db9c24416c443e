// The host's side of an app's data: one backend per data source, chosen once, owned by one data
// thread (data-thread.ts) and shared by every worker thread of the app through the data bridge (a
// MessagePort each, straight to the data thread). A connection string in FN_DATA_SOURCE_<NAME>_URI
// selects a real MongoDB; otherwise the embedded engine under <app>/.fn/data/<name>/, where the
// embedded engine is allowed.
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { RemoteData, STOPPED } from './bridge.js';
import type { BackendSpec } from './data-thread.js';
import { redactUri } from './driver.js';
import { FnError } from '../errors.js';
import { DataError } from './errors.js';
import type {
  BackendChangeStream,
  ChangeEvent,
  ChangeStream,
  CollectionBackend,
  DataBackend,
  DataSourceSpec,
  WatchOptions,
} from './types.js';

const THREAD_URL = new URL('./data-thread.js', import.meta.url);

/** The variable that holds a data source's connection string: mongodb-atlas → FN_DATA_SOURCE_MONGODB_ATLAS_URI. */
export function uriVariable(name: string): string {
  return `FN_DATA_SOURCE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URI`;
}

export interface DataHubOptions {
  /** The app root: the embedded engine keeps its files in <root>/.fn/data/<source>/. */
  root: string;
  sources: DataSourceSpec[];
  env: Record<string, string | undefined>;
  /** Whether a source without a connection string may use the embedded engine. */
  embedded: boolean;
  /** Where the embedded engine keeps its files instead (one folder per source), and how to name it. */
  dataDir?: { path: string; display: string };
  /** Embedded engine in memory only (tests, benchmarks). */
  memory?: boolean;
  serverSelectionTimeoutMS?: number;
}

export interface BackendInfo {
  source: string;
  kind: 'embedded' | 'mongodb';
  description: string;
  /** The variable that would select a real MongoDB. */
  variable: string;
}

/**
 * Which backend each data source gets, decided from the options alone (no thread): where the
 * runtime runs in a process of its own, the server decides here and the runner's hub opens them.
 */
export class DataPlan {
  private readonly infoOf = new Map<string, BackendInfo>();
  sources: DataSourceSpec[] = [];

  constructor(private readonly options: Omit<DataHubOptions, 'sources'>) {}

  /** The specs of the sources not seen yet; throws on a missing or malformed connection string. */
  add(sources: DataSourceSpec[]): BackendSpec[] {
    const specs: BackendSpec[] = [];
    for (const s of sources) {
      if (this.infoOf.has(s.name)) continue;
      const variable = uriVariable(s.name);
      const uri = this.options.env[variable];
      if (uri) {
        if (!/^mongodb(\+srv)?:\/\//.test(uri))
          throw new FnError('USAGE', `${variable} must be a connection string starting with mongodb:// or mongodb+srv://`, {
            hint: `unset it to use the embedded engine`,
          });
        specs.push({
          name: s.name,
          uri,
          ...(this.options.serverSelectionTimeoutMS ? { serverSelectionTimeoutMS: this.options.serverSelectionTimeoutMS } : {}),
        });
        this.infoOf.set(s.name, { source: s.name, kind: 'mongodb', description: `MongoDB at ${redactUri(uri)}`, variable });
      } else if (this.options.embedded) {
        const dir = this.options.dataDir ?? { path: join(this.options.root, '.fn', 'data'), display: '.fn/data' };
        specs.push({ name: s.name, ...(this.options.memory ? {} : { dir: join(dir.path, s.name) }) });
        this.infoOf.set(s.name, {
          source: s.name,
          kind: 'embedded',
          description: this.options.memory ? 'embedded engine (in memory)' : `embedded engine (${dir.display}/${s.name})`,
          variable,
        });
      } else {
        throw new FnError('USAGE', `data source "${s.name}" has no connection string: set ${variable}`, {
          hint: 'or use the embedded engine (development only)',
        });
      }
    }
    this.sources = sources;
    return specs;
  }

  get infos(): BackendInfo[] {
    return this.sources.map((s) => this.infoOf.get(s.name)!);
  }
}

export class DataHub {
  private readonly plan: DataPlan;
  private readonly thread: Worker;
  private local: RemoteData | undefined;
  /** Each worker's signal (see bridge.ts): set to STOPPED if the data thread goes, so no worker waits on it. */
  private readonly signals: Int32Array[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: DataHubOptions) {
    this.plan = new DataPlan(options);
    const specs = this.plan.add(options.sources);
    // Only the permission model's flags carry over (a runner's): on Node 20 a thread given other
    // execArgv runs outside the permission model of its process.
    this.thread = new Worker(THREAD_URL, {
      workerData: { sources: specs },
      env: {},
      execArgv: process.execArgv.filter((a) => a === '--permission' || a === '--experimental-permission' || a.startsWith('--allow-')),
      stdout: false,
      stderr: false,
    });
    this.thread.unref();
    // A failing data thread fails the calls waiting on it (their ports close); it is not restarted.
    this.thread.on('error', () => undefined);
    this.thread.on('exit', () => {
      for (const s of this.signals) {
        Atomics.store(s, 0, STOPPED);
        Atomics.notify(s, 0);
      }
    });
  }

  /** The sources the next workers see (a reload); backends of sources still declared are kept. */
  setSources(sources: DataSourceSpec[]): void {
    const specs = this.plan.add(sources);
    if (specs.length) this.thread.postMessage({ type: 'sources', sources: specs });
  }

  get infos(): BackendInfo[] {
    return this.plan.infos;
  }

  /** A port to the data thread; with `signal`, answers are also signalled there (see bridge.ts). */
  private port(signal?: SharedArrayBuffer): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.thread.postMessage({ type: 'connect', port: port1, signal }, [port1]);
    return port2;
  }

  /** A data source as this thread sees it (through its own port). */
  backend(source: string): Pick<DataBackend, 'collection' | 'collectionNames' | 'databaseNames'> {
    if (!this.plan.sources.some((s) => s.name === source)) throw new DataError(`no data source named "${source}"`);
    this.local ??= new RemoteData(this.port());
    return this.local.source(source);
  }

  /**
   * A change stream of a data source (options.db / options.coll narrow it): the events of writes
   * committed from now on, or after options.resumeAfter / startAfter. Close it when done: while it
   * is open, it keeps asking the data thread (each ask waits up to a second for events).
   */
  watch(source: string, options: WatchOptions = {}): ChangeStream {
    if (!this.plan.sources.some((s) => s.name === source)) throw new DataError(`no data source named "${source}"`);
    this.local ??= new RemoteData(this.port());
    return new HubChangeStream(this.local.watch(source, options, 1000));
  }

  /**
   * One collection of a data source as this thread sees it, whose watch() waits up to a second
   * per ask (a rules layer over it then gives a user's change stream, as in function code).
   */
  collection(source: string, db: string, coll: string): CollectionBackend {
    const c = this.backend(source).collection(db, coll);
    const local = this.local!;
    return {
      ...c,
      watch: (pipeline, options = {}) => local.watch(source, { ...options, db, coll, ...(pipeline?.length ? { pipeline } : {}) }, 1000),
    };
  }

  /** The sources as the data thread has them, with their rules. */
  get sources(): DataSourceSpec[] {
    return this.plan.sources;
  }

  /** A port for one more worker (which waits for answers on `signal`), and the sources with their rules. */
  connect(): { port: MessagePort; signal: SharedArrayBuffer; sources: DataSourceSpec[] } {
    const signal = new SharedArrayBuffer(4);
    this.signals.push(new Int32Array(signal));
    return { port: this.port(signal), signal, sources: this.plan.sources };
  }

  /** Writes what the embedded engine holds and closes every connection. */
  close(): Promise<void> {
    return (this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        void this.thread.terminate().then(() => resolve());
      };
      const timer = setTimeout(done, 10_000);
      this.thread.once('message', (m: { type?: string }) => m.type === 'closed' && done());
      this.thread.once('exit', done);
      this.thread.postMessage({ type: 'close' });
    }));
  }
}

/** DataHub.watch's stream: next() waits for the next event however long it takes, until close(). */
class HubChangeStream implements ChangeStream {
  private closed = false;

  constructor(private readonly inner: BackendChangeStream) {}

  get resumeToken(): { _data: string } | null {
    return (this.inner.resumeToken as { _data: string } | null) ?? null;
  }

  async next(): Promise<ChangeEvent> {
    for (;;) {
      if (this.closed) throw new DataError('the change stream is closed');
      const e = await this.inner.tryNext();
      if (e) return e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inner.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChangeEvent> {
    while (!this.closed) {
      let e: ChangeEvent;
      try {
        e = await this.next();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      yield e;
    }
  }
}
