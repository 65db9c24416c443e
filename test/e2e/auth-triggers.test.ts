// Authentication triggers end to end: logins, new users and deleted users (realm-web, raw HTTP,
// fn users) fire LOGIN, CREATE and DELETE triggers whose function writes to the embedded data
// source, under fn dev and under fn serve after a push; the providers filter; a trigger that
// throws leaves the login standing. And an endpoint's fetch_custom_user_data reads the custom
// user data as it is now.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Realm from 'realm-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callFunction, startDev, type DevEvent, type DevServer } from './dev-helpers.js';
import { cleanupTemps, fn, tempDir } from './helpers.js';
import { fnAt, startServe, type ServeProcess } from './serve-helpers.js';

interface Recorded {
  op: string;
  providers: string[];
  userId: string;
  email: string | null;
  custom: Record<string, unknown>;
  isDate: boolean;
  identities: string[];
  who: string;
}

function makeApp(appId: string): string {
  const root = tempDir('fn-authtrig-e2e-');
  const write = (rel: string, value: unknown) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  };
  write('fn.config.json', { appId });
  write('functions/config.json', [
    { name: 'record', private: true },
    { name: 'boom', private: true },
    { name: 'recorded', private: true, run_as_system: true },
    { name: 'setPlan', private: true, run_as_system: true },
    { name: 'myPlan' },
  ]);
  const events = "context.services.get('mongodb-atlas').db('app').collection('events')";
  write(
    'functions/record.js',
    `exports = async function (event) {\n  await ${events}.insertOne({ op: event.operationType, providers: event.providers, userId: event.user.id, email: event.user.data.email ?? null, custom: event.user.custom_data, isDate: Object.prototype.toString.call(event.time) === '[object Date]', identities: event.user.identities.map((i) => i.provider_type), who: context.user.type });\n};\n`,
  );
  write('functions/boom.js', 'exports = function (event) { throw new Error("no logins for " + event.user.data.email); };\n');
  write('functions/recorded.js', `exports = async function () { return ${events}.find({}, { _id: 0 }).toArray(); };\n`);
  write(
    'functions/setPlan.js',
    "exports = async function ({ userId, plan }) { await context.services.get('mongodb-atlas').db('app').collection('profiles').updateOne({ user_id: userId }, { $set: { plan } }, { upsert: true }); };\n",
  );
  write('functions/myPlan.js', 'exports = function () { return { plan: context.user.custom_data.plan ?? null }; };\n');
  write('data_sources/mongodb-atlas/config.json', { name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } });
  write('auth/providers.json', {
    'anon-user': { name: 'anon-user', type: 'anon-user', disabled: false },
    'local-userpass': { name: 'local-userpass', type: 'local-userpass', disabled: false, config: { autoConfirm: true } },
  });
  write('auth/custom_user_data.json', {
    enabled: true,
    mongo_service_name: 'mongodb-atlas',
    database_name: 'app',
    collection_name: 'profiles',
    user_id_field: 'user_id',
  });
  write('https_endpoints/config.json', [
    { route: '/plan', http_method: 'GET', function_name: 'myPlan', respond_result: true, fetch_custom_user_data: true },
    { route: '/plan/stale', http_method: 'GET', function_name: 'myPlan', respond_result: true, fetch_custom_user_data: false },
    {
      route: '/plan/create',
      http_method: 'GET',
      function_name: 'myPlan',
      respond_result: true,
      fetch_custom_user_data: true,
      create_user_on_auth: true,
    },
  ]);
  const trigger = (name: string, operation: string, providers: string[], functionName = 'record', disabled = false) =>
    write(`triggers/${name}.json`, {
      name,
      type: 'AUTHENTICATION',
      disabled,
      config: { operation_type: operation, providers },
      event_processors: { FUNCTION: { config: { function_name: functionName } } },
    });
  trigger('onCreate', 'CREATE', ['local-userpass', 'anon-user']);
  // LOGIN of email/password users only: anonymous logins do not fire it.
  trigger('onLogin', 'LOGIN', ['local-userpass']);
  trigger('onDelete', 'DELETE', ['local-userpass', 'anon-user', 'api-key']);
  trigger('boom', 'LOGIN', ['local-userpass'], 'boom');
  trigger('off', 'LOGIN', ['local-userpass', 'anon-user'], 'record', true);
  return root;
}

/** The events the trigger function wrote, once `until` holds (polled: triggers run after the answer). */
async function recordedUntil(
  server: { url: string; appId: string; serviceKey: string },
  until: (events: Recorded[]) => boolean,
): Promise<Recorded[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = await callFunction(server, 'recorded', {}, { authorization: `Bearer ${server.serviceKey}` });
    expect(reply.status, reply.text).toBe(200);
    const events = reply.json as Recorded[];
    if (until(events)) return events;
    if (Date.now() > deadline) throw new Error(`the trigger events never came: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (events: Recorded[], op: string, userId: string) => events.filter((e) => e.op === op && e.userId === userId).length;

let dev: DevServer;
let root: string;
let serve: ServeProcess | undefined;
beforeAll(async () => {
  root = makeApp('authtrig-abcde');
  dev = await startDev(root);
});
afterAll(async () => {
  await dev?.stop();
  await serve?.stop();
  cleanupTemps();
});

describe('authentication triggers under fn dev', () => {
  it('lists them as firing, and fn validate says nothing of them', async () => {
    const listed = await fn(['trigger', 'list', '--json'], { cwd: root });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('"onLogin"');
    expect(listed.stdout).not.toMatch(/never fires/);
    expect(listed.stdout).toMatch(/"name":\s*"onLogin"[^}]*"status":\s*"fires"/);
    const validate = await fn(['validate', '--format', 'json'], { cwd: root });
    const found = (JSON.parse(validate.stdout) as { diagnostics: { file: string }[] }).diagnostics.filter((d) =>
      d.file.startsWith('triggers/'),
    );
    expect(found).toEqual([]);
  });

  it('realm-web: the first login fires CREATE and LOGIN, the next LOGIN only; a throwing trigger leaves the login standing', async () => {
    const realm = new Realm.App({ id: dev.appId, baseUrl: dev.url });
    await realm.emailPasswordAuth.registerUser({ email: 'ann@example.com', password: 'hunter22' });
    const ann = await realm.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    let events = await recordedUntil(dev, (e) => count(e, 'CREATE', ann.id) === 1 && count(e, 'LOGIN', ann.id) === 1);
    const created = events.find((e) => e.op === 'CREATE')!;
    expect(created).toMatchObject({
      providers: ['local-userpass'],
      email: 'ann@example.com',
      custom: {},
      isDate: true,
      identities: ['local-userpass'],
      who: 'system',
    });
    // The boom trigger threw on that login, logged as a trigger run; the session stands.
    const boom = (await dev.waitFor((e) => e.event === 'call' && (e.entry as { trigger?: string }).trigger === 'boom')) as DevEvent & {
      entry: { error?: { message: string }; user: string };
    };
    expect(boom.entry.error?.message).toMatch(/no logins for ann@example\.com/);
    expect(boom.entry.user).toBe('system');
    expect(ann.isLoggedIn).toBe(true);

    // Custom user data is read for the event as it is now.
    expect(
      (await callFunction(dev, 'setPlan', { userId: ann.id, plan: 'pro' }, { authorization: `Bearer ${dev.serviceKey}` })).status,
    ).toBe(200);
    const again = await realm.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    expect(again.id).toBe(ann.id);
    events = await recordedUntil(dev, (e) => count(e, 'LOGIN', ann.id) === 2);
    expect(count(events, 'CREATE', ann.id)).toBe(1);
    expect(events.filter((e) => e.op === 'LOGIN' && e.userId === ann.id).at(-1)?.custom).toMatchObject({ plan: 'pro' });
  });

  it('an anonymous login fires CREATE but not the LOGIN trigger whose providers leave anon-user out', async () => {
    const login = await fetch(`${dev.url}/api/client/v2.0/app/${dev.appId}/auth/providers/anon-user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(login.status).toBe(200);
    const { user_id } = (await login.json()) as { user_id: string };
    // An email/password login after it: once its LOGIN is in, the anonymous one had its chance.
    const realm = new Realm.App({ id: dev.appId, baseUrl: dev.url });
    const ann = await realm.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    const events = await recordedUntil(dev, (e) => count(e, 'CREATE', user_id) === 1 && count(e, 'LOGIN', ann.id) === 3);
    expect(events.find((e) => e.userId === user_id)).toMatchObject({ op: 'CREATE', providers: ['anon-user'] });
    expect(count(events, 'LOGIN', user_id)).toBe(0);
  });

  it('fn users create fires CREATE, fn users delete fires DELETE, once each', async () => {
    const target = ['--url', dev.url, '--app-id', dev.appId, '--service-key', dev.serviceKey];
    const created = await fn(['users', 'create', '--email', 'bob@example.com', '--password', 'hunter22', ...target, '--json'], {
      cwd: root,
    });
    expect(created.exitCode, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { user: { id: string } }).user.id;
    await recordedUntil(dev, (e) => count(e, 'CREATE', id) === 1);
    expect((await fn(['users', 'delete', id, ...target], { cwd: root })).exitCode).toBe(0);
    // A second delete finds no user: no second event.
    expect((await fn(['users', 'delete', id, ...target], { cwd: root })).exitCode).not.toBe(0);
    const events = await recordedUntil(dev, (e) => count(e, 'DELETE', id) === 1);
    expect(events.find((e) => e.op === 'DELETE' && e.userId === id)).toMatchObject({
      providers: ['local-userpass'],
      email: 'bob@example.com',
    });
    // A user deleting itself through the client API fires DELETE too.
    const realm = new Realm.App({ id: dev.appId, baseUrl: dev.url });
    const ann = await realm.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    await realm.deleteUser(ann);
    const after = await recordedUntil(dev, (e) => count(e, 'DELETE', ann.id) === 1);
    expect(count(after, 'CREATE', id)).toBe(1);
    expect(after.filter((e) => e.op === 'DELETE')).toHaveLength(2);
  });

  it('an endpoint with fetch_custom_user_data reads the custom user data as it is now', async () => {
    const realm = new Realm.App({ id: dev.appId, baseUrl: dev.url });
    await realm.emailPasswordAuth.registerUser({ email: 'cy@example.com', password: 'hunter22' });
    const cy = await realm.logIn(Realm.Credentials.emailPassword('cy@example.com', 'hunter22'));
    // Set after the login: the access token does not have it.
    expect(
      (await callFunction(dev, 'setPlan', { userId: cy.id, plan: 'gold' }, { authorization: `Bearer ${dev.serviceKey}` })).status,
    ).toBe(200);
    const get = (route: string) =>
      fetch(`${dev.url}/app/${dev.appId}/endpoint/${route}`, { headers: { authorization: `Bearer ${cy.accessToken}` } });
    const fresh = await get('plan');
    expect(fresh.status).toBe(200);
    expect(await fresh.json()).toEqual({ plan: 'gold' });
    expect(await (await get('plan/stale')).json()).toEqual({ plan: null });
  });
});

describe('endpoint credential headers', () => {
  it('email/password headers sign in; create_user_on_auth makes the user (CREATE fires), else 401', async () => {
    const realm = new Realm.App({ id: dev.appId, baseUrl: dev.url });
    await realm.emailPasswordAuth.registerUser({ email: 'eve@example.com', password: 'hunter22' });
    const get = (route: string, password = 'hunter22') =>
      fetch(`${dev.url}/app/${dev.appId}/endpoint/${route}`, { headers: { email: 'eve@example.com', password } });
    // An account that never logged in has no user yet.
    const none = await get('plan');
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error_code: 'InvalidSession', error: expect.stringMatching(/create_user_on_auth/) });
    expect((await get('plan/create', 'wrong-one')).status).toBe(401);
    const made = await get('plan/create');
    expect(made.status, await made.clone().text()).toBe(200);
    expect(await made.json()).toEqual({ plan: null });
    const events = await recordedUntil(dev, (e) => e.some((x) => x.op === 'CREATE' && x.email === 'eve@example.com'));
    const eve = events.find((x) => x.op === 'CREATE' && x.email === 'eve@example.com')!;
    // Now the user is there: the endpoint without create_user_on_auth takes the headers too, and no second user is made.
    expect(
      (await callFunction(dev, 'setPlan', { userId: eve.userId, plan: 'silver' }, { authorization: `Bearer ${dev.serviceKey}` })).status,
    ).toBe(200);
    const again = await get('plan');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ plan: 'silver' });
    expect((await get('plan/create')).status).toBe(200);
    const after = await recordedUntil(dev, () => true);
    expect(after.filter((x) => x.op === 'CREATE' && x.email === 'eve@example.com')).toHaveLength(1);
    // A login later finds the same user.
    expect((await realm.logIn(Realm.Credentials.emailPassword('eve@example.com', 'hunter22'))).id).toBe(eve.userId);
  });
});

describe('authentication triggers under fn serve', () => {
  it('a pushed LOGIN trigger fires on a raw-HTTP login and writes to the embedded data source [slow]', async () => {
    const app = makeApp('authtrig-served');
    serve = await startServe(tempDir('fn-authtrig-serve-'), {
      env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: undefined },
      args: ['--embedded-data'],
    });
    const pushed = await fnAt(serve, 'push', app, ['--yes', '--app-id', 'authtrig-served']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    const served = { url: serve.url, appId: 'authtrig-served', serviceKey: serve.serviceKey };
    const base = `${serve.url}/api/client/v2.0/app/authtrig-served/auth/providers/local-userpass`;
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(`${base}/register`, { email: 'dee@example.com', password: 'hunter22' })).status).toBe(200);
    const login = await post(`${base}/login`, { username: 'dee@example.com', password: 'hunter22' });
    expect(login.status).toBe(200);
    const { user_id } = (await login.json()) as { user_id: string };
    const events = await recordedUntil(served, (e) => count(e, 'CREATE', user_id) === 1 && count(e, 'LOGIN', user_id) === 1);
    expect(events.find((e) => e.op === 'LOGIN')).toMatchObject({ providers: ['local-userpass'], email: 'dee@example.com' });
  });
});
