// The messages between the server and an app's runner (runner-client.ts ↔ runner.ts), over the
// child process's IPC channel (advanced serialization). Calls and answers cross in the forms of
// wire.ts (a call as one string, a plain answer as four slots), the calls of one turn of the
// server's event loop in one message, the answers of one turn of the runner's in one message.
import type { DataSourceSpec } from '../data/types.js';
import type { AppBundle, CallOutcome, FnUser, HttpInfo, RuntimeLimits } from './types.js';
import type { CallMessage, DoneBatch } from './wire.js';

/** What a runner needs to open its app's data sources (connection strings included, nothing else). */
export interface RunnerData {
  root: string;
  sources: DataSourceSpec[];
  /** The connection-string variables of these sources, and only those. */
  uris: Record<string, string>;
  embedded: boolean;
  memory?: boolean;
}

/** What a database trigger asks of a data source (the WatchOptions of DataHub.watch, as plain JSON). */
export interface WatchSpec {
  db?: string;
  coll?: string;
  pipeline?: Record<string, unknown>[];
  resumeAfter?: { _data: string };
  fullDocument?: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  fullDocumentBeforeChange?: 'off' | 'whenAvailable' | 'required';
  /**
   * A client's watch (the client API): one collection (db and coll are set), read through the
   * data layer's rules as this user; `pipeline` then runs after the rules, given here as
   * canonical EJSON text (it may hold ObjectIds and dates) in place of the plain one above.
   */
  client?: { user: FnUser; request: HttpInfo; pipeline: string };
}

export type ToRunner =
  | { t: 'init'; limits: Partial<RuntimeLimits>; rssLimitMb: number }
  | { t: 'app'; bundle: AppBundle }
  | { t: 'data'; data: RunnerData }
  /** The calls of one turn of the server's event loop (each carries its id). */
  | { t: 'calls'; calls: CallMessage[] }
  | { t: 'ping' }
  | { t: 'close' }
  /** Open a change stream (database triggers); its events come back as 'change', one at a time. */
  | { t: 'watch'; id: number; source: string; options: WatchSpec }
  /** The server has the last 'change' of this stream: the next may come. */
  | { t: 'ack'; id: number }
  | { t: 'unwatch'; id: number };

export type FromRunner =
  | { t: 'ready' }
  | { t: 'done'; done: DoneBatch }
  | { t: 'pong' }
  /** Sent just before the runner exits because its resident memory went over its limit. */
  | { t: 'memory'; rssMb: number }
  | { t: 'closed' }
  /** One change event of a watch: its resume token and the event as canonical EJSON text. */
  | { t: 'change'; id: number; token: string; event: string }
  /** A watch ended with an error (`lost`: its resume point is no longer in the change log). */
  | { t: 'watch-error'; id: number; message: string; lost: boolean };

/** Results above this (JSON text or a response body) fail the call with 413 RESULT_TOO_LARGE. */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** The outcome, or RESULT_TOO_LARGE in its place when its result is over MAX_RESULT_BYTES. */
export function capResult(outcome: CallOutcome): CallOutcome {
  const result = outcome.result;
  if (!result) return outcome;
  // A string of n UTF-16 units is at most 3n bytes of UTF-8: most never need counting.
  const bytes =
    result.kind === 'json' ? (result.json.length * 3 <= MAX_RESULT_BYTES ? 0 : Buffer.byteLength(result.json)) : result.body.byteLength;
  if (bytes <= MAX_RESULT_BYTES) return outcome;
  return {
    ok: false,
    error: {
      code: 'RESULT_TOO_LARGE',
      message: `the function's result is ${Math.ceil(bytes / 1024 / 1024)} MB, over the limit of ${MAX_RESULT_BYTES / 1024 / 1024} MB`,
      status: 413,
    },
    logs: outcome.logs,
    durationMs: outcome.durationMs,
    runAs: outcome.runAs,
  };
}

/**
 * The hot path runs over a plain pipe beside the IPC channel (fd 4 in the runner): a message there
 * costs about half what one over IPC does. Each message is `<length>:<text>` (length in UTF-16
 * units), its first character saying what it is: 'c' a call in encodeCall's string form, 'j' a
 * ToRunner message as JSON (init, data, app: these go the same way as the calls so that a call
 * sent after setApp runs on that version), 'd' a plain answer (`id NUL ms NUL user id as JSON or
 * null NUL JSON text`). Calls with files and answers that are not plain go over IPC.
 */
export const PIPE_FD = 4;

export function frame(text: string): string {
  return `${text.length}:${text}`;
}

/** Splits the pipe's text into messages, in order. */
export class FrameReader {
  /** What came after the last whole message: at most a part of the next one's header. */
  private buffer = '';
  /**
   * A message longer than what has come of it so far: its length and its parts, joined once it
   * is whole (adding each chunk to one string and searching it again would copy the whole message
   * at every chunk: 11 s for an 18 MB call in 64 KB chunks).
   */
  private pending: { length: number; parts: string[]; have: number } | undefined;

  /** `maxLength`: a longer message is refused (the server's side: a runner is not trusted). */
  constructor(
    private readonly each: (message: string) => void,
    private readonly maxLength = Infinity,
  ) {}

  push(chunk: string): void {
    if (this.pending) {
      const pending = this.pending;
      pending.parts.push(chunk);
      pending.have += chunk.length;
      if (pending.have < pending.length) return;
      this.pending = undefined;
      const joined = pending.parts.join('');
      this.each(joined.slice(0, pending.length));
      chunk = joined.slice(pending.length);
      if (!chunk) return;
    }
    const text = this.buffer + chunk;
    let at = 0;
    for (;;) {
      const colon = text.indexOf(':', at);
      if (colon < 0) {
        if (text.length - at > 16) throw new Error('the runner pipe is out of step');
        break;
      }
      const length = Number(text.slice(at, colon));
      if (!Number.isInteger(length) || length < 0 || length > this.maxLength) throw new Error('the runner pipe is out of step');
      const end = colon + 1 + length;
      if (end > text.length) {
        this.pending = { length, parts: [text.slice(colon + 1)], have: text.length - colon - 1 };
        this.buffer = '';
        return;
      }
      this.each(text.slice(colon + 1, end));
      at = end;
    }
    this.buffer = at ? text.slice(at) : text;
  }
}

/** A plain answer as it crosses the pipe (without its tag). */
export function plainAnswer(id: number, json: string, durationMs: number, userId: string | null): string {
  return `d${id}\0${durationMs}\0${JSON.stringify(userId)}\0${json}`;
}

/** The four DoneBatch slots of a plain answer read from the pipe (the message, its tag 'd' included). */
export function readPlainAnswer(text: string, into: DoneBatch): void {
  const a = text.indexOf('\0', 1);
  const b = text.indexOf('\0', a + 1);
  const c = text.indexOf('\0', b + 1);
  into.push(Number(text.slice(1, a)), text.slice(c + 1), Number(text.slice(a + 1, b)), JSON.parse(text.slice(b + 1, c)) as string | null);
}
