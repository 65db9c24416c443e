import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyError, headerOf, MAX_BODY_DEPTH, MAX_BODY_VALUES, parseParams as parseBody, readBody } from '../../../src/server/body.js';
import type { FileArg } from '../../../src/runtime/types.js';

/** The named parameters of a body (its file parts are checked through parseBody). */
const parseParams = async (body: Buffer, type: string | undefined) => (await parseBody(body, type)).params;
const json = (text: string, type = 'application/json') => parseParams(Buffer.from(text), type);

/** The bytes and content type a real FormData is sent with. */
async function encodeForm(form: FormData): Promise<{ body: Buffer; type: string }> {
  const response = new Response(form);
  return { body: Buffer.from(await response.arrayBuffer()), type: response.headers.get('content-type')! };
}

async function bodyError(promise: Promise<unknown>): Promise<BodyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BodyError);
    return error as BodyError;
  }
  throw new Error('expected a BodyError');
}

describe('parseParams', () => {
  it('gives {} for an empty or blank body, whatever the content type', async () => {
    expect(await parseParams(Buffer.alloc(0), undefined)).toEqual({});
    expect(await parseParams(Buffer.alloc(0), 'application/json')).toEqual({});
    expect(await json(' \n\t ')).toEqual({});
    expect(await parseParams(Buffer.alloc(0), 'application/x-www-form-urlencoded')).toEqual({});
    expect(await json('\uFEFF')).toEqual({});
    expect(await json('\u00a0\u2003')).toEqual({});
    expect(await json('\uFEFF {"a":1}')).toEqual({ a: 1 });
  });

  it('parses JSON: objects, and the arrays and null the SDK can send', async () => {
    expect(await json('{"items":["a"],"qty":2,"nested":{"a":null}}')).toEqual({ items: ['a'], qty: 2, nested: { a: null } });
    expect(await json('[1,2,3]')).toEqual([1, 2, 3]);
    expect(await json('null')).toBeNull();
    expect(await json('{"a":1}', 'application/json; charset=utf-8')).toEqual({ a: 1 });
    expect(await json('{"a":1}', 'application/vnd.api+json')).toEqual({ a: 1 });
    expect(await json('{"a":1}', 'text/plain')).toEqual({ a: 1 });
    expect(await parseParams(Buffer.from('{"a":1}'), undefined)).toEqual({ a: 1 });
    expect(await json('\uFEFF{"bom":true}')).toEqual({ bom: true });
  });

  it('throws BodyError 400 BAD_REQUEST for a body that is not JSON', async () => {
    for (const text of ['{"a":', 'undefined', "{'a':1}", 'a=1']) {
      const error = await bodyError(json(text));
      expect(error.status).toBe(400);
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/not valid JSON/);
    }
  });

  it('throws BodyError 415 for a content type it cannot read', async () => {
    const error = await bodyError(json('<a/>', 'application/xml'));
    expect(error.status).toBe(415);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('reads multipart: file parts kept apart as file arguments (name, type, bytes), other parts strings, repeated keys arrays', async () => {
    const form = new FormData();
    form.append('doc', new File(['hello file content'], 'note.txt', { type: 'text/plain' }));
    form.append('bin', new File([new Uint8Array([0, 1, 2, 255])], 'b.bin', { type: 'application/octet-stream' }));
    form.append('filter', 'grayscale');
    form.append('quality', '80');
    form.append('tag', 'a');
    form.append('tag', 'b');
    const { body, type } = await encodeForm(form);
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const { params: p, files } = await parseBody(body, type);
    const params = p as Record<string, unknown>;
    expect(Object.keys(params)).toEqual(['filter', 'quality', 'tag']);
    expect(Object.keys(files)).toEqual(['doc', 'bin']);
    const doc = files.doc as FileArg;
    expect(doc).toMatchObject({ name: 'note.txt', type: 'text/plain' });
    expect(Buffer.from(doc.bytes).toString('utf8')).toBe('hello file content');
    expect([...files.bin!.bytes]).toEqual([0, 1, 2, 255]);
    expect(params.filter).toBe('grayscale');
    expect(params.quality).toBe('80');
    expect(params.tag).toEqual(['a', 'b']);
  });

  it('throws BodyError 400 for a multipart body that does not parse', async () => {
    const error = await bodyError(parseParams(Buffer.from('not multipart at all'), 'multipart/form-data; boundary=xyz'));
    expect(error.status).toBe(400);
  });

  it('reads urlencoded bodies as strings, repeated keys as arrays', async () => {
    const params = await parseParams(Buffer.from('a=1&b=two+words&c=%F0%9F%98%80&a=2'), 'application/x-www-form-urlencoded');
    expect(params).toEqual({ a: ['1', '2'], b: 'two words', c: '😀' });
  });

  it('takes JSON sent as urlencoded (curl -d) as the JSON it is', async () => {
    expect(await parseParams(Buffer.from('{"a":1,"b":[2]}'), 'application/x-www-form-urlencoded')).toEqual({ a: 1, b: [2] });
    expect(await parseParams(Buffer.from('  [1,2]'), 'application/x-www-form-urlencoded')).toEqual([1, 2]);
  });

  it('keeps a __proto__ key an own key, in JSON, urlencoded and multipart, and pollutes nothing', async () => {
    const fromJson = (await json('{"__proto__":{"polluted":true},"a":1}')) as Record<string, unknown>;
    const form = new FormData();
    form.append('__proto__', 'x');
    form.append('constructor', 'y');
    const { body, type } = await encodeForm(form);
    const fromForm = (await parseParams(body, type)) as Record<string, unknown>;
    const fromUrl = (await parseParams(Buffer.from('__proto__=x&__proto__=z'), 'application/x-www-form-urlencoded')) as Record<
      string,
      unknown
    >;
    for (const params of [fromJson, fromForm, fromUrl]) {
      expect(Object.hasOwn(params, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    }
    expect(Object.getOwnPropertyDescriptor(fromJson, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getOwnPropertyDescriptor(fromForm, '__proto__')?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(fromForm, 'constructor')?.value).toBe('y');
    expect(Object.getOwnPropertyDescriptor(fromUrl, '__proto__')?.value).toEqual(['x', 'z']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('headerOf', () => {
  const request = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;

  it('finds a header whatever the case it was sent in, and gives its first value', () => {
    const req = request(['Host', 'h', 'AUTHORIZATION', 'Bearer a', 'authorization', 'Bearer b', 'Content-Type', 'application/json']);
    expect(headerOf(req, 'authorization')).toBe('Bearer a');
    expect(headerOf(req, 'content-type')).toBe('application/json');
    expect(headerOf(req, 'host')).toBe('h');
  });

  it('gives undefined for a header that is not there, and never matches a value', () => {
    const req = request(['X-Origin', 'origin', 'origin-x', 'y']);
    expect(headerOf(req, 'origin')).toBeUndefined();
    expect(headerOf(request([]), 'origin')).toBeUndefined();
  });
});

describe('readBody', () => {
  // What readBody reads of a request: its stream, and its headers as Node gives them (both forms).
  const message = (chunks: Buffer[], headers: Record<string, string> = {}) =>
    Object.assign(Readable.from(chunks), { headers, rawHeaders: Object.entries(headers).flat() }) as unknown as IncomingMessage;

  it('concatenates the chunks up to the limit', async () => {
    const body = await readBody(message([Buffer.from('ab'), Buffer.from('cd')]), 4);
    expect(body.toString()).toBe('abcd');
  });

  it('throws 413 PAYLOAD_TOO_LARGE for a declared length over the limit, before reading', async () => {
    let read = false;
    const stream = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    const error = await bodyError(
      readBody(
        Object.assign(stream, { headers: { 'content-length': '11' }, rawHeaders: ['Content-Length', '11'] }) as unknown as IncomingMessage,
        10,
      ),
    );
    expect(error.status).toBe(413);
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(read).toBe(false);
  });

  it('throws 413 when the bytes that arrive pass the limit, whatever the headers say', async () => {
    const chunks = [Buffer.alloc(6), Buffer.alloc(6)];
    expect((await bodyError(readBody(message(chunks), 10))).status).toBe(413);
    expect((await bodyError(readBody(message(chunks, { 'content-length': '3' }), 10))).status).toBe(413);
  });
});

describe('bounded parsing', () => {
  it('refuses JSON nested deeper than MAX_BODY_DEPTH with 400, before parsing', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const error = await bodyError(json(`{"a":${deep}}`));
    expect(error.status).toBe(400);
    expect(error.code).toBe('BODY_TOO_DEEP');
    expect(error.message).toContain(String(MAX_BODY_DEPTH));
    const atLimit = '['.repeat(MAX_BODY_DEPTH - 1) + ']'.repeat(MAX_BODY_DEPTH - 1);
    expect(await json(`{"a":${atLimit}}`)).toEqual({ a: JSON.parse(atLimit) });
    await expect(json(`{"a":${'['.repeat(MAX_BODY_DEPTH) + ']'.repeat(MAX_BODY_DEPTH)}}`)).rejects.toThrow(/deeper/);
  });

  it('does not count brackets and commas inside strings, escaped quotes included', async () => {
    const text = JSON.stringify({ s: '['.repeat(10_000) + '\\"' + ','.repeat(10) + '"{' });
    expect(await json(text)).toEqual(JSON.parse(text));
  });

  it('refuses a body of more than MAX_BODY_VALUES values with 413', async () => {
    const many = '[' + '{},'.repeat(MAX_BODY_VALUES) + '{}]';
    const error = await bodyError(json(`{"a":${many}}`));
    expect(error.status).toBe(413);
    expect(error.code).toBe('BODY_TOO_MANY_VALUES');
  });

  it('gathers 100,000 repeated form fields in linear time, in order', async () => {
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => `a=${i}`).join('&'));
    const started = performance.now();
    const params = (await parseParams(body, 'application/x-www-form-urlencoded')) as { a: string[] };
    // Quadratic merging took minutes for 100,000 fields; linear takes well under a second.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(params.a).toHaveLength(100_000);
    expect(params.a[0]).toBe('0');
    expect(params.a[99_999]).toBe('99999');
  });

  it('keeps an array sent as one JSON field separate from values gathered by repeats', async () => {
    const form = new FormData();
    form.append('a', 'x');
    form.append('a', 'y');
    form.append('a', 'z');
    const { body, type } = await encodeForm(form);
    expect(await parseParams(body, type)).toEqual({ a: ['x', 'y', 'z'] });
  });
});
