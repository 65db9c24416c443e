import { describe, expect, it } from 'vitest';
import { appState, canonicalJson, diffStates, hashText, isEmptyPlan, planNames, type AppState } from '../../../src/manifest/hash.js';
import { manifestFromText } from '../../../src/manifest/load.js';
import type { SourceFile } from '../../../src/manifest/sources.js';

describe('hashText', () => {
  it('is the sha256 hex of the UTF-8 text (or the bytes)', () => {
    expect(hashText('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashText(new TextEncoder().encode('déjà'))).toBe(hashText('déjà'));
    expect(hashText('a\r\n')).not.toBe(hashText('a\n'));
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth, whatever the insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: 1, c: [{ z: 1, y: 2 }] } })).toBe('{"a":{"c":[{"y":2,"z":1}],"d":1},"b":1}');
    expect(canonicalJson({ name: 'x', private: true, can_evaluate: {} })).toBe(
      canonicalJson({ can_evaluate: {}, private: true, name: 'x' }),
    );
  });

  it('keeps array order and primitives as JSON.stringify does', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson(['b', 'a'])).not.toBe(canonicalJson(['a', 'b']));
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson({ u: undefined, n: null })).toBe('{"n":null}');
  });

  it('keeps an own "__proto__" key (parsed from JSON) as data', () => {
    const parsed = JSON.parse('{"b": 1, "__proto__": {"x": 1}}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1},"b":1}');
  });

  it('tells different values apart', () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ a: { b: 1 } })).not.toBe(canonicalJson({ 'a.b': 1 }));
  });
});

describe('appState', () => {
  it('is the source hash and canonical manifest entry of every source; null for a source without an entry', () => {
    const names = ['a', 'nested/b', 'noEntry'];
    const sources = new Map<string, SourceFile>(names.map((n) => [n, { name: n, path: '', relPath: `${n}.js` }]));
    const manifest = manifestFromText(
      '[\n  { "private": false, "name": "a" },\n  { "name": "nested/b", "private": true },\n  { "name": "ghost", "private": false }\n]\n',
      sources,
    );
    const state = appState(manifest, (n) => `source of ${n}`);
    expect(state).toEqual({
      a: { hash: hashText('source of a'), entry: '{"name":"a","private":false}' },
      'nested/b': { hash: hashText('source of nested/b'), entry: '{"name":"nested/b","private":true}' },
      noEntry: { hash: hashText('source of noEntry'), entry: null },
    });
  });
});

const s = (hash: string, entry: string | null = null) => ({ hash, entry });

describe('diffStates', () => {
  const from: AppState = { keep: s('1'), src: s('2', 'e'), entry: s('3', 'e'), both: s('4', 'e'), gone: s('5') };
  const to: AppState = { keep: s('1'), src: s('2b', 'e'), entry: s('3', 'e2'), both: s('4b', 'e2'), added: s('6') };

  it('finds the added, changed (source, entry, or both) and deleted functions, and counts the unchanged', () => {
    expect(diffStates(from, to)).toEqual({
      added: ['added'],
      changed: [
        { name: 'both', source: true, entry: true },
        { name: 'entry', source: false, entry: true },
        { name: 'src', source: true, entry: false },
      ],
      deleted: ['gone'],
      unchanged: 1,
    });
  });

  it('with `only`, plans those names alone and counts the others that exist as unchanged', () => {
    expect(diffStates(from, to, new Set(['src']))).toEqual({
      added: [],
      changed: [{ name: 'src', source: true, entry: false }],
      deleted: [],
      unchanged: 4,
    });
    expect(diffStates(from, to, new Set(['added', 'gone']))).toEqual({ added: ['added'], changed: [], deleted: ['gone'], unchanged: 4 });
    expect(diffStates(from, to, new Set(['keep']))).toEqual({ added: [], changed: [], deleted: [], unchanged: 5 });
    expect(diffStates(from, to, new Set())).toEqual({ added: [], changed: [], deleted: [], unchanged: 5 });
  });

  it('an entry going from none to some (or back) is an entry change', () => {
    expect(diffStates({ f: s('1', null) }, { f: s('1', '{"name":"f"}') }).changed).toEqual([{ name: 'f', source: false, entry: true }]);
    expect(diffStates({ f: s('1', '{"name":"f"}') }, { f: s('1', null) }).changed).toEqual([{ name: 'f', source: false, entry: true }]);
  });

  it('is empty between equal states, and the reverse of a diff swaps added and deleted', () => {
    const same = diffStates(to, { ...to });
    expect(isEmptyPlan(same)).toBe(true);
    expect(same.unchanged).toBe(5);
    const back = diffStates(to, from);
    expect([back.added, back.deleted]).toEqual([['gone'], ['added']]);
    expect(isEmptyPlan(back)).toBe(false);
  });

  it('treats names like Object.prototype members as plain names', () => {
    expect(diffStates({}, { constructor: s('1'), toString: s('2') }).added).toEqual(['constructor', 'toString']);
    expect(diffStates({ hasOwnProperty: s('1') }, {}).deleted).toEqual(['hasOwnProperty']);
  });

  it('sorts names by code unit (nested names among the others)', () => {
    const plan = diffStates({}, { b: s('1'), 'a/z': s('2'), A: s('3'), a: s('4') });
    expect(plan.added).toEqual(['A', 'a', 'a/z', 'b']);
  });
});

describe('planNames', () => {
  it('is every name a plan touches, sorted', () => {
    expect(planNames({ added: ['z'], changed: [{ name: 'm', source: true, entry: false }], deleted: ['a'], unchanged: 3 })).toEqual([
      'a',
      'm',
      'z',
    ]);
    expect(planNames({ added: [], changed: [], deleted: [], unchanged: 0 })).toEqual([]);
  });
});
