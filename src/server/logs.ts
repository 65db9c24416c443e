// The recent calls of a server: a ring bounded in entries and in bytes, newest first when read.
// A call's arguments are kept up to MAX_LOGGED_ARGUMENTS_BYTES of JSON; past that only a marked
// preview of that size is kept (in the log and in the --json call lines alike).
import type { LogLine, RunAs } from '../runtime/types.js';

export interface CallLogEntry {
  id: number;
  time: string;
  appId: string;
  function: string;
  /** trigger: a run of one of the app's triggers (as the system user). */
  via: 'client' | 'admin' | 'endpoint' | 'trigger';
  /** The trigger that ran the function, when via is trigger. */
  trigger?: string;
  /** The caller: a user id, "anonymous", or "service". */
  user: string;
  runAs: RunAs;
  status: number;
  durationMs: number;
  /**
   * Left out when the function sets disable_arg_logs, when the call was refused before its
   * function ran (not found, too many calls, ...), and when they are too big to keep.
   */
  arguments?: unknown[];
  /** In place of `arguments` when their JSON is over MAX_LOGGED_ARGUMENTS_BYTES: its size and its start. */
  argumentsTruncated?: { bytes: number; preview: string };
  logs: LogLine[];
  /** `stack`: the frames in the app's files, when there are any. */
  error?: { code: string; message: string; stack?: string[] };
}

/** The most of a call's arguments the log keeps (bytes of their JSON); past that, a marked preview. */
export const MAX_LOGGED_ARGUMENTS_BYTES = 4096;
/** The most the call log holds in all (bytes, estimated from its entries' contents); oldest calls go first. */
export const MAX_CALL_LOG_BYTES = 16 * 1024 * 1024;
/** The most calls the log holds. */
export const MAX_CALL_LOG_ENTRIES = 1000;

/**
 * Puts the arguments on the entry, or a marked preview when their JSON is over the limit; returns
 * the bytes they take. `bodyBytes`, the request body's size when known: a body of at most a sixth
 * of the limit cannot encode to more than the limit (an escape is at most 6 bytes of JSON per
 * byte), so the common small call is never encoded here.
 */
export function setLoggedArguments(entry: Omit<CallLogEntry, 'id'>, args: unknown[], bodyBytes?: number): number {
  if (bodyBytes !== undefined && bodyBytes * 6 <= MAX_LOGGED_ARGUMENTS_BYTES) {
    entry.arguments = args;
    return bodyBytes * 6;
  }
  let text: string;
  try {
    text = JSON.stringify(args) ?? '[]';
  } catch {
    text = '"(arguments that cannot be written as JSON)"';
  }
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_LOGGED_ARGUMENTS_BYTES) {
    entry.arguments = args;
    return bytes;
  }
  // A cut in the middle of a surrogate pair would leave half a character: cut before it.
  let end = MAX_LOGGED_ARGUMENTS_BYTES;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  let preview = text.slice(0, end);
  while (Buffer.byteLength(preview) > MAX_LOGGED_ARGUMENTS_BYTES) preview = preview.slice(0, Math.floor(preview.length * 0.9));
  entry.argumentsTruncated = { bytes, preview };
  return Buffer.byteLength(preview);
}

/** About how many bytes an entry holds, apart from its arguments. */
function entryBytes(e: Omit<CallLogEntry, 'id'>): number {
  let n = 256 + e.function.length + e.appId.length + e.user.length;
  for (const line of e.logs) n += 32 + line.message.length;
  if (e.error) {
    n += e.error.message.length;
    for (const frame of e.error.stack ?? []) n += frame.length;
  }
  return n;
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
  if (e.argumentsTruncated !== undefined) text += `,"argumentsTruncated":${q(e.argumentsTruncated)}`;
  if (e.error !== undefined) text += `,"error":${q(e.error)}`;
  if (e.trigger !== undefined) text += `,"trigger":${q(e.trigger)}`;
  return `${text},"id":${e.id}}`;
}

/** A server's event as one line of JSON (--json); call events, one per call, are built directly. */
export function eventJson(event: { event: string } | { event: 'call'; entry: CallLogEntry }): string {
  return 'entry' in event && event.event === 'call' ? `{"event":"call","entry":${entryJson(event.entry)}}` : JSON.stringify(event);
}

export class CallLog {
  /** A ring: the entry with id n is at (n - 1) % capacity, while it is among the newest kept. */
  private readonly entries: (CallLogEntry | undefined)[] = [];
  private readonly sizes: number[] = [];
  private nextId = 1;
  /** The oldest id still kept. */
  private oldest = 1;
  private bytes = 0;

  constructor(
    private readonly capacity = MAX_CALL_LOG_ENTRIES,
    private readonly maxBytes = MAX_CALL_LOG_BYTES,
  ) {}

  /** Takes the entry (it becomes the logged one, with an id). `argumentBytes`: what setLoggedArguments returned. */
  add(entry: Omit<CallLogEntry, 'id'>, argumentBytes = 0): CallLogEntry {
    const full = entry as CallLogEntry;
    full.id = this.nextId++;
    if (full.id - this.oldest >= this.capacity) this.drop();
    const slot = (full.id - 1) % this.capacity;
    const size = entryBytes(entry) + argumentBytes;
    this.entries[slot] = full;
    this.sizes[slot] = size;
    this.bytes += size;
    // The newest entry is always kept, whatever its size.
    while (this.bytes > this.maxBytes && this.oldest < full.id) this.drop();
    return full;
  }

  /** How many bytes the kept entries hold, about. */
  get size(): number {
    return this.bytes;
  }

  private drop(): void {
    const slot = (this.oldest - 1) % this.capacity;
    this.bytes -= this.sizes[slot] ?? 0;
    this.entries[slot] = undefined;
    this.sizes[slot] = 0;
    this.oldest++;
  }

  /** One entry by id, while it is kept. */
  get(id: number): CallLogEntry | undefined {
    if (!Number.isInteger(id) || id < this.oldest || id >= this.nextId) return undefined;
    return this.entries[(id - 1) % this.capacity];
  }

  list(filter: { appId?: string; function?: string; limit?: number } = {}): CallLogEntry[] {
    const out: CallLogEntry[] = [];
    const limit = filter.limit ?? 100;
    for (let id = this.nextId - 1; id >= this.oldest && out.length < limit; id--) {
      const e = this.entries[(id - 1) % this.capacity]!;
      if (filter.appId !== undefined && e.appId !== filter.appId) continue;
      if (filter.function !== undefined && e.function !== filter.function) continue;
      out.push(e);
    }
    return out;
  }
}
