import { describe, expect, it } from 'vitest';
import { digestChanges, functionDigests, generatorVersion, hashTypeInputs, readHeaderHash } from '../../../src/typegen/hash.js';
import type { FunctionInput } from '../../../src/typegen/inputs.js';

const functions: FunctionInput[] = [
  { name: 'a', private: false, text: 'exports = function () { return 1; };\n' },
  { name: 'b/c', private: true, text: 'exports = function (x) { return x; };\n' },
];
const base = { generator: 'fn@1.0.0', module: '@base44/sdk', functions };

describe('hashTypeInputs', () => {
  it('is sha256 hex with a prefix, and the same for the same inputs', () => {
    const h = hashTypeInputs(base);
    expect(h).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashTypeInputs({ ...base, functions: functions.map((f) => ({ ...f })) })).toBe(h);
  });

  it('changes with every input that shapes the output', () => {
    const h = hashTypeInputs(base);
    const variants = [
      { ...base, generator: 'fn@1.0.1' },
      { ...base, module: '@acme/sdk' },
      { ...base, functions: [{ ...functions[0]!, private: true }, functions[1]!] },
      { ...base, functions: [{ ...functions[0]!, name: 'a2' }, functions[1]!] },
      { ...base, functions: [{ ...functions[0]!, text: functions[0]!.text + ' ' }, functions[1]!] },
      { ...base, functions: [{ ...functions[0]!, text: undefined }, functions[1]!] },
      { ...base, functions: [functions[0]!] },
    ];
    const hashes = new Set([h, ...variants.map(hashTypeInputs)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('cannot be fooled by moving text between fields', () => {
    const one = hashTypeInputs({
      ...base,
      functions: [
        { name: 'a', private: false, text: 'x' },
        { name: 'b', private: false, text: 'y' },
      ],
    });
    const two = hashTypeInputs({ ...base, functions: [{ name: 'a', private: false, text: 'x"],["b",false,"y' }] });
    expect(one).not.toBe(two);
  });
});

describe('readHeaderHash', () => {
  it('reads the hash line of a generated header, and nothing else', () => {
    const hash = 'sha256:' + '0f'.repeat(32);
    expect(readHeaderHash(`// header\n// fn-types-hash: ${hash}\nimport 'x';\n`)).toBe(hash);
    expect(readHeaderHash(`// header\nimport 'x';\n`)).toBeUndefined();
    expect(readHeaderHash(`// fn-types-hash: sha256:abc\n`)).toBeUndefined();
    expect(readHeaderHash(`// fn-types-hash: ${hash} \n`)).toBeUndefined();
  });
});

describe('generatorVersion', () => {
  it('names fn, ts-morph and the TypeScript ts-morph bundles, without loading them', () => {
    expect(generatorVersion()).toMatch(/^fn@\d+\.\d+\.\d+\S* ts-morph@\d+\.\d+\.\d+\S* @ts-morph\/common@\d+\.\d+\.\d+\S*$/);
  });
});

describe('functionDigests and digestChanges', () => {
  it('gives each function a digest of its privacy and text, and names what was added, removed or changed', () => {
    const before = functionDigests(functions);
    expect(Object.keys(before)).toEqual(['a', 'b/c']);
    expect(before.a).toMatch(/^[0-9a-f]{16}$/);
    expect(functionDigests(functions)).toEqual(before);
    const now = functionDigests([
      { ...functions[0]!, private: true },
      { name: 'd', private: false, text: 'x' },
    ]);
    expect(digestChanges(before, now)).toEqual({ added: ['d'], removed: ['b/c'], changed: ['a'] });
    expect(digestChanges(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });
});
