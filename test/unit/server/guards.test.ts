import { describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import { CONNECTION_DEFAULTS, connectionLimitsFrom, hostAllowed, originAllowed } from '../../../src/server/http.js';

describe('hostAllowed', () => {
  it('bound to loopback, takes only the names localhost, 127.0.0.1 and [::1], on any port', () => {
    for (const bound of ['127.0.0.1', 'localhost', '::1']) {
      for (const host of ['localhost:8787', '127.0.0.1:8787', '[::1]:8787', 'LocalHost:8787', 'localhost', 'localhost:9000'])
        expect(hostAllowed(host, bound), `${bound} ${host}`).toBe(true);
      for (const host of [
        'evil.example:8787',
        'evil.example',
        '127.0.0.1.nip.io:8787',
        'localhost.evil.example',
        ':8787',
        'localhost:8787:1',
        '[::2]:8787',
      ])
        expect(hostAllowed(host, bound), `${bound} ${host}`).toBe(false);
    }
    expect(hostAllowed('127.0.0.2:9000', '127.0.0.2')).toBe(true);
    // No Host header (HTTP/1.0): nothing to check.
    expect(hostAllowed(undefined, '127.0.0.1')).toBe(true);
  });

  it('takes the names given with --allow-host (a reverse proxy), or any with *', () => {
    expect(hostAllowed('fn.example.com', '127.0.0.1', new Set(['fn.example.com']))).toBe(true);
    expect(hostAllowed('fn.example.com:443', '127.0.0.1', new Set(['fn.example.com']))).toBe(true);
    expect(hostAllowed('other.example.com', '127.0.0.1', new Set(['fn.example.com']))).toBe(false);
    expect(hostAllowed('other.example.com', '127.0.0.1', new Set(['*']))).toBe(true);
  });

  it('bound to every address or a name, takes any Host', () => {
    for (const bound of ['0.0.0.0', '::', 'fn.internal', '10.0.0.5']) expect(hostAllowed('anything.example:1', bound)).toBe(true);
  });
});

describe('originAllowed', () => {
  it('allows local pages on any port and the origins given, nothing else', () => {
    const given = new Set(['https://app.example.com']);
    for (const o of ['http://localhost:5173', 'http://127.0.0.1', 'http://[::1]:3000', 'https://app.example.com'])
      expect(originAllowed(o, given), o).toBe(true);
    for (const o of [
      'https://evil.example',
      'null',
      'http://localhost.evil.example',
      'https://app.example.com.evil.example',
      'http://app.example.com',
    ])
      expect(originAllowed(o, given), o).toBe(false);
    expect(originAllowed('https://evil.example', new Set(['*']))).toBe(true);
  });
});

describe('connectionLimitsFrom', () => {
  it('takes the defaults, and the flags given', () => {
    expect(connectionLimitsFrom({})).toEqual(CONNECTION_DEFAULTS);
    expect(connectionLimitsFrom({ maxConnections: 10, headersTimeout: 500, requestTimeout: 1000, keepAliveTimeout: 200 })).toEqual({
      maxConnections: 10,
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      keepAliveTimeoutMs: 200,
    });
  });

  it('shortens the default headers timeout to a shorter --request-timeout, and refuses a longer --headers-timeout', () => {
    expect(connectionLimitsFrom({ requestTimeout: 3000 }).headersTimeoutMs).toBe(3000);
    expect(() => connectionLimitsFrom({ requestTimeout: 3000, headersTimeout: 4000 })).toThrow(FnError);
  });
});
