// The client API on fn serve: auth/ files pushed with the app, users kept in the data dir across
// a restart, and the forwarded host of a trusted proxy in location.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Realm from 'realm-web';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, tempDir } from './helpers.js';
import { fnAt, startServe, type ServeProcess } from './serve-helpers.js';

let server: ServeProcess | undefined;
afterAll(async () => {
  await server?.stop();
  cleanupTemps();
});

function makeApp(): string {
  const root = tempDir('fn-realm-serve-app-');
  const write = (rel: string, value: unknown) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), JSON.stringify(value));
  };
  write('fn.config.json', { appId: 'served-app' });
  write('realm_config.json', { app_id: 'served-app', allowed_request_origins: ['https://shop.example.com'] });
  write('functions/config.json', [{ name: 'hello' }]);
  writeFileSync(
    join(root, 'functions/hello.js'),
    'exports = function (who) { return "hello " + who + " from " + context.user.data.email; };\n',
  );
  write('auth/providers.json', {
    'local-userpass': { name: 'local-userpass', type: 'local-userpass', disabled: false, config: { autoConfirm: true } },
    'anon-user': { name: 'anon-user', type: 'anon-user', disabled: true },
  });
  return root;
}

describe('the client API on fn serve', () => {
  it('serves the pushed auth config; users and sessions survive a restart [slow]', async () => {
    const dataDir = tempDir('fn-realm-serve-data-');
    const app = makeApp();
    server = await startServe(dataDir, { args: ['--trust-proxy'] });
    const pushed = await fnAt(server, 'push', app, ['--yes', '--app-id', 'served-app']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);

    // Pages of the deployed app's allowed_request_origins may call it, before its first call too.
    const preflight = (origin: string) =>
      fetch(`${server!.url}/api/client/v2.0/app/served-app/functions/call`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    expect((await preflight('https://shop.example.com')).headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();

    const realm = new Realm.App({ id: 'served-app', baseUrl: server.url });
    await realm.emailPasswordAuth.registerUser({ email: 'ann@example.com', password: 'hunter22' });
    const ann = await realm.logIn(Realm.Credentials.emailPassword('ann@example.com', 'hunter22'));
    expect(await ann.callFunction('hello', 'you')).toBe('hello you from ann@example.com');
    // A disabled provider refuses.
    await expect(realm.logIn(Realm.Credentials.anonymous(false))).rejects.toMatchObject({ errorCode: 'AuthProviderNotFound' });
    const users = join(server.dataDir, 'users', 'served-app.json');
    expect(existsSync(users)).toBe(true);
    expect(statSync(users).mode & 0o777).toBe(0o600);

    const location = await fetch(`${server.url}/api/client/v2.0/app/served-app/location`, {
      headers: { 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https' },
    });
    expect(await location.json()).toMatchObject({ hostname: 'https://api.example.com', ws_hostname: 'wss://api.example.com' });

    // A session ended before the restart stays ended, its access token with it.
    await realm.emailPasswordAuth.registerUser({ email: 'bea@example.com', password: 'hunter22' });
    const bea = await realm.logIn(Realm.Credentials.emailPassword('bea@example.com', 'hunter22'));
    const beaAccess = bea.accessToken!;
    await bea.logOut();

    // A new process: the refresh token still opens a session (the user store is on disk).
    await server.stop();
    server = await startServe(dataDir);
    const refreshed = await fetch(`${server.url}/api/client/v2.0/auth/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ann.refreshToken}` },
    });
    expect(refreshed.status).toBe(201);
    const { access_token } = (await refreshed.json()) as { access_token: string };
    const call = await fetch(`${server.url}/api/client/v2.0/app/served-app/functions/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hello', arguments: ['again'] }),
    });
    expect(call.status).toBe(200);
    expect(call.headers.get('content-type')).toBe('application/json');
    expect(await call.json()).toBe('hello again from ann@example.com');
    const ended = await fetch(`${server.url}/api/client/v2.0/app/served-app/functions/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${beaAccess}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hello', arguments: ['again'] }),
    });
    expect(ended.status).toBe(401);
    expect(await ended.json()).toMatchObject({ error_code: 'InvalidSession' });
  });
});
