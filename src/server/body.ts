// Request bodies: read with a size limit; JSON (empty = {}), multipart/form-data (files become
// File arguments, other parts strings) or urlencoded. Keys are defined as data, so a key named
// __proto__ stays a key and never changes a prototype.
import type { IncomingMessage } from 'node:http';
import type { FileArg } from '../runtime/types.js';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The first value of a header (name in lower case), as req.headers gives it for the headers that
 * take one value, without building req.headers: the call route reads four headers per call.
 */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && (key === name || key.toLowerCase() === name)) return raw[i + 1];
  }
  return undefined;
}

/**
 * The whole body, or a 413 as soon as it is known to pass `limit` (from content-length, or
 * counting). The rest is read and dropped (up to 4× the limit), so a client still uploading
 * receives the answer instead of a broken pipe.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => onBody(req, limit, (error, body) => (error ? reject(error) : resolve(body!))));
}

/** readBody for the call route: `done` is called once, with the error or the body. */
export function onBody(req: IncomingMessage, limit: number, done: (error: Error | undefined, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  /** Over the limit: what comes is counted and dropped. */
  let over = false;
  let called = false;
  const finish = (error: Error | undefined, body?: Buffer) => {
    if (called) return;
    called = true;
    done(error, body);
  };
  const overflow = () => {
    if (over) return;
    over = true;
    chunks.length = 0;
    finish(new BodyError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`));
  };
  const declared = headerOf(req, 'content-length');
  if (declared !== undefined && Number(declared) > limit) overflow();
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) overflow();
    if (!over) chunks.push(chunk);
    else if (size > limit * 4) req.destroy();
  });
  req.on('end', () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  req.on('error', (error) => finish(error));
}

/** How deeply a JSON body may nest arrays and objects. */
export const MAX_BODY_DEPTH = 64;
/** How many values (and form fields) a body may hold: parsing cost is bounded by count as well as bytes. */
export const MAX_BODY_VALUES = 1_000_000;

/**
 * Refuses, before JSON.parse, a JSON text nested deeper than MAX_BODY_DEPTH or holding more than
 * MAX_BODY_VALUES values (counted as containers plus separators, an upper bound). One pass over
 * the text, skipping strings: a 10 KB body of nested arrays can no longer overflow a stack later,
 * and a body of millions of tiny values no longer costs a worker its heap.
 */
export function checkJsonShape(text: string): void {
  let depth = 0;
  let values = 1;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, over escapes.
      for (i++; i < length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_BODY_DEPTH)
        throw new BodyError(400, 'BODY_TOO_DEEP', `the body nests arrays and objects deeper than ${MAX_BODY_DEPTH} levels`);
      values++;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c && ++values > MAX_BODY_VALUES)
      throw new BodyError(413, 'BODY_TOO_MANY_VALUES', `the body holds more than ${MAX_BODY_VALUES} values`);
  }
}

/**
 * Adds a form field; a repeated name gathers its values in an array, in order. Arrays made here
 * are kept in `gathered` and grow in place, so n repeats cost O(n), not O(n²).
 */
function define(target: Record<string, unknown>, key: string, value: unknown, gathered: Set<unknown[]>): void {
  const existing = Object.hasOwn(target, key) ? target[key] : undefined;
  if (existing === undefined)
    return void Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  if (Array.isArray(existing) && gathered.has(existing)) return void existing.push(value);
  const list = [existing, value];
  gathered.add(list);
  Object.defineProperty(target, key, { value: list, enumerable: true, writable: true, configurable: true });
}

function tooManyFields(): BodyError {
  return new BodyError(413, 'BODY_TOO_MANY_VALUES', `the body holds more than ${MAX_BODY_VALUES} values`);
}

/** The files of a body without any (shared: nothing adds to it). */
export const NO_FILES: Readonly<Record<string, FileArg>> = Object.freeze({});

export interface Params {
  /** The named parameters. */
  params: unknown;
  /** File parts of a multipart body, by parameter name; kept apart so JSON can never forge one. */
  files: Readonly<Record<string, FileArg>>;
}

/**
 * The named-parameters object of a call, and its files. Only a multipart body is read
 * asynchronously; anything else is answered (or refused, by throwing) at once.
 */
export function parseParams(body: Buffer, contentType: string | undefined): Params | Promise<Params> {
  const type =
    contentType === undefined ? '' : contentType === 'application/json' ? contentType : contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data') return parseMultipart(body, contentType!);
  // curl -d '{"a":1}' sends JSON labelled as a form: take it as the JSON it is.
  if (type === 'application/x-www-form-urlencoded' && !/^\s*[{[]/.test(body.toString('utf8', 0, 64))) {
    const params: Record<string, unknown> = {};
    const gathered = new Set<unknown[]>();
    let count = 0;
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
      if (++count > MAX_BODY_VALUES) throw tooManyFields();
      define(params, key, value, gathered);
    }
    return { params, files: NO_FILES };
  }
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.charCodeAt(0);
  // Blank (or empty) is {}; a body that starts with a printable ASCII character is not blank.
  if (!(first > 32 && first < 127) && text.trim() === '') return { params: {}, files: NO_FILES };
  if (
    type !== '' &&
    type !== 'application/json' &&
    !type.endsWith('+json') &&
    type !== 'text/plain' &&
    type !== 'application/x-www-form-urlencoded'
  ) {
    throw new BodyError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the parameters as application/json or multipart/form-data, not ${type}`);
  }
  checkJsonShape(text);
  try {
    return { params: JSON.parse(text) as unknown, files: NO_FILES };
  } catch (error) {
    throw new BodyError(400, 'BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

async function parseMultipart(body: Buffer, contentType: string): Promise<Params> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new BodyError(400, 'BAD_REQUEST', `the multipart body cannot be read: ${(error as Error).message}`);
  }
  const params: Record<string, unknown> = {};
  const files: Record<string, FileArg> = {};
  const gathered = new Set<unknown[]>();
  let count = 0;
  for (const [key, value] of form.entries()) {
    if (++count > MAX_BODY_VALUES) throw tooManyFields();
    if (typeof value === 'string') define(params, key, value, gathered);
    else
      Object.defineProperty(files, key, {
        value: { name: (value as File).name ?? 'blob', type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) },
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return { params, files: Object.keys(files).length ? files : NO_FILES };
}
