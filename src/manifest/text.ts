// Reading the text files of an app: UTF-8, and a byte-order mark (which editors on Windows and
// App Services exports may write) is not part of the text.
import { readFileSync } from 'node:fs';

/** The text without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A file's UTF-8 text without its byte-order mark. */
export function readText(path: string): string {
  return stripBom(readFileSync(path, 'utf8'));
}

/** A JSON file's value; a byte-order mark is fine. Throws what JSON.parse throws. */
export function readJson(path: string): unknown {
  return JSON.parse(readText(path)) as unknown;
}
