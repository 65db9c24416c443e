// MongoDB's update language applied to one document, on mingo: what the embedded engine stores,
// and what the rules layer checks a write against before it is sent to any backend.
import { badArgument, DataError } from './errors.js';
import { loadBson, loadMingo } from './libs.js';
import type { Document } from './types.js';
import { cloneDoc, isPlainObject, sameValue } from './values.js';

const UPDATE_OPERATORS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
]);

export function isOperatorUpdate(update: unknown): boolean {
  return isPlainObject(update) && Object.keys(update).some((k) => k.startsWith('$'));
}

/** Throws unless `update` is an update document (operators only) or a pipeline. */
export function checkUpdate(update: unknown): asserts update is Document | Document[] {
  if (Array.isArray(update)) return;
  if (!isPlainObject(update))
    throw badArgument(`the update must be a document of update operators, not ${update === null ? 'null' : typeof update}`);
  for (const key of Object.keys(update)) {
    if (!key.startsWith('$'))
      throw badArgument(`the update document mixes update operators with the field "${key}"; use { $set: { ${key}: … } }`);
    if (!UPDATE_OPERATORS.has(key))
      throw badArgument(`Unknown modifier: ${key}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isPlainObject(update[key]))
      throw badArgument(
        `Modifiers operate on fields but we found type ${Array.isArray(update[key]) ? 'array' : typeof update[key]} instead: { ${key}: … } needs a document`,
      );
  }
}

export function checkReplacement(replacement: unknown): asserts replacement is Document {
  if (!isPlainObject(replacement))
    throw badArgument(`the replacement must be a document, not ${replacement === null ? 'null' : typeof replacement}`);
  const op = Object.keys(replacement).find((k) => k.startsWith('$'));
  if (op) throw badArgument(`the replacement document must not contain update operators (found ${op})`);
}

/** The document after `update` (operators or a pipeline); `before` is left as it was. */
export function applyUpdate(
  before: Document,
  update: Document | Document[],
  options: { arrayFilters?: Document[]; inserting?: boolean } = {},
): Document {
  checkUpdate(update);
  const mingo = loadMingo();
  let after: Document;
  if (Array.isArray(update)) {
    after = new mingo.Aggregator(update, { scriptEnabled: false }).run([cloneDoc(before)])[0] ?? {};
  } else {
    after = cloneDoc(before);
    const modifier: Document = {};
    for (const [op, spec] of Object.entries(update)) {
      if (op === '$setOnInsert') {
        if (options.inserting) modifier.$set = { ...(modifier.$set as Document | undefined), ...(spec as Document) };
      } else if (op === '$set') modifier.$set = { ...(modifier.$set as Document | undefined), ...(spec as Document) };
      else modifier[op] = spec;
    }
    if (Object.keys(modifier).length) {
      try {
        mingo.update(after, modifier, options.arrayFilters, undefined, { cloneMode: 'deep' });
      } catch (error) {
        throw badArgument((error as Error).message);
      }
    }
  }
  if (Object.hasOwn(before, '_id') && !sameValue(before._id, after._id)) {
    throw new DataError("Performing an update on the path '_id' would modify the immutable field '_id'", 66);
  }
  return after;
}

export function applyReplacement(before: Document, replacement: Document): Document {
  checkReplacement(replacement);
  if (Object.hasOwn(replacement, '_id') && Object.hasOwn(before, '_id') && !sameValue(before._id, replacement._id)) {
    throw new DataError("After applying the update, the (immutable) field '_id' was found to have been altered", 66);
  }
  const after: Document = Object.hasOwn(before, '_id') ? { _id: before._id } : {};
  for (const [k, v] of Object.entries(cloneDoc(replacement))) if (k !== '_id' || !Object.hasOwn(after, '_id')) after[k] = v;
  return after;
}

/** The document an upsert starts from: the equality conditions of its filter. */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  const take = (f: Document) => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) value.forEach((v) => isPlainObject(v) && take(v));
      if (key.startsWith('$')) continue;
      let v: unknown = value;
      if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
        if (Object.keys(value).length === 1 && Object.hasOwn(value, '$eq')) v = value.$eq;
        else continue;
      }
      setPath(seed, key, cloneDoc({ v }).v);
    }
  };
  take(filter);
  return seed;
}

/** The new document of an upsert that matched nothing. */
export function upsertDocument(
  filter: Document,
  update: Document | Document[] | undefined,
  replacement: Document | undefined,
  arrayFilters?: Document[],
): Document {
  let doc: Document;
  if (replacement) {
    doc = applyReplacement({}, replacement);
    const seed = upsertSeed(filter);
    if (!Object.hasOwn(doc, '_id') && Object.hasOwn(seed, '_id')) doc = { _id: seed._id, ...doc };
  } else doc = applyUpdate(upsertSeed(filter), update ?? {}, { arrayFilters, inserting: true });
  return withId(doc);
}

/** The document with an _id first: its own or a new ObjectId. */
export function withId(doc: Document): Document {
  if (Object.hasOwn(doc, '_id') && doc._id !== undefined) return doc;
  const { ObjectId } = loadBson();
  return { _id: new ObjectId(), ...doc };
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let at: Document = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (!isPlainObject(at[part])) at[part] = {};
    at = at[part] as Document;
  }
  at[parts[parts.length - 1]!] = value;
}
