import { describe, expect, it } from 'vitest';
import { capResult, frame, FrameReader, MAX_RESULT_BYTES, plainAnswer, readPlainAnswer } from '../../../src/runtime/runner-wire.js';
import type { CallOutcome, CallResult } from '../../../src/runtime/types.js';

describe('the runner pipe', () => {
  it('reads messages back in order however the text is cut', () => {
    // Long messages between short ones: a message longer than a chunk waits in parts.
    const messages = ['c1\0hello', 'x'.repeat(70_000), '', 'j{"t":"app"}', 'd2\x001.5\0null\0"é\\n"', 'y'.repeat(200_000), 'z'];
    const text = messages.map(frame).join('');
    for (const size of [1, 3, 7, 64, 65_536, 70_003, text.length]) {
      const got: string[] = [];
      const reader = new FrameReader((m) => got.push(m));
      for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
      expect(got).toEqual(messages);
    }
  });

  it('refuses text that is out of step rather than guess', () => {
    const reader = new FrameReader(() => undefined);
    expect(() => reader.push('abc:def')).toThrow(/out of step/);
    expect(() => new FrameReader(() => undefined).push('x'.repeat(100))).toThrow(/out of step/);
    expect(() => new FrameReader(() => undefined, 10).push('11:')).toThrow(/out of step/);
  });

  it('a plain answer crosses with its id, duration, user and JSON text', () => {
    const into: unknown[] = [];
    readPlainAnswer(plainAnswer(7, '{"a":"\\u0000"}', 2.25, 'user\0with nul'), into as never);
    readPlainAnswer(plainAnswer(8, '1', 0, null), into as never);
    expect(into).toEqual([7, '{"a":"\\u0000"}', 2.25, 'user\0with nul', 8, '1', 0, null]);
  });
});

describe('capResult', () => {
  const outcome = (result: CallResult): CallOutcome => ({ ok: true, result, logs: [], durationMs: 1, runAs: { userId: 'u' } });

  it('keeps results up to the limit, JSON text and bytes alike', () => {
    const json = outcome({ kind: 'json', json: '"' + 'x'.repeat(MAX_RESULT_BYTES - 2) + '"' });
    expect(capResult(json)).toBe(json);
    const bytes = outcome({ kind: 'response', status: 200, headers: [], body: new Uint8Array(MAX_RESULT_BYTES) });
    expect(capResult(bytes)).toBe(bytes);
  });

  it('fails a larger result with 413 RESULT_TOO_LARGE, counting UTF-8 bytes', () => {
    // Under the limit in characters, over it in bytes.
    const wide = capResult(outcome({ kind: 'json', json: '"' + 'é'.repeat(MAX_RESULT_BYTES / 2) + '"' }));
    expect(wide.ok).toBe(false);
    expect(wide.error).toMatchObject({ code: 'RESULT_TOO_LARGE', status: 413 });
    const body = capResult(outcome({ kind: 'response', status: 200, headers: [], body: new Uint8Array(MAX_RESULT_BYTES + 1) }));
    expect(body.error?.code).toBe('RESULT_TOO_LARGE');
    expect(body.runAs).toEqual({ userId: 'u' });
  });
});
