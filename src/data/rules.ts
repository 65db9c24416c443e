// App Services rules in user context, as a CollectionBackend over another one: every operation
// function code can make is checked here before (and after) it reaches the backend. System
// context (run_as_system, the service role) never comes through here.
//
// Decisions where the reference leaves a choice (each tested in test/unit/data/rules.test.ts):
// - No rules.json roles and no default rule: every operation fails (NoMatchingRule).
// - The role of a document is the first whose apply_when is true with %%root = the stored
//   document (for an insert, the new one). A write is judged by the role of the document as it
//   was, so a write cannot make a role apply to itself.
// - A missing side of document_filters counts as true; document-level read/write win over field
//   rules (write: false denies even fields with write: true); write implies read.
// - Reads see %%prevRoot = the document, so a write rule like {"%%prevRoot": {"%exists": false}}
//   (insert-only) grants no read.
// - delete needs the document to be writable as a whole, then `delete` (default true).
// - A document no role applies to is withheld from writes as from reads (an update or delete does
//   not see it); a document whose role denies the write fails the whole request, nothing written.
// - A document with no readable field is left out of results.
// - Reads push sort, skip, limit and projection down to the backend when every document is
//   wholly readable under the first role (apply_when {} and read or write true, no filter
//   projection); otherwise documents are read, judged and cut here.
// - aggregate reads its input through the rules (filters, roles, field rules) and runs the
//   pipeline here with mingo; stages that read or write other collections are refused.
// - watch gives only events on documents the caller may read (the document after the change, or
//   before it for a delete), filters' queries and projections applied, fullDocument and
//   fullDocumentBeforeChange cut to the readable fields, updatedFields and removedFields to the
//   readable top-level fields. An event whose document cannot be had (a delete without a
//   pre-image on a real MongoDB) is withheld. The stream's own pipeline runs after the rules, so a
//   $match cannot test fields the caller cannot read.
import { evaluateExpression, expandValue, type ExpressionEnv } from '../expression/evaluate.js';
import { runBulkWrite } from './bulk.js';
import { checkStreamPipeline } from './change-log.js';
import { badArgument, DataError, ErrorCodes } from './errors.js';
import { loadMingo } from './libs.js';
import type {
  ArrayCursor,
  BackendChangeStream,
  BulkOperation,
  ChangeEvent,
  ChangeStreamOptions,
  BulkWriteResult,
  CollectionBackend,
  DeleteResult,
  Document,
  FieldRule,
  FindOneAndOptions,
  FindOptions,
  InsertManyResult,
  InsertOneResult,
  NamespaceRules,
  Role,
  RuleExpression,
  SourceRules,
  UpdateOptions,
  UpdateResult,
} from './types.js';
import { applyReplacement, applyUpdate, upsertDocument, withId } from './update.js';
import { cloneDoc, distinctValues, isPlainObject, sameValue } from './values.js';

/** Who is asking, for expressions: %%user, %%request, %%values, %%environment, %function. */
export type RuleCaller = Omit<ExpressionEnv, 'args' | 'root' | 'prevRoot'>;

const FORBIDDEN_QUERY_OPERATORS = new Set([
  '$where',
  '$expr',
  '$jsonSchema',
  '$regex',
  '$text',
  '$geoIntersects',
  '$geoWithin',
  '$near',
  '$nearSphere',
  '$bitsAllClear',
  '$bitsAllSet',
  '$bitsAnyClear',
  '$bitsAnySet',
]);
const FORBIDDEN_STAGES = new Set([
  '$collStats',
  '$facet',
  '$geoNear',
  '$graphLookup',
  '$indexStats',
  '$lookup',
  '$merge',
  '$out',
  '$unionWith',
  '$search',
  '$searchMeta',
  '$currentOp',
  '$listSessions',
]);
const FORBIDDEN_EXPRESSION_OPERATORS = new Set(['$function', '$accumulator', '$where', '$setIsSubset']);

function findKey(value: unknown, forbidden: Set<string>): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const k = findKey(v, forbidden);
      if (k) return k;
    }
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (forbidden.has(k)) return k;
      const inner = findKey(v, forbidden);
      if (inner) return inner;
    }
  }
  return undefined;
}

function checkQuery(filter: Document): void {
  const op = findKey(filter, FORBIDDEN_QUERY_OPERATORS);
  if (op)
    throw new DataError(
      `the query operator ${op} is not allowed when a function runs as a user (App Services allows it only in system functions); run the function as system or query another way`,
      ErrorCodes.NOT_SUPPORTED,
    );
}

const notPermitted = (what: string, ns: string) => new DataError(`${what} not permitted for namespace '${ns}'`, ErrorCodes.NOT_PERMITTED);

function and(a: Document, b: Document | undefined): Document {
  if (!b || !Object.keys(b).length) return a;
  if (!Object.keys(a).length) return b;
  return { $and: [a, b] };
}

/** Every field path whose value differs between two documents, one level per nested field rule. */
function changedFields(before: Document | undefined, after: Document | undefined): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...keys].filter((k) => !sameValue(before?.[k], after?.[k]));
}

export class RulesCollection implements CollectionBackend {
  private readonly ns: string;

  constructor(
    private readonly inner: CollectionBackend,
    db: string,
    coll: string,
    private readonly rules: SourceRules,
    private readonly caller: RuleCaller,
  ) {
    this.ns = `${db}.${coll}`;
  }

  /** The roles and filters of this namespace; none at all is a refusal. */
  private get namespace(): NamespaceRules {
    const own = Object.hasOwn(this.rules.namespaces, this.ns) ? this.rules.namespaces[this.ns] : undefined;
    const roles = own?.roles.length ? own.roles : (this.rules.defaultRule?.roles ?? []);
    if (!roles.length)
      throw new DataError(
        `no rule exists for namespace '${this.ns}': add data_sources/<source>/${this.ns.replace('.', '/')}/rules.json or a default_rule.json with a role, or run the function as system`,
        ErrorCodes.NO_MATCHING_RULE,
      );
    return { roles, filters: own?.filters ?? this.rules.defaultRule?.filters ?? [] };
  }

  private env(root?: Document, prevRoot?: Document): ExpressionEnv {
    return { ...this.caller, args: root ?? {}, root, prevRoot };
  }

  private async evaluate(expr: RuleExpression | undefined, root?: Document, prevRoot?: Document): Promise<boolean | undefined> {
    if (expr === undefined) return undefined;
    try {
      return await evaluateExpression(expr, this.env(root, prevRoot));
    } catch {
      // A rule that cannot be evaluated grants nothing.
      return false;
    }
  }

  /** The query and projection of the filters whose apply_when holds for this caller. */
  private async filters(ns: NamespaceRules): Promise<{ query: Document | undefined; projection: Document | undefined }> {
    const queries: Document[] = [];
    let projection: Document | undefined;
    for (const f of ns.filters) {
      if ((await this.evaluate(f.apply_when ?? {})) !== true) continue;
      if (isPlainObject(f.query) && Object.keys(f.query).length) queries.push(expandValue(f.query, this.env()) as Document);
      if (isPlainObject(f.projection) && Object.keys(f.projection).length) {
        const merged: Document = { ...projection, ...f.projection };
        const kinds = new Set(
          Object.entries(merged)
            .filter(([k]) => k !== '_id')
            .map(([, v]) => (v ? 1 : 0)),
        );
        if (kinds.size > 1)
          throw new DataError(`the filters that apply to '${this.ns}' mix inclusive and exclusive projections`, ErrorCodes.BAD_ARGUMENT);
        projection = merged;
      }
    }
    return { query: queries.length === 0 ? undefined : queries.length === 1 ? queries[0] : { $and: queries }, projection };
  }

  private async roleFor(ns: NamespaceRules, doc: Document): Promise<Role | undefined> {
    for (const role of ns.roles) if ((await this.evaluate(role.apply_when ?? {}, doc, doc)) === true) return role;
    return undefined;
  }

  /** Every document is wholly readable under the first role, whatever it holds. */
  private fullRead(ns: NamespaceRules): boolean {
    const role = ns.roles[0]!;
    const always = (e: RuleExpression | undefined) => e === true || (isPlainObject(e) && !Object.keys(e).length);
    if (!(role.apply_when === undefined || always(role.apply_when))) return false;
    const df = role.document_filters;
    if (df && !(df.read === undefined || df.read === true || df.write === true)) return false;
    return role.read === true || role.write === true;
  }

  private async fieldReadable(rule: FieldRule | undefined, value: unknown, doc: Document): Promise<unknown> {
    if (!rule) return undefined;
    if (rule.read === undefined && rule.write === undefined && rule.fields) {
      if (!isPlainObject(value)) return undefined;
      const out: Document = {};
      for (const [k, v] of Object.entries(value)) {
        const r = await this.fieldReadable(Object.hasOwn(rule.fields, k) ? rule.fields[k] : undefined, v, doc);
        if (r !== undefined) out[k] = r;
      }
      return Object.keys(out).length ? out : undefined;
    }
    if ((await this.evaluate(rule.read, doc, doc)) === true || (await this.evaluate(rule.write, doc, doc)) === true) return value;
    return undefined;
  }

  /** The part of a stored document its role lets this caller read; null when none. */
  private async readView(role: Role | undefined, doc: Document): Promise<Document | null> {
    if (!role) return null;
    const df = role.document_filters;
    if (df) {
      const r = df.read === undefined ? true : await this.evaluate(df.read, doc, doc);
      const w = df.write === undefined ? true : await this.evaluate(df.write, doc, doc);
      if (r !== true && w !== true) return null;
    }
    const read = await this.evaluate(role.read, doc, doc);
    if (read === true) return doc;
    const write = await this.evaluate(role.write, doc, doc);
    if (write === true) return doc;
    if (read === false) return null;
    const out: Document = {};
    for (const [k, v] of Object.entries(doc)) {
      const rule = role.fields && Object.hasOwn(role.fields, k) ? role.fields[k] : role.additional_fields;
      const r = await this.fieldReadable(rule, v, doc);
      if (r !== undefined) out[k] = r;
    }
    return Object.keys(out).length ? out : null;
  }

  private async fieldsWritable(
    fields: Record<string, FieldRule> | undefined,
    additional: FieldRule | undefined,
    before: Document | undefined,
    after: Document | undefined,
    root: Document | undefined,
    prev: Document | undefined,
  ): Promise<boolean> {
    for (const k of changedFields(before, after)) {
      const rule = fields && Object.hasOwn(fields, k) ? fields[k] : additional;
      if (!rule) return false;
      if (rule.read === undefined && rule.write === undefined && rule.fields) {
        const b = before?.[k];
        const a = after?.[k];
        if ((b !== undefined && !isPlainObject(b)) || (a !== undefined && !isPlainObject(a))) return false;
        if (!(await this.fieldsWritable(rule.fields, undefined, b, a, root, prev))) return false;
        continue;
      }
      if ((await this.evaluate(rule.write, root, prev)) !== true) return false;
    }
    return true;
  }

  /** May this role make this write? before undefined: an insert; after undefined: a delete. */
  private async canWrite(role: Role | undefined, before: Document | undefined, after: Document | undefined): Promise<boolean> {
    if (!role) return false;
    const root = after ?? before;
    const df = role.document_filters;
    if (df && df.write !== undefined && (await this.evaluate(df.write, root, before)) !== true) return false;
    const write = await this.evaluate(role.write, root, before);
    if (write === false) return false;
    if (write === undefined && !(await this.fieldsWritable(role.fields, role.additional_fields, before, after, root, before))) return false;
    if (!before) return role.insert === undefined || (await this.evaluate(role.insert, root, undefined)) === true;
    if (!after) return role.delete === undefined || (await this.evaluate(role.delete, root, before)) === true;
    return true;
  }

  /** Documents this caller may read, filters applied, cut to what their roles allow. */
  private async readable(filter: Document, options: FindOptions = {}): Promise<Document[]> {
    const ns = this.namespace;
    checkQuery(filter);
    const f = await this.filters(ns);
    const query = and(filter, f.query);
    if (this.fullRead(ns) && !f.projection) return this.inner.find(query, options).toArray();
    const docs = await this.inner
      .find(query, { ...(options.sort ? { sort: options.sort } : {}), ...(f.projection ? { projection: f.projection } : {}) })
      .toArray();
    const out: Document[] = [];
    const skip = options.skip ?? 0;
    let skipped = 0;
    for (const doc of docs) {
      const view = await this.readView(await this.roleFor(ns, doc), doc);
      if (!view) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      out.push(view);
      if (options.limit && out.length >= options.limit) break;
    }
    if (!options.projection || !Object.keys(options.projection).length) return out;
    try {
      return loadMingo().find(out, {}, options.projection).all();
    } catch (error) {
      throw badArgument((error as Error).message);
    }
  }

  find(filter: Document, options?: FindOptions): ArrayCursor {
    return { toArray: () => this.readable(filter, options) };
  }

  async findOne(filter: Document, options: FindOptions = {}): Promise<Document | null> {
    return (await this.readable(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  private async checkInsert(ns: NamespaceRules, doc: Document): Promise<void> {
    if (!(await this.canWrite(await this.roleFor(ns, doc), undefined, doc))) throw notPermitted('insert', this.ns);
  }

  async insertOne(document: Document): Promise<InsertOneResult> {
    const doc = withId(cloneDoc(document));
    await this.checkInsert(this.namespace, doc);
    return this.inner.insertOne(doc);
  }

  async insertMany(documents: Document[], options?: { ordered?: boolean }): Promise<InsertManyResult> {
    const ns = this.namespace;
    const docs = documents.map((d) => withId(cloneDoc(d)));
    for (const d of docs) await this.checkInsert(ns, d);
    return this.inner.insertMany(docs, options);
  }

  /**
   * The stored documents a write would touch, filters applied, each with its role. A document no
   * role applies to is withheld: the write does not see it (as a read does not).
   */
  private async targets(
    ns: NamespaceRules,
    filter: Document,
    one: boolean,
    sort?: FindOneAndOptions['sort'],
  ): Promise<{ docs: { doc: Document; role: Role }[]; query: Document }> {
    checkQuery(filter);
    const f = await this.filters(ns);
    const query = and(filter, f.query);
    const first = ns.roles[0]!.apply_when;
    const everyone = first === undefined || first === true || (isPlainObject(first) && !Object.keys(first).length);
    const found = await this.inner.find(query, { ...(one && everyone ? { limit: 1 } : {}), ...(sort ? { sort } : {}) }).toArray();
    const docs: { doc: Document; role: Role }[] = [];
    for (const doc of found) {
      const role = await this.roleFor(ns, doc);
      if (!role) continue;
      docs.push({ doc, role });
      if (one) break;
    }
    return { docs, query };
  }

  private async checkUpdates(docs: { doc: Document; role: Role }[], change: (d: Document) => Document): Promise<void> {
    for (const { doc: before, role } of docs) {
      if (!(await this.canWrite(role, before, change(before)))) throw notPermitted('update', this.ns);
    }
  }

  private async upsert(
    ns: NamespaceRules,
    query: Document,
    update: Document | Document[] | undefined,
    replacement: Document | undefined,
    arrayFilters?: Document[],
  ): Promise<Document> {
    const doc = upsertDocument(query, update, replacement, arrayFilters);
    await this.checkInsert(ns, doc);
    await this.inner.insertOne(doc);
    return doc;
  }

  private async update(
    filter: Document,
    update: Document | Document[] | undefined,
    replacement: Document | undefined,
    one: boolean,
    options: UpdateOptions = {},
  ): Promise<UpdateResult> {
    const ns = this.namespace;
    const { docs, query } = await this.targets(ns, filter, one);
    if (!docs.length) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      const doc = await this.upsert(ns, query, update, replacement, options.arrayFilters);
      return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc._id };
    }
    await this.checkUpdates(docs, (d) => (replacement ? applyReplacement(d, replacement) : applyUpdate(d, update!, options)));
    const arrayFilters = options.arrayFilters ? { arrayFilters: options.arrayFilters } : {};
    if (replacement) return this.inner.replaceOne({ _id: docs[0]!.doc._id }, replacement);
    return one
      ? this.inner.updateOne({ _id: docs[0]!.doc._id }, update!, arrayFilters)
      : this.inner.updateMany({ _id: { $in: docs.map((d) => d.doc._id) } }, update!, arrayFilters);
  }

  updateOne(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(filter, update, undefined, true, options);
  }

  updateMany(filter: Document, update: Document | Document[], options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(filter, update, undefined, false, options);
  }

  replaceOne(filter: Document, replacement: Document, options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(filter, undefined, replacement, true, options);
  }

  private async remove(filter: Document, one: boolean, sort?: FindOneAndOptions['sort']): Promise<Document[]> {
    const ns = this.namespace;
    const { docs } = await this.targets(ns, filter, one, sort);
    for (const { doc, role } of docs) if (!(await this.canWrite(role, doc, undefined))) throw notPermitted('delete', this.ns);
    return docs.map((d) => d.doc);
  }

  async deleteOne(filter: Document): Promise<DeleteResult> {
    const [doc] = await this.remove(filter, true);
    return doc ? this.inner.deleteOne({ _id: doc._id }) : { deletedCount: 0 };
  }

  async deleteMany(filter: Document): Promise<DeleteResult> {
    const docs = await this.remove(filter, false);
    return docs.length ? this.inner.deleteMany({ _id: { $in: docs.map((d) => d._id) } }) : { deletedCount: 0 };
  }

  /** What findOneAnd* hands back: the document cut to what its role lets the caller read. */
  private async returned(ns: NamespaceRules, doc: Document | null, projection: Document | undefined): Promise<Document | null> {
    if (!doc) return null;
    const view = await this.readView(await this.roleFor(ns, doc), doc);
    if (!view || !projection) return view;
    return loadMingo().find([view], {}, projection).all()[0] ?? null;
  }

  private async findOneAndModify(
    filter: Document,
    update: Document | Document[] | undefined,
    replacement: Document | undefined,
    options: FindOneAndOptions = {},
  ): Promise<Document | null> {
    const ns = this.namespace;
    const { docs, query } = await this.targets(ns, filter, true, options.sort);
    const before = docs[0]?.doc;
    if (!before) {
      if (!options.upsert) return null;
      const doc = await this.upsert(ns, query, update, replacement, options.arrayFilters);
      return options.returnDocument === 'after' ? this.returned(ns, doc, options.projection) : null;
    }
    await this.checkUpdates([docs[0]!], (d) => (replacement ? applyReplacement(d, replacement) : applyUpdate(d, update!, options)));
    const pass = {
      returnDocument: options.returnDocument ?? 'before',
      ...(options.arrayFilters ? { arrayFilters: options.arrayFilters } : {}),
    };
    const doc = replacement
      ? await this.inner.findOneAndReplace({ _id: before._id }, replacement, pass)
      : await this.inner.findOneAndUpdate({ _id: before._id }, update!, pass);
    return this.returned(ns, doc, options.projection);
  }

  findOneAndUpdate(filter: Document, update: Document | Document[], options?: FindOneAndOptions): Promise<Document | null> {
    return this.findOneAndModify(filter, update, undefined, options);
  }

  findOneAndReplace(filter: Document, replacement: Document, options?: FindOneAndOptions): Promise<Document | null> {
    return this.findOneAndModify(filter, undefined, replacement, options);
  }

  async findOneAndDelete(filter: Document, options: FindOneAndOptions = {}): Promise<Document | null> {
    const ns = this.namespace;
    const [doc] = await this.remove(filter, true, options.sort);
    if (!doc) return null;
    await this.inner.deleteOne({ _id: doc._id });
    return this.returned(ns, doc, options.projection);
  }

  aggregate(pipeline: Document[]): ArrayCursor {
    return {
      toArray: async () => {
        const ns = this.namespace;
        for (const stage of pipeline) {
          const op = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
          if (op && FORBIDDEN_STAGES.has(op))
            throw new DataError(
              `the aggregation stage ${op} is not allowed when a function runs as a user: rules cannot be applied to what it reads or writes; run the function as system`,
              ErrorCodes.NOT_SUPPORTED,
            );
        }
        const op = findKey(pipeline, FORBIDDEN_EXPRESSION_OPERATORS);
        if (op)
          throw new DataError(
            `the operator ${op} is not allowed when a function runs as a user; run the function as system`,
            ErrorCodes.NOT_SUPPORTED,
          );
        const f = await this.filters(ns);
        if (this.fullRead(ns) && !f.projection)
          return this.inner.aggregate(f.query ? [{ $match: f.query }, ...pipeline] : pipeline).toArray();
        const input = await this.readable({});
        try {
          return new (loadMingo().Aggregator)(pipeline, { scriptEnabled: false }).run<Document>(input);
        } catch (error) {
          throw badArgument((error as Error).message);
        }
      },
    };
  }

  async countDocuments(filter: Document, options: { skip?: number; limit?: number } = {}): Promise<number> {
    const ns = this.namespace;
    checkQuery(filter);
    const f = await this.filters(ns);
    if (this.fullRead(ns)) return this.inner.countDocuments(and(filter, f.query), options);
    return (await this.readable(filter, options)).length;
  }

  estimatedDocumentCount(): Promise<number> {
    return this.countDocuments({});
  }

  async distinct(key: string, filter: Document): Promise<unknown[]> {
    const ns = this.namespace;
    checkQuery(filter);
    const f = await this.filters(ns);
    if (this.fullRead(ns) && !f.projection) return this.inner.distinct(key, and(filter, f.query));
    return distinctValues(await this.readable(filter), key);
  }

  bulkWrite(operations: BulkOperation[], options: { ordered?: boolean } = {}): Promise<BulkWriteResult> {
    // Each operation is checked as if it were called alone.
    return runBulkWrite(this, operations, options.ordered !== false);
  }

  watch(pipeline: Document[] = [], options: ChangeStreamOptions = {}): BackendChangeStream {
    const ns = this.namespace;
    const stages = checkStreamPipeline(pipeline);
    const op = findKey(stages, FORBIDDEN_QUERY_OPERATORS) ?? findKey(stages, FORBIDDEN_EXPRESSION_OPERATORS);
    if (op)
      throw new DataError(
        `the operator ${op} is not allowed in a change stream's pipeline when a function runs as a user; run the function as system`,
        ErrorCodes.NOT_SUPPORTED,
      );
    const inner = this.inner.watch([], {
      ...(options.resumeAfter ? { resumeAfter: options.resumeAfter } : {}),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'whenAvailable',
    });
    let filters: Promise<{ query: Document | undefined; projection: Document | undefined }> | undefined;
    const judge = async (e: ChangeEvent): Promise<ChangeEvent | undefined> => {
      const f = await (filters ??= this.filters(ns));
      const view = async (doc: Document | null | undefined): Promise<Document | null> => {
        if (!doc) return null;
        if (f.query && !new (loadMingo().Query)(f.query, { scriptEnabled: false }).test(doc)) return null;
        let v = await this.readView(await this.roleFor(ns, doc), doc);
        if (v && f.projection) v = loadMingo().find([v], {}, f.projection).all()[0] ?? null;
        return v;
      };
      const after = e.operationType === 'delete' ? null : await view(e.fullDocument);
      const before = await view(e.fullDocumentBeforeChange);
      const seen = e.operationType === 'delete' || !e.fullDocument ? before : after;
      if (!seen) return undefined;
      const out: ChangeEvent = { ...e };
      if (after) out.fullDocument = after;
      else if (e.operationType === 'update' && e.fullDocument === null) out.fullDocument = null;
      else delete out.fullDocument;
      if (before) out.fullDocumentBeforeChange = before;
      else delete out.fullDocumentBeforeChange;
      if (e.updateDescription) {
        const top = (path: string) => path.split('.')[0]!;
        const updatedFields: Document = {};
        for (const [k, v] of Object.entries(e.updateDescription.updatedFields)) if (Object.hasOwn(seen, top(k))) updatedFields[k] = v;
        const removedIn = before ?? seen;
        out.updateDescription = {
          ...e.updateDescription,
          updatedFields,
          removedFields: e.updateDescription.removedFields.filter((k) => Object.hasOwn(removedIn, top(k))),
        };
      }
      if (e.operationType === 'update' && (options.fullDocument ?? 'default') === 'default') delete out.fullDocument;
      if ((options.fullDocumentBeforeChange ?? 'off') === 'off') delete out.fullDocumentBeforeChange;
      if (!stages.length) return out;
      try {
        return new (loadMingo().Aggregator)(stages, { scriptEnabled: false }).run<Document>([out])[0] as ChangeEvent | undefined;
      } catch (error) {
        throw badArgument(`watch: ${(error as Error).message}`);
      }
    };
    return {
      tryNext: async () => {
        for (let e = await inner.tryNext(); e; e = await inner.tryNext()) {
          const out = await judge(e);
          if (out) return out;
        }
        return null;
      },
      close: () => inner.close(),
      get resumeToken() {
        return inner.resumeToken;
      },
    };
  }
}
