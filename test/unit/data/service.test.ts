// The App Services layer's semantics, run on every backend of ENGINES: the same tests on the
// embedded engine and (with FN_TEST_MONGODB_URI) a real MongoDB through the driver.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadBson } from '../../../src/data/libs.js';
import { serviceClient, type ServiceCollection } from '../../../src/data/service.js';
import type { DataBackend } from '../../../src/data/types.js';

// The CommonJS bson the driver and the runtime load (its ESM build has classes of its own).
const { ObjectId } = loadBson();
type ObjectId = InstanceType<typeof ObjectId>;
import { dropDatabases, ENGINES } from './engines.js';

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`App Services collection API on ${engine.name}${engine.skip ? ` (skipped: ${engine.skip})` : ''}`, () => {
    let backend: DataBackend;
    let coll: ServiceCollection;
    let n = 0;
    const db = engine.db('svc');
    beforeAll(() => {
      backend = engine.open();
    });
    afterAll(async () => {
      await dropDatabases(backend, [db]);
      await backend.close();
    });
    beforeEach(() => {
      const client = serviceClient({
        collection: (d, c) => backend.collection(d, c),
        collectionNames: (d) => backend.collectionNames(d),
        databaseNames: () => backend.databaseNames(),
      }) as { db(n: string): { collection(n: string): ServiceCollection } };
      coll = client.db(db).collection(`c${n++}`);
    });

    it('insertOne gives the generated ObjectId, and findOne finds it by a fresh ObjectId of the same hex', async () => {
      const { insertedId } = await coll.insertOne({ name: 'a', at: new Date(5) });
      expect(insertedId).toBeInstanceOf(ObjectId);
      const found = await coll.findOne({ _id: new ObjectId((insertedId as ObjectId).toHexString()) });
      expect(found).toEqual({ _id: insertedId, name: 'a', at: new Date(5) });
      expect(found!.at).toBeInstanceOf(Date);
    });

    it('findOne takes the projection second and answers null when nothing matches', async () => {
      await coll.insertOne({ _id: 1, a: 1, b: 2 });
      expect(await coll.findOne({ _id: 1 }, { a: 1 })).toEqual({ _id: 1, a: 1 });
      expect(await coll.findOne({ _id: 2 })).toBeNull();
    });

    it('insertMany gives insertedIds as an array in input order; a duplicate _id is an error naming it', async () => {
      const r = await coll.insertMany([{ _id: 'x' }, { v: 1 }]);
      expect(Array.isArray(r.insertedIds)).toBe(true);
      expect(r.insertedIds[0]).toBe('x');
      expect(r.insertedIds[1]).toBeInstanceOf(ObjectId);
      await expect(coll.insertOne({ _id: 'x' })).rejects.toThrow(/duplicate key error/i);
      await expect(coll.insertOne({ _id: 'x' })).rejects.toMatchObject({ code: 11000 });
    });

    it('find returns a cursor: sort, skip, limit, next (undefined at the end), toArray, forEach, for await, await', async () => {
      await coll.insertMany([1, 2, 3, 4, 5].map((i) => ({ _id: i, g: i % 2 })));
      expect((await coll.find({}, { _id: 1 }).sort({ _id: -1 }).skip(1).limit(2).toArray()).map((d) => d._id)).toEqual([4, 3]);
      const c = coll.find({ g: 1 }).sort({ _id: 1 });
      expect(await c.next()).toEqual({ _id: 1, g: 1 });
      expect((await c.toArray()).map((d) => d._id)).toEqual([3, 5]);
      expect(await c.next()).toBeUndefined();
      expect(() => c.limit(1)).toThrow(/after the cursor has been read/);
      const seen: unknown[] = [];
      await coll
        .find({ g: 0 })
        .sort({ _id: 1 })
        .forEach((d) => void seen.push(d._id));
      for await (const d of coll.find({ g: 1 }).sort({ _id: 1 }).limit(1)) seen.push(d._id);
      expect(seen).toEqual([2, 4, 1]);
      expect((await coll.find({ _id: { $gt: 3 } })).length).toBe(2);
    });

    it('updateOne with operators, with a plain document (as $set), and upsert; upsertedId only when inserted', async () => {
      await coll.insertOne({ _id: 1, a: 1, keep: true });
      expect(await coll.updateOne({ _id: 1 }, { $inc: { a: 2 } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      expect(await coll.updateOne({ _id: 1 }, { b: 'plain' })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 3, keep: true, b: 'plain' });
      const up = await coll.updateOne({ name: 'new' }, { $set: { v: 1 }, $setOnInsert: { created: true } }, { upsert: true });
      expect(up.matchedCount).toBe(0);
      expect(up.upsertedId).toBeInstanceOf(ObjectId);
      expect(await coll.findOne({ _id: up.upsertedId }, { _id: 0 })).toEqual({ name: 'new', v: 1, created: true });
      expect(await coll.updateOne({ _id: 9 }, { $set: { a: 1 } })).toEqual({ matchedCount: 0, modifiedCount: 0 });
    });

    it('updateMany, arrayFilters, deleteOne and deleteMany count what they did', async () => {
      await coll.insertMany([
        { _id: 1, t: 'a', xs: [1, 5] },
        { _id: 2, t: 'a', xs: [7] },
        { _id: 3, t: 'b', xs: [] },
      ]);
      expect(await coll.updateMany({ t: 'a' }, { $set: { 'xs.$[big]': 0 } }, { arrayFilters: [{ big: { $gt: 4 } }] })).toEqual({
        matchedCount: 2,
        modifiedCount: 2,
      });
      expect((await coll.findOne({ _id: 1 }))!.xs).toEqual([1, 0]);
      expect(await coll.deleteOne({ t: 'a' })).toEqual({ deletedCount: 1 });
      expect(await coll.deleteMany({})).toEqual({ deletedCount: 2 });
    });

    it('findOneAndUpdate returns the document before by default, after with returnNewDocument, and honours sort, projection, upsert', async () => {
      await coll.insertMany([
        { _id: 1, n: 1 },
        { _id: 2, n: 2 },
      ]);
      expect(await coll.findOneAndUpdate({}, { $inc: { n: 10 } }, { sort: { n: -1 } })).toEqual({ _id: 2, n: 2 });
      expect(await coll.findOneAndUpdate({ _id: 1 }, { $inc: { n: 10 } }, { returnNewDocument: true, projection: { _id: 0 } })).toEqual({
        n: 11,
      });
      expect(await coll.findOneAndUpdate({ _id: 9 }, { $set: { n: 0 } })).toBeNull();
      const doc = await coll.findOneAndUpdate(
        { runId: 'r', name: 'Nobody' },
        { name: 'Dennis', hidden: 1 },
        { upsert: true, returnNewDocument: true },
      );
      expect(Object.keys(doc!).sort()).toEqual(['_id', 'hidden', 'name']);
    });

    it('findOneAndReplace and findOneAndDelete', async () => {
      await coll.insertOne({ _id: 1, a: 1 });
      expect(await coll.findOneAndReplace({ _id: 1 }, { b: 2 }, { returnNewDocument: true })).toEqual({ _id: 1, b: 2 });
      await expect(coll.findOneAndReplace({ _id: 1 }, { $set: { b: 3 } })).rejects.toThrow(/operator/);
      expect(await coll.findOneAndDelete({ _id: 1 })).toEqual({ _id: 1, b: 2 });
      expect(await coll.count()).toBe(0);
    });

    it('aggregate with $match and $group; count, countDocuments, estimatedDocumentCount, distinct', async () => {
      await coll.insertMany([
        { k: 'a', v: 1 },
        { k: 'a', v: 2 },
        { k: 'b', v: 5, tags: ['x', 'y'] },
        { k: 'c', tags: ['y'] },
      ]);
      const groups = await coll
        .aggregate([{ $match: { v: { $gte: 1 } } }, { $group: { _id: '$k', total: { $sum: '$v' } } }, { $sort: { _id: 1 } }])
        .toArray();
      expect(groups).toEqual([
        { _id: 'a', total: 3 },
        { _id: 'b', total: 5 },
      ]);
      expect(await coll.count({ k: 'a' })).toBe(2);
      expect(await coll.countDocuments({})).toBe(4);
      expect(await coll.estimatedDocumentCount()).toBe(4);
      expect((await coll.distinct('tags')).sort()).toEqual(['x', 'y']);
      expect((await coll.distinct('k', { v: { $exists: true } })).sort()).toEqual(['a', 'b']);
    });

    it('bulkWrite takes both operation shapes and reports counts', async () => {
      const r = await coll.bulkWrite([
        { insertOne: { document: { _id: 1 } } },
        { insertOne: { _id: 2 } },
        { updateOne: { filter: { _id: 1 }, update: { $set: { a: 1 } } } },
        { deleteOne: { filter: { _id: 2 } } },
        { replaceOne: { filter: { _id: 3 }, replacement: { r: 1 }, upsert: true } },
      ]);
      expect(r).toMatchObject({ insertedCount: 2, matchedCount: 1, modifiedCount: 1, deletedCount: 1, upsertedCount: 1 });
      expect(await coll.find({}, { _id: 1 }).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 3 }]);
    });

    it("errors read like MongoDB's: a bad operator, an update mixing fields and operators, a changed _id", async () => {
      await coll.insertOne({ _id: 1 });
      await expect(coll.find({ a: { $bogus: 1 } }).toArray()).rejects.toThrow(/\$bogus/);
      await expect(coll.updateOne({ _id: 1 }, { $set: { a: 1 }, b: 2 })).rejects.toThrow();
      await expect(coll.updateOne({ _id: 1 }, { $set: { _id: 2 } })).rejects.toThrow(/_id/);
      await expect(coll.insertOne('nope')).rejects.toThrow(/must be an object/);
    });
  });
}
