// Strict JSON with source positions (jsonc-parser's tree, with comments and trailing commas
// reported as errors). A UTF-8 BOM is accepted and kept out of offsets; CRLF is accepted.
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { LineIndex, type Position } from './positions.js';

export type JsonPath = (string | number)[];

export interface JsonFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the app root, with '/'. */
  relPath: string;
  /** The text without its BOM. */
  text: string;
  bom: boolean;
  eol: '\n' | '\r\n';
  tree: Node | undefined;
  /** The parsed value; undefined when the text is not JSON. */
  value: unknown;
  lines: LineIndex;
  syntaxErrors: JsonSyntaxError[];
}

export interface JsonSyntaxError extends Position {
  offset: number;
  message: string;
}

const MESSAGES: Partial<Record<string, string>> = {
  CommentNotPermitted: 'comments are not allowed in JSON',
  InvalidCommentToken: 'comments are not allowed in JSON',
  InvalidSymbol: 'unexpected character',
  ValueExpected: 'a value is expected here',
  PropertyNameExpected: 'a property name in double quotes is expected here',
  ColonExpected: "':' is expected here",
  CommaExpected: "',' is expected here",
  CloseBraceExpected: "'}' is expected here",
  CloseBracketExpected: "']' is expected here",
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  UnexpectedEndOfString: 'the string is not closed',
  UnexpectedEndOfComment: 'the comment is not closed',
  InvalidEscapeCharacter: 'invalid escape sequence in a string',
  InvalidCharacter: 'invalid character in a string (control characters must be escaped)',
  InvalidUnicode: 'invalid \\u escape in a string',
  UnexpectedEndOfNumber: 'the number is not complete',
};

export function parseJsonFile(path: string, relPath: string, raw: string): JsonFile {
  const bom = raw.charCodeAt(0) === 0xfeff;
  const text = bom ? raw.slice(1) : raw;
  const lines = new LineIndex(text);
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const syntaxErrors = describeErrors(text, errors).map((e) => ({ ...e, ...lines.position(e.offset) }));
  let value: unknown;
  if (syntaxErrors.length === 0) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      // jsonc-parser is more lenient than JSON.parse in a few corners (e.g. lone surrogates).
      syntaxErrors.push({ offset: 0, ...lines.position(0), message: (error as Error).message });
    }
  }
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  return { path, relPath, text, bom, eol, tree: syntaxErrors.length ? undefined : tree, value, lines, syntaxErrors };
}

function describeErrors(text: string, errors: ParseError[]): { offset: number; message: string }[] {
  if (text.trim() === '') return [{ offset: 0, message: 'the file is empty; a JSON value is expected' }];
  const out: { offset: number; message: string }[] = [];
  for (const e of errors) {
    const code = printParseErrorCode(e.error);
    // A ',' right before '}' or ']' is a trailing comma: point at the comma.
    if (code === 'ValueExpected' || code === 'PropertyNameExpected') {
      const closer = text[e.offset];
      if (closer === '}' || closer === ']') {
        let i = e.offset - 1;
        while (i >= 0 && /\s/.test(text[i]!)) i--;
        if (text[i] === ',') {
          out.push({ offset: i, message: 'trailing commas are not allowed in JSON' });
          continue;
        }
      }
    }
    out.push({ offset: e.offset, message: MESSAGES[code] ?? code });
  }
  // One mistake often makes the parser report several; keep the first at each offset.
  return out.filter((e, i) => out.findIndex((o) => o.offset === e.offset) === i);
}

/** Where a value (or, with key, its property name) stands; the file start when it is not there. */
export function locate(file: JsonFile, path: JsonPath, options: { key?: boolean } = {}): Position {
  if (!file.tree) return { line: 1, column: 1 };
  const node = findNodeAtLocation(file.tree, path);
  if (!node) return path.length ? locate(file, path.slice(0, -1)) : { line: 1, column: 1 };
  const target = options.key && node.parent?.type === 'property' ? (node.parent.children?.[0] ?? node) : node;
  return file.lines.position(target.offset);
}
