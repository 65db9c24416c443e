// App Services' schedule syntax: five fields (minute hour day-of-month month weekday), in UTC. A
// field is `*`, a value, a range `a-b`, a list `a,b`, or any of those with a step `/n`, which
// (as App Services documents it) matches the values of the field that are multiples of n. A
// time matches when every field matches it (App Services does not OR day-of-month and weekday as
// Vixie cron does, which is why fn has its own parser). Pure: no clock, no timers.

export interface Cron {
  /** The text it was parsed from. */
  text: string;
  minute: Set<number>;
  hour: Set<number>;
  day: Set<number>;
  month: Set<number>;
  weekday: Set<number>;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], base: 1 },
  { name: 'weekday', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], base: 0 },
] as const;

export class CronError extends Error {}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>();
  const value = (v: string): number => {
    const upper = v.toUpperCase();
    if ('names' in field) {
      const at = (field.names as readonly string[]).indexOf(upper);
      if (at >= 0) return at + field.base;
    }
    if (!/^\d+$/.test(v))
      throw new CronError(
        `"${v}" is not a ${field.name} (${field.min}-${field.max}${'names' in field ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''})`,
      );
    const n = Number(v);
    if (n < field.min || n > field.max) throw new CronError(`${field.name} ${n} is out of range (${field.min}-${field.max})`);
    return n;
  };
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(`the ${field.name} field "${text}" has an empty list item`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronError(`"${part}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw new CronError(`the step in "${part}" must be a whole number of at least 1`);
      step = Number(stepText);
    }
    let from: number = field.min;
    let to: number = field.max;
    if (range !== '*') {
      const ends = range!.split('-');
      if (ends.length > 2) throw new CronError(`"${range}" is not a range (a-b)`);
      from = value(ends[0]!);
      to = ends.length === 2 ? value(ends[1]!) : from;
      if (to < from) throw new CronError(`the range "${range}" ends before it starts`);
    }
    for (let v = from; v <= to; v++) if (v % step === 0) out.add(v);
  }
  if (!out.size) throw new CronError(`the ${field.name} field "${text}" matches no ${field.name}`);
  return out;
}

/** The schedule, or a CronError saying what is wrong with it. */
export function parseCron(text: string): Cron {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 6)
    throw new CronError(`"${text}" has 6 fields; App Services schedules have 5 (minute hour day-of-month month weekday), no seconds`);
  const count = parts[0] === '' ? 0 : parts.length;
  if (count !== 5)
    throw new CronError(`"${text}" has ${count} field${count === 1 ? '' : 's'}; a schedule has 5 (minute hour day-of-month month weekday)`);
  const [minute, hour, day, month, weekday] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  return { text, minute: minute!, hour: hour!, day: day!, month: month!, weekday: weekday! };
}

/** Does the schedule fire at this minute (UTC)? */
export function cronMatches(cron: Cron, at: Date): boolean {
  return (
    cron.minute.has(at.getUTCMinutes()) &&
    cron.hour.has(at.getUTCHours()) &&
    cron.day.has(at.getUTCDate()) &&
    cron.month.has(at.getUTCMonth() + 1) &&
    cron.weekday.has(at.getUTCDay())
  );
}

const MINUTE = 60_000;
/** A schedule with no tick in this many years never fires (31 February). */
const HORIZON_YEARS = 8;

/** The first tick (a whole UTC minute, in ms) after `after` (ms); undefined when it never fires. */
export function nextTick(cron: Cron, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + HORIZON_YEARS * 366 * 24 * 60 * MINUTE;
  while (t <= end) {
    const d = new Date(t);
    if (!cron.month.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!cron.day.has(d.getUTCDate()) || !cron.weekday.has(d.getUTCDay())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!cron.hour.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (cron.minute.has(d.getUTCMinutes())) return t;
    t += MINUTE;
  }
  return undefined;
}
