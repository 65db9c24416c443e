// The App Services globals besides context (BSON, EJSON, utils) and context.http, as function code
// sees them: exported functions that use them run unchanged.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppSandbox } from '../../../src/runtime/sandbox.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
import { bundleOf, callOf, fnDef } from './bundle-fixtures.js';

async function run(source: string, args: unknown[] = [{}]): Promise<unknown> {
  const sandbox = new AppSandbox(bundleOf('1', [fnDef('f', source)]));
  const { outcome } = (await sandbox.run(callOf('f', args))) as { outcome: CallOutcome };
  if (!outcome.ok) throw new Error(`${outcome.error?.code}: ${outcome.error?.message}`);
  return outcome.result?.kind === 'json' ? JSON.parse(outcome.result.json) : outcome.result;
}

describe('BSON and EJSON', () => {
  it('make ObjectIds, and the other BSON types App Services lists', async () => {
    const result = (await run(`exports = function () {
      const id = new BSON.ObjectId('5f1d7f1a2b3c4d5e6f708192');
      return {
        hex: id.toHexString(), fresh: BSON.ObjectId().toHexString().length, isOid: BSON.ObjectId('5f1d7f1a2b3c4d5e6f708192') instanceof BSON.ObjectId, same: id.equals(BSON.ObjectId.createFromHexString('5f1d7f1a2b3c4d5e6f708192')),
        int: new BSON.Int32(7).valueOf(), long: BSON.Long.fromString('9007199254740993').toString(), dec: BSON.Decimal128.fromString('1.10').toString(),
        regex: new BSON.BSONRegExp('^a', 'i').pattern, max: new BSON.MaxKey()._bsontype, min: new BSON.MinKey()._bsontype, double: new BSON.Double(1.5).valueOf(),
      };
    };`)) as Record<string, unknown>;
    expect(result).toEqual({
      hex: '5f1d7f1a2b3c4d5e6f708192',
      fresh: 24,
      isOid: true,
      same: true,
      int: 7,
      long: '9007199254740993',
      dec: '1.10',
      regex: '^a',
      max: 'MaxKey',
      min: 'MinKey',
      double: 1.5,
    });
  });

  it('give Binary the helpers App Services adds: fromHex, fromBase64, toHex, toBase64, text', async () => {
    expect(
      await run(
        `exports = () => { const b = BSON.Binary.fromHex('68656c6c6f'); return [b.text(), b.toBase64(), BSON.Binary.fromBase64('aGk=').text(), b.toHex()]; };`,
      ),
    ).toEqual(['hello', 'aGVsbG8=', 'hi', '68656c6c6f']);
  });

  it('stringify and parse EJSON, canonical and relaxed', async () => {
    const result = (await run(`exports = function () {
      const doc = { _id: new BSON.ObjectId('5f1d7f1a2b3c4d5e6f708192'), n: new BSON.Int32(1), when: new Date(0) };
      const text = EJSON.stringify(doc, { relaxed: false });
      const back = EJSON.parse(text, { relaxed: false });
      return { text, oid: back._id.toHexString(), relaxed: EJSON.stringify({ n: 1 }) };
    };`)) as Record<string, unknown>;
    expect(JSON.parse(result.text as string)).toEqual({
      _id: { $oid: '5f1d7f1a2b3c4d5e6f708192' },
      n: { $numberInt: '1' },
      when: { $date: { $numberLong: '0' } },
    });
    expect(result.oid).toBe('5f1d7f1a2b3c4d5e6f708192');
    expect(result.relaxed).toBe('{"n":1}');
  });

  it('can be shadowed by a function file that declares its own', async () => {
    expect(await run(`const BSON = { mine: true };\nexports = () => BSON;`)).toEqual({ mine: true });
  });
});

describe('utils', () => {
  it('hash (a BSON.Binary) and hmac (text) like node:crypto', async () => {
    const result = (await run(
      `exports = () => [utils.crypto.hash('sha256', 'abc').toHex(), utils.crypto.hash('md5', 'abc').toBase64(), utils.crypto.hmac('msg', 'key', 'sha256', 'hex'), utils.crypto.hmac('msg', 'key', 'sha512', 'base64')];`,
    )) as string[];
    expect(result).toEqual([
      createHash('sha256').update('abc').digest('hex'),
      createHash('md5').update('abc').digest('base64'),
      createHmac('sha256', 'key').update('msg').digest('hex'),
      createHmac('sha512', 'key').update('msg').digest('base64'),
    ]);
  });

  it('refuse what they do not offer with a clear message', async () => {
    await expect(run(`exports = () => utils.crypto.hash('sha3', 'abc');`)).rejects.toThrow(/sha1, sha256, md5/);
    await expect(run(`exports = () => utils.crypto.encrypt('aes', 'm', 'k');`)).rejects.toThrow(
      /utils.crypto.encrypt is not available in fn's runtime/,
    );
    await expect(run(`exports = () => utils.jwt.encode('RS256', {}, 'k');`)).rejects.toThrow(/HS256, HS384, HS512/);
  });

  it('encode JWTs that decode again, with the header on request; a wrong key or method is refused', async () => {
    const result = (await run(`exports = function () {
      const token = utils.jwt.encode('HS256', { sub: 'u1', n: 2 }, 'secret', { kid: 'k1' });
      return { parts: token.split('.').length, payload: utils.jwt.decode(token, 'secret'), full: utils.jwt.decode(token, 'secret', true),
        wrongKey: (() => { try { utils.jwt.decode(token, 'other'); return 'accepted'; } catch (e) { return e.message; } })(),
        wrongMethod: (() => { try { utils.jwt.decode(token, 'secret', false, ['HS512']); return 'accepted'; } catch (e) { return e.message; } })() };
    };`)) as Record<string, unknown>;
    expect(result.parts).toBe(3);
    expect(result.payload).toEqual({ sub: 'u1', n: 2 });
    expect(result.full).toEqual({ header: { kid: 'k1', alg: 'HS256', typ: 'JWT' }, payload: { sub: 'u1', n: 2 } });
    expect(result.wrongKey).toMatch(/signature is invalid/);
    expect(result.wrongMethod).toMatch(/not accepted/);
  });
});

describe('context.http', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/moved') {
          res.writeHead(302, { location: '/hello' });
          return void res.end();
        }
        if (req.url?.startsWith('/digest')) {
          // A server that checks an RFC 7616 answer (MD5, qop auth) for user "ann", password "s3cret".
          const auth = String(req.headers.authorization ?? '');
          const field = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(auth)?.[1];
          const md5 = (t: string) => createHash('md5').update(t).digest('hex');
          const ha1 = md5('ann:fn-test:s3cret');
          const ha2 = md5(`${req.method}:${field('uri')}`);
          const expected = md5(`${ha1}:n0nce:${field('nc')}:${field('cnonce')}:auth:${ha2}`);
          if (auth.startsWith('Digest ') && field('response') === expected && field('uri') === req.url) {
            res.writeHead(200, { 'content-type': 'text/plain' });
            return void res.end('digest ok');
          }
          res.writeHead(401, { 'www-authenticate': 'Digest realm="fn-test", qop="auth", nonce="n0nce", opaque="op", algorithm=MD5' });
          return void res.end('who are you');
        }
        res.writeHead(201, { 'content-type': 'text/plain', 'x-a': 'b' });
        res.end(`got ${req.method} ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the request App Services would, and answers with status, headers and a Binary body', async () => {
    const result = (await run(
      `exports = async function ({ base }) {
        const a = await context.http.post({ url: base + '/hello', headers: { 'X-Token': ['t1'] }, body: { n: 1 }, encodeBodyAsJSON: true });
        const b = await context.http.get({ scheme: 'http', host: base.slice(7), path: '/q', query: { a: ['1', '2'] } });
        const c = await context.http.get({ url: base + '/moved' });
        const d = await context.http.get({ url: base + '/moved', followRedirects: true });
        return { a: { status: a.statusCode, text: a.body.text(), xa: a.headers['x-a'] }, b: b.body.text(), c: c.statusCode, d: d.body.text() };
      };`,
      [{ base }],
    )) as Record<string, unknown>;
    expect(result).toEqual({ a: { status: 201, text: 'got POST {"n":1}', xa: ['b'] }, b: 'got GET ', c: 302, d: 'got GET ' });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/hello', headers: { 'x-token': 't1', 'content-type': 'application/json' } });
    expect(seen[1]!.url).toBe('/q?a=1&a=2');
  });

  it('sends username and password as Basic auth, from the options or from credentials in the url, never in the url', async () => {
    seen.length = 0;
    const result = await run(
      `exports = async function ({ base }) {
        const a = await context.http.get({ url: base + '/basic', username: 'ann', password: 'p:w' });
        const b = await context.http.get({ url: base.replace('http://', 'http://bob:pw%40x@') + '/basic' });
        const c = await context.http.get({ scheme: 'http', host: base.slice(7), path: '/basic', username: 'cy', password: 'z' });
        return [a.statusCode, b.statusCode, c.statusCode];
      };`,
      [{ base }],
    );
    expect(result).toEqual([201, 201, 201]);
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    expect(seen.map((r) => r.headers.authorization)).toEqual([basic('ann', 'p:w'), basic('bob', 'pw@x'), basic('cy', 'z')]);
    expect(seen.every((r) => r.url === '/basic')).toBe(true);
  });

  it('answers an HTTP Digest challenge with digestAuth', async () => {
    const result = await run(
      `exports = async function ({ base }) {
        const ok = await context.http.get({ url: base + '/digest/x?y=1', username: 'ann', password: 's3cret', digestAuth: true });
        const wrong = await context.http.get({ url: base + '/digest/x', username: 'ann', password: 'nope', digestAuth: true });
        return { ok: [ok.statusCode, ok.body.text()], wrong: wrong.statusCode };
      };`,
      [{ base }],
    );
    expect(result).toEqual({ ok: [200, 'digest ok'], wrong: 401 });
  });
});
