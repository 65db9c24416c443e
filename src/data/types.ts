// The one collection interface the App Services layer is written over: the subset of the official
// driver's `Collection` it needs, with the driver's own argument and result shapes. The driver's
// Collection satisfies it as it is; the embedded engine and the worker-side bridge implement it.

export type Document = Record<string, unknown>;
export type Sort = Record<string, 1 | -1>;

export interface FindOptions {
  projection?: Document;
  sort?: Sort;
  skip?: number;
  limit?: number;
}

export interface UpdateOptions {
  upsert?: boolean;
  arrayFilters?: Document[];
}

export interface FindOneAndOptions {
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

/** What the App Services layer needs of a collection (a subset of the driver's Collection). */
export interface CollectionBackend {
  find(filter: Document, options?: FindOptions): ArrayCursor;
  findOne(filter: Document, options?: FindOptions): Promise<Document | null>;
  insertOne(document: Document): Promise<InsertOneResult>;
  insertMany(documents: Document[], options?: { ordered?: boolean }): Promise<InsertManyResult>;
  updateOne(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult>;
  updateMany(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult>;
  replaceOne(filter: Document, replacement: Document, options?: UpdateOptions): Promise<UpdateResult>;
  deleteOne(filter: Document): Promise<DeleteResult>;
  deleteMany(filter: Document): Promise<DeleteResult>;
  findOneAndUpdate(filter: Document, update: Document | Document[], options?: FindOneAndOptions): Promise<Document | null>;
  findOneAndReplace(filter: Document, replacement: Document, options?: FindOneAndOptions): Promise<Document | null>;
  findOneAndDelete(filter: Document, options?: FindOneAndOptions): Promise<Document | null>;
  aggregate(pipeline: Document[]): ArrayCursor;
  countDocuments(filter: Document, options?: { skip?: number; limit?: number }): Promise<number>;
  estimatedDocumentCount(): Promise<number>;
  distinct(key: string, filter: Document): Promise<unknown[]>;
  bulkWrite(operations: BulkOperation[], options?: { ordered?: boolean }): Promise<BulkWriteResult>;
}

/** A data source's collections, and what a database lists. */
export interface DataBackend {
  /** What the one-line notice says: "embedded (.fn/data/mongodb-atlas)" or "mongodb (host)". */
  readonly description: string;
  collection(db: string, coll: string): CollectionBackend;
  collectionNames(db: string): Promise<string[]>;
  databaseNames(): Promise<string[]>;
  close(): Promise<void>;
}

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
