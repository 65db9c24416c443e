import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WatchHandlers } from '../../../src/runtime/runner-client.js';
import type { WatchSpec } from '../../../src/runtime/runner-wire.js';
import { clientAddress, clientApi, publicOrigin } from '../../../src/server/client-api.js';
import { metadataPath, verifyCustomJwt } from '../../../src/server/custom-jwt.js';
import { RateLimiter } from '../../../src/server/rate-limit.js';
import type { UserStore } from '../../../src/store/users.js';

describe('RateLimiter', () => {
  it('allows the capacity at once, then one per refill, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ capacity: 3, perSecond: 0.5 }, () => now);
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 2 });
    expect(limiter.take('b').ok).toBe(true);
    now = 1000;
    expect(limiter.take('a').ok).toBe(false);
    now = 2100;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    limiter.reset('a');
    expect(limiter.take('a').ok).toBe(true);
  });

  it('remembers a bounded number of keys, forgetting the least recently seen', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 0.001 }, () => 0, 2);
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c');
    // b was forgotten (a full bucket again); a was not.
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const hs = (payload: object, key: string, alg = 'HS256') => {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
};

describe('verifyCustomJwt', () => {
  const now = 1_700_000_000;
  const base = { algorithm: 'HS256' as const, keys: ['key-one'], metadataFields: [], now };

  it('checks signature, expiry, audience and copies metadata fields', () => {
    const token = hs({ sub: 'u1', exp: now + 60, aud: ['a', 'b'], user: { 'e.mail': 'x@y.z' } }, 'key-one');
    expect(
      verifyCustomJwt(token, { ...base, audience: ['a'], metadataFields: [{ required: true, name: 'user.e\\.mail', fieldName: 'email' }] }),
    ).toEqual({ ok: true, sub: 'u1', data: { email: 'x@y.z' } });
    expect(verifyCustomJwt(token, { ...base, keys: ['other', 'key-one'] }).ok).toBe(true);
    expect(verifyCustomJwt(token, { ...base, keys: ['other'] })).toMatchObject({ ok: false, message: /signature/ });
    expect(verifyCustomJwt(token, { ...base, audience: ['a', 'c'] })).toMatchObject({ ok: false, message: /audience/ });
    expect(verifyCustomJwt(token, { ...base, audience: ['a', 'c'], requireAnyAudience: true }).ok).toBe(true);
    expect(verifyCustomJwt(token, { ...base, metadataFields: [{ required: true, name: 'missing' }] })).toMatchObject({ ok: false });
    expect(verifyCustomJwt(hs({ sub: 'u1', exp: now - 3600 }, 'key-one'), base)).toMatchObject({ ok: false, message: /expired/ });
    expect(verifyCustomJwt(hs({ sub: 'u1' }, 'key-one'), base)).toMatchObject({ ok: false, message: /exp/ });
    expect(verifyCustomJwt(hs({ sub: 'u1', exp: now + 60 }, 'key-one', 'none'), base)).toMatchObject({ ok: false, message: /none/ });
    expect(verifyCustomJwt('a.b', base)).toMatchObject({ ok: false });
  });

  it('verifies RS256 with a PEM public key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const head = `${b64({ alg: 'RS256' })}.${b64({ sub: 'r1', exp: now + 60 })}`;
    const token = `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyCustomJwt(token, { ...base, algorithm: 'RS256', keys: [pem] })).toMatchObject({ ok: true, sub: 'r1' });
    expect(verifyCustomJwt(token, { ...base, algorithm: 'HS256', keys: [pem] })).toMatchObject({ ok: false });
  });

  it('splits metadata paths on unescaped dots', () => {
    expect(metadataPath('a.b\\.c.d')).toEqual(['a', 'b.c', 'd']);
  });
});

describe('publicOrigin and clientAddress', () => {
  const req = (headers: Record<string, string>, remoteAddress = '10.0.0.9') =>
    ({ headers, rawHeaders: Object.entries(headers).flat(), socket: { remoteAddress, encrypted: false } }) as unknown as IncomingMessage;

  it('uses the Host header unless a trusted proxy forwards another', () => {
    const forwarded = req({ host: '127.0.0.1:8787', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https' });
    expect(publicOrigin(forwarded, false)).toBe('http://127.0.0.1:8787');
    expect(publicOrigin(forwarded, true)).toBe('https://api.example.com');
    expect(publicOrigin(req({ host: 'h', forwarded: 'for=1.2.3.4;host=x.example;proto=https' }), true)).toBe('https://x.example');
    // A forwarded host that is not a host name is not used.
    expect(publicOrigin(req({ host: 'h:1', 'x-forwarded-host': 'a/b@evil' }), true)).toBe('http://127.0.0.1');
  });

  it('takes the address a trusted proxy appended last', () => {
    const r = req({ 'x-forwarded-for': '6.6.6.6, 1.2.3.4' });
    expect(clientAddress(r, false)).toBe('10.0.0.9');
    expect(clientAddress(r, true)).toBe('1.2.3.4');
  });
});

describe('clientApi watch streams', () => {
  const user = { id: 'u1', type: 'normal' as const, data: {}, custom_data: {}, identities: [] };

  it('streams events as SSE, closes the runner stream when the client goes away, and ends streams on endStreams', async () => {
    const opened: { spec: WatchSpec; handlers: WatchHandlers; closed: boolean }[] = [];
    let onClose: () => void = () => undefined;
    const handle = clientApi({
      users: {} as UserStore,
      jwtSecret: 's',
      trustProxy: false,
      appOf: (id) =>
        id === 'app'
          ? {
              appId: 'app',
              runtime: {
                call: () => Promise.reject(new Error('no calls here')),
                watch: (_source, spec, handlers) => {
                  const w = { spec, handlers, closed: false };
                  opened.push(w);
                  return () => {
                    w.closed = true;
                    onClose();
                  };
                },
              },
            }
          : undefined,
      authenticate: (header) =>
        header === 'Bearer good' ? { ok: true, caller: { kind: 'user', user }, appId: 'app' } : { ok: false, status: 401, message: 'no' },
      runCall: () => Promise.reject(new Error('no calls here')),
      httpInfo: () => ({ remoteIPAddress: '', rawHeaders: [], httpMethod: 'GET', rawQueryString: '' }),
      maxBodyBytes: 1024,
      revoked: new Set(),
    });
    const server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const rest = url.pathname.split('/').filter(Boolean).slice(3);
      void handle(req, res, req.method!, rest, url.searchParams, url.search.slice(1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const call = { name: 'watch', service: 'mongodb-atlas', arguments: [{ database: 'd', collection: 'c', ids: [1], filter: { a: 1 } }] };
      const url = `http://127.0.0.1:${port}/api/client/v2.0/app/app/functions/call?baas_request=${encodeURIComponent(Buffer.from(JSON.stringify(call)).toString('base64'))}`;

      const gone = new AbortController();
      const first = await fetch(url, { headers: { authorization: 'Bearer good' }, signal: gone.signal });
      expect(first.headers.get('content-type')).toBe('text/event-stream');
      expect(opened).toHaveLength(1);
      expect(opened[0]!.spec).toMatchObject({ db: 'd', coll: 'c', client: { user } });
      expect(JSON.parse(opened[0]!.spec.client!.pipeline)).toEqual([{ $match: { 'documentKey._id': { $in: [1] } } }, { $match: { a: 1 } }]);
      let nexts = 0;
      opened[0]!.handlers.event('t1', '{"x":"100%"}', () => nexts++);
      const reader = first.body!.getReader();
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toBe('data: {"x":"100%25"}\n\n');
      expect(nexts).toBe(1);
      expect(opened[0]!.handlers.resumeToken()).toEqual({ _data: 't1' });
      const closed = new Promise<void>((r) => (onClose = r));
      gone.abort();
      await closed;
      expect(opened[0]!.closed).toBe(true);

      const second = await fetch(`${url.replace(/\?/, '?baas_at=good&')}`);
      expect(second.status).toBe(200);
      const text = second.text();
      handle.endStreams();
      expect(await text).toBe('');
      expect(opened[1]!.closed).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
