// Shared by the edit tests: append { name: "x" } to a manifest, then remove it again, and split the
// appended text into what stood before the insertion point, the inserted text, and the tail.
import { appendEntries, removeEntry } from '../../../src/manifest/edit.js';
import { parseJsonFile, type JsonFile } from '../../../src/manifest/json-file.js';

export const parseManifest = (raw: string): JsonFile => parseJsonFile('/app/functions/config.json', 'functions/config.json', raw);

export interface RoundTrip {
  /** The file text (BOM included) after appending. */
  appended: string;
  /** After removing the appended entry again. */
  restored: string;
  /** Offset in the original text (BOM excluded) where the new entry belongs: after the last entry, or after '['. */
  insertAt: number;
  /** The original text without BOM, for comparisons with insertAt. */
  text: string;
}

export function roundTrip(raw: string, entry: Record<string, unknown> = { name: 'x' }): RoundTrip {
  const file = parseManifest(raw);
  if (!file.tree || !Array.isArray(file.value)) throw new Error('not a JSON array');
  const last = file.tree.children?.at(-1);
  const insertAt = last ? last.offset + last.length : file.tree.offset + 1;
  const appended = appendEntries(file, [entry]);
  const restored = removeEntry(parseManifest(appended), file.value.length);
  return { appended, restored, insertAt, text: file.text };
}

/**
 * Splits the appended text (BOM stripped) around the insertion: head = original text before
 * insertAt, tail = original text after it. Throws with a readable message when the append changed
 * anything but the insertion point.
 */
export function insertedText(rt: RoundTrip): string {
  const appended = rt.appended.replace(/^\uFEFF/, '');
  const head = rt.text.slice(0, rt.insertAt);
  const tail = rt.text.slice(rt.insertAt);
  if (!appended.startsWith(head))
    throw new Error(
      `text before the insertion point changed:\n${JSON.stringify(head.slice(-80))}\nbecame\n${JSON.stringify(appended.slice(0, head.length).slice(-80))}`,
    );
  if (!appended.endsWith(tail))
    throw new Error(
      `the tail after the insertion changed:\n${JSON.stringify(tail.slice(0, 80))}\nbecame\n${JSON.stringify(appended.slice(appended.length - tail.length).slice(0, 80))}`,
    );
  return appended.slice(head.length, appended.length - tail.length);
}
