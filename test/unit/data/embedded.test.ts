import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../../src/data/embedded.js';
import { loadBson } from '../../../src/data/libs.js';

const { ObjectId, Decimal128 } = loadBson();
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'fn-data-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('embedded engine persistence', () => {
  it('keeps documents with their BSON types across a restart, in EJSON files written by rename', async () => {
    const dir = tempDir();
    const a = new EmbeddedEngine(dir);
    const id = new ObjectId();
    await a.collection('shop', 'orders').insertOne({ _id: id, at: new Date(1000), price: Decimal128.fromString('1.50'), n: 3 });
    await a.close();
    expect(readdirSync(join(dir, 'shop'))).toEqual(['orders.json']);
    expect(readFileSync(join(dir, 'shop', 'orders.json'), 'utf8')).toContain('"$oid"');
    const b = new EmbeddedEngine(dir);
    const doc = await b.collection('shop', 'orders').findOne({ _id: new ObjectId(id.toHexString()) });
    expect(doc!._id).toBeInstanceOf(ObjectId);
    expect(doc!.at).toEqual(new Date(1000));
    expect(String(doc!.price)).toBe('1.50');
    expect(await b.namespaces()).toEqual(['shop.orders']);
    await b.close();
  });

  it('writes a moment after a change without a close', async () => {
    const dir = tempDir();
    const a = new EmbeddedEngine(dir);
    await a.collection('d', 'c').insertOne({ _id: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.parse(readFileSync(join(dir, 'd', 'c.json'), 'utf8'))).toEqual([{ _id: 1 }]);
    await a.close();
  });

  it('a broken file is an error naming it and the way out', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'c.json'), '[{"_id": ');
    const a = new EmbeddedEngine(dir);
    expect(() => a.collection('d', 'c')).toThrow(/c\.json is not valid EJSON.*fn data reset d\.c/);
    await a.close();
  });

  it('reset removes a collection from memory and disk', async () => {
    const dir = tempDir();
    const a = new EmbeddedEngine(dir);
    await a.collection('d', 'c').insertOne({ _id: 1 });
    a.flush();
    a.reset('d', 'c');
    expect(await a.collection('d', 'c').countDocuments({})).toBe(0);
    expect(readdirSync(join(dir, 'd'))).toEqual([]);
    await a.close();
  });

  it('results are copies: changing one changes nothing stored', async () => {
    const a = new EmbeddedEngine(undefined);
    const c = a.collection('d', 'c');
    const doc = { _id: 1, list: [1] };
    await c.insertOne(doc);
    doc.list.push(2);
    const found = (await c.findOne({ _id: 1 }))!;
    (found.list as number[]).push(3);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, list: [1] });
  });

  it('refuses $out and $merge with a clear error', async () => {
    const a = new EmbeddedEngine(undefined);
    await expect(
      a
        .collection('d', 'c')
        .aggregate([{ $out: 'x' }])
        .toArray(),
    ).rejects.toThrow(/\$out is not supported by the embedded engine/);
  });
});
