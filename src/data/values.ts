// Document values: copies that keep BSON types (structuredClone would turn an ObjectId into a
// plain object), and a key for _id values.
import type { Document } from './types.js';

/** A copy of a document: plain objects and arrays copied, Dates copied, BSON values shared (immutable). */
export function cloneValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (isDate(value)) return new Date(value.getTime()) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneValue((value as Record<string, unknown>)[key]);
  return out as T;
}

export function cloneDoc(doc: Document): Document {
  return cloneValue(doc);
}

/** A string that is equal for equal _id values (an ObjectId and its copy, 1 and 1.0). */
export function idKey(id: unknown): string {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${id}`;
  if (typeof id === 'object' && id !== null) {
    const type = (id as { _bsontype?: string })._bsontype;
    if (type === 'ObjectId') return `o${(id as { toHexString(): string }).toHexString()}`;
    if (isDate(id)) return `d${id.getTime()}`;
    if (type === 'Int32' || type === 'Double') return `n${(id as { valueOf(): number }).valueOf()}`;
    if (type === 'Long') return `n${(id as { toString(): string }).toString()}`;
  }
  return `j${stableText(id)}`;
}

function stableText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableText).join(',')}]`;
  if (isDate(value)) return `{"$date":${value.getTime()}}`;
  const type = (value as { _bsontype?: string })._bsontype;
  if (type) return `{"$${type}":${JSON.stringify(String(value))}}`;
  return `{${Object.keys(value)
    .map((k) => `${JSON.stringify(k)}:${stableText((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * A plain object of any realm: function code runs in vm contexts of its own, whose objects have
 * another Object.prototype. BSON values, Dates, RegExps and class instances are not plain.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return (proto === null || Object.getPrototypeOf(proto) === null) && !('_bsontype' in value);
}

export function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** The distinct values of a (dotted) field over documents, array elements counted one by one. */
export function distinctValues(docs: Document[], key: string): unknown[] {
  const seen = new Map<string, unknown>();
  const add = (v: unknown) => {
    if (v === undefined) return;
    if (!seen.has(idKey(v))) seen.set(idKey(v), v);
  };
  const path = key.split('.');
  const walk = (value: unknown, i: number) => {
    if (i === path.length) return Array.isArray(value) ? value.forEach(add) : add(value);
    if (Array.isArray(value)) return value.forEach((x) => walk(x, i));
    if (isPlainObject(value)) walk(value[path[i]!], i + 1);
  };
  for (const doc of docs) walk(doc, 0);
  return [...seen.values()].map(cloneValue);
}

/** Deep equality of document values, BSON-aware. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (isDate(a) || isDate(b)) return isDate(a) && isDate(b) && a.getTime() === b.getTime();
  if ('_bsontype' in a || '_bsontype' in b) return idKey(a) === idKey(b);
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Document)[k], (b as Document)[k]));
}
