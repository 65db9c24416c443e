// HTTPS endpoints and legacy webhooks, end to end: served by `fn dev` and by `fn serve` after
// `fn push`, called over real HTTP on 127.0.0.1; `fn invoke --endpoint` (--local and against a
// server); and fn validate's endpoint rules.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rawRequest, request, startDev, userToken, type DevServer } from './dev-helpers.js';
import { cleanupTemps, fn, makeApp, tempDir } from './helpers.js';
import { fnAt, startServe, type ServeProcess } from './serve-helpers.js';

const SECRET = 'Super5ecr3t';
const hmac = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function endpointApp(appId: string): string {
  return makeApp({
    'fn.config.json': JSON.stringify({ appId }),
    'functions/config.json': JSON.stringify([
      { name: 'echo', run_as_system: true, private: true },
      { name: 'whoami' },
      { name: 'custom', run_as_system: true },
      { name: 'boom', run_as_system: true },
    ]),
    'functions/echo.js': `exports = function (request, response) {
  return {
    query: request.query,
    contentType: request.headers['Content-Type'],
    custom: request.headers['X-Custom'],
    body: request.body === undefined ? 'none' : request.body.text(),
    system: context.runningAsSystem(),
    date: new Date(0),
    id: new BSON.ObjectId('5f1b2c3d4e5f6a7b8c9d0e1f'),
  };
};`,
    'functions/whoami.js': `exports = function () { return { id: context.user.id, custom: context.user.custom_data }; };`,
    'functions/custom.js': `exports = function (request, response) {
  response.setStatusCode(201);
  response.setHeader('X-One', 'a');
  response.addHeader('X-Many', '1');
  response.addHeader('X-Many', '2');
  response.setBody('made');
  return { ignored: true };
};`,
    'functions/boom.js': `exports = function () { throw new Error('it broke'); };`,
    'http_endpoints/config.json': JSON.stringify(
      [
        {
          route: '/echo',
          http_method: '*',
          function_name: 'echo',
          validation_method: 'NO_VALIDATION',
          respond_result: true,
          return_type: 'JSON',
        },
        { route: '/echo/ejson', http_method: 'GET', function_name: 'echo', respond_result: true, return_type: 'EJSON' },
        { route: '/quiet', http_method: 'POST', function_name: 'echo', respond_result: false },
        { route: '/custom', http_method: 'PUT', function_name: 'custom', respond_result: true },
        { route: '/boom', http_method: 'GET', function_name: 'boom', respond_result: true },
        { route: '/me', http_method: 'GET', function_name: 'whoami', respond_result: true },
        { route: '/me/full', http_method: 'GET', function_name: 'whoami', respond_result: true, fetch_custom_user_data: true },
        {
          route: '/secret',
          http_method: 'GET',
          function_name: 'echo',
          validation_method: 'SECRET_AS_QUERY_PARAM',
          secret_name: 'hook',
          respond_result: true,
        },
        {
          route: '/signed',
          http_method: 'POST',
          function_name: 'echo',
          validation_method: 'VERIFY_PAYLOAD',
          secret_name: 'hook',
          respond_result: true,
        },
        { route: '/off', http_method: 'GET', function_name: 'echo', respond_result: true, disabled: true },
      ],
      null,
      2,
    ),
    'services/github/config.json': JSON.stringify({ name: 'github', type: 'http', config: {} }),
    'services/github/incoming_webhooks/onPush/config.json': JSON.stringify({
      name: 'onPush',
      respond_result: true,
      options: { httpMethod: 'POST', validationMethod: 'VERIFY_PAYLOAD', secret: 'hooksecret' },
    }),
    'services/github/incoming_webhooks/onPush/source.js': `exports = function (payload, response) {
  return { got: JSON.parse(payload.body.text()), q: payload.query.x, system: context.runningAsSystem() };
};`,
    '.fn/secrets.json': JSON.stringify({ hook: SECRET }),
  });
}

describe('fn dev serves HTTPS endpoints', () => {
  let dev: DevServer;
  let base: string;
  let appDir: string;
  beforeAll(async () => {
    appDir = endpointApp('ep-dev');
    dev = await startDev(appDir);
    base = `/app/${dev.appId}/endpoint`;
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('gives the function App Services’ request and answers its return value as JSON', async () => {
    const r = await request(dev, `${base}/echo?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-custom': 'v' },
      body: 'raw bytes',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.json).toEqual({
      query: { a: '1', b: 'x' },
      contentType: ['text/plain'],
      custom: ['v'],
      body: 'raw bytes',
      system: true,
      date: '1970-01-01T00:00:00.000Z',
      id: '5f1b2c3d4e5f6a7b8c9d0e1f',
    });
    // No body: request.body is undefined; any method for "*".
    const get = await request(dev, `${base}/echo`, { method: 'DELETE' });
    expect(get.status).toBe(200);
    expect(get.json.body).toBe('none');
  });

  it('answers canonical EJSON for return_type EJSON, and as Accept asks', async () => {
    const ejson = await request(dev, `${base}/echo/ejson`);
    expect(ejson.json.date).toEqual({ $date: { $numberLong: '0' } });
    expect(ejson.json.id).toEqual({ $oid: '5f1b2c3d4e5f6a7b8c9d0e1f' });
    const json = await request(dev, `${base}/echo/ejson`, { headers: { accept: 'application/json' } });
    expect(json.json.date).toBe('1970-01-01T00:00:00.000Z');
    const asked = await request(dev, `${base}/echo`, { headers: { accept: 'application/ejson' } });
    expect(asked.json.date).toEqual({ $date: { $numberLong: '0' } });
  });

  it('uses the status, headers and body the function set; 204 when respond_result is false', async () => {
    const r = await request(dev, `${base}/custom`, { method: 'PUT' });
    expect(r.status).toBe(201);
    expect(r.text).toBe('made');
    expect(r.headers.get('x-one')).toBe('a');
    expect(r.headers.get('x-many')).toBe('1, 2');
    const quiet = await request(dev, `${base}/quiet`, { method: 'POST', body: '{}' });
    expect(quiet.status).toBe(204);
    expect(quiet.text).toBe('');
  });

  it('answers a thrown error with 500 and App Services’ error body, never 200', async () => {
    const r = await request(dev, `${base}/boom`);
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ error: 'function "boom" threw: it broke', error_code: 'FunctionExecutionError' });
  });

  it('answers 404 for an unknown or disabled route and 405 with Allow for another method', async () => {
    const none = await request(dev, `${base}/nope`);
    expect(none.status).toBe(404);
    expect(none.json.error_code).toBe('EndpointNotFound');
    expect((await request(dev, `${base}/off`)).status).toBe(404);
    const wrong = await request(dev, `${base}/boom`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect((await request(dev, `/app/other-app/endpoint/echo`)).status).toBe(404);
  });

  it('checks SECRET_AS_QUERY_PARAM against the app secret and keeps the secret out of the query', async () => {
    expect((await request(dev, `${base}/secret`)).status).toBe(401);
    const wrong = await request(dev, `${base}/secret?secret=nope`);
    expect(wrong.status).toBe(401);
    expect(wrong.json.error_code).toBe('InvalidSecret');
    const right = await request(dev, `${base}/secret?secret=${SECRET}&x=1`);
    expect(right.status).toBe(200);
    expect(right.json.query).toEqual({ x: '1' });
  });

  it('checks VERIFY_PAYLOAD: Endpoint-Signature is the HMAC-SHA256 of the raw body', async () => {
    const body = '{"order": 1}';
    const ok = await request(dev, `${base}/signed`, { method: 'POST', headers: { 'endpoint-signature': hmac(body) }, body });
    expect(ok.status).toBe(200);
    expect(ok.json.body).toBe(body);
    const other = await request(dev, `${base}/signed`, { method: 'POST', headers: { 'endpoint-signature': hmac(body, 'wrong') }, body });
    expect(other.status).toBe(401);
    expect(other.json.error_code).toBe('InvalidSignature');
    // Signed over other bytes: refused.
    const changed = await request(dev, `${base}/signed`, {
      method: 'POST',
      headers: { 'endpoint-signature': hmac(body) },
      body: `${body} `,
    });
    expect(changed.status).toBe(401);
    expect((await request(dev, `${base}/signed`, { method: 'POST', body })).status).toBe(401);
  });

  it('needs a token for a function with no run-as (application authentication) and runs as its user', async () => {
    const anonymous = await request(dev, `${base}/me`);
    expect(anonymous.status).toBe(400);
    expect(anonymous.json.error_code).toBe('MissingParameter');
    const bad = await request(dev, `${base}/me`, { headers: bearer('not-a-token') });
    expect(bad.status).toBe(401);
    expect(bad.json.error_code).toBe('InvalidSession');
    const token = await userToken(dev, 'u1', { custom_data: { plan: 'pro' } });
    const me = await request(dev, `${base}/me`, { headers: bearer(token) });
    expect(me.status).toBe(200);
    // fetch_custom_user_data false: no custom data.
    expect(me.json).toEqual({ id: 'u1', custom: {} });
    const full = await request(dev, `${base}/me/full`, { headers: bearer(token) });
    expect(full.json).toEqual({ id: 'u1', custom: { plan: 'pro' } });
  });

  it('serves a legacy webhook at its endpoint route and its own URL, with X-Hook-Signature', async () => {
    const body = '{"ref":"main"}';
    const headers = { 'x-hook-signature': hmac(body, 'hooksecret'), 'content-type': 'application/json' };
    const converted = await request(dev, `${base}/github/onPush?x=7`, { method: 'POST', headers, body });
    expect(converted.status).toBe(200);
    expect(converted.json).toEqual({ got: { ref: 'main' }, q: '7', system: true });
    const legacy = await request(dev, `/api/client/v2.0/app/${dev.appId}/service/github/incoming_webhook/onPush`, {
      method: 'POST',
      headers,
      body,
    });
    expect(legacy.status).toBe(200);
    const unsigned = await request(dev, `${base}/github/onPush`, { method: 'POST', body });
    expect(unsigned.status).toBe(401);
  });

  it('keeps the server’s body limit and Host check for endpoint requests', async () => {
    const big = await rawRequest(dev.url, {
      method: 'POST',
      path: `${base}/echo`,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.alloc(19 * 1024 * 1024, 97),
    });
    expect(big.status).toBe(413);
    const rebinding = await rawRequest(dev.url, { path: `${base}/echo`, headers: { host: 'evil.example:80' } });
    expect(rebinding.status).toBe(403);
  });

  it('reloads on a change to the endpoint files', async () => {
    const file = join(appDir, 'http_endpoints', 'config.json');
    const entries = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
    const text = JSON.stringify([...entries, { route: '/added', http_method: 'GET', function_name: 'echo', respond_result: true }]);
    // As in dev.test.ts: the watch of a new folder may take a moment to see changes, so write until a reload shows.
    for (let attempt = 0; attempt < 50; attempt++) {
      const mark = dev.events.length;
      writeFileSync(file, text);
      const reloaded = await dev.waitFor((e, i) => i >= mark && e.event === 'reloaded', 300).catch(() => undefined);
      if (reloaded) break;
    }
    expect((await request(dev, `${base}/added`)).status).toBe(200);
  });

  it('logs endpoint calls in the call log', async () => {
    await request(dev, `${base}/echo?logged=1`);
    const line = await dev.waitFor((e) => e.event === 'call' && (e.entry as { function?: string }).function === 'echo');
    expect((line.entry as { via: string }).via).toBe('endpoint');
    const logged = await dev.waitFor(
      (e) => e.event === 'call' && JSON.stringify((e.entry as { arguments?: unknown }).arguments ?? null).includes('logged'),
    );
    expect((logged.entry as { arguments: unknown }).arguments).toEqual([
      { method: 'GET', route: '/echo', query: { logged: '1' }, bodyBytes: 0 },
    ]);
  });
});

describe('fn invoke --endpoint', () => {
  it('--local runs the endpoint in-process and prints status, headers and body', async () => {
    const dir = endpointApp('ep-invoke');
    const r = await fn(['invoke', '--endpoint', 'PUT', '/custom', '--local', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; status: number; headers: Record<string, string>; body: unknown };
    expect(doc).toMatchObject({ ok: true, status: 201, body: 'made' });
    expect(doc.headers['x-many']).toBe('1, 2');

    const body = '{"a":1}';
    const signed = await fn(
      ['invoke', '--endpoint', 'post', '/signed?z=2', '--local', '--data', body, '--header', `Endpoint-Signature: ${hmac(body)}`],
      {
        cwd: dir,
      },
    );
    expect(signed.exitCode).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ body, query: { z: '2' } });
    expect(signed.stderr).toContain('200 POST /signed?z=2');

    const user = await fn(['invoke', '--endpoint', 'GET', '/me', '--local', '--user', 'u9'], { cwd: dir });
    expect(JSON.parse(user.stdout)).toEqual({ id: 'u9', custom: {} });

    const failed = await fn(['invoke', '--endpoint', 'GET', '/boom', '--local'], { cwd: dir });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('error 500 GET /boom');
    expect(failed.stderr).toContain('functions/boom.js:1');
  });

  it('refuses a method that is not one', async () => {
    const r = await fn(['invoke', '--endpoint', 'GE T', '/x', '--local'], { cwd: endpointApp('ep-usage') });
    expect(r.exitCode).toBe(2);
  });
});

describe('fn serve serves the endpoints fn push deployed [slow]', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe(tempDir('fn-serve-ep-'));
  });
  afterAll(async () => {
    await server?.stop();
    cleanupTemps();
  });

  it('pushes http_endpoints and webhooks, and answers them at /app/<appId>/endpoint/<route>', async () => {
    const dir = endpointApp('ep-serve');
    const push = await fnAt(server, 'push', dir, ['--yes']);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.stdout).toContain('endpoints:');
    const echo = await request(server, `/app/ep-serve/endpoint/echo?q=1`, { method: 'POST', body: 'hi' });
    expect(echo.status).toBe(200);
    expect(echo.json).toMatchObject({ query: { q: '1' }, body: 'hi', system: true });
    const hook = await request(server, `/app/ep-serve/endpoint/github/onPush`, {
      method: 'POST',
      headers: { 'x-hook-signature': hmac('{}', 'hooksecret') },
      body: '{}',
    });
    expect(hook.status).toBe(200);
    // The server has no secrets of the app: a validated endpoint says so rather than letting calls in.
    const secret = await request(server, `/app/ep-serve/endpoint/secret?secret=${SECRET}`);
    expect(secret.status).toBe(500);
    expect(secret.json.error).toContain('"hook" is not set on this server');

    const invoked = await fnAt(server, 'invoke', dir, ['--endpoint', 'PUT', '/custom', '--json']);
    expect(invoked.exitCode, invoked.stderr).toBe(0);
    expect(JSON.parse(invoked.stdout)).toMatchObject({ status: 201, body: 'made' });

    // A push that removes the endpoints file removes the endpoints.
    writeFileSync(join(dir, 'http_endpoints', 'config.json'), '[]');
    expect((await fnAt(server, 'push', dir, ['--yes'])).exitCode).toBe(0);
    expect((await request(server, `/app/ep-serve/endpoint/echo`)).status).toBe(404);
  });
});

describe('fn validate checks endpoints', () => {
  it('reports unknown functions, duplicates, bad methods, missing and unknown secrets with positions', async () => {
    const dir = makeApp({
      'functions/config.json': '[{ "name": "ok" }]',
      'functions/ok.js': 'exports = function () {};',
      'http_endpoints/config.json': `[
  { "route": "/a", "http_method": "GET", "function_name": "ok" },
  { "route": "/a", "http_method": "GET", "function_name": "ok" },
  { "route": "/b", "http_method": "FETCH", "function_name": "ok" },
  { "route": "/c", "http_method": "POST", "function_name": "okk" },
  { "route": "/d", "http_method": "POST", "function_name": "ok", "validation_method": "VERIFY_PAYLOAD" },
  { "route": "/e", "http_method": "POST", "function_name": "ok", "validation_method": "SECRET_AS_QUERY_PARAM", "secret_name": "nope" },
  { "route": "f", "http_method": "GET", "function_name": "ok" }
]
`,
    });
    const r = await fn(['validate', '--format', 'json'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const found = (
      JSON.parse(r.stdout) as { diagnostics: { rule: string; line: number; column: number; message: string; hint?: string }[] }
    ).diagnostics;
    const at = (rule: string) => found.filter((d) => d.rule === rule).map((d) => [d.line, d.column]);
    expect(at('duplicate-endpoint')).toEqual([[3, 14]]);
    expect(at('unknown-endpoint-function')).toEqual([[5, 60]]);
    expect(found.find((d) => d.rule === 'unknown-endpoint-function')!.hint).toContain('"ok"');
    expect(at('unknown-secret')).toEqual([[7, 127]]);
    const invalid = found.filter((d) => d.rule === 'endpoint-invalid');
    expect(invalid.map((d) => d.line).sort()).toEqual([4, 6, 8]);
    expect(invalid.find((d) => d.line === 4)!.message).toContain('must be one of');
    expect(invalid.find((d) => d.line === 6)!.message).toContain('needs "secret_name"');
    expect(invalid.find((d) => d.line === 8)!.message).toContain('must start with "/"');
  });

  it('accepts a file that is the literal null, and https_endpoints/config.json', async () => {
    const dir = makeApp({
      'functions/config.json': '[{ "name": "ok" }]',
      'functions/ok.js': 'exports = function () {};',
      'http_endpoints/config.json': 'null',
      'https_endpoints/config.json': '[{ "route": "/x", "http_method": "GET", "function_name": "missing" }]',
    });
    const r = await fn(['validate', '--format', 'json'], { cwd: dir });
    const rules = (JSON.parse(r.stdout) as { diagnostics: { rule: string; file: string }[] }).diagnostics.map((d) => [d.rule, d.file]);
    expect(rules).toEqual([['unknown-endpoint-function', 'https_endpoints/config.json']]);
  });
});
