// Sessions and change streams over the data bridge, both ends in this thread: a backend whose
// stream waits for each event (as the driver's does) is read ahead by the data thread's side.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RemoteData, serveDataPort } from '../../../src/data/bridge.js';
import { EmbeddedEngine } from '../../../src/data/embedded.js';
import { DataError } from '../../../src/data/errors.js';
import { loadBson } from '../../../src/data/libs.js';
import type { BackendChangeStream, ChangeEvent, DataBackend } from '../../../src/data/types.js';

const { Timestamp } = loadBson();

/** A backend whose change stream gives `events`, each after a wait, then fails with `end`. */
function slowBackend(events: ChangeEvent[], end: Error): DataBackend {
  const embedded = new EmbeddedEngine(undefined);
  return Object.assign(Object.create(embedded) as DataBackend, {
    watch: (): BackendChangeStream => {
      let i = 0;
      return {
        resumeToken: null,
        tryNext: async () => {
          await new Promise((r) => setTimeout(r, 30));
          if (i < events.length) return events[i++]!;
          throw end;
        },
        close: async () => undefined,
      };
    },
  });
}

const event = (n: number): ChangeEvent => ({
  _id: { _data: `t${n}` },
  operationType: 'insert',
  clusterTime: new Timestamp({ t: n, i: 1 }),
  ns: { db: 'd', coll: 'c' },
  documentKey: { _id: n },
});

describe('the data bridge', () => {
  it("reads a waiting backend stream ahead: its events arrive in order, then its error with the backend's message", async () => {
    const { port1, port2 } = new MessageChannel();
    serveDataPort(port1, () => slowBackend([event(1), event(2), event(3)], new DataError('stream ended by the server', 'X')));
    const remote = new RemoteData(port2);
    const stream = remote.watch('s', {}, 1000);
    const got: unknown[] = [];
    let error: unknown;
    try {
      for (;;) {
        const e = await stream.tryNext();
        if (e) got.push(e.documentKey!._id);
      }
    } catch (e) {
      error = e;
    }
    expect(got).toEqual([1, 2, 3]);
    expect(error).toMatchObject({ message: 'stream ended by the server', code: 'X' });
    expect(stream.resumeToken).toEqual({ _data: 't3' });
    port1.close();
  });

  it('a session crosses as an id; the port closing aborts its open transaction', async () => {
    const engine = new EmbeddedEngine(undefined);
    const { port1, port2 } = new MessageChannel();
    serveDataPort(port1, () => engine);
    const remote = new RemoteData(port2);
    const coll = remote.source('s').collection('d', 'c');
    const session = remote.startSession('s');
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    expect(await coll.countDocuments({})).toBe(0);
    expect(await coll.countDocuments({}, { session })).toBe(1);
    port2.close();
    // Once the close has reached the other end, the transaction is gone: another one may write the same document.
    const other = engine.startSession();
    for (let attempt = 0; ; attempt++) {
      other.startTransaction();
      try {
        await engine.collection('d', 'c').insertOne({ _id: 1 }, { session: other });
        await other.commitTransaction();
        break;
      } catch (error) {
        if (other.inTransaction()) await other.abortTransaction();
        if (attempt > 100) throw error;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(await engine.collection('d', 'c').find({}).toArray()).toEqual([{ _id: 1 }]);
  });
});
