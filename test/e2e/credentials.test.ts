// Service keys go only where they were given for: a capture server named by a repository's
// fn.config.json never sees FN_SERVICE_KEY, and sees a key bound to it with fn login.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fnProcess, makeApp, tempDir } from './helpers.js';

let server: Server;
let url = '';
/** The Authorization header of every request the capture server got. */
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    req.resume();
    req.on('end', () => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'NO_DEPLOYMENT', message: 'nothing deployed' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  cleanupTemps();
});

const app = () =>
  makeApp({
    'fn.config.json': JSON.stringify({ appId: 'shop', remotes: { local: { url }, staging: { url: `${url}/` } } }),
    'functions/config.json': JSON.stringify([{ name: 'hello' }]),
    'functions/hello.js': 'exports = function () { return 1; };\n',
  });

describe('service keys and the servers they go to', () => {
  it('FN_SERVICE_KEY never reaches a server only fn.config.json names; a bound key does', async () => {
    const dir = app();
    const home = tempDir();
    mkdirSync(join(home, 'cfg'));
    const credentials = join(home, 'cfg', 'fn', 'credentials.json');
    const env = {
      FN_SERVICE_KEY: 'env-secret',
      FN_URL: undefined,
      FN_APP_ID: undefined,
      FN_TOKEN: undefined,
      XDG_CONFIG_HOME: join(home, 'cfg'),
      FN_CREDENTIALS: undefined,
      HOME: home,
    };

    seen.length = 0;
    for (const args of [['push', '--dry-run'], ['push', '--dry-run', '--remote', 'staging'], ['pull', '--dry-run'], ['deployments']]) {
      const r = await fnProcess(args, { cwd: dir, env });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`FN_SERVICE_KEY is not sent to ${url}`);
      expect(r.stderr).toContain(`fn login --url ${url}`);
    }
    expect(seen).toEqual([]);

    // A URL the user types gets the key.
    const typed = await fnProcess(['push', '--dry-run', '--url', url], { cwd: dir, env });
    expect(typed.exitCode).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h === 'Bearer env-secret')).toBe(true);

    // Bound with fn login: the repository-named remote gets that key, and FN_SERVICE_KEY stays home.
    const login = await fnProcess(['login', '--url', url, '--service-key', 'bound-secret'], { cwd: dir, env });
    expect(login.stderr).toBe('');
    expect(login.exitCode).toBe(0);
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(credentials, 'utf8'))).toEqual({ serviceKeys: { [url]: 'bound-secret' } });
    seen.length = 0;
    const bound = await fnProcess(['push', '--dry-run'], { cwd: dir, env });
    expect(bound.exitCode).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h === 'Bearer bound-secret')).toBe(true);

    const logout = await fnProcess(['login', '--url', url, '--remove'], { cwd: dir, env });
    expect(logout.exitCode).toBe(0);
    seen.length = 0;
    expect((await fnProcess(['push', '--dry-run'], { cwd: dir, env })).exitCode).toBe(2);
    expect(seen).toEqual([]);
  }, 60_000);
});
