// Request bodies: read with a size limit; JSON (empty = {}), multipart/form-data (files become
// File arguments, other parts strings) or urlencoded. Keys are defined as data, so a key named
// __proto__ stays a key and never changes a prototype.
import type { IncomingMessage } from 'node:http';
import type { FileArg } from '../runtime/types.js';

export class BodyError extends Error {
  constructor(readonly status: 400 | 413 | 415, readonly code: string, message: string) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  const existing = Object.hasOwn(target, key) ? target[key] : undefined;
  const next = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  Object.defineProperty(target, key, { value: next, enumerable: true, writable: true, configurable: true });
}

/** The named-parameters object of a call. */
export async function parseParams(body: Buffer, contentType: string | undefined): Promise<unknown> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data') {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentType! } }).formData();
    } catch (error) {
      throw new BodyError(400, 'BAD_REQUEST', `the multipart body cannot be read: ${(error as Error).message}`);
    }
    const params: Record<string, unknown> = {};
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') define(params, key, value);
      else {
        const file: FileArg = { __fnFile: true, name: (value as File).name ?? 'blob', type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
        define(params, key, file);
      }
    }
    return params;
  }
  // curl -d '{"a":1}' sends JSON labelled as a form: take it as the JSON it is.
  if (type === 'application/x-www-form-urlencoded' && !/^\s*[{[]/.test(body.toString('utf8', 0, 64))) {
    const params: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) define(params, key, value);
    return params;
  }
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return {};
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json') && type !== 'text/plain' && type !== 'application/x-www-form-urlencoded') {
    throw new BodyError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the parameters as application/json or multipart/form-data, not ${type}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BodyError(400, 'BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
