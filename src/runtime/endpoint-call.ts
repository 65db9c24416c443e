// An HTTPS endpoint's call inside a worker: App Services' `request` (query, headers as arrays of
// strings, body as a BSON.Binary of the raw bytes or undefined) and `response` (setStatusCode,
// setBody, setHeader, addHeader), and the answer made of them and of the return value:
//   respond_result false: 204, no body, whatever the function did;
//   else the status set (200 by default), the headers set, and the body set, or else the return
//   value as JSON or canonical EJSON (a webhook that touched `response` gets no such fallback).
import { loadBson } from './atlas.js';
import type { CallResult, EndpointCall, HttpInfo } from './types.js';

export interface EndpointRun {
  /** The function's arguments: (request, response); a webhook's first is its payload, of the same shape. */
  args: [Record<string, unknown>, Record<string, unknown>];
  /** The answer, once the function returned `value` (throws when the value cannot be a body). */
  result(value: unknown): CallResult;
}

/** Content-Type → Content-Type, x-custom-thing → X-Custom-Thing, as App Services shows header names. */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const NO_BYTES = new Uint8Array(0);

export function startEndpointCall(call: EndpointCall, http: HttpInfo): EndpointRun {
  const { Binary, EJSON } = loadBson();
  const headers: Record<string, string[]> = {};
  const raw = http.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderName(raw[i]!);
    if (Object.hasOwn(headers, name)) headers[name]!.push(raw[i + 1]!);
    else define(headers, name, [raw[i + 1]!]);
  }
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.query)) define(query, k, v);
  const request: Record<string, unknown> = { query, headers, body: call.body ? new Binary(call.body) : undefined };

  let status: number | undefined;
  let body: Uint8Array | undefined;
  const set: [string, string][] = [];
  let touched = false;
  const bytesOf = (value: unknown): Uint8Array => {
    if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'utf8'));
    if (value instanceof Binary) return new Uint8Array(value.buffer.subarray(0, value.position));
    if (value instanceof Uint8Array) return new Uint8Array(value);
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    // Not a string or bytes (App Services' own docs pass an ObjectId): its EJSON text.
    return new Uint8Array(Buffer.from(EJSON.stringify(value, { relaxed: true }), 'utf8'));
  };
  const headerName = (name: unknown, method: string): string => {
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new TypeError(`response.${method}: ${JSON.stringify(name)} is not a header name`);
    return name.toLowerCase();
  };
  const headerValue = (value: unknown, method: string): string => {
    const text = String(value);
    if (/[\r\n\0]/.test(text)) throw new TypeError(`response.${method}: a header value may not hold a line break or NUL`);
    return text;
  };
  const response = {
    setStatusCode(code: unknown): void {
      if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599)
        throw new TypeError(`response.setStatusCode: ${JSON.stringify(code)} is not an HTTP status (a whole number from 100 to 599)`);
      touched = true;
      status = code;
    },
    setBody(value: unknown): void {
      touched = true;
      body = value === undefined || value === null ? NO_BYTES : bytesOf(value);
    },
    setHeader(name: unknown, value: unknown): void {
      const key = headerName(name, 'setHeader');
      const text = headerValue(value, 'setHeader');
      touched = true;
      for (let i = set.length - 1; i >= 0; i--) if (set[i]![0] === key) set.splice(i, 1);
      set.push([key, text]);
    },
    addHeader(name: unknown, value: unknown): void {
      const key = headerName(name, 'addHeader');
      const text = headerValue(value, 'addHeader');
      touched = true;
      set.push([key, text]);
    },
  };

  return {
    args: [request, response],
    result(value: unknown): CallResult {
      if (!call.respondResult) return { kind: 'response', status: 204, headers: [], body: NO_BYTES };
      const headers = set.slice();
      let out = body;
      if (out === undefined && !(call.webhook && touched) && value !== undefined) {
        let text: string | undefined;
        try {
          text = call.format === 'EJSON' ? EJSON.stringify(value, { relaxed: false }) : JSON.stringify(value);
        } catch (error) {
          throw new Error(`the result cannot be sent as ${call.format}: ${(error as Error).message}`);
        }
        if (text !== undefined) {
          out = new Uint8Array(Buffer.from(text, 'utf8'));
          if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/json']);
        }
      }
      return { kind: 'response', status: status ?? 200, headers, body: out ?? NO_BYTES };
    },
  };
}
