// The recent call log of an app: a bounded ring, newest first when read.
import type { LogLine, RunAs } from '../runtime/types.js';

export interface CallLogEntry {
  id: number;
  time: string;
  appId: string;
  function: string;
  via: 'client' | 'admin';
  /** The caller: a user id, "anonymous", or "service". */
  user: string;
  runAs: RunAs;
  status: number;
  durationMs: number;
  /** Left out when the function sets disable_arg_logs. */
  arguments?: unknown[];
  logs: LogLine[];
  /** `stack`: the frames in the app's files, when there are any. */
  error?: { code: string; message: string; stack?: string[] };
}

const q = JSON.stringify;

/** A number as JSON writes it; anything else (a status a Response subclass made up) through JSON. */
const number = (n: unknown): string => (typeof n === 'number' && Number.isFinite(n) ? `${n}` : (q(n) ?? 'null'));

/**
 * The entry as JSON text: what JSON.stringify gives for an entry built in CallLogEntry's order,
 * in about half the time (a server in --json mode writes one per call). The time (ISO) and via
 * never need escaping.
 */
export function entryJson(e: CallLogEntry): string {
  const runAs = 'userId' in e.runAs ? `{"userId":${q(e.runAs.userId)}}` : q(e.runAs);
  let text = `{"time":"${e.time}","appId":${q(e.appId)},"function":${q(e.function)},"via":"${e.via}","user":${q(e.user)},"runAs":${runAs},"status":${number(e.status)},"durationMs":${number(e.durationMs)},"logs":${e.logs.length ? q(e.logs) : '[]'}`;
  if (e.arguments !== undefined) text += `,"arguments":${q(e.arguments)}`;
  if (e.error !== undefined) text += `,"error":${q(e.error)}`;
  return `${text},"id":${e.id}}`;
}

/** A server's event as one line of JSON (--json); call events, one per call, are built directly. */
export function eventJson(event: { event: string } | { event: 'call'; entry: CallLogEntry }): string {
  return 'entry' in event && event.event === 'call' ? `{"event":"call","entry":${entryJson(event.entry)}}` : JSON.stringify(event);
}

export class CallLog {
  /** A ring: the entry with id n is at (n - 1) % capacity, while it is among the newest capacity. */
  private readonly entries: CallLogEntry[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 1000) {}

  /** Takes the entry (it becomes the logged one, with an id). */
  add(entry: Omit<CallLogEntry, 'id'>): CallLogEntry {
    const full = entry as CallLogEntry;
    full.id = this.nextId++;
    this.entries[(full.id - 1) % this.capacity] = full;
    return full;
  }

  /** One entry by id, while it is among the newest `capacity`. */
  get(id: number): CallLogEntry | undefined {
    if (!Number.isInteger(id) || id < Math.max(1, this.nextId - this.capacity) || id >= this.nextId) return undefined;
    return this.entries[(id - 1) % this.capacity];
  }

  list(filter: { appId?: string; function?: string; limit?: number } = {}): CallLogEntry[] {
    const out: CallLogEntry[] = [];
    const limit = filter.limit ?? 100;
    const oldest = Math.max(1, this.nextId - this.capacity);
    for (let id = this.nextId - 1; id >= oldest && out.length < limit; id--) {
      const e = this.entries[(id - 1) % this.capacity]!;
      if (filter.appId !== undefined && e.appId !== filter.appId) continue;
      if (filter.function !== undefined && e.function !== filter.function) continue;
      out.push(e);
    }
    return out;
  }
}
