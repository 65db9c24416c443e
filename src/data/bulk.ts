// bulkWrite as a sequence of single operations on any collection: the embedded engine runs it this
// way, and so does the rules layer (each operation checked as if called alone).
import { badArgument } from './errors.js';
import type { BulkOperation, BulkWriteResult, CollectionBackend, UpdateResult } from './types.js';

export async function runBulkWrite(target: CollectionBackend, operations: BulkOperation[], ordered: boolean): Promise<BulkWriteResult> {
  if (!Array.isArray(operations)) throw badArgument('bulkWrite: the operations must be an array');
  const result: BulkWriteResult = {
    insertedCount: 0,
    matchedCount: 0,
    modifiedCount: 0,
    deletedCount: 0,
    upsertedCount: 0,
    insertedIds: {},
    upsertedIds: {},
  };
  let failed: unknown;
  for (const [i, op] of operations.entries()) {
    try {
      await runOne(target, op, i, result);
    } catch (error) {
      if (ordered) throw error;
      failed ??= error;
    }
  }
  if (failed) throw failed;
  return result;
}

async function runOne(target: CollectionBackend, op: BulkOperation, i: number, result: BulkWriteResult): Promise<void> {
  const add = (r: UpdateResult) => {
    result.matchedCount += r.matchedCount;
    result.modifiedCount += r.modifiedCount;
    result.upsertedCount += r.upsertedCount;
    if (r.upsertedCount) result.upsertedIds[i] = r.upsertedId;
  };
  const { arrayFilters, upsert } = (Object.values(op)[0] ?? {}) as { arrayFilters?: never; upsert?: boolean };
  const options = { ...(arrayFilters ? { arrayFilters } : {}), ...(upsert ? { upsert } : {}) };
  if ('insertOne' in op) {
    const r = await target.insertOne(op.insertOne.document);
    result.insertedCount++;
    result.insertedIds[i] = r.insertedId;
  } else if ('updateOne' in op) add(await target.updateOne(op.updateOne.filter, op.updateOne.update, options));
  else if ('updateMany' in op) add(await target.updateMany(op.updateMany.filter, op.updateMany.update, options));
  else if ('replaceOne' in op) add(await target.replaceOne(op.replaceOne.filter, op.replaceOne.replacement, options));
  else if ('deleteOne' in op) result.deletedCount += (await target.deleteOne(op.deleteOne.filter)).deletedCount;
  else if ('deleteMany' in op) result.deletedCount += (await target.deleteMany(op.deleteMany.filter)).deletedCount;
  else throw badArgument(`bulkWrite: operation ${i} is not one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany`);
}
