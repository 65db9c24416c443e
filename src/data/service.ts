// The MongoDB data source as App Services shows it to function code: context.services.get(name)
// → .db(name) → .collection(name) with App Services' own argument and result shapes, written once
// over CollectionBackend (the driver's Collection, the embedded engine, or the rules layer over
// either). Arguments from function code are copied first: they come from another realm (a vm
// context) and must not change under a call that has started.
import { badArgument, DataError, ErrorCodes, toDataError } from './errors.js';
import { ServiceSession } from './session.js';
import type {
  BackendChangeStream,
  BackendSession,
  BulkOperation,
  ChangeEvent,
  ChangeStreamOptions,
  CollectionBackend,
  Document,
  FindOptions,
  Sort,
} from './types.js';
import { isOperatorUpdate } from './update.js';
import { cloneValue, isPlainObject } from './values.js';

export interface SourceAccess {
  /** The data source's name (a session belongs to one). */
  name?: string;
  /** The collection function code reaches: the backend's, or the rules layer over it; in `session` when given. */
  collection(db: string, coll: string, session?: BackendSession): CollectionBackend;
  collectionNames(db: string): Promise<string[]>;
  databaseNames(): Promise<string[]>;
  startSession?(): BackendSession;
}

const copy = <T>(v: T): T => cloneValue(v);

function queryArg(value: unknown, what: string): Document {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value))
    throw badArgument(`${what}: the query must be a document, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  return copy(value);
}

function optionalDoc(value: unknown, what: string, name: string): Document | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badArgument(`${what}: ${name} must be a document`);
  return Object.keys(value).length ? copy(value) : undefined;
}

/** Operator-less update documents: updateOne/updateMany treat them as $set (App Services accepts them). */
function updateArg(update: unknown, what: string): Document | Document[] {
  if (Array.isArray(update)) return copy(update as Document[]);
  if (!isPlainObject(update)) throw badArgument(`${what}: the update must be a document`);
  return isOperatorUpdate(update) ? copy(update) : { $set: copy(update) };
}

async function call<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toDataError(error);
  }
}

/**
 * A cursor of find or aggregate. It fetches on first read; sort, skip and limit may be chained
 * before that. Awaiting it (or returning it from a function) gives the array of its documents.
 */
export class Cursor {
  private docs: Document[] | undefined;
  private at = 0;
  private fetching: Promise<Document[]> | undefined;
  private readonly options: FindOptions = {};

  constructor(
    private readonly kind: 'find' | 'aggregate',
    private readonly fetch: (options: FindOptions) => Promise<Document[]>,
  ) {}

  private modify(name: string, change: () => void): this {
    if (this.fetching) throw badArgument(`cursor.${name}() cannot be called after the cursor has been read (next, toArray, forEach)`);
    change();
    return this;
  }

  sort(spec: Sort): this {
    if (this.kind === 'aggregate') throw badArgument('an aggregate cursor has no sort(): add a $sort stage');
    if (!isPlainObject(spec)) throw badArgument('cursor.sort() takes a document such as { field: 1 }');
    return this.modify('sort', () => (this.options.sort = copy<Sort>(spec)));
  }

  limit(n: number): this {
    if (this.kind === 'aggregate') throw badArgument('an aggregate cursor has no limit(): add a $limit stage');
    if (typeof n !== 'number' || !Number.isFinite(n)) throw badArgument('cursor.limit() takes a number');
    return this.modify('limit', () => (this.options.limit = Math.abs(Math.trunc(n))));
  }

  skip(n: number): this {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw badArgument('cursor.skip() takes a number of documents, 0 or more');
    return this.modify('skip', () => (this.options.skip = Math.trunc(n)));
  }

  private load(): Promise<Document[]> {
    return (this.fetching ??= call(() => this.fetch({ ...this.options })).then((docs) => (this.docs = docs)));
  }

  async toArray(): Promise<Document[]> {
    const docs = await this.load();
    const rest = docs.slice(this.at);
    this.at = docs.length;
    return rest;
  }

  /** The next document, or undefined when there is none (App Services' cursors say undefined). */
  async next(): Promise<Document | undefined> {
    const docs = await this.load();
    return this.at < docs.length ? docs[this.at++] : undefined;
  }

  async hasNext(): Promise<boolean> {
    const docs = await this.load();
    return this.at < docs.length;
  }

  async forEach(each: (doc: Document) => unknown): Promise<void> {
    if (typeof each !== 'function') throw badArgument('cursor.forEach() takes a function');
    for (let doc = await this.next(); doc !== undefined; doc = await this.next()) {
      if ((await each(doc)) === false) break;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Document> {
    for (let doc = await this.next(); doc !== undefined; doc = await this.next()) yield doc;
  }

  then<A = Document[], B = never>(
    resolve?: ((docs: Document[]) => A | PromiseLike<A>) | null,
    reject?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.toArray().then(resolve, reject);
  }

  /** A cursor written out (returned from a function) is its documents; read ones are gone. */
  toJSON(): Document[] | undefined {
    return this.docs?.slice(this.at);
  }
}

function updateResult(r: { matchedCount: number; modifiedCount: number; upsertedCount?: number; upsertedId?: unknown }): Document {
  const out: Document = { matchedCount: r.matchedCount, modifiedCount: r.modifiedCount };
  if (r.upsertedId !== undefined && r.upsertedId !== null) out.upsertedId = r.upsertedId;
  return out;
}

function findOneAndOptions(
  what: string,
  options: unknown,
): { upsert?: boolean; sort?: Sort; projection?: Document; returnDocument: 'before' | 'after' } {
  if (options !== undefined && options !== null && !isPlainObject(options)) throw badArgument(`${what}: options must be a document`);
  const o = (options ?? {}) as Document;
  const out: { upsert?: boolean; sort?: Sort; projection?: Document; returnDocument: 'before' | 'after' } = {
    returnDocument: o.returnNewDocument === true || o.returnDocument === 'after' ? 'after' : 'before',
  };
  if (o.upsert === true) out.upsert = true;
  const sort = optionalDoc(o.sort, what, 'sort');
  if (sort) out.sort = sort as Sort;
  const projection = optionalDoc(o.projection, what, 'projection');
  if (projection) out.projection = projection;
  return out;
}

/** A collection as function code sees it. */
export class ServiceCollection {
  constructor(
    private readonly c: CollectionBackend,
    readonly databaseName: string,
    readonly collectionName: string,
    /** Where a collection in a session comes from. */
    private readonly access?: SourceAccess,
  ) {}

  /** The collection a call reaches: in the session of its options, if they have one. */
  private at(options: unknown): CollectionBackend {
    const session = ServiceSession.of(options, this.access?.name ?? '');
    if (!session) return this.c;
    if (!this.access) throw badArgument('this collection takes no session');
    return this.access.collection(this.databaseName, this.collectionName, session);
  }

  find(query?: unknown, projection?: unknown, options?: unknown): Cursor {
    const q = queryArg(query, 'find');
    const p = optionalDoc(projection, 'find', 'the projection');
    const c = this.at(options);
    return new Cursor('find', (o) => c.find(q, { ...o, ...(p ? { projection: p } : {}) }).toArray());
  }

  findOne(query?: unknown, projection?: unknown, options?: unknown): Promise<Document | null> {
    return call(() => {
      const q = queryArg(query, 'findOne');
      const p = optionalDoc(projection, 'findOne', 'the projection');
      const sort = isPlainObject(options) ? optionalDoc(options.sort, 'findOne', 'sort') : undefined;
      return this.at(options).findOne(q, { ...(p ? { projection: p } : {}), ...(sort ? { sort: sort as Sort } : {}) });
    });
  }

  insertOne(document: unknown, options?: unknown): Promise<{ insertedId: unknown }> {
    return call(async () => {
      if (!isPlainObject(document)) throw badArgument('insertOne: the document must be an object');
      const r = await this.at(options).insertOne(copy(document));
      return { insertedId: r.insertedId };
    });
  }

  insertMany(documents: unknown, options?: unknown): Promise<{ insertedIds: unknown[] }> {
    return call(async () => {
      if (!Array.isArray(documents)) throw badArgument('insertMany: the documents must be an array');
      if (!documents.length) throw badArgument('insertMany: the array of documents is empty');
      documents.forEach((d, i) => {
        if (!isPlainObject(d)) throw badArgument(`insertMany: document ${i} must be an object`);
      });
      const ordered = !(isPlainObject(options) && options.ordered === false);
      const r = await this.at(options).insertMany(copy(documents as Document[]), { ordered });
      return { insertedIds: documents.map((_, i) => r.insertedIds[i]) };
    });
  }

  private update(kind: 'updateOne' | 'updateMany', query: unknown, update: unknown, options: unknown): Promise<Document> {
    return call(async () => {
      const q = queryArg(query, kind);
      const u = updateArg(update, kind);
      const o = isPlainObject(options) ? options : {};
      const r = await this.at(options)[kind](q, u, {
        ...(o.upsert === true ? { upsert: true } : {}),
        ...(Array.isArray(o.arrayFilters) ? { arrayFilters: copy(o.arrayFilters as Document[]) } : {}),
      });
      return updateResult(r);
    });
  }

  updateOne(query: unknown, update: unknown, options?: unknown): Promise<Document> {
    return this.update('updateOne', query, update, options);
  }

  updateMany(query: unknown, update: unknown, options?: unknown): Promise<Document> {
    return this.update('updateMany', query, update, options);
  }

  replaceOne(query: unknown, replacement: unknown, options?: unknown): Promise<Document> {
    return call(async () => {
      if (!isPlainObject(replacement)) throw badArgument('replaceOne: the replacement must be a document');
      const o = isPlainObject(options) ? options : {};
      return updateResult(
        await this.at(options).replaceOne(queryArg(query, 'replaceOne'), copy(replacement), o.upsert === true ? { upsert: true } : {}),
      );
    });
  }

  deleteOne(query?: unknown, options?: unknown): Promise<{ deletedCount: number }> {
    return call(async () => ({ deletedCount: (await this.at(options).deleteOne(queryArg(query, 'deleteOne'))).deletedCount }));
  }

  deleteMany(query?: unknown, options?: unknown): Promise<{ deletedCount: number }> {
    return call(async () => ({ deletedCount: (await this.at(options).deleteMany(queryArg(query, 'deleteMany'))).deletedCount }));
  }

  /** An operator-less update document replaces the document here (App Services' upsert result shows it). */
  findOneAndUpdate(query: unknown, update: unknown, options?: unknown): Promise<Document | null> {
    return call(() => {
      const q = queryArg(query, 'findOneAndUpdate');
      const o = findOneAndOptions('findOneAndUpdate', options);
      const c = this.at(options);
      if (isPlainObject(update) && !isOperatorUpdate(update)) return c.findOneAndReplace(q, copy(update), o);
      return c.findOneAndUpdate(q, updateArg(update, 'findOneAndUpdate'), o);
    });
  }

  findOneAndReplace(query: unknown, replacement: unknown, options?: unknown): Promise<Document | null> {
    return call(() => {
      if (!isPlainObject(replacement)) throw badArgument('findOneAndReplace: the replacement must be a document');
      return this.at(options).findOneAndReplace(
        queryArg(query, 'findOneAndReplace'),
        copy(replacement),
        findOneAndOptions('findOneAndReplace', options),
      );
    });
  }

  findOneAndDelete(query?: unknown, options?: unknown): Promise<Document | null> {
    return call(() =>
      this.at(options).findOneAndDelete(queryArg(query, 'findOneAndDelete'), findOneAndOptions('findOneAndDelete', options)),
    );
  }

  aggregate(pipeline: unknown, options?: unknown): Cursor {
    if (!Array.isArray(pipeline) || pipeline.some((s) => !isPlainObject(s)))
      throw badArgument('aggregate: the pipeline must be an array of stage documents');
    const stages = copy(pipeline as Document[]);
    const c = this.at(options);
    return new Cursor('aggregate', async (o) => {
      const docs = await c.aggregate(stages).toArray();
      return o.skip ? docs.slice(o.skip) : docs;
    });
  }

  count(query?: unknown, options?: unknown): Promise<number> {
    return this.countDocuments(query, options);
  }

  countDocuments(query?: unknown, options?: unknown): Promise<number> {
    return call(() => {
      const o = isPlainObject(options) ? options : {};
      return this.at(options).countDocuments(queryArg(query, 'count'), {
        ...(typeof o.limit === 'number' ? { limit: o.limit } : {}),
        ...(typeof o.skip === 'number' ? { skip: o.skip } : {}),
      });
    });
  }

  estimatedDocumentCount(options?: unknown): Promise<number> {
    return call(() => this.at(options).estimatedDocumentCount());
  }

  distinct(field: unknown, query?: unknown, options?: unknown): Promise<unknown[]> {
    return call(() => {
      if (typeof field !== 'string' || field === '') throw badArgument('distinct: the field must be a non-empty string');
      return this.at(options).distinct(field, queryArg(query, 'distinct'));
    });
  }

  /** Accepts { insertOne: { document } } and the docs' own { insertOne: doc } form. */
  bulkWrite(operations: unknown, options?: unknown): Promise<Document> {
    return call(async () => {
      if (!Array.isArray(operations)) throw badArgument('bulkWrite: the operations must be an array');
      const ops = operations.map((raw, i): BulkOperation => {
        if (!isPlainObject(raw) || Object.keys(raw).length !== 1)
          throw badArgument(`bulkWrite: operation ${i} must be a document with one key, such as { insertOne: { document } }`);
        const [name, body] = Object.entries(copy(raw))[0]! as [string, Document];
        if (!isPlainObject(body)) throw badArgument(`bulkWrite: operation ${i} (${name}) must hold a document`);
        switch (name) {
          case 'insertOne':
            return { insertOne: { document: isPlainObject(body.document) && Object.keys(body).length === 1 ? body.document : body } };
          case 'updateOne':
          case 'updateMany': {
            const op = {
              filter: queryArg(body.filter, name),
              update: updateArg(body.update, name),
              ...(body.upsert === true ? { upsert: true } : {}),
              ...(Array.isArray(body.arrayFilters) ? { arrayFilters: body.arrayFilters as Document[] } : {}),
            };
            return name === 'updateOne' ? { updateOne: op } : { updateMany: op };
          }
          case 'replaceOne':
            if (!isPlainObject(body.replacement)) throw badArgument(`bulkWrite: operation ${i} (replaceOne) needs a replacement document`);
            return {
              replaceOne: {
                filter: queryArg(body.filter, name),
                replacement: body.replacement,
                ...(body.upsert === true ? { upsert: true } : {}),
              },
            };
          case 'deleteOne':
            return { deleteOne: { filter: queryArg(body.filter, name) } };
          case 'deleteMany':
            return { deleteMany: { filter: queryArg(body.filter, name) } };
          default:
            throw badArgument(
              `bulkWrite: operation ${i} is ${name}, not one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany`,
            );
        }
      });
      const ordered = !(isPlainObject(options) && options.ordered === false);
      const r = await this.at(options).bulkWrite(ops, { ordered });
      return {
        insertedCount: r.insertedCount,
        matchedCount: r.matchedCount,
        modifiedCount: r.modifiedCount,
        deletedCount: r.deletedCount,
        upsertedCount: r.upsertedCount,
        insertedIds: Object.values(r.insertedIds ?? {}),
        upsertedIds: Object.values(r.upsertedIds ?? {}),
      };
    });
  }

  /**
   * A change stream of this collection: the events of the writes committed from now on (or after
   * resumeAfter / startAfter), through the optional pipeline ($match, $project, ...).
   */
  watch(pipeline?: unknown, options?: unknown): FunctionChangeStream {
    if (pipeline !== undefined && pipeline !== null && (!Array.isArray(pipeline) || pipeline.some((s) => !isPlainObject(s))))
      throw badArgument('watch: the pipeline must be an array of stage documents');
    if (options !== undefined && options !== null && !isPlainObject(options)) throw badArgument('watch: options must be a document');
    const o = (options ?? {}) as Document;
    const pick: ChangeStreamOptions = {};
    if (isPlainObject(o.resumeAfter)) pick.resumeAfter = copy(o.resumeAfter) as { _data: string };
    if (isPlainObject(o.startAfter)) pick.startAfter = copy(o.startAfter) as { _data: string };
    if (typeof o.fullDocument === 'string') pick.fullDocument = o.fullDocument as ChangeStreamOptions['fullDocument'];
    if (typeof o.fullDocumentBeforeChange === 'string')
      pick.fullDocumentBeforeChange = o.fullDocumentBeforeChange as ChangeStreamOptions['fullDocumentBeforeChange'];
    const stages = pipeline ? copy(pipeline as Document[]) : [];
    return new FunctionChangeStream(call(() => this.c.watch(stages, pick)));
  }
}

/**
 * A change stream as function code reads it: next() waits for the next event (asking the data
 * thread every few milliseconds, so the function's other work goes on meanwhile), tryNext() answers
 * null when none has come, for await reads until close(); each event is BSON-true.
 */
export class FunctionChangeStream {
  private closed = false;

  constructor(private readonly stream: Promise<BackendChangeStream>) {
    stream.catch(() => undefined);
  }

  get resumeToken(): unknown {
    return this.current?.resumeToken ?? null;
  }

  private current: BackendChangeStream | undefined;

  private async open(): Promise<BackendChangeStream> {
    return (this.current = await this.stream);
  }

  async tryNext(): Promise<ChangeEvent | null> {
    if (this.closed) throw new DataError('the change stream is closed');
    const s = await this.open();
    return call(() => s.tryNext());
  }

  async next(): Promise<ChangeEvent> {
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      const e = await this.tryNext();
      if (e) return e;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await (await this.stream.catch(() => undefined))?.close();
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

/** The service client of one data source: `context.services.get(name)`. */
export function serviceClient(access: SourceAccess): object {
  const db = (name: unknown) => {
    if (typeof name !== 'string' || name === '') throw badArgument('db() takes a database name');
    return {
      name,
      collection: (coll: unknown) => {
        if (typeof coll !== 'string' || coll === '') throw badArgument('collection() takes a collection name');
        return new ServiceCollection(access.collection(name, coll), name, coll, access);
      },
      getCollectionNames: () => call(() => access.collectionNames(name)),
    };
  };
  return {
    db,
    admin: () => ({ getDBNames: () => call(() => access.databaseNames()) }),
    startSession: () => {
      if (!access.startSession) throw new DataError('this data source has no sessions', ErrorCodes.NOT_SUPPORTED);
      return new ServiceSession(access.startSession(), access.name ?? '');
    },
  };
}
