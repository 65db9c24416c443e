import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createInferrer, inferenceRuntime, type InferInput } from '../../../src/typegen/infer.js';
import { UNKNOWN_SIGNATURE, type FunctionSignature } from '../../../src/typegen/signature.js';

const runtime = readFileSync(new URL('../../../templates/base/types/fn-runtime.d.ts', import.meta.url), 'utf8');

/** One inferrer for the whole file, as --watch keeps one (also keeps the suite fast). */
const shared = createInferrer(runtime);
let counter = 0;
function infer(text: string): FunctionSignature {
  const name = `f${counter++}`;
  return shared.infer([{ name, text }]).get(name)!;
}

describe('signatures from JSDoc', () => {
  it('@param and @returns, destructured or not', () => {
    const s = infer(`/**
 * @param {{ items: { price: number, quantity?: number }[] }} args
 * @returns {{ total: number }}
 */
exports = function ({ items }) { return { total: items.length }; };`);
    expect(s).toEqual({
      params: [{ name: 'args', type: '{ items: { price: number; quantity?: number }[] }', optional: false, rest: false }],
      result: '{ total: number }',
      clientArgs: '{ items: { price: number; quantity?: number }[] }',
      clientResult: '{ total: number }',
    });
  });

  it('@typedef names are written out by structure', () => {
    const s = infer(`/** @typedef {{ sku: string, n: number }} Line */
/** @typedef {{ id: string, lines: Line[], status: 'open' | 'paid' }} Order */
/** @param {{ lines: Line[] }} args @returns {Promise<Order>} */
exports = async function (args) { return /** @type {any} */ (null); };`);
    expect(s.clientArgs).toBe('{ lines: { sku: string; n: number }[] }');
    expect(s.result).toBe('{ id: string; lines: { sku: string; n: number }[]; status: "open" | "paid" }');
  });

  it('optional and rest parameters; labels from the parameter names', () => {
    const s = infer(`/**
 * @param {string} event
 * @param {number} [level]
 * @param {...string} tags
 */
exports = function (event, level, ...tags) { return tags.length; };`);
    expect(s.params).toEqual([
      { name: 'event', type: 'string', optional: false, rest: false },
      { name: 'level', type: 'number', optional: true, rest: false },
      { name: 'tags', type: 'string[]', optional: false, rest: true },
    ]);
    // The first parameter is not an object: a client sends named parameters anyway.
    expect(s.clientArgs).toBe('Record<string, unknown>');
  });

  it('a required parameter after an optional one makes both required', () => {
    const s = infer(`/** @param {number} [a] @param {string} b */ exports = function (a, b) { return 1; };`);
    expect(s.params?.map((p) => p.optional)).toEqual([false, false]);
  });

  it('standard library types, records, tuples, readonly arrays', () => {
    const s = infer(`/**
 * @returns {{ when: Date, tags: Map<string, number>, rec: Record<string, boolean>, pair: [string, number?], list: readonly string[], re: RegExp }}
 */
exports = function () { return /** @type {any} */ ({}); };`);
    expect(s.result).toBe(
      '{ when: Date; tags: Map<string, number>; rec: { [key: string]: boolean }; pair: [string, number?]; list: readonly string[]; re: RegExp }',
    );
    // What a client receives is the JSON: a Date is a string, the others are not what they were.
    expect(s.clientResult).toBe(
      '{ when: string; tags: unknown; rec: { [key: string]: boolean }; pair: [string, number?]; list: readonly string[]; re: unknown }',
    );
  });

  it('unions are printed in a fixed order, null and undefined last', () => {
    const s = infer(`/** @returns {undefined | null | number | 'b' | 'a' | boolean | { z: 1 }} */ exports = function () { return null; };`);
    expect(s.result).toBe('"a" | "b" | boolean | number | { z: 1 } | null | undefined');
  });
});

describe('signatures inferred from the JavaScript', () => {
  it('a destructured parameter with a default, an async result with null', () => {
    const s = infer(`exports = async function ({ month, year = 2024 }) {
  if (!month) return null;
  return { month: String(month), year, rows: [{ day: 1 }] };
};`);
    expect(s.params).toEqual([{ name: 'args', type: '{ month: unknown; year?: number }', optional: false, rest: false }]);
    expect(s.clientArgs).toBe('{ month: unknown; year?: number }');
    expect(s.result).toBe('{ month: string; year: number; rows: { day: number }[] } | null');
  });

  it('the runtime globals have types: context.user', () => {
    const s = infer('exports = function () { return context.user.type; };');
    expect(s.result).toBe('"normal" | "server" | "system"');
  });

  it('any becomes unknown, and an any argument an open record', () => {
    const s = infer('exports = function (args) { const lib = require("lib"); return lib.run(args); };');
    expect(s.params).toEqual([{ name: 'args', type: 'unknown', optional: false, rest: false }]);
    expect(s.clientArgs).toBe('Record<string, unknown>');
    expect(s.result).toBe('unknown');
    expect(s.clientResult).toBe('unknown');
  });

  it('no parameter: execute takes none, a client may send anything', () => {
    expect(infer('exports = () => 1;')).toEqual({
      params: [],
      result: 'number',
      clientArgs: 'Record<string, unknown>',
      clientResult: 'number',
    });
  });

  it('a function assigned by name, and the last assignment wins', () => {
    expect(infer('function a() { return 1; }\nfunction b() { return "s"; }\nexports = a;\nexports = b;').result).toBe('string');
  });

  it('self-referencing types stop at the cycle with unknown', () => {
    const s = infer('class Node2 { constructor() { this.value = 1; this.next = this; } }\nexports = function () { return new Node2(); };');
    expect(s.result).toBe('{ value: number; next: unknown }');
    const typedef = infer(
      `/** @typedef {{ name: string, children: Tree[] }} Tree */\n/** @returns {Tree} */ exports = function () { return /** @type {any} */ (null); };`,
    );
    expect(typedef.result).toBe('{ name: string; children: unknown[] }');
  });

  it('functions inside results: unknown for execute, left out of JSON', () => {
    const s = infer('exports = function () { return { n: 1, f() { return 2; } }; };');
    expect(s.result).toBe('{ n: number; f: unknown }');
    expect(s.clientResult).toBe('{ n: number }');
  });

  it('never prints an import() or a name the reader cannot resolve', () => {
    const s = infer(
      'class Money { constructor() { this.cents = 0; } }\n/** @param {{ m: Money }} a */\nexports = function (a) { return { m: new Money(), p: Promise.resolve(1) }; };',
    );
    for (const text of [s.result, s.clientResult, s.clientArgs, ...(s.params ?? []).map((p) => p.type)]) {
      expect(text).not.toMatch(/import\(|Money/);
    }
    expect(s.result).toBe('{ m: { cents: number }; p: Promise<number> }');
  });
});

describe('what cannot be known', () => {
  it('no exports assignment, a value that is not a function, no source', () => {
    expect(infer('const x = 1;')).toEqual(UNKNOWN_SIGNATURE);
    expect(infer('exports = 42;')).toEqual(UNKNOWN_SIGNATURE);
    expect(shared.infer([{ name: 'missing', text: undefined }]).get('missing')).toEqual(UNKNOWN_SIGNATURE);
  });
});

describe('one project across runs', () => {
  const app: InferInput[] = [
    { name: 'a', text: '/** @param {{ x: number }} args */ exports = function (args) { return args.x; };' },
    { name: 'reports/b-c', text: 'exports = async () => ({ ok: true });' },
  ];

  it('looks again only at files whose text changed, and forgets removed ones', () => {
    const inferrer = createInferrer(runtime);
    const first = inferrer.infer(app);
    const again = inferrer.infer(app);
    expect(again.get('a')).toBe(first.get('a'));
    const edited = inferrer.infer([
      { name: 'a', text: app[0]!.text + '\n' },
      { name: 'reports/b-c', text: 'exports = async () => ({ ok: "yes" });' },
    ]);
    expect(edited.get('a')).not.toBe(first.get('a'));
    expect(edited.get('a')).toEqual(first.get('a'));
    expect(edited.get('reports/b-c')?.result).toBe('{ ok: string }');
    expect([...inferrer.infer([app[0]!]).keys()]).toEqual(['a']);
  });

  it('gives the same signatures as a fresh project, whatever came before', () => {
    const reused = createInferrer(runtime);
    reused.infer([{ name: 'other', text: 'exports = function () { return { z: [1, "a", null] }; };' }, ...app]);
    reused.infer([{ name: 'a', text: 'exports = function () { return 1; };' }]);
    const fresh = createInferrer(runtime).infer([...app].reverse());
    expect(reused.infer(app)).toEqual(fresh);
  });
});

describe('split over several projects (the worker pool)', () => {
  it('gives each function the signature one project gives it', () => {
    const functions: InferInput[] = Array.from({ length: 12 }, (_, i) => ({
      name: `group${i % 3}/f${i}`,
      text:
        i % 2
          ? `/** @param {{ n${i}: number }} a */ exports = function (a) { return [a.n${i}]; };`
          : `exports = async ({ s = "${i}" }) => ({ s, i: ${i} });`,
    }));
    const whole = createInferrer(runtime).infer(functions);
    const parts = [functions.filter((_, i) => i % 3 === 0), functions.filter((_, i) => i % 3 !== 0)];
    const split = new Map(parts.flatMap((part) => [...createInferrer(runtime).infer(part)]));
    for (const f of functions) expect(split.get(f.name)).toEqual(whole.get(f.name));
  });
});

describe('inferenceRuntime', () => {
  it('widens exports to any so that parameters are not typed by its declaration', () => {
    expect(runtime).toMatch(/^declare var exports:/m);
    const text = inferenceRuntime(runtime);
    expect(text).toContain('declare var exports: any;');
    expect(text).toContain('declare var context: FnContext;');
  });
});
