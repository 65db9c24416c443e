// The shipped runtime declarations type context.services for // @ts-check authors.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const runtime = new URL('../../../templates/base/types/fn-runtime.d.ts', import.meta.url);

function check(source: string): string[] {
  const files: Record<string, string> = { '/app/fn-runtime.d.ts': readFileSync(runtime, 'utf8'), '/app/f.js': `// @ts-check\n${source}` };
  const options: ts.CompilerOptions = {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: false,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => files[f] ?? read(f);
  host.fileExists = (f) => f in files || ts.sys.fileExists(f);
  host.getSourceFile = (f, lang) =>
    f in files ? ts.createSourceFile(f, files[f]!, lang) : ts.createSourceFile(f, ts.sys.readFile(f) ?? '', lang);
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === '/app/f.js')
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('context.services in fn-runtime.d.ts', () => {
  it('types the database, collection, cursor and results', () => {
    expect(
      check(`exports = async function () {
  const orders = context.services.get('mongodb-atlas').db('shop').collection('orders');
  const one = await orders.findOne({ _id: BSON.ObjectId('0123456789abcdef01234567') }, { total: 1 });
  const list = await orders.find({ total: { $gt: 1 } }).sort({ total: -1 }).limit(5).toArray();
  for await (const d of orders.find()) d.total;
  const { insertedId } = await orders.insertOne({ total: 1 });
  const r = await orders.updateOne({ _id: insertedId }, { $inc: { total: 1 } }, { upsert: true });
  const n = r.matchedCount + (await orders.count()) + (await orders.deleteMany({})).deletedCount;
  const doc = await orders.findOneAndUpdate({}, { $set: { a: 1 } }, { returnNewDocument: true });
  const groups = await orders.aggregate([{ $group: { _id: '$k', n: { $sum: 1 } } }]).toArray();
  return { one, list, n, doc, groups, ids: (await orders.insertMany([{}])).insertedIds.length };
};`),
    ).toEqual([]);
  });

  it('types sessions, transactions and change streams', () => {
    expect(
      check(`exports = async function () {
  const client = context.services.get('mongodb-atlas');
  const orders = client.db('shop').collection('orders');
  const session = client.startSession();
  const total = await session.withTransaction(async () => {
    await orders.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session });
    await orders.insertOne({ n: 0 }, { session });
    return orders.count({}, { session });
  });
  session.startTransaction();
  if (session.inTransaction()) await session.abortTransaction();
  await session.endSession();
  const stream = orders.watch([{ $match: { operationType: 'insert' } }], { fullDocument: 'updateLookup' });
  const event = await stream.next();
  for await (const e of stream) if (e.operationType === 'update') e.updateDescription?.updatedFields;
  const again = orders.watch([], { resumeAfter: event._id });
  await again.close();
  return { total, id: event.documentKey?._id, token: stream.resumeToken };
};`),
    ).toEqual([]);
  });

  it('catches a misspelt method and a wrong argument', () => {
    const errors = check(`exports = async function () {
  const c = context.services.get('mongodb-atlas').db('shop').collection('orders');
  await c.fndOne({});
  c.find().limit('5');
};`);
    expect(errors.join('\n')).toMatch(/fndOne/);
    expect(errors.join('\n')).toMatch(/string.*number/);
  });
});
