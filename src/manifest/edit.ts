// Format-preserving edits of functions/config.json: each edit changes only the entry it is about
// (jsonc-parser's modify + applyEdits) and keeps indentation, line endings, key order and a
// missing final newline as they were.
import { applyEdits, modify, type FormattingOptions } from 'jsonc-parser';
import type { JsonFile } from './json-file.js';

/** The indentation and line endings a file already uses (Atlas exports: 4 spaces). */
export function detectFormatting(text: string): FormattingOptions {
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  const indented = /^([ \t]+)\S/m.exec(text);
  if (indented?.[1]?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  const size = indented?.[1]?.length;
  return { insertSpaces: true, tabSize: size && size <= 8 ? size : 4, eol };
}

function withBom(file: JsonFile, text: string): string {
  return file.bom ? '\uFEFF' + text : text;
}

/** Appends entries at the end of the array. The file must parse and be an array. */
export function appendEntries(file: JsonFile, entries: readonly Record<string, unknown>[]): string {
  if (!Array.isArray(file.value)) throw new Error('the manifest is not an array');
  const formattingOptions = detectFormatting(file.text);
  let text = file.text;
  let length = file.value.length;
  for (const entry of entries) {
    text = applyEdits(text, modify(text, [length], entry, { isArrayInsertion: true, formattingOptions }));
    length++;
  }
  return withBom(file, text);
}

/** Removes the entry at `index`. */
export function removeEntry(file: JsonFile, index: number): string {
  const formattingOptions = detectFormatting(file.text);
  return withBom(file, applyEdits(file.text, modify(file.text, [index], undefined, { formattingOptions })));
}

/** Sets (or, with undefined, removes) one field of one entry. */
export function setEntryField(file: JsonFile, index: number, field: string, value: unknown): string {
  const formattingOptions = detectFormatting(file.text);
  return withBom(file, applyEdits(file.text, modify(file.text, [index, field], value, { formattingOptions })));
}
