// Rules in user context: the documented examples (reference §9.9) and attempts to read or write
// around each rule, on every backend of ENGINES, through the App Services layer function code uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesCollection } from '../../../src/data/rules.js';
import { ServiceCollection } from '../../../src/data/service.js';
import type { DataBackend, Document, NamespaceRules, Role, RuleFilter } from '../../../src/data/types.js';
import { dropDatabases, ENGINES } from './engines.js';

const user = (id: string, extra: Document = {}) => ({ id, type: 'normal', data: {}, custom_data: {}, identities: [], ...extra });

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`rules on ${engine.name}${engine.skip ? ` (skipped: ${engine.skip})` : ''}`, () => {
    let backend: DataBackend;
    let n = 0;
    const db = engine.db('rules');
    beforeAll(() => {
      backend = engine.open();
    });
    afterAll(async () => {
      await dropDatabases(backend, [db]);
      await backend.close();
    });

    /** A fresh collection seeded as system; `as(user)` sees it through the rules. */
    async function setup(
      roles: Role[],
      docs: Document[],
      filters: RuleFilter[] = [],
      opts: { callFunction?: (name: string, args: unknown[]) => Promise<unknown> } = {},
    ) {
      const name = `c${n++}`;
      const raw = backend.collection(db, name);
      if (docs.length) await raw.insertMany(docs);
      const rules = { namespaces: { [`${db}.${name}`]: { roles, filters } satisfies NamespaceRules } };
      return {
        raw,
        as: (u: ReturnType<typeof user>) =>
          new ServiceCollection(
            new RulesCollection(raw, db, name, rules, { user: u, ...(opts.callFunction ? { callFunction: opts.callFunction } : {}) }),
            db,
            name,
          ),
      };
    }

    it('no rules.json and no default rule: every operation is refused', async () => {
      const raw = backend.collection(db, `none${n++}`);
      const c = new ServiceCollection(new RulesCollection(raw, db, 'none', { namespaces: {} }, { user: user('u') }), db, 'none');
      await expect(c.find({}).toArray()).rejects.toThrow(/no rule exists for namespace/);
      await expect(c.insertOne({ a: 1 })).rejects.toMatchObject({ code: 'NoMatchingRule' });
      await expect(c.count()).rejects.toThrow(/no rule/);
    });

    it('a default rule covers a collection without its own roles', async () => {
      const raw = backend.collection(db, `def${n++}`);
      await raw.insertOne({ _id: 1 });
      const c = new ServiceCollection(
        new RulesCollection(
          raw,
          db,
          'x',
          { namespaces: {}, defaultRule: { roles: [{ name: 'r', apply_when: {}, read: true }], filters: [] } },
          { user: user('u') },
        ),
        db,
        'x',
      );
      expect(await c.find({}).toArray()).toEqual([{ _id: 1 }]);
      await expect(c.insertOne({ _id: 2 })).rejects.toThrow(/insert not permitted/);
    });

    it('employees: Manager for reports (email in custom_data.manages), Employee for oneself, nothing for others', async () => {
      const roles: Role[] = [
        {
          name: 'Manager',
          apply_when: { email: '%%user.custom_data.manages' },
          insert: true,
          delete: true,
          read: true,
          write: true,
          search: true,
          additional_fields: { read: true, write: true },
        },
        { name: 'Employee', apply_when: { email: '%%user.data.email' }, insert: false, delete: false, read: true, write: true },
      ];
      const { as } = await setup(roles, [
        { _id: 'me', email: 'me@x' },
        { _id: 'r1', email: 'r1@x' },
        { _id: 'other', email: 'o@x' },
      ]);
      const me = as(user('u1', { data: { email: 'me@x' }, custom_data: { manages: ['r1@x'] } }));
      expect((await me.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['me', 'r1']);
      expect(await me.updateOne({ _id: 'me' }, { $set: { title: 'x' } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      await expect(me.deleteOne({ _id: 'me' })).rejects.toThrow(/delete not permitted/);
      expect(await me.deleteOne({ _id: 'r1' })).toEqual({ deletedCount: 1 });
      // No role applies to another's document: it is withheld from writes as from reads.
      expect(await me.updateOne({ _id: 'other' }, { $set: { title: 'x' } })).toEqual({ matchedCount: 0, modifiedCount: 0 });
      expect(await me.deleteOne({ _id: 'other' })).toEqual({ deletedCount: 0 });
    });

    it('read all, write none: reads succeed, every kind of write is refused', async () => {
      const { as, raw } = await setup([{ name: 'r', apply_when: {}, read: true, write: false }], [{ _id: 1, a: 1 }]);
      const c = as(user('u'));
      expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
      await expect(c.insertOne({ a: 2 })).rejects.toThrow(/insert not permitted/);
      await expect(c.updateOne({ _id: 1 }, { a: 2 })).rejects.toThrow(/update not permitted/);
      await expect(c.replaceOne({ _id: 1 }, { a: 2 })).rejects.toThrow(/update not permitted/);
      await expect(c.deleteMany({})).rejects.toThrow(/delete not permitted/);
      await expect(c.findOneAndUpdate({ _id: 1 }, { $set: { a: 3 } })).rejects.toThrow(/update not permitted/);
      await expect(c.findOneAndDelete({ _id: 1 })).rejects.toThrow(/delete not permitted/);
      await expect(c.bulkWrite([{ updateOne: { filter: { _id: 1 }, update: { $set: { a: 4 } } } }])).rejects.toThrow(
        /update not permitted/,
      );
      expect(await raw.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
    });

    it('write: true implies read', async () => {
      const { as } = await setup([{ name: 'w', apply_when: {}, write: true }], [{ _id: 1, a: 1 }]);
      expect(await as(user('u')).find({}).toArray()).toEqual([{ _id: 1, a: 1 }]);
    });

    it('read all, write some: document-level write false wins over a field rule; with write unset only that field is writable', async () => {
      const strict = await setup(
        [{ name: 'r', apply_when: {}, read: true, write: false, fields: { f: { write: true } } }],
        [{ _id: 1, f: 1, g: 1 }],
      );
      await expect(strict.as(user('u')).updateOne({ _id: 1 }, { $set: { f: 2 } })).rejects.toThrow(/update not permitted/);
      const open = await setup([{ name: 'r', apply_when: {}, read: true, fields: { f: { write: true } } }], [{ _id: 1, f: 1, g: 1 }]);
      expect(await open.as(user('u')).updateOne({ _id: 1 }, { $set: { f: 2 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      await expect(open.as(user('u')).updateOne({ _id: 1 }, { $set: { g: 2 } })).rejects.toThrow(/update not permitted/);
      await expect(open.as(user('u')).updateOne({ _id: 1 }, { $set: { f: 3, g: 3 } })).rejects.toThrow(/update not permitted/);
    });

    it('read/write all but no inserts', async () => {
      const { as } = await setup([{ name: 'rw', apply_when: {}, write: true, insert: false }], [{ _id: 1, a: 1 }]);
      const c = as(user('u'));
      expect(await c.updateOne({ _id: 1 }, { $set: { a: 2 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      await expect(c.insertOne({ a: 1 })).rejects.toThrow(/insert not permitted/);
      await expect(c.insertMany([{ a: 1 }])).rejects.toThrow(/insert not permitted/);
      await expect(c.updateOne({ _id: 99 }, { $set: { a: 1 } }, { upsert: true })).rejects.toThrow(/insert not permitted/);
      await expect(c.bulkWrite([{ insertOne: { document: { a: 1 } } }])).rejects.toThrow(/insert not permitted/);
    });

    it('cannot write some fields: a read-only field, the others writable', async () => {
      const { as } = await setup(
        [{ name: 'r', apply_when: {}, read: true, fields: { locked: { read: true, write: false } }, additional_fields: { write: true } }],
        [{ _id: 1, locked: 1, free: 1 }],
      );
      const c = as(user('u'));
      expect(await c.updateOne({ _id: 1 }, { $set: { free: 2 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      await expect(c.updateOne({ _id: 1 }, { $set: { locked: 2 } })).rejects.toThrow(/update not permitted/);
      await expect(c.updateOne({ _id: 1 }, { $unset: { locked: '' } })).rejects.toThrow(/update not permitted/);
      await expect(c.findOneAndReplace({ _id: 1 }, { free: 3 })).rejects.toThrow(/update not permitted/);
    });

    it('insert-only: the insert succeeds, the document cannot be read or changed afterwards', async () => {
      const { as, raw } = await setup(
        [{ name: 'drop', apply_when: {}, insert: true, delete: false, write: { '%%prevRoot': { $exists: false } }, additional_fields: {} }],
        [],
      );
      const c = as(user('u'));
      const { insertedId } = await c.insertOne({ msg: 'hi' });
      expect(await raw.findOne({ _id: insertedId })).toMatchObject({ msg: 'hi' });
      expect(await c.findOne({ _id: insertedId })).toBeNull();
      expect(await c.count()).toBe(0);
      await expect(c.updateOne({ _id: insertedId }, { $set: { msg: 'changed' } })).rejects.toThrow(/update not permitted/);
      await expect(c.deleteOne({ _id: insertedId })).rejects.toThrow(/delete not permitted/);
    });

    it('an embedded field rule: only that sub-field is read or written', async () => {
      const { as } = await setup(
        [{ name: 'e', apply_when: {}, fields: { emb: { fields: { sub: { read: true, write: true } } } }, additional_fields: {} }],
        [{ _id: 1, emb: { sub: 1, hidden: 2 }, top: 3 }],
      );
      const c = as(user('u'));
      expect(await c.find({}).toArray()).toEqual([{ emb: { sub: 1 } }]);
      expect(await c.updateOne({ _id: 1 }, { $set: { 'emb.sub': 5 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      await expect(c.updateOne({ _id: 1 }, { $set: { 'emb.hidden': 5 } })).rejects.toThrow(/update not permitted/);
      await expect(c.updateOne({ _id: 1 }, { $set: { top: 5 } })).rejects.toThrow(/update not permitted/);
    });

    it('custom user data: a user reads and writes only their own document, cannot insert or delete, and cannot take another', async () => {
      const { as } = await setup(
        [{ name: 'ThisUser', apply_when: { user_id: '%%user.id' }, insert: false, read: true, write: true, search: false, delete: false }],
        [
          { _id: 1, user_id: 'ann' },
          { _id: 2, user_id: 'bob' },
        ],
      );
      const ann = as(user('ann'));
      expect(await ann.find({}).toArray()).toEqual([{ _id: 1, user_id: 'ann' }]);
      expect(await ann.findOne({ _id: 2 })).toBeNull();
      expect(await ann.updateOne({ _id: 2 }, { $set: { user_id: 'ann' } })).toEqual({ matchedCount: 0, modifiedCount: 0 });
      await expect(ann.insertOne({ user_id: 'ann' })).rejects.toThrow(/insert not permitted/);
      await expect(ann.deleteOne({ _id: 1 })).rejects.toThrow(/delete not permitted/);
      expect(await ann.updateMany({}, { $set: { seen: true } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
    });

    it('a filter (AnonymizeVotes, spelt "project" in the docs) narrows every query and projection', async () => {
      const { as } = await setup(
        [{ name: 'all', apply_when: {}, read: true }],
        [
          { _id: 1, shareVoteAnonymous: true, age: 30, vote: 'a', name: 'x' },
          { _id: 2, shareVoteAnonymous: false, age: 40, vote: 'b', name: 'y' },
        ],
        [
          {
            name: 'AnonymizeVotes',
            apply_when: { '%%true': true },
            query: { shareVoteAnonymous: true },
            projection: { _id: 0, age: 1, vote: 1 },
          },
        ],
      );
      const c = as(user('u'));
      expect(await c.find({}).toArray()).toEqual([{ age: 30, vote: 'a' }]);
      expect(await c.count()).toBe(1);
      expect(await c.distinct('vote')).toEqual(['a']);
      expect(await c.aggregate([{ $group: { _id: null, n: { $sum: 1 } } }]).toArray()).toEqual([{ _id: null, n: 1 }]);
    });

    it('a filter query with %%user keeps a user to their documents, also for writes', async () => {
      const { as, raw } = await setup(
        [{ name: 'all', apply_when: {}, read: true, write: true }],
        [
          { _id: 1, owner: 'ann' },
          { _id: 2, owner: 'bob' },
        ],
        [{ name: 'own', apply_when: {}, query: { owner: '%%user.id' } }],
      );
      const ann = as(user('ann'));
      expect(await ann.find({}).toArray()).toEqual([{ _id: 1, owner: 'ann' }]);
      expect(await ann.deleteMany({})).toEqual({ deletedCount: 1 });
      expect(await raw.findOne({ _id: 2 })).toEqual({ _id: 2, owner: 'bob' });
    });

    describe('no way around a per-document role', () => {
      const roles: Role[] = [{ name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true }];
      const docs = [
        { _id: 1, owner: 'ann', n: 1, tag: 'a' },
        { _id: 2, owner: 'bob', n: 10, tag: 'b' },
        { _id: 3, owner: 'ann', n: 2, tag: 'c' },
      ];

      it('cursors: toArray, next, forEach, for await, await, and skip/limit counted over readable documents only', async () => {
        const c = (await setup(roles, docs)).as(user('ann'));
        const seen: unknown[] = [];
        const cur = c.find({}).sort({ n: -1 });
        for (let d = await cur.next(); d; d = await cur.next()) seen.push(d._id);
        await c.find({}).forEach((d) => void seen.push(d._id));
        for await (const d of c.find({})) seen.push(d._id);
        seen.push(...(await c.find({})).map((d) => d._id));
        expect(seen).toEqual([3, 1, 1, 3, 1, 3, 1, 3]);
        expect((await c.find({}).sort({ n: -1 }).skip(1).limit(1).toArray()).map((d) => d._id)).toEqual([1]);
        expect(await c.findOne({ owner: 'bob' })).toBeNull();
      });

      it('aggregate reads only readable documents and refuses stages that reach other collections', async () => {
        const c = (await setup(roles, docs)).as(user('ann'));
        expect(await c.aggregate([{ $group: { _id: null, total: { $sum: '$n' } } }]).toArray()).toEqual([{ _id: null, total: 3 }]);
        await expect(c.aggregate([{ $lookup: { from: 'x', localField: 'a', foreignField: 'b', as: 'c' } }]).toArray()).rejects.toThrow(
          /\$lookup is not allowed/,
        );
        await expect(c.aggregate([{ $unionWith: 'other' }]).toArray()).rejects.toThrow(/\$unionWith is not allowed/);
        await expect(c.aggregate([{ $out: 'copy' }]).toArray()).rejects.toThrow(/\$out is not allowed/);
        await expect(c.aggregate([{ $match: { $expr: { $function: { body: 'x', args: [], lang: 'js' } } } }]).toArray()).rejects.toThrow(
          /not allowed/,
        );
      });

      it('count, countDocuments, estimatedDocumentCount and distinct see only readable documents', async () => {
        const c = (await setup(roles, docs)).as(user('ann'));
        expect(await c.count()).toBe(2);
        expect(await c.countDocuments({ n: { $gte: 0 } })).toBe(2);
        expect(await c.estimatedDocumentCount()).toBe(2);
        expect((await c.distinct('tag')).sort()).toEqual(['a', 'c']);
      });

      it("writes: findOneAnd* on another's document, an upsert for another, changing the owner, bulkWrite", async () => {
        const { as, raw } = await setup(roles, docs);
        const c = as(user('ann'));
        expect(await c.findOneAndUpdate({ _id: 2 }, { $set: { n: 0 } })).toBeNull();
        expect(await c.findOneAndReplace({ _id: 2 }, { owner: 'ann' })).toBeNull();
        expect(await c.findOneAndDelete({ _id: 2 })).toBeNull();
        await expect(c.updateOne({ owner: 'carl' }, { $set: { n: 1 } }, { upsert: true })).rejects.toThrow(/insert not permitted/);
        await expect(c.insertOne({ owner: 'bob' })).rejects.toThrow(/insert not permitted/);
        expect(await c.updateMany({}, { $set: { owner: 'ann' } })).toEqual({ matchedCount: 2, modifiedCount: 0 });
        expect(
          await c.bulkWrite([
            { deleteOne: { filter: { _id: 2 } } },
            { updateOne: { filter: { owner: 'bob' }, update: { $set: { n: 0 } } } },
          ]),
        ).toMatchObject({ deletedCount: 0, matchedCount: 0 });
        expect(await raw.findOne({ _id: 2 })).toEqual(docs[1]);
        // Giving one's own document to another is a write to a document one may write.
        expect(await c.updateOne({ _id: 3 }, { $set: { owner: 'bob' } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
        expect(await c.findOne({ _id: 3 })).toBeNull();
        expect(await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnNewDocument: true })).toEqual({
          _id: 1,
          owner: 'ann',
          n: 2,
          tag: 'a',
        });
      });

      it('query operators App Services keeps for system functions are refused', async () => {
        const c = (await setup(roles, docs)).as(user('ann'));
        await expect(c.find({ $where: 'true' }).toArray()).rejects.toThrow(/\$where is not allowed/);
        await expect(c.find({ $expr: { $eq: [1, 1] } }).toArray()).rejects.toThrow(/\$expr is not allowed/);
        await expect(c.deleteMany({ n: { $regex: 'x' } })).rejects.toThrow(/\$regex is not allowed/);
      });
    });

    it('document_filters false on both sides hide a document whatever read says', async () => {
      const { as } = await setup(
        [{ name: 'r', apply_when: {}, document_filters: { read: { owner: '%%user.id' }, write: false }, read: true }],
        [
          { _id: 1, owner: 'ann' },
          { _id: 2, owner: 'bob' },
        ],
      );
      expect(await as(user('ann')).find({}).toArray()).toEqual([{ _id: 1, owner: 'ann' }]);
    });

    it('%function in apply_when is called with its arguments; a function that throws makes it false', async () => {
      const calls: unknown[] = [];
      const { as } = await setup(
        [{ name: 'f', apply_when: { '%%true': { '%function': { name: 'isAdmin', arguments: ['%%user.id'] } } }, read: true }],
        [{ _id: 1 }],
        [],
        {
          callFunction: async (name, args) => {
            calls.push([name, ...args]);
            if (args[0] === 'boom') throw new Error('no');
            return args[0] === 'admin';
          },
        },
      );
      expect(await as(user('admin')).count()).toBe(1);
      expect(await as(user('eve')).count()).toBe(0);
      expect(await as(user('boom')).count()).toBe(0);
      expect(calls[0]).toEqual(['isAdmin', 'admin']);
    });
  });
}
