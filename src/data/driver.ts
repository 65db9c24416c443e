// A real MongoDB through the official driver. One MongoClient per data source per process (the
// driver pools connections inside it), closed with the backend. Server selection gives up after
// serverSelectionTimeoutMS, so a database that is down fails a call with a clear error instead of
// holding it until the function's time limit.
import { createRequire } from 'node:module';
import { DataError, ErrorCodes } from './errors.js';
import { checkStreamPipeline } from './change-log.js';
import type { BackendChangeStream, BackendSession, CollectionBackend, DataBackend, WatchOptions } from './types.js';

type Driver = typeof import('mongodb');

export const DEFAULT_SERVER_SELECTION_MS = 5000;

/** The host[:port] list of a connection string, without credentials, for messages. */
export function redactUri(uri: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return m ? `${m[1]}${m[2]}` : 'mongodb://…';
}

export class DriverBackend implements DataBackend {
  private client: import('mongodb').MongoClient | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly uri: string,
    private readonly serverSelectionTimeoutMS = DEFAULT_SERVER_SELECTION_MS,
  ) {
    if (!/^mongodb(\+srv)?:\/\//.test(uri))
      throw new DataError(
        `the connection string must start with mongodb:// or mongodb+srv:// (got ${JSON.stringify(uri.slice(0, 12))}…)`,
        ErrorCodes.BAD_ARGUMENT,
      );
  }

  get description(): string {
    return `MongoDB at ${redactUri(this.uri)}`;
  }

  private get mongo(): import('mongodb').MongoClient {
    if (!this.client) {
      const driver = createRequire(import.meta.url)('mongodb') as Driver;
      this.client = new driver.MongoClient(this.uri, { serverSelectionTimeoutMS: this.serverSelectionTimeoutMS, appName: 'fn' });
    }
    return this.client;
  }

  collection(db: string, coll: string): CollectionBackend {
    // The driver's Collection has the interface's methods with the same shapes (its change
    // events' type names more operation types than ChangeEvent does).
    return this.mongo.db(db).collection(coll);
  }

  /** The driver's ClientSession, as it is: transactions need a replica set or a sharded cluster. */
  startSession(): BackendSession {
    return this.mongo.startSession();
  }

  /** The driver's change stream: a replica set is needed (a standalone server answers with error 40573). */
  watch(options: WatchOptions): BackendChangeStream {
    const { db, coll, pipeline, ...rest } = options;
    if (coll !== undefined && db === undefined) throw new DataError('watch: a collection needs its database', ErrorCodes.BAD_ARGUMENT);
    const stages = checkStreamPipeline(pipeline);
    const streamOptions = { ...rest, maxAwaitTimeMS: 500 };
    const target = db === undefined ? this.mongo : coll === undefined ? this.mongo.db(db) : this.mongo.db(db).collection(coll);
    return target.watch(stages, streamOptions) as unknown as BackendChangeStream;
  }

  async collectionNames(db: string): Promise<string[]> {
    const list = await this.mongo.db(db).listCollections({}, { nameOnly: true }).toArray();
    return list.map((c) => c.name).sort();
  }

  async databaseNames(): Promise<string[]> {
    const { databases } = await this.mongo.db('admin').admin().listDatabases({ nameOnly: true });
    return databases.map((d) => d.name).sort();
  }

  /** Connects now (the driver otherwise connects on the first operation). */
  async connect(): Promise<void> {
    await (this.connecting ??= this.mongo.connect().then(() => undefined));
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    await client?.close();
  }
}
