// The embedded engine's change log: every committed write of one data source as a change event,
// in order, kept in memory and under .fn/data/<source>/changes.log so that a stream resumed with a
// token after a restart gets exactly the events after it. Bounded: the last LOG_LIMIT events.
//
// File: a header line {"fnChangeLog":1,"epoch":"<8 hex>"}, then one event a line (relaxed EJSON),
// appended when the engine writes its collections; rewritten (temp file, then rename) with the
// last LOG_LIMIT events when it holds twice that many. A resume token's _data is the epoch and the
// event's sequence number in hex, so a token of another store (or of one reset since) is refused
// instead of read at a wrong place.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { badArgument, DataError } from './errors.js';
import { loadBson, loadMingo } from './libs.js';
import type { BackendChangeStream, ChangeEvent, ChangeStreamOptions, Document, WatchOptions } from './types.js';
import { cloneDoc, isPlainObject } from './values.js';

/** How many events the log keeps. */
export const LOG_LIMIT = 10_000;

/** What the engine records; the log adds the token and the times. */
export interface ChangeRecord {
  operationType: 'insert' | 'update' | 'replace' | 'delete';
  db: string;
  coll: string;
  id: unknown;
  before: Document | null;
  after: Document | null;
}

/** An event as stored: the whole event with both images; streams cut it to what they asked for. */
interface StoredEvent {
  seq: number;
  event: ChangeEvent;
}

/** The stages a change stream's pipeline may have (MongoDB's list, less $redact). */
const STREAM_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith']);

export const HISTORY_LOST = 286;

export function checkStreamPipeline(pipeline: unknown): Document[] {
  if (pipeline === undefined || pipeline === null) return [];
  if (!Array.isArray(pipeline)) throw badArgument('watch: the pipeline must be an array of stages');
  for (const stage of pipeline) {
    const op = isPlainObject(stage) && Object.keys(stage).length === 1 ? Object.keys(stage)[0]! : undefined;
    if (!op || !STREAM_STAGES.has(op))
      throw badArgument(
        `watch: a change stream's pipeline may hold only ${[...STREAM_STAGES].join(', ')} stages (found ${op ?? 'a stage that is not one'})`,
      );
  }
  return pipeline as Document[];
}

/** The fields of `after` that differ from `before`, as MongoDB's updateDescription names them. */
export function describeUpdate(
  before: Document,
  after: Document,
): { updatedFields: Document; removedFields: string[]; truncatedArrays: unknown[] } {
  const updatedFields: Document = {};
  const removedFields: string[] = [];
  const walk = (b: Document, a: Document, prefix: string) => {
    for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) removedFields.push(prefix + k);
    for (const [k, v] of Object.entries(a)) {
      const old = b[k];
      if (Object.hasOwn(b, k) && sameText(old, v)) continue;
      if (isPlainObject(old) && isPlainObject(v)) walk(old, v, `${prefix}${k}.`);
      else updatedFields[prefix + k] = cloneDoc({ v }).v;
    }
  };
  walk(before, after, '');
  return { updatedFields, removedFields, truncatedArrays: [] };
}

function sameText(a: unknown, b: unknown): boolean {
  const { EJSON } = loadBson();
  try {
    return EJSON.stringify({ v: a }, { relaxed: false }) === EJSON.stringify({ v: b }, { relaxed: false });
  } catch {
    return false;
  }
}

export class ChangeLog {
  private events: StoredEvent[] = [];
  private epoch = randomBytes(4).toString('hex');
  private seq = 0;
  /** Lines not yet on disk, and how many lines the file holds. */
  private pending: string[] = [];
  private lines = 0;
  private tick = { t: 0, i: 0 };
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly path: string | undefined,
    private readonly limit = LOG_LIMIT,
  ) {
    if (path) this.read(path);
  }

  private read(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    const { EJSON } = loadBson();
    const rows = text.split('\n').filter((l) => l.trim());
    try {
      const head = JSON.parse(rows[0] ?? '{}') as { fnChangeLog?: number; epoch?: string };
      if (head.fnChangeLog !== 1 || typeof head.epoch !== 'string') throw new Error('the first line is not its header');
      this.epoch = head.epoch;
      for (const row of rows.slice(1)) {
        const event = EJSON.parse(row) as ChangeEvent;
        this.events.push({ seq: this.seqOf(event._id, 'the log'), event });
      }
    } catch (error) {
      throw new DataError(`${path} is not a change log fn can read: ${(error as Error).message}; remove it (streams then start afresh)`);
    }
    this.lines = rows.length;
    this.seq = this.events.at(-1)?.seq ?? 0;
    if (this.events.length > this.limit) this.events = this.events.slice(-this.limit);
  }

  /** The sequence number of the newest event (0: none yet). */
  get lastSeq(): number {
    return this.seq;
  }

  private token(seq: number): { _data: string } {
    return { _data: `${this.epoch}${seq.toString(16).toUpperCase().padStart(16, '0')}` };
  }

  private seqOf(token: unknown, what: string): number {
    const data = isPlainObject(token) ? token._data : undefined;
    if (typeof data !== 'string' || !/^[0-9a-f]{8}[0-9A-F]{16}$/.test(data))
      throw badArgument(`${what}: ${JSON.stringify(token)} is not a resume token of fn's embedded engine`);
    return parseInt(data.slice(8), 16);
  }

  /** Adds the events of one write (or one transaction's commit, which share a cluster time). */
  append(records: ChangeRecord[]): void {
    if (!records.length) return;
    const { Timestamp, EJSON } = loadBson();
    const now = Date.now();
    const t = Math.floor(now / 1000);
    this.tick = t > this.tick.t ? { t, i: 1 } : { t: this.tick.t, i: this.tick.i + 1 };
    const clusterTime = new Timestamp({ t: this.tick.t, i: this.tick.i });
    for (const r of records) {
      const seq = ++this.seq;
      const event: ChangeEvent = {
        _id: this.token(seq),
        operationType: r.operationType,
        clusterTime,
        wallTime: new Date(now),
        ns: { db: r.db, coll: r.coll },
        documentKey: { _id: r.id },
      };
      if (r.after) event.fullDocument = r.after;
      if (r.before) event.fullDocumentBeforeChange = r.before;
      if (r.operationType === 'update' && r.before && r.after) event.updateDescription = describeUpdate(r.before, r.after);
      this.events.push({ seq, event });
      if (this.path) this.pending.push(EJSON.stringify(event, { relaxed: true }));
    }
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
    for (const wake of [...this.waiting]) wake();
  }

  /** Writes the events not yet on disk; rewrites the file when it holds twice the bound. */
  flush(): void {
    if (!this.path || !this.pending.length) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const { EJSON } = loadBson();
    if (this.lines === 0 || this.lines + this.pending.length > 2 * this.limit + 1) {
      const body = this.events.map((e) => EJSON.stringify(e.event, { relaxed: true }));
      const text = `${JSON.stringify({ fnChangeLog: 1, epoch: this.epoch })}\n${body.map((l) => `${l}\n`).join('')}`;
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, this.path);
      this.lines = body.length + 1;
    } else {
      appendFileSync(this.path, this.pending.map((l) => `${l}\n`).join(''));
      this.lines += this.pending.length;
    }
    this.pending = [];
  }

  /** The sequence number a stream starts after: the token's, or the newest event's. */
  private startAfter(options: ChangeStreamOptions): number {
    const token = options.startAfter ?? options.resumeAfter;
    if (token === undefined) return this.seq;
    const seq = this.seqOf(token, 'watch');
    const first = this.events[0]?.seq ?? this.seq + 1;
    if (token._data.slice(0, 8) !== this.epoch || seq > this.seq || seq < first - 1)
      throw new DataError(
        `the resume point is no longer in the change log (it keeps the last ${this.limit} events, and a reset starts a new one); start the stream without a resume token`,
        HISTORY_LOST,
      );
    return seq;
  }

  /** Events after a position, oldest first (shared). */
  private after(seq: number): StoredEvent[] {
    const first = this.events[0]?.seq;
    if (first === undefined || seq >= this.seq) return [];
    if (seq < first - 1)
      throw new DataError(
        `the change stream fell behind the change log (it keeps the last ${this.limit} events); start it again`,
        HISTORY_LOST,
      );
    return this.events.slice(seq - first + 1);
  }

  /** Resolves on the next append, or after `ms`. */
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

  /** A stream over the log; `lookup` gives a document as it is now (fullDocument 'updateLookup'). */
  watch(options: WatchOptions, lookup: (db: string, coll: string, id: unknown) => Document | null): EmbeddedChangeStream {
    return new EmbeddedChangeStream(
      this,
      options,
      this.startAfter(options),
      lookup,
      (seq) => this.after(seq),
      (seq) => this.token(seq),
    );
  }
}

export class EmbeddedChangeStream implements BackendChangeStream {
  private closed = false;
  private readonly pipeline: Document[];
  private token: { _data: string };

  constructor(
    private readonly log: ChangeLog,
    private readonly options: WatchOptions,
    private position: number,
    private readonly lookup: (db: string, coll: string, id: unknown) => Document | null,
    private readonly after: (seq: number) => StoredEvent[],
    tokenOf: (seq: number) => { _data: string },
  ) {
    this.pipeline = checkStreamPipeline(options.pipeline);
    this.token = tokenOf(position);
  }

  get resumeToken(): { _data: string } {
    return this.token;
  }

  /** The event as this stream shows it, or undefined when its pipeline drops it. */
  private shape(stored: ChangeEvent): ChangeEvent | undefined {
    const o = this.options;
    if (o.db !== undefined && stored.ns.db !== o.db) return undefined;
    if (o.coll !== undefined && stored.ns.coll !== o.coll) return undefined;
    const event = cloneDoc(stored as unknown as Document) as unknown as ChangeEvent;
    if (event.operationType === 'update') {
      const full = o.fullDocument ?? 'default';
      if (full === 'updateLookup') event.fullDocument = this.lookup(event.ns.db, event.ns.coll!, event.documentKey!._id);
      else if (full === 'default') delete event.fullDocument;
    }
    const before = o.fullDocumentBeforeChange ?? 'off';
    if (before === 'off' || event.operationType === 'insert') delete event.fullDocumentBeforeChange;
    if (!this.pipeline.length) return event;
    try {
      const [out] = new (loadMingo().Aggregator)(this.pipeline, { scriptEnabled: false }).run<Document>([event]);
      return out as unknown as ChangeEvent | undefined;
    } catch (error) {
      throw badArgument(`watch: ${(error as Error).message}`);
    }
  }

  async tryNext(): Promise<ChangeEvent | null> {
    if (this.closed) throw new DataError('the change stream is closed');
    for (const stored of this.after(this.position)) {
      this.position = stored.seq;
      this.token = stored.event._id;
      const event = this.shape(stored.event);
      if (event) return event;
    }
    return null;
  }

  /** Resolves when an event may be there, or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    return this.closed ? Promise.resolve() : this.log.waitForChange(ms);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
