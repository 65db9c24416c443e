import { describe, expect, it } from 'vitest';
import { CronError, cronMatches, nextTick, parseCron } from '../../../src/app/cron.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseCron', () => {
  it('reads values, ranges, lists, steps and names', () => {
    const c = parseCron('0,30 9-17 * JAN-MAR mon-fri');
    expect([...c.minute]).toEqual([0, 30]);
    expect([...c.hour]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...c.month]).toEqual([1, 2, 3]);
    expect([...c.weekday]).toEqual([1, 2, 3, 4, 5]);
  });

  it('a step matches the multiples of n (App Services), not every n-th from the start', () => {
    expect([...parseCron('*/15 * * * *').minute]).toEqual([0, 15, 30, 45]);
    expect([...parseCron('* * */10 * *').day]).toEqual([10, 20, 30]);
    expect([...parseCron('0 */24 * * *').hour]).toEqual([0]);
  });

  it.each([
    ['*/1 * * * * *', /6 fields.*no seconds/],
    ['* * *', /3 fields; a schedule has 5/],
    ['', /0 fields/],
    ['60 * * * *', /minute 60 is out of range \(0-59\)/],
    ['0 25 * * *', /hour 25 is out of range/],
    ['0 0 0 * *', /day of month 0 is out of range/],
    ['0 0 * 13 *', /month 13/],
    ['0 0 * * 7', /weekday 7 is out of range \(0-6\)/],
    ['0 0 * * FUNDAY', /"FUNDAY" is not a weekday/],
    ['5-1 * * * *', /ends before it starts/],
    ['*/0 * * * *', /at least 1/],
    ['1,,2 * * * *', /empty list item/],
    ['* * 31/40 * *', /matches no day/],
  ])('refuses %j', (text, message) => {
    expect(() => parseCron(text)).toThrow(CronError);
    expect(() => parseCron(text)).toThrow(message);
  });
});

describe('nextTick', () => {
  it('is the next whole minute where every field matches, in UTC', () => {
    const c = parseCron('0 7 * * *');
    expect(iso(nextTick(c, at('2026-03-01T06:59:59.999Z')))).toBe('2026-03-01T07:00:00.000Z');
    expect(iso(nextTick(c, at('2026-03-01T07:00:00.000Z')))).toBe('2026-03-02T07:00:00.000Z');
    expect(iso(nextTick(parseCron('*/5 * * * *'), at('2026-03-01T10:02:30Z')))).toBe('2026-03-01T10:05:00.000Z');
  });

  it('needs both the day of month and the weekday to match', () => {
    // 1 May 2026 is a Friday: the next Monday the 1st is 1 June 2026.
    expect(iso(nextTick(parseCron('0 0 1 * MON'), at('2026-04-15T00:00:00Z')))).toBe('2026-06-01T00:00:00.000Z');
  });

  it('crosses months and years, and leap days', () => {
    expect(iso(nextTick(parseCron('50 5 * * 1-5'), at('2026-12-31T23:00:00Z')))).toBe('2027-01-01T05:50:00.000Z');
    expect(iso(nextTick(parseCron('0 0 29 2 *'), at('2026-03-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z');
  });

  it('is undefined for a schedule that never fires', () => {
    expect(nextTick(parseCron('0 0 31 2 *'), at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('agrees with cronMatches minute by minute over two days', () => {
    const c = parseCron('*/7 1-3,22 * * *');
    let t = at('2026-05-01T00:00:00Z');
    const end = t + 2 * 24 * 60 * 60_000;
    let expected = t + 60_000;
    while (!cronMatches(c, new Date(expected))) expected += 60_000;
    while (t < end) {
      const next = nextTick(c, t)!;
      expect(next).toBe(expected);
      t = next;
      expected = t + 60_000;
      while (!cronMatches(c, new Date(expected))) expected += 60_000;
    }
  });
});
