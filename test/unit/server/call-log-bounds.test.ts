import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, listen, type Listening } from '../../../src/server/http.js';
import { CallLog, entryJson, MAX_LOGGED_ARGUMENTS_BYTES, setLoggedArguments, type CallLogEntry } from '../../../src/server/logs.js';
import type { RuntimeHost } from '../../../src/runtime/host.js';
import type { CallOutcome, CallRequest } from '../../../src/runtime/types.js';

const entry = (fn: string, logs: string[] = []): Omit<CallLogEntry, 'id'> => ({
  time: '2024-01-01T00:00:00.000Z',
  appId: 'app',
  function: fn,
  via: 'client',
  user: 'anonymous',
  runAs: { userId: 'anonymous' },
  status: 200,
  durationMs: 1,
  logs: logs.map((message) => ({ level: 'log', message })),
});

describe('setLoggedArguments', () => {
  it('keeps small arguments as they are', () => {
    const e = entry('f');
    setLoggedArguments(e, [{ a: 1, s: 'x'.repeat(100) }]);
    expect(e.arguments).toEqual([{ a: 1, s: 'x'.repeat(100) }]);
    expect(e.argumentsTruncated).toBeUndefined();
  });

  it('keeps a marked preview of at most the limit in place of big arguments, in the log and its JSON line', () => {
    const e = entry('f');
    const big = [{ s: 'é'.repeat(1_000_000) }];
    const bytes = setLoggedArguments(e, big, 2_000_000);
    expect(e.arguments).toBeUndefined();
    expect(e.argumentsTruncated!.bytes).toBe(Buffer.byteLength(JSON.stringify(big)));
    expect(Buffer.byteLength(e.argumentsTruncated!.preview)).toBeLessThanOrEqual(MAX_LOGGED_ARGUMENTS_BYTES);
    expect(e.argumentsTruncated!.preview.startsWith('[{"s":"éé')).toBe(true);
    expect(bytes).toBeLessThanOrEqual(MAX_LOGGED_ARGUMENTS_BYTES);
    const line = entryJson({ ...e, id: 1 });
    expect(line.length).toBeLessThan(MAX_LOGGED_ARGUMENTS_BYTES + 1000);
    expect(JSON.parse(line)).toMatchObject({ argumentsTruncated: { bytes: e.argumentsTruncated!.bytes } });
  });

  it('measures arguments whose body was small enough only by the body size (no encoding)', () => {
    const e = entry('f');
    const args = [{ a: 1 }];
    expect(setLoggedArguments(e, args, 7)).toBe(42);
    expect(e.arguments).toBe(args);
  });
});

describe('CallLog bounded in bytes', () => {
  it('drops the oldest calls once the bytes kept pass the bound, and always keeps the newest', () => {
    const log = new CallLog(1000, 100_000);
    const line = 'y'.repeat(4000);
    for (let i = 1; i <= 100; i++) log.add(entry(`f${i}`, [line, line]), 0);
    expect(log.size).toBeLessThanOrEqual(100_000);
    const kept = log.list({ limit: 1000 });
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(20);
    expect(kept[0]!.function).toBe('f100');
    expect(log.get(1)).toBeUndefined();
    expect(log.get(100)!.function).toBe('f100');
    // One entry bigger than the whole bound is still kept, alone.
    log.add(entry('huge', ['z'.repeat(200_000)]));
    expect(log.list({ limit: 1000 }).map((e) => e.function)).toEqual(['huge']);
    log.add(entry('next'));
    expect(log.list({ limit: 1000 }).map((e) => e.function)).toEqual(['next']);
  });

  it('still keeps at most `capacity` entries', () => {
    const log = new CallLog(3);
    for (const fn of ['a', 'b', 'c', 'd', 'e']) log.add(entry(fn));
    expect(log.list().map((e) => e.id)).toEqual([5, 4, 3]);
    expect(log.get(2)).toBeUndefined();
  });
});

describe('the call log of a server', () => {
  const runtime = {
    app: { functions: {} },
    call: async (request: CallRequest): Promise<CallOutcome> => ({
      ok: true,
      result: { kind: 'json', json: '1' },
      logs: [],
      durationMs: 1,
      runAs: { userId: request.caller.id },
    }),
    submit: (request: CallRequest, done: (outcome: CallOutcome) => void) =>
      done(
        request.name === 'missing'
          ? {
              ok: false,
              error: { code: 'FUNCTION_NOT_FOUND', message: 'function "missing" not found', status: 404 },
              logs: [],
              durationMs: 0,
              runAs: { userId: 'anonymous' },
            }
          : { ok: true, result: { kind: 'json', json: '1' }, logs: [], durationMs: 1, runAs: { userId: 'anonymous' } },
      ),
  } as unknown as RuntimeHost;
  const log = new CallLog();
  const lines: string[] = [];
  let server: Listening;
  beforeAll(async () => {
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt',
      apps: (id) => (id === 'app1' ? { appId: 'app1', runtime } : undefined),
      log,
      onCall: (e) => lines.push(entryJson(e)),
    });
    server = await listen(handler, '127.0.0.1', 0);
  });
  afterAll(() => server.close());
  const post = (name: string, body: string, type = 'application/json') =>
    fetch(`${server.url}/api/apps/app1/functions/${name}`, { method: 'POST', headers: { 'content-type': type }, body });

  it('keeps no arguments for a call to a function that does not exist', async () => {
    expect((await post('missing', JSON.stringify({ s: 'x'.repeat(100_000) }))).status).toBe(404);
    const e = log.list({ limit: 1 })[0]!;
    expect(e.function).toBe('missing');
    expect(e.arguments).toBeUndefined();
    expect(e.argumentsTruncated).toBeUndefined();
    expect(lines.at(-1)!.length).toBeLessThan(1000);
  });

  it('keeps a marked preview of a big body, and small ones whole', async () => {
    expect((await post('f', JSON.stringify({ s: 'x'.repeat(1_000_000) }))).status).toBe(200);
    const big = log.list({ limit: 1 })[0]!;
    expect(big.arguments).toBeUndefined();
    expect(big.argumentsTruncated!.bytes).toBeGreaterThan(1_000_000);
    expect(lines.at(-1)!.length).toBeLessThan(MAX_LOGGED_ARGUMENTS_BYTES + 1000);
    expect((await post('f', 'a=1&b=%00', 'application/x-www-form-urlencoded')).status).toBe(200);
    expect(log.list({ limit: 1 })[0]!.arguments).toEqual([{ a: '1', b: '\u0000' }]);
  });
});
