// AppTriggers with a stand-in runtime: calls answered as each test says, change streams fed by
// hand (the WatchHandlers interface the runner's streams use), the clock faked.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadTriggers, type TriggerSpec } from '../../../src/app/triggers.js';
import type { WatchHandlers } from '../../../src/runtime/runner-client.js';
import type { WatchSpec } from '../../../src/runtime/runner-wire.js';
import type { CallOutcome, CallRequest } from '../../../src/runtime/types.js';
import { CallLog } from '../../../src/server/logs.js';
import { MemoryTriggerStateStore } from '../../../src/server/trigger-state.js';
import { AppTriggers, MAX_CATCHUP_TICKS, watchSpecOf } from '../../../src/server/triggers.js';

const MINUTE = 60_000;

const ok = (): CallOutcome => ({ ok: true, result: { kind: 'json', json: 'null' }, logs: [], durationMs: 1, runAs: { system: true } });
const failed = (code: 'FUNCTION_ERROR' | 'WORKER_EXITED'): CallOutcome => ({
  ok: false,
  error: { code, message: code, status: 500 },
  logs: [],
  durationMs: 1,
  runAs: { system: true },
});

interface Stream {
  source: string;
  options: WatchSpec;
  handlers: WatchHandlers;
  closed: boolean;
  /** The next() calls received, in order. */
  acks: number;
}

class StandIn {
  calls: CallRequest[] = [];
  streams: Stream[] = [];
  /** Each call waits for this (a test may hold calls) and answers what it gives. */
  answer: (request: CallRequest) => Promise<CallOutcome> | CallOutcome = () => ok();
  get app() {
    return undefined;
  }
  submit(request: CallRequest, done: (o: CallOutcome) => void): void {
    void this.call(request).then(done);
  }
  async call(request: CallRequest): Promise<CallOutcome> {
    this.calls.push(request);
    return this.answer(request);
  }
  watch(source: string, options: WatchSpec, handlers: WatchHandlers): () => void {
    const stream: Stream = { source, options, handlers, closed: false, acks: 0 };
    this.streams.push(stream);
    return () => {
      stream.closed = true;
    };
  }
  /** Sends event n on the stream; resolves when its next() came. */
  send(stream: Stream, n: number, extra: Record<string, unknown> = {}): Promise<void> {
    return new Promise((resolve) => {
      stream.handlers.event(`tok${n}`, JSON.stringify({ _id: { _data: `tok${n}` }, operationType: 'insert', n, ...extra }), () => {
        stream.acks++;
        resolve();
      });
    });
  }
}

function spec(name: string, json: Record<string, unknown>): TriggerSpec {
  const { triggers } = loadTriggers('', {
    [`triggers/${name}.json`]: JSON.stringify({ name, event_processors: { FUNCTION: { config: { function_name: 'fn' } } }, ...json }),
  });
  return triggers[0]!;
}
const scheduled = (name: string, config: Record<string, unknown> = {}) =>
  spec(name, { type: 'SCHEDULED', config: { schedule: '*/1 * * * *', ...config } });
const database = (name: string, config: Record<string, unknown> = {}) =>
  spec(name, {
    type: 'DATABASE',
    config: { service_name: 'mongodb-atlas', database: 'shop', collection: 'orders', operation_types: ['INSERT'], ...config },
  });

let runtime: StandIn;
let state: MemoryTriggerStateStore;
let log: CallLog;
const open: AppTriggers[] = [];
const start = (...specs: TriggerSpec[]) => {
  const t = new AppTriggers({ appId: 'app', runtime: runtime, state, log });
  t.set(specs);
  open.push(t);
  return t;
};
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

beforeEach(() => {
  runtime = new StandIn();
  state = new MemoryTriggerStateStore();
  log = new CallLog();
});
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  vi.useRealTimers();
});

describe('scheduled triggers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse('2026-06-01T12:00:30Z'));
  });

  it('fire once per tick, as the system user, and keep the last tick fired', async () => {
    start(scheduled('every'));
    expect(state.load('app').every).toEqual({ tick: Date.parse('2026-06-01T12:00:00Z') });
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(runtime.calls).toHaveLength(2);
    expect(runtime.calls[0]).toMatchObject({ name: 'fn', args: [], runAs: { system: true }, caller: { type: 'system' } });
    expect(state.load('app').every).toEqual({ tick: Date.parse('2026-06-01T12:02:00Z') });
    expect(log.list().map((e) => [e.trigger, e.via, e.function])).toEqual([
      ['every', 'trigger', 'fn'],
      ['every', 'trigger', 'fn'],
    ]);
  });

  it('catch up the ticks missed since the last one fired, unless skip_catchup_events', async () => {
    state.save('app', 'every', { tick: Date.parse('2026-06-01T11:55:00Z') });
    start(scheduled('every'));
    await flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.calls).toHaveLength(5);
    expect(state.load('app').every).toEqual({ tick: Date.parse('2026-06-01T12:00:00Z') });

    runtime = new StandIn();
    state.save('app', 'skip', { tick: Date.parse('2026-06-01T11:00:00Z') });
    start(scheduled('skip', { skip_catchup_events: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.calls).toHaveLength(0);
    expect(state.load('app').skip).toEqual({ tick: Date.parse('2026-06-01T12:00:00Z') });
  });

  it(`catch up at most ${MAX_CATCHUP_TICKS} ticks and say how many more were skipped`, async () => {
    state.save('app', 'every', { tick: Date.parse('2026-06-01T10:00:00Z') });
    const notices: string[] = [];
    const t = new AppTriggers({
      appId: 'app',
      runtime: runtime,
      state,
      log,
      onNotice: (_name, message) => notices.push(message),
    });
    open.push(t);
    t.set([scheduled('every')]);
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.calls).toHaveLength(MAX_CATCHUP_TICKS);
    expect(notices).toEqual([`60 more missed ticks skipped (${MAX_CATCHUP_TICKS} are caught up at most)`]);
  });

  it('write a tick only once its function ran; a run whose runner died is tried again', async () => {
    let n = 0;
    runtime.answer = () => (++n === 1 ? failed('WORKER_EXITED') : n === 2 ? failed('FUNCTION_ERROR') : ok());
    start(scheduled('every'));
    const before = state.load('app').every;
    // To the tick (12:01:00), not yet to the retry a second later.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(runtime.calls).toHaveLength(1);
    expect(state.load('app').every).toEqual(before);
    await vi.advanceTimersByTimeAsync(1_000);
    // The second attempt threw: that is the function's outcome, and the tick is done.
    expect(runtime.calls).toHaveLength(2);
    expect(state.load('app').every).toEqual({ tick: Date.parse('2026-06-01T12:01:00Z') });
  });

  it('disabled, broken and authentication triggers never fire; a changed config starts again', async () => {
    const t = start(
      scheduled('off', { schedule: '*/1 * * * *' }),
      { ...scheduled('bad'), broken: 'x' },
      spec('auth', { type: 'AUTHENTICATION', config: { operation_type: 'CREATE', providers: [] } }),
    );
    t.set([{ ...scheduled('off'), disabled: true }]);
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(runtime.calls).toHaveLength(0);
    t.set([scheduled('off', { schedule: '0 * * * *' })]);
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    // Re-enabled: the ticks of its new schedule since it last fired (12:00) are caught up, then it goes on.
    expect(runtime.calls).toHaveLength(1);
  });
});

describe('database triggers', () => {
  it('build the change stream from the config', () => {
    expect(
      watchSpecOf(
        database('d', { operation_types: ['INSERT', 'UPDATE'], match: { 'fullDocument.x': 1 }, project: { n: 1 }, full_document: true }),
      ),
    ).toEqual({
      db: 'shop',
      coll: 'orders',
      pipeline: [{ $match: { operationType: { $in: ['insert', 'update'] } } }, { $match: { 'fullDocument.x': 1 } }, { $project: { n: 1 } }],
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'off',
    });
  });

  it('run one event at a time, write its token after the function, and resume there after a restart', async () => {
    let release!: () => void;
    runtime.answer = () => new Promise<CallOutcome>((r) => (release = () => r(ok())));
    start(database('d'));
    const stream = runtime.streams[0]!;
    expect(stream.handlers.resumeToken()).toBeUndefined();
    const first = runtime.send(stream, 1);
    await flush();
    expect(runtime.calls[0]).toMatchObject({ name: 'fn', ejson: true, args: [{ _id: { _data: 'tok1' }, n: 1 }], runAs: { system: true } });
    // Not acknowledged, not written, while the function runs.
    expect(stream.acks).toBe(0);
    expect(state.load('app').d).toBeUndefined();
    release();
    await first;
    expect(state.load('app').d).toEqual({ stream: 'mongodb-atlas/shop/orders', token: { _data: 'tok1' } });

    // A function that throws: App Services moves on; so does the token.
    runtime.answer = () => failed('FUNCTION_ERROR');
    await runtime.send(stream, 2);
    expect(state.load('app').d?.token).toEqual({ _data: 'tok2' });

    // The runner died before the function ran: not written (the new runner sends it again).
    runtime.answer = () => failed('WORKER_EXITED');
    await runtime.send(stream, 3);
    expect(state.load('app').d?.token).toEqual({ _data: 'tok2' });

    // A restart opens the stream after the last event handled.
    await open.pop()!.close();
    expect(stream.closed).toBe(true);
    start(database('d'));
    expect(runtime.streams[1]!.handlers.resumeToken()).toEqual({ _data: 'tok2' });
    // Another collection, or skip_catchup_events: from now.
    await open.pop()!.close();
    start(database('d', { collection: 'other' }));
    expect(runtime.streams[2]!.handlers.resumeToken()).toBeUndefined();
    await open.pop()!.close();
    start(database('d', { skip_catchup_events: true }));
    expect(runtime.streams[3]!.handlers.resumeToken()).toBeUndefined();
  });

  it('unordered: run events at once, and move the token only past events all done before it', async () => {
    const releases = new Map<number, () => void>();
    runtime.answer = (r) => new Promise<CallOutcome>((resolve) => releases.set((r.args[0] as { n: number }).n, () => resolve(ok())));
    start(database('u', { unordered: true }));
    const stream = runtime.streams[0]!;
    await runtime.send(stream, 1);
    await runtime.send(stream, 2);
    await flush();
    expect(runtime.calls).toHaveLength(2);
    releases.get(2)!();
    await flush();
    expect(state.load('app').u).toBeUndefined();
    releases.get(1)!();
    await flush();
    expect(state.load('app').u?.token).toEqual({ _data: 'tok2' });
  });

  it('a lost resume point: stopped, or with tolerate_resume_errors started again from now', async () => {
    const notices: string[] = [];
    const make = (s: TriggerSpec) => {
      const t = new AppTriggers({
        appId: 'app',
        runtime: runtime,
        state,
        log,
        onNotice: (_n, m) => notices.push(m),
      });
      t.set([s]);
      open.push(t);
    };
    state.save('app', 'strict', { stream: 'mongodb-atlas/shop/orders', token: { _data: 'old' } });
    make(database('strict'));
    runtime.streams[0]!.handlers.error('the resume point is no longer in the change log', true);
    expect(runtime.streams).toHaveLength(1);
    expect(notices[0]).toMatch(/^stopped: the resume point is no longer in the change log/);

    state.save('app', 'tolerant', { stream: 'mongodb-atlas/shop/orders', token: { _data: 'old' } });
    make(database('tolerant', { tolerate_resume_errors: true }));
    runtime.streams[1]!.handlers.error('the resume point is no longer in the change log', true);
    expect(runtime.streams).toHaveLength(3);
    expect(runtime.streams[2]!.handlers.resumeToken()).toBeUndefined();
  });

  it('fire() runs one by hand and leaves the state alone', async () => {
    const t = start(database('d'));
    const fired = await t.fire('d', { operationType: 'insert' });
    expect(fired?.outcome.ok).toBe(true);
    expect(runtime.calls[0]).toMatchObject({ args: [{ operationType: 'insert' }], ejson: true });
    expect(state.load('app').d).toBeUndefined();
    expect(await t.fire('nope')).toBeUndefined();
  });
});

describe('authentication triggers', () => {
  const auth = (name: string, operation: string, providers: string[], extra: Record<string, unknown> = {}) =>
    spec(name, { type: 'AUTHENTICATION', config: { operation_type: operation, providers }, ...extra });
  const user = { id: 'u1', type: 'normal' as const, data: { email: 'a@b.c' }, custom_data: {}, identities: [] };

  it('fire the triggers of the operation whose providers include the event’s, once, as the system user, logged', async () => {
    const t = start(
      auth('login', 'LOGIN', ['local-userpass']),
      auth('anyLogin', 'LOGIN', []),
      auth('anon', 'LOGIN', ['anon-user']),
      auth('create', 'CREATE', ['local-userpass']),
      auth('off', 'LOGIN', ['local-userpass'], { disabled: true }),
    );
    t.authEvent('LOGIN', ['local-userpass'], user);
    await t.close();
    expect(runtime.calls).toHaveLength(2);
    expect(
      log
        .list()
        .map((e) => e.trigger)
        .sort(),
    ).toEqual(['anyLogin', 'login']);
    const [event] = runtime.calls[0]!.args as [Record<string, unknown>];
    expect(runtime.calls[0]).toMatchObject({ runAs: { system: true }, ejson: true });
    expect(event).toMatchObject({ operationType: 'LOGIN', providers: ['local-userpass'], user, time: { $date: expect.anything() } });
  });

  it('run again a run whose runner died, and fire nothing once closed', async () => {
    vi.useFakeTimers();
    const t = start(auth('create', 'CREATE', ['anon-user']));
    let n = 0;
    runtime.answer = () => (n++ === 0 ? failed('WORKER_EXITED') : ok());
    t.authEvent('CREATE', ['anon-user'], user);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runtime.calls).toHaveLength(2);
    await t.close();
    t.authEvent('CREATE', ['anon-user'], user);
    await flush();
    expect(runtime.calls).toHaveLength(2);
  });
});
