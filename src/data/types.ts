// The one collection interface the App Services layer is written over: the subset of the official
// driver's `Collection` it needs, with the driver's own argument and result shapes. The driver's
// Collection satisfies it as it is; the embedded engine and the worker-side bridge implement it.

import type { Timestamp } from 'bson';

export type Document = Record<string, unknown>;
export type Sort = Record<string, 1 | -1>;

/**
 * A session as the backends hold it: the driver's ClientSession, or the embedded engine's. Function
 * code never sees it: its session crosses the data bridge as an id (bridge.ts).
 */
export interface BackendSession {
  startTransaction(options?: Document): void;
  commitTransaction(): Promise<unknown>;
  abortTransaction(): Promise<unknown>;
  endSession(): Promise<void>;
  inTransaction(): boolean;
}

/** What every collection method takes in its options: the session it runs in. */
export interface SessionOption {
  session?: BackendSession;
}

export interface FindOptions extends SessionOption {
  projection?: Document;
  sort?: Sort;
  skip?: number;
  limit?: number;
}

export interface UpdateOptions extends SessionOption {
  upsert?: boolean;
  arrayFilters?: Document[];
}

export interface FindOneAndOptions extends SessionOption {
  upsert?: boolean;
  sort?: Sort;
  projection?: Document;
  returnDocument?: 'before' | 'after';
  arrayFilters?: Document[];
}

export interface InsertOneResult {
  insertedId: unknown;
}

export interface InsertManyResult {
  insertedCount: number;
  /** Index in the input → _id, as the driver gives it. */
  insertedIds: Record<number, unknown>;
}

export interface UpdateResult {
  matchedCount: number;
  modifiedCount: number;
  upsertedCount: number;
  upsertedId: unknown;
}

export interface DeleteResult {
  deletedCount: number;
}

export type BulkOperation =
  | { insertOne: { document: Document } }
  | { updateOne: { filter: Document; update: Document | Document[]; upsert?: boolean; arrayFilters?: Document[] } }
  | { updateMany: { filter: Document; update: Document | Document[]; upsert?: boolean; arrayFilters?: Document[] } }
  | { replaceOne: { filter: Document; replacement: Document; upsert?: boolean } }
  | { deleteOne: { filter: Document } }
  | { deleteMany: { filter: Document } };

export interface BulkWriteResult {
  insertedCount: number;
  matchedCount: number;
  modifiedCount: number;
  deletedCount: number;
  upsertedCount: number;
  insertedIds: Record<number, unknown>;
  upsertedIds: Record<number, unknown>;
}

export interface ArrayCursor {
  toArray(): Promise<Document[]>;
}

/** A change event as MongoDB's change streams give it (and App Services' database triggers). */
export interface ChangeEvent {
  /** The resume token. */
  _id: { _data: string };
  operationType: 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'dropDatabase' | 'invalidate';
  clusterTime: Timestamp;
  wallTime?: Date;
  ns: { db: string; coll?: string };
  documentKey?: { _id: unknown };
  /** insert and replace always; update with fullDocument 'updateLookup' (null if the document is gone by then). */
  fullDocument?: Document | null;
  /** When asked for and available. */
  fullDocumentBeforeChange?: Document | null;
  updateDescription?: { updatedFields: Document; removedFields: string[]; truncatedArrays?: unknown[] };
}

export interface ChangeStreamOptions {
  resumeAfter?: { _data: string };
  startAfter?: { _data: string };
  fullDocument?: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  fullDocumentBeforeChange?: 'off' | 'whenAvailable' | 'required';
}

export interface WatchOptions extends ChangeStreamOptions {
  /** Absent: the whole data source (db too) or the whole database. */
  db?: string;
  coll?: string;
  /** $match / $project (and $addFields, $set, $unset, $replaceRoot, $replaceWith) over each event. */
  pipeline?: Document[];
}

/** A change stream as a backend gives it: the driver's ChangeStream has these members. */
export interface BackendChangeStream {
  /** The next event if there is one now (the driver waits up to its maxAwaitTimeMS), else null. */
  tryNext(): Promise<ChangeEvent | null>;
  close(): Promise<void>;
  readonly resumeToken: unknown;
}

/** A change stream of the host thread (DataHub.watch). */
export interface ChangeStream extends AsyncIterable<ChangeEvent> {
  next(): Promise<ChangeEvent>;
  close(): Promise<void>;
  readonly resumeToken: { _data: string } | null;
}

/** What the App Services layer needs of a collection (a subset of the driver's Collection). */
export interface CollectionBackend {
  find(filter: Document, options?: FindOptions): ArrayCursor;
  findOne(filter: Document, options?: FindOptions): Promise<Document | null>;
  insertOne(document: Document, options?: SessionOption): Promise<InsertOneResult>;
  insertMany(documents: Document[], options?: { ordered?: boolean } & SessionOption): Promise<InsertManyResult>;
  updateOne(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult>;
  updateMany(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult>;
  replaceOne(filter: Document, replacement: Document, options?: UpdateOptions): Promise<UpdateResult>;
  deleteOne(filter: Document, options?: SessionOption): Promise<DeleteResult>;
  deleteMany(filter: Document, options?: SessionOption): Promise<DeleteResult>;
  findOneAndUpdate(filter: Document, update: Document | Document[], options?: FindOneAndOptions): Promise<Document | null>;
  findOneAndReplace(filter: Document, replacement: Document, options?: FindOneAndOptions): Promise<Document | null>;
  findOneAndDelete(filter: Document, options?: FindOneAndOptions): Promise<Document | null>;
  aggregate(pipeline: Document[], options?: SessionOption): ArrayCursor;
  countDocuments(filter: Document, options?: { skip?: number; limit?: number } & SessionOption): Promise<number>;
  estimatedDocumentCount(options?: SessionOption): Promise<number>;
  distinct(key: string, filter: Document, options?: SessionOption): Promise<unknown[]>;
  bulkWrite(operations: BulkOperation[], options?: { ordered?: boolean } & SessionOption): Promise<BulkWriteResult>;
  watch(pipeline?: Document[], options?: ChangeStreamOptions): BackendChangeStream;
}

/** A data source's collections, and what a database lists. */
export interface DataBackend {
  /** What the one-line notice says: "embedded (.fn/data/mongodb-atlas)" or "mongodb (host)". */
  readonly description: string;
  collection(db: string, coll: string): CollectionBackend;
  collectionNames(db: string): Promise<string[]>;
  databaseNames(): Promise<string[]>;
  startSession(): BackendSession;
  /** A change stream over the source, one database (options.db) or one collection (options.coll too). */
  watch(options: WatchOptions): BackendChangeStream;
  close(): Promise<void>;
}

/** Where each method of CollectionBackend takes its options (the session among them). */
export const OPTIONS_INDEX: Record<BackendMethod, number> = {
  find: 1,
  findOne: 1,
  insertOne: 1,
  insertMany: 1,
  updateOne: 2,
  updateMany: 2,
  replaceOne: 2,
  deleteOne: 1,
  deleteMany: 1,
  findOneAndUpdate: 2,
  findOneAndReplace: 2,
  findOneAndDelete: 1,
  aggregate: 1,
  countDocuments: 1,
  estimatedDocumentCount: 0,
  distinct: 2,
  bulkWrite: 1,
};

export const BACKEND_METHODS = [
  'find',
  'findOne',
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'aggregate',
  'countDocuments',
  'estimatedDocumentCount',
  'distinct',
  'bulkWrite',
] as const;
export type BackendMethod = (typeof BACKEND_METHODS)[number];

/** A rule expression: a boolean or a JSON expression (see src/expression). */
export type RuleExpression = boolean | Record<string, unknown>;

export interface FieldRule {
  read?: RuleExpression;
  write?: RuleExpression;
  fields?: Record<string, FieldRule>;
}

/** A role of rules.json or default_rule.json (App Services' field names). */
export interface Role {
  name?: string;
  apply_when?: RuleExpression;
  document_filters?: { read?: RuleExpression; write?: RuleExpression };
  read?: RuleExpression;
  write?: RuleExpression;
  insert?: RuleExpression;
  delete?: RuleExpression;
  search?: boolean;
  fields?: Record<string, FieldRule>;
  additional_fields?: FieldRule;
}

export interface RuleFilter {
  name?: string;
  apply_when?: RuleExpression;
  query?: Document;
  projection?: Document;
}

export interface NamespaceRules {
  roles: Role[];
  filters: RuleFilter[];
}

export interface SourceRules {
  /** "db.coll" → its rules.json. */
  namespaces: Record<string, NamespaceRules>;
  /** default_rule.json, for collections without their own roles. */
  defaultRule?: NamespaceRules;
}

/** A data source as the app's files declare it (plain data: it crosses to worker threads). */
export interface DataSourceSpec {
  name: string;
  type: string;
  /** Its folder, relative to the app root. */
  dir: string;
  config: Record<string, unknown>;
  rules: SourceRules;
}
