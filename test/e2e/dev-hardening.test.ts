// fn dev's connection limits and its checks of Host and Origin, with real sockets on 127.0.0.1
// against the built CLI: --headers-timeout, --request-timeout, --max-connections, --allow-origin.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture } from './helpers.js';
import { callFunction, rawRequest, startDev, type DevServer } from './dev-helpers.js';

/** A socket to the server, with what it received and when it was closed. */
function openSocket(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host: hostname, port: Number(port) });
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now())));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

describe('fn dev --headers-timeout 1000 --request-timeout 2000 --allow-origin https://app.example.com --allow-host fn.example.com', () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDev(copyFixture('dev/app'), [
      '--no-watch',
      '--headers-timeout',
      '1000',
      '--request-timeout',
      '2000',
      '--allow-origin',
      'https://app.example.com',
      '--allow-host',
      'fn.example.com',
    ]);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('closes a socket that trickles its headers once the headers timeout is past (408)', async () => {
    const { port } = new URL(dev.url);
    const { socket, received, closed } = await openSocket(dev.url);
    const started = Date.now();
    socket.write(`POST /api/apps/${dev.appId}/functions/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write('x-slow: 1\r\n'), 200);
    const at = await closed;
    clearInterval(trickle);
    // 1 s of timeout, checked every 0.5 s: far from both the 200 ms between bytes and forever.
    expect(at - started).toBeGreaterThan(800);
    expect(at - started).toBeLessThan(5000);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a socket that trickles its body once the request timeout is past', async () => {
    const { port } = new URL(dev.url);
    const { socket, received, closed } = await openSocket(dev.url);
    const started = Date.now();
    socket.write(
      `POST /api/apps/${dev.appId}/functions/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"`,
    );
    const trickle = setInterval(() => socket.writable && socket.write('x'), 200);
    const at = await closed;
    clearInterval(trickle);
    expect(at - started).toBeGreaterThan(1500);
    expect(at - started).toBeLessThan(6000);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('lets a function run longer than the request timeout: it bounds receiving the request only', async () => {
    const r = await callFunction(dev, 'limits/wait', { ms: 2500 });
    expect(r.status).toBe(200);
    expect(r.json).toBe('waited');
  });

  it('answers 403 to a Host that does not name the server (DNS rebinding), and serves localhost', async () => {
    const { port } = new URL(dev.url);
    const path = `/api/apps/${dev.appId}/functions/echo`;
    const body = '{}';
    for (const host of ['evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await rawRequest(dev.url, { path, headers: { host, 'content-type': 'application/json' }, body });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.text).error.code).toBe('HOST_NOT_ALLOWED');
    }
    // A tunnel or a port mapping changes the port, never the name: any port is taken.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, 'localhost:9', 'fn.example.com']) {
      const r = await rawRequest(dev.url, { path, headers: { host, 'content-type': 'application/json' }, body });
      expect(r.status, host).toBe(200);
    }
  });

  it('refuses simple cross-origin requests (text/plain, urlencoded, multipart, none) before the function runs', async () => {
    const path = `/api/apps/${dev.appId}/functions/echo`;
    const before = dev.events.filter((e) => e.event === 'call').length;
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'Text/Plain; charset=utf-8',
      undefined,
    ]) {
      const r = await rawRequest(dev.url, {
        path,
        headers: { origin: 'https://evil.example', ...(type ? { 'content-type': type } : {}) },
        body: 'a=1',
      });
      expect(r.status, String(type)).toBe(403);
      expect(JSON.parse(r.text).error.code).toBe('ORIGIN_NOT_ALLOWED');
    }
    const nul = await rawRequest(dev.url, { path, headers: { origin: 'null', 'content-type': 'text/plain' }, body: '{}' });
    expect(nul.status).toBe(403);
    // One call that does run, so its line shows the refused ones printed none.
    expect((await callFunction(dev, 'echo', { marker: 1 })).status).toBe(200);
    const line = await dev.waitFor(
      (e) => e.event === 'call' && (e.entry as { arguments?: [{ marker?: number }] }).arguments?.[0]?.marker === 1,
    );
    expect(line).toBeDefined();
    expect(dev.events.filter((e) => e.event === 'call').length).toBe(before + 1);
  });

  it('serves pages of an allowed origin and local pages: simple requests, preflights and JSON calls', async () => {
    const path = `/api/apps/${dev.appId}/functions/echo`;
    for (const origin of ['https://app.example.com', 'http://localhost:5173']) {
      const simple = await rawRequest(dev.url, { path, headers: { origin, 'content-type': 'text/plain' }, body: '{"a":1}' });
      expect(simple.status, origin).toBe(200);
      expect(simple.headers['access-control-allow-origin']).toBe(origin);
      const preflight = await rawRequest(dev.url, {
        method: 'OPTIONS',
        path,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(origin);
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('content-type');
      const json = await rawRequest(dev.url, { path, headers: { origin, 'content-type': 'application/json' }, body: '{"a":2}' });
      expect(json.status).toBe(200);
      expect(JSON.parse(json.text).params).toEqual({ a: 2 });
    }
    // No Origin at all (the SDK from Node, curl): served.
    expect((await rawRequest(dev.url, { path, headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(200);
  });
});

describe('fn dev --max-connections 4', () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDev(copyFixture('dev/app'), ['--no-watch', '--max-connections', '4']);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('closes connections over the cap at once, and serves calls again once the others go', async () => {
    const held = await Promise.all([1, 2, 3, 4].map(() => openSocket(dev.url)));
    // Let the server take the four before the fifth comes.
    await new Promise((r) => setTimeout(r, 300));
    const over = await openSocket(dev.url);
    const { port } = new URL(dev.url);
    over.socket.write(`POST /api/apps/${dev.appId}/functions/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 2\r\n\r\n{}`);
    const started = Date.now();
    const at = await over.closed;
    expect(at - started).toBeLessThan(3000);
    expect(over.received()).toBe('');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // The server sees them go on its next turn.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = await callFunction(dev, 'echo', {}).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
