// The data layer's heavy libraries, loaded on first use: a CLI path that never touches data
// (--help, --version, validate) loads none of them.
import { createRequire } from 'node:module';

type Bson = typeof import('bson');
type Mingo = typeof import('mingo');

const require = createRequire(import.meta.url);
let bson: Bson | undefined;
let mingo: Mingo | undefined;

export function loadBson(): Bson {
  return (bson ??= require('bson') as Bson);
}

export function loadMingo(): Mingo {
  return (mingo ??= require('mingo') as Mingo);
}

/** A short text of a value for messages: EJSON, relaxed. */
export function describeValue(value: unknown): string {
  try {
    return loadBson().EJSON.stringify(value, { relaxed: true }) ?? String(value);
  } catch {
    return String(value);
  }
}
