import { describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { createHandler, HttpError, listen, splitPath, type Listening } from '../../../src/server/http.js';
import { CallLog } from '../../../src/server/logs.js';
import type { RuntimeHost } from '../../../src/runtime/host.js';
import { requestInfoOf, type CallOutcome, type CallRequest } from '../../../src/runtime/types.js';

describe('splitPath', () => {
  it('splits the path into segments and the query', () => {
    const r = splitPath('/api/apps/app1/functions/sum?function=a&limit=2');
    expect(r.segments).toEqual(['api', 'apps', 'app1', 'functions', 'sum']);
    expect(r.query.get('function')).toBe('a');
    expect(r.query.get('limit')).toBe('2');
    expect(r.rawQuery).toBe('function=a&limit=2');
    // A % in the query is the query's own business.
    expect(splitPath('/f/x?q=%zz').segments).toEqual(['f', 'x']);
  });

  it('collapses the //api of a serverUrl ending in a slash, and any other empty segment', () => {
    expect(splitPath('//api/apps/a/functions/x').segments).toEqual(['api', 'apps', 'a', 'functions', 'x']);
    expect(splitPath('/prefix//api//apps/a/').segments).toEqual(['prefix', 'api', 'apps', 'a']);
    expect(splitPath('/').segments).toEqual([]);
    expect(splitPath('').segments).toEqual([]);
  });

  it('percent-decodes each segment on its own (an encoded slash stays inside its segment)', () => {
    expect(splitPath('/functions/reports/export%20v2').segments).toEqual(['functions', 'reports', 'export v2']);
    expect(splitPath('/functions/a%2Fb').segments).toEqual(['functions', 'a/b']);
    expect(splitPath('/functions/%2e%2e/x').segments).toEqual(['functions', '..', 'x']);
    expect(splitPath('/f/%C3%A9t%C3%A9').segments).toEqual(['f', 'été']);
    expect(splitPath('/f/a%3Fb?q=1').segments).toEqual(['f', 'a?b']);
  });

  it('throws HttpError 400 for a malformed escape', () => {
    for (const url of ['/functions/%E0%A4%A', '/functions/%zz', '/functions/100%']) {
      let caught: unknown;
      try {
        splitPath(url);
      } catch (error) {
        caught = error;
      }
      expect(caught, url).toBeInstanceOf(HttpError);
      expect((caught as HttpError).status).toBe(400);
      expect((caught as HttpError).code).toBe('BAD_REQUEST');
    }
  });
});

describe('createHandler with a stub runtime', () => {
  const calls: CallRequest[] = [];
  let outcome: CallOutcome = { ok: true, result: { kind: 'json', json: '"ok"' }, logs: [], durationMs: 1, runAs: { userId: 'anonymous' } };
  const runtime = {
    app: { functions: {} },
    call: async (request: CallRequest) => {
      calls.push(request);
      return outcome;
    },
    submit: (request: CallRequest, done: (outcome: CallOutcome) => void) => {
      calls.push(request);
      done(outcome);
    },
  } as unknown as RuntimeHost;

  async function withServer(test: (server: Listening) => Promise<void>): Promise<void> {
    const log = new CallLog();
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt-secret',
      apps: (id) => (id === 'app1' ? { appId: 'app1', runtime } : undefined),
      log,
      maxBodyBytes: 1024,
    });
    const server = await listen(handler, '127.0.0.1', 0);
    try {
      await test(server);
    } finally {
      await server.close();
    }
  }

  it('never passes the Authorization header (the token or service key) or a ?secret= to the function', async () => {
    calls.length = 0;
    await withServer(async ({ url }) => {
      const r = await fetch(`${url}/api/apps/app1/functions/f?secret=s3&x=1`, {
        method: 'POST',
        headers: { authorization: 'Bearer svc-key', 'x-custom': 'v' },
        body: '{"a":1}',
      });
      expect(r.status).toBe(200);
    });
    const request = calls[0]!;
    expect(request).toMatchObject({ name: 'f', args: [{ a: 1 }], via: 'admin', caller: { type: 'system' } });
    expect(request.request.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())).not.toContain('authorization');
    const seen = requestInfoOf(request.request);
    expect(seen.requestHeaders).not.toHaveProperty('authorization');
    expect(seen.requestHeaders['x-custom']).toEqual(['v']);
    expect(request.request.rawQueryString).toBe('x=1');
    expect(JSON.stringify(request)).not.toContain('svc-key');
    expect(request.request.remoteIPAddress).toMatch(/127\.0\.0\.1/);
  });

  it('maps a runtime error to its status with { error: { code, message } } (429 for too many calls)', async () => {
    outcome = {
      ok: false,
      error: { code: 'TOO_MANY_REQUESTS', message: 'more than 1 calls at once', status: 429 },
      logs: [],
      durationMs: 0,
      runAs: { userId: 'anonymous' },
    };
    await withServer(async ({ url }) => {
      const r = await fetch(`${url}/api/apps/app1/functions/f`, { method: 'POST' });
      expect(r.status).toBe(429);
      expect(await r.json()).toEqual({ error: { code: 'TOO_MANY_REQUESTS', message: 'more than 1 calls at once' } });
    });
  });

  it('answers 413 over maxBodyBytes without calling the runtime', async () => {
    calls.length = 0;
    await withServer(async ({ url }) => {
      const r = await fetch(`${url}/api/apps/app1/functions/f`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ s: 'x'.repeat(2000) }),
      });
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    });
    expect(calls).toEqual([]);
  });
});

describe('call log lines and answers', () => {
  // Each call's outcome is picked by its name: f0..f5 answer JSON, "bad" a Response with a header
  // name Node refuses to send.
  const outcomeOf = (request: CallRequest): CallOutcome =>
    request.name === 'bad'
      ? {
          ok: true,
          result: { kind: 'response', status: 200, headers: [['bad header', 'x']], body: new Uint8Array() },
          logs: [],
          durationMs: 1,
          runAs: { userId: 'anonymous' },
        }
      : { ok: true, result: { kind: 'json', json: JSON.stringify(request.name) }, logs: [], durationMs: 1, runAs: { userId: 'anonymous' } };
  const runtime = {
    app: { functions: {} },
    call: async (request: CallRequest): Promise<CallOutcome> => outcomeOf(request),
    submit: (request: CallRequest, done: (outcome: CallOutcome) => void) => queueMicrotask(() => done(outcomeOf(request))),
  } as unknown as RuntimeHost;

  it("prints each call's line before its answer is sent, once, and answers every call even if one answer fails", async () => {
    const events: string[] = [];
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt-secret',
      apps: (id) => (id === 'app1' ? { appId: 'app1', runtime } : undefined),
      log: new CallLog(),
      onCall: (entry) => events.push(`line ${entry.function}`),
    });
    const server = await listen(
      (req, res) => {
        const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
        res.end = ((...args: unknown[]) => {
          events.push(`answer ${req.url!.split('/').pop()}`);
          return end(...args);
        }) as typeof res.end;
        handler(req, res);
      },
      '127.0.0.1',
      0,
    );
    try {
      const names = ['f0', 'f1', 'bad', 'f2', 'f3', 'f4', 'f5'];
      const answers = await Promise.all(names.map((name) => fetch(`${server.url}/api/apps/app1/functions/${name}`, { method: 'POST' })));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 500, 200, 200, 200, 200]);
      expect(await answers[0]!.json()).toBe('f0');
      for (const name of names) {
        expect(events.indexOf(`line ${name}`)).toBeGreaterThanOrEqual(0);
        expect(events.indexOf(`line ${name}`)).toBeLessThan(events.indexOf(`answer ${name}`));
      }
      expect(events.filter((e) => e.startsWith('line ')).length).toBe(names.length);
    } finally {
      await server.close();
    }
  });

  it('answers a call whose log line fails, with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt-secret',
      apps: (id) => (id === 'app1' ? { appId: 'app1', runtime } : undefined),
      log: new CallLog(),
      onCall: () => {
        throw new Error('disk full');
      },
    });
    const server = await listen(handler, '127.0.0.1', 0);
    try {
      const r = await fetch(`${server.url}/api/apps/app1/functions/f0`, { method: 'POST' });
      expect(r.status).toBe(200);
      expect(await r.json()).toBe('f0');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.includes('disk full'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
      await server.close();
    }
  });

  it('tells onCall whether other calls are still running (a busy server may hold its lines)', async () => {
    // "slow" answers when released; the others at once.
    let release: () => void = () => {};
    const slowRuntime = {
      app: { functions: {} },
      call: async (request: CallRequest): Promise<CallOutcome> => outcomeOf(request),
      submit: (request: CallRequest, done: (outcome: CallOutcome) => void) => {
        if (request.name === 'slow') release = () => done(outcomeOf(request));
        else queueMicrotask(() => done(outcomeOf(request)));
      },
    } as unknown as RuntimeHost;
    const seen: [string, boolean][] = [];
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt-secret',
      apps: (id) => (id === 'app1' ? { appId: 'app1', runtime: slowRuntime } : undefined),
      log: new CallLog(),
      onCall: (entry, busy) => seen.push([entry.function, busy]),
    });
    const server = await listen(handler, '127.0.0.1', 0);
    try {
      const call = (name: string) => fetch(`${server.url}/api/apps/app1/functions/${name}`, { method: 'POST' });
      expect((await call('alone')).status).toBe(200);
      const slow = call('slow');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await call('beside')).status).toBe(200);
      release();
      expect((await slow).status).toBe(200);
      expect(seen).toEqual([
        ['alone', false],
        ['beside', true],
        ['slow', false],
      ]);
    } finally {
      await server.close();
    }
  });
});
