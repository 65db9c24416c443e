// Change streams of the embedded engine: the events of committed writes with BSON values, the
// persisted bounded change log and resuming from it, and the rules of user context over watch().
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChangeLog } from '../../../src/data/change-log.js';
import { EmbeddedEngine } from '../../../src/data/embedded.js';
import { loadBson } from '../../../src/data/libs.js';
import { RulesCollection } from '../../../src/data/rules.js';
import { ServiceCollection } from '../../../src/data/service.js';
import type { BackendChangeStream, ChangeEvent } from '../../../src/data/types.js';

const { ObjectId, Timestamp } = loadBson();
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'fn-cs-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function drain(stream: BackendChangeStream): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (let e = await stream.tryNext(); e; e = await stream.tryNext()) out.push(e);
  return out;
}

describe('embedded change streams', () => {
  it('insert, update, replace and delete give the driver-shaped events, with BSON values', async () => {
    const engine = new EmbeddedEngine(undefined);
    const c = engine.collection('shop', 'orders');
    const stream = engine.watch({ db: 'shop', coll: 'orders', fullDocumentBeforeChange: 'whenAvailable' });
    const id = new ObjectId();
    await c.insertOne({ _id: id, at: new Date(5), items: { a: 1, b: 2 } });
    await c.updateOne({ _id: id }, { $set: { 'items.a': 3 }, $unset: { at: '' } });
    await c.replaceOne({ _id: id }, { total: 1 });
    await c.deleteOne({ _id: id });
    await engine.collection('shop', 'other').insertOne({ x: 1 });
    const events = await drain(stream);
    expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete']);
    const [insert, update, replace, del] = events as [ChangeEvent, ChangeEvent, ChangeEvent, ChangeEvent];
    expect(insert.documentKey!._id).toBeInstanceOf(ObjectId);
    expect(insert.fullDocument!.at).toBeInstanceOf(Date);
    expect(insert.clusterTime).toBeInstanceOf(Timestamp);
    expect(insert.wallTime).toBeInstanceOf(Date);
    expect(insert.ns).toEqual({ db: 'shop', coll: 'orders' });
    expect(insert._id._data).toMatch(/^[0-9a-f]{8}[0-9A-F]{16}$/);
    expect(update.updateDescription).toEqual({ updatedFields: { 'items.a': 3 }, removedFields: ['at'], truncatedArrays: [] });
    expect(update.fullDocument).toBeUndefined();
    expect(update.fullDocumentBeforeChange).toEqual({ _id: id, at: new Date(5), items: { a: 1, b: 2 } });
    expect(replace.fullDocument).toEqual({ _id: id, total: 1 });
    expect(del.fullDocument).toBeUndefined();
    expect(del.fullDocumentBeforeChange).toEqual({ _id: id, total: 1 });
    await engine.close();
  });

  it("fullDocument 'updateLookup' gives the document as it is now; a pipeline filters and shapes the events", async () => {
    const engine = new EmbeddedEngine(undefined);
    const c = engine.collection('d', 'c');
    const lookup = engine.watch({ db: 'd', fullDocument: 'updateLookup' });
    const piped = engine.watch({
      pipeline: [
        { $match: { operationType: 'update', 'updateDescription.updatedFields.status': 'paid' } },
        { $project: { documentKey: 1 } },
      ],
    });
    await c.insertOne({ _id: 1, status: 'new' });
    await c.updateOne({ _id: 1 }, { $set: { status: 'paid' } });
    await c.updateOne({ _id: 1 }, { $set: { note: 'later' } });
    const events = await drain(lookup);
    expect(events[1]!.fullDocument).toEqual({ _id: 1, status: 'paid', note: 'later' });
    const shaped = await drain(piped);
    expect(shaped).toEqual([{ _id: events[1]!._id, documentKey: { _id: 1 } }]);
    expect(() => engine.watch({ pipeline: [{ $group: { _id: null } }] })).toThrow(/may hold only \$match/);
    await engine.close();
  });

  it("a transaction's writes are events at its commit only; an aborted one gives none", async () => {
    const engine = new EmbeddedEngine(undefined);
    const c = engine.collection('d', 't');
    const stream = engine.watch({});
    const s = engine.startSession();
    s.startTransaction();
    await c.insertOne({ _id: 'x' }, { session: s });
    await s.abortTransaction();
    s.startTransaction();
    await c.insertOne({ _id: 'y' }, { session: s });
    await c.updateOne({ _id: 'y' }, { $set: { v: 1 } }, { session: s });
    expect(await stream.tryNext()).toBeNull();
    await s.commitTransaction();
    const events = await drain(stream);
    expect(events.map((e) => [e.operationType, e.documentKey!._id])).toEqual([
      ['insert', 'y'],
      ['update', 'y'],
    ]);
    expect(events[0]!.clusterTime).toEqual(events[1]!.clusterTime);
    await engine.close();
  });

  it('a stream resumed with a token after a restart gets exactly the events after it', async () => {
    const dir = tempDir();
    const a = new EmbeddedEngine(dir);
    const stream = a.watch({});
    for (let i = 1; i <= 3; i++) await a.collection('d', 'c').insertOne({ _id: i });
    const [first] = await drain(stream);
    await a.collection('d', 'c').deleteOne({ _id: 2 });
    await a.close();
    expect(readFileSync(join(dir, 'changes.log'), 'utf8').split('\n')[0]).toMatch(/^\{"fnChangeLog":1,"epoch":"[0-9a-f]{8}"\}$/);
    const b = new EmbeddedEngine(dir);
    const resumed = b.watch({ resumeAfter: first!._id });
    await b.collection('d', 'c').insertOne({ _id: 4 });
    expect((await drain(resumed)).map((e) => [e.operationType, e.documentKey!._id])).toEqual([
      ['insert', 2],
      ['insert', 3],
      ['delete', 2],
      ['insert', 4],
    ]);
    expect(() => b.watch({ resumeAfter: { _data: '0123abcd0000000000000001' } })).toThrow(/no longer in the change log/);
    await b.close();
  });

  it('the log keeps its bound, on disk too; a token that fell off the end is a clear error', () => {
    const dir = tempDir();
    const path = join(dir, 'changes.log');
    const log = new ChangeLog(path, 3);
    const rec = (id: number) => ({ operationType: 'insert' as const, db: 'd', coll: 'c', id, before: null, after: { _id: id } });
    log.append([rec(1)]);
    const early = log.watch({}, () => null).resumeToken;
    for (let i = 2; i <= 10; i++) {
      log.append([rec(i)]);
      log.flush();
    }
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(2 * 3 + 1);
    const again = new ChangeLog(path, 3);
    expect(again.lastSeq).toBe(10);
    expect(() => again.watch({ resumeAfter: early }, () => null)).toThrow(/no longer in the change log/);
  });
});

describe('watch in user context', () => {
  it('gives only events on documents the user may read, fullDocument cut to the readable fields', async () => {
    const engine = new EmbeddedEngine(undefined);
    const raw = engine.collection('shop', 'orders');
    const rules = {
      namespaces: {
        'shop.orders': {
          roles: [
            {
              name: 'owner',
              apply_when: { owner: '%%user.id' },
              fields: { owner: { read: true }, total: { read: true } },
            },
          ],
          filters: [],
        },
      },
    };
    const ann = new ServiceCollection(
      new RulesCollection(raw, 'shop', 'orders', rules, { user: { id: 'ann', type: 'normal', data: {}, custom_data: {}, identities: [] } }),
      'shop',
      'orders',
    );
    const stream = ann.watch([{ $match: { operationType: { $in: ['insert', 'update', 'delete'] } } }], { fullDocument: 'updateLookup' });
    await raw.insertOne({ _id: 1, owner: 'ann', total: 5, secret: 'x' });
    await raw.insertOne({ _id: 2, owner: 'bob', total: 7, secret: 'y' });
    await raw.updateOne({ _id: 1 }, { $set: { secret: 'z', total: 6 } });
    const seen: ChangeEvent[] = [];
    for (let e = await stream.tryNext(); e; e = await stream.tryNext()) seen.push(e);
    await raw.deleteOne({ _id: 2 });
    await raw.deleteOne({ _id: 1 });
    for (let e = await stream.tryNext(); e; e = await stream.tryNext()) seen.push(e);
    expect(seen.map((e) => [e.operationType, e.documentKey!._id])).toEqual([
      ['insert', 1],
      ['update', 1],
      ['delete', 1],
    ]);
    expect(seen[0]!.fullDocument).toEqual({ owner: 'ann', total: 5 });
    expect(seen[1]!.fullDocument).toEqual({ owner: 'ann', total: 6 });
    expect(seen[1]!.updateDescription!.updatedFields).toEqual({ total: 6 });
    expect(seen[2]!.fullDocumentBeforeChange).toBeUndefined();
    // A $match on a field the user cannot read matches nothing: the pipeline runs after the rules.
    const probe = ann.watch([{ $match: { 'fullDocument.secret': 'q' } }]);
    await raw.insertOne({ _id: 3, owner: 'ann', total: 1, secret: 'q' });
    expect(await probe.tryNext()).toBeNull();
    await expect(ann.watch([{ $match: { $where: 'true' } }]).tryNext()).rejects.toThrow(/not allowed/);
    await stream.close();
    await engine.close();
  });
});
