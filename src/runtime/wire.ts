// The messages between the runtime host and its workers. Structured clone copies strings cheaply
// but walks objects slowly (building each one again property by property on the other side), and
// both threads pay for every call: so a call without files crosses as one string, and an answer
// with a JSON result and no log lines as four array slots. Everything else crosses as objects.
// A call message carries the calls for a worker from one turn of the host's event loop, as each
// message costs the thread that receives it a wake-up. Answers use the same batch form; a worker
// posts each one as soon as it has it.
import type { CallOutcome, CallRequest, FnUser, HttpInfo, RunAs } from './types.js';

/**
 * A call: for a call without files, one string of fields joined by NUL (the arguments, run-as and
 * caller as JSON text, which never holds a raw NUL; the request's headers joined by line feeds,
 * which HTTP forbids inside a header); else the call itself.
 */
export type CallMessage = string | { type: 'call'; id: number; request: CallRequest };

/**
 * The calls for one worker from one turn of the host's event loop, in one message: each call's
 * claim number (see CLAIM_SLOTS), then the call.
 */
export type CallBatch = (number | CallMessage)[];

/**
 * Who runs a call sent ahead to a worker, decided in memory both threads share, one Int32 per call
 * at `claim % CLAIM_SLOTS`: the host writes the call's claim number (a positive count of the calls
 * sent to that worker) when it sends the call; the worker may start the call only if it can swap
 * that number for its negative, and the host may take the call back (to send it elsewhere) only
 * if it can swap it for 0. One compare-and-swap wins, so a call runs once, or not at all there.
 * The worker writes 0 when the call is over, before it posts the answer, so a host that is late to
 * read answers still knows which call is running. A slot is used again CLAIM_SLOTS calls later
 * (the calls not started on a worker are never that many apart); a call taken back never matches
 * its slot again.
 */
export const CLAIM_SLOTS = 256;

/** The claim number after `claim`: counts up, skipping 0, within Int32. */
export function nextClaim(claim: number): number {
  return claim >= 0x7fffffff ? 1 : claim + 1;
}

/** The worker's side: true if the call is still its to run (and now it is). */
export function claimCall(claims: Int32Array, claim: number): boolean {
  return Atomics.compareExchange(claims, claim % CLAIM_SLOTS, claim, -claim) === claim;
}

/** The host's side: true if the worker had not started the call (and now never will). */
export function takeBackCall(claims: Int32Array, claim: number): boolean {
  return Atomics.compareExchange(claims, claim % CLAIM_SLOTS, claim, 0) === claim;
}

/** The host's side, as it sends a call. */
export function offerCall(claims: Int32Array, claim: number): void {
  Atomics.store(claims, claim % CLAIM_SLOTS, claim);
}

/** The worker's side, when a call it started has its outcome (before the answer is posted). */
export function finishCall(claims: Int32Array, claim: number): void {
  Atomics.compareExchange(claims, claim % CLAIM_SLOTS, -claim, 0);
}

/** The host's view of a call it sent: not started, running, or over (or taken back). */
export function callState(claims: Int32Array, claim: number): 'waiting' | 'running' | 'over' {
  const value = Atomics.load(claims, claim % CLAIM_SLOTS);
  return value === claim ? 'waiting' : value === -claim ? 'running' : 'over';
}

/** An answer as a whole: for anything but a plain JSON result with no log lines. */
export interface DoneObject {
  type: 'done';
  id: number;
  outcome: CallOutcome;
  recycle: boolean;
}

/**
 * A worker's answers, in one message: a plain JSON result with no log lines takes four slots
 * (call id, JSON text, duration in ms, user id it ran as or null for system), any other answer
 * one slot, its DoneObject.
 */
export type DoneBatch = (number | string | null | DoneObject)[];

const FIELD = '\0';
const LINE = '\n';

/** JSON text of callers seen before (the server keeps one object per kind of caller it can). */
const callerJson = new WeakMap<FnUser, string>();

export function encodeCall(id: number, request: CallRequest): CallMessage {
  if (request.files || request.ejson) return { type: 'call', id, request };
  const { caller, request: http } = request;
  const headers = http.rawHeaders.join(LINE);
  if (
    request.name.includes(FIELD) ||
    http.remoteIPAddress.includes(FIELD) ||
    http.httpMethod.includes(FIELD) ||
    http.rawQueryString.includes(FIELD) ||
    headers.includes(FIELD)
  )
    return { type: 'call', id, request };
  let callerText = callerJson.get(caller);
  if (callerText === undefined) callerJson.set(caller, (callerText = JSON.stringify(caller)));
  return `${id}${FIELD}${request.name}${FIELD}${JSON.stringify(request.args)}${FIELD}${request.via}${FIELD}${request.runAs ? JSON.stringify(request.runAs) : ''}${FIELD}${callerText}${FIELD}${http.remoteIPAddress}${FIELD}${headers}${FIELD}${http.httpMethod}${FIELD}${http.rawQueryString}`;
}

let lastCallerText = '';
let lastCaller: FnUser | undefined;

/** A call's HttpInfo as it crosses: the header lines are split only if they are read. */
class WireHttpInfo implements HttpInfo {
  private lines: string[] | undefined;
  constructor(
    readonly remoteIPAddress: string,
    private readonly headerText: string,
    readonly httpMethod: string,
    readonly rawQueryString: string,
  ) {}

  // Split only if the function reads context.request (or can_evaluate reads %%request).
  get rawHeaders(): string[] {
    return (this.lines ??= this.headerText === '' ? [] : this.headerText.split(LINE));
  }

  /** As plain data, the four fields of HttpInfo (rawHeaders is a getter, which JSON would skip). */
  toJSON(): HttpInfo {
    return {
      remoteIPAddress: this.remoteIPAddress,
      rawHeaders: this.rawHeaders,
      httpMethod: this.httpMethod,
      rawQueryString: this.rawQueryString,
    };
  }
}

/** The arguments of a call without parameters (an empty body), the most common ones. */
const EMPTY_PARAMS_JSON = '[{}]';

export function decodeCall(message: CallMessage): { id: number; request: CallRequest } {
  if (typeof message !== 'string') return { id: message.id, request: message.request };
  // Ten fields; indexOf and slice cost half of what split does on a line of this length.
  let at = message.indexOf(FIELD);
  const id = Number(message.slice(0, at));
  const next = (): string => {
    const from = at + 1;
    at = message.indexOf(FIELD, from);
    return message.slice(from, at);
  };
  const name = next();
  const args = next();
  const via = next() as CallRequest['via'];
  const runAs = next();
  const callerText = next();
  const ip = next();
  const headers = next();
  const method = next();
  const rawQuery = message.slice(at + 1);
  // Calls from one kind of caller follow each other: the caller is parsed once (and frozen, as
  // every call reads it and none may change it for the next).
  if (callerText !== lastCallerText || !lastCaller) {
    lastCaller = deepFreeze(JSON.parse(callerText) as FnUser);
    lastCallerText = callerText;
  }
  const request: CallRequest = {
    name,
    args: args === EMPTY_PARAMS_JSON ? [{}] : (JSON.parse(args) as unknown[]),
    caller: lastCaller,
    via,
    request: new WireHttpInfo(ip, headers, method, rawQuery),
  };
  if (runAs !== '') request.runAs = JSON.parse(runAs) as NonNullable<CallRequest['runAs']>;
  return { id, request };
}

/** The id of a call message, read without decoding the rest. */
export function callIdOf(message: CallMessage): number {
  return typeof message === 'string' ? Number(message.slice(0, message.indexOf(FIELD))) : message.id;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Adds an answer to a batch. */
export function pushDone(batch: DoneBatch, id: number, outcome: CallOutcome, recycle: boolean): void {
  if (outcome.ok && !recycle && outcome.result.kind === 'json' && !outcome.logs.length) {
    batch.push(id, outcome.result.json, outcome.durationMs, 'system' in outcome.runAs ? null : outcome.runAs.userId);
  } else batch.push({ type: 'done', id, outcome, recycle });
}

// Outcomes of the short form share their empty log and, when they ran as the system, their run-as.
const NO_LOGS: CallOutcome['logs'] = Object.freeze([]) as unknown as CallOutcome['logs'];
const AS_SYSTEM: RunAs = Object.freeze({ system: true as const });

/** The answers of a batch, in order. */
export function readDone(batch: DoneBatch, each: (id: number, outcome: CallOutcome, recycle: boolean) => void): void {
  for (let i = 0; i < batch.length;) {
    const head = batch[i]!;
    if (typeof head === 'object' && head !== null) {
      each(head.id, head.outcome, head.recycle);
      i += 1;
    } else {
      const userId = batch[i + 3] as string | null;
      each(
        head as number,
        {
          ok: true,
          result: { kind: 'json', json: batch[i + 1] as string },
          logs: NO_LOGS,
          durationMs: batch[i + 2] as number,
          runAs: userId === null ? AS_SYSTEM : { userId },
        },
        false,
      );
      i += 4;
    }
  }
}
