// fn data and context.services end to end: the built CLI, an app with a data source and rules,
// the embedded engine persisting across processes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fn, tempDir } from './helpers.js';

afterAll(() => cleanupTemps());

function makeApp(): string {
  const root = tempDir('fn-data-e2e-');
  const write = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  write('functions/config.json', JSON.stringify([{ name: 'listMine' }, { name: 'addOrder' }, { name: 'countAll', run_as_system: true }]));
  write(
    'functions/listMine.js',
    `exports = async function () {\n  const c = context.services.get('mongodb-atlas').db('shop').collection('orders');\n  return c.find({}, { _id: 0, item: 1 }).sort({ item: 1 }).toArray();\n};\n`,
  );
  write(
    'functions/addOrder.js',
    `exports = async function ({ item }) {\n  const c = context.services.get('mongodb-atlas').db('shop').collection('orders');\n  const { insertedId } = await c.insertOne({ item, owner: context.user.id });\n  return { id: insertedId.toString() };\n};\n`,
  );
  write(
    'functions/countAll.js',
    `exports = function () {\n  return context.services.get('mongodb-atlas').db('shop').collection('orders').count();\n};\n`,
  );
  write(
    'data_sources/mongodb-atlas/config.json',
    JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } }),
  );
  write(
    'data_sources/mongodb-atlas/shop/orders/rules.json',
    JSON.stringify({
      database: 'shop',
      collection: 'orders',
      roles: [{ name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true, insert: true, delete: true }],
      filters: [],
    }),
  );
  return root;
}

describe('fn data and the embedded engine', () => {
  const root = makeApp();
  const env = { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' };

  it('imports EJSON, and functions see it under the rules; writes persist across processes', async () => {
    writeFileSync(
      join(root, 'orders.json'),
      JSON.stringify([
        { _id: { $oid: '0123456789abcdef01234567' }, item: 'b', owner: 'ann' },
        { item: 'a', owner: 'ann' },
        { item: 'z', owner: 'bob' },
      ]),
    );
    const imported = await fn(['data', 'import', 'shop.orders', 'orders.json'], { cwd: root, env });
    expect(imported.stderr).toMatch(/imported 3 documents: shop\.orders \(3\)/);
    expect(imported.exitCode).toBe(0);

    const mine = await fn(['invoke', '--local', 'listMine', '--user', 'ann'], { cwd: root, env });
    expect(mine.exitCode).toBe(0);
    expect(JSON.parse(mine.stdout)).toEqual([{ item: 'a' }, { item: 'b' }]);
    expect(mine.stderr).toMatch(/data mongodb-atlas: embedded engine \(\.fn\/data\/mongodb-atlas\)/);

    const added = await fn(['invoke', '--local', 'addOrder', '--user', 'bob', '--data', '{"item":"c"}'], { cwd: root, env });
    expect(added.exitCode).toBe(0);
    const all = await fn(['invoke', '--local', 'countAll'], { cwd: root, env });
    expect(JSON.parse(all.stdout)).toBe(4);

    const exported = await fn(['data', 'export', 'shop.orders'], { cwd: root, env });
    expect(exported.exitCode).toBe(0);
    const docs = JSON.parse(exported.stdout) as { _id: unknown; item: string }[];
    expect(docs.map((d) => d.item).sort()).toEqual(['a', 'b', 'c', 'z']);
    expect(docs[0]!._id).toEqual({ $oid: '0123456789abcdef01234567' });
  });

  it('export to a file writes every collection; reset removes one', async () => {
    const out = await fn(['data', 'export', 'dump.json', '--json'], { cwd: root, env });
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: true, action: 'export', collections: [{ namespace: 'shop.orders', documents: 4 }] });
    expect(Object.keys(JSON.parse(readFileSync(join(root, 'dump.json'), 'utf8')) as object)).toEqual(['shop.orders']);
    const reset = await fn(['data', 'reset', 'shop.orders'], { cwd: root, env });
    expect(reset.exitCode).toBe(0);
    expect(JSON.parse((await fn(['invoke', '--local', 'countAll'], { cwd: root, env })).stdout)).toBe(0);
    const back = await fn(['data', 'import', 'dump.json'], { cwd: root, env });
    expect(back.exitCode).toBe(0);
    expect(JSON.parse((await fn(['invoke', '--local', 'countAll'], { cwd: root, env })).stdout)).toBe(4);
  });

  it('bad input is a usage error saying what to do', async () => {
    writeFileSync(join(root, 'bad.json'), '[{"_id": 1}, {"_id": 1}]');
    const dup = await fn(['data', 'import', 'shop.more', 'bad.json'], { cwd: root, env });
    expect(dup.exitCode).toBe(2);
    expect(dup.stderr).toMatch(/shop\.more: Duplicate key error/);
    const array = await fn(['data', 'import', 'bad.json'], { cwd: root, env });
    expect(array.exitCode).toBe(2);
    expect(array.stderr).toMatch(/say which collection/);
    const action = await fn(['data', 'drop'], { cwd: root, env });
    expect(action.exitCode).toBe(2);
    const withUri = await fn(['data', 'export'], { cwd: root, env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: 'mongodb://127.0.0.1:1' } });
    expect(withUri.exitCode).toBe(2);
    expect(withUri.stderr).toMatch(/embedded engine only/);
  });
});

describe('fn push deploys data sources and rules; fn serve runs them', () => {
  let servers: { stop(): Promise<unknown> }[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    servers = [];
  });

  it('without a connection string an app is served without data (a problem reported); with --embedded-data it runs under the rules, with a warning', async () => {
    const { startServe, fnAt, callFunction } = await import('./serve-helpers.js');
    const root = makeApp();
    writeFileSync(join(root, 'fn.config.json'), JSON.stringify({ appId: 'shopdata' }));
    const strict = await startServe(tempDir('fn-serve-strict-'), { env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: undefined } });
    servers.push(strict);
    const pushed = await fnAt(strict, 'push', root, ['--yes']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/data sources: 2 files/);
    const problem = await strict.waitFor((e) => e.event === 'store-problem');
    expect(String(problem.message)).toMatch(/FN_DATA_SOURCE_MONGODB_ATLAS_URI/);
    const refused = await callFunction(strict.url, 'shopdata', 'listMine');
    expect(refused.status).toBe(500);

    const dev = await startServe(tempDir('fn-serve-embedded-'), {
      env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: undefined },
      args: ['--embedded-data'],
    });
    servers.push(dev);
    expect((await fnAt(dev, 'push', root, ['--yes', '--force'])).exitCode).toBe(0);
    const warned = await dev.waitFor((e) => e.event === 'data');
    expect(warned).toMatchObject({ appId: 'shopdata', source: 'mongodb-atlas', warning: expect.stringMatching(/development only/) });
    const added = await callFunction(dev.url, 'shopdata', 'addOrder', { item: 'x' });
    expect(added.status, added.text).toBe(200);
    expect((await callFunction(dev.url, 'shopdata', 'listMine')).json).toEqual([{ item: 'x' }]);

    // A change to the rules alone is a change to push.
    writeFileSync(
      join(root, 'data_sources/mongodb-atlas/shop/orders/rules.json'),
      JSON.stringify({ roles: [{ name: 'none', apply_when: {}, read: false, write: false }] }),
    );
    const again = await fnAt(dev, 'push', root, ['--yes']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/data sources/);
    await dev.waitFor((e) => e.event === 'deployed' && e.summary === 'data sources');
    expect((await callFunction(dev.url, 'shopdata', 'listMine')).json).toEqual([]);
    const up = await fnAt(dev, 'push', root, ['--yes']);
    expect(up.stdout).toMatch(/up to date/);
  });
});

describe('fn dev with a data source', () => {
  it('announces the backend, serves functions under the rules, reloads edited rules, and writes the data when stopped', async () => {
    const { startDev, callFunction, userToken, bearer } = await import('./dev-helpers.js');
    const root = makeApp();
    writeFileSync(join(root, 'fn.config.json'), JSON.stringify({ appId: 'devdata' }));
    const dev = await startDev(root, [], { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' });
    try {
      expect(dev.events.find((e) => e.event === 'data')).toMatchObject({
        backends: [{ source: 'mongodb-atlas', kind: 'embedded', variable: 'FN_DATA_SOURCE_MONGODB_ATLAS_URI' }],
      });
      const ann = bearer(await userToken(dev, 'ann'));
      expect((await callFunction(dev, 'addOrder', { item: 'a' }, ann)).status).toBe(200);
      expect((await callFunction(dev, 'listMine', {}, ann)).json).toEqual([{ item: 'a' }]);
      expect((await callFunction(dev, 'listMine', {}, bearer(await userToken(dev, 'bob')))).json).toEqual([]);
      writeFileSync(
        join(root, 'data_sources/mongodb-atlas/shop/orders/rules.json'),
        JSON.stringify({ roles: [{ name: 'all', apply_when: {}, read: true }] }),
      );
      await dev.waitFor((e) => e.event === 'reloaded');
      expect((await callFunction(dev, 'listMine', {}, bearer(await userToken(dev, 'bob')))).json).toEqual([{ item: 'a' }]);
    } finally {
      await dev.stop();
    }
    expect(JSON.parse(readFileSync(join(root, '.fn/data/mongodb-atlas/shop/orders.json'), 'utf8'))).toMatchObject([
      { item: 'a', owner: 'ann' },
    ]);
  });
});
