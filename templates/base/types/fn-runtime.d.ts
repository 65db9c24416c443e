// The globals a function sees at run time, for editors: add `// @ts-check` at the top of a
// function file for completion and errors. Shipped by fn; safe to commit; do not edit.

/** Who called the function, or the user it runs as. */
interface FnUser {
  id: string;
  type: 'normal' | 'server' | 'system';
  data: Record<string, unknown>;
  custom_data: Record<string, unknown>;
  identities: { id: string; provider_type: string; data?: Record<string, unknown> }[];
}

/** The HTTP request that started the call. */
interface FnRequest {
  remoteIPAddress: string;
  /** Header names as sent; each maps to all its values. */
  requestHeaders: Record<string, string[]>;
  httpMethod: string;
  rawQueryString: string;
}

interface FnValues {
  /** A value from values/<name>.json; undefined when there is none. */
  get(name: string): any;
}

/**
 * Filled by `fn types`: each function's argument and result types, so that
 * context.functions.execute(name, ...) type-checks. Empty until then: any name is accepted.
 */
interface FnFunctionRegistry {}

type FnFunctionName = keyof FnFunctionRegistry extends never ? string : keyof FnFunctionRegistry;
type FnRegistryArgs<N> = N extends keyof FnFunctionRegistry ? (FnFunctionRegistry[N] extends { args: infer A extends unknown[] } ? A : unknown[]) : unknown[];
type FnRegistryResult<N> = N extends keyof FnFunctionRegistry ? (FnFunctionRegistry[N] extends { result: infer R } ? R : unknown) : any;

interface FnFunctions {
  /** Calls another function of this app (private ones too), as the same user unless it runs as another. */
  execute<N extends FnFunctionName>(name: N, ...args: FnRegistryArgs<N>): Promise<FnRegistryResult<N>>;
}

interface FnHttpRequest {
  /** The whole URL, or scheme, host, path and query apart. */
  url?: string;
  scheme?: string;
  host?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  fragment?: string;
  username?: string;
  password?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array | FnBinary | object;
  /** Send the body as (relaxed) EJSON text. */
  encodeBodyAsJSON?: boolean;
  /** Form fields, sent urlencoded. */
  form?: Record<string, string | string[]>;
  followRedirects?: boolean;
}

interface FnHttpResponse {
  /** "200 OK" */
  status: string;
  statusCode: number;
  contentLength: number;
  headers: Record<string, string[]>;
  cookies: Record<string, unknown>;
  body: FnBinary;
}

interface FnHttp {
  get(request: FnHttpRequest): Promise<FnHttpResponse>;
  post(request: FnHttpRequest): Promise<FnHttpResponse>;
  put(request: FnHttpRequest): Promise<FnHttpResponse>;
  patch(request: FnHttpRequest): Promise<FnHttpResponse>;
  delete(request: FnHttpRequest): Promise<FnHttpResponse>;
  head(request: FnHttpRequest): Promise<FnHttpResponse>;
}

/** A MongoDB document: BSON values (ObjectId, Date, Decimal128...) as they are stored. */
type FnDocument = Record<string, any>;
/** A MongoDB query: { field: value }, { field: { $gt: 1 } }, { $or: [...] }... */
type FnQuery = Record<string, any>;
/** { field: 1 } to include, { field: 0 } to exclude. */
type FnProjection = Record<string, 0 | 1 | boolean | object>;
type FnSort = Record<string, 1 | -1>;
/** Update operators ({ $set: {...}, $inc: {...} }), a plain document (as $set), or a pipeline. */
type FnUpdate = Record<string, any> | Record<string, any>[];

/** The result of find or aggregate: read it once, with toArray, next, forEach or for await; awaiting it gives its documents. */
interface FnCursor<T = FnDocument> extends PromiseLike<T[]>, AsyncIterable<T> {
  toArray(): Promise<T[]>;
  /** The next document; undefined when there are no more. */
  next(): Promise<T | undefined>;
  hasNext(): Promise<boolean>;
  forEach(each: (doc: T) => unknown): Promise<void>;
  /** find cursors only; before the first read. */
  sort(spec: FnSort): FnCursor<T>;
  limit(n: number): FnCursor<T>;
  skip(n: number): FnCursor<T>;
}

interface FnInsertOneResult { insertedId: any }
interface FnInsertManyResult { insertedIds: any[] }
/** upsertedId is there only when an upsert inserted. */
interface FnUpdateResult { matchedCount: number; modifiedCount: number; upsertedId?: any }
interface FnDeleteResult { deletedCount: number }

interface FnFindOneAndOptions {
  upsert?: boolean;
  sort?: FnSort;
  projection?: FnProjection;
  /** Return the document after the change (default: before). */
  returnNewDocument?: boolean;
  session?: FnClientSession;
}

type FnBulkOperation =
  | { insertOne: { document: FnDocument } | FnDocument }
  | { updateOne: { filter: FnQuery; update: FnUpdate; upsert?: boolean } }
  | { updateMany: { filter: FnQuery; update: FnUpdate; upsert?: boolean } }
  | { replaceOne: { filter: FnQuery; replacement: FnDocument; upsert?: boolean } }
  | { deleteOne: { filter: FnQuery } }
  | { deleteMany: { filter: FnQuery } };

/** A collection of a data source: context.services.get('mongodb-atlas').db('shop').collection('orders'). */
interface FnCollection<T extends FnDocument = FnDocument> {
  find(query?: FnQuery, projection?: FnProjection, options?: { session?: FnClientSession }): FnCursor<T>;
  findOne(query?: FnQuery, projection?: FnProjection, options?: { session?: FnClientSession }): Promise<T | null>;
  insertOne(document: Partial<T>, options?: { session?: FnClientSession }): Promise<FnInsertOneResult>;
  insertMany(documents: Partial<T>[], options?: { ordered?: boolean; session?: FnClientSession }): Promise<FnInsertManyResult>;
  updateOne(query: FnQuery, update: FnUpdate, options?: { upsert?: boolean; arrayFilters?: FnQuery[]; session?: FnClientSession }): Promise<FnUpdateResult>;
  updateMany(query: FnQuery, update: FnUpdate, options?: { upsert?: boolean; arrayFilters?: FnQuery[]; session?: FnClientSession }): Promise<FnUpdateResult>;
  replaceOne(query: FnQuery, replacement: Partial<T>, options?: { upsert?: boolean; session?: FnClientSession }): Promise<FnUpdateResult>;
  deleteOne(query?: FnQuery, options?: { session?: FnClientSession }): Promise<FnDeleteResult>;
  deleteMany(query?: FnQuery, options?: { session?: FnClientSession }): Promise<FnDeleteResult>;
  findOneAndUpdate(query: FnQuery, update: FnUpdate, options?: FnFindOneAndOptions): Promise<T | null>;
  findOneAndReplace(query: FnQuery, replacement: Partial<T>, options?: FnFindOneAndOptions): Promise<T | null>;
  findOneAndDelete(query?: FnQuery, options?: Omit<FnFindOneAndOptions, 'upsert' | 'returnNewDocument'>): Promise<T | null>;
  aggregate<R = FnDocument>(pipeline: FnDocument[], options?: { session?: FnClientSession }): FnCursor<R>;
  count(query?: FnQuery, options?: { limit?: number; skip?: number; session?: FnClientSession }): Promise<number>;
  countDocuments(query?: FnQuery, options?: { limit?: number; skip?: number; session?: FnClientSession }): Promise<number>;
  estimatedDocumentCount(options?: { session?: FnClientSession }): Promise<number>;
  distinct(field: string, query?: FnQuery, options?: { session?: FnClientSession }): Promise<any[]>;
  bulkWrite(operations: FnBulkOperation[], options?: { ordered?: boolean; session?: FnClientSession }): Promise<{ insertedCount: number; matchedCount: number; modifiedCount: number; deletedCount: number; upsertedCount: number; insertedIds: any[]; upsertedIds: any[] }>;
  /** The changes committed from now on (or after resumeAfter / startAfter); the pipeline holds $match, $project, $addFields, $set, $unset, $replaceRoot, $replaceWith stages. */
  watch(pipeline?: FnDocument[], options?: FnWatchOptions): FnChangeStream<T>;
}

interface FnWatchOptions {
  resumeAfter?: { _data: string };
  startAfter?: { _data: string };
  /** 'updateLookup': update events carry the document as it is when the event is read. */
  fullDocument?: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  fullDocumentBeforeChange?: 'off' | 'whenAvailable' | 'required';
}

/** A change event, with BSON values (ObjectId, Date, Timestamp). */
interface FnChangeEvent<T extends FnDocument = FnDocument> {
  _id: { _data: string };
  operationType: 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'dropDatabase' | 'invalidate';
  clusterTime: any;
  wallTime?: Date;
  ns: { db: string; coll?: string };
  documentKey?: { _id: any };
  fullDocument?: T | null;
  fullDocumentBeforeChange?: T | null;
  updateDescription?: { updatedFields: FnDocument; removedFields: string[]; truncatedArrays?: any[] };
}

interface FnChangeStream<T extends FnDocument = FnDocument> extends AsyncIterable<FnChangeEvent<T>> {
  /** Waits for the next event. */
  next(): Promise<FnChangeEvent<T>>;
  /** The next event if one has come, else null. */
  tryNext(): Promise<FnChangeEvent<T> | null>;
  close(): Promise<void>;
  isClosed(): boolean;
  readonly resumeToken: { _data: string } | null;
}

interface FnDatabase {
  collection<T extends FnDocument = FnDocument>(name: string): FnCollection<T>;
  /** The collection names (system functions). */
  getCollectionNames(): Promise<string[]>;
}

/** A session: pass { session } in each call's options to run it in the session's transaction. */
interface FnClientSession {
  /** Starts a transaction, runs fn, commits; runs fn again on a TransientTransactionError (a write conflict). Returns fn's value. */
  withTransaction<R>(fn: (session: FnClientSession) => Promise<R>, options?: FnDocument): Promise<R>;
  startTransaction(options?: FnDocument): void;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
  inTransaction(): boolean;
  /** Ends the session (an open transaction is aborted); the end of the call ends it too. */
  endSession(): Promise<void>;
}

/** A MongoDB data source (data_sources/<name>/config.json). */
interface FnMongoClient {
  db(name: string): FnDatabase;
  admin(): { getDBNames(): Promise<string[]> };
  startSession(): FnClientSession;
}

interface FnServices {
  /** The data source of that name in data_sources/ (default name: mongodb-atlas). */
  get(name: string): FnMongoClient;
}

interface FnContext {
  /** The caller; stays the caller even when the function runs as system or as another user. */
  user: FnUser;
  request: FnRequest;
  values: FnValues;
  functions: FnFunctions;
  /** The App Services HTTP client (fetch works too). */
  http: FnHttp;
  /** The app's data sources: rules apply unless the function runs as system. */
  services: FnServices;
  /** True when the function runs as the system user. */
  runningAsSystem(): boolean;
}

declare var context: FnContext;

interface FnObjectId {
  toHexString(): string;
  equals(other: unknown): boolean;
  getTimestamp(): Date;
}

interface FnObjectIdConstructor {
  new (id?: string | Uint8Array | number): FnObjectId;
  (id?: string | Uint8Array | number): FnObjectId;
  createFromHexString(hex: string): FnObjectId;
  isValid(id: unknown): boolean;
}

interface FnBinary {
  toHex(): string;
  toBase64(): string;
  /** The bytes as UTF-8 text. */
  text(): string;
  length(): number;
}

/** The BSON types (ObjectId, Binary, Decimal128, Long, Int32, Double, BSONRegExp, MinKey, MaxKey...). */
declare var BSON: {
  ObjectId: FnObjectIdConstructor;
  ObjectID: FnObjectIdConstructor;
  Binary: {
    new (data?: Uint8Array, subType?: number): FnBinary;
    fromHex(hex: string, subType?: number): FnBinary;
    fromBase64(base64: string, subType?: number): FnBinary;
    fromText(text: string): FnBinary;
  };
  [type: string]: any;
};

/** Extended JSON: BSON types as JSON text, canonical ({ relaxed: false }) or relaxed. */
declare var EJSON: {
  stringify(value: unknown, options?: { relaxed?: boolean }): string;
  parse(text: string, options?: { relaxed?: boolean }): any;
  serialize(value: unknown, options?: { relaxed?: boolean }): any;
  deserialize(value: unknown, options?: { relaxed?: boolean }): any;
};

declare var utils: {
  crypto: {
    hash(method: 'sha1' | 'sha256' | 'md5', input: string | Uint8Array | FnBinary): FnBinary;
    hmac(input: string | Uint8Array | FnBinary, secret: string, hashFunction: 'sha1' | 'sha256' | 'sha512', outputFormat: 'hex' | 'base64'): string;
  };
  jwt: {
    encode(signingMethod: 'HS256' | 'HS384' | 'HS512', payload: unknown, secret: string, customHeaderFields?: Record<string, unknown>): string;
    decode(jwt: string, key: string, returnHeader?: boolean, acceptedSigningMethods?: string[]): any;
  };
};

/** Assign the function here: exports = function (args) { ... }. */
declare var exports: (...args: any[]) => unknown;

/** App Services provides no `module`: use exports = function (...) {...}. */
declare var module: undefined;

/** Node built-ins and packages from functions/node_modules; call it inside the function. */
declare function require(id: string): any;

declare var Buffer: {
  from(data: string | ArrayBuffer | ArrayLike<number>, encoding?: string): Uint8Array & { toString(encoding?: string): string };
  byteLength(data: string, encoding?: string): number;
  isBuffer(value: unknown): boolean;
};
