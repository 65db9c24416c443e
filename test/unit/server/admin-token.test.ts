import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, listen, type Listening } from '../../../src/server/http.js';
import { CallLog } from '../../../src/server/logs.js';
import type { RuntimeHost } from '../../../src/runtime/host.js';
import type { CallOutcome, CallRequest } from '../../../src/runtime/types.js';

const SECRET = 'jwt-secret';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signed = (claims: Record<string, unknown>) => {
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(claims);
  return `${head}.${body}.${createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')}`;
};

describe('user tokens on the server', () => {
  const runtime = {
    app: { functions: {} },
    call: async (): Promise<CallOutcome> => ({
      ok: true,
      result: { kind: 'json', json: '1' },
      logs: [],
      durationMs: 1,
      runAs: { system: true },
    }),
    submit: (request: CallRequest, done: (outcome: CallOutcome) => void) =>
      done({
        ok: true,
        result: { kind: 'json', json: JSON.stringify(request.caller.id) },
        logs: [],
        durationMs: 1,
        runAs: { userId: request.caller.id },
      }),
  } as unknown as RuntimeHost;
  let server: Listening;
  beforeAll(async () => {
    server = await listen(
      createHandler({
        serviceKey: 'svc-key',
        jwtSecret: SECRET,
        apps: (id) => (id === 'app1' ? { appId: 'app1', runtime } : undefined),
        log: new CallLog(),
      }),
      '127.0.0.1',
      0,
    );
  });
  afterAll(() => server.close());

  const call = (token: string) =>
    fetch(`${server.url}/api/apps/app1/functions/f`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
  const mint = (body: unknown) =>
    fetch(`${server.url}/api/admin/v1/apps/app1/users/u1/token`, {
      method: 'POST',
      headers: { authorization: 'Bearer svc-key', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 401 for a token without exp and for an expired one; a current one is served', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await call(signed({ sub: 'u1' }))).status).toBe(401);
    expect((await call(signed({ sub: 'u1', exp: now - 5 }))).status).toBe(401);
    const ok = await call(signed({ sub: 'u1', exp: now + 60 }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toBe('u1');
  });

  it('mints tokens with exp: a day by default, expiresIn within 30 days, 400 outside', async () => {
    const before = Date.now();
    const byDefault = (await (await mint({})).json()) as { token: string; expiresAt: string };
    const ttl = (Date.parse(byDefault.expiresAt) - before) / 1000;
    expect(ttl).toBeGreaterThan(24 * 3600 - 5);
    expect(ttl).toBeLessThan(24 * 3600 + 5);
    expect((await call(byDefault.token)).status).toBe(200);

    const hour = (await (await mint({ expiresIn: 3600 })).json()) as { token: string };
    const claims = JSON.parse(Buffer.from(hour.token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(3600);

    for (const expiresIn of [0, -1, 1.5, '3600', 31 * 24 * 3600]) {
      const r = await mint({ expiresIn });
      expect(r.status, String(expiresIn)).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/expiresIn/);
    }
  });

  it('refuses an admin JSON body nested deeper than the call route allows, before parsing it', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await fetch(`${server.url}/api/admin/v1/apps/app1/functions/f/execute`, {
      method: 'POST',
      headers: { authorization: 'Bearer svc-key', 'content-type': 'application/json' },
      body: `{"args":${deep}}`,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_DEEP');
  });
});
