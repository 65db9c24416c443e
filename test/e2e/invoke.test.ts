// fn invoke end to end: the built CLI against a running `fn dev` (a temp copy of
// test/fixtures/invoke/app on 127.0.0.1, port 0) and --local in-process. Each way of giving data,
// files as multipart, each caller, private and denied functions, name checks, every exit code,
// --json, where the server comes from (flags, FN_*, fn.config.json remotes), --timeout, text
// replies, and secrets never printed. Failures that must happen before any request are run
// against a dead URL: a request would have turned them into exit 4.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startDev, userToken, type DevServer } from './dev-helpers.js';
import { bin, cleanupTemps, copyFixture, fixturesDir, fn, makeApp, tempDir, type RunResult } from './helpers.js';

const APP_ID = 'invokeapp';
const WRONG_KEY = 'wrong-service-key-7f3a9c';

let dev: DevServer;
/** An app copy whose fn.config.json points its remotes at the dev server (the calls run here). */
let client: string;
/** An app copy whose default `local` remote is a dead URL. */
let deadClient: string;
/** A folder with no app above it. */
let outside: string;
let deadUrl: string;
let plainToken: string;
let adminToken: string;
/** Never printed by any invoke. */
let secrets: string[] = [];

async function freePortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const CLEAN_ENV = { FN_URL: undefined, FN_APP_ID: undefined, FN_TOKEN: undefined, FN_SERVICE_KEY: undefined };

/** `fn invoke ...args` (in the client app unless told); throws if any secret shows up in the output. */
async function invoke(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string | undefined>; stripFinalNewline?: boolean } = {},
): Promise<RunResult> {
  const r = await fn(['invoke', ...args], {
    cwd: options.cwd ?? client,
    input: options.input ?? '',
    env: { ...CLEAN_ENV, ...options.env },
    ...(options.stripFinalNewline === false ? { stripFinalNewline: false } : {}),
  });
  // No test expects an internal error (exit 70): show its stderr rather than a bare exit code.
  if (r.exitCode === 70) throw new Error(`fn invoke ${args.join(' ')} hit an internal error:\n${r.stderr}`);
  for (const secret of secrets) {
    if (r.stdout.includes(secret) || r.stderr.includes(secret))
      throw new Error(`fn invoke ${args.join(' ')} printed a secret:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

const dataOf = (r: RunResult): any => JSON.parse(r.stdout);

beforeAll(async () => {
  dev = await startDev(copyFixture('invoke/app'));
  deadUrl = await freePortUrl();
  client = copyFixture('invoke/app');
  writeFileSync(
    join(client, 'fn.config.json'),
    JSON.stringify({
      appId: APP_ID,
      remotes: {
        local: { url: dev.url },
        staging: { url: `${dev.url}/`, appId: APP_ID },
        otherApp: { url: dev.url, appId: 'nosuchapp' },
      },
    }),
  );
  copyFileSync(join(fixturesDir, 'invoke', 'note.txt'), join(client, 'note.txt'));
  copyFileSync(join(fixturesDir, 'invoke', 'pixel.png'), join(client, 'pixel.png'));
  writeFileSync(join(client, 'blob.weird'), 'zz');
  writeFileSync(join(client, 'params.json'), '{\n  "from": "file",\n  "n": [1, 2]\n}\n');
  writeFileSync(join(client, 'bad.json'), '{\n  "a": 1,\n  "b": oops\n}\n');
  deadClient = copyFixture('invoke/app');
  writeFileSync(join(deadClient, 'fn.config.json'), JSON.stringify({ appId: APP_ID, remotes: { local: { url: deadUrl } } }));
  outside = tempDir('fn-invoke-outside-');
  plainToken = await userToken(dev, 'u-tok');
  adminToken = await userToken(dev, 'u-admin', { custom_data: { role: 'admin' } });
  secrets = [dev.serviceKey, WRONG_KEY, plainToken, adminToken];
});

afterAll(async () => {
  await dev?.stop();
  cleanupTemps();
});

describe.concurrent('fn invoke: the data', () => {
  it('takes --data as the named parameters and prints the reply, compact, on stdout', async ({ expect }) => {
    const r = await invoke(['echo', '--data', '{"items":[1,2],"nested":{"a":null},"s":"x"}'], { stripFinalNewline: false });
    expect(r.exitCode).toBe(0);
    const expected = { params: { items: [1, 2], nested: { a: null }, s: 'x' }, user: 'anonymous', type: 'normal', system: false };
    expect(r.stdout).toBe(JSON.stringify(expected) + '\n');
    expect(r.stderr).toMatch(/200 echo \(anonymous, http:\/\/127\.0\.0\.1:\d+\) in \d+ms/);
  });

  it('reads --data @file relative to the working folder', async ({ expect }) => {
    const r = await invoke(['echo', '--data', '@params.json']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).params).toEqual({ from: 'file', n: [1, 2] });
  });

  it('reads --data - from standard input', async ({ expect }) => {
    const r = await invoke(['echo', '--data', '-'], { input: '{"from":"stdin"}\n' });
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).params).toEqual({ from: 'stdin' });
  });

  it('sends no parameters without --data: the function gets {}', async ({ expect }) => {
    const r = await invoke(['echo']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).params).toEqual({});
  });

  it('refuses data that is not JSON with the position of the error, before any request (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', '{"a":}']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--data is not JSON');
    expect(r.stderr).toContain('line 1, column 6');
  });

  it('gives the line and column of an error in a --data @file', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', '@bad.json']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('bad.json is not JSON');
    expect(r.stderr).toContain('line 3, column 8');
  });

  it('refuses standard input that is not JSON (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', '-'], { input: '{"s":' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('standard input is not JSON');
    expect(r.stderr).toMatch(/line \d+, column \d+/);
  });

  it('refuses empty data (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', '']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is not JSON');
  });

  it('refuses JSON with comments or trailing commas: data is JSON, not JSONC (exit 2)', async ({ expect }) => {
    for (const text of ['{/* c */ "a": 1}', '{"a": 1,}']) {
      const r = await invoke(['echo', '--url', deadUrl, '--data', text]);
      expect(r.exitCode, text).toBe(2);
      expect(r.stderr, text).toContain('is not JSON');
    }
  });

  it.for([
    ['[1,2]', 'an array'],
    ['"text"', '"text"'],
    ['42', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ] as const)('refuses %s: the data must be a JSON object (exit 2)', async ([text, shown], { expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', text]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`--data must be a JSON object of named parameters, not ${shown}`);
  });

  it('refuses an unreadable --data @file (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--data', '@missing.json']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('cannot read missing.json (ENOENT)');
  });
});

describe.concurrent('fn invoke: files (multipart, as the SDK sends a File)', () => {
  it('sends file parts with name and type, objects as JSON strings, other values as strings', async ({ expect }) => {
    const r = await invoke([
      'upload',
      '--file',
      'doc=./note.txt',
      '--file',
      'img=@pixel.png',
      '--data',
      '{"userId":"u1","meta":{"a":[1]},"list":[1,"two"],"n":5,"flag":true,"nil":null,"empty":""}',
    ]);
    expect(r.exitCode).toBe(0);
    const out = dataOf(r);
    expect(out.doc).toEqual({ file: true, name: 'note.txt', size: 18, type: 'text/plain', text: 'hello file content' });
    expect(out.img).toMatchObject({ file: true, name: 'pixel.png', size: 67, type: 'image/png' });
    expect(out.userId).toEqual({ file: false, type: 'string', value: 'u1' });
    expect(out.meta).toEqual({ file: false, type: 'string', value: '{"a":[1]}' });
    expect(out.list).toEqual({ file: false, type: 'string', value: '[1,"two"]' });
    expect(out.n).toEqual({ file: false, type: 'string', value: '5' });
    expect(out.flag).toEqual({ file: false, type: 'string', value: 'true' });
    expect(out.nil).toEqual({ file: false, type: 'string', value: 'null' });
    expect(out.empty).toEqual({ file: false, type: 'string', value: '' });
  });

  it('sends a file of an unknown extension as application/octet-stream, with no --data', async ({ expect }) => {
    const r = await invoke(['upload', '--file', 'blob=blob.weird']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toEqual({ blob: { file: true, name: 'blob.weird', size: 2, type: 'application/octet-stream', text: 'zz' } });
  });

  it('refuses a --file that is not <param>=<path>, or that cannot be read (exit 2)', async ({ expect }) => {
    const bad = await invoke(['upload', '--url', deadUrl, '--file', 'note.txt']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--file note.txt is not <param>=<path>');
    const missing = await invoke(['upload', '--url', deadUrl, '--file', 'doc=missing.txt']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('cannot read missing.txt');
  });
});

describe.concurrent('fn invoke: who calls', () => {
  it('calls anonymously by default', async ({ expect }) => {
    const r = await invoke(['echo']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toMatchObject({ user: 'anonymous', type: 'normal', system: false });
    expect(r.stderr).toContain('(anonymous, ');
  });

  it('calls with --token: a token from the admin token route', async ({ expect }) => {
    const r = await invoke(['echo', '--token', plainToken]);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toMatchObject({ user: 'u-tok', type: 'normal', system: false });
  });

  it('calls with FN_TOKEN', async ({ expect }) => {
    const r = await invoke(['echo'], { env: { FN_TOKEN: plainToken } });
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).user).toBe('u-tok');
  });

  it('calls as --user <id>, asking the server for a token with --service-key', async ({ expect }) => {
    const r = await invoke(['echo', '--user', 'u2', '--service-key', dev.serviceKey]);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toMatchObject({ user: 'u2', type: 'normal', system: false });
    expect(r.stderr).toContain('(user u2, ');
  });

  it('calls as --user <id> with FN_SERVICE_KEY, sent only to a server named by --url', async ({ expect }) => {
    const r = await invoke(['echo', '--user', 'u3', '--url', dev.url], { env: { FN_SERVICE_KEY: dev.serviceKey } });
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).user).toBe('u3');
    // The "local" remote of fn.config.json names the server: the key stays home, and the error says how to bind it.
    const withheld = await invoke(['echo', '--user', 'u3'], { env: { FN_SERVICE_KEY: dev.serviceKey } });
    expect(withheld.exitCode).toBe(2);
    expect(withheld.stderr).toContain(`FN_SERVICE_KEY is not sent to ${dev.url}`);
    expect(withheld.stderr).toContain(`fn login --url ${dev.url}`);
  });

  it('calls with --service-role and --service-key, or FN_SERVICE_KEY: the system user', async ({ expect }) => {
    for (const run of [
      invoke(['echo', '--service-role', '--service-key', dev.serviceKey]),
      invoke(['echo', '--service-role', '--url', dev.url], { env: { FN_SERVICE_KEY: dev.serviceKey } }),
    ]) {
      const r = await run;
      expect(r.exitCode).toBe(0);
      expect(dataOf(r)).toMatchObject({ user: '', type: 'system', system: true });
      expect(r.stderr).toContain('(service role, ');
    }
  });

  it('refuses --service-role and --user without a service key, before any request (exit 2)', async ({ expect }) => {
    const role = await invoke(['echo', '--url', deadUrl, '--service-role']);
    expect(role.exitCode).toBe(2);
    expect(role.stderr).toContain('--service-role needs the service key');
    const user = await invoke(['echo', '--url', deadUrl, '--user', 'u1']);
    expect(user.exitCode).toBe(2);
    expect(user.stderr).toContain('--user needs the service key');
  });

  it('refuses two callers at once (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl, '--token', plainToken, '--user', 'u1', '--service-key', dev.serviceKey]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--token and --user cannot be used together');
  });

  it("stops a private function before the request, naming --service-role (exit 1, as the server's 404 gives)", async ({ expect }) => {
    for (const extra of [[], ['--user', 'u1', '--service-key', dev.serviceKey], ['--token', plainToken]]) {
      const r = await invoke(['privateHelper', '--url', deadUrl, ...extra]);
      expect(r.exitCode, extra.join(' ')).toBe(1);
      expect(r.stderr).toContain('"privateHelper" is private');
      expect(r.stderr).toContain('--service-role');
    }
  });

  it('calls a private function with --service-role', async ({ expect }) => {
    const r = await invoke(['privateHelper', '--service-role', '--service-key', dev.serviceKey]);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toEqual({ helper: true, user: '', system: true });
  });

  it('shows a can_evaluate refusal as 403 with a hint (exit 1); the right user or the service role passes', async ({ expect }) => {
    const denied = await invoke(['gates/adminRole', '--user', 'u1', '--service-key', dev.serviceKey]);
    expect(denied.exitCode).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain('403 EXECUTION_DENIED');
    expect(denied.stderr).toContain('can_evaluate');
    const anonymous = await invoke(['gates/adminRole']);
    expect(anonymous.exitCode).toBe(1);
    const admin = await invoke(['gates/adminRole', '--token', adminToken]);
    expect(admin.exitCode).toBe(0);
    expect(dataOf(admin)).toEqual({ gate: 'adminRole', user: 'u-admin' });
    const role = await invoke(['gates/adminRole', '--service-role', '--service-key', dev.serviceKey]);
    expect(role.exitCode).toBe(0);
  });

  it('evaluates can_evaluate on the data sent (%%args)', async ({ expect }) => {
    const yes = await invoke(['gates/argX', '--data', '{"x":1}']);
    expect(yes.exitCode).toBe(0);
    expect(dataOf(yes)).toEqual({ gate: 'argX', x: 1 });
    const no = await invoke(['gates/argX', '--data', '{"x":2}']);
    expect(no.exitCode).toBe(1);
    expect(no.stderr).toContain('403 EXECUTION_DENIED');
  });

  it('runs a run_as_system function as system for an anonymous caller', async ({ expect }) => {
    const r = await invoke(['runas/system']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toEqual({ user: 'anonymous', system: true });
  });
});

describe.concurrent('fn invoke: names', () => {
  it("stops an unknown name before the request and suggests the nearest (exit 1, as fn remove and the server's 404 give)", async ({
    expect,
  }) => {
    const r = await invoke(['ehco', '--url', deadUrl]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('there is no function "ehco" in functions/config.json');
    expect(r.stderr).toContain('did you mean "echo"?');
    const nested = await invoke(['reports/monthy', '--url', deadUrl]);
    expect(nested.exitCode).toBe(1);
    const far = await invoke(['zzzzzzzzzzzz', '--url', deadUrl]);
    expect(far.exitCode).toBe(1);
    expect(far.stderr).toContain('fn list lists the functions');
    expect(nested.stderr).toContain('did you mean "reports/monthly"?');
  });

  it('calls a nested name and a name with a space', async ({ expect }) => {
    const nested = await invoke(['reports/monthly', '--data', '{"month":"2024-01"}']);
    expect(nested.exitCode).toBe(0);
    expect(dataOf(nested)).toEqual({ report: 'monthly', month: '2024-01' });
    const spaced = await invoke(['with space']);
    expect(spaced.exitCode).toBe(0);
    expect(dataOf(spaced)).toEqual({ spaced: true });
  });

  it('outside an app, leaves names to the server: an unknown or private name is its 404 (exit 1)', async ({ expect }) => {
    for (const name of ['nope', 'privateHelper']) {
      const r = await invoke([name, '--url', dev.url, '--app-id', APP_ID], { cwd: outside });
      expect(r.exitCode, name).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('404 FUNCTION_NOT_FOUND');
    }
  });
});

describe.concurrent('fn invoke: exit codes and replies', () => {
  it('exit 1 when the function throws: the error body on stderr, nothing on stdout', async ({ expect }) => {
    const r = await invoke(['throws']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('500 FUNCTION_ERROR');
    expect(r.stderr).toContain('boom from throws');
  });

  it('exit 1 when the function answers a 4xx Response: its text on stderr', async ({ expect }) => {
    const r = await invoke(['teapot']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('418');
    expect(r.stderr).toContain('short and stout');
  });

  it('prints a text reply exactly as it is', async ({ expect }) => {
    const r = await invoke(['plain'], { stripFinalNewline: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('plain');
    expect(r.stderr).toContain('200 plain');
  });

  it('exit 2 for an unknown flag', async ({ expect }) => {
    const r = await invoke(['echo', '--bogus']);
    expect(r.exitCode).toBe(2);
  });

  it('exit 3 for --local outside an app', async ({ expect }) => {
    const r = await invoke(['echo', '--local'], { cwd: outside });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('--local needs the app');
  });

  it('exit 3 when there is no app id anywhere; --app-id or FN_APP_ID is enough outside an app', async ({ expect }) => {
    const none = await invoke(['echo', '--url', dev.url], { cwd: outside });
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toContain('no app id');
    const flag = await invoke(['echo', '--url', dev.url, '--app-id', APP_ID], { cwd: outside });
    expect(flag.exitCode).toBe(0);
  });

  it('exit 4 with "is fn dev running?" when the default local remote is down', async ({ expect }) => {
    const r = await invoke(['echo'], { cwd: deadClient });
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot reach ${deadUrl}`);
    expect(r.stderr).toContain('is fn dev running?');
  });

  it('exit 4 when an explicit --url is down, pointing at the URL instead', async ({ expect }) => {
    const r = await invoke(['echo', '--url', deadUrl]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`cannot reach ${deadUrl}`);
    expect(r.stderr).toContain('check --url');
  });

  it('exit 4 when the server refuses the token, the service key, or the key behind --user (401)', async ({ expect }) => {
    const token = await invoke(['echo', '--token', 'not.a.token']);
    expect(token.exitCode).toBe(4);
    expect(token.stderr).toContain('the server refused the token');
    const role = await invoke(['echo', '--service-role', '--service-key', WRONG_KEY]);
    expect(role.exitCode).toBe(4);
    expect(role.stderr).toContain('the server refused the service key');
    const user = await invoke(['echo', '--user', 'u1', '--service-key', WRONG_KEY]);
    expect(user.exitCode).toBe(4);
    expect(user.stderr).toContain('the server refused the service key');
  });

  it('exit 4 when --timeout passes before the reply, without waiting for the function', async ({ expect }) => {
    const started = Date.now();
    const r = await invoke(['sleep', '--timeout', '300', '--data', '{"ms":8000}']);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('within 300 ms');
    expect(Date.now() - started).toBeLessThan(6000);
  });
});

describe.concurrent('fn invoke --json', () => {
  it('prints exactly { ok, status, data, durationMs } on success, and nothing on stderr', async ({ expect }) => {
    const r = await invoke(['echo', '--json', '--data', '{"a":1}']);
    expect(r.exitCode).toBe(0);
    const doc = dataOf(r);
    expect(Object.keys(doc)).toEqual(['ok', 'status', 'data', 'durationMs']);
    expect(doc).toMatchObject({ ok: true, status: 200, data: { params: { a: 1 }, user: 'anonymous' } });
    expect(typeof doc.durationMs).toBe('number');
    expect(r.stderr).toBe('');
  });

  it('adds error on failure (exit 1)', async ({ expect }) => {
    const r = await invoke(['throws', '--json']);
    expect(r.exitCode).toBe(1);
    const doc = dataOf(r);
    expect(Object.keys(doc)).toEqual(['ok', 'status', 'data', 'durationMs', 'error']);
    expect(doc).toMatchObject({ ok: false, status: 500, error: { code: 'FUNCTION_ERROR' } });
    expect(doc.error.message).toContain('boom from throws');
  });

  it('puts a text reply in data as a string', async ({ expect }) => {
    const r = await invoke(['plain', '--json']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toMatchObject({ ok: true, status: 200, data: 'plain' });
  });

  it('prints a usage error as one JSON document too (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--json', '--url', deadUrl, '--data', '[1]']);
    expect(r.exitCode).toBe(2);
    expect(dataOf(r)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });
});

describe.concurrent('fn invoke: where the server is', () => {
  it('uses the local remote of fn.config.json by default', async ({ expect }) => {
    const r = await invoke(['echo']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(dev.url);
  });

  it('uses --remote <name> from fn.config.json; a trailing slash in its URL is harmless', async ({ expect }) => {
    const r = await invoke(['echo', '--remote', 'staging']);
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).user).toBe('anonymous');
  });

  it("uses the remote's appId over the app's", async ({ expect }) => {
    const r = await invoke(['echo', '--remote', 'otherApp']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('404 APP_NOT_FOUND');
    expect(r.stderr).toContain('nosuchapp');
    expect(r.stderr).toContain('does not serve this app id: pass --app-id <id>, or --url');
    expect(r.stderr).not.toContain('is the function deployed there');
  });

  it('refuses an unknown remote, listing the known ones (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--remote', 'nope']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('there is no remote "nope" in fn.config.json');
    expect(r.stderr).toContain('local, staging, otherApp');
  });

  it('takes FN_URL and FN_APP_ID outside an app', async ({ expect }) => {
    const r = await invoke(['echo'], { cwd: outside, env: { FN_URL: dev.url, FN_APP_ID: APP_ID } });
    expect(r.exitCode).toBe(0);
    expect(dataOf(r).user).toBe('anonymous');
  });

  it('accepts a --url with a trailing slash', async ({ expect }) => {
    const r = await invoke(['echo', '--url', `${dev.url}/`, '--app-id', APP_ID], { cwd: outside });
    expect(r.exitCode).toBe(0);
  });

  it('prefers --url to FN_URL, and FN_URL to fn.config.json', async ({ expect }) => {
    const flag = await invoke(['echo', '--url', dev.url], { env: { FN_URL: deadUrl } });
    expect(flag.exitCode).toBe(0);
    const env = await invoke(['echo'], { env: { FN_URL: deadUrl } });
    expect(env.exitCode).toBe(4);
    expect(env.stderr).toContain(deadUrl);
  });

  it('prefers --app-id to FN_APP_ID, and FN_APP_ID to fn.config.json', async ({ expect }) => {
    const flag = await invoke(['echo', '--app-id', APP_ID], { env: { FN_APP_ID: 'nosuchapp' } });
    expect(flag.exitCode).toBe(0);
    const env = await invoke(['echo'], { env: { FN_APP_ID: 'nosuchapp' } });
    expect(env.exitCode).toBe(1);
    expect(env.stderr).toContain('APP_NOT_FOUND');
  });

  it('refuses a URL that is not http(s) (exit 2)', async ({ expect }) => {
    const r = await invoke(['echo', '--url', 'ftp://example.com']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is not an http(s) URL');
  });
});

describe.concurrent('fn invoke --local', () => {
  it('runs in-process with no server: the result on stdout, console output on stderr', async ({ expect }) => {
    const r = await invoke(['logs', '--local', '--data', '{"n":3}'], { cwd: deadClient });
    expect(r.exitCode).toBe(0);
    expect(dataOf(r)).toEqual({ logged: 3 });
    expect(r.stdout).not.toContain('hello from logs');
    expect(r.stderr).toContain('hello from logs 3');
    expect(r.stderr).toContain('careful { n: 3 }');
    expect(r.stderr).toContain('(anonymous, local)');
  });

  it('calls as anonymous, --user <id> (no key needed) or --service-role', async ({ expect }) => {
    const anonymous = await invoke(['echo', '--local']);
    expect(dataOf(anonymous)).toMatchObject({ user: 'anonymous', type: 'normal', system: false });
    const user = await invoke(['echo', '--local', '--user', 'u9']);
    expect(user.exitCode).toBe(0);
    expect(dataOf(user)).toMatchObject({ user: 'u9', type: 'normal', system: false });
    const role = await invoke(['echo', '--local', '--service-role']);
    expect(role.exitCode).toBe(0);
    expect(dataOf(role)).toMatchObject({ user: '', type: 'system', system: true });
  });

  it('keeps private functions private: exit 1 without --service-role', async ({ expect }) => {
    const r = await invoke(['privateHelper', '--local']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('is private');
    const role = await invoke(['privateHelper', '--local', '--service-role']);
    expect(role.exitCode).toBe(0);
    expect(dataOf(role)).toEqual({ helper: true, user: '', system: true });
  });

  it('checks can_evaluate for the chosen caller; the service role skips it', async ({ expect }) => {
    const denied = await invoke(['gates/argX', '--local', '--data', '{"x":2}']);
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain('403 EXECUTION_DENIED');
    const allowed = await invoke(['gates/argX', '--local', '--data', '{"x":1}']);
    expect(allowed.exitCode).toBe(0);
    const user = await invoke(['gates/adminRole', '--local', '--user', 'u1']);
    expect(user.exitCode).toBe(1);
    const role = await invoke(['gates/adminRole', '--local', '--service-role']);
    expect(role.exitCode).toBe(0);
  });

  it('applies run-as', async ({ expect }) => {
    const r = await invoke(['runas/system', '--local']);
    expect(dataOf(r)).toEqual({ user: 'anonymous', system: true });
  });

  it('prints a text reply exactly, and a throw as exit 1', async ({ expect }) => {
    const plain = await invoke(['plain', '--local'], { stripFinalNewline: false });
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toBe('plain');
    const throws = await invoke(['throws', '--local']);
    expect(throws.exitCode).toBe(1);
    expect(throws.stdout).toBe('');
    expect(throws.stderr).toContain('boom from throws');
  });

  it('gives the --json envelope', async ({ expect }) => {
    const r = await invoke(['echo', '--local', '--json', '--user', 'u9']);
    expect(r.exitCode).toBe(0);
    const doc = dataOf(r);
    expect(Object.keys(doc)).toEqual(['ok', 'status', 'data', 'durationMs']);
    expect(doc.data.user).toBe('u9');
  });

  it('refuses --token, --url and --remote (exit 2)', async ({ expect }) => {
    for (const extra of [
      ['--token', plainToken],
      ['--url', dev.url],
      ['--remote', 'staging'],
    ]) {
      const r = await invoke(['echo', '--local', ...extra]);
      expect(r.exitCode, extra[0]).toBe(2);
      expect(r.stderr).toContain('--local runs the function here');
    }
  });

  it('gives the function the same parameters as the server call when files are sent', async ({ expect }) => {
    const args = ['upload', '--file', 'doc=note.txt', '--data', '{"n":5,"meta":{"a":1},"flag":true}'];
    const served = await invoke(args);
    const local = await invoke([...args, '--local']);
    expect(served.exitCode).toBe(0);
    expect(local.exitCode).toBe(0);
    expect(dataOf(local)).toEqual(dataOf(served));
  });
});

describe('fn invoke: secrets', () => {
  it('never prints the service key or a token, on success or on any error', async ({ expect }) => {
    const runs = await Promise.all([
      invoke(['echo', '--service-role', '--service-key', dev.serviceKey, '--json']),
      invoke(['throws', '--service-role', '--service-key', dev.serviceKey]),
      invoke(['echo', '--user', 'u1', '--service-key', WRONG_KEY, '--json']),
      invoke(['echo', '--service-role', '--service-key', WRONG_KEY]),
      invoke(['echo', '--service-role', '--service-key', dev.serviceKey, '--url', deadUrl]),
      invoke(['sleep', '--token', plainToken, '--timeout', '300', '--data', '{"ms":3000}']),
      invoke(['echo', '--service-role', '--verbose', '--url', dev.url], { env: { FN_SERVICE_KEY: WRONG_KEY } }),
      invoke(['ehco', '--user', 'u1', '--service-key', dev.serviceKey]),
    ]);
    // invoke() throws when a secret is printed; check the runs happened and failed where expected
    // (an unknown function is 1, as the server's 404 for it would be).
    expect(runs.map((r) => r.exitCode)).toEqual([0, 1, 4, 4, 4, 4, 4, 1]);
    for (const r of runs) {
      for (const secret of [dev.serviceKey, WRONG_KEY, plainToken]) expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });
});

describe('fn invoke on a terminal', () => {
  const hasScript = (() => {
    try {
      return execaSync('script', ['--version'], { reject: false }).exitCode === 0;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasScript)('pretty-prints JSON when stdout is a TTY', async ({ expect }) => {
    const command = `node ${JSON.stringify(bin)} invoke echo --data '{"a":1}'`;
    const r = await execa('script', ['-qec', command, '/dev/null'], { cwd: client, reject: false, env: { NO_COLOR: '1', ...CLEAN_ENV } });
    expect(r.exitCode).toBe(0);
    const text = String(r.stdout).replace(/\r\n/g, '\n');
    expect(text).toContain('{\n  "params": {\n    "a": 1\n  },\n  "user": "anonymous",');
  });
});

describe('fn invoke: the fn dev of this app, found in .fn/dev.json', () => {
  /** An app with no fn.config.json: without the record, invoke would go to http://127.0.0.1:8787. */
  let app: string;
  let own: DevServer;
  /** An HTTP server that records the Authorization header of every request it gets. */
  let capture: { url: string; seen: (string | undefined)[]; close(): Promise<void> };
  const recordPath = () => join(app, '.fn', 'dev.json');

  beforeAll(async () => {
    app = makeApp({
      'functions/config.json': JSON.stringify([
        { name: 'whoami' },
        { name: 'serverOnly', can_evaluate: { '%%user.type': 'server' } },
        { name: 'adminOnly', can_evaluate: { '%%user.custom_data.role': 'admin' } },
      ]),
      'functions/whoami.js':
        'exports = function () { return { user: context.user.id, type: context.user.type, custom: context.user.custom_data, system: context.runningAsSystem() }; };\n',
      'functions/serverOnly.js': 'exports = function () { return { gate: "server", type: context.user.type }; };\n',
      'functions/adminOnly.js': 'exports = function () { return { gate: "admin", role: context.user.custom_data.role }; };\n',
    });
    own = await startDev(app);
    secrets.push(own.serviceKey);
    const seen: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"captured":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    capture = {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      seen,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  });

  afterAll(async () => {
    await own?.stop();
    await capture?.close();
  });

  it('fn dev records its URL, app id, service key and pid in .fn/dev.json, readable by its owner only', ({ expect }) => {
    const record = JSON.parse(readFileSync(recordPath(), 'utf8'));
    expect(record).toEqual({ url: own.url, appId: own.appId, serviceKey: own.serviceKey, pid: expect.any(Number) });
    expect(statSync(recordPath()).mode & 0o777).toBe(0o600);
  });

  it('--user and --service-role need no flag and no key in the app folder', async ({ expect }) => {
    const user = await invoke(['whoami', '--user', 'u1'], { cwd: app });
    expect(user.exitCode, user.stderr).toBe(0);
    expect(dataOf(user)).toEqual({ user: 'u1', type: 'normal', custom: {}, system: false });
    const role = await invoke(['whoami', '--service-role'], { cwd: join(app, 'functions') });
    expect(role.exitCode, role.stderr).toBe(0);
    expect(dataOf(role)).toMatchObject({ type: 'system', system: true });
  });

  it("--user-type and --user-data set the token's type and custom_data, which can_evaluate tests", async ({ expect }) => {
    const plain = await invoke(['serverOnly', '--user', 'u1'], { cwd: app });
    expect(plain.exitCode).toBe(1);
    expect(plain.stderr).toContain('403');
    const server = await invoke(['serverOnly', '--user', 'u1', '--user-type', 'server'], { cwd: app });
    expect(server.exitCode, server.stderr).toBe(0);
    expect(dataOf(server)).toEqual({ gate: 'server', type: 'server' });
    expect(server.stderr).toContain('(user u1 (server), ');
    const admin = await invoke(['adminOnly', '--user', 'u1', '--user-data', '{"role":"admin"}'], { cwd: app });
    expect(admin.exitCode, admin.stderr).toBe(0);
    expect(dataOf(admin)).toEqual({ gate: 'admin', role: 'admin' });
    const both = await invoke(['whoami', '--user', 'u1', '--user-type', 'server', '--user-data', '{"role":"admin","n":1}'], { cwd: app });
    expect(dataOf(both)).toEqual({ user: 'u1', type: 'server', custom: { role: 'admin', n: 1 }, system: false });
    // The same caller in-process.
    const local = await invoke(['whoami', '--local', '--user', 'u1', '--user-type', 'server', '--user-data', '{"role":"admin"}'], {
      cwd: app,
    });
    expect(local.exitCode, local.stderr).toBe(0);
    expect(dataOf(local)).toEqual({ user: 'u1', type: 'server', custom: { role: 'admin' }, system: false });
    const localGate = await invoke(['serverOnly', '--local', '--user', 'u1'], { cwd: app });
    expect(localGate.exitCode).toBe(1);
  });

  it('refuses --user-type or --user-data without --user, data that is not a JSON object, or an unknown type (exit 2)', async ({
    expect,
  }) => {
    for (const args of [
      ['--user-type', 'server'],
      ['--user-data', '{}'],
      ['--user', 'u1', '--user-data', '[1]'],
      ['--user', 'u1', '--user-data', '{bad'],
      ['--user', 'u1', '--user-type', 'admin'],
    ]) {
      const r = await invoke(['whoami', '--url', deadUrl, ...args], { cwd: app });
      expect(r.exitCode, args.join(' ')).toBe(2);
    }
    const r = await invoke(['whoami', '--user-type', 'server'], { cwd: app });
    expect(r.stderr).toContain('needs --user <id>');
  });

  it('never sends the fn dev key to another server: --url, FN_URL, or another remote get none', async ({ expect }) => {
    writeFileSync(join(app, 'fn.config.json'), JSON.stringify({ remotes: { other: { url: capture.url } } }));
    try {
      for (const [args, env] of [
        [['--url', capture.url], {}],
        [[], { FN_URL: capture.url }],
        [['--remote', 'other'], {}],
      ] as [string[], Record<string, string>][]) {
        const before = capture.seen.length;
        const role = await invoke(['whoami', ...args, '--service-role'], { cwd: app, env });
        expect(role.exitCode, args.join(' ')).toBe(2);
        expect(role.stderr).toContain('--service-role needs the service key');
        const user = await invoke(['whoami', ...args, '--user', 'u1'], { cwd: app, env });
        expect(user.exitCode).toBe(2);
        expect(capture.seen.length).toBe(before);
        const anonymous = await invoke(['whoami', ...args], { cwd: app, env });
        expect(anonymous.exitCode).toBe(0);
        expect(capture.seen.slice(before)).toEqual([undefined]);
      }
      // The "local" remote of fn.config.json does not hide the running fn dev.
      writeFileSync(join(app, 'fn.config.json'), JSON.stringify({ remotes: { local: { url: capture.url } } }));
      const dev = await invoke(['whoami', '--user', 'u2'], { cwd: app });
      expect(dev.exitCode, dev.stderr).toBe(0);
      expect(dataOf(dev).user).toBe('u2');
    } finally {
      rmSync(join(app, 'fn.config.json'), { force: true });
    }
  });

  it('ignores a record whose process is gone: its key goes nowhere', async ({ expect }) => {
    const other = makeApp({
      'functions/config.json': '[{"name":"whoami"}]',
      'functions/whoami.js': 'exports = function () { return 1; };\n',
    });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    mkdirSync(join(other, '.fn'));
    writeFileSync(
      join(other, '.fn', 'dev.json'),
      JSON.stringify({ url: capture.url, appId: 'x', serviceKey: 'stale-key-1234', pid: dead }),
    );
    const before = capture.seen.length;
    const role = await invoke(['whoami', '--service-role'], { cwd: other });
    expect(role.exitCode).toBe(2);
    expect(role.stderr).toContain('needs the service key');
    expect(role.stderr).toContain('fn dev');
    // Nor its URL: the call goes to the "local" remote.
    writeFileSync(join(other, 'fn.config.json'), JSON.stringify({ remotes: { local: { url: deadUrl } } }));
    const anonymous = await invoke(['whoami'], { cwd: other });
    expect(anonymous.exitCode).toBe(4);
    expect(anonymous.stderr).toContain(`cannot reach ${deadUrl}`);
    expect(capture.seen.length).toBe(before);
  });

  it('fn dev removes the record when it stops; invoke then asks for the key again', async ({ expect }) => {
    const stopped = await own.stop();
    expect(stopped.exitCode).toBe(130);
    expect(existsSync(recordPath())).toBe(false);
    const r = await invoke(['whoami', '--user', 'u1', '--url', deadUrl], { cwd: app });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--user needs the service key');
  });
});
