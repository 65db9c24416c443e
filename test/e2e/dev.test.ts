// fn dev end to end: the built CLI serving test/fixtures/dev/app (a temp copy) on 127.0.0.1, port 0.
// Every route and status code, auth, the admin routes, the manifest semantics (private,
// can_evaluate, run-as), the limits (each followed by a call that proves the server still answers),
// isolation (secrets, prototype pollution, '..' names), CORS and hot reload.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, copyFixture, fn, tempDir } from './helpers.js';
import { bearer, callFunction, rawRequest, request, startDev, userToken, type DevEvent, type DevServer } from './dev-helpers.js';

afterAll(() => cleanupTemps());

const MB = 1024 * 1024;

interface CallEntry {
  id: number;
  function: string;
  via: 'client' | 'admin';
  user: string;
  runAs: { system: true } | { userId: string };
  status: number;
  arguments?: unknown[];
  logs: { level: string; message: string }[];
  error?: { code: string; message: string };
}

const isCall = (e: DevEvent): e is DevEvent & { entry: CallEntry } => e.event === 'call';

/** A call that must succeed: the server still answers after whatever came before. */
async function expectAlive(dev: DevServer): Promise<void> {
  const r = await callFunction(dev, 'echo', { alive: true });
  expect(r.status).toBe(200);
  expect(r.json.params).toEqual({ alive: true });
}

describe('fn dev: one server on the fixture app', () => {
  let dev: DevServer;
  let app: string;

  beforeAll(async () => {
    app = copyFixture('dev/app');
    dev = await startDev(app);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('prints the listening event first: a 127.0.0.1 URL, the app id, a random service key, the function count', () => {
    expect(dev.events[0]).toMatchObject({ event: 'listening', appId: 'devapp', functions: 35, version: '1' });
    expect(dev.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(dev.url).port)).toBeGreaterThan(0);
    expect(dev.serviceKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
  });

  describe('the SDK route POST /api/apps/{appId}/functions/{name...}', () => {
    it('passes a JSON body as the one argument: the named parameters', async () => {
      const params = { items: ['a', 'b'], qty: 2, nested: { deep: [1, { x: null }] }, nothing: null };
      const r = await callFunction(dev, 'echo', params);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.json.params).toEqual(params);
      expect(r.json.argCount).toBe(1);
    });

    it('passes {} for an empty body, with or without a JSON content type', async () => {
      const withType = await callFunction(dev, 'echo', '');
      expect(withType.status).toBe(200);
      expect(withType.json.params).toEqual({});
      expect(withType.json.argCount).toBe(1);
      const bare = await request(dev, `/api/apps/${dev.appId}/functions/echo`, { method: 'POST' });
      expect(bare.status).toBe(200);
      expect(bare.json.params).toEqual({});
    });

    it('gives functions the App Services globals BSON, EJSON and utils in the worker', async () => {
      const r = await callFunction(dev, 'atlasGlobals', { id: '5f1d7f1a2b3c4d5e6f708192' });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        oid: '5f1d7f1a2b3c4d5e6f708192',
        ejson: '{"oid":{"$oid":"5f1d7f1a2b3c4d5e6f708192"}}',
        digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
        jwtParts: 3,
      });
    });

    it('calls a function whose name has a slash', async () => {
      const r = await callFunction(dev, 'reports/monthly', { month: '2024-05' });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ report: 'monthly', month: '2024-05' });
    });

    it('accepts the //api path a serverUrl with a trailing slash produces', async () => {
      const r = await request(dev, `//api/apps/${dev.appId}/functions/reports/monthly`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"month":"06"}',
      });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ report: 'monthly', month: '06' });
    });

    it('gives File objects for multipart file parts (name, size, type) and strings for the other parts', async () => {
      const form = new FormData();
      form.append('doc', new File(['hello file content'], 'note.txt', { type: 'text/plain' }));
      form.append('bin', new File([new Uint8Array([0, 1, 2, 255])], 'b.bin', { type: 'application/octet-stream' }));
      form.append('filter', 'grayscale');
      form.append('quality', '80');
      form.append('opts', '{"deep":[1,2]}');
      const r = await callFunction(dev, 'upload', form);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        doc: { file: true, name: 'note.txt', size: 18, type: 'text/plain', text: 'hello file content' },
        bin: { file: true, name: 'b.bin', size: 4, type: 'application/octet-stream', text: expect.any(String) },
        filter: { file: false, type: 'string', value: 'grayscale' },
        quality: { file: false, type: 'string', value: '80' },
        opts: { file: false, type: 'string', value: '{"deep":[1,2]}' },
      });
    });

    // A 1 MB upload must not make a 12.5 MB log line, nor keep its bytes in the log ring.
    it('logs a file argument by name, type and size, never its bytes', async () => {
      const form = new FormData();
      form.append('doc', new File([new Uint8Array(64 * 1024).fill(65)], 'a.bin', { type: 'application/octet-stream' }));
      const mark = dev.events.length;
      expect((await callFunction(dev, 'upload', form)).status).toBe(200);
      const event = (await dev.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === 'upload')) as DevEvent & {
        entry: CallEntry;
      };
      const logged = JSON.stringify(event.entry.arguments);
      expect(logged).toContain('a.bin');
      expect(logged.length).toBeLessThan(1_000);
    });

    // File parts travel apart from the JSON parameters, so no JSON value can pose as a file.
    it('passes a JSON object shaped like the internal file marker through unchanged', async () => {
      const x = { __fnFile: true, name: 'n.txt', type: 'text/plain', bytes: 'abc' };
      const r = await callFunction(dev, 'echo', { x });
      expect(r.status).toBe(200);
      expect(r.json.params).toEqual({ x });
    });

    it('takes urlencoded bodies as string parameters, and JSON sent as urlencoded (curl -d) as JSON', async () => {
      const form = await request(dev, `/api/apps/${dev.appId}/functions/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1&b=two+words',
      });
      expect(form.status).toBe(200);
      expect(form.json.params).toEqual({ a: '1', b: 'two words' });
      const curl = await request(dev, `/api/apps/${dev.appId}/functions/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '{"a":1}',
      });
      expect(curl.status).toBe(200);
      expect(curl.json.params).toEqual({ a: 1 });
    });

    it('passes a returned Response through: status, headers and body', async () => {
      const r = await callFunction(dev, 'respond', {});
      expect(r.status).toBe(418);
      expect(r.headers.get('x-teapot')).toBe('yes');
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(r.headers.get('content-length')).toBe(String(Buffer.byteLength('short and stout')));
      expect(r.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(r.text).toBe('short and stout');
      const created = await callFunction(dev, 'respond', { status: 201 });
      expect(created.status).toBe(201);
      expect(created.text).toBe('short and stout');
    });

    it('prints a call event per call, with the console output of the function', async () => {
      const r = await callFunction(dev, 'logs', { n: 41 });
      expect(r.json).toBe('logged 41');
      const event = await dev.waitFor(
        (e) => isCall(e) && e.entry.function === 'logs' && (e.entry.arguments?.[0] as { n?: number })?.n === 41,
      );
      expect((event as DevEvent & { entry: CallEntry }).entry).toMatchObject({
        via: 'client',
        user: 'anonymous',
        status: 200,
        logs: [
          { level: 'log', message: 'hello from logs 41' },
          { level: 'warn', message: 'careful { n: 41 }' },
        ],
      });
    });

    it('answers 400 BAD_REQUEST with { error: { code, message } } for a body that is not JSON', async () => {
      const r = await callFunction(dev, 'echo', '{"a": 1,');
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
      expect(r.json.error.code).toBe('BAD_REQUEST');
      expect(r.json.error.message).toMatch(/not valid JSON/);
    });

    it('answers 401 INVALID_TOKEN for a token it did not sign, a tampered one, or a non-Bearer header', async () => {
      const unknown = await callFunction(dev, 'echo', {}, bearer('not-a-token'));
      expect(unknown.status).toBe(401);
      expect(unknown.json.error.code).toBe('INVALID_TOKEN');
      const token = await userToken(dev, 'u-tamper');
      const [head, body, sig] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, type: 'server' })).toString('base64url')}.${sig}`;
      const tampered = await callFunction(dev, 'gates/serverOnly', {}, bearer(forged));
      expect(tampered.status).toBe(401);
      expect(tampered.json.error.code).toBe('INVALID_TOKEN');
      const basic = await callFunction(dev, 'echo', {}, { authorization: 'Basic dXNlcjpwdw==' });
      expect(basic.status).toBe(401);
      expect(basic.json.error.code).toBe('INVALID_TOKEN');
    });

    it('answers 403 EXECUTION_DENIED when can_evaluate is false for the caller', async () => {
      const r = await callFunction(dev, 'gates/serverOnly', {});
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('EXECUTION_DENIED');
      expect(r.json.error.message).toContain('gates/serverOnly');
    });

    it('answers 404 for no such function, a private function, an unknown app id and no name', async () => {
      const missing = await callFunction(dev, 'nope', {});
      expect(missing.status).toBe(404);
      expect(missing.json.error.code).toBe('FUNCTION_NOT_FOUND');
      const priv = await callFunction(dev, 'privateHelper', {});
      expect(priv.status).toBe(404);
      // A private function looks exactly like a missing one to a client.
      expect(priv.json.error).toEqual({ code: 'FUNCTION_NOT_FOUND', message: 'function "privateHelper" not found' });
      const otherApp = await callFunction({ url: dev.url, appId: 'someone-else' }, 'echo', {});
      expect(otherApp.status).toBe(404);
      expect(otherApp.json.error.code).toBe('APP_NOT_FOUND');
      const noName = await request(dev, `/api/apps/${dev.appId}/functions/`, { method: 'POST' });
      expect(noName.status).toBe(404);
      expect(noName.json.error.code).toBe('FUNCTION_NOT_FOUND');
    });

    it('answers 405 for a function called with GET and 415 for a body type it cannot read', async () => {
      const get = await request(dev, `/api/apps/${dev.appId}/functions/echo`);
      expect(get.status).toBe(405);
      expect(get.json.error.code).toBe('METHOD_NOT_ALLOWED');
      const xml = await request(dev, `/api/apps/${dev.appId}/functions/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<a/>',
      });
      expect(xml.status).toBe(415);
      expect(xml.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('accepts a body just under 18 MB', async () => {
      const blob = 'x'.repeat(18 * MB - 64);
      const r = await callFunction(dev, 'size', { blob });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ length: blob.length });
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a 19 MB body, declared or streamed, and keeps serving', async () => {
      const body = Buffer.alloc(19 * MB, 0x20);
      const path = `/api/apps/${dev.appId}/functions/size`;
      // Declared: the answer comes from the content-length alone, before any byte of the body.
      const declared = await rawRequest(dev.url, {
        path,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        body,
        sendOnly: 0,
      });
      expect(declared.status).toBe(413);
      expect(JSON.parse(declared.text).error.code).toBe('PAYLOAD_TOO_LARGE');
      // Streamed (chunked, no length): the server counts; one byte past 18 MB is enough.
      const streamed = await rawRequest(dev.url, {
        path,
        headers: { 'content-type': 'application/json' },
        body,
        chunked: true,
        sendOnly: 18 * MB + 1,
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.text).error.code).toBe('PAYLOAD_TOO_LARGE');
      await expectAlive(dev);
    });

    // A client still uploading (the SDK's axios, fetch) must get the 413 and its JSON error, not
    // EPIPE / ECONNRESET.
    it('delivers the 413 to a client that sends the whole 19 MB body (10 of 10)', async () => {
      const blob = 'x'.repeat(19 * MB);
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        try {
          outcomes.push(String((await callFunction(dev, 'size', { blob })).status));
        } catch (error) {
          outcomes.push(`${(error as Error).message} ${String((error as { cause?: { code?: string } }).cause?.code ?? '')}`.trim());
        }
      }
      expect(outcomes).toEqual(Array(10).fill('413'));
      await expectAlive(dev);
    });

    it('answers 500 FUNCTION_ERROR when the function throws, then serves the next call', async () => {
      const r = await callFunction(dev, 'throws', {});
      expect(r.status).toBe(500);
      // fn dev answers the stack, cut to the app's frames.
      expect(r.json.error).toEqual({
        code: 'FUNCTION_ERROR',
        message: 'function "throws" threw: boom from throws',
        stack: ['at exports (functions/throws.js:2:9)'],
      });
      await expectAlive(dev);
    });

    it('answers the health route, 204 for analytics, 404 NOT_FOUND elsewhere, 400 for a malformed escape', async () => {
      expect((await request(dev, '/api/health')).json).toEqual({ ok: true });
      const analytics = await request(dev, `/api/apps/${dev.appId}/analytics/track/batch`, { method: 'POST', body: '[]' });
      expect(analytics.status).toBe(204);
      const nowhere = await request(dev, '/nowhere');
      expect(nowhere.status).toBe(404);
      expect(nowhere.json.error.code).toBe('NOT_FOUND');
      const bad = await rawRequest(dev.url, { path: `/api/apps/${dev.appId}/functions/%E0%A4%A`, body: '{}' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text).error.code).toBe('BAD_REQUEST');
    });

    it('never steps out of functions/ for a name with ..: 404 for ../x, %2e%2e/x, %2e%2e%2fx and a/../b', async () => {
      const base = `/api/apps/${dev.appId}/functions`;
      // outside.js sits at the app root; reports/../echo would be echo if the path were normalized.
      for (const path of [
        `${base}/../outside`,
        `${base}/%2e%2e/outside`,
        `${base}/%2E%2E%2Foutside`,
        `${base}/reports/../echo`,
        `${base}/..%2f..%2fpackage`,
      ]) {
        const r = await rawRequest(dev.url, { path, headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(r.status, path).toBe(404);
        expect(JSON.parse(r.text).error.code, path).toBe('FUNCTION_NOT_FOUND');
        expect(r.text).not.toContain('outside functions/');
      }
    });

    it('answers a CORS preflight from a local page with 204 and the allow headers; a foreign origin gets no allow-origin', async () => {
      const path = `/api/apps/${dev.appId}/functions/echo`;
      const preflight = {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-app-id',
      };
      const local = await rawRequest(dev.url, { method: 'OPTIONS', path, headers: { origin: 'http://localhost:5173', ...preflight } });
      expect(local.status).toBe(204);
      expect(local.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      const allowed = String(local.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-app-id', 'accept']));
      expect(String(local.headers['access-control-allow-methods'])).toContain('POST');
      const foreign = await rawRequest(dev.url, { method: 'OPTIONS', path, headers: { origin: 'https://evil.example', ...preflight } });
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      // The real call from the local page carries the header too.
      const call = await rawRequest(dev.url, {
        path,
        headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(call.status).toBe(200);
      expect(call.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      const foreignCall = await rawRequest(dev.url, {
        path,
        headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(foreignCall.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('auth', () => {
    it('treats a call without Authorization as anonymous', async () => {
      const r = await callFunction(dev, 'echo', {});
      expect(r.json.user).toEqual({
        id: 'anonymous',
        type: 'normal',
        data: {},
        custom_data: {},
        identities: [{ id: 'anonymous', provider_type: 'anon-user' }],
      });
      expect(r.json.system).toBe(false);
    });

    it('treats Bearer <service key> as the service role: private functions callable, can_evaluate skipped, running as system', async () => {
      const svc = bearer(dev.serviceKey);
      const priv = await callFunction(dev, 'privateHelper', { x: 1 }, svc);
      expect(priv.status).toBe(200);
      expect(priv.json).toEqual({ helper: true, args: { x: 1 }, user: '', system: true });
      const gated = await callFunction(dev, 'gates/valueClosed', {}, svc);
      expect(gated.status).toBe(200);
      const me = await callFunction(dev, 'echo', {}, svc);
      expect(me.json.user.type).toBe('system');
      expect(me.json.system).toBe(true);
    });

    it('treats Bearer <user JWT> from the token route as that user, with the data, custom_data and type claims', async () => {
      const token = await userToken(dev, 'u-alice', {
        type: 'server',
        data: { email: 'alice@example.com' },
        custom_data: { role: 'admin', tier: 3 },
      });
      const r = await callFunction(dev, 'echo', {}, bearer(token));
      expect(r.status).toBe(200);
      expect(r.json.user).toEqual({
        id: 'u-alice',
        type: 'server',
        data: { email: 'alice@example.com' },
        custom_data: { role: 'admin', tier: 3 },
        identities: [{ id: 'u-alice', provider_type: 'local-token' }],
      });
      expect(r.json.system).toBe(false);
      const plain = await callFunction(dev, 'echo', {}, bearer(await userToken(dev, 'u-bob')));
      expect(plain.json.user).toMatchObject({ id: 'u-bob', type: 'normal', data: {}, custom_data: {} });
      // A token cannot make its holder the system user.
      const claimsSystem = await callFunction(dev, 'echo', {}, bearer(await userToken(dev, 'u-mallory', { type: 'system' })));
      expect(claimsSystem.json.user).toMatchObject({ id: 'u-mallory', type: 'normal' });
      expect(claimsSystem.json.system).toBe(false);
    });

    it('issues tokens only for the service key: 401 without one, 403 with a user token', async () => {
      const path = `/api/admin/v1/apps/${dev.appId}/users/u-carol/token`;
      const none = await request(dev, path, { method: 'POST', body: '{}' });
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('UNAUTHORIZED');
      const asUser = await request(dev, path, { method: 'POST', headers: bearer(await userToken(dev, 'u-dave')), body: '{}' });
      expect(asUser.status).toBe(403);
      expect(asUser.json.error.code).toBe('FORBIDDEN');
      const ok = await request(dev, path, { method: 'POST', headers: bearer(dev.serviceKey), body: '' });
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual({
        token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        userId: 'u-carol',
        expiresAt: expect.any(String),
      });
      expect(Date.parse(ok.json.expiresAt)).toBeGreaterThan(Date.now());
    });
  });

  describe('admin routes', () => {
    it('lists calls newest first, filtered by ?function= and bounded by ?limit=', async () => {
      for (const n of [1, 2, 3]) expect((await callFunction(dev, 'logs', { n })).status).toBe(200);
      await callFunction(dev, 'echo', { between: true });
      const svc = bearer(dev.serviceKey);
      const filtered = await request(dev, `/api/admin/v1/apps/${dev.appId}/logs?function=logs`, { headers: svc });
      expect(filtered.status).toBe(200);
      const entries = filtered.json.logs as CallEntry[];
      expect(entries.every((e) => e.function === 'logs')).toBe(true);
      expect(entries.slice(0, 3).map((e) => (e.arguments?.[0] as { n: number }).n)).toEqual([3, 2, 1]);
      expect(entries[0]!.logs).toEqual([
        { level: 'log', message: 'hello from logs 3' },
        { level: 'warn', message: 'careful { n: 3 }' },
      ]);
      const ids = entries.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const all = await request(dev, `/api/admin/v1/apps/${dev.appId}/logs?limit=2`, { headers: svc });
      expect(all.json.logs).toHaveLength(2);
      expect(all.json.logs[0]).toMatchObject({ function: 'echo', arguments: [{ between: true }] });
    });

    it('keeps the arguments of a disable_arg_logs function out of its log entry, but keeps its console output', async () => {
      const r = await callFunction(dev, 'quiet', { secret: 'hunter2' });
      expect(r.json).toBe('quiet string');
      const logs = await request(dev, `/api/admin/v1/apps/${dev.appId}/logs?function=quiet`, { headers: bearer(dev.serviceKey) });
      const entry = logs.json.logs[0];
      expect(entry).toMatchObject({ function: 'quiet', status: 200, logs: [{ level: 'log', message: 'quiet ran' }] });
      expect(entry).not.toHaveProperty('arguments');
      expect(logs.text).not.toContain('hunter2');
      const event = await dev.waitFor((e) => isCall(e) && e.entry.function === 'quiet');
      expect(JSON.stringify(event)).not.toContain('hunter2');
    });

    it('needs the service key for the logs: 401 without, 403 with a user token', async () => {
      const path = `/api/admin/v1/apps/${dev.appId}/logs`;
      expect((await request(dev, path)).status).toBe(401);
      expect((await request(dev, path, { headers: bearer(await userToken(dev, 'u-eve')) })).status).toBe(403);
    });

    it('executes a function as system: { result, logs, error, durationMs }', async () => {
      const r = await request(dev, `/api/admin/v1/apps/${dev.appId}/functions/logs/execute`, {
        method: 'POST',
        headers: bearer(dev.serviceKey),
        body: JSON.stringify({ args: [{ n: 9 }], runAs: { system: true } }),
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        result: 'logged 9',
        logs: [
          { level: 'log', message: 'hello from logs 9' },
          { level: 'warn', message: 'careful { n: 9 }' },
        ],
        error: null,
        runAs: { system: true },
      });
      expect(typeof r.json.durationMs).toBe('number');
      const who = await request(dev, `/api/admin/v1/apps/${dev.appId}/functions/runas/caller/execute`, {
        method: 'POST',
        headers: bearer(dev.serviceKey),
        body: JSON.stringify({ args: [], runAs: { system: true } }),
      });
      expect(who.json.result).toMatchObject({ system: true, type: 'system' });
    });

    it('executes a private function as a given user, who is context.user', async () => {
      const mark = dev.events.length;
      const r = await request(dev, `/api/admin/v1/apps/${dev.appId}/functions/privateHelper/execute`, {
        method: 'POST',
        headers: bearer(dev.serviceKey),
        body: JSON.stringify({ args: ['positional', 2], runAs: { userId: 'u-frank' } }),
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        result: { helper: true, args: 'positional', user: 'u-frank', system: false },
        error: null,
        runAs: { userId: 'u-frank' },
      });
      const logged = await dev.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === 'privateHelper');
      expect((logged as DevEvent & { entry: CallEntry }).entry).toMatchObject({
        user: 'service',
        runAs: { userId: 'u-frank' },
        arguments: ['positional', 2],
      });
    });

    it('reports a function error in the reply (200), 404 for no such function, 400 for args that are not an array', async () => {
      const path = (name: string) => `/api/admin/v1/apps/${dev.appId}/functions/${name}/execute`;
      const svc = bearer(dev.serviceKey);
      const failed = await request(dev, path('throws'), { method: 'POST', headers: svc, body: '{"args":[]}' });
      expect(failed.status).toBe(200);
      expect(failed.json).toMatchObject({
        result: null,
        error: { code: 'FUNCTION_ERROR', message: 'function "throws" threw: boom from throws' },
      });
      const missing = await request(dev, path('nope'), { method: 'POST', headers: svc, body: '{}' });
      expect(missing.status).toBe(404);
      expect(missing.json.error.code).toBe('FUNCTION_NOT_FOUND');
      const badArgs = await request(dev, path('echo'), { method: 'POST', headers: svc, body: '{"args":{"a":1}}' });
      expect(badArgs.status).toBe(400);
      const badJson = await request(dev, path('echo'), { method: 'POST', headers: svc, body: '{args' });
      expect(badJson.status).toBe(400);
      expect((await request(dev, path('echo'), { method: 'POST', body: '{}' })).status).toBe(401);
      const unknown = await request(dev, `/api/admin/v1/apps/${dev.appId}/nothing-here`, { headers: svc });
      expect(unknown.status).toBe(404);
      expect(unknown.json.error.code).toBe('NOT_FOUND');
      const otherApp = await request(dev, `/api/admin/v1/apps/someone-else/logs`, { headers: svc });
      expect(otherApp.status).toBe(404);
      expect(otherApp.json.error.code).toBe('APP_NOT_FOUND');
    });
  });

  describe('manifest semantics', () => {
    it('private: not callable by a client, callable through context.functions.execute', async () => {
      expect((await callFunction(dev, 'privateHelper', { x: 1 })).status).toBe(404);
      const r = await callFunction(dev, 'callsPrivate', { x: 5 });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ helper: true, args: { x: 5 }, user: 'anonymous', system: false });
    });

    it('can_evaluate %%user.type: denied to anonymous and normal users, allowed to a server-type user', async () => {
      expect((await callFunction(dev, 'gates/serverOnly', {})).status).toBe(403);
      expect((await callFunction(dev, 'gates/serverOnly', {}, bearer(await userToken(dev, 'u-n')))).status).toBe(403);
      const ok = await callFunction(dev, 'gates/serverOnly', {}, bearer(await userToken(dev, 'u-s', { type: 'server' })));
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual({ gate: 'serverOnly', user: 'u-s' });
    });

    it('can_evaluate %%user.custom_data.role', async () => {
      expect((await callFunction(dev, 'gates/adminRole', {})).status).toBe(403);
      expect(
        (await callFunction(dev, 'gates/adminRole', {}, bearer(await userToken(dev, 'u-r', { custom_data: { role: 'reader' } })))).status,
      ).toBe(403);
      expect(
        (await callFunction(dev, 'gates/adminRole', {}, bearer(await userToken(dev, 'u-a', { custom_data: { role: 'admin' } })))).status,
      ).toBe(200);
    });

    it('can_evaluate %%request.remoteIPAddress with $nin: a loopback caller is denied by a list of loopback addresses only', async () => {
      const denied = await callFunction(dev, 'gates/notLoopback', {});
      expect(denied.status).toBe(403);
      expect(denied.json.error.code).toBe('EXECUTION_DENIED');
      expect((await callFunction(dev, 'gates/notListed', {})).status).toBe(200);
    });

    it('can_evaluate %%args.x reads the named parameters', async () => {
      expect((await callFunction(dev, 'gates/argX', { x: 1 })).status).toBe(200);
      expect((await callFunction(dev, 'gates/argX', { x: 2 })).status).toBe(403);
      expect((await callFunction(dev, 'gates/argX', { x: '1' })).status).toBe(403);
      expect((await callFunction(dev, 'gates/argX', {})).status).toBe(403);
    });

    it('can_evaluate %%values.x reads values/<name>.json', async () => {
      expect((await callFunction(dev, 'gates/valueOpen', {})).status).toBe(200);
      expect((await callFunction(dev, 'gates/valueClosed', {})).status).toBe(403);
    });

    it('can_evaluate %function: allowed when it returns true, denied when it returns false or throws', async () => {
      expect((await callFunction(dev, 'gates/byFunction', { pass: 'yes' })).status).toBe(200);
      expect((await callFunction(dev, 'gates/byFunction', { pass: 'no' })).status).toBe(403);
      const threw = await callFunction(dev, 'gates/byFunction', { pass: 'throw' });
      expect(threw.status).toBe(403);
      expect(threw.json.error.code).toBe('EXECUTION_DENIED');
    });

    it('run-as precedence: run_as_system > run_as_user_id > run_as_user_id_script_source > the caller; context.user stays the caller', async () => {
      const token = await userToken(dev, 'u-caller');
      const cases: [string, boolean, { system: true } | { userId: string }][] = [
        ['runas/system', true, { system: true }],
        ['runas/systemOverUser', true, { system: true }],
        ['runas/systemOverScript', true, { system: true }],
        ['runas/fixedUser', false, { userId: 'u-fixed' }],
        ['runas/script', false, { userId: 'u-script' }],
        ['runas/caller', false, { userId: 'u-caller' }],
      ];
      for (const [name, system, runAs] of cases) {
        const mark = dev.events.length;
        const r = await callFunction(dev, name, {}, bearer(token));
        expect(r.status, name).toBe(200);
        expect(r.json, name).toMatchObject({ user: 'u-caller', type: 'normal', system });
        const event = (await dev.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === name)) as DevEvent & { entry: CallEntry };
        expect(event.entry.runAs, name).toEqual(runAs);
        expect(event.entry.user, name).toBe('u-caller');
        const logs = await request(dev, `/api/admin/v1/apps/${dev.appId}/logs?function=${name}&limit=1`, {
          headers: bearer(dev.serviceKey),
        });
        expect(logs.json.logs[0].runAs, name).toEqual(runAs);
        // The execute route (as no one in particular) resolves the same run-as.
        const executed = await request(dev, `/api/admin/v1/apps/${dev.appId}/functions/${name}/execute`, {
          method: 'POST',
          headers: bearer(dev.serviceKey),
          body: '{"args":[{}]}',
        });
        expect(executed.json.runAs, name).toEqual(name === 'runas/caller' ? { system: true } : runAs);
      }
    });

    it("nested context.functions.execute gives a sync callee's value, an async one's promise, and runs the callee with the same caller", async () => {
      const r = await callFunction(dev, 'nested', { x: 1 }, bearer(await userToken(dev, 'u-nest')));
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        syncIsPromise: false,
        asyncIsPromise: true,
        inner: { helper: true, args: { x: 1 }, user: 'u-nest', system: false },
        twice: { helper: true, args: { x: 2 }, user: 'u-nest', system: false },
      });
    });
  });

  describe('isolation and failures inside a function', () => {
    it('a JSON __proto__ key stays an own key of the parameters and pollutes nothing, then or later', async () => {
      const r = await callFunction(dev, 'echo', '{"__proto__":{"polluted":true},"a":1}');
      expect(r.status).toBe(200);
      expect(r.json.keys).toEqual(['__proto__', 'a']);
      expect(r.json.ownProto).toBe(true);
      expect(r.json.protoIsObject).toBe(true);
      expect(r.json.polluted).toBe('clean');
      expect(r.json.params).toEqual(JSON.parse('{"__proto__":{"polluted":true},"a":1}'));
      const form = new FormData();
      form.append('__proto__', 'x');
      const multipart = await callFunction(dev, 'echo', form);
      expect(multipart.json.ownProto).toBe(true);
      expect(multipart.json.polluted).toBe('clean');
      // Later calls, on every worker, see a clean Object.prototype.
      for (let i = 0; i < 4; i++) expect((await callFunction(dev, 'echo', {})).json.polluted).toBe('clean');
    });

    it('function code cannot see the service key: process.env is {}, globals and context do not hold it', async () => {
      for (const headers of [{}, bearer(dev.serviceKey)]) {
        const r = await callFunction(dev, 'limits/secrets', {}, headers);
        expect(r.status).toBe(200);
        expect(r.json.env).toEqual({});
        expect(r.json.envKeys).toEqual([]);
        expect(r.text).not.toContain(dev.serviceKey);
        expect(r.json.context).not.toContain('authorization');
      }
    });

    it('require("process").exit(1) in a function: 500 for that call, the next one is served', async () => {
      const r = await callFunction(dev, 'limits/exit', {});
      expect(r.status).toBe(500);
      expect(r.json.error.code).toBe('WORKER_EXITED');
      await expectAlive(dev);
      await expectAlive(dev);
    });

    it('an unhandled rejection fails the call with 500 UNHANDLED_REJECTION, the next one is served', async () => {
      // worker.ts: a stray rejection ends the current call and the worker is replaced.
      const r = await callFunction(dev, 'limits/rejection', {});
      expect(r.status).toBe(500);
      expect(r.json.error).toEqual({
        code: 'UNHANDLED_REJECTION',
        message: 'unhandled promise rejection: x',
        stack: [expect.stringMatching(/ \(functions\/limits\/rejection\.js:3:18\)$/)],
      });
      await expectAlive(dev);
    });
  });
});

describe('fn dev limits: --timeout 500, --memory 64 --workers 1', () => {
  let timed: DevServer;
  let small: DevServer;

  beforeAll(async () => {
    const app = copyFixture('dev/app');
    [timed, small] = await Promise.all([
      startDev(app, ['--timeout', '500', '--no-watch']),
      startDev(app, ['--memory', '64', '--workers', '1', '--no-watch']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([timed?.stop(), small?.stop()]);
  });

  it('answers 504 EXECUTION_TIME_LIMIT for an infinite loop, then serves the next call', async () => {
    const started = Date.now();
    const r = await callFunction(timed, 'limits/loop', {});
    expect(r.status).toBe(504);
    expect(r.json.error).toEqual({ code: 'EXECUTION_TIME_LIMIT', message: 'execution time limit exceeded (500 ms)' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectAlive(timed);
  });

  it('survives every worker looping at once', async () => {
    const replies = await Promise.all([1, 2, 3].map(() => callFunction(timed, 'limits/loop', {})));
    expect(replies.map((r) => r.status)).toEqual([504, 504, 504]);
    await expectAlive(timed);
  });

  it('answers 500 MEMORY_LIMIT for a memory bomb, then serves the next call', async () => {
    const r = await callFunction(small, 'limits/memory', {});
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe('MEMORY_LIMIT');
    expect(r.json.error.message).toContain('64 MB');
    await expectAlive(small);
  });

  // A timer left behind by a finished call (here on the one worker of this server) must not fail
  // the next, unrelated call, maybe another user's, nor write into its log.
  it('does not fail the next call with the error of a timer left behind by a finished call', async () => {
    const first = await callFunction(small, 'limits/lateThrow', {});
    expect(first.status).toBe(200);
    const next = await callFunction(small, 'limits/wait', { ms: 200 });
    expect(next.json).toBe('waited');
    expect(next.status).toBe(200);
  });

  it("does not log a finished call's late console output under the next call", async () => {
    await expectAlive(small);
    expect((await callFunction(small, 'limits/lateLog', {})).status).toBe(200);
    const mark = small.events.length;
    const next = await callFunction(small, 'limits/wait', { ms: 200 }, bearer(await userToken(small, 'u-other')));
    expect(next.status).toBe(200);
    const event = (await small.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === 'limits/wait')) as DevEvent & {
      entry: CallEntry;
    };
    expect(event.entry.user).toBe('u-other');
    expect(event.entry.logs).toEqual([]);
  });
});

describe('fn dev refuses to start', () => {
  it('on a port in use: USAGE, exit code 2', async () => {
    const dev = await startDev(copyFixture('dev/reload'), ['--no-watch']);
    try {
      const port = new URL(dev.url).port;
      const r = await fn(['dev', '--port', port, '--json', '--no-watch'], { cwd: copyFixture('dev/reload'), timeout: 15_000 });
      expect(r.exitCode).toBe(2);
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({
        ok: false,
        error: { code: 'USAGE', message: expect.stringContaining(`port ${port}`) },
      });
    } finally {
      await dev.stop();
    }
  });

  it('outside an app: NO_APP_ROOT', async () => {
    const r = await fn(['dev', '--port', '0', '--json'], { cwd: tempDir(), timeout: 15_000 });
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'NO_APP_ROOT' } });
  });
});

describe('fn dev hot reload', () => {
  let dev: DevServer;
  let app: string;
  const write = (dir: string, rel: string, text: string) => writeFileSync(join(dir, rel), text);
  const since = (server: DevServer, mark: number, kind: string, timeoutMs = 10_000) =>
    server.waitFor((e, i) => i >= mark && e.event === kind, timeoutMs);
  const source = (version: number) => `exports = function () {\n  return { version: ${version} };\n};\n`;

  /** Rewrites config.json unchanged until a reload shows that changes are seen. */
  async function untilWatching(server: DevServer, dir: string): Promise<void> {
    const config = readFileSync(join(dir, 'functions/config.json'), 'utf8');
    for (let attempt = 0; attempt < 50; attempt++) {
      const mark = server.events.length;
      write(dir, 'functions/config.json', config);
      try {
        await since(server, mark, 'reloaded', 200);
        return;
      } catch {
        // not watching yet
      }
    }
    throw new Error('fn dev never reloaded after a change');
  }

  beforeAll(async () => {
    app = copyFixture('dev/reload');
    dev = await startDev(app);
    await untilWatching(dev, app);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('serves an edited function from the next call on', async () => {
    expect((await callFunction(dev, 'version', {})).json).toEqual({ version: 1 });
    const mark = dev.events.length;
    write(app, 'functions/version.js', source(2));
    const reloaded = await since(dev, mark, 'reloaded');
    expect(reloaded).toMatchObject({ event: 'reloaded', functions: 1, warnings: 0 });
    expect(Number(reloaded.version)).toBeGreaterThan(1);
    expect((await callFunction(dev, 'version', {})).json).toEqual({ version: 2 });
  });

  it('makes an added function callable', async () => {
    expect((await callFunction(dev, 'added', {})).status).toBe(404);
    const mark = dev.events.length;
    write(app, 'functions/added.js', 'exports = function ({ a }) {\n  return { added: a };\n};\n');
    write(
      app,
      'functions/config.json',
      JSON.stringify(
        [
          { name: 'version', private: false },
          { name: 'added', private: false },
        ],
        null,
        2,
      ) + '\n',
    );
    await dev.waitFor((e, i) => i >= mark && e.event === 'reloaded' && e.functions === 2 && e.warnings === 0);
    const r = await callFunction(dev, 'added', { a: 'yes' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ added: 'yes' });
  });

  it('answers 500 FUNCTION_INVALID naming the file for an invalid edit, and serves the fix', async () => {
    expect((await callFunction(dev, 'version', {})).json).toEqual({ version: 2 });
    let mark = dev.events.length;
    write(app, 'functions/version.js', 'exports = function () {\n  return { version: 3 ;\n};\n');
    const reloaded = await since(dev, mark, 'reloaded');
    const diagnostics = reloaded.diagnostics as { severity: string; rule: string; file: string }[];
    expect(diagnostics).toEqual(
      expect.arrayContaining([expect.objectContaining({ severity: 'error', rule: 'source-syntax', file: 'functions/version.js' })]),
    );
    const broken = await callFunction(dev, 'version', {});
    expect(broken.status).toBe(500);
    expect(broken.json.error).toMatchObject({ code: 'FUNCTION_INVALID', message: expect.stringContaining('functions/version.js:2:') });
    mark = dev.events.length;
    write(app, 'functions/version.js', source(4));
    await since(dev, mark, 'reloaded');
    expect((await callFunction(dev, 'version', {})).json).toEqual({ version: 4 });
  });

  // chokidar drops a 'change' of a path within 50 ms of the previous one: a second save right
  // after a reload must still be served.
  it('serves a save of the same file made right after the previous reload', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const [first, second] of [
      [10, 11],
      [12, 13],
      [14, 15],
      [16, 17],
      [18, 19],
    ] as const) {
      const mark = dev.events.length;
      write(app, 'functions/version.js', source(first));
      await since(dev, mark, 'reloaded');
      write(app, 'functions/version.js', source(second));
      let served: unknown;
      for (let i = 0; i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        served = (await callFunction(dev, 'version', {})).json;
        if ((served as { version: number }).version === second) break;
      }
      expect(served).toEqual({ version: second });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  });

  it('stops on SIGINT: a stopped event, exit code 130', async () => {
    const result = await dev.stop();
    expect(result.exitCode).toBe(130);
    expect(dev.events.at(-1)).toEqual({ event: 'stopped' });
  });
});
