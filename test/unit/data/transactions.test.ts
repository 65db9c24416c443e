// Sessions and transactions as function code uses them (client.startSession(), { session } in each
// call's options), on every backend of ENGINES; the embedded engine's journal on its own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../../src/data/embedded.js';
import { loadBson } from '../../../src/data/libs.js';
import { RulesCollection } from '../../../src/data/rules.js';
import { serviceClient, type ServiceCollection } from '../../../src/data/service.js';
import { bindSession, type ServiceSession } from '../../../src/data/session.js';
import type { DataBackend, SourceRules } from '../../../src/data/types.js';
import { dropDatabases, ENGINES } from './engines.js';

type Client = { db(n: string): { collection(n: string): ServiceCollection }; startSession(): ServiceSession };

function clientOf(backend: DataBackend, rules?: { rules: SourceRules; user: string }): Client {
  return serviceClient({
    name: 'mongodb-atlas',
    collection: (d, c, session) => {
      const raw = session ? bindSession(backend.collection(d, c), session) : backend.collection(d, c);
      if (!rules) return raw;
      return new RulesCollection(raw, d, c, rules.rules, {
        user: { id: rules.user, type: 'normal', data: {}, custom_data: {}, identities: [] },
      });
    },
    collectionNames: (d) => backend.collectionNames(d),
    databaseNames: () => backend.databaseNames(),
    startSession: () => backend.startSession(),
  }) as Client;
}

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`transactions on ${engine.name}${engine.skip ? ` (skipped: ${engine.skip})` : ''}`, () => {
    let backend: DataBackend;
    let client: Client;
    let n = 0;
    const db = engine.db('txn');
    beforeAll(() => {
      backend = engine.open();
      client = clientOf(backend);
    });
    afterAll(async () => {
      await dropDatabases(backend, [db]);
      await backend.close();
    });
    const fresh = async () => {
      const c = client.db(db).collection(`c${n++}`);
      await c.insertMany([
        { _id: 'a', balance: 100 },
        { _id: 'b', balance: 0 },
      ]);
      return c;
    };

    it('withTransaction commits every write together; until then they are seen only inside it', async () => {
      const c = await fresh();
      const session = client.startSession();
      const seen: unknown[] = [];
      const result = await session.withTransaction(async () => {
        await c.updateOne({ _id: 'a' }, { $inc: { balance: -30 } }, { session });
        await c.updateOne({ _id: 'b' }, { $inc: { balance: 30 } }, { session });
        await c.insertOne({ _id: 'log', what: 'transfer' }, { session });
        seen.push((await c.findOne({ _id: 'a' }, {}, { session }))?.balance, (await c.findOne({ _id: 'a' }))?.balance);
        seen.push(await c.count({}, { session }), await c.count({}));
        return 'done';
      });
      await session.endSession();
      expect(result).toBe('done');
      expect(seen).toEqual([70, 100, 3, 2]);
      expect(await c.find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', balance: 70 },
        { _id: 'b', balance: 30 },
        { _id: 'log', what: 'transfer' },
      ]);
    });

    it('an error thrown in the callback, or abortTransaction, undoes every write of the transaction', async () => {
      const c = await fresh();
      const session = client.startSession();
      await expect(
        session.withTransaction(async () => {
          await c.updateOne({ _id: 'a' }, { $set: { balance: 0 } }, { session });
          await c.deleteOne({ _id: 'b' }, { session });
          throw new Error('insufficient funds');
        }),
      ).rejects.toThrow('insufficient funds');
      expect(session.inTransaction()).toBe(false);
      session.startTransaction();
      await c.insertMany([{ _id: 'x' }, { _id: 'y' }], { session });
      await c.findOneAndUpdate({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      await c.bulkWrite([{ deleteOne: { filter: { _id: 'b' } } }], { session });
      await session.abortTransaction();
      await session.endSession();
      expect(await c.find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', balance: 100 },
        { _id: 'b', balance: 0 },
      ]);
    });

    it('a write conflict is a WriteConflict with TransientTransactionError, and withTransaction runs the callback again', async () => {
      const c = await fresh();
      const first = client.startSession();
      const second = client.startSession();
      first.startTransaction();
      second.startTransaction();
      await c.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }, { session: first });
      const conflict = await c.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }, { session: second }).catch((e: unknown) => e);
      expect(conflict).toMatchObject({ code: 112 });
      expect((conflict as { errorLabels: string[] }).errorLabels).toContain('TransientTransactionError');
      await second.abortTransaction().catch(() => undefined);
      let runs = 0;
      const third = client.startSession();
      await third.withTransaction(async () => {
        runs++;
        // The first transaction holds 'a' until it commits, during the first run.
        if (runs === 1) setTimeout(() => void first.commitTransaction(), 20);
        await c.updateOne({ _id: 'a' }, { $inc: { balance: 10 } }, { session: third });
      });
      expect(runs).toBeGreaterThan(1);
      expect((await c.findOne({ _id: 'a' }))?.balance).toBe(111);
      await Promise.all([first, second, third].map((s) => s.endSession()));
    });

    it('rules apply inside a transaction: a write the role does not allow fails it, and nothing is kept', async () => {
      const name = `r${n++}`;
      await backend.collection(db, name).insertMany([
        { _id: 1, owner: 'ann', n: 0 },
        { _id: 2, owner: 'bob', n: 0 },
      ]);
      const rules: SourceRules = {
        namespaces: {
          [`${db}.${name}`]: {
            roles: [
              { name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true },
              { name: 'reader', apply_when: {}, read: true, write: false },
            ],
            filters: [],
          },
        },
      };
      const ann = clientOf(backend, { rules, user: 'ann' });
      const c = ann.db(db).collection(name);
      const session = ann.startSession();
      await expect(
        session.withTransaction(async () => {
          await c.updateOne({ _id: 1 }, { $set: { n: 1 } }, { session });
          await c.updateOne({ _id: 2 }, { $set: { n: 1 } }, { session });
        }),
      ).rejects.toThrow(/update not permitted/);
      expect(await backend.collection(db, name).find({}).toArray()).toEqual([
        { _id: 1, owner: 'ann', n: 0 },
        { _id: 2, owner: 'bob', n: 0 },
      ]);
    });

    it('a session of another data source, or one ended, is refused', async () => {
      const c = await fresh();
      const other = serviceClient({
        name: 'other',
        collection: (d, coll) => backend.collection(d, coll),
        collectionNames: async () => [],
        databaseNames: async () => [],
        startSession: () => backend.startSession(),
      }) as Client;
      await expect(c.insertOne({ z: 1 }, { session: other.startSession() })).rejects.toThrow(/belongs to data source "other"/);
      const s = client.startSession();
      await s.endSession();
      await expect(s.withTransaction(async () => undefined)).rejects.toThrow(/ended/);
    });
  });
}

describe('embedded transactions on disk', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'fn-txn-'));
    dirs.push(d);
    return d;
  };
  const { EJSON } = loadBson();

  it('a commit is written out at once, and leaves no journal', async () => {
    const dir = tempDir();
    const engine = new EmbeddedEngine(dir);
    const session = engine.startSession();
    session.startTransaction();
    await engine.collection('shop', 'a').insertOne({ _id: 1 }, { session });
    await engine.collection('shop', 'b').insertOne({ _id: 2 }, { session });
    expect(existsSync(join(dir, 'shop', 'a.json'))).toBe(false);
    await session.commitTransaction();
    expect(EJSON.parse(readFileSync(join(dir, 'shop', 'a.json'), 'utf8'))).toEqual([{ _id: 1 }]);
    expect(EJSON.parse(readFileSync(join(dir, 'shop', 'b.json'), 'utf8'))).toEqual([{ _id: 2 }]);
    expect(existsSync(join(dir, 'commit.json'))).toBe(false);
    await engine.close();
  });

  it('a journal left by a process that died mid-commit is replayed on start: data and events', async () => {
    const dir = tempDir();
    const a = new EmbeddedEngine(dir);
    await a.collection('shop', 'a').insertOne({ _id: 1, v: 0 });
    await a.close();
    const seq = a.log.lastSeq;
    // What commit() writes before it applies anything.
    writeFileSync(
      join(dir, 'commit.json'),
      EJSON.stringify(
        {
          seq,
          writes: [
            { db: 'shop', coll: 'a', id: 1, doc: { _id: 1, v: 1 } },
            { db: 'shop', coll: 'b', id: 9, doc: { _id: 9 } },
          ],
          events: [
            { operationType: 'update', db: 'shop', coll: 'a', id: 1, before: { _id: 1, v: 0 }, after: { _id: 1, v: 1 } },
            { operationType: 'insert', db: 'shop', coll: 'b', id: 9, before: null, after: { _id: 9 } },
          ],
        },
        { relaxed: false },
      ),
    );
    const b = new EmbeddedEngine(dir);
    expect(existsSync(join(dir, 'commit.json'))).toBe(false);
    expect(await b.collection('shop', 'a').find({}).toArray()).toEqual([{ _id: 1, v: 1 }]);
    expect(await b.collection('shop', 'b').find({}).toArray()).toEqual([{ _id: 9 }]);
    expect(b.log.lastSeq).toBe(seq + 2);
    await b.close();
  });
});
