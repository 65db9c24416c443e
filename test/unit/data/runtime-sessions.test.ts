// Transactions and change streams through the real runtime: functions in worker threads reach the
// DataHub's data thread over the bridge, sessions and streams as ids. Imports the built modules.
import { afterEach, describe, expect, it } from 'vitest';
import type { DataHub as DataHubClass } from '../../../src/data/hub.js';
import { loadBson } from '../../../src/data/libs.js';
import type { ChangeEvent, DataSourceSpec } from '../../../src/data/types.js';
import type { RuntimeHost as RuntimeHostClass } from '../../../src/runtime/host.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
import { bundleOf, callOf, fnDef } from '../runtime/bundle-fixtures.js';

const { RuntimeHost } = (await import(
  new URL('../../../dist/runtime/host.js', import.meta.url).href
)) as typeof import('../../../src/runtime/host.js');
const { DataHub } = (await import(new URL('../../../dist/data/hub.js', import.meta.url).href)) as typeof import('../../../src/data/hub.js');
const { ObjectId, Timestamp } = loadBson();

const open: { host: RuntimeHostClass; hub: DataHubClass }[] = [];
afterEach(async () => {
  for (const { host, hub } of open.splice(0)) {
    await host.close();
    await hub.close();
  }
});

const source: DataSourceSpec = {
  name: 'mongodb-atlas',
  type: 'mongodb-atlas',
  dir: 'data_sources/mongodb-atlas',
  config: {},
  rules: { namespaces: {}, defaultRule: { roles: [{ name: 'all', apply_when: {}, read: true, write: true }], filters: [] } },
};

function start(functions: ReturnType<typeof fnDef>[]) {
  const hub = new DataHub({ root: '/nonexistent', sources: [source], env: {}, embedded: true, memory: true });
  const host = new RuntimeHost({ workers: 1, maxWorkers: 1 });
  host.setData(hub);
  host.setApp(bundleOf('1', functions));
  open.push({ host, hub });
  return { host, hub };
}

const value = (o: CallOutcome): unknown => {
  expect(o.error).toBeUndefined();
  return JSON.parse((o.result as { json: string }).json);
};

const setup = `const client = context.services.get('mongodb-atlas'); const c = client.db('bank').collection('accounts');`;

describe('transactions in the runtime', () => {
  it('withTransaction with { session } commits; a throw in it keeps nothing', async () => {
    const { host, hub } = start([
      fnDef('seed', `exports = async function () { ${setup} await c.insertMany([{ _id: 'a', n: 100 }, { _id: 'b', n: 0 }]); };`),
      fnDef(
        'transfer',
        `exports = async function ({ amount, fail }) { ${setup}
          const session = client.startSession();
          try {
            await session.withTransaction(async () => {
              await c.updateOne({ _id: 'a' }, { $inc: { n: -amount } }, { session });
              await c.updateOne({ _id: 'b' }, { $inc: { n: amount } }, { session });
              if (fail) throw new Error('refused');
            });
            return 'ok';
          } catch (e) { return e.message; } finally { await session.endSession(); }
        };`,
      ),
    ]);
    value(await host.call(callOf('seed')));
    expect(value(await host.call(callOf('transfer', [{ amount: 30 }])))).toBe('ok');
    expect(value(await host.call(callOf('transfer', [{ amount: 50, fail: true }])))).toBe('refused');
    const docs = await hub.backend('mongodb-atlas').collection('bank', 'accounts').find({}).toArray();
    expect(docs).toEqual([
      { _id: 'a', n: 70 },
      { _id: 'b', n: 30 },
    ]);
  });

  it('a transaction a call leaves open is aborted when the call ends: its writes are gone and hold nothing', async () => {
    const { host, hub } = start([
      fnDef(
        'leave',
        `exports = async function () { ${setup} const s = client.startSession(); s.startTransaction();
          await c.insertOne({ _id: 'x', by: 'leave' }, { session: s }); return s.inTransaction(); };`,
      ),
      fnDef(
        'write',
        `exports = async function () { ${setup} const s = client.startSession();
          await s.withTransaction(async () => { await c.insertOne({ _id: 'x', by: 'write' }, { session: s }); }); return c.find({}).toArray(); };`,
      ),
    ]);
    expect(value(await host.call(callOf('leave')))).toBe(true);
    expect(await hub.backend('mongodb-atlas').collection('bank', 'accounts').countDocuments({})).toBe(0);
    expect(value(await host.call(callOf('write')))).toEqual([{ _id: 'x', by: 'write' }]);
  });
});

describe('change streams in the runtime', () => {
  it("DataHub.watch gets the events of functions' writes, BSON-true, and ends on close", async () => {
    const { host, hub } = start([
      fnDef(
        'add',
        `exports = async function () { ${setup} await c.insertOne({ at: new Date(7) }); await c.updateMany({}, { $set: { seen: true } }); };`,
      ),
    ]);
    const stream = hub.watch('mongodb-atlas', { db: 'bank', fullDocument: 'updateLookup' });
    const got: ChangeEvent[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        got.push(e);
        if (got.length === 2) break;
      }
    })();
    // The stream starts where the log is when it opens. The hub's own calls share its port, so once
    // this one is answered the stream is open.
    await hub.backend('mongodb-atlas').collection('elsewhere', 'marks').insertOne({ mark: 1 });
    value(await host.call(callOf('add')));
    await reading;
    expect(got.map((e) => e.operationType)).toEqual(['insert', 'update']);
    expect(got[0]!.documentKey!._id).toBeInstanceOf(ObjectId);
    expect(got[0]!.fullDocument!.at).toBeInstanceOf(Date);
    expect(got[0]!.clusterTime).toBeInstanceOf(Timestamp);
    expect(got[1]!.fullDocument).toMatchObject({ seen: true });
    expect(stream.resumeToken).toEqual(got[1]!._id);
    await stream.close();
    await expect(stream.next()).rejects.toThrow(/closed/);
  });

  it("a function's collection.watch() sees a write made while it waits, and resumes from a token", async () => {
    const { host } = start([
      fnDef(
        'watchOwn',
        `exports = async function () { ${setup}
          const stream = c.watch([{ $match: { operationType: 'insert' } }]);
          const waiting = stream.next();
          await c.insertOne({ _id: 1 });
          await c.insertOne({ _id: 2 });
          const first = await waiting;
          const again = c.watch([], { resumeAfter: first._id });
          const second = await again.next();
          await stream.close();
          return { first: first.documentKey._id, second: second.documentKey._id, closed: stream.isClosed() };
        };`,
      ),
    ]);
    expect(value(await host.call(callOf('watchOwn')))).toEqual({ first: 1, second: 2, closed: true });
  });
});
