// Static checker for the App Services JSON-expression language (`can_evaluate`).
// The vocabulary (operators, expansion roots, key kinds) is exported for evaluate.ts.

export interface ExpressionProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
  key?: boolean;
}

type Path = (string | number)[];

export type OperatorName =
  | 'exists'
  | 'in'
  | 'nin'
  | 'eq'
  | 'ne'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'and'
  | 'or'
  | 'function'
  | 'stringToOid'
  | 'oidToString'
  | 'stringToUuid'
  | 'uuidToString'
  | 'oid';

// Which prefixes each operator accepts. The docs say operators take either prefix; the
// function call and the EJSON conversions only ever appear with `%`.
const OPERATOR_PREFIXES: Record<OperatorName, readonly string[]> = {
  exists: ['$', '%'],
  in: ['$', '%'],
  nin: ['$', '%'],
  eq: ['$', '%'],
  ne: ['$', '%'],
  gt: ['$', '%'],
  gte: ['$', '%'],
  lt: ['$', '%'],
  lte: ['$', '%'],
  and: ['%', '$'],
  or: ['%', '$'],
  function: ['%'],
  stringToOid: ['%'],
  oidToString: ['%'],
  stringToUuid: ['%'],
  uuidToString: ['%'],
  oid: ['%'],
};

const OPERATOR_SPELLINGS: readonly string[] = Object.entries(OPERATOR_PREFIXES).flatMap(([name, prefixes]) =>
  prefixes.map((p) => p + name),
);

export const CONVERSION_OPERATORS: ReadonlySet<OperatorName> = new Set<OperatorName>([
  'stringToOid',
  'oidToString',
  'stringToUuid',
  'uuidToString',
  'oid',
]);

const COMPARISON_OPERATORS: ReadonlySet<OperatorName> = new Set<OperatorName>(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']);

export const EXPANSION_ROOTS = [
  'user',
  'request',
  'values',
  'environment',
  'args',
  'true',
  'false',
  'root',
  'prevRoot',
  'this',
  'prev',
  'partition',
] as const;
export type ExpansionRoot = (typeof EXPANSION_ROOTS)[number];

export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const USER_FIELDS = ['id', 'type', 'data', 'custom_data', 'identities'] as const;
const USER_LEAVES: ReadonlySet<string> = new Set(['id', 'type']);
const REQUEST_FIELDS = [
  'remoteIPAddress',
  'requestHeaders',
  'httpMethod',
  'httpReferrer',
  'httpUserAgent',
  'rawQueryString',
  'service',
  'action',
  'webhookUrl',
] as const;
const ENVIRONMENT_FIELDS = ['tag', 'values'] as const;

export type KeyKind = 'expansion' | 'operator' | 'field';

export function keyKind(key: string): KeyKind {
  if (key.startsWith('%%')) return 'expansion';
  if (key.startsWith('%') || key.startsWith('$')) return 'operator';
  return 'field';
}

export function isExpansionString(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('%%');
}

/** The operator a key names (`$in`, `%in` → `in`), or undefined if App Services has none. */
export function parseOperator(key: string): OperatorName | undefined {
  const prefix = key.charAt(0);
  const name = key.slice(1);
  if (!Object.hasOwn(OPERATOR_PREFIXES, name)) return undefined;
  const op = name as OperatorName;
  return OPERATOR_PREFIXES[op].includes(prefix) ? op : undefined;
}

export function isExpansionRoot(name: string): name is ExpansionRoot {
  return (EXPANSION_ROOTS as readonly string[]).includes(name);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An object whose keys are all operators (`$…`/`%…`): applied to the field it is the value of. */
export function isOperatorObject(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => keyKind(k) === 'operator');
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const max = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function problem(path: Path, message: string, hint?: string, key?: boolean): ExpressionProblem {
  const p: ExpressionProblem = { path, message };
  if (hint !== undefined) p.hint = hint;
  if (key === true) p.key = true;
  return p;
}

export function checkExpression(expr: unknown): ExpressionProblem[] {
  if (typeof expr === 'boolean') return [];
  if (!isPlainObject(expr)) {
    return [
      problem(
        [],
        `An expression must be a boolean or an object, not ${describe(expr)}`,
        'Use {} to allow every caller, or an object such as { "%%user.type": "server" }',
      ),
    ];
  }
  return checkExpressionObject(expr, []);
}

function checkNestedExpression(value: unknown, path: Path): ExpressionProblem[] {
  if (typeof value === 'boolean') return [];
  if (!isPlainObject(value)) {
    return [problem(path, `An expression must be a boolean or an object, not ${describe(value)}`)];
  }
  return checkExpressionObject(value, path);
}

function checkExpressionObject(obj: Record<string, unknown>, path: Path): ExpressionProblem[] {
  const out: ExpressionProblem[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const at = [...path, key];
    const kind = keyKind(key);
    if (kind === 'expansion') {
      out.push(...checkExpansion(key, at, true));
      if (key === '%%true' || key === '%%false') out.push(...checkAssertion(key, value, at));
      else out.push(...checkOperand(value, at));
    } else if (kind === 'operator') {
      out.push(...checkExpressionOperator(key, value, at));
    } else {
      if (key === '') out.push(problem(at, 'A field name must not be empty', undefined, true));
      out.push(...checkOperand(value, at));
    }
  }
  return out;
}

function unknownOperator(key: string, path: Path): ExpressionProblem {
  const suggestion = closest(key, OPERATOR_SPELLINGS);
  return problem(
    path,
    `App Services expressions have no operator ${key}`,
    suggestion === undefined ? undefined : `Did you mean ${suggestion}?`,
    true,
  );
}

/** An operator used as a key of an expression (no field to apply it to). */
function checkExpressionOperator(key: string, value: unknown, path: Path): ExpressionProblem[] {
  const op = parseOperator(key);
  if (op === undefined) return [unknownOperator(key, path), ...checkLiteral(value, path)];
  if (op === 'and' || op === 'or') return checkLogical(key, value, path, 'expression');
  if (op === 'function') return checkFunctionCall(value, path);
  return [
    problem(path, `${key} must be applied to a field, not used on its own`, `Write { "<field or expansion>": { "${key}": ... } }`, true),
  ];
}

/** The value of `%%true` / `%%false`: a nested expression, `%function`, boolean or expansion. */
function checkAssertion(key: string, value: unknown, path: Path): ExpressionProblem[] {
  if (typeof value === 'boolean') return [];
  if (isExpansionString(value)) return checkExpansion(value, path, false);
  if (isPlainObject(value)) return checkExpressionObject(value, path);
  return [
    problem(
      path,
      `${key} expects a nested expression, a %function call, a boolean or an expansion, not ${describe(value)}`,
      `For example { "${key}": { "%function": { "name": "isAllowed", "arguments": ["%%user.id"] } } }`,
    ),
  ];
}

/** The value of a field or expansion key: a literal, an expansion, or an operator object. */
function checkOperand(value: unknown, path: Path): ExpressionProblem[] {
  if (!isPlainObject(value)) return checkLiteral(value, path);
  const keys = Object.keys(value);
  const operators = keys.filter((k) => keyKind(k) === 'operator');
  if (operators.length === 0) return checkLiteral(value, path);
  const others = keys.filter((k) => keyKind(k) !== 'operator');
  if (others.length > 0) {
    return [
      problem(
        path,
        `The value mixes operators (${operators.join(', ')}) with field names (${others.join(', ')})`,
        'Use either an operator object such as { "$in": [...] } or a literal value, not both',
      ),
    ];
  }
  const out: ExpressionProblem[] = [];
  for (const key of operators) out.push(...checkOperator(key, value[key], [...path, key]));
  return out;
}

/** An operator applied to the value of the field it sits under. */
function checkOperator(key: string, arg: unknown, path: Path): ExpressionProblem[] {
  const op = parseOperator(key);
  if (op === undefined) return [unknownOperator(key, path), ...checkLiteral(arg, path)];
  if (op === 'exists') {
    if (typeof arg === 'boolean') return [];
    if (isExpansionString(arg)) return checkExpansion(arg, path, false);
    return [problem(path, `${key} expects true or false, not ${describe(arg)}`)];
  }
  if (op === 'in' || op === 'nin') {
    if (Array.isArray(arg)) return checkLiteral(arg, path);
    if (isExpansionString(arg)) return checkExpansion(arg, path, false);
    return [problem(path, `${key} expects an array or an expansion such as "%%values.<name>", not ${describe(arg)}`)];
  }
  if (COMPARISON_OPERATORS.has(op)) return checkLiteral(arg, path);
  if (op === 'and' || op === 'or') return checkLogical(key, arg, path, 'operand');
  if (op === 'function') return checkFunctionCall(arg, path);
  return checkConversionArgument(key, arg, path);
}

function checkLogical(key: string, arg: unknown, path: Path, context: 'expression' | 'operand'): ExpressionProblem[] {
  if (!Array.isArray(arg) || arg.length === 0) {
    const what = context === 'expression' ? 'expressions' : 'operator objects or values';
    return [problem(path, `${key} expects a non-empty array of ${what}, not ${describe(arg)}`)];
  }
  return arg.flatMap((item, i) =>
    context === 'expression' ? checkNestedExpression(item, [...path, i]) : checkOperand(item, [...path, i]),
  );
}

function checkFunctionCall(arg: unknown, path: Path): ExpressionProblem[] {
  if (!isPlainObject(arg)) {
    return [problem(path, `%function expects an object { "name": "<function>", "arguments": [...] }, not ${describe(arg)}`)];
  }
  const out: ExpressionProblem[] = [];
  const name = arg['name'];
  if (!Object.hasOwn(arg, 'name')) {
    out.push(problem(path, '%function needs a "name": the function to call'));
  } else if (typeof name !== 'string' || name === '') {
    out.push(problem([...path, 'name'], `%function "name" must be a non-empty string, not ${describe(name)}`));
  }
  if (Object.hasOwn(arg, 'arguments')) {
    const args = arg['arguments'];
    if (Array.isArray(args)) out.push(...checkLiteral(args, [...path, 'arguments']));
    else out.push(problem([...path, 'arguments'], `%function "arguments" must be an array, not ${describe(args)}`));
  }
  for (const key of Object.keys(arg)) {
    if (key !== 'name' && key !== 'arguments') {
      out.push(problem([...path, key], `%function takes only "name" and "arguments", not "${key}"`, undefined, true));
    }
  }
  return out;
}

// EJSON wrappers such as { "$oid": "…" } are literal data, not operators.
function isEjsonLiteral(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$') && parseOperator(k) === undefined);
}

function checkConversionArgument(key: string, arg: unknown, path: Path): ExpressionProblem[] {
  if (isExpansionString(arg)) return checkExpansion(arg, path, false);
  if (typeof arg === 'string') return [];
  if (isPlainObject(arg) && isEjsonLiteral(arg)) return [];
  return [
    problem(path, `${key} expects a literal string or an expansion, not ${describe(arg)}`, `${key} does not evaluate nested operators`),
  ];
}

/** A literal value: only expansion strings and conversion operators inside it are evaluated. */
function checkLiteral(value: unknown, path: Path): ExpressionProblem[] {
  if (isExpansionString(value)) return checkExpansion(value, path, false);
  if (Array.isArray(value)) return value.flatMap((item, i) => checkLiteral(item, [...path, i]));
  if (!isPlainObject(value)) return [];
  const keys = Object.keys(value);
  const out: ExpressionProblem[] = [];
  for (const key of keys) {
    const at = [...path, key];
    const kind = keyKind(key);
    const op = kind === 'operator' ? parseOperator(key) : undefined;
    if (op !== undefined && CONVERSION_OPERATORS.has(op) && keys.length === 1) {
      out.push(...checkConversionArgument(key, value[key], at));
      continue;
    }
    if (kind === 'expansion') {
      out.push(problem(at, `The expansion ${key} is not expanded as a key inside a value`, undefined, true));
    } else if (op !== undefined) {
      out.push(problem(at, `The operator ${key} is not evaluated inside a value; it would be compared literally`, undefined, true));
    } else if (kind === 'operator' && key.startsWith('%')) {
      out.push(unknownOperator(key, at));
    }
    out.push(...checkLiteral(value[key], at));
  }
  return out;
}

function checkExpansion(text: string, path: Path, key: boolean): ExpressionProblem[] {
  const segments = text.slice(2).split('.');
  const [root = '', ...rest] = segments;
  const fail = (message: string, hint?: string): ExpressionProblem[] => [problem(path, message, hint, key)];
  if (root === '') return fail(`${text} is not an expansion: "%%" must be followed by a name such as user`);
  if (!isExpansionRoot(root)) {
    const suggestion = closest(root, EXPANSION_ROOTS);
    return fail(
      `App Services has no expansion %%${root}`,
      suggestion === undefined
        ? `Known expansions: ${EXPANSION_ROOTS.map((r) => `%%${r}`).join(', ')}`
        : `Did you mean ${['%%' + suggestion, ...rest].join('.')}?`,
    );
  }
  if (rest.some((s) => s === '')) return fail(`${text} has an empty path segment`);
  const forbidden = rest.find((s) => FORBIDDEN_SEGMENTS.has(s));
  if (forbidden !== undefined) return fail(`${text} must not read "${forbidden}"`);
  const [first, ...deeper] = rest;
  if (first === undefined) {
    return root === 'values' ? fail('%%values needs a value name: %%values.<name>') : [];
  }
  switch (root) {
    case 'user':
      return checkUserPath(text, first, deeper, fail);
    case 'request':
      if (!(REQUEST_FIELDS as readonly string[]).includes(first)) {
        return fail(`%%request has no field ${first}`, fieldHint('%%request', first, REQUEST_FIELDS));
      }
      if (first !== 'requestHeaders' && deeper.length > 0) return fail(`%%request.${first} has no sub-fields`);
      return [];
    case 'environment':
      if (!(ENVIRONMENT_FIELDS as readonly string[]).includes(first)) {
        return fail(`%%environment has no field ${first}`, fieldHint('%%environment', first, ENVIRONMENT_FIELDS));
      }
      if (first === 'tag' && deeper.length > 0) return fail('%%environment.tag has no sub-fields');
      return [];
    case 'true':
    case 'false':
    case 'partition':
      return fail(`%%${root} has no sub-fields`);
    default:
      return [];
  }
}

function fieldHint(root: string, field: string, known: readonly string[]): string {
  const suggestion = closest(field, known);
  if (suggestion !== undefined) return `Did you mean ${root}.${suggestion}?`;
  return `Known fields: ${known.map((f) => `${root}.${f}`).join(', ')}`;
}

function checkUserPath(
  text: string,
  first: string,
  deeper: string[],
  fail: (message: string, hint?: string) => ExpressionProblem[],
): ExpressionProblem[] {
  if (!(USER_FIELDS as readonly string[]).includes(first)) {
    const suggestion = closest(first, USER_FIELDS);
    const tail = [first, ...deeper].join('.');
    return fail(
      `%%user has no field ${first}`,
      suggestion !== undefined
        ? `Did you mean %%user.${suggestion}?`
        : `Auth provider metadata is under %%user.data (try %%user.data.${tail}); app custom data is under %%user.custom_data`,
    );
  }
  if (USER_LEAVES.has(first) && deeper.length > 0) return fail(`${text}: %%user.${first} has no sub-fields`);
  return [];
}
