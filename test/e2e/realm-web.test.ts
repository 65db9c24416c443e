// The App Services client API end to end: the real realm-web 2.0.1 against the built fn dev, with
// only its base URL changed. Users, sessions, functions/call in EJSON, the MongoDB service under
// the rules, and the Base44 route taking a realm-web access token.
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Realm from 'realm-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDev, type DevServer } from './dev-helpers.js';
import { cleanupTemps, fn, tempDir } from './helpers.js';
import { cleanEnv, fnAt, startServe } from './serve-helpers.js';

const JWT_KEY = 'k'.repeat(40);

function makeApp(): string {
  const root = tempDir('fn-realm-e2e-');
  const write = (rel: string, value: unknown) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  };
  write('fn.config.json', { appId: 'shop-abcde' });
  write('realm_config.json', { app_id: 'shop-abcde', allowed_request_origins: ['https://shop.example.com'] });
  write('functions/config.json', [
    { name: 'sum' },
    { name: 'echoTypes' },
    { name: 'whoami' },
    { name: 'secret', private: true },
    { name: 'onlyAnn', can_evaluate: { '%%user.data.email': 'ann@example.com' } },
    { name: 'authByCode', private: true },
    { name: 'confirmUser', private: true },
    { name: 'resetPw', private: true },
    { name: 'lastToken', private: true, run_as_system: true },
    { name: 'noteWrite', run_as_system: true },
  ]);
  // Writes to shop.notes as system, so that a watcher sees changes it could not make itself.
  write(
    'functions/noteWrite.js',
    `exports = async function (op, filter, doc) {\n  const notes = context.services.get('mongodb-atlas').db('shop').collection('notes');\n  if (op === 'insert') return notes.insertOne(doc);\n  return notes.updateOne(filter, doc);\n};\n`,
  );
  // Confirmation and reset functions keep the token they are given where the test can read it.
  const keep = `await context.services.get('mongodb-atlas').db('app').collection('tokens').insertOne({ token, tokenId, at: Date.now() });`;
  write(
    'functions/confirmUser.js',
    `exports = async function ({ username, token, tokenId }) {\n  if (username.startsWith('fail')) return { status: 'fail' };\n  if (username.startsWith('ok')) return { status: 'success' };\n  ${keep}\n  return { status: 'pending' };\n};\n`,
  );
  write(
    'functions/resetPw.js',
    `exports = async function ({ username, password, token, tokenId }, how) {\n  if (how === 'now') return { status: 'success' };\n  if (how === 'later') { ${keep} return { status: 'pending' }; }\n  return { status: 'fail' };\n};\n`,
  );
  write(
    'functions/lastToken.js',
    `exports = async function () {\n  const [t] = await context.services.get('mongodb-atlas').db('app').collection('tokens').find({}).sort({ at: -1 }).limit(1).toArray();\n  return { token: t.token, tokenId: t.tokenId };\n};\n`,
  );
  write('functions/sum.js', 'exports = function (a, b) { return a + b; };\n');
  write(
    'functions/echoTypes.js',
    'exports = function (id, when) { return { isOid: id instanceof BSON.ObjectId, hex: id.toHexString(), year: when.getUTCFullYear(), at: new Date(Date.UTC(2024, 0, 2)), n: 3, d: 1.5 }; };\n',
  );
  write('functions/whoami.js', 'exports = function () { return context.user; };\n');
  write('functions/secret.js', 'exports = function () { return "hidden"; };\n');
  write('functions/onlyAnn.js', 'exports = function () { return "hi ann"; };\n');
  write(
    'functions/authByCode.js',
    'exports = function (payload) { if (payload.code !== "open-sesame") throw new Error("wrong code"); return { id: "ext-" + payload.who, name: payload.who }; };\n',
  );
  write('data_sources/mongodb-atlas/config.json', { name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } });
  write('data_sources/mongodb-atlas/shop/items/rules.json', {
    database: 'shop',
    collection: 'items',
    roles: [{ name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true, insert: true, delete: true }],
    filters: [{ name: 'mine', apply_when: {}, query: { owner: '%%user.id' } }],
  });
  // Notes: a user reads only their own (a filter), and never the field "secret" (a field rule).
  write('data_sources/mongodb-atlas/shop/notes/rules.json', {
    database: 'shop',
    collection: 'notes',
    roles: [
      {
        name: 'owner',
        apply_when: { owner: '%%user.id' },
        fields: { secret: { read: false, write: false } },
        additional_fields: { read: true, write: true },
      },
    ],
    filters: [{ name: 'mine', apply_when: {}, query: { owner: '%%user.id' } }],
  });
  write('data_sources/mongodb-atlas/app/profiles/rules.json', {
    database: 'app',
    collection: 'profiles',
    roles: [{ name: 'self', apply_when: { user_id: '%%user.id' }, read: true, write: true, insert: true, delete: false }],
  });
  write('auth/providers.json', {
    'anon-user': { name: 'anon-user', type: 'anon-user', disabled: false },
    'local-userpass': { name: 'local-userpass', type: 'local-userpass', disabled: false, config: { autoConfirm: true } },
    'api-key': { name: 'api-key', type: 'api-key', disabled: false },
    'custom-function': { name: 'custom-function', type: 'custom-function', disabled: false, config: { authFunctionName: 'authByCode' } },
    'custom-token': {
      name: 'custom-token',
      type: 'custom-token',
      disabled: false,
      config: { audience: 'shop', signingAlgorithm: 'HS256', useJWKURI: false },
      secret_config: { signingKeys: ['jwtKey'] },
      metadata_fields: [
        { required: true, name: 'email' },
        { required: false, name: 'profile.first\\.name', field_name: 'firstName' },
      ],
    },
    'oauth2-google': { name: 'oauth2-google', type: 'oauth2-google', disabled: false, config: { clientId: 'x' } },
  });
  write('auth/custom_user_data.json', {
    enabled: true,
    mongo_service_name: 'mongodb-atlas',
    database_name: 'app',
    collection_name: 'profiles',
    user_id_field: 'user_id',
  });
  write('.fn/secrets.json', { jwtKey: JWT_KEY });
  return root;
}

function hs256(payload: Record<string, unknown>, key = JWT_KEY): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b({ alg: 'HS256', typ: 'JWT' })}.${b(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

let dev: DevServer;
let root: string;
const appOf = () => new Realm.App({ id: 'shop-abcde', baseUrl: dev.url });

beforeAll(async () => {
  root = makeApp();
  dev = await startDev(root, [], { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' });
}, 30_000);
afterAll(async () => {
  await dev?.stop();
  cleanupTemps();
});

describe('realm-web against fn dev', () => {
  it('answers location with its own origin, and 404 for another app', async () => {
    const res = await fetch(`${dev.url}/api/client/v2.0/app/shop-abcde/location`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ hostname: dev.url, ws_hostname: dev.url.replace('http', 'ws') });
    // Without --trust-proxy a forwarded host is not believed.
    const forwarded = await fetch(`${dev.url}/api/client/v2.0/app/shop-abcde/location`, {
      headers: { 'x-forwarded-host': 'evil.example' },
    });
    expect(((await forwarded.json()) as { hostname: string }).hostname).toBe(dev.url);
    const other = await fetch(`${dev.url}/api/client/v2.0/app/nope/location`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error_code: 'AppNotFound', link: '' });
  });

  it("lets pages of the app's allowed_request_origins call, and no others", async () => {
    const preflight = (path: string, origin: string) =>
      fetch(`${dev.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    for (const path of [
      '/api/client/v2.0/app/shop-abcde/functions/call',
      '/api/client/v2.0/auth/session',
      '/api/apps/shop-abcde/functions/sum',
    ]) {
      const allowed = await preflight(path, 'https://shop.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      expect((await preflight(path, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('logs in anonymously and calls functions in EJSON; private and can_evaluate are enforced', async () => {
    const app = appOf();
    const user = await app.logIn(Realm.Credentials.anonymous());
    expect(user.id).toMatch(/^[0-9a-f]{24}$/);
    expect(user.providerType).toBe('anon-user');
    expect(await user.callFunction('sum', 2, 3)).toBe(5);
    const oid = new Realm.BSON.ObjectId();
    const echoed: { at: Date } = await user.callFunction('echoTypes', oid, new Date(Date.UTC(1999, 5, 1)));
    expect(echoed).toMatchObject({ isOid: true, hex: oid.toHexString(), year: 1999, n: 3, d: 1.5 });
    expect(echoed.at).toBeInstanceOf(Date);
    expect(echoed.at.toISOString()).toBe('2024-01-02T00:00:00.000Z');
    const me = await user.callFunction('whoami');
    expect(me).toMatchObject({ id: user.id, type: 'normal', identities: [{ provider_type: 'anon-user' }] });

    await expect(user.callFunction('secret')).rejects.toMatchObject({ statusCode: 404, errorCode: 'FunctionNotFound' });
    await expect(user.callFunction('nothere')).rejects.toMatchObject({ statusCode: 404, errorCode: 'FunctionNotFound' });
    await expect(user.callFunction('onlyAnn')).rejects.toMatchObject({ statusCode: 403, errorCode: 'NotCallable' });

    // The same access token on the Base44 route: the same user.
    const base44 = await fetch(`${dev.url}/api/apps/shop-abcde/functions/whoami`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(base44.status).toBe(200);
    expect(await base44.json()).toMatchObject({ id: user.id, identities: [{ provider_type: 'anon-user' }] });
    await user.logOut();
  });

  it('refuses a call without a session, and refreshes an expired access token once and retries', async () => {
    const bare = await fetch(`${dev.url}/api/client/v2.0/app/shop-abcde/functions/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sum', arguments: [] }),
    });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error_code: 'InvalidSession' });

    const app = appOf();
    const user = await app.logIn(Realm.Credentials.anonymous(false));
    const good = user.accessToken!;
    // A token that no longer verifies (as an expired one): 401 InvalidSession, then realm-web refreshes.
    user.accessToken = `${good.slice(0, good.lastIndexOf('.'))}.AAAA`;
    expect(await user.callFunction('sum', 1, 1)).toBe(2);
    expect(user.accessToken).not.toBe(good.slice(0, -1));
    expect(user.accessToken.split('.')[2]).not.toBe('AAAA');
    const payload = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
    expect(payload.exp - payload.iat).toBe(1800);
  });

  it('registers, logs in and out with email/password; a wrong password and logout are refused', async () => {
    const app = appOf();
    await app.emailPasswordAuth.registerUser({ email: 'ann@example.com', password: 'hunter22' });
    await expect(app.emailPasswordAuth.registerUser({ email: 'ann@example.com', password: 'hunter22' })).rejects.toMatchObject({
      statusCode: 409,
      errorCode: 'AccountNameInUse',
    });
    await expect(app.emailPasswordAuth.registerUser({ email: 'bob@example.com', password: '123' })).rejects.toMatchObject({
      statusCode: 400,
      error: expect.stringMatching(/between 6 and 128/),
    });
    await expect(app.logIn(Realm.Credentials.emailPassword('ann@example.com', 'wrong-one'))).rejects.toMatchObject({
      statusCode: 401,
      errorCode: 'InvalidPassword',
    });
    const ann = await app.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    expect(ann.profile.email).toBe('ann@example.com');
    expect(await ann.callFunction('onlyAnn')).toBe('hi ann');
    const again = await appOf().logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    expect(again.id).toBe(ann.id);

    // The password is stored as an scrypt hash, never as given.
    const stored = readFileSync(join(root, '.fn', 'users', 'shop-abcde.json'), 'utf8');
    expect(stored).not.toContain('hunter22');
    expect(stored).toMatch(/scrypt\$15\$8\$1\$/);

    const refresh = ann.refreshToken!;
    await ann.logOut();
    const after = await fetch(`${dev.url}/api/client/v2.0/auth/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${refresh}` },
    });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ error_code: 'InvalidSession', error: 'failed to find refresh token' });
  });

  it('rate-limits logins per account [slow]', async () => {
    const app = appOf();
    await app.emailPasswordAuth.registerUser({ email: 'rate@example.com', password: 'right-password' });
    const statuses: number[] = [];
    // 10 attempts at once, then one every 6 s: far fewer than these come back in time.
    for (let i = 0; i < 30 && !statuses.includes(429); i++) {
      try {
        await app.logIn(Realm.Credentials.emailPassword('rate@example.com', `wrong-${i}`));
      } catch (error) {
        statuses.push((error as { statusCode: number }).statusCode);
      }
    }
    expect(statuses.at(-1)).toBe(429);
    // register took one of the account's 10 attempts.
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(9);
    // Locked out, the right password is refused too, and the answer says when to come back.
    const right = await fetch(`${dev.url}/api/client/v2.0/app/shop-abcde/auth/providers/local-userpass/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'rate@example.com', password: 'right-password' }),
    });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await right.json()).toMatchObject({ error_code: 'TooManyRequests' });
  });

  it('uses the MongoDB service with the rules of the user', async () => {
    const a = await appOf().logIn(Realm.Credentials.anonymous(false));
    const b = await appOf().logIn(Realm.Credentials.anonymous(false));
    const items = (u: Realm.User) =>
      u.mongoClient('mongodb-atlas').db('shop').collection<{ _id: unknown; owner: string; name: string; n?: number }>('items');
    const inserted = await items(a).insertOne({ owner: a.id, name: 'pen', n: 1 });
    expect(inserted.insertedId).toBeInstanceOf(Realm.BSON.ObjectId);
    await items(a).insertMany([
      { owner: a.id, name: 'ink', n: 2 },
      { owner: a.id, name: 'cap', n: 3 },
    ]);
    await items(b).insertOne({ owner: b.id, name: 'bob-thing' });
    // Another user's document may not be written.
    await expect(items(b).insertOne({ owner: a.id, name: 'forged' })).rejects.toMatchObject({ statusCode: 400 });

    expect((await items(a).find({}, { sort: { n: -1 }, limit: 2 })).map((d) => d.name)).toEqual(['cap', 'ink']);
    expect(await items(a).count()).toBe(3);
    expect((await items(b).find()).map((d) => d.name)).toEqual(['bob-thing']);
    expect(await items(b).findOne({ name: 'pen' })).toBeNull();
    expect(await items(a).findOne({ name: 'pen' }, { projection: { name: 1, _id: 0 } })).toEqual({ name: 'pen' });

    expect(await items(a).updateOne({ name: 'pen' }, { $set: { n: 10 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
    expect(await items(b).updateMany({}, { $set: { n: 99 } })).toMatchObject({ matchedCount: 1 });
    const updated = await items(a).findOneAndUpdate({ name: 'ink' }, { $inc: { n: 1 } }, { returnNewDocument: true });
    expect(updated?.n).toBe(3);
    const deleted = await items(a).findOneAndDelete({ name: 'cap' });
    expect(deleted?.name).toBe('cap');
    expect(await items(b).deleteMany({})).toEqual({ deletedCount: 1 });
    expect(await items(a).count()).toBe(2);
    expect(await items(a).aggregate([{ $group: { _id: null, total: { $sum: '$n' } } }])).toEqual([{ _id: null, total: 13 }]);
    // An operation the service does not have.
    await expect(a.callFunction('nope')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('watches a collection over server-sent events: only the changes the rules let the user read', async () => {
    const a = await appOf().logIn(Realm.Credentials.anonymous(false));
    const b = await appOf().logIn(Realm.Credentials.anonymous(false));
    const write = (op: 'insert' | 'update', filter: unknown, doc: unknown) => a.callFunction('noteWrite', op, filter, doc);
    await write('insert', null, { _id: 'note-a', owner: a.id, text: 'x', secret: 's1', n: 0 });
    await write('insert', null, { _id: 'note-b', owner: b.id, text: 'bee' });
    type Change = {
      operationType: string;
      documentKey: { _id: unknown };
      fullDocument?: Record<string, unknown>;
      updateDescription?: { updatedFields: Record<string, unknown> };
    };
    const notes = a.mongoClient('mongodb-atlas').db('shop').collection('notes');
    const all = notes.watch() as AsyncGenerator<Change>;
    const one = notes.watch({ ids: ['note-a'], filter: { operationType: 'update' } }) as AsyncGenerator<Change>;

    // The streams open in the app's runner while this goes on: change note-a until both have
    // seen a change, then a marker that both see; what follows is what each saw from then on.
    let open = false;
    const opened = Promise.all([all.next(), one.next()]).then(() => void (open = true));
    for (let i = 0; !open; i++) {
      if (i === 200) throw new Error('the watch streams never delivered an event');
      await write('update', { _id: 'note-a' }, { $inc: { n: 1 } });
      await Promise.race([opened, new Promise((r) => setTimeout(r, 50))]);
    }
    const until = async (stream: AsyncGenerator<Change>, phase: string): Promise<Change[]> => {
      const seen: Change[] = [];
      for (;;) {
        const { value, done } = await stream.next();
        if (done) throw new Error(`the stream ended before phase ${phase}`);
        if (value.updateDescription?.updatedFields.phase === phase) return seen;
        seen.push(value);
      }
    };
    await write('update', { _id: 'note-a' }, { $set: { phase: 'go' } });
    await until(all, 'go');
    await until(one, 'go');

    await write('insert', null, { _id: 'note-b2', owner: b.id, text: 'not yours' });
    await write('insert', null, { _id: 'note-a2', owner: a.id, text: 'hello', secret: 's2' });
    await write('update', { _id: 'note-a' }, { $set: { text: 'y', secret: 's3' } });
    await write('update', { _id: 'note-b' }, { $set: { text: 'buzz' } });
    await write('update', { _id: 'note-a' }, { $set: { phase: 'end' } });

    const seen = await until(all, 'end');
    expect(seen.map((c) => [c.operationType, c.documentKey._id])).toEqual([
      ['insert', 'note-a2'],
      ['update', 'note-a'],
    ]);
    expect(seen[0]!.fullDocument).toEqual({ _id: 'note-a2', owner: a.id, text: 'hello' });
    expect(seen[1]!.updateDescription?.updatedFields).toEqual({ text: 'y' });
    expect(seen[1]!.fullDocument).toMatchObject({ _id: 'note-a', text: 'y', phase: 'go' });
    expect(seen[1]!.fullDocument).not.toHaveProperty('secret');
    // ids and filter: only updates of note-a.
    expect((await until(one, 'end')).map((c) => [c.operationType, c.documentKey._id])).toEqual([['update', 'note-a']]);
    await all.return(undefined);
    await one.return(undefined);
  });

  it('refuses a watch without a session or of another kind, and reports a refused namespace as an error event', async () => {
    const a = await appOf().logIn(Realm.Credentials.anonymous(false));
    const url = (body: unknown, extra = '') =>
      `${dev.url}/api/client/v2.0/app/shop-abcde/functions/call?baas_request=${encodeURIComponent(Buffer.from(JSON.stringify(body)).toString('base64'))}${extra}`;
    const watchOf = (database: string, collection: string) => ({
      name: 'watch',
      service: 'mongodb-atlas',
      arguments: [{ database, collection }],
    });
    const anonymous = await fetch(url(watchOf('shop', 'notes')));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error_code: 'InvalidSession' });
    const other = await fetch(url({ name: 'sum', arguments: [1, 2] }), { headers: { authorization: `Bearer ${a.accessToken}` } });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: string }).error).toMatch(/only the MongoDB service's watch/);
    // realm-core's form: the token in the query. A namespace without rules: one error event, then the end.
    const refused = await fetch(url(watchOf('elsewhere', 'things'), `&baas_at=${a.accessToken}`));
    expect(refused.status).toBe(200);
    expect(refused.headers.get('content-type')).toBe('text/event-stream');
    const text = await refused.text();
    expect(text).toMatch(/^event: error\ndata: \{"error":"no rule exists for namespace 'elsewhere.things'/);
    expect(text).toContain('"error_code":"MongoDBError"');
    await expect(
      (async () => {
        for await (const _ of a.mongoClient('mongodb-atlas').db('elsewhere').collection('things').watch()) break;
      })(),
    ).rejects.toThrow(/no rule exists for namespace/);
  });

  it('puts custom user data on the access token and in %%user.custom_data after a refresh', async () => {
    const app = appOf();
    const user = await app.logIn(Realm.Credentials.anonymous(false));
    expect(user.customData).toEqual({});
    await user.mongoClient('mongodb-atlas').db('app').collection('profiles').insertOne({ user_id: user.id, plan: 'gold' });
    await user.refreshCustomData();
    expect(user.customData).toMatchObject({ user_id: user.id, plan: 'gold' });
    expect(await user.callFunction('whoami')).toMatchObject({ custom_data: { plan: 'gold' } });
  });

  it('creates user API keys and logs in with them', async () => {
    const app = appOf();
    await app.emailPasswordAuth.registerUser({ email: 'keys@example.com', password: 'secret-pw' });
    const owner = await app.logIn(Realm.Credentials.emailPassword('keys@example.com', 'secret-pw'));
    const created = await owner.apiKeys.create('ci');
    expect(created.key).toMatch(/^[\w-]{64}$/);
    expect(await owner.apiKeys.fetchAll()).toEqual([{ _id: created._id, name: 'ci', disabled: false }]);
    const viaKey = await appOf().logIn(Realm.Credentials.apiKey(created.key));
    expect(viaKey.id).toBe(owner.id);
    await owner.apiKeys.disable(created._id);
    await expect(appOf().logIn(Realm.Credentials.apiKey(created.key))).rejects.toMatchObject({ statusCode: 401 });
    const anon = await appOf().logIn(Realm.Credentials.anonymous(false));
    await expect(anon.apiKeys.create('nope')).rejects.toMatchObject({ statusCode: 403 });
  });

  it('logs in with a custom function and with a custom JWT; OAuth is refused clearly', async () => {
    const app = appOf();
    const viaFn = await app.logIn(Realm.Credentials.function({ code: 'open-sesame', who: 'zed' }));
    expect(viaFn.profile.name).toBe('zed');
    expect(viaFn.identities).toEqual([{ id: 'ext-zed', providerType: 'custom-function' }]);
    await expect(app.logIn(Realm.Credentials.function({ code: 'nope', who: 'x' }))).rejects.toMatchObject({
      statusCode: 401,
      error: expect.stringMatching(/wrong code/),
    });

    const now = Math.floor(Date.now() / 1000);
    const jwt = hs256({ sub: 'sso-42', aud: 'shop', exp: now + 600, iat: now, email: 'sso@example.com', profile: { 'first.name': 'Sam' } });
    const viaJwt = await app.logIn(Realm.Credentials.jwt(jwt));
    expect(viaJwt.profile).toMatchObject({ email: 'sso@example.com', firstName: 'Sam' });
    await expect(
      app.logIn(Realm.Credentials.jwt(hs256({ sub: 'x', aud: 'shop', exp: now + 600, email: 'e' }, 'z'.repeat(40)))),
    ).rejects.toMatchObject({
      statusCode: 401,
      error: expect.stringMatching(/signature/),
    });
    await expect(app.logIn(Realm.Credentials.jwt(hs256({ sub: 'x', aud: 'other', exp: now + 600, email: 'e' })))).rejects.toMatchObject({
      error: expect.stringMatching(/audience/),
    });
    await expect(app.logIn(Realm.Credentials.jwt(hs256({ sub: 'x', aud: 'shop', exp: now - 600, email: 'e' })))).rejects.toMatchObject({
      error: expect.stringMatching(/expired/),
    });

    const google = await fetch(`${dev.url}/api/client/v2.0/app/shop-abcde/auth/providers/oauth2-google/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"authCode":"x"}',
    });
    expect(google.status).toBe(400);
    expect(((await google.json()) as { error: string }).error).toMatch(/not available on fn.*custom-token/);
  });

  it('fn users creates, lists, disables and deletes users; a disabled user is refused at once', async () => {
    const target = ['--url', dev.url, '--app-id', 'shop-abcde', '--service-key', dev.serviceKey];
    const created = await fn(['users', 'create', '--email', 'cli@example.com', ...target, '--json'], {
      cwd: root,
      env: { FN_USER_PASSWORD: 'from-the-env' },
    });
    expect(created.exitCode).toBe(0);
    const id = (JSON.parse(created.stdout) as { user: { id: string } }).user.id;
    const again = await fn(['users', 'create', '--email', 'cli@example.com', '--password', 'whatever1', ...target], { cwd: root });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/already has a user cli@example.com/);

    const user = await appOf().logIn(Realm.Credentials.emailPassword('cli@example.com', 'from-the-env'));
    expect(user.id).toBe(id);
    const listed = await fn(['users', 'list', ...target], { cwd: root });
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+normal\\s+local-userpass\\s+enabled\\s+cli@example.com`));

    const disabled = await fn(['users', 'disable', id, ...target], { cwd: root });
    expect(disabled.exitCode).toBe(0);
    expect(disabled.stdout).toMatch(/disabled user .* \(1 session ended\)/);
    // Its access token is refused on both routes, and it cannot log in again.
    await expect(user.callFunction('sum', 1, 2)).rejects.toMatchObject({ statusCode: 401 });
    const base44 = await fetch(`${dev.url}/api/apps/shop-abcde/functions/sum`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(base44.status).toBe(401);
    await expect(appOf().logIn(Realm.Credentials.emailPassword('cli@example.com', 'from-the-env'))).rejects.toMatchObject({
      errorCode: 'UserDisabled',
    });

    const serverKey = await fn(['users', 'create', '--api-key', 'backend', ...target, '--json'], { cwd: root });
    const key = (JSON.parse(serverKey.stdout) as { apiKey: { key: string } }).apiKey.key;
    const server = await appOf().logIn(Realm.Credentials.apiKey(key));
    expect(await server.callFunction('whoami')).toMatchObject({ type: 'server' });

    // A user may delete itself: its sessions end with it.
    const leavingApp = appOf();
    const leaving = await leavingApp.logIn(Realm.Credentials.anonymous(false));
    const leavingRefresh = leaving.refreshToken!;
    await leavingApp.deleteUser(leaving);
    const afterDelete = await fetch(`${dev.url}/api/client/v2.0/auth/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${leavingRefresh}` },
    });
    expect(afterDelete.status).toBe(401);

    expect((await fn(['users', 'delete', id, ...target], { cwd: root })).exitCode).toBe(0);
    const gone = await fn(['users', 'delete', id, ...target], { cwd: root });
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toMatch(/has no user/);
    expect((await fn(['users', 'disable', ...target], { cwd: root })).exitCode).toBe(2);
  });

  it('confirms and resets email/password accounts through the functions of the app [slow]', async () => {
    const providersFile = join(root, 'auth', 'providers.json');
    const before = readFileSync(providersFile, 'utf8');
    const providers = JSON.parse(before) as Record<string, { config?: Record<string, unknown> }>;
    providers['local-userpass']!.config = {
      autoConfirm: false,
      runConfirmationFunction: true,
      confirmationFunctionName: 'confirmUser',
      runResetFunction: true,
      resetFunctionName: 'resetPw',
    };
    writeFileSync(providersFile, JSON.stringify(providers));
    const lastToken = async () => {
      const res = await fetch(`${dev.url}/api/admin/v1/apps/shop-abcde/functions/lastToken/execute`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dev.serviceKey}`, 'content-type': 'application/json' },
        body: '{}',
      });
      return ((await res.json()) as { result: { token: string; tokenId: string } }).result;
    };
    try {
      const app = appOf();
      const auth = app.emailPasswordAuth;
      await auth.registerUser({ email: 'ok@example.com', password: 'pw-123456' });
      expect((await app.logIn(Realm.Credentials.emailPassword('ok@example.com', 'pw-123456'))).profile.email).toBe('ok@example.com');

      await auth.registerUser({ email: 'wait@example.com', password: 'pw-123456' });
      await expect(app.logIn(Realm.Credentials.emailPassword('wait@example.com', 'pw-123456'))).rejects.toMatchObject({
        error: 'confirmation required',
      });
      await expect(auth.confirmUser({ token: 'nope', tokenId: 'nope' })).rejects.toMatchObject({ error: 'invalid token data' });
      await auth.confirmUser(await lastToken());
      await app.logIn(Realm.Credentials.emailPassword('wait@example.com', 'pw-123456'));
      await expect(auth.resendConfirmationEmail({ email: 'wait@example.com' })).rejects.toMatchObject({ error: 'already confirmed' });

      await expect(auth.registerUser({ email: 'fail@example.com', password: 'pw-123456' })).rejects.toMatchObject({ statusCode: 400 });
      // A failed confirmation leaves no account behind.
      await expect(auth.registerUser({ email: 'fail@example.com', password: 'pw-123456' })).rejects.toMatchObject({ statusCode: 400 });

      await expect(auth.sendResetPasswordEmail({ email: 'ok@example.com' })).rejects.toMatchObject({
        error: 'please use reset password via function',
      });
      await auth.callResetPasswordFunction({ email: 'ok@example.com', password: 'new-pw-1' }, 'now');
      await app.logIn(Realm.Credentials.emailPassword('ok@example.com', 'new-pw-1'));
      await auth.callResetPasswordFunction({ email: 'ok@example.com', password: 'newer-pw-2' }, 'later');
      // Pending: the old password still works until the token is used.
      await app.logIn(Realm.Credentials.emailPassword('ok@example.com', 'new-pw-1'));
      const { token, tokenId } = await lastToken();
      await auth.resetPassword({ token, tokenId, password: 'newest-pw-3' });
      await app.logIn(Realm.Credentials.emailPassword('ok@example.com', 'newest-pw-3'));
      await expect(auth.callResetPasswordFunction({ email: 'ok@example.com', password: 'x-123456' }, 'no')).rejects.toMatchObject({
        error: 'failed to reset password for user "ok@example.com"',
      });
    } finally {
      writeFileSync(providersFile, before);
    }
  });
});

describe('watch streams and the server stopping', () => {
  it('ends open watch streams cleanly when fn dev stops, and exits [slow]', async () => {
    const own = await startDev(makeApp(), [], { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' });
    try {
      const app = new Realm.App({ id: 'shop-abcde', baseUrl: own.url });
      const user = await app.logIn(Realm.Credentials.anonymous(false));
      const request = Buffer.from(
        JSON.stringify({ name: 'watch', service: 'mongodb-atlas', arguments: [{ database: 'shop', collection: 'notes' }] }),
      ).toString('base64');
      const open = () =>
        fetch(`${own.url}/api/client/v2.0/app/shop-abcde/functions/call?baas_request=${encodeURIComponent(request)}`, {
          headers: { authorization: `Bearer ${user.accessToken}`, accept: 'text/event-stream' },
        });
      // A client that goes away: its stream is closed on the server's side.
      const gone = new AbortController();
      const left = await fetch(`${own.url}/api/client/v2.0/app/shop-abcde/functions/call?baas_request=${encodeURIComponent(request)}`, {
        headers: { authorization: `Bearer ${user.accessToken}` },
        signal: gone.signal,
      });
      expect(left.status).toBe(200);
      gone.abort();
      const raw = await open();
      expect(raw.status).toBe(200);
      const body = raw.text();
      const realm = (async () => {
        const seen: unknown[] = [];
        for await (const change of user.mongoClient('mongodb-atlas').db('shop').collection('notes').watch()) seen.push(change);
        return seen;
      })();
      await user.callFunction('noteWrite', 'insert', null, { owner: user.id, text: 'last' });
      const stopped = await own.stop();
      expect(stopped.exitCode).toBe(130);
      expect(own.events.at(-1)).toEqual({ event: 'stopped' });
      // Each stream ends as a stream does (not with a network error).
      expect(typeof (await body)).toBe('string');
      expect(Array.isArray(await realm)).toBe(true);
    } finally {
      await own.stop();
    }
  }, 30_000);
});

describe('realm-web against fn serve', () => {
  it("verifies custom-token logins with the signing key kept in the app's secrets [slow]", async () => {
    const server = await startServe(tempDir('fn-realm-serve-'), {
      env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: undefined },
      args: ['--embedded-data'],
    });
    try {
      const root = makeApp();
      const pushed = await fnAt(server, 'push', root, ['--yes']);
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      const app = new Realm.App({ id: 'shop-abcde', baseUrl: server.url });
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: 'sso-7', aud: 'shop', exp: now + 600, iat: now, email: 'sso7@example.com' };
      // The local .fn/secrets.json is not pushed: no key on the server yet.
      await expect(app.logIn(Realm.Credentials.jwt(hs256(claims)))).rejects.toMatchObject({ statusCode: 401 });

      const setKey = (value: string) =>
        fn(['secrets', 'set', 'jwtKey', '--stdin', '--remote', '--url', server.url, '--service-key', server.serviceKey], {
          cwd: root,
          env: cleanEnv,
          input: value,
        });
      expect((await setKey(JWT_KEY)).exitCode).toBe(0);
      const user = await app.logIn(Realm.Credentials.jwt(hs256(claims)));
      expect(user.profile).toMatchObject({ email: 'sso7@example.com' });
      expect(user.identities).toEqual([{ id: 'sso-7', providerType: 'custom-token' }]);

      // A new key takes effect at the next login: tokens signed with the old one are refused.
      const rotated = 'r'.repeat(40);
      expect((await setKey(rotated)).exitCode).toBe(0);
      await expect(app.logIn(Realm.Credentials.jwt(hs256(claims)))).rejects.toMatchObject({
        statusCode: 401,
        error: expect.stringMatching(/signature/),
      });
      expect((await app.logIn(Realm.Credentials.jwt(hs256(claims, rotated)))).id).toBe(user.id);
      expect(server.stderr()).not.toContain(JWT_KEY);
      expect(JSON.stringify(server.events)).not.toContain(rotated);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
