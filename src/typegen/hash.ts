// The hash in the generated file's header: sha256 over exactly what shapes the output — the
// generator's version, its options and every function's name, privacy and full source text.
// Pure and cheap: fn types --check compares it without loading TypeScript.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FunctionInput } from './inputs.js';

export interface HashInputs {
  generator: string;
  module: string;
  functions: readonly FunctionInput[];
}

export const HASH_PREFIX = '// fn-types-hash: ';
const HASH_LINE = /^\/\/ fn-types-hash: (sha256:[0-9a-f]{64})$/m;

/** `sha256:<hex>` of the inputs; each record is one JSON line, so no two inputs share a byte stream. */
export function hashTypeInputs(inputs: HashInputs): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ generator: inputs.generator, module: inputs.module }) + '\n');
  for (const f of inputs.functions) hash.update(JSON.stringify([f.name, f.private, f.text ?? null]) + '\n');
  return `sha256:${hash.digest('hex')}`;
}

export const DIGESTS_PREFIX = '// fn-types-functions: ';
const DIGESTS_LINE = /^\/\/ fn-types-functions: (\{.*\})$/m;

/** A short digest of each function's inputs (privacy and source), by name: what --check compares to name the changes. */
export function functionDigests(functions: readonly FunctionInput[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of functions)
    out[f.name] = createHash('sha256')
      .update(JSON.stringify([f.private, f.text ?? null]))
      .digest('hex')
      .slice(0, 16);
  return out;
}

/** The digests a generated file records (its last line), or undefined for a file without them. */
export function readDigests(text: string): Record<string, string> | undefined {
  const match = DIGESTS_LINE.exec(text.slice(-200_000));
  if (!match) return undefined;
  try {
    const value = JSON.parse(match[1]!) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/** What changed between the digests a file records and the current ones. */
export function digestChanges(
  before: Readonly<Record<string, string>>,
  now: Readonly<Record<string, string>>,
): { added: string[]; removed: string[]; changed: string[] } {
  const added = Object.keys(now).filter((n) => !Object.hasOwn(before, n));
  const removed = Object.keys(before).filter((n) => !Object.hasOwn(now, n));
  const changed = Object.keys(now).filter((n) => Object.hasOwn(before, n) && before[n] !== now[n]);
  const sort = (a: string[]) => a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return { added: sort(added), removed: sort(removed), changed: sort(changed) };
}

/** The hash recorded in a generated file's header, or undefined when there is none. */
export function readHeaderHash(text: string): string | undefined {
  return HASH_LINE.exec(text.slice(0, 1000))?.[1];
}

/**
 * The generator's version: fn's own and the TypeScript that infers the signatures (ts-morph and
 * the TypeScript it bundles), read from package.json files so that nothing heavy is loaded.
 */
export function generatorVersion(): string {
  const require = createRequire(import.meta.url);
  const versionOf = (pkgJson: string, from: NodeJS.Require = require): string => {
    try {
      return (JSON.parse(readFileSync(from.resolve(pkgJson), 'utf8')) as { version?: string }).version ?? '?';
    } catch {
      return '?';
    }
  };
  const fn = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  let common = '?';
  try {
    common = versionOf('@ts-morph/common/package.json', createRequire(require.resolve('ts-morph/package.json')));
  } catch {
    // ts-morph is not installed: generation will say so
  }
  return `fn@${fn} ts-morph@${versionOf('ts-morph/package.json')} @ts-morph/common@${common}`;
}
