// The embedded engine: MongoDB collections in memory, queried, updated and aggregated by mingo,
// kept under .fn/data/<data source>/<db>/<coll>.json as EJSON (one document a line), written
// atomically (a temp file, then rename) a moment after each change and on close.
//
// Transactions (snapshot isolation, as MongoDB's): a transaction reads the collections as they
// were when it started, plus its own writes, and writes into copies of its own. A document it
// writes is locked until it ends: another transaction writing it fails at once with WriteConflict
// (TransientTransactionError, so withTransaction runs it again). A write outside any transaction
// is not held back; the transaction that wrote the same document fails at commit instead. A commit
// is written to commit.json first (temp file, then rename), then applied, written out and the
// journal removed: a process that dies in between replays it on the next start, so a commit is on
// disk whole or not at all. Every committed write becomes a change event (change-log.ts).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ChangeLog, type ChangeRecord, type EmbeddedChangeStream } from './change-log.js';
import { badArgument, DataError, duplicateKey, TRANSIENT, writeConflict } from './errors.js';
import { describeValue, loadBson, loadMingo } from './libs.js';
import type {
  ArrayCursor,
  BackendSession,
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
  SessionOption,
  Sort,
  UpdateOptions,
  UpdateResult,
  ChangeStreamOptions,
  WatchOptions,
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
  produceNow(): Document[] {
    return this.produce();
  }
  async toArray(): Promise<Document[]> {
    return this.produce();
  }
}

type OperationType = ChangeRecord['operationType'];

export class EmbeddedCollection implements CollectionBackend {
  protected docs = new Map<string, Document>();
  protected list: Document[] | undefined;
  /** The clock of the last committed write of each _id key (deleted ones too). */
  readonly lastWrite = new Map<string, number>();
  /** The _id keys an open transaction has written, and which. */
  readonly locks = new Map<string, Transaction>();

  constructor(
    readonly db: string,
    readonly name: string,
    protected readonly engine: EmbeddedEngine,
  ) {}

  /** The stored documents by _id key (shared): a transaction copies it as its snapshot. */
  get contents(): Map<string, Document> {
    return this.docs;
  }

  /** Where a call with these options runs: its session's transaction's view, or here (undefined). */
  protected inTxn(options: SessionOption | undefined): EmbeddedCollection | undefined {
    const session = options?.session;
    if (session === undefined) return undefined;
    if (!(session instanceof EmbeddedSession)) throw badArgument('the session option must be a session of this data source');
    return session.viewOf(this);
  }

  /** One committed write: stored, stamped, recorded as a change event. */
  protected write(op: OperationType, key: string, before: Document | null, after: Document | null): void {
    this.engine.beforeWrite(this);
    if (after) this.docs.set(key, after);
    else this.docs.delete(key);
    this.lastWrite.set(key, this.engine.tick());
    this.list = undefined;
    this.engine.changed(this, [{ operationType: op, db: this.db, coll: this.name, id: (after ?? before)!._id, before, after }]);
  }

  /** Applies a committed transaction's final state of one document. */
  applyCommitted(key: string, doc: Document | null, clock: number): void {
    if (doc) this.docs.set(key, doc);
    else this.docs.delete(key);
    this.lastWrite.set(key, clock);
    this.list = undefined;
  }

  /** The documents of another collection of this database, for $lookup. */
  protected peer(name: string): Document[] {
    return this.engine.collection(this.db, name).all();
  }

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
      const txn = this.inTxn(options);
      if (txn) return (txn.find(filter, { ...options, session: undefined }) as ResultCursor).produceNow();
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
    const txn = this.inTxn(options);
    if (txn) return txn.findOne(filter, { ...options, session: undefined });
    const [doc] = await this.find(filter, { ...options, limit: 1 }).toArray();
    return doc ?? null;
  }

  private put(doc: Document): void {
    const key = idKey(doc._id);
    if (this.docs.has(key)) throw duplicateKey(this.ns, doc._id, describeValue);
    this.write('insert', key, null, doc);
  }

  async insertOne(document: Document, options?: SessionOption): Promise<InsertOneResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.insertOne(document);
    if (!isPlainObject(document)) throw badArgument('insertOne: the document must be an object');
    const doc = withId(cloneDoc(document));
    this.put(doc);
    return { insertedId: doc._id };
  }

  async insertMany(documents: Document[], options: { ordered?: boolean } & SessionOption = {}): Promise<InsertManyResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.insertMany(documents, { ...options, session: undefined });
    if (!Array.isArray(documents)) throw badArgument('insertMany: the documents must be an array');
    const insertedIds: Record<number, unknown> = {};
    let failed: DataError | undefined;
    let count = 0;
    documents.forEach((document, i) => {
      try {
        if (!isPlainObject(document)) throw badArgument(`insertMany: document ${i} must be an object`);
        const doc = withId(cloneDoc(document));
        this.put(doc);
        insertedIds[i] = doc._id;
        count++;
      } catch (error) {
        if (options.ordered !== false || (error as DataError).hasErrorLabel?.(TRANSIENT)) throw error;
        failed ??= error as DataError;
      }
    });
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
    op: OperationType = 'update',
  ): { result: UpdateResult; before: Document | null; after: Document | null } {
    const f = checkFilter(filter);
    const matched = this.matching(f, sort, one ? 1 : undefined);
    if (!matched.length) {
      if (!upsert) return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null }, before: null, after: null };
      const doc = upsert();
      this.put(doc);
      return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc._id }, before: null, after: doc };
    }
    // Every change is computed before any is stored: a failing update changes nothing.
    const changes = matched.map((before) => [before, change(before)] as const);
    let modified = 0;
    for (const [before, after] of changes) {
      if (sameValue(before, after)) continue;
      this.write(op, idKey(before._id), before, after);
      modified++;
    }
    const [first] = changes;
    return {
      result: { matchedCount: matched.length, modifiedCount: modified, upsertedCount: 0, upsertedId: null },
      before: first![0],
      after: first![1],
    };
  }

  async updateOne(filter: Document, update: Document | Document[], options: UpdateOptions = {}): Promise<UpdateResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.updateOne(filter, update, { ...options, session: undefined });
    checkUpdate(update);
    return this.updateWith(
      filter,
      (d) => applyUpdate(d, update, options),
      true,
      options.upsert ? () => upsertDocument(filter, update, undefined, options.arrayFilters) : undefined,
    ).result;
  }

  async updateMany(filter: Document, update: Document | Document[], options: UpdateOptions = {}): Promise<UpdateResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.updateMany(filter, update, { ...options, session: undefined });
    checkUpdate(update);
    return this.updateWith(
      filter,
      (d) => applyUpdate(d, update, options),
      false,
      options.upsert ? () => upsertDocument(filter, update, undefined, options.arrayFilters) : undefined,
    ).result;
  }

  async replaceOne(filter: Document, replacement: Document, options: UpdateOptions = {}): Promise<UpdateResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.replaceOne(filter, replacement, { ...options, session: undefined });
    checkReplacement(replacement);
    return this.updateWith(
      filter,
      (d) => applyReplacement(d, replacement),
      true,
      options.upsert ? () => upsertDocument(filter, undefined, replacement) : undefined,
      undefined,
      'replace',
    ).result;
  }

  private deleteWith(filter: Document, one: boolean, sort?: Sort): Document[] {
    const matched = this.matching(checkFilter(filter), sort, one ? 1 : undefined);
    for (const doc of [...matched]) this.write('delete', idKey(doc._id), doc, null);
    return matched;
  }

  async deleteOne(filter: Document, options?: SessionOption): Promise<DeleteResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.deleteOne(filter);
    return { deletedCount: this.deleteWith(filter, true).length };
  }

  async deleteMany(filter: Document, options?: SessionOption): Promise<DeleteResult> {
    const txn = this.inTxn(options);
    if (txn) return txn.deleteMany(filter);
    return { deletedCount: this.deleteWith(filter, false).length };
  }

  private returned(doc: Document | null, projection: Document | undefined): Document | null {
    return doc ? this.project([doc], projection)[0]! : null;
  }

  async findOneAndUpdate(filter: Document, update: Document | Document[], options: FindOneAndOptions = {}): Promise<Document | null> {
    const txn = this.inTxn(options);
    if (txn) return txn.findOneAndUpdate(filter, update, { ...options, session: undefined });
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
    const txn = this.inTxn(options);
    if (txn) return txn.findOneAndReplace(filter, replacement, { ...options, session: undefined });
    checkReplacement(replacement);
    const { before, after } = this.updateWith(
      filter,
      (d) => applyReplacement(d, replacement),
      true,
      options.upsert ? () => upsertDocument(filter, undefined, replacement) : undefined,
      options.sort,
      'replace',
    );
    return this.returned(options.returnDocument === 'after' ? after : before, options.projection);
  }

  async findOneAndDelete(filter: Document, options: FindOneAndOptions = {}): Promise<Document | null> {
    const txn = this.inTxn(options);
    if (txn) return txn.findOneAndDelete(filter, { ...options, session: undefined });
    const [doc] = this.deleteWith(filter, true, options.sort);
    return this.returned(doc ?? null, options.projection);
  }

  aggregate(pipeline: Document[], options?: SessionOption): ArrayCursor {
    return new ResultCursor(() => {
      const txn = this.inTxn(options);
      if (txn) return (txn.aggregate(pipeline) as ResultCursor).produceNow();
      if (!Array.isArray(pipeline)) throw badArgument('aggregate: the pipeline must be an array of stages');
      for (const stage of pipeline) {
        const op = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
        if (op === '$out' || op === '$merge')
          throw new DataError(`${op} is not supported by the embedded engine; write the results with insertMany`, 'NotSupported');
      }
      const mingo = loadMingo();
      try {
        const resolver = (name: string) => this.peer(name);
        return new mingo.Aggregator(pipeline, { ...QUERY_OPTIONS, collectionResolver: resolver }).run<Document>(this.all()).map(cloneDoc);
      } catch (error) {
        throw error instanceof DataError ? error : badArgument((error as Error).message);
      }
    });
  }

  async countDocuments(filter: Document, options: { skip?: number; limit?: number } & SessionOption = {}): Promise<number> {
    const txn = this.inTxn(options);
    if (txn) return txn.countDocuments(filter, { ...options, session: undefined });
    let n = this.matching(checkFilter(filter)).length - (options.skip ?? 0);
    if (options.limit) n = Math.min(n, options.limit);
    return Math.max(0, n);
  }

  async estimatedDocumentCount(options?: SessionOption): Promise<number> {
    return (this.inTxn(options) ?? this).docs.size;
  }

  async distinct(key: string, filter: Document, options?: SessionOption): Promise<unknown[]> {
    const txn = this.inTxn(options);
    if (txn) return txn.distinct(key, filter);
    if (typeof key !== 'string' || key === '') throw badArgument('distinct: the field must be a non-empty string');
    return distinctValues(this.matching(checkFilter(filter)), key);
  }

  async bulkWrite(operations: BulkOperation[], options: { ordered?: boolean } & SessionOption = {}): Promise<BulkWriteResult> {
    return runBulkWrite(this.inTxn(options) ?? this, operations, options.ordered !== false);
  }

  watch(pipeline?: Document[], options: ChangeStreamOptions = {}): EmbeddedChangeStream {
    return this.engine.watch({ ...options, db: this.db, coll: this.name, ...(pipeline ? { pipeline } : {}) });
  }
}

/** One open transaction: its start on the engine's clock, its copies of what it touched, its writes in order. */
export class Transaction {
  readonly views = new Map<EmbeddedCollection, TransactionView>();
  /** Collections changed by others since the start, as they were at the start. */
  readonly snapshots = new Map<EmbeddedCollection, Map<string, Document>>();
  readonly writes: { coll: EmbeddedCollection; key: string; record: ChangeRecord }[] = [];
  /** Why it can no longer commit (a write conflict aborted it). */
  failed: DataError | undefined;
  /** Committed or aborted. */
  finished = false;
  constructor(readonly start: number) {}
}

const noSuchTransaction = () =>
  new DataError('Transaction has been aborted (a write conflicted with another operation); run it again', 251, [TRANSIENT]);

/** A collection as one transaction sees it: a copy of its snapshot, with the transaction's writes. */
class TransactionView extends EmbeddedCollection {
  constructor(
    readonly base: EmbeddedCollection,
    private readonly txn: Transaction,
    snapshot: Map<string, Document>,
    engine: EmbeddedEngine,
  ) {
    super(base.db, base.name, engine);
    this.docs = new Map(snapshot);
  }

  protected override inTxn(): undefined {
    return undefined;
  }

  protected override peer(name: string): Document[] {
    return this.engine.view(this.txn, this.engine.collection(this.db, name)).all();
  }

  protected override write(op: OperationType, key: string, before: Document | null, after: Document | null): void {
    const t = this.txn;
    if (t.failed || t.finished) throw noSuchTransaction();
    const holder = this.base.locks.get(key);
    if ((holder && holder !== t) || (this.base.lastWrite.get(key) ?? 0) > t.start) {
      const conflict = writeConflict(this.ns);
      this.engine.abort(t, conflict);
      throw conflict;
    }
    this.base.locks.set(key, t);
    if (after) this.docs.set(key, after);
    else this.docs.delete(key);
    this.list = undefined;
    t.writes.push({
      coll: this.base,
      key,
      record: { operationType: op, db: this.db, coll: this.name, id: (after ?? before)!._id, before, after },
    });
  }
}

/** A session of the embedded engine (BackendSession); the driver's ClientSession is the other. */
export class EmbeddedSession implements BackendSession {
  private txn: Transaction | undefined;
  private ended = false;

  constructor(private readonly engine: EmbeddedEngine) {}

  startTransaction(): void {
    if (this.ended) throw badArgument('Cannot use a session that has ended');
    if (this.inTransaction()) throw badArgument('Transaction already in progress');
    this.txn = this.engine.begin();
  }

  inTransaction(): boolean {
    return !!this.txn && !this.txn.finished;
  }

  async commitTransaction(): Promise<void> {
    const t = this.txn;
    if (!t || t.finished) throw badArgument('No transaction started');
    try {
      this.engine.commit(t);
    } finally {
      t.finished = true;
    }
  }

  async abortTransaction(): Promise<void> {
    const t = this.txn;
    if (!t || t.finished) throw badArgument('No transaction started');
    this.engine.abort(t);
    t.finished = true;
  }

  async endSession(): Promise<void> {
    if (this.inTransaction()) await this.abortTransaction();
    this.ended = true;
  }

  /** The collection as this session's open transaction sees it; undefined outside a transaction. */
  viewOf(coll: EmbeddedCollection): EmbeddedCollection | undefined {
    if (this.ended) throw badArgument('Cannot use a session that has ended');
    const t = this.txn;
    if (!t || t.finished) return undefined;
    if (t.failed) throw noSuchTransaction();
    return this.engine.view(t, coll);
  }
}

const JOURNAL = 'commit.json';

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
  /** The write clock: each committed write of a document takes the next value. */
  private clock = 0;
  private readonly active = new Set<Transaction>();
  readonly log: ChangeLog;

  constructor(readonly dir: string | undefined) {
    this.log = new ChangeLog(dir && join(dir, 'changes.log'));
    if (dir) {
      process.on('exit', this.onExit);
      this.replay();
    }
  }

  tick(): number {
    return ++this.clock;
  }

  // Transactions -----------------------------------------------------------------------------

  begin(): Transaction {
    const t = new Transaction(this.clock);
    this.active.add(t);
    return t;
  }

  /** Before a committed write to `c`: each open transaction that has not read it keeps it as it is. */
  beforeWrite(c: EmbeddedCollection): void {
    for (const t of this.active) if (!t.views.has(c) && !t.snapshots.has(c)) t.snapshots.set(c, new Map(c.contents));
  }

  view(t: Transaction, c: EmbeddedCollection): EmbeddedCollection {
    let v = t.views.get(c);
    if (!v) t.views.set(c, (v = new TransactionView(c, t, t.snapshots.get(c) ?? c.contents, this)));
    return v;
  }

  abort(t: Transaction, reason?: DataError): void {
    if (reason) t.failed = reason;
    for (const { coll, key } of t.writes) if (coll.locks.get(key) === t) coll.locks.delete(key);
    this.active.delete(t);
  }

  /** Applies a transaction's writes at once, journalled on disk first. */
  commit(t: Transaction): void {
    if (t.failed || !this.active.has(t)) throw noSuchTransaction();
    for (const w of t.writes) {
      if ((w.coll.lastWrite.get(w.key) ?? 0) > t.start) {
        const conflict = writeConflict(w.coll.ns);
        this.abort(t, conflict);
        throw conflict;
      }
    }
    this.abort(t);
    if (!t.writes.length) return;
    const finals = new Map<EmbeddedCollection, Map<string, ChangeRecord>>();
    for (const w of t.writes) {
      let m = finals.get(w.coll);
      if (!m) finals.set(w.coll, (m = new Map()));
      m.set(w.key, w.record);
    }
    const journal = this.dir && join(this.dir, JOURNAL);
    if (journal) {
      const { EJSON } = loadBson();
      const writes = [...finals].flatMap(([c, m]) => [...m.values()].map((r) => ({ db: c.db, coll: c.name, id: r.id, doc: r.after })));
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${journal}.${process.pid}.tmp`;
      writeFileSync(tmp, EJSON.stringify({ seq: this.log.lastSeq, writes, events: t.writes.map((w) => w.record) }, { relaxed: false }));
      renameSync(tmp, journal);
    }
    for (const [c, m] of finals) {
      this.beforeWrite(c);
      for (const [key, r] of m) c.applyCommitted(key, r.after, this.tick());
      if (this.dir) this.dirty.add(c);
    }
    this.log.append(t.writes.map((w) => w.record));
    if (journal) {
      this.flush();
      rmSync(journal, { force: true });
    }
  }

  /** A commit journal left by a process that died while writing a commit out: applied again. */
  private replay(): void {
    const journal = join(this.dir!, JOURNAL);
    let text: string;
    try {
      text = readFileSync(journal, 'utf8');
    } catch {
      return;
    }
    const { EJSON } = loadBson();
    let entry: { seq: number; writes: { db: string; coll: string; id: unknown; doc: Document | null }[]; events: ChangeRecord[] };
    try {
      entry = EJSON.parse(text) as typeof entry;
    } catch {
      // Not written whole: the commit never happened.
      rmSync(journal, { force: true });
      return;
    }
    for (const w of entry.writes) {
      const c = this.collection(w.db, w.coll);
      c.applyCommitted(idKey(w.id), w.doc, this.tick());
      this.dirty.add(c);
    }
    if (this.log.lastSeq === entry.seq) this.log.append(entry.events);
    this.flush();
    rmSync(journal, { force: true });
  }

  startSession(): EmbeddedSession {
    return new EmbeddedSession(this);
  }

  // Change streams ---------------------------------------------------------------------------

  watch(options: WatchOptions): EmbeddedChangeStream {
    return this.log.watch(options, (db, coll, id) => {
      const doc = this.collection(db, coll).contents.get(idKey(id));
      return doc ? cloneDoc(doc) : null;
    });
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

  changed(c: EmbeddedCollection, records: ChangeRecord[] = []): void {
    this.log.append(records);
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
    this.log.flush();
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
