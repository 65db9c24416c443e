// The host/worker messages: whatever form a call or an answer takes on the way, the worker and the
// host see the same call and the same outcome as the other side sent.
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { anonymousUser, requestInfoOf, systemUser, type CallOutcome, type CallRequest } from '../../../src/runtime/types.js';
import {
  callState,
  CLAIM_SLOTS,
  claimCall,
  decodeCall,
  encodeCall,
  finishCall,
  nextClaim,
  offerCall,
  pushDone,
  readDone,
  takeBackCall,
  type DoneBatch,
} from '../../../src/runtime/wire.js';
import { callOf, userOf } from './bundle-fixtures.js';

/** What the other thread receives: the message through structured clone (as postMessage does). */
const across = <T>(message: T): T => deserialize(serialize(message)) as T;

/** A call as plain data, its HttpInfo read field by field: what code on the other side can observe. */
const plain = (request: CallRequest): unknown => {
  const { remoteIPAddress, rawHeaders, httpMethod, rawQueryString } = request.request;
  return JSON.parse(JSON.stringify({ ...request, request: { remoteIPAddress, rawHeaders, httpMethod, rawQueryString } }));
};

describe('call messages', () => {
  const http = {
    remoteIPAddress: '::1',
    rawHeaders: ['Host', 'x', 'X-Tab', 'a\tb', 'Cookie', 'a=1', 'cookie', 'b=2'],
    httpMethod: 'POST',
    rawQueryString: 'q=%00&x=1',
  };

  it('give the worker the call the host sent: arguments, caller, run-as, request', () => {
    const calls: CallRequest[] = [
      callOf('reports/monthly', [{ a: 1, nested: { list: [1, 'two', null] }, s: 'line\nfeed\u0000nul' }], { request: http }),
      callOf('f', [{}], {
        caller: userOf('u1', {
          data: { name: 'Ada' },
          custom_data: { plan: 'pro' },
          identities: [{ id: 'u1', provider_type: 'local-token' }],
        }),
      }),
      callOf('f', [1, 'two', [3]], { via: 'admin', runAs: { system: true }, caller: systemUser() }),
      callOf('f', [], { via: 'admin', runAs: { userId: 'u\u0000x' }, caller: anonymousUser() }),
    ];
    for (const [i, request] of calls.entries()) {
      const message = across(encodeCall(i + 1, request));
      expect(typeof message).toBe('string');
      const decoded = decodeCall(message);
      expect(decoded.id).toBe(i + 1);
      expect(plain(decoded.request)).toEqual(plain(request));
    }
  });

  it('keep a __proto__ key an own key of the arguments (no prototype is changed)', () => {
    const params = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const decoded = decodeCall(across(encodeCall(1, callOf('f', [params])))).request;
    const first = decoded.args[0] as Record<string, unknown>;
    expect(Object.hasOwn(first, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('give the request headers as context.request shows them: lower-cased names, every value, in order', () => {
    const decoded = decodeCall(across(encodeCall(1, callOf('f', [{}], { request: http })))).request;
    expect(requestInfoOf(decoded.request)).toEqual({
      remoteIPAddress: '::1',
      requestHeaders: { host: ['x'], 'x-tab': ['a\tb'], cookie: ['a=1', 'b=2'] },
      httpMethod: 'POST',
      rawQueryString: 'q=%00&x=1',
    });
  });

  it('send a call with files, or with a NUL where the text form cannot carry one, as the call itself', () => {
    const withFiles = callOf('upload', [{ s: 'x' }], {
      files: { f: { name: 'a.bin', type: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]) } },
    });
    const nulInName = callOf('f\u0000g');
    const nulInHeader = callOf('f', [{}], { request: { ...http, rawHeaders: ['X-A', 'a\u0000b'] } });
    for (const request of [withFiles, nulInName, nulInHeader]) {
      const message = across(encodeCall(7, request));
      expect(typeof message).toBe('object');
      const decoded = decodeCall(message);
      expect(decoded.id).toBe(7);
      expect(decoded.request).toEqual(request);
    }
  });

  it('give every call of one caller an equal caller that no call can change for the next', () => {
    const caller = userOf('u1', { data: { n: 1 } });
    const first = decodeCall(across(encodeCall(1, callOf('f', [{}], { caller })))).request.caller;
    const second = decodeCall(across(encodeCall(2, callOf('f', [{}], { caller })))).request.caller;
    expect(second).toEqual(caller);
    expect(Object.isFrozen(first) && Object.isFrozen(first.data)).toBe(true);
    expect(() => {
      first.data.n = 2;
    }).toThrow(TypeError);
    const other = decodeCall(across(encodeCall(3, callOf('f', [{}], { caller: userOf('u2') })))).request.caller;
    expect(other.id).toBe('u2');
  });
});

describe('answer messages', () => {
  const ok = (extra: Partial<CallOutcome> = {}): CallOutcome =>
    ({
      ok: true,
      result: { kind: 'json', json: '{"a":[1,2]}' },
      logs: [],
      durationMs: 1.25,
      runAs: { userId: 'u1' },
      ...extra,
    }) as CallOutcome;
  const read = (batch: DoneBatch) => {
    const answers: { id: number; outcome: CallOutcome; recycle: boolean }[] = [];
    readDone(batch, (id, outcome, recycle) => answers.push({ id, outcome, recycle }));
    return answers;
  };

  it('carry a plain JSON answer as four plain slots and give back the same outcome', () => {
    for (const outcome of [ok(), ok({ runAs: { system: true } }), ok({ runAs: { userId: '' } })]) {
      const batch: DoneBatch = [];
      pushDone(batch, 3, outcome, false);
      expect(batch).toHaveLength(4);
      expect(batch.every((slot) => typeof slot !== 'object' || slot === null)).toBe(true);
      expect(read(across(batch))).toEqual([{ id: 3, outcome, recycle: false }]);
    }
  });

  it('carry logs, errors, responses and recycling as the whole outcome', () => {
    const outcomes: [CallOutcome, boolean][] = [
      [ok({ logs: [{ level: 'log', message: 'hi' }] }), false],
      [
        { ok: false, error: { code: 'FUNCTION_ERROR', message: 'boom', status: 500 }, logs: [], durationMs: 2, runAs: { userId: 'u1' } },
        false,
      ],
      [ok({ result: { kind: 'response', status: 201, headers: [['x-a', '1']], body: new Uint8Array([104, 105]) } }), false],
      [ok(), true],
    ];
    for (const [outcome, recycle] of outcomes) {
      const batch: DoneBatch = [];
      pushDone(batch, 4, outcome, recycle);
      expect(batch).toHaveLength(1);
      expect(read(across(batch))).toEqual([{ id: 4, outcome, recycle }]);
    }
  });

  it('give back every answer of a batch, in order, whatever their forms', () => {
    const sent: [number, CallOutcome, boolean][] = [
      [1, ok(), false],
      [2, ok({ logs: [{ level: 'warn', message: 'w' }] }), false],
      [3, ok({ runAs: { system: true } }), false],
      [
        4,
        { ok: false, error: { code: 'FUNCTION_ERROR', message: 'boom', status: 500 }, logs: [], durationMs: 2, runAs: { userId: 'u1' } },
        false,
      ],
      [5, ok({ runAs: { userId: 'u9' } }), false],
      [6, ok(), true],
    ];
    const batch: DoneBatch = [];
    for (const [id, outcome, recycle] of sent) pushDone(batch, id, outcome, recycle);
    expect(read(across(batch))).toEqual(sent.map(([id, outcome, recycle]) => ({ id, outcome, recycle })));
  });
});

describe('claims', () => {
  const claims = () => new Int32Array(new SharedArrayBuffer(CLAIM_SLOTS * 4));

  it('let a call sent ahead be started by the worker or taken back by the host, never both', () => {
    const c = claims();
    offerCall(c, 1);
    offerCall(c, 2);
    expect(claimCall(c, 1)).toBe(true);
    expect(takeBackCall(c, 1)).toBe(false);
    expect(takeBackCall(c, 2)).toBe(true);
    expect(claimCall(c, 2)).toBe(false);
    // Neither twice.
    expect(claimCall(c, 1)).toBe(false);
    expect(takeBackCall(c, 2)).toBe(false);
  });

  it('never let a call taken back match its slot again when the slot is used for a later call', () => {
    const c = claims();
    offerCall(c, 3);
    expect(takeBackCall(c, 3)).toBe(true);
    const later = 3 + CLAIM_SLOTS;
    offerCall(c, later);
    // The worker reaches the call taken back only now: it is not its to run; the later one is.
    expect(claimCall(c, 3)).toBe(false);
    expect(claimCall(c, later)).toBe(true);
  });

  it('tell the host whether a call is waiting, running or over', () => {
    const c = claims();
    offerCall(c, 7);
    expect(callState(c, 7)).toBe('waiting');
    claimCall(c, 7);
    expect(callState(c, 7)).toBe('running');
    finishCall(c, 7);
    expect(callState(c, 7)).toBe('over');
    // Over, it cannot be taken back.
    expect(takeBackCall(c, 7)).toBe(false);
  });

  it('count up from 1 and wrap within Int32, skipping 0', () => {
    expect(nextClaim(0)).toBe(1);
    expect(nextClaim(41)).toBe(42);
    expect(nextClaim(0x7fffffff)).toBe(1);
  });
});
