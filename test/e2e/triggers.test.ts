// Triggers end to end: a database trigger on the embedded data source under fn serve, across
// restarts (no event lost, none run twice); scheduled catch-up, hot reload and fn trigger run
// under fn dev; fn validate's trigger rules.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fn, tempDir } from './helpers.js';

afterAll(() => cleanupTemps());

const write = (root: string, rel: string, text: string) => {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
};

const AUDIT_TRIGGER = {
  name: 'auditOrders',
  type: 'DATABASE',
  config: {
    service_name: 'mongodb-atlas',
    database: 'shop',
    collection: 'orders',
    operation_types: ['INSERT'],
    match: {},
    project: {},
    full_document: true,
    full_document_before_change: false,
    unordered: false,
    skip_catchup_events: false,
  },
  event_processors: { FUNCTION: { config: { function_name: 'onOrder' } } },
};

/** An app whose addOrder inserts into shop.orders and whose trigger copies each insert into shop.audit, slowly. */
function makeApp(appId: string): string {
  const root = tempDir('fn-triggers-e2e-');
  write(root, 'fn.config.json', JSON.stringify({ appId }));
  write(
    root,
    'functions/config.json',
    JSON.stringify([
      { name: 'addOrder', run_as_system: true },
      { name: 'readAudit', run_as_system: true },
      { name: 'onOrder', private: true },
      { name: 'tick', private: true },
    ]),
  );
  write(
    root,
    'functions/addOrder.js',
    `exports = async function ({ n }) {\n  await context.services.get('mongodb-atlas').db('shop').collection('orders').insertOne({ n });\n  return n;\n};\n`,
  );
  write(
    root,
    'functions/readAudit.js',
    `exports = async function () {\n  const docs = await context.services.get('mongodb-atlas').db('shop').collection('audit').find({}).toArray();\n  return docs.map((d) => d.n);\n};\n`,
  );
  // The event's documentKey._id must be an ObjectId again for findOne to find the order.
  write(
    root,
    'functions/onOrder.js',
    `exports = async function (event) {\n  const db = context.services.get('mongodb-atlas').db('shop');\n  const order = await db.collection('orders').findOne({ _id: event.documentKey._id });\n  await new Promise((r) => setTimeout(r, 150));\n  await db.collection('audit').insertOne({ n: event.fullDocument.n, found: order !== null, system: context.runningAsSystem() });\n  console.log('audited', event.fullDocument.n);\n};\n`,
  );
  write(root, 'functions/tick.js', `exports = function () {\n  console.log('tick');\n  return 'ticked';\n};\n`);
  write(
    root,
    'data_sources/mongodb-atlas/config.json',
    JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } }),
  );
  return root;
}

const triggerRuns = (events: { event?: unknown; entry?: unknown }[], name: string) =>
  events.filter((e) => e.event === 'call' && (e.entry as { trigger?: string }).trigger === name);

describe('a database trigger under fn serve', () => {
  it('[slow] copies each insert once, across restarts between and during events', async () => {
    const { startServe, fnAt, callFunction, cleanEnv } = await import('./serve-helpers.js');
    const root = makeApp('trig');
    write(root, 'triggers/auditOrders.json', JSON.stringify(AUDIT_TRIGGER, null, 2));
    const dataDir = tempDir('fn-serve-triggers-');
    const serve = (): ReturnType<typeof startServe> =>
      startServe(dataDir, { env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: undefined }, args: ['--embedded-data'] });
    const servers: Awaited<ReturnType<typeof startServe>>[] = [];
    try {
      const first = await serve();
      servers.push(first);
      const pushed = await fnAt(first, 'push', root, ['--yes']);
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      expect(pushed.stdout).toMatch(/triggers: 1 file/);
      expect((await callFunction(first.url, 'trig', 'addOrder', { n: 1 })).status).toBe(200);
      const run = await first.waitFor((e) => e.event === 'call' && (e.entry as { trigger?: string }).trigger === 'auditOrders');
      expect(run.entry).toMatchObject({ function: 'onOrder', via: 'trigger', user: 'system', runAs: { system: true }, status: 200 });
      expect((run.entry as { logs: { message: string }[] }).logs.map((l) => l.message)).toEqual(['audited 1']);
      await first.stop();

      // Restarted between events: the trigger starts with the app, from its resume token.
      const second = await serve();
      servers.push(second);
      for (const n of [2, 3, 4]) expect((await callFunction(second.url, 'trig', 'addOrder', { n })).status).toBe(200);
      // Stopped while the trigger works through them (each takes 150 ms): what it did not reach waits in the change log.
      await second.waitFor((e) => e.event === 'call' && (e.entry as { trigger?: string }).trigger === 'auditOrders');
      await second.stop();
      const doneBefore = triggerRuns(second.events, 'auditOrders').length;
      expect(doneBefore).toBeGreaterThanOrEqual(1);

      const third = await serve();
      servers.push(third);
      // The rest arrive, and nothing runs twice: wait for the audit to hold 4, then for one more event after them.
      const deadline = Date.now() + 15_000;
      let audit: number[] = [];
      while (Date.now() < deadline) {
        audit = (await callFunction(third.url, 'trig', 'readAudit')).json as number[];
        if (audit.length >= 4) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await callFunction(third.url, 'trig', 'addOrder', { n: 5 })).status).toBe(200);
      await third.waitFor((e) => e.event === 'call' && (e.entry as { logs?: { message: string }[] }).logs?.[0]?.message === 'audited 5');
      audit = (await callFunction(third.url, 'trig', 'readAudit')).json as number[];
      expect(audit).toEqual([1, 2, 3, 4, 5]);
      expect(doneBefore + triggerRuns(third.events, 'auditOrders').length).toBe(4);

      // fn logs shows the runs with the trigger's name; the state is in the data dir.
      const logs = await fnAt(third, 'logs', root, ['--json']);
      expect(logs.exitCode, logs.stderr).toBe(0);
      expect(JSON.parse(logs.stdout).calls.some((c: { trigger?: string }) => c.trigger === 'auditOrders')).toBe(true);
      expect((await fnAt(third, 'logs', root)).stdout).toMatch(/trigger auditOrders → onOrder {2}system \(as system\) {2}200/);
      const state = JSON.parse(readFileSync(join(dataDir, 'triggers', 'trig.json'), 'utf8')) as Record<string, { token?: unknown }>;
      expect(state.auditOrders?.token).toMatchObject({ _data: expect.any(String) });

      // By hand, on the server: the event of the request, its state left as it was.
      const event = join(root, 'event.json');
      writeFileSync(
        event,
        JSON.stringify({
          operationType: 'insert',
          documentKey: { _id: { $oid: '000000000000000000000000' } },
          fullDocument: { n: 99 },
        }),
      );
      const byHand = await fn(
        ['trigger', 'run', 'auditOrders', '--remote', '--url', third.url, '--service-key', third.serviceKey, '--event', event, '--json'],
        { cwd: root, env: cleanEnv },
      );
      expect(byHand.exitCode, byHand.stderr).toBe(0);
      expect(JSON.parse(byHand.stdout)).toMatchObject({ ok: true, trigger: 'auditOrders', function: 'onOrder', error: null });
      expect((await callFunction(third.url, 'trig', 'readAudit')).json).toEqual([1, 2, 3, 4, 5, 99]);
      expect(JSON.parse(readFileSync(join(dataDir, 'triggers', 'trig.json'), 'utf8'))).toEqual(state);
    } finally {
      for (const s of servers) await s.stop();
    }
  }, 60_000);
});

describe('triggers under fn dev', () => {
  it('[slow] catches up missed ticks, loads a new trigger file without a restart, and runs one by hand', async () => {
    const { startDev, callFunction } = await import('./dev-helpers.js');
    const root = makeApp('devtrig');
    write(
      root,
      'triggers/everyMinute.json',
      JSON.stringify({
        name: 'everyMinute',
        type: 'SCHEDULED',
        config: { schedule: '*/1 * * * *' },
        event_processors: { FUNCTION: { config: { function_name: 'tick' } } },
      }),
    );
    // It last fired three minutes ago: the two ticks since (and this minute's, if it has come) are caught up.
    const minute = 60_000;
    const last = Math.floor(Date.now() / minute) * minute - 3 * minute;
    write(root, '.fn/triggers.json', JSON.stringify({ everyMinute: { tick: last } }));
    const dev = await startDev(root, [], { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' });
    try {
      expect(dev.events.find((e) => e.event === 'triggers') ?? (await dev.waitFor((e) => e.event === 'triggers'))).toMatchObject({
        triggers: [{ name: 'everyMinute', type: 'SCHEDULED', function: 'tick', status: 'fires' }],
      });
      await dev.waitFor((e) => triggerRuns([e], 'everyMinute').length > 0 && triggerRuns(dev.events, 'everyMinute').length >= 3);
      // Each tick is written once its function ran.
      const tickWritten = () =>
        (JSON.parse(readFileSync(join(root, '.fn', 'triggers.json'), 'utf8')) as { everyMinute: { tick: number } }).everyMinute.tick;
      for (let i = 0; i < 50 && tickWritten() < last + 3 * minute; i++) await new Promise((r) => setTimeout(r, 100));
      expect(tickWritten()).toBeGreaterThanOrEqual(last + 3 * minute);

      // A new trigger file applies on the next reload.
      write(root, 'triggers/auditOrders.json', JSON.stringify(AUDIT_TRIGGER));
      await dev.waitFor((e) => e.event === 'triggers' && (e.triggers as { name: string }[]).some((t) => t.name === 'auditOrders'));
      expect((await callFunction(dev, 'addOrder', { n: 7 })).status).toBe(200);
      const run = await dev.waitFor((e) => triggerRuns([e], 'auditOrders').length > 0);
      expect((run.entry as { logs: { message: string }[] }).logs.map((l) => l.message)).toEqual(['audited 7']);

      // By hand, against fn dev (its key from .fn/dev.json).
      const byHand = await fn(['trigger', 'run', 'everyMinute', '--remote'], {
        cwd: root,
        env: { FN_SERVICE_KEY: undefined, FN_URL: undefined },
      });
      expect(byHand.exitCode, byHand.stderr).toBe(0);
      expect(byHand.stderr).toMatch(/trigger everyMinute → tick ran as system/);
      expect(byHand.stdout.trim()).toBe('"ticked"');
      // A scheduled trigger takes no event.
      const refused = await fn(['trigger', 'run', 'everyMinute', '--event', join(root, 'fn.config.json')], { cwd: root });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toMatch(/takes no event/);
    } finally {
      await dev.stop();
    }
  }, 60_000);
});

describe('fn trigger run here and fn validate', () => {
  it('runs a database trigger in-process with the event of --event, as the system user', async () => {
    const root = makeApp('local');
    write(root, 'triggers/auditOrders.json', JSON.stringify(AUDIT_TRIGGER));
    write(
      root,
      'ev.json',
      JSON.stringify({ operationType: 'insert', documentKey: { _id: { $oid: '000000000000000000000001' } }, fullDocument: { n: 3 } }),
    );
    const out = await fn(['trigger', 'run', 'auditOrders', '--event', 'ev.json', '--json'], {
      cwd: root,
      env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' },
    });
    expect(out.exitCode, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: true, target: 'local', logs: [{ message: 'audited 3' }] });
    const missing = await fn(['trigger', 'run', 'auditOrder'], { cwd: root });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no trigger "auditOrder"[\s\S]*auditOrders/);
    const list = await fn(['trigger', 'list', '--json'], { cwd: root });
    expect(JSON.parse(list.stdout).triggers).toEqual([
      { name: 'auditOrders', type: 'DATABASE', function: 'onOrder', on: 'mongodb-atlas/shop/orders', status: 'fires' },
    ]);
  });

  it('reports each trigger problem with its rule and position', async () => {
    const root = makeApp('bad');
    write(
      root,
      'triggers/orders.json',
      JSON.stringify(
        {
          ...AUDIT_TRIGGER,
          name: 'orders',
          config: { ...AUDIT_TRIGGER.config, service_name: 'atlas', database: 'sh.op', operation_types: ['INSERT', 'CREATE'] },
          event_processors: { FUNCTION: { config: { function_name: 'onOrdr' } } },
        },
        null,
        2,
      ),
    );
    write(
      root,
      'triggers/nightly.json',
      JSON.stringify(
        {
          name: 'nightly',
          type: 'SCHEDULED',
          config: { schedule: '0 25 * * *' },
          event_processors: { FUNCTION: { config: { function_name: 'tick' } } },
        },
        null,
        2,
      ),
    );
    write(
      root,
      'triggers/bridge.json',
      JSON.stringify(
        { name: 'bridge', type: 'DATABASE', config: { ...AUDIT_TRIGGER.config }, event_processors: { AWS_EVENTBRIDGE: { config: {} } } },
        null,
        2,
      ),
    );
    write(
      root,
      'triggers/login.json',
      JSON.stringify(
        {
          name: 'login',
          type: 'AUTHENTICATION',
          config: { operation_type: 'LOGIN', providers: ['anon-user'] },
          event_processors: { FUNCTION: { config: { function_name: 'tick' } } },
        },
        null,
        2,
      ),
    );
    const out = await fn(['validate', '--format', 'json'], { cwd: root });
    expect(out.exitCode).toBe(1);
    const found = (
      JSON.parse(out.stdout) as { diagnostics: { rule: string; file: string; line: number; pointer?: string; message: string }[] }
    ).diagnostics.filter((d) => d.file.startsWith('triggers/'));
    const brief = found.map((d) => [d.file, d.rule, d.pointer]);
    expect(brief).toEqual(
      expect.arrayContaining([
        ['triggers/bridge.json', 'trigger-invalid', '/event_processors/AWS_EVENTBRIDGE'],
        ['triggers/nightly.json', 'trigger-invalid', '/config/schedule'],
        ['triggers/orders.json', 'trigger-unknown-data-source', '/config/service_name'],
        ['triggers/orders.json', 'trigger-invalid', '/config/database'],
        ['triggers/orders.json', 'trigger-invalid', '/config/operation_types/1'],
        ['triggers/orders.json', 'trigger-unknown-function', '/event_processors/FUNCTION/config/function_name'],
      ]),
    );
    // An authentication trigger fires now: nothing to say about login.json.
    expect(found.filter((d) => d.file === 'triggers/login.json')).toEqual([]);
    expect(found).toHaveLength(6);
    expect(found.find((d) => d.rule === 'trigger-unknown-function')).toMatchObject({ line: 22 });
    expect(found.find((d) => d.file === 'triggers/nightly.json')!.message).toMatch(/hour 25 is out of range/);
  });
});
