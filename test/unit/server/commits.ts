// Commits for the deployment store's tests (store.test.ts, store-contract.test.ts).
import { hashText } from '../../../src/manifest/hash.js';
import type { Commit } from '../../../src/server/store.js';

export const APP = 'shop';
export const src = (body: string) => `exports = function () { return ${JSON.stringify(body)}; };\n`;
export const MANIFEST_1 = '[\n  { "name": "a", "private": false },\n  { "name": "nested/b", "private": false }\n]\n';
export const MANIFEST_2 = '[\n  { "name": "a", "private": true },\n  { "name": "c", "private": false }\n]\n';

/** A commit that sets `sources` (name → text), sending every blob. */
export function change(expectedVersion: number | undefined, sources: Record<string, string>, extra: Partial<Commit> = {}): Commit {
  const set: Record<string, string> = {};
  const blobs: Record<string, string> = {};
  for (const [name, text] of Object.entries(sources)) {
    set[name] = hashText(text);
    blobs[hashText(text)] = text;
  }
  return { expectedVersion, manifest: MANIFEST_1, set, delete: [], blobs, summary: 'test', ...extra };
}
