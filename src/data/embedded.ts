// The embedded engine: MongoDB collections in memory, queried, updated and aggregated by mingo,
// kept under .fn/data/<data source>/<db>/<coll>.json as EJSON (one document a line), written
// atomically (a temp file, then rename) a moment after each change and on close.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { badArgument, DataError, duplicateKey } from './errors.js';
import { describeValue, loadBson, loadMingo } from './libs.js';
import type {
  ArrayCursor,
  BulkOperation,
  BulkWriteResult,
  CollectionBackend,
  DataBackend,
  DeleteResult,
  Document,
  FindOneAndOptions,
  FindOptions,
  InsertManyResult,
  InsertOneResult,
  Sort,
  UpdateOptions,
  UpdateResult,
} from './types.js';
import { applyReplacement, applyUpdate, checkReplacement, checkUpdate, upsertDocument, withId } from './update.js';
import { runBulkWrite } from './bulk.js';
import { cloneDoc, distinctValues, idKey, isPlainObject, sameValue } from './values.js';

/** How long after a change the collection's file is written (changes in between share a write). */
const FLUSH_MS = 50;

const QUERY_OPTIONS = { scriptEnabled: false } as const;

function checkName(kind: 'database' | 'collection', name: unknown): string {
  if (typeof name !== 'string' || name === '') throw badArgument(`a ${kind} name must be a non-empty string`);
  if (name.includes('\0') || (kind === 'database' && /[/\\. "$]/.test(name)) || (kind === 'collection' && name.includes('$'))) {
    throw badArgument(`invalid ${kind} name ${JSON.stringify(name)}`);
  }
  return name;
}

function fileName(coll: string): string {
  return `${encodeURIComponent(coll)}.json`;
}

function checkFilter(filter: unknown, what = 'query'): Document {
  if (filter === undefined || filter === null) return {};
  if (!isPlainObject(filter))
    throw badArgument(`the ${what} must be a document, not ${Array.isArray(filter) ? 'an array' : typeof filter}`);
  return filter;
}

/** The _id an equality filter on _id alone names, if that is all it says. */
function idOnly(filter: Document): { id: unknown } | undefined {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const id = filter._id;
  if (isPlainObject(id)) {
    const k = Object.keys(id);
    if (k.length === 1 && k[0] === '$eq') return { id: id.$eq };
    if (k.some((x) => x.startsWith('$'))) return undefined;
  }
  if (id instanceof RegExp || Array.isArray(id)) return undefined;
  return { id };
}

class ResultCursor implements ArrayCursor {
  constructor(private readonly produce: () => Document[]) {}
  async toArray(): Promise<Document[]> {
    return this.produce();
  }
}

export class EmbeddedCollection implements CollectionBackend {
  private docs = new Map<string, Document>();
  private list: Document[] | undefined;

  constructor(
    readonly db: string,
    readonly name: string,
    private readonly engine: EmbeddedEngine,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Replaces the contents (loading and import); each document must have a unique _id. */
  load(docs: Document[]): void {
    const next = new Map<string, Document>();
    for (const raw of docs) {
      if (!isPlainObject(raw)) throw badArgument(`${this.ns}: every document must be an object`);
      const doc = withId(cloneDoc(raw));
      const key = idKey(doc._id);
      if (next.has(key)) throw duplicateKey(this.ns, doc._id, describeValue);
      next.set(key, doc);
    }
    this.docs = next;
    this.list = undefined;
  }

  /** The stored documents in insertion order (shared; never handed out without a copy). */
  all(): Document[] {
    return (this.list ??= [...this.docs.values()]);
  }

  get size(): number {
    return this.docs.size;
  }

  private changed(): void {
    this.list = undefined;
    this.engine.changed(this);
  }

  /** Stored documents matching the filter, in natural order (shared). */
  private matching(filter: Document, sort?: Sort, limit?: number): Document[] {
    const only = idOnly(filter);
    if (only) {
      const doc = this.docs.get(idKey(only.id));
      return doc ? [doc] : [];
    }
    const mingo = loadMingo();
    try {
      if (sort && Object.keys(sort).length) {
        let cursor = mingo.find(this.all(), filter, undefined, QUERY_OPTIONS).sort(sort);
        if (limit) cursor = cursor.limit(limit);
        return cursor.all();
      }
      const query = new mingo.Query(filter, QUERY_OPTIONS);
      const out: Document[] = [];
      for (const doc of this.all()) {
        if (query.test(doc)) {
          out.push(doc);
          if (limit && out.length >= limit) break;
        }
      }
      return out;
    } catch (error) {
      throw error instanceof DataError ? error : badArgument((error as Error).message);
    }
  }

  private project(docs: Document[], projection: Document | undefined): Document[] {
    if (!projection || !Object.keys(projection).length) return docs.map(cloneDoc);
    try {
      return (loadMingo().find(docs, {}, projection, QUERY_OPTIONS).all() as Document[]).map(cloneDoc);
    } catch (error) {
      throw badArgument((error as Error).message);
    }
  }

  find(filter: Document, options: FindOptions = {}): ArrayCursor {
    return new ResultCursor(() => {
      const f = checkFilter(filter);
      const skip = options.skip ?? 0;
      const limit = options.limit ? Math.abs(options.limit) : 0;
      const only = idOnly(f);
      if (only || (!options.sort && !skip)) return this.project(this.matching(f, undefined, limit), options.projection);
      const mingo = loadMingo();
      try {
        let cursor = mingo.find(this.all(), f, undefined, QUERY_OPTIONS);
        if (options.sort && Object.keys(options.sort).length) cursor = cursor.sort(options.sort);
        if (skip) cursor = cursor.skip(skip);
        if (limit) cursor = cursor.limit(limit);
        return this.project(cursor.all(), options.projection);
      } catch (error) {
        throw error instanceof DataError ? error : badArgument((error as Error).message);
      }
    });
  }

  async findOne(filter: Document, options: FindOptions = {}): Promise<Document | null> {
    const [doc] = await this.find(filter, { ...options, limit: 1 }).toArray();
    return doc ?? null;
  }

  private put(doc: Document): void {
    const key = idKey(doc._id);
    if (this.docs.has(key)) throw duplicateKey(this.ns, doc._id, describeValue);
    this.docs.set(key, doc);
  }

  async insertOne(document: Document): Promise<InsertOneResult> {
    if (!isPlainObject(document)) throw badArgument('insertOne: the document must be an object');
    const doc = withId(cloneDoc(document));
    this.put(doc);
    this.changed();
    return { insertedId: doc._id };
  }

  async insertMany(documents: Document[], options: { ordered?: boolean } = {}): Promise<InsertManyResult> {
    if (!Array.isArray(documents)) throw badArgument('insertMany: the documents must be an array');
    const insertedIds: Record<number, unknown> = {};
    let failed: DataError | undefined;
    let count = 0;
    try {
      documents.forEach((document, i) => {
        try {
          if (!isPlainObject(document)) throw badArgument(`insertMany: document ${i} must be an object`);
          const doc = withId(cloneDoc(document));
          this.put(doc);
          insertedIds[i] = doc._id;
          count++;
        } catch (error) {
          if (options.ordered !== false) throw error;
          failed ??= error as DataError;
        }
      });
    } finally {
      if (count) this.changed();
    }
    if (failed) throw failed;
    return { insertedCount: count, insertedIds };
  }

  /** Updates the first `one ? 1 : all` matching documents; the before and after of the first. */
  private updateWith(
    filter: Document,
    change: (before: Document) => Document,
    one: boolean,
    upsert: (() => Document) | undefined,
    sort?: Sort,
  ): { result: UpdateResult; before: Document | null; after: Document | null } {
    const f = checkFilter(filter);
    const matched = this.matching(f, sort, one ? 1 : undefined);
    if (!matched.length) {
      if (!upsert) return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null }, before: null, after: null };
      const doc = upsert();
      this.put(doc);
      this.changed();
      return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc._id }, before: null, after: doc };
    }
    // Every change is computed before any is stored: a failing update changes nothing.
    const changes = matched.map((before) => [before, change(before)] as const);
    let modified = 0;
    for (const [before, after] of changes) {
      if (sameValue(before, after)) continue;
      this.docs.set(idKey(before._id), after);
      modified++;
    }
    if (modified) this.changed();
    const [first] = changes;
    return {
      result: { matchedCount: matched.length, modifiedCount: modified, upsertedCount: 0, upsertedId: null },
      before: first![0],
      after: first![1],
    };
  }

  async updateOne(filter: Document, update: Document | Document[], options: UpdateOptions = {}): Promise<UpdateResult> {
    checkUpdate(update);
    return this.updateWith(
      filter,
      (d) => applyUpdate(d, update, options),
      true,
      options.upsert ? () => upsertDocument(filter, update, undefined, options.arrayFilters) : undefined,
    ).result;
  }

  async updateMany(filter: Document, update: Document | Document[], options: UpdateOptions = {}): Promise<UpdateResult> {
    checkUpdate(update);
    return this.updateWith(
      filter,
      (d) => applyUpdate(d, update, options),
      false,
      options.upsert ? () => upsertDocument(filter, update, undefined, options.arrayFilters) : undefined,
    ).result;
  }

  async replaceOne(filter: Document, replacement: Document, options: UpdateOptions = {}): Promise<UpdateResult> {
    checkReplacement(replacement);
    return this.updateWith(
      filter,
      (d) => applyReplacement(d, replacement),
      true,
      options.upsert ? () => upsertDocument(filter, undefined, replacement) : undefined,
    ).result;
  }

  private deleteWith(filter: Document, one: boolean, sort?: Sort): Document[] {
    const matched = this.matching(checkFilter(filter), sort, one ? 1 : undefined);
    for (const doc of matched) this.docs.delete(idKey(doc._id));
    if (matched.length) this.changed();
    return matched;
  }

  async deleteOne(filter: Document): Promise<DeleteResult> {
    return { deletedCount: this.deleteWith(filter, true).length };
  }

  async deleteMany(filter: Document): Promise<DeleteResult> {
    return { deletedCount: this.deleteWith(filter, false).length };
  }

  private returned(doc: Document | null, projection: Document | undefined): Document | null {
    return doc ? this.project([doc], projection)[0]! : null;
  }

  async findOneAndUpdate(filter: Document, update: Document | Document[], options: FindOneAndOptions = {}): Promise<Document | null> {
    checkUpdate(update);
    const { before, after } = this.updateWith(
      filter,
      (d) => applyUpdate(d, update, options),
      true,
      options.upsert ? () => upsertDocument(filter, update, undefined, options.arrayFilters) : undefined,
      options.sort,
    );
    return this.returned(options.returnDocument === 'after' ? after : before, options.projection);
  }

  async findOneAndReplace(filter: Document, replacement: Document, options: FindOneAndOptions = {}): Promise<Document | null> {
    checkReplacement(replacement);
    const { before, after } = this.updateWith(
      filter,
      (d) => applyReplacement(d, replacement),
      true,
      options.upsert ? () => upsertDocument(filter, undefined, replacement) : undefined,
      options.sort,
    );
    return this.returned(options.returnDocument === 'after' ? after : before, options.projection);
  }

  async findOneAndDelete(filter: Document, options: FindOneAndOptions = {}): Promise<Document | null> {
    const [doc] = this.deleteWith(filter, true, options.sort);
    return this.returned(doc ?? null, options.projection);
  }

  aggregate(pipeline: Document[]): ArrayCursor {
    return new ResultCursor(() => {
      if (!Array.isArray(pipeline)) throw badArgument('aggregate: the pipeline must be an array of stages');
      for (const stage of pipeline) {
        const op = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
        if (op === '$out' || op === '$merge')
          throw new DataError(`${op} is not supported by the embedded engine; write the results with insertMany`, 'NotSupported');
      }
      const mingo = loadMingo();
      try {
        const resolver = (name: string) => this.engine.collection(this.db, name).all();
        return new mingo.Aggregator(pipeline, { ...QUERY_OPTIONS, collectionResolver: resolver }).run<Document>(this.all()).map(cloneDoc);
      } catch (error) {
        throw error instanceof DataError ? error : badArgument((error as Error).message);
      }
    });
  }

  async countDocuments(filter: Document, options: { skip?: number; limit?: number } = {}): Promise<number> {
    let n = this.matching(checkFilter(filter)).length - (options.skip ?? 0);
    if (options.limit) n = Math.min(n, options.limit);
    return Math.max(0, n);
  }

  async estimatedDocumentCount(): Promise<number> {
    return this.docs.size;
  }

  async distinct(key: string, filter: Document): Promise<unknown[]> {
    if (typeof key !== 'string' || key === '') throw badArgument('distinct: the field must be a non-empty string');
    return distinctValues(this.matching(checkFilter(filter)), key);
  }

  async bulkWrite(operations: BulkOperation[], options: { ordered?: boolean } = {}): Promise<BulkWriteResult> {
    return runBulkWrite(this, operations, options.ordered !== false);
  }
}

/**
 * All the databases of one data source. With a directory, collections are read from it on first
 * use and written back (atomically) a moment after each change; without one, memory only.
 */
export class EmbeddedEngine implements DataBackend {
  private readonly collections = new Map<string, EmbeddedCollection>();
  private readonly dirty = new Set<EmbeddedCollection>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onExit = () => this.flush();

  constructor(readonly dir: string | undefined) {
    if (dir) process.on('exit', this.onExit);
  }

  get description(): string {
    return this.dir ? `embedded engine (${this.dir})` : 'embedded engine (in memory)';
  }

  collection(db: string, coll: string): EmbeddedCollection {
    const key = `${checkName('database', db)}\0${checkName('collection', coll)}`;
    let c = this.collections.get(key);
    if (!c) {
      c = new EmbeddedCollection(db, coll, this);
      if (this.dir) {
        const path = join(this.dir, db, fileName(coll));
        let text: string | undefined;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          text = undefined;
        }
        if (text !== undefined) {
          let docs: unknown;
          try {
            docs = loadBson().EJSON.parse(text);
          } catch (error) {
            throw new DataError(
              `${path} is not valid EJSON: ${(error as Error).message}; fix it or remove it (fn data reset ${db}.${coll})`,
            );
          }
          if (!Array.isArray(docs)) throw new DataError(`${path} must hold a JSON array of documents`);
          c.load(docs as Document[]);
        }
      }
      this.collections.set(key, c);
    }
    return c;
  }

  async collectionNames(db: string): Promise<string[]> {
    const names = new Set<string>();
    for (const c of this.collections.values()) if (c.db === db && c.size) names.add(c.name);
    if (this.dir) {
      try {
        for (const f of readdirSync(join(this.dir, db))) if (f.endsWith('.json')) names.add(decodeURIComponent(f.slice(0, -5)));
      } catch {
        // no such database on disk
      }
    }
    return [...names].sort();
  }

  async databaseNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const c of this.collections.values()) if (c.size) names.add(c.db);
    if (this.dir) {
      try {
        for (const d of readdirSync(this.dir, { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
      } catch {
        // nothing stored yet
      }
    }
    return [...names].sort();
  }

  /** Every stored collection as "db.coll". */
  async namespaces(): Promise<string[]> {
    const out: string[] = [];
    for (const db of await this.databaseNames()) for (const c of await this.collectionNames(db)) out.push(`${db}.${c}`);
    return out;
  }

  changed(c: EmbeddedCollection): void {
    if (!this.dir) return;
    this.dirty.add(c);
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes every changed collection now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dir) return;
    const { EJSON } = loadBson();
    for (const c of [...this.dirty]) {
      this.dirty.delete(c);
      const dir = join(this.dir, c.db);
      const path = join(dir, fileName(c.name));
      if (!c.size) {
        rmSync(path, { force: true });
        continue;
      }
      mkdirSync(dir, { recursive: true });
      const docs = c.all();
      let text = '[\n';
      for (let i = 0; i < docs.length; i++) text += (i ? ',\n' : '') + EJSON.stringify(docs[i], { relaxed: true });
      text += '\n]\n';
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    }
  }

  /** Removes a collection (or a whole database, or everything) from memory and disk. */
  reset(db?: string, coll?: string): void {
    for (const [key, c] of [...this.collections]) {
      if ((db === undefined || c.db === db) && (coll === undefined || c.name === coll)) {
        this.collections.delete(key);
        this.dirty.delete(c);
      }
    }
    if (!this.dir) return;
    const path = db === undefined ? this.dir : coll === undefined ? join(this.dir, db) : join(this.dir, db, fileName(coll));
    if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
  }
}
