// context.services inside the real runtime: functions in worker threads reach one DataHub in this
// thread through the data bridge. Imports the built modules (workers run dist/runtime/worker.js).
import { afterEach, describe, expect, it } from 'vitest';
import type { DataHub as DataHubClass } from '../../../src/data/hub.js';
import type { DataSourceSpec } from '../../../src/data/types.js';
import type { RuntimeHost as RuntimeHostClass } from '../../../src/runtime/host.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
import { bundleOf, callOf, fnDef, userOf } from '../runtime/bundle-fixtures.js';

const { RuntimeHost } = (await import(
  new URL('../../../dist/runtime/host.js', import.meta.url).href
)) as typeof import('../../../src/runtime/host.js');
const { DataHub } = (await import(new URL('../../../dist/data/hub.js', import.meta.url).href)) as typeof import('../../../src/data/hub.js');

const open: { host: RuntimeHostClass; hub: DataHubClass }[] = [];
afterEach(async () => {
  for (const { host, hub } of open.splice(0)) {
    await host.close();
    await hub.close();
  }
});

const source = (
  rules: DataSourceSpec['rules'] = {
    namespaces: {},
    defaultRule: { roles: [{ name: 'all', apply_when: {}, read: true, write: true }], filters: [] },
  },
): DataSourceSpec => ({ name: 'mongodb-atlas', type: 'mongodb-atlas', dir: 'data_sources/mongodb-atlas', config: {}, rules });

function start(
  functions: ReturnType<typeof fnDef>[],
  options: { workers?: number; sources?: DataSourceSpec[]; env?: Record<string, string> } = {},
) {
  const hub = new DataHub({
    root: '/nonexistent',
    sources: options.sources ?? [source()],
    env: options.env ?? {},
    embedded: true,
    memory: true,
    serverSelectionTimeoutMS: 300,
  });
  const host = new RuntimeHost({ workers: options.workers ?? 1, maxWorkers: options.workers ?? 1 });
  host.setData(hub);
  host.setApp(bundleOf('1', functions));
  open.push({ host, hub });
  return { host, hub };
}

const value = (o: CallOutcome): unknown => {
  expect(o.error).toBeUndefined();
  return JSON.parse((o.result as { json: string }).json);
};

const coll = `const c = context.services.get('mongodb-atlas').db('shop').collection('orders');`;

describe('context.services in the runtime', () => {
  it('workers of one app share one store', async () => {
    const { host, hub } = start(
      [fnDef('add', `exports = async function ({ i }) { ${coll} await c.insertOne({ i }); return c.count(); };`)],
      { workers: 2 },
    );
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => host.call(callOf('add', [{ i }]))));
    outcomes.forEach((o) => value(o));
    expect(await hub.backend('mongodb-atlas').collection('shop', 'orders').countDocuments({})).toBe(20);
  });

  it('an id made with BSON.ObjectId in function code finds the stored document; a returned cursor is its documents', async () => {
    const { host } = start([
      fnDef(
        'roundTrip',
        `exports = async function () { ${coll}
        const { insertedId } = await c.insertOne({ at: new Date(0), n: 1 });
        const found = await c.findOne({ _id: BSON.ObjectId(insertedId.toString()) });
        return { same: found._id.equals(insertedId), isDate: found.at instanceof Date || Object.prototype.toString.call(found.at) === '[object Date]' };
      };`,
      ),
      fnDef('list', `exports = function () { ${coll} return c.find({}, { _id: 0 }); };`),
    ]);
    expect(value(await host.call(callOf('roundTrip')))).toEqual({ same: true, isDate: true });
    expect(value(await host.call(callOf('list')))).toEqual([{ at: '1970-01-01T00:00:00.000Z', n: 1 }]);
  });

  it('an unknown data source name is an error naming the configured ones', async () => {
    const { host } = start([fnDef('bad', `exports = function () { return context.services.get('atlas'); };`)]);
    const o = await host.call(callOf('bad'));
    expect(o.error?.message).toMatch(/no data source of that name; the app has "mongodb-atlas"/);
  });

  it('rules apply to a user and not to a run_as_system function', async () => {
    const rules = {
      namespaces: {
        'shop.orders': { roles: [{ name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true }], filters: [] },
      },
    };
    const { host } = start(
      [
        fnDef('seed', `exports = async function () { ${coll} await c.insertMany([{ owner: 'ann' }, { owner: 'bob' }]); };`, {
          runAsSystem: true,
        }),
        fnDef('mine', `exports = async function () { ${coll} return (await c.find({}, { _id: 0 }).toArray()); };`),
        fnDef('steal', `exports = async function () { ${coll} return c.updateOne({ owner: 'bob' }, { $set: { owner: 'ann' } }); };`),
      ],
      { sources: [source(rules)] },
    );
    value(await host.call(callOf('seed')));
    expect(value(await host.call(callOf('mine', [{}], { caller: userOf('ann') })))).toEqual([{ owner: 'ann' }]);
    // Bob's order has no role for Ann: it is withheld from her writes as from her reads.
    expect(value(await host.call(callOf('steal', [{}], { caller: userOf('ann') })))).toEqual({ matchedCount: 0, modifiedCount: 0 });
    expect(value(await host.call(callOf('mine', [{}], { caller: userOf('bob') })))).toEqual([{ owner: 'bob' }]);
  });

  it('a call waiting on a slow query still ends at its time limit, and the store answers the next', async () => {
    const { host, hub } = start([
      fnDef(
        'slow',
        `exports = function () { ${coll} return c.aggregate([{ $group: { _id: '$i', n: { $sum: 1 } } }, { $sort: { n: -1, _id: 1 } }, { $group: { _id: '$n', ids: { $push: '$_id' } } }]).toArray(); };`,
      ),
      fnDef('count', `exports = function () { ${coll} return c.count(); };`),
    ]);
    await hub
      .backend('mongodb-atlas')
      .collection('shop', 'orders')
      .insertMany(Array.from({ length: 40_000 }, (_, i) => ({ i, pad: 'x'.repeat(20) })));
    const limited = new RuntimeHost({ workers: 1, maxWorkers: 1, timeoutMs: 100 });
    limited.setData(hub);
    limited.setApp(bundleOf('1', [fnDef('slow', host.app!.functions.slow!.source), fnDef('count', host.app!.functions.count!.source)]));
    open.push({ host: limited, hub });
    const started = Date.now();
    const o = await limited.call(callOf('slow'));
    expect(o.error?.code).toBe('EXECUTION_TIME_LIMIT');
    expect(Date.now() - started).toBeLessThan(5_000);
    // The data thread finishes the abandoned query, then answers the others.
    expect(value(await host.call(callOf('count')))).toBe(40_000);
  });

  it('a database that is down fails the call with a clear error, not a hang', async () => {
    const { host } = start([fnDef('down', `exports = async function () { ${coll} return c.findOne({}); };`)], {
      env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: 'mongodb://127.0.0.1:1/?directConnection=true' },
    });
    const started = Date.now();
    const o = await host.call(callOf('down'));
    expect(o.error?.message).toMatch(/cannot reach the database/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a connection string that is not one is a usage error before anything starts', () => {
    expect(
      () => new DataHub({ root: '/x', sources: [source()], env: { FN_DATA_SOURCE_MONGODB_ATLAS_URI: 'localhost:27017' }, embedded: true }),
    ).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: expect.stringMatching(/FN_DATA_SOURCE_MONGODB_ATLAS_URI must be a connection string/),
      }),
    );
    expect(() => new DataHub({ root: '/x', sources: [source()], env: {}, embedded: false })).toThrow(
      /has no connection string: set FN_DATA_SOURCE_MONGODB_ATLAS_URI/,
    );
  });

  it('a data thread that is gone fails calls at once with a clear error', async () => {
    const { host, hub } = start([fnDef('one', `exports = function () { ${coll} return c.findOne({}); };`)]);
    value(await host.call(callOf('one')));
    await (hub as unknown as { thread: { terminate(): Promise<number> } }).thread.terminate();
    const o = await host.call(callOf('one'));
    expect(o.error?.message).toMatch(/the data thread stopped/);
  });
});
