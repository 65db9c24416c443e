import { describe, expect, it } from 'vitest';
import { CallLog, entryJson, eventJson, type CallLogEntry } from '../../../src/server/logs.js';

const entry = (fn: string, appId = 'app'): Omit<CallLogEntry, 'id'> => ({
  time: '2024-01-01T00:00:00.000Z',
  appId,
  function: fn,
  via: 'client',
  user: 'anonymous',
  runAs: { userId: 'anonymous' },
  status: 200,
  durationMs: 1,
  arguments: [{}],
  logs: [],
});

describe('CallLog', () => {
  it('numbers entries from 1 and lists them newest first', () => {
    const log = new CallLog();
    expect(log.add(entry('a')).id).toBe(1);
    log.add(entry('b'));
    log.add(entry('c'));
    expect(log.list().map((e) => [e.id, e.function])).toEqual([
      [3, 'c'],
      [2, 'b'],
      [1, 'a'],
    ]);
  });

  it('keeps only the newest `capacity` entries, ids still counting up', () => {
    const log = new CallLog(3);
    for (const fn of ['a', 'b', 'c', 'd', 'e']) log.add(entry(fn));
    expect(log.list().map((e) => [e.id, e.function])).toEqual([
      [5, 'e'],
      [4, 'd'],
      [3, 'c'],
    ]);
  });

  it('lists the newest entries in order however many times the ring went round', () => {
    const log = new CallLog(4);
    for (let i = 1; i <= 11; i++) {
      log.add(entry(`f${i}`));
      const ids = log.list().map((e) => e.id);
      expect(ids).toEqual(Array.from({ length: Math.min(i, 4) }, (_, k) => i - k));
    }
    expect(log.list({ limit: 2 }).map((e) => e.function)).toEqual(['f11', 'f10']);
  });

  it('filters by app and function, and stops at the limit (100 by default)', () => {
    const log = new CallLog();
    for (let i = 0; i < 150; i++) log.add(entry(i % 2 ? 'odd' : 'even', i % 3 ? 'app' : 'other'));
    expect(log.list()).toHaveLength(100);
    expect(log.list({ limit: 5 }).map((e) => e.id)).toEqual([150, 149, 148, 147, 146]);
    const odd = log.list({ function: 'odd', limit: 1000 });
    expect(odd).toHaveLength(75);
    expect(odd.every((e) => e.function === 'odd')).toBe(true);
    const other = log.list({ appId: 'other', function: 'even', limit: 3 });
    expect(other.map((e) => e.id)).toEqual([145, 139, 133]);
    expect(log.list({ function: 'none' })).toEqual([]);
  });
});

describe('entryJson', () => {
  /** Built in the order the server builds entries: the fields, then arguments, error and id. */
  const logged = (fields: Partial<CallLogEntry>, more: { arguments?: unknown[]; error?: CallLogEntry['error'] } = {}): CallLogEntry => {
    const e = {
      time: '2026-11-21T08:30:00.123Z',
      appId: 'app',
      function: 'f',
      via: 'client',
      user: 'anonymous',
      runAs: { userId: 'anonymous' },
      status: 200,
      durationMs: 0.1,
      logs: [],
      ...fields,
    } as Omit<CallLogEntry, 'id'>;
    if ('arguments' in more) e.arguments = more.arguments;
    if (more.error) e.error = more.error;
    return new CallLog().add(e);
  };

  it('writes what JSON.stringify writes, for every kind of entry', () => {
    const entries = [
      logged({}, { arguments: [{}] }),
      logged(
        { appId: 'a"b', function: 'reports/monthly\u2028', user: 'u\n"1"', runAs: { userId: 'ü\u0000' } },
        { arguments: [{ s: 'quote " and \\', n: [1, 2.5, null], nested: { deep: true } }] },
      ),
      logged(
        {
          via: 'admin',
          user: 'service',
          runAs: { system: true },
          status: 500,
          durationMs: 12345.6,
          logs: [
            { level: 'error', message: 'boom "x"' },
            { level: 'log', message: 'line\nfeed' },
          ],
        },
        { arguments: [1, 'two'], error: { code: 'FUNCTION_ERROR', message: 'function "f" threw: \u001b[31mred' } },
      ),
      logged({ runAs: { userId: '' }, status: 403, durationMs: 0 }, { error: { code: 'EXECUTION_DENIED', message: 'no' } }),
      logged({ durationMs: 1e21 }),
      // A Response subclass can make up its status: the line stays the JSON it would be.
      logged({ status: NaN }),
      logged({ status: '200,"injected":true' as unknown as number, durationMs: Infinity }),
    ];
    for (const e of entries) {
      expect(entryJson(e)).toBe(JSON.stringify(e));
      expect(eventJson({ event: 'call', entry: e })).toBe(JSON.stringify({ event: 'call', entry: e }));
    }
  });

  it('leaves other events to JSON.stringify', () => {
    const event = { event: 'reloaded', version: '2', functions: 3, warnings: 0 };
    expect(eventJson(event)).toBe(JSON.stringify(event));
  });
});
