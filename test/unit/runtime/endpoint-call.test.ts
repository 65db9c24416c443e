// An endpoint call's request and response objects, and the answer made of them.
import { describe, expect, it } from 'vitest';
import { loadBson } from '../../../src/runtime/atlas.js';
import { canonicalHeaderName, startEndpointCall } from '../../../src/runtime/endpoint-call.js';
import type { EndpointCall, HttpInfo } from '../../../src/runtime/types.js';

const http: HttpInfo = {
  remoteIPAddress: '127.0.0.1',
  rawHeaders: ['content-type', 'text/plain', 'X-Two', 'a', 'x-two', 'b'],
  httpMethod: 'POST',
  rawQueryString: 'q=1',
};
const call = (over: Partial<EndpointCall> = {}): EndpointCall => ({
  body: new TextEncoder().encode('hello'),
  query: { q: '1' },
  format: 'JSON',
  respondResult: true,
  webhook: false,
  ...over,
});
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('startEndpointCall', () => {
  it('builds request: headers grouped under canonical names, body a Binary with text()', () => {
    const { args } = startEndpointCall(call(), http);
    const request = args[0] as { headers: Record<string, string[]>; query: unknown; body: { text(): string } };
    expect(request.headers).toEqual({ 'Content-Type': ['text/plain'], 'X-Two': ['a', 'b'] });
    expect(request.query).toEqual({ q: '1' });
    expect(request.body).toBeInstanceOf(loadBson().Binary);
    expect(request.body.text()).toBe('hello');
    expect((startEndpointCall(call({ body: null }), http).args[0] as { body: unknown }).body).toBeUndefined();
  });

  it('answers the return value as JSON or canonical EJSON, unless a body was set', () => {
    const value = { n: 1, d: new Date(0) };
    const json = startEndpointCall(call(), http).result(value);
    expect(json).toMatchObject({ kind: 'response', status: 200, headers: [['content-type', 'application/json']] });
    expect(text((json as { body: Uint8Array }).body)).toBe('{"n":1,"d":"1970-01-01T00:00:00.000Z"}');
    const ejson = startEndpointCall(call({ format: 'EJSON' }), http).result(value);
    expect(text((ejson as { body: Uint8Array }).body)).toBe('{"n":{"$numberInt":"1"},"d":{"$date":{"$numberLong":"0"}}}');
    const run = startEndpointCall(call(), http);
    const response = run.args[1] as { setBody(v: unknown): void; setStatusCode(c: number): void };
    response.setStatusCode(202);
    response.setBody('set');
    const set = run.result({ ignored: true }) as { status: number; body: Uint8Array; headers: unknown[] };
    expect([set.status, text(set.body), set.headers]).toEqual([202, 'set', []]);
  });

  it('gives a webhook that touched response no return-value body; respond_result false is 204', () => {
    const hook = startEndpointCall(call({ webhook: true }), http);
    (hook.args[1] as { setStatusCode(c: number): void }).setStatusCode(200);
    expect(text((hook.result('x') as { body: Uint8Array }).body)).toBe('');
    // An endpoint falls back to the return value even after setStatusCode.
    const endpoint = startEndpointCall(call(), http);
    (endpoint.args[1] as { setStatusCode(c: number): void }).setStatusCode(200);
    expect(text((endpoint.result('x') as { body: Uint8Array }).body)).toBe('"x"');
    expect(startEndpointCall(call({ respondResult: false }), http).result({ a: 1 })).toMatchObject({ status: 204, headers: [] });
  });

  it('setHeader replaces, addHeader appends; bad input throws', () => {
    const run = startEndpointCall(call(), http);
    const r = run.args[1] as {
      setHeader(n: unknown, v: unknown): void;
      addHeader(n: unknown, v: unknown): void;
      setStatusCode(c: unknown): void;
    };
    r.addHeader('X-A', '1');
    r.addHeader('x-a', '2');
    r.setHeader('X-B', '1');
    r.setHeader('X-B', '2');
    expect((run.result(undefined) as { headers: unknown }).headers).toEqual([
      ['x-a', '1'],
      ['x-a', '2'],
      ['x-b', '2'],
    ]);
    expect(() => r.setStatusCode(99)).toThrow(/not an HTTP status/);
    expect(() => r.setHeader('bad name', 'x')).toThrow(/not a header name/);
    expect(() => r.addHeader('X-C', 'a\r\nb')).toThrow(/line break/);
  });

  it('canonicalHeaderName', () => {
    expect(canonicalHeaderName('x-forwarded-for')).toBe('X-Forwarded-For');
    expect(canonicalHeaderName('ACCEPT')).toBe('Accept');
  });
});
