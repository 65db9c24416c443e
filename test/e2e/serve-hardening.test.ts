// fn serve takes the connection flags of fn dev and checks Host the same way (real sockets on
// 127.0.0.1 against the built CLI).
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, tempDir } from './helpers.js';
import { rawRequest } from './dev-helpers.js';
import { startServe, type ServeProcess } from './serve-helpers.js';

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

describe('fn serve --headers-timeout 1000 --max-connections 4', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe(tempDir('fn-serve-hardening-'), { args: ['--headers-timeout', '1000', '--max-connections', '4'] });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupTemps();
  });

  it('closes a socket that has not sent its headers in time (408)', async () => {
    const { socket, received, closed } = await openSocket(server.url);
    const started = Date.now();
    socket.write('GET /api/health HTTP/1.1\r\n');
    const at = await closed;
    expect(at - started).toBeGreaterThan(800);
    expect(at - started).toBeLessThan(5000);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 403 to a Host that does not name it, and serves localhost', async () => {
    expect((await rawRequest(server.url, { method: 'GET', path: '/api/health', headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await rawRequest(server.url, { method: 'GET', path: '/api/health', headers: { host: 'localhost' } })).status).toBe(200);
  });

  it('closes connections over the cap at once', async () => {
    const held = await Promise.all([1, 2, 3, 4].map(() => openSocket(server.url)));
    await new Promise((r) => setTimeout(r, 300));
    const over = await openSocket(server.url);
    over.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const started = Date.now();
    const at = await over.closed;
    expect(at - started).toBeLessThan(3000);
    expect(over.received()).toBe('');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = await rawRequest(server.url, { method: 'GET', path: '/api/health' }).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
