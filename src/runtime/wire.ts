// The messages between the runtime host and its workers. An answer with a JSON result and no log
// lines crosses as a short array: structured clone copies strings cheaply but walks objects
// slowly, and both threads pay for every call. Everything else crosses as objects.
import type { CallOutcome, CallRequest } from './types.js';

/** A call; its request as it is (structured clone walks it faster than JSON text round-trips, measured). */
export type CallMessage = { type: 'call'; id: number; request: CallRequest };

/**
 * A worker's answer: the whole outcome, or, for a plain JSON result with no log lines,
 * [call id, JSON text, duration in ms, user id it ran as (null: as system)].
 */
export type DoneMessage = { type: 'done'; id: number; outcome: CallOutcome; recycle: boolean } | [id: number, json: string, durationMs: number, runAsUserId: string | null];

export function encodeCall(id: number, request: CallRequest): CallMessage {
  return { type: 'call', id, request };
}

export function decodeCall(message: CallMessage): { id: number; request: CallRequest } {
  return { id: message.id, request: message.request };
}

export function encodeDone(id: number, outcome: CallOutcome, recycle: boolean): DoneMessage {
  const { result, runAs } = outcome;
  if (outcome.ok && !recycle && result?.kind === 'json' && !outcome.logs.length && ('system' in runAs || 'userId' in runAs)) {
    return [id, result.json, outcome.durationMs, 'system' in runAs ? null : runAs.userId];
  }
  return { type: 'done', id, outcome, recycle };
}

export function decodeDone(message: DoneMessage): { id: number; outcome: CallOutcome; recycle: boolean } {
  if (!Array.isArray(message)) return message;
  const [id, json, durationMs, userId] = message;
  return { id, outcome: { ok: true, result: { kind: 'json', json }, logs: [], durationMs, runAs: userId === null ? { system: true } : { userId } }, recycle: false };
}
