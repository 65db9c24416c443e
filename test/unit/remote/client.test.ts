// src/remote/client.ts: the SDK's function path and body, the error shapes servers answer with,
// and the HTTP request itself (headers, reply parsing, timeout, unreachable, the token route)
// against a node:http server on 127.0.0.1:0.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import {
  buildBody,
  errorOf,
  functionPath,
  request,
  requestUserToken,
  type FileUpload,
  type HttpReply,
} from '../../../src/remote/client.js';

describe('functionPath', () => {
  it.each([
    ['calculateTotal', '/api/apps/app_1/functions/calculateTotal'],
    ['reports/monthly', '/api/apps/app_1/functions/reports/monthly'],
    ['reports/export v2', '/api/apps/app_1/functions/reports/export%20v2'],
    ['a-b_c/d-e', '/api/apps/app_1/functions/a-b_c/d-e'],
    ['what?x=1', '/api/apps/app_1/functions/what%3Fx%3D1'],
    ['hash#tag', '/api/apps/app_1/functions/hash%23tag'],
    ['100%', '/api/apps/app_1/functions/100%25'],
    ['café', '/api/apps/app_1/functions/caf%C3%A9'],
  ])('%s → %s', (name, path) => {
    expect(functionPath('app_1', name)).toBe(path);
  });

  it('escapes the app id as one segment', () => {
    expect(functionPath('my app/x', 'f')).toBe('/api/apps/my%20app%2Fx/functions/f');
  });

  it('round-trips through URL parsing: each segment decodes back to the name', () => {
    for (const name of ['reports/export v2', 'what?x=1', 'hash#tag', '100%', 'café/ü ß']) {
      const url = new URL(functionPath('a', name), 'http://127.0.0.1');
      expect(url.search).toBe('');
      expect(url.hash).toBe('');
      const segments = url.pathname.split('/').slice(5).map(decodeURIComponent);
      expect(segments.join('/')).toBe(name);
    }
  });
});

const file = (name: string, type: string, text: string): FileUpload => ({ name, type, bytes: new TextEncoder().encode(text) });

describe('buildBody: JSON', () => {
  it('sends no body with no data, still labelled application/json (as the SDK does)', () => {
    expect(buildBody(undefined, {})).toEqual({ body: undefined, contentType: 'application/json' });
  });

  it('sends the named parameters as JSON, keys in order', () => {
    const data = { items: ['a', 'b'], qty: 2, nested: { deep: [1, null] }, nothing: null, s: 'é' };
    expect(buildBody(data, {})).toEqual({
      body: '{"items":["a","b"],"qty":2,"nested":{"deep":[1,null]},"nothing":null,"s":"é"}',
      contentType: 'application/json',
    });
  });

  it('sends {} for an empty object', () => {
    expect(buildBody({}, {}).body).toBe('{}');
  });
});

describe('buildBody: multipart, when a file is sent', () => {
  it('gives fetch a FormData and no content type, so fetch adds the boundary', async () => {
    const { body, contentType } = buildBody({ a: 1 }, { doc: file('note.txt', 'text/plain', 'hi') });
    expect(body).toBeInstanceOf(FormData);
    expect(contentType).toBeUndefined();
    const req = new Request('http://127.0.0.1/', { method: 'POST', body: body as FormData });
    expect(req.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
  });

  it('makes file parts with name and type; objects and arrays JSON strings; everything else String(v)', async () => {
    const data = { userId: 'u1', meta: { a: [1] }, list: [1, 'two'], n: 80, ratio: 0.5, flag: true, off: false, nil: null, empty: '' };
    const { body } = buildBody(data, {
      doc: file('note.txt', 'text/plain', 'hello file content'),
      bin: { name: 'b.bin', type: 'application/octet-stream', bytes: new Uint8Array([0, 255, 1]) },
    });
    const form = body as FormData;
    const strings = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string'));
    expect(strings).toEqual({
      userId: 'u1',
      meta: '{"a":[1]}',
      list: '[1,"two"]',
      n: '80',
      ratio: '0.5',
      flag: 'true',
      off: 'false',
      nil: 'null',
      empty: '',
    });
    const doc = form.get('doc') as File;
    expect([doc.name, doc.type, doc.size, await doc.text()]).toEqual(['note.txt', 'text/plain', 18, 'hello file content']);
    const bin = form.get('bin') as File;
    expect([bin.name, bin.type, [...new Uint8Array(await bin.arrayBuffer())]]).toEqual(['b.bin', 'application/octet-stream', [0, 255, 1]]);
  });

  it('survives the wire: parsed back, the parts are the same', async () => {
    const { body } = buildBody({ x: { y: 1 }, n: 2 }, { doc: file('a b.txt', 'text/plain', 'zz') });
    const wire = new Request('http://127.0.0.1/', { method: 'POST', body: body as FormData });
    const parsed = await new Response(await wire.arrayBuffer(), {
      headers: { 'content-type': wire.headers.get('content-type')! },
    }).formData();
    expect(parsed.get('x')).toBe('{"y":1}');
    expect(parsed.get('n')).toBe('2');
    expect((parsed.get('doc') as File).name).toBe('a b.txt');
  });

  it('lets a file win over a data value of the same name: one part, the file', () => {
    const { body } = buildBody({ doc: 'text', other: 1 }, { doc: file('note.txt', 'text/plain', 'hi') });
    const form = body as FormData;
    expect(form.getAll('doc')).toHaveLength(1);
    expect(form.get('doc')).toBeInstanceOf(File);
    expect([...form.keys()]).toEqual(['other', 'doc']);
  });

  it('sends only the file parts with no data', () => {
    const { body } = buildBody(undefined, { doc: file('note.txt', 'text/plain', 'hi') });
    expect([...(body as FormData).keys()]).toEqual(['doc']);
  });
});

const reply = (status: number, data: unknown, statusText = ''): HttpReply => ({
  status,
  statusText,
  headers: new Headers(),
  data,
  text: typeof data === 'string' ? data : JSON.stringify(data),
  durationMs: 1,
});

describe('errorOf', () => {
  it('reads { error: { code, message } } (this server)', () => {
    expect(errorOf(reply(404, { error: { code: 'FUNCTION_NOT_FOUND', message: 'function "x" not found' } }))).toEqual({
      code: 'FUNCTION_NOT_FOUND',
      message: 'function "x" not found',
    });
  });

  it('falls back to the status and status text inside an incomplete { error: {} }', () => {
    expect(errorOf(reply(500, { error: {} }, 'Internal Server Error'))).toEqual({ code: '500', message: 'Internal Server Error' });
  });

  it('reads { error, error_code } (App Services)', () => {
    expect(errorOf(reply(400, { error: 'function threw: boom', error_code: 'FunctionExecutionError', link: 'https://x' }))).toEqual({
      code: 'FunctionExecutionError',
      message: 'function threw: boom',
    });
  });

  it('reads { error, code } and a bare { error }', () => {
    expect(errorOf(reply(500, { error: 'boom', code: 'INTERNAL' }))).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(errorOf(reply(500, { error: 'boom' }))).toEqual({ code: '500', message: 'boom' });
    expect(errorOf(reply(500, { error: 'boom', error_code: 'A', code: 'B' })).code).toBe('A');
  });

  it('reads { message, code } (Base44 errors) and a bare { message }', () => {
    expect(errorOf(reply(400, { message: 'bad input from emulator', code: 'BAD_INPUT', detail: 'x must be a number' }))).toEqual({
      code: 'BAD_INPUT',
      message: 'bad input from emulator',
    });
    expect(errorOf(reply(422, { message: 'nope' }))).toEqual({ code: '422', message: 'nope' });
  });

  it('takes a text body, trimmed and cut at 500 characters', () => {
    expect(errorOf(reply(502, '  Bad Gateway from the proxy\n', 'Bad Gateway'))).toEqual({
      code: '502',
      message: 'Bad Gateway from the proxy',
    });
    expect(errorOf(reply(500, 'x'.repeat(2000))).message).toHaveLength(500);
  });

  it('uses the status text, then "HTTP <status>", for an empty body or an unknown shape', () => {
    expect(errorOf(reply(503, '', 'Service Unavailable'))).toEqual({ code: '503', message: 'Service Unavailable' });
    expect(errorOf(reply(503, '   ', ''))).toEqual({ code: '503', message: 'HTTP 503' });
    expect(errorOf(reply(500, { weird: true }, 'Internal Server Error'))).toEqual({ code: '500', message: 'Internal Server Error' });
    expect(errorOf(reply(500, null, ''))).toEqual({ code: '500', message: 'HTTP 500' });
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('request and requestUserToken against a local server', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let answer: (req: Seen, res: ServerResponse) => void = (_req, res) => res.end();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        seen.push(s);
        answer(s, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (status: number, value: unknown) => (_req: Seen, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value));
  };

  it('sends Accept and X-App-Id always; Content-Type and Authorization only when given', async () => {
    answer = json(200, { ok: true });
    await request({ url, appId: 'app_1' }, 'POST', '/p');
    await request({ url, appId: 'app_1' }, 'POST', '/q', { token: 'tok', body: '{"a":1}', contentType: 'application/json' });
    const [bare, full] = seen.slice(-2);
    expect(bare!.headers).toMatchObject({ accept: 'application/json', 'x-app-id': 'app_1' });
    expect(bare!.headers.authorization).toBeUndefined();
    expect(bare!.headers['content-type']).toBeUndefined();
    expect(bare!.body).toBe('');
    expect(full!.headers).toMatchObject({
      accept: 'application/json',
      'x-app-id': 'app_1',
      authorization: 'Bearer tok',
      'content-type': 'application/json',
    });
    expect([full!.method, full!.url, full!.body]).toEqual(['POST', '/q', '{"a":1}']);
  });

  it('parses a JSON reply; keeps text, empty and malformed JSON replies as text', async () => {
    answer = json(201, { n: 1 });
    const r = await request({ url, appId: 'a' }, 'POST', '/j');
    expect([r.status, r.data, r.text]).toEqual([201, { n: 1 }, '{"n":1}']);
    // A round trip to a real server takes some time, measured in fractions of a millisecond.
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.durationMs).toBeLessThan(10_000);

    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"looks":"like json"}');
    };
    expect((await request({ url, appId: 'a' }, 'POST', '/t')).data).toBe('{"looks":"like json"}');

    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{broken');
    };
    expect((await request({ url, appId: 'a' }, 'POST', '/b')).data).toBe('{broken');

    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end();
    };
    expect((await request({ url, appId: 'a' }, 'POST', '/e')).data).toBe('');
  });

  it('gives up after timeoutMs with REMOTE_UNREACHABLE (exit 4) and a timeout message', async () => {
    answer = (_req, res) => void setTimeout(() => res.end('late'), 2000);
    const started = performance.now();
    const error = await request({ url, appId: 'a' }, 'POST', '/slow', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).code).toBe('REMOTE_UNREACHABLE');
    expect((error as FnError).exitCode).toBe(4);
    expect((error as FnError).message).toBe(`no reply from ${url} within 100 ms`);
  });

  it('reports an aborted signal as INTERRUPTED', async () => {
    answer = (_req, res) => void setTimeout(() => res.end('late'), 2000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await request({ url, appId: 'a' }, 'POST', '/slow', { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as FnError).code).toBe('INTERRUPTED');
  });

  it('asks the admin token route for a user token with the service key', async () => {
    answer = json(200, { token: 'jwt-for-u', userId: 'u 1/x' });
    const token = await requestUserToken({ url, appId: 'app_1' }, 'u 1/x', 'svc-key');
    expect(token).toBe('jwt-for-u');
    const s = seen.at(-1)!;
    expect([s.method, s.url]).toEqual(['POST', '/api/admin/v1/apps/app_1/users/u%201%2Fx/token']);
    expect(s.headers.authorization).toBe('Bearer svc-key');
    expect(s.headers['x-app-id']).toBe('app_1');
  });

  it('turns a refused key into REMOTE_AUTH (exit 4), without the key in the message', async () => {
    for (const status of [401, 403]) {
      answer = json(status, { error: { code: 'UNAUTHORIZED', message: 'no' } });
      const error = (await requestUserToken({ url, appId: 'a' }, 'u', 'svc-secret-key').catch((e: unknown) => e)) as FnError;
      expect(error.code).toBe('REMOTE_AUTH');
      expect(error.exitCode).toBe(4);
      expect(`${error.message} ${error.hint}`).not.toContain('svc-secret-key');
    }
  });

  it('turns a reply without a token into REMOTE_ERROR with the server message', async () => {
    answer = json(200, { nope: true });
    expect(((await requestUserToken({ url, appId: 'a' }, 'u', 'k').catch((e: unknown) => e)) as FnError).code).toBe('REMOTE_ERROR');
    answer = json(500, { error: { code: 'INTERNAL', message: 'database on fire' } });
    const error = (await requestUserToken({ url, appId: 'a' }, 'u', 'k').catch((e: unknown) => e)) as FnError;
    expect(error.code).toBe('REMOTE_ERROR');
    expect(error.message).toContain('database on fire');
  });
});

describe('request to a server that is not there', () => {
  let deadUrl: string;
  beforeAll(async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    deadUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  it('is REMOTE_UNREACHABLE (exit 4), hinting at fn dev for the default local remote', async () => {
    const error = (await request({ url: deadUrl, appId: 'a', isDefaultLocal: true }, 'POST', '/x').catch((e: unknown) => e)) as FnError;
    expect(error).toBeInstanceOf(FnError);
    expect(error.code).toBe('REMOTE_UNREACHABLE');
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe(`cannot reach ${deadUrl} (ECONNREFUSED)`);
    expect(error.hint).toContain('is fn dev running?');
  });

  it('hints at --url otherwise', async () => {
    const error = (await request({ url: deadUrl, appId: 'a' }, 'POST', '/x').catch((e: unknown) => e)) as FnError;
    expect(error.code).toBe('REMOTE_UNREACHABLE');
    expect(error.hint).toContain('check --url');
    expect(error.hint).not.toContain('fn dev');
  });

  it('is REMOTE_UNREACHABLE from requestUserToken too', async () => {
    const error = (await requestUserToken({ url: deadUrl, appId: 'a' }, 'u', 'k').catch((e: unknown) => e)) as FnError;
    expect(error.code).toBe('REMOTE_UNREACHABLE');
  });
});

describe('request: bounded and clean', () => {
  let server: Server;
  let url: string;
  const sockets = new Set<import('node:net').Socket>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/trickle') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('.'), 20);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/huge-declared') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(10_000_000) });
        res.write('x'.repeat(1000));
      } else if (req.url === '/huge-chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let sent = 0;
        const push = () => {
          while (sent < 5_000_000 && res.write('y'.repeat(65_536))) sent += 65_536;
          if (sent < 5_000_000) res.once('drain', push);
          else res.end();
        };
        push();
      } else if (req.url === '/escapes') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'E\u001b[2J', message: 'bad \u001b[31mred\u001b[0m\u0007 thing\nsecond line' } }));
      }
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const remote = () => ({ url, appId: 'a' });
  const failure = async (promise: Promise<unknown>): Promise<FnError> => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(FnError);
      return error as FnError;
    }
    throw new Error('expected an FnError');
  };

  it('gives up on a reply that trickles past the timeout, with an exit-4 error', async () => {
    const error = await failure(request(remote(), 'GET', '/trickle', { timeoutMs: 300 }));
    expect(error.code).toBe('REMOTE_UNREACHABLE');
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('within 300 ms');
  });

  it('refuses a reply declared larger than the cap without reading it', async () => {
    const error = await failure(request(remote(), 'GET', '/huge-declared', { maxReplyBytes: 1_000_000 }));
    expect(error.code).toBe('REMOTE_ERROR');
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('larger than 1000000 bytes');
  });

  it('refuses a chunked reply once it passes the cap', async () => {
    const error = await failure(request(remote(), 'GET', '/huge-chunked', { maxReplyBytes: 1_000_000 }));
    expect(error.code).toBe('REMOTE_ERROR');
  });

  it('shows control characters of a server message as escapes, never raw', async () => {
    const reply = await request(remote(), 'GET', '/escapes');
    const { code, message } = errorOf(reply);
    expect(code).toBe('E\\u001b[2J');
    expect(message).toBe('bad \\u001b[31mred\\u001b[0m\\u0007 thing\nsecond line');
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });
});

describe('request: --timeout', () => {
  it('fires even after a garbage collection while the reply is awaited, with a caller signal beside it', async () => {
    // On Node 20, AbortSignal.any() holds AbortSignal.timeout()'s signal weakly: once collected,
    // a request with a caller's signal never timed out (an invoke with --timeout 300 waited 8 s).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const slow = createServer((_req, res) => setTimeout(() => res.end('late'), 3_000).unref());
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
      const pending = request({ url, appId: 'a' }, 'GET', '/', { timeoutMs: 200, signal: new AbortController().signal });
      setTimeout(gc, 50);
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FnError);
      expect((error as FnError).message).toMatch(/within 200 ms/);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
