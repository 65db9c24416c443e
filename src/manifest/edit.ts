// Format-preserving edits of functions/config.json. Each edit splices text at offsets taken from
// the parse tree and touches nothing else: the neighbours, indentation, line endings, key order,
// a BOM and a missing final newline stay as they were. Appending an entry and removing it again
// gives back the original bytes. (jsonc-parser's modify() reformats whole lines around an edit,
// so it is used here only for parsing.)
import type { Node } from 'jsonc-parser';
import { parseJsonFile, type JsonFile } from './json-file.js';

export interface Formatting {
  /** One level of indentation: spaces or a tab. */
  unit: string;
  eol: '\n' | '\r\n';
}

/** The indentation and line endings a file already uses (Atlas exports: 4 spaces). */
export function detectFormatting(text: string): Formatting {
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  const indented = /^([ \t]+)\S/m.exec(text);
  if (indented?.[1]?.startsWith('\t')) return { unit: '\t', eol };
  const size = indented?.[1]?.length;
  return { unit: ' '.repeat(size && size <= 8 ? size : 4), eol };
}

function arrayNode(file: JsonFile): Node {
  const tree = file.tree;
  if (!tree || tree.type !== 'array') throw new Error('the manifest is not an array');
  return tree;
}

/** The whitespace a node's line starts with, when the node is the first thing on its line. */
function lineIndent(text: string, offset: number): string | undefined {
  let i = offset;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  if (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') return undefined;
  return text.slice(i, offset);
}

/** An entry written the way its neighbour is: multi-line with its indentation, or on one line. */
function formatLike(entry: unknown, neighbour: Node | undefined, text: string, fmt: Formatting, indent: string): string {
  const sample = neighbour ? text.slice(neighbour.offset, neighbour.offset + neighbour.length) : '';
  if (neighbour && !/[\r\n]/.test(sample)) {
    const spaced = /^\{\s/.test(sample);
    const compact = JSON.stringify(entry);
    if (!spaced) return compact;
    const obj = entry as Record<string, unknown>;
    return `{ ${Object.keys(obj)
      .map((k) => `${JSON.stringify(k)}: ${JSON.stringify(obj[k])}`)
      .join(', ')} }`;
  }
  // The unit: how much deeper the neighbour's first key sits than the neighbour itself.
  let unit = fmt.unit;
  if (neighbour) {
    const inner = /\r?\n([ \t]*)\S/.exec(sample);
    if (inner?.[1] !== undefined && inner[1].length > indent.length && inner[1].startsWith(indent)) unit = inner[1].slice(indent.length);
  }
  return JSON.stringify(entry, null, unit)
    .split('\n')
    .join(fmt.eol + indent);
}

function splice(file: JsonFile, start: number, end: number, insert: string): string {
  const text = file.text.slice(0, start) + insert + file.text.slice(end);
  return file.bom ? '\uFEFF' + text : text;
}

/** Appends entries at the end of the array. The file must parse and be an array. */
export function appendEntries(file: JsonFile, entries: readonly Record<string, unknown>[]): string {
  const array = arrayNode(file);
  const text = file.text;
  const fmt = detectFormatting(text);
  const children = array.children ?? [];
  const last = children[children.length - 1];
  if (!entries.length) return splice(file, 0, 0, '');
  if (!last) {
    // An empty array: open it up, one entry per line, closing bracket at the array's own indent.
    const outer = lineIndent(text, array.offset) ?? '';
    const indent = outer + fmt.unit;
    const body = entries.map((e) => indent + formatLike(e, undefined, text, fmt, indent)).join(',' + fmt.eol);
    return splice(file, array.offset, array.offset + array.length, `[${fmt.eol}${body}${fmt.eol}${outer}]`);
  }
  const indent = lineIndent(text, last.offset);
  const end = last.offset + last.length;
  let separator: string;
  if (indent !== undefined) separator = ',' + fmt.eol + indent;
  else {
    // Entries on one line: reuse the separator already between two of them.
    const prev = children[children.length - 2];
    separator = prev ? text.slice(prev.offset + prev.length, last.offset) : ',';
    if (!separator.includes(',')) separator = ',';
  }
  const insert = entries.map((e) => separator + formatLike(e, last, text, fmt, indent ?? '')).join('');
  return splice(file, end, end, insert);
}

/** Removes the entry at `index`; the inverse of appending it. */
export function removeEntry(file: JsonFile, index: number): string {
  const array = arrayNode(file);
  const children = array.children ?? [];
  const node = children[index];
  if (!node) throw new Error(`there is no entry ${index}`);
  if (children.length === 1) return splice(file, array.offset, array.offset + array.length, '[]');
  if (index === children.length - 1) {
    const prev = children[index - 1]!;
    return splice(file, prev.offset + prev.length, node.offset + node.length, '');
  }
  return splice(file, node.offset, children[index + 1]!.offset, '');
}

/** Replaces the entry at `index` with `entry`, written the way the old one was. */
export function replaceEntry(file: JsonFile, index: number, entry: Record<string, unknown>): string {
  const array = arrayNode(file);
  const node = array.children?.[index];
  if (!node) throw new Error(`there is no entry ${index}`);
  const fmt = detectFormatting(file.text);
  const indent = lineIndent(file.text, node.offset) ?? '';
  return splice(file, node.offset, node.offset + node.length, formatLike(entry, node, file.text, fmt, indent));
}

/** The bytes of a file as they are to be written: its text with the BOM it had. */
export function fileBytes(file: JsonFile): string {
  return file.bom ? '\uFEFF' + file.text : file.text;
}

/** One edit of the manifest's array. */
export type EntryEdit =
  { remove: number } | { replace: number; entry: Record<string, unknown> } | { append: readonly Record<string, unknown>[] };

/** Applies one edit and parses the result again (once), keeping the BOM. */
export function applyEdit(file: JsonFile, edit: EntryEdit): JsonFile {
  const text =
    'remove' in edit
      ? removeEntry(file, edit.remove)
      : 'replace' in edit
        ? replaceEntry(file, edit.replace, edit.entry)
        : appendEntries(file, edit.append);
  return parseJsonFile(file.path, file.relPath, text);
}

/**
 * Makes the entries of `names` what `wanted` says, one by one in the file's own format: an entry
 * with no wanted value is removed, one that differs is replaced, a missing one is appended. What
 * push (--only) and pull do to bring one manifest's entries into another.
 */
export function syncEntries(
  file: JsonFile,
  names: Iterable<string>,
  wanted: (name: string) => Record<string, unknown> | undefined,
): { file: JsonFile; changed: boolean } {
  let changed = false;
  for (const name of names) {
    const at = Array.isArray(file.value) ? file.value.findIndex((e) => (e as { name?: unknown } | null)?.name === name) : -1;
    const entry = wanted(name);
    if (at >= 0) file = applyEdit(file, entry ? { replace: at, entry } : { remove: at });
    else if (entry) file = applyEdit(file, { append: [entry] });
    else continue;
    changed = true;
  }
  return { file, changed };
}
