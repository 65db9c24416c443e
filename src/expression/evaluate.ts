// Evaluator for the App Services JSON-expression language (`can_evaluate`).
//
// Decisions where the docs are silent (all fail closed):
// - `undefined` (a missing path) is never equal to anything, not even another missing path;
//   use `{ "$exists": false }` to test for absence.
// - `$in`/`$nin` whose list does not resolve to an array are both false.
// - `%%true`/`%%false` compare strictly: a `%function` must return exactly `true` (or `false`).
// - There is no BSON here: `%stringToOid`, `%oidToString`, `%stringToUuid`, `%uuidToString` and
//   `%oid` return their expanded argument unchanged.
// - `%%root`, `%%prevRoot`, `%%this`, `%%prev` and `%%partition` belong to data rules and
//   resolve to undefined in a function's can_evaluate; data rules pass `root` and `prevRoot`
//   (and the document as `args`, where a bare key means `%%root.<key>`).
// - A BSON value equals another of the same value; an ObjectId equals its 24-hex string (what
//   `%stringToOid` gives here).

import {
  CONVERSION_OPERATORS,
  FORBIDDEN_SEGMENTS,
  isExpansionRoot,
  isExpansionString,
  isOperatorObject,
  isPlainObject,
  keyKind,
  parseOperator,
} from './check.js';

export interface ExpressionEnv {
  user?: unknown;
  request?: unknown;
  values?: Record<string, unknown>;
  environment?: { tag?: string; values?: Record<string, unknown> };
  args?: Record<string, unknown>;
  /** The document of a data rule: %%root, and %%prevRoot (before a write). */
  root?: unknown;
  prevRoot?: unknown;
  callFunction?: (name: string, args: unknown[]) => Promise<unknown>;
}

type CallResult = { ok: true; value: unknown } | { ok: false };

export async function evaluateExpression(expr: unknown, env: ExpressionEnv): Promise<boolean> {
  if (typeof expr === 'boolean') return expr;
  if (!isPlainObject(expr)) {
    throw new Error(`An expression must be a boolean or an object, not ${typeName(expr)}`);
  }
  // Multiple keys are an AND; stop at the first false one.
  for (const [key, value] of Object.entries(expr)) {
    if (!(await evaluateField(key, value, env))) return false;
  }
  return true;
}

async function evaluateField(key: string, value: unknown, env: ExpressionEnv): Promise<boolean> {
  const kind = keyKind(key);
  if (kind === 'operator') return evaluateExpressionOperator(key, value, env);
  if (key === '%%true' || key === '%%false') {
    const result = await evaluateAssertion(value, env);
    return result.ok && result.value === (key === '%%true');
  }
  const left = kind === 'expansion' ? resolveExpansion(key, env) : resolvePath(env.args, key.split('.'));
  return matchOperand(left, value, env);
}

async function evaluateExpressionOperator(key: string, value: unknown, env: ExpressionEnv): Promise<boolean> {
  const op = parseOperator(key);
  if (op === 'and' || op === 'or') {
    const items = requireArray(key, value);
    for (const item of items) {
      const result = await evaluateExpression(item, env);
      if (op === 'and' && !result) return false;
      if (op === 'or' && result) return true;
    }
    return op === 'and';
  }
  if (op === 'function') {
    const result = await callFunction(value, env);
    return result.ok && result.value === true;
  }
  if (op === undefined) throw new Error(`App Services expressions have no operator ${key}`);
  throw new Error(`The operator ${key} must be applied to a field`);
}

/** The value `%%true`/`%%false` is compared with: an expression's result or a function's return. */
async function evaluateAssertion(value: unknown, env: ExpressionEnv): Promise<CallResult> {
  if (isExpansionString(value)) return { ok: true, value: resolveExpansion(value, env) };
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] !== undefined && parseOperator(keys[0]) === 'function') {
      return callFunction(value[keys[0]], env);
    }
    return { ok: true, value: await evaluateExpression(value, env) };
  }
  return { ok: true, value };
}

/** Match the resolved left side against a field's value: a literal, an expansion or operators. */
async function matchOperand(left: unknown, spec: unknown, env: ExpressionEnv): Promise<boolean> {
  if (!isPlainObject(spec) || !Object.keys(spec).some((k) => keyKind(k) === 'operator')) {
    return matchesEqual(left, expandValue(spec, env));
  }
  if (!isOperatorObject(spec)) {
    throw new Error(`A value mixes operators with field names: ${Object.keys(spec).join(', ')}`);
  }
  for (const [key, arg] of Object.entries(spec)) {
    if (!(await applyOperator(key, left, arg, env))) return false;
  }
  return true;
}

async function applyOperator(key: string, left: unknown, arg: unknown, env: ExpressionEnv): Promise<boolean> {
  const op = parseOperator(key);
  switch (op) {
    case undefined:
      throw new Error(`App Services expressions have no operator ${key}`);
    case 'exists': {
      const want = expandValue(arg, env);
      if (typeof want !== 'boolean') return false;
      return (left !== undefined) === want;
    }
    case 'in':
    case 'nin': {
      const list = expandValue(arg, env);
      if (!Array.isArray(list)) return false;
      const found = list.some((item) => matchesEqual(left, item));
      return op === 'in' ? found : !found;
    }
    case 'eq':
      return matchesEqual(left, expandValue(arg, env));
    case 'ne':
      return !matchesEqual(left, expandValue(arg, env));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compare(left, expandValue(arg, env), op);
    case 'and':
    case 'or': {
      const items = requireArray(key, arg);
      for (const item of items) {
        const result = await matchOperand(left, item, env);
        if (op === 'and' && !result) return false;
        if (op === 'or' && result) return true;
      }
      return op === 'and';
    }
    case 'function': {
      const result = await callFunction(arg, env);
      return result.ok && matchesEqual(left, result.value);
    }
    default:
      // EJSON conversions: no BSON types here, so the expanded argument is the converted value.
      return matchesEqual(left, expandValue(arg, env));
  }
}

function requireArray(key: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${key} expects an array, not ${typeName(value)}`);
  return value;
}

async function callFunction(spec: unknown, env: ExpressionEnv): Promise<CallResult> {
  if (!isPlainObject(spec) || typeof spec['name'] !== 'string' || spec['name'] === '') {
    throw new Error('%function expects an object { "name": "<function>", "arguments": [...] }');
  }
  const rawArgs = spec['arguments'] ?? [];
  if (!Array.isArray(rawArgs)) throw new Error('%function "arguments" must be an array');
  if (env.callFunction === undefined) return { ok: false };
  const args = rawArgs.map((a) => expandValue(a, env));
  try {
    return { ok: true, value: await env.callFunction(spec['name'], args) };
  } catch {
    // Documented: a function that throws makes the expression false.
    return { ok: false };
  }
}

/**
 * Resolve every `%%…` string inside a value (deeply). A single-key conversion object such as
 * `{ "%stringToOid": "%%user.id" }` becomes its expanded argument. Object keys are kept as-is.
 */
export function expandValue(value: unknown, env: ExpressionEnv): unknown {
  if (isExpansionString(value)) return resolveExpansion(value, env);
  if (Array.isArray(value)) return value.map((item) => expandValue(item, env));
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined) {
    const op = keyKind(only[0]) === 'operator' ? parseOperator(only[0]) : undefined;
    if (op !== undefined && CONVERSION_OPERATORS.has(op)) return expandValue(only[1], env);
  }
  // fromEntries defines own properties, so a "__proto__" key cannot replace the prototype.
  return Object.fromEntries(entries.map(([k, v]) => [k, expandValue(v, env)]));
}

function resolveExpansion(text: string, env: ExpressionEnv): unknown {
  const [root = '', ...rest] = text.slice(2).split('.');
  if (!isExpansionRoot(root)) throw new Error(`App Services has no expansion %%${root}`);
  switch (root) {
    case 'user':
      return resolvePath(env.user, rest);
    case 'request':
      return resolvePath(env.request, rest);
    case 'values':
      return resolvePath(env.values, rest);
    case 'environment':
      return resolvePath(env.environment, rest);
    case 'args':
      return resolvePath(env.args, rest);
    case 'root':
      return resolvePath(env.root, rest);
    case 'prevRoot':
      return resolvePath(env.prevRoot, rest);
    case 'true':
      return rest.length === 0 ? true : undefined;
    case 'false':
      return rest.length === 0 ? false : undefined;
    default:
      return undefined;
  }
}

/** Own-property lookups only, never through __proto__/constructor/prototype. */
function resolvePath(base: unknown, segments: readonly string[]): unknown {
  let current = base;
  for (const segment of segments) {
    if (FORBIDDEN_SEGMENTS.has(segment)) return undefined;
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Equality after expansion; an array on either side matches if it contains the other value. */
function matchesEqual(left: unknown, right: unknown): boolean {
  if (left === undefined || right === undefined) return false;
  if (deepEqual(left, right)) return true;
  if (Array.isArray(left)) return left.some((item) => deepEqual(item, right));
  // A value against an expanded array (`{"email": "%%user.custom_data.manages"}`): is it in it.
  return Array.isArray(right) && right.some((item) => deepEqual(left, item));
}

function bsonText(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || !('_bsontype' in v)) return undefined;
  const type = v._bsontype;
  return type === 'ObjectId' ? String(v) : `${String(type)}:${String(v)}`;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ba = bsonText(a);
  const bb = bsonText(b);
  if (ba !== undefined || bb !== undefined) {
    const oidString = (x: string | undefined, y: unknown) =>
      x !== undefined && typeof y === 'string' && /^[0-9a-f]{24}$/i.test(y) && x === y.toLowerCase();
    return (ba !== undefined && ba === bb) || oidString(ba, b) || oidString(bb, a);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  const aRecord = a as Record<string, unknown>;
  return aKeys.length === Object.keys(b).length && aKeys.every((k) => Object.hasOwn(b, k) && deepEqual(aRecord[k], bRecord[k]));
}

function compare(left: unknown, right: unknown, op: 'gt' | 'gte' | 'lt' | 'lte'): boolean {
  const pair = comparable(left, right);
  if (pair === undefined) return false;
  const [l, r] = pair;
  switch (op) {
    case 'gt':
      return l > r;
    case 'gte':
      return l >= r;
    case 'lt':
      return l < r;
    case 'lte':
      return l <= r;
  }
}

function comparable(left: unknown, right: unknown): [number, number] | [string, string] | undefined {
  if (typeof left === 'number' && typeof right === 'number') {
    return Number.isNaN(left) || Number.isNaN(right) ? undefined : [left, right];
  }
  if (typeof left === 'string' && typeof right === 'string') return [left, right];
  if (left instanceof Date && right instanceof Date) return [left.getTime(), right.getTime()];
  return undefined;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
