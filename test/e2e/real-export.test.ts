// An app shaped like a real App Services export runs unchanged under `fn dev` and, after
// `fn push`, under `fn serve`, with the same results: HTTPS endpoints (one per validation method),
// a database trigger and a scheduled one writing to the embedded data source, a function that
// requires an npm package, and a value read from a secret. Then `fn serve` restarts between
// database events, and the trigger neither loses nor repeats one.
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDev, type DevServer } from './dev-helpers.js';
import { fn, makeApp, tempDir } from './helpers.js';
import { callFunction, cleanEnv, fnAt, httpRequest, startServe, type ServeProcess } from './serve-helpers.js';

const APP_ID = 'export-shop';
const HOOK_SECRET = 'hook-secret-value';
const API_KEY = 'sk_live_from_secret';

const fnEntry = (name: string, extra: Record<string, unknown> = {}) => ({ name, private: false, ...extra });

function exportApp(): string {
  const app = makeApp({
    'fn.config.json': JSON.stringify({ appId: APP_ID }),
    'root_config.json': JSON.stringify({ app_id: APP_ID, name: 'shop', environment: 'production' }),
    'functions/config.json': JSON.stringify([
      fnEntry('items', { run_as_system: true }),
      fnEntry('hook', { run_as_system: true }),
      fnEntry('signed', { run_as_system: true }),
      fnEntry('addOrder', { run_as_system: true }),
      fnEntry('auditOrder', { private: true, run_as_system: true }),
      fnEntry('tick', { private: true, run_as_system: true }),
      fnEntry('audit', { run_as_system: true }),
      fnEntry('pad'),
      fnEntry('apiKey'),
    ]),
    // HTTPS endpoint handlers, written the App Services way.
    'functions/items.js': `exports = function ({ query, headers }, response) {
  response.setStatusCode(200);
  response.setHeader('Content-Type', 'application/json');
  response.setBody(JSON.stringify({ items: ['a', 'b'], q: query.q, env: context.environment.tag }));
};\n`,
    'functions/hook.js': `exports = async function (request, response) {
  const body = JSON.parse(request.body.text());
  response.setStatusCode(201);
  return { received: body.n };
};\n`,
    'functions/signed.js': `exports = function (request) {
  return { ok: true, length: request.body.text().length };
};\n`,
    // Data, and the trigger functions that react to it.
    'functions/addOrder.js': `exports = async function ({ n }) {
  const orders = context.services.get('mongodb-atlas').db('shop').collection('orders');
  const { insertedId } = await orders.insertOne({ n, at: new Date() });
  return { id: insertedId.toString() };
};\n`,
    'functions/auditOrder.js': `exports = async function (changeEvent) {
  const audit = context.services.get('mongodb-atlas').db('shop').collection('audit');
  await audit.insertOne({ kind: changeEvent.operationType, n: changeEvent.fullDocument.n });
};\n`,
    'functions/tick.js': `exports = async function () {
  const audit = context.services.get('mongodb-atlas').db('shop').collection('audit');
  await audit.insertOne({ kind: 'tick' });
};\n`,
    'functions/audit.js': `exports = async function () {
  const audit = context.services.get('mongodb-atlas').db('shop').collection('audit');
  const docs = await audit.find({}, { _id: 0 }).toArray();
  return docs.map((d) => d.kind + (d.n === undefined ? '' : ':' + d.n)).sort();
};\n`,
    // A package from functions/node_modules, and a value from a secret.
    'functions/pad.js': `exports = function ({ text }) {
  const pad = require('tiny-pad');
  return { padded: pad(text, 6) };
};\n`,
    'functions/apiKey.js': `exports = function () {
  return { key: context.values.get('stripeKey'), region: context.values.get('region') };
};\n`,
    'functions/package.json': JSON.stringify({ name: 'functions', private: true, dependencies: { 'tiny-pad': '1.0.0' } }),
    'functions/node_modules/tiny-pad/package.json': JSON.stringify({ name: 'tiny-pad', version: '1.0.0', main: 'index.js' }),
    'functions/node_modules/tiny-pad/index.js': "module.exports = (text, n) => String(text).padStart(n, '.');\n",
    'values/stripeKey.json': JSON.stringify({ name: 'stripeKey', value: 'stripeKeySecret', from_secret: true }),
    'values/region.json': JSON.stringify({ name: 'region', value: 'eu-west-1' }),
    'http_endpoints/config.json': JSON.stringify([
      { route: '/items', http_method: 'GET', function_name: 'items', validation_method: 'NO_VALIDATION', respond_result: true },
      {
        route: '/hook',
        http_method: 'POST',
        function_name: 'hook',
        validation_method: 'SECRET_AS_QUERY_PARAM',
        secret_name: 'hookSecret',
        respond_result: true,
      },
      {
        route: '/signed',
        http_method: 'POST',
        function_name: 'signed',
        validation_method: 'VERIFY_PAYLOAD',
        secret_name: 'hookSecret',
        respond_result: true,
      },
    ]),
    'data_sources/mongodb-atlas/config.json': JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: {} }),
    'triggers/auditOrders.json': JSON.stringify({
      name: 'auditOrders',
      type: 'DATABASE',
      disabled: false,
      config: {
        service_name: 'mongodb-atlas',
        database: 'shop',
        collection: 'orders',
        operation_types: ['INSERT'],
        full_document: true,
        match: {},
        project: {},
      },
      event_processors: { FUNCTION: { config: { function_name: 'auditOrder' } } },
    }),
    'triggers/nightly.json': JSON.stringify({
      name: 'nightly',
      type: 'SCHEDULED',
      disabled: false,
      config: { schedule: '0 3 * * *' },
      event_processors: { FUNCTION: { config: { function_name: 'tick' } } },
    }),
  });
  mkdirSync(join(app, 'environments'), { recursive: true });
  writeFileSync(join(app, 'environments', 'production.json'), JSON.stringify({ values: {} }));
  return app;
}

/** What the suite checks on a running server, the same under fn dev and fn serve. */
async function exercise(base: string, call: (name: string, params?: unknown) => Promise<{ status: number; json: any }>) {
  const results: Record<string, unknown> = {};
  const items = await httpRequest(`${base}/app/${APP_ID}/endpoint/items?q=shoes`);
  results.items = [items.status, items.json];
  const hookBody = JSON.stringify({ n: 7 });
  const refused = await httpRequest(`${base}/app/${APP_ID}/endpoint/hook?secret=wrong`, { method: 'POST', body: hookBody });
  const hook = await httpRequest(`${base}/app/${APP_ID}/endpoint/hook?secret=${HOOK_SECRET}`, { method: 'POST', body: hookBody });
  results.hook = [refused.status, hook.status, hook.json];
  const payload = JSON.stringify({ hello: 'world' });
  const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(payload).digest('hex')}`;
  const badSig = await httpRequest(`${base}/app/${APP_ID}/endpoint/signed`, {
    method: 'POST',
    body: payload,
    headers: { 'Endpoint-Signature': 'sha256=00' },
  });
  const signed = await httpRequest(`${base}/app/${APP_ID}/endpoint/signed`, {
    method: 'POST',
    body: payload,
    headers: { 'Endpoint-Signature': signature },
  });
  results.signed = [badSig.status, signed.status, signed.json];
  results.pad = (await call('pad', { text: 'ab' })).json;
  results.apiKey = (await call('apiKey')).json;
  return results;
}

const EXPECTED = {
  items: [200, { items: ['a', 'b'], q: 'shoes', env: 'production' }],
  hook: [401, 201, { received: 7 }],
  signed: [401, 200, { ok: true, length: 17 }],
  pad: { padded: '....ab' },
  apiKey: { key: API_KEY, region: 'eu-west-1' },
};

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

describe('a real-shaped export under fn dev and fn serve [slow]', () => {
  const servers: { stop(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
  });

  it('runs under fn dev: endpoints, triggers, a package and a secret value [slow]', async () => {
    const app = exportApp();
    for (const [name, value] of [
      ['hookSecret', HOOK_SECRET],
      ['stripeKeySecret', API_KEY],
    ] as const) {
      const set = await fn(['secrets', 'set', name, value], { cwd: app });
      expect(set.exitCode, set.stderr).toBe(0);
    }
    const validate = await fn(['validate'], { cwd: app });
    expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0);
    const dev: DevServer = await startDev(app);
    servers.push(dev);
    const call = (name: string, params: unknown = {}) => callFunction(dev.url, APP_ID, name, params);
    expect(await exercise(dev.url, call)).toEqual(EXPECTED);
    // The database trigger sees each insert once; a scheduled trigger fired by hand writes too.
    await call('addOrder', { n: 1 });
    await call('addOrder', { n: 2 });
    const audit = await until(
      async () => (await call('audit')).json as string[],
      (a) => a.length >= 2,
    );
    expect(audit).toEqual(['insert:1', 'insert:2']);
    // On the running fn dev (found by its record in .fn/), not in a process of its own.
    const fired = await fn(['trigger', 'run', 'nightly', '--remote'], { cwd: app, env: cleanEnv });
    expect(fired.exitCode, fired.stderr).toBe(0);
    expect((await call('audit')).json).toEqual(['insert:1', 'insert:2', 'tick']);
  });

  it('runs the same after fn push to fn serve, and a restart neither loses nor repeats an event [slow]', async () => {
    const app = exportApp();
    const dataDir = tempDir('fn-export-serve-');
    let serve: ServeProcess = await startServe(dataDir, { args: ['--embedded-data'] });
    servers.push(serve);
    for (const [name, value] of [
      ['hookSecret', HOOK_SECRET],
      ['stripeKeySecret', API_KEY],
    ] as const) {
      const set = await fnAt(serve, 'secrets', app, ['set', name, value, '--remote', '--app-id', APP_ID]);
      expect(set.exitCode, set.stderr).toBe(0);
    }
    const pushed = await fnAt(serve, 'push', app, ['--yes']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    const call = (name: string, params: unknown = {}) => callFunction(serve.url, APP_ID, name, params);
    expect(await exercise(serve.url, call)).toEqual(EXPECTED);

    await call('addOrder', { n: 1 });
    expect(
      await until(
        async () => (await call('audit')).json as string[],
        (a) => a.length >= 1,
      ),
    ).toEqual(['insert:1']);
    // Restart between events: the trigger resumes after the last event it processed.
    await serve.stop();
    serve = await startServe(dataDir, { args: ['--embedded-data'] });
    servers.push(serve);
    await call('addOrder', { n: 2 });
    await call('addOrder', { n: 3 });
    const audit = await until(
      async () => (await call('audit')).json as string[],
      (a) => a.length >= 3,
    );
    // Give a repeated event the time to show up, then check again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await call('audit')).json).toEqual(['insert:1', 'insert:2', 'insert:3']);
    expect(audit).toEqual(['insert:1', 'insert:2', 'insert:3']);
  });
});
