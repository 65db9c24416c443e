// fn serve, fn push, fn pull and fn deployments, end to end: the built CLI against a running
// `fn serve --port 0 --json` on a temp data dir. Every test works on its own app id, so the tests
// share one server (and show that it hosts many apps).
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, cleanupTemps, copyFixture, fn, tempDir } from './helpers.js';
import {
  admin,
  callFunction,
  cleanEnv,
  currentDeployment,
  expectedState,
  fnAt,
  startServe,
  treeOf,
  type ServeProcess,
} from './serve-helpers.js';

let server: ServeProcess;
let nextApp = 0;

beforeAll(async () => {
  server = await startServe(tempDir('fn-serve-data-'));
});

afterAll(async () => {
  await server?.stop();
  cleanupTemps();
});

/** A temp copy of test/fixtures/deploy/app whose fn.config.json names a fresh app id. */
function appFolder(prefix: string): { dir: string; appId: string } {
  const appId = `${prefix}-${++nextApp}`;
  const dir = copyFixture('deploy/app');
  writeFileSync(join(dir, 'fn.config.json'), JSON.stringify({ appId }, null, 2) + '\n');
  return { dir, appId };
}

const push = (dir: string, args: string[] = []) => fnAt(server, 'push', dir, args);
const pull = (dir: string, args: string[] = []) => fnAt(server, 'pull', dir, args);
const deployments = (dir: string, args: string[] = []) => fnAt(server, 'deployments', dir, args);
const write = (dir: string, rel: string, text: string) => {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
};
const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const manifestPath = 'functions/config.json';
const versionSource = (n: number) =>
  `// Tests rewrite the number to tell deployed versions apart.\nexports = function () {\n  return { version: ${n} };\n};\n`;

async function versionsOf(dir: string): Promise<number[]> {
  const r = await deployments(dir, ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { deployments: { version: number }[] }).deployments.map((d) => d.version);
}

/** Pushes with --yes and expects success. */
async function pushed(dir: string, args: string[] = []) {
  const r = await push(dir, ['--yes', ...args]);
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  return r;
}

/** A new empty folder with the app pulled into it. */
async function pulledCopy(appId: string): Promise<string> {
  const dir = tempDir('fn-pulled-');
  const r = await pull(dir, ['--app-id', appId]);
  expect(r.exitCode, r.stderr).toBe(0);
  return dir;
}

describe('fn push', () => {
  it('first push: deploys every function and the manifest text, prints the plan and the bytes sent', async () => {
    const { dir, appId } = appFolder('first');
    const r = await push(dir, ['--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Pushed to ${appId} at ${server.url} (version 0 → 1):`);
    for (const name of ['callsHelper', 'cart/total', 'hello', 'privateHelper', 'reports/monthly/summary', 'version'])
      expect(r.stdout).toContain(`+ ${name}  add`);
    expect(r.stdout).toContain('6 to add, 0 to change, 0 to delete, 0 unchanged');
    expect(r.stderr).toMatch(/^\d+ bytes sent$/m);
    const deployed = await currentDeployment(server, appId);
    expect(deployed).toMatchObject({ version: 1, ...expectedState(dir) });
    expect(await versionsOf(dir)).toEqual([1]);
    await server.waitFor((e) => e.event === 'deployed' && e.appId === appId && e.version === 1 && e.functions === 6);
    // Recorded as this folder's base: pushing again finds nothing to do.
    const state = JSON.parse(read(dir, '.fn/state.json')) as { remotes: Record<string, { version: number; appId: string }> };
    expect(Object.values(state.remotes)).toEqual([expect.objectContaining({ appId, version: 1 })]);
    const again = await push(dir, ['--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`${appId} at ${server.url} is up to date (version 1, 6 functions)`);
    expect(await versionsOf(dir)).toEqual([1]);
  });

  it('the functions of a pushed app answer on POST /api/apps/{appId}/functions/{name}', async () => {
    const { dir, appId } = appFolder('calls');
    await pushed(dir);
    const hello = await callFunction(server.url, appId, 'hello', { name: 'Ada' });
    expect(hello.status).toBe(200);
    expect(hello.json).toBe('hello Ada');
    const total = await callFunction(server.url, appId, 'cart/total', {
      items: [
        { price: 2, qty: 3 },
        { price: 1, qty: 4 },
      ],
    });
    expect([total.status, total.json]).toEqual([200, 10]);
    const summary = await callFunction(server.url, appId, 'reports/monthly/summary', { month: '2024-05' });
    expect(summary.json).toEqual({ month: '2024-05', orders: 0 });
    // Manifest entries apply: a private function is not callable by a client, but by another function.
    const priv = await callFunction(server.url, appId, 'privateHelper', { x: 1 });
    expect(priv.status).toBe(404);
    expect(priv.json.error.code).toBe('FUNCTION_NOT_FOUND');
    const calls = await callFunction(server.url, appId, 'callsHelper', { x: 21 });
    expect([calls.status, calls.json]).toEqual([200, { doubled: 42 }]);
    const other = await callFunction(server.url, 'no-such-app', 'hello');
    expect([other.status, other.json.error.code]).toEqual([404, 'APP_NOT_FOUND']);
    // The new version answers as soon as push returns.
    write(dir, 'functions/version.js', versionSource(2));
    await pushed(dir);
    expect((await callFunction(server.url, appId, 'version')).json).toEqual({ version: 2 });
  });

  it('incremental push: uploads only the changed sources (bytesSent), and no source for an entry-only change', async () => {
    const { dir, appId } = appFolder('incr');
    // A big function makes a full upload easy to tell from an incremental one.
    write(dir, 'functions/big.js', `// ${'x'.repeat(200_000)}\nexports = function () { return 'big'; };\n`);
    const first = await push(dir, ['--yes', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).bytesSent).toBeGreaterThan(200_000);

    write(dir, 'functions/version.js', versionSource(2));
    const r = await push(dir, ['--yes', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      ok: true,
      appId,
      remoteVersion: 1,
      version: 2,
      dryRun: false,
      plan: { added: [], changed: [{ name: 'version', source: true, entry: false }], deleted: [], unchanged: 6 },
    });
    const changedBytes = Buffer.byteLength(versionSource(2)) + Buffer.byteLength(read(dir, manifestPath));
    expect(result.bytesSent).toBeGreaterThanOrEqual(changedBytes);
    expect(result.bytesSent).toBeLessThan(changedBytes + 1024);
    expect(await currentDeployment(server, appId)).toMatchObject({ version: 2, ...expectedState(dir) });

    // Only the manifest entry changes: the source is on the server already.
    write(
      dir,
      manifestPath,
      read(dir, manifestPath).replace(
        '{ "name": "hello", "private": false }',
        '{ "name": "hello", "private": false, "disable_arg_logs": true }',
      ),
    );
    const entryOnly = JSON.parse((await push(dir, ['--yes', '--json'])).stdout);
    expect(entryOnly.plan).toEqual({ added: [], changed: [{ name: 'hello', source: false, entry: true }], deleted: [], unchanged: 6 });
    expect(entryOnly.bytesSent).toBeLessThan(Buffer.byteLength(read(dir, manifestPath)) + 512);
    expect(await currentDeployment(server, appId)).toMatchObject({ version: 3, ...expectedState(dir) });
  });

  it('delete: a function removed here is removed from the deployment and stops answering', async () => {
    const { dir, appId } = appFolder('delete');
    await pushed(dir);
    rmSync(join(dir, 'functions/cart'), { recursive: true });
    write(dir, manifestPath, read(dir, manifestPath).replace('  { "name": "cart/total", "private": false },\n', ''));
    const r = await push(dir, ['--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('- cart/total  delete');
    expect(r.stdout).toContain('0 to add, 0 to change, 1 to delete, 5 unchanged');
    const deployed = await currentDeployment(server, appId);
    expect(deployed).toMatchObject({ version: 2, ...expectedState(dir) });
    expect(Object.keys(deployed!.functions)).not.toContain('cart/total');
    const call = await callFunction(server.url, appId, 'cart/total', { items: [] });
    expect([call.status, call.json.error.code]).toEqual([404, 'FUNCTION_NOT_FOUND']);
  });

  it('--dry-run prints the plan and deploys nothing; --json prints it as one document', async () => {
    const { dir, appId } = appFolder('dry');
    const firstDry = await push(dir, ['--dry-run']);
    expect(firstDry.exitCode, firstDry.stderr).toBe(0);
    expect(firstDry.stdout).toContain(`Would push to ${appId} at ${server.url} (version 0):`);
    expect(firstDry.stderr).toContain('dry run: nothing was deployed');
    expect(await currentDeployment(server, appId)).toBeUndefined();

    await pushed(dir);
    write(dir, 'functions/version.js', versionSource(2));
    write(dir, 'functions/extra.js', 'exports = function () { return 1; };\n');
    const text = await push(dir, ['--dry-run']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('+ extra  add');
    expect(text.stdout).toContain('~ version  change source');
    expect(text.stdout).toContain('1 to add, 1 to change, 0 to delete, 5 unchanged');
    const json = await push(dir, ['--dry-run', '--json']);
    expect(json.exitCode).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({
      ok: true,
      dryRun: true,
      remoteVersion: 1,
      bytesSent: 0,
      plan: { added: ['extra'], changed: [{ name: 'version', source: true, entry: false }], deleted: [], unchanged: 5 },
    });
    expect(doc.version).toBeUndefined();
    expect(await versionsOf(dir)).toEqual([1]);
    expect((await currentDeployment(server, appId))!.functions).not.toHaveProperty('extra');
  });

  it('without a terminal and without --yes: refuses naming --yes (exit 2), deploys nothing, never waits on stdin', async () => {
    const { dir, appId } = appFolder('notty');
    const r = await push(dir);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--yes');
    expect(await currentDeployment(server, appId)).toBeUndefined();
    // Standard input left open: a prompt would hang until the timeout.
    const started = Date.now();
    const open = await execa('node', [bin, 'push', '--url', server.url, '--service-key', server.serviceKey], {
      cwd: dir,
      reject: false,
      stdin: 'pipe',
      timeout: 20_000,
      env: { NO_COLOR: '1', CI: '1', ...cleanEnv },
      extendEnv: true,
    });
    expect(open.timedOut).toBe(false);
    expect(open.exitCode).toBe(2);
    expect(Date.now() - started).toBeLessThan(15_000);
    const json = await push(dir, ['--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', hint: expect.stringContaining('--yes') } });
    expect(await currentDeployment(server, appId)).toBeUndefined();
  });

  it('validates first: an error stops the push (exit 1) with the diagnostics, and nothing is deployed', async () => {
    const { dir, appId } = appFolder('invalid');
    write(dir, 'functions/hello.js', 'exports = function ( { return 1; };\n');
    const r = await push(dir, ['--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^functions\/hello\.js:1:\d+ +error +source-syntax/m);
    expect(r.stderr).toContain('the app has errors: nothing was pushed');
    expect(await currentDeployment(server, appId)).toBeUndefined();
  });

  it('drift: refuses (exit 1) when the remote moved since the last pull or push, showing what changed there; --force overwrites', async () => {
    const { dir: mine, appId } = appFolder('drift');
    await pushed(mine);
    const theirs = await pulledCopy(appId);
    write(theirs, 'functions/hello.js', "exports = function () { return 'theirs'; };\n");
    await pushed(theirs);

    write(mine, 'functions/version.js', versionSource(2));
    const r = await push(mine, ['--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`the remote moved since this folder last pulled or pushed: ${appId} at ${server.url} is at version 2`);
    expect(r.stderr).toContain('--force');
    expect(r.stdout).toContain('Changed remotely:');
    expect(r.stdout).toContain('~ hello  changed source');
    const json = await push(mine, ['--yes', '--json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      remoteVersion: 2,
      drift: { added: [], changed: [{ name: 'hello', source: true, entry: false }], deleted: [] },
    });
    expect(await versionsOf(mine)).toEqual([2, 1]);
    expect((await callFunction(server.url, appId, 'hello')).json).toBe('theirs');

    const forced = await push(mine, ['--yes', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('~ hello  change source');
    expect(forced.stdout).toContain('~ version  change source');
    expect(await currentDeployment(server, appId)).toMatchObject({ version: 3, ...expectedState(mine) });
  });

  it('--only pushes the changes of the named functions alone; the others stay changed for the next push', async () => {
    const { dir, appId } = appFolder('only');
    await pushed(dir);
    const before = expectedState(dir);
    write(dir, 'functions/hello.js', "exports = function () { return 'hi'; };\n");
    write(dir, 'functions/version.js', versionSource(2));
    write(
      dir,
      manifestPath,
      read(dir, manifestPath).replace('{ "name": "version", "private": false }', '{ "name": "version", "private": true }'),
    );
    const r = await push(dir, ['--yes', '--json', '--only', 'hello']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).plan).toEqual({
      added: [],
      changed: [{ name: 'hello', source: true, entry: false }],
      deleted: [],
      unchanged: 5,
    });
    const deployed = await currentDeployment(server, appId);
    expect(deployed!.functions).toEqual({ ...before.functions, hello: expectedState(dir).functions.hello });
    // The deployed manifest keeps the old version entry (its text is untouched).
    expect(deployed!.manifest).toBe(before.manifest);
    expect((await callFunction(server.url, appId, 'version')).json).toEqual({ version: 1 });
    const next = JSON.parse((await push(dir, ['--dry-run', '--json'])).stdout);
    expect(next.plan).toEqual({ added: [], changed: [{ name: 'version', source: true, entry: true }], deleted: [], unchanged: 5 });
    const unknown = await push(dir, ['--yes', '--only', 'nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('nope');
  });

  it('two pushes from one base: the second gets the conflict (exit 1) and nothing of it is deployed', async () => {
    const { dir: a, appId } = appFolder('race');
    await pushed(a);
    const b = await pulledCopy(appId);
    write(a, 'functions/hello.js', "exports = function () { return 'a'; };\n");
    write(b, 'functions/version.js', versionSource(7));
    const [ra, rb] = await Promise.all([push(a, ['--yes', '--json']), push(b, ['--yes', '--json'])]);
    const results = [ra, rb].map((r) => ({ exitCode: r.exitCode, doc: JSON.parse(r.stdout) }));
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 1]);
    const winner = results[0]!.exitCode === 0 ? a : b;
    const loser = results.find((r) => r.exitCode === 1)!.doc;
    // Pushed at once: an If-Match conflict; one after the other: the drift refusal.
    expect(loser.conflict ?? loser.drift).toBeDefined();
    expect(await currentDeployment(server, appId)).toMatchObject({ version: 2, ...expectedState(winner) });
  });

  it('fn push --rollback <v> redeploys a past version as a new one; fn deployments lists them', async () => {
    const { dir, appId } = appFolder('rollback');
    const empty = await deployments(dir);
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout).toBe(`nothing is deployed for ${appId} at ${server.url}`);
    await pushed(dir);
    const v1 = await currentDeployment(server, appId);
    write(dir, 'functions/version.js', versionSource(2));
    rmSync(join(dir, 'functions/hello.js'));
    write(dir, manifestPath, read(dir, manifestPath).replace('  { "name": "hello", "private": false },\n', ''));
    await pushed(dir);
    expect((await callFunction(server.url, appId, 'version')).json).toEqual({ version: 2 });

    const r = await push(dir, ['--rollback', '1', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${appId} at ${server.url}: version 3 redeploys version 1`);
    expect(await currentDeployment(server, appId)).toEqual({
      ...v1,
      version: 3,
      createdAt: expect.any(String),
      summary: 'rollback to version 1',
    });
    expect((await callFunction(server.url, appId, 'version')).json).toEqual({ version: 1 });
    expect((await callFunction(server.url, appId, 'hello')).json).toBe('hello world');

    const list = await deployments(dir);
    expect(list.exitCode).toBe(0);
    const [header, ...lines] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^\s*VERSION {2}DEPLOYED \(UTC\)\s+FUNCTIONS {2}CHANGES$/);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\s+3 {2}\S+\s+6 {2}rollback to version 1 {2}\(current\)$/);
    expect(lines[1]).toMatch(/^\s+2 {2}\S+\s+5 {2}~1 -1: hello, version$/);
    expect(lines[2]).toMatch(/^\s+1 {2}\S+\s+6 {2}\+6: /);
    const json = JSON.parse((await deployments(dir, ['--json'])).stdout);
    expect(json).toMatchObject({ ok: true, appId, url: server.url });
    expect(json.deployments.map((d: { version: number; functions: number }) => [d.version, d.functions])).toEqual([
      [3, 6],
      [2, 5],
      [1, 6],
    ]);

    const missing = await push(dir, ['--rollback', '9', '--yes']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('there is no version 9 to roll back to');
    expect(await versionsOf(dir)).toEqual([3, 2, 1]);
  });

  it('fn push --rollback <v> --dry-run changes nothing', async () => {
    const { dir } = appFolder('rollback-dry');
    await pushed(dir);
    write(dir, 'functions/version.js', versionSource(2));
    await pushed(dir);
    const r = await push(dir, ['--rollback', '1', '--dry-run']);
    expect(r.exitCode).toBe(0);
    expect(await versionsOf(dir)).toEqual([2, 1]);
  });

  it('fn push --rollback <v> without a terminal and without --yes refuses naming --yes (exit 2)', async () => {
    const { dir } = appFolder('rollback-notty');
    await pushed(dir);
    write(dir, 'functions/version.js', versionSource(2));
    await pushed(dir);
    const r = await push(dir, ['--rollback', '1']);
    expect(await versionsOf(dir)).toEqual([2, 1]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--yes');
  });

  it('remote errors: an unreachable server or a wrong service key exit 4', async () => {
    const { dir } = appFolder('remote');
    const wrongKey = await fnAt({ url: server.url, serviceKey: 'not-the-key' }, 'push', dir, ['--yes']);
    expect(wrongKey.exitCode).toBe(4);
    expect(wrongKey.stderr).toContain('refused the service key');
    const noServer = await fnAt({ url: 'http://127.0.0.1:1', serviceKey: 'k' }, 'push', dir, ['--yes']);
    expect(noServer.exitCode).toBe(4);
  });
});

describe('fn push: validation and changes of access', () => {
  const BASE = [
    { name: 'hello', private: false },
    { name: 'version', private: false },
    { name: 'cart/total', private: false, can_evaluate: { '%%user.type': 'server' } },
    { name: 'reports/monthly/summary', private: false, can_evaluate: { '%%user.id': 'u1' } },
    { name: 'privateHelper', private: true },
    { name: 'callsHelper', private: false, run_as_system: true },
  ];
  const manifest = (entries: unknown[]) => '[\n' + entries.map((e) => '  ' + JSON.stringify(e)).join(',\n') + '\n]\n';
  /** Every kind of change: tightened (hello, newPrivate: no mark) and widened (the rest). */
  const WIDER = [
    { name: 'hello', private: false, can_evaluate: { '%%user.type': 'server' } },
    { name: 'version', private: false, run_as_user_id: 'u9' },
    { name: 'cart/total', private: false },
    { name: 'reports/monthly/summary', private: false, can_evaluate: { '%%user.id': 'u2' } },
    { name: 'privateHelper', private: false },
    { name: 'callsHelper', private: false },
    { name: 'newPublic' },
    { name: 'newPrivate', private: true },
  ];

  it('a misspelt access field stops the push (exit 1), listed as validate lists it; nothing is deployed', async () => {
    const { dir, appId } = appFolder('typo');
    write(dir, manifestPath, '[\n  { "name": "hello", "privte": true }\n]\n');
    const r = await push(dir, ['--yes']);
    expect(r.exitCode).toBe(1);
    const validate = await fn(['validate'], { cwd: dir, env: cleanEnv });
    expect(validate.exitCode).toBe(1);
    const first = r.stdout.split('\n').slice(0, 4).join('\n');
    expect(first).toBe(validate.stdout.split('\n').slice(0, 4).join('\n'));
    expect(first).toContain('functions/config.json:2:22  error  unknown-access-field  "privte" is not a function manifest field');
    expect(first).toContain('    2 |   { "name": "hello", "privte": true }');
    expect(r.stderr).toContain('the app has errors: nothing was pushed');
    expect(await currentDeployment(server, appId)).toBeUndefined();
    expect((await callFunction(server.url, appId, 'hello')).status).toBe(404);
  });

  it('shows the warnings of validate in the plan, and in --json', async () => {
    const { dir } = appFolder('warn');
    write(dir, manifestPath, manifest([...BASE, { name: 'extra', owner: 'ops' }]));
    write(dir, 'functions/extra.js', 'exports = function () { return 1; };\n');
    write(dir, 'functions/orphan.js', 'exports = function () { return 2; };\n');
    const r = await push(dir, ['--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^functions\/config\.json:8:\d+ {2}warning {2}unknown-field {2}"owner" is not a function manifest field/m);
    expect(r.stdout).toMatch(/^functions\/orphan\.js:1:1 {2}warning {2}orphan-source /m);
    const json = JSON.parse((await push(dir, ['--dry-run', '--json'])).stdout);
    expect(json.diagnostics.map((d: { rule: string; severity: string }) => `${d.severity} ${d.rule}`).sort()).toEqual([
      'warning orphan-source',
      'warning unknown-field',
    ]);
    // From a folder below the app, paths are relative to it, as validate gives them.
    const below = await fn(['push', '--dry-run', '--url', server.url, '--service-key', server.serviceKey], {
      cwd: join(dir, 'functions'),
      env: cleanEnv,
    });
    expect(below.stdout).toMatch(/^\.\.\/functions\/config\.json:8:\d+ {2}warning {2}unknown-field/m);
  });

  it('marks each change that lets more callers in or changes who a function runs as; --json gives them as fields', async () => {
    const { dir, appId } = appFolder('access');
    write(dir, manifestPath, manifest(BASE));
    await pushed(dir);
    write(dir, manifestPath, manifest(WIDER));
    write(dir, 'functions/newPublic.js', 'exports = function () { return "new"; };\n');
    write(dir, 'functions/newPrivate.js', 'exports = function () { return "hidden"; };\n');

    const text = await push(dir, ['--dry-run']);
    expect(text.exitCode, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const marksOf = (name: string) => {
      const at = lines.findIndex((l) => new RegExp(`^  [+~-] ${name.replace(/\//g, '\\/')}  `).test(l));
      expect(at, name).toBeGreaterThanOrEqual(0);
      const out: string[] = [];
      for (let i = at + 1; i < lines.length && lines[i]!.startsWith('      ! '); i++) out.push(lines[i]!.slice(8));
      return out;
    };
    expect(marksOf('privateHelper')).toEqual(['made public (was private): clients can call it']);
    expect(marksOf('newPublic')).toEqual(['new and public: clients can call it']);
    expect(marksOf('cart/total')).toEqual(['can_evaluate removed (was {"%%user.type":"server"}): any caller may call it']);
    expect(marksOf('reports/monthly/summary')).toEqual(['can_evaluate changed from {"%%user.id":"u1"} to {"%%user.id":"u2"}']);
    expect(marksOf('version')).toEqual(['runs as user u9 (was the caller)']);
    expect(marksOf('callsHelper')).toEqual(['runs as the caller (was the system user)']);
    expect(marksOf('hello')).toEqual([]);
    expect(marksOf('newPrivate')).toEqual([]);
    expect(text.stderr).toContain('warning 6 functions marked !: more callers may call them, or they run as someone else');

    const json = JSON.parse((await push(dir, ['--dry-run', '--json'])).stdout);
    expect(json.access).toEqual([
      { function: 'callsHelper', change: 'run-as', from: { system: true }, to: { caller: true } },
      { function: 'cart/total', change: 'can-evaluate-removed', from: { '%%user.type': 'server' }, to: {} },
      { function: 'newPublic', change: 'new-public' },
      { function: 'privateHelper', change: 'made-public' },
      { function: 'reports/monthly/summary', change: 'can-evaluate-changed', from: { '%%user.id': 'u1' }, to: { '%%user.id': 'u2' } },
      { function: 'version', change: 'run-as', from: { caller: true }, to: { userId: 'u9' } },
    ]);

    // Without a terminal and without --yes: refused, naming --yes and the functions.
    const refused = await push(dir);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('callsHelper, cart/total, newPublic, privateHelper, reports/monthly/summary, version');
    expect(refused.stderr).toContain('--yes');
    expect((await callFunction(server.url, appId, 'privateHelper')).status).toBe(404);

    const done = await pushed(dir);
    expect(done.stdout).toContain('      ! made public (was private): clients can call it');
    expect(done.stderr).toContain('warning 6 functions marked !');
    expect((await callFunction(server.url, appId, 'privateHelper')).status).toBe(200);
    // Tightening alone is not marked.
    write(
      dir,
      manifestPath,
      manifest(
        WIDER.map((e) =>
          e.name === 'newPublic' ? { ...e, private: true } : e.name === 'cart/total' ? { ...e, can_evaluate: { '%%user.id': 'u1' } } : e,
        ),
      ),
    );
    const tighter = await push(dir, ['--dry-run', '--json']);
    expect(JSON.parse(tighter.stdout)).toMatchObject({
      ok: true,
      access: [],
      plan: { changed: [{ name: 'cart/total' }, { name: 'newPublic' }] },
    });
  });

  it('fn remove --keep-source: the push marks the kept file as public with the defaults', async () => {
    const { dir } = appFolder('keep');
    write(dir, manifestPath, manifest(BASE));
    await pushed(dir);
    const removed = await fn(['remove', 'privateHelper', '--keep-source'], { cwd: dir });
    expect(removed.exitCode).toBe(0);
    expect(removed.stderr).toContain('fn push deploys it as a public function with the defaults');
    const removedSystem = await fn(['remove', 'callsHelper', '--keep-source'], { cwd: dir });
    expect(removedSystem.stderr).toContain('it was run as system');
    const plan = JSON.parse((await push(dir, ['--dry-run', '--json'])).stdout);
    expect(plan.access).toEqual([
      { function: 'callsHelper', change: 'run-as', from: { system: true }, to: { caller: true } },
      { function: 'privateHelper', change: 'made-public' },
    ]);
  });
});

describe('fn pull', () => {
  it('into an empty folder: creates the app, records the base, and is then up to date', async () => {
    const { dir: source, appId } = appFolder('pull-new');
    await pushed(source);
    const dir = tempDir('fn-pulled-');
    const r = await pull(dir, ['--app-id', appId]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Pulled version 1 of ${appId} at ${server.url} into a new app in .:`);
    expect(r.stdout).toContain('6 to add, 0 to update, 0 to delete, 0 unchanged');
    expect(JSON.parse(read(dir, 'fn.config.json'))).toMatchObject({ appId });
    expect(treeOf(join(dir, 'functions'))).toEqual(treeOf(join(source, 'functions')));
    expect(existsSync(join(dir, '.fn/state.json'))).toBe(true);
    const again = await pull(dir);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`is up to date with ${appId} at ${server.url} (version 1)`);
    const pushAgain = await push(dir, ['--yes']);
    expect(pushAgain.exitCode).toBe(0);
    expect(pushAgain.stdout).toContain('is up to date (version 1, 6 functions)');
  });

  it('refuses a folder that is neither an app nor empty (exit 1) and writes nothing', async () => {
    const { dir: source, appId } = appFolder('pull-busy');
    await pushed(source);
    const dir = tempDir('fn-busy-');
    write(dir, 'notes.txt', 'mine\n');
    const r = await pull(dir, ['--app-id', appId]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('is not an app and not empty');
    expect(treeOf(dir)).toEqual({ 'notes.txt': Buffer.from('mine\n').toString('base64') });
  });

  it('refuses to overwrite local changes (exit 1, the plan shows which) unless --force; keeps edits the remote did not touch and functions never pushed', async () => {
    const { dir: source, appId } = appFolder('pull-conflict');
    await pushed(source);
    const dir = await pulledCopy(appId);
    write(source, 'functions/hello.js', "exports = function () { return 'remote'; };\n");
    await pushed(source);
    write(dir, 'functions/hello.js', "exports = function () { return 'local'; };\n");
    write(dir, 'functions/cart/total.js', 'exports = function () { return 0; };\n');
    write(dir, 'functions/mine.js', 'exports = function () { return "new work"; };\n');

    const r = await pull(dir);
    expect(r.exitCode).toBe(1);
    // A three-way merge: hello changed on both sides (a conflict); cart/total changed only here
    // (kept, not in the plan); mine was never pushed (kept).
    expect(r.stderr).toContain('local changes would be overwritten: hello');
    expect(r.stderr).toContain('--force');
    expect(r.stdout).toContain('~ hello  overwrite source');
    expect(r.stdout).not.toContain('cart/total');
    expect(r.stdout).not.toContain('mine');
    expect(read(dir, 'functions/hello.js')).toContain("'local'");
    const dry = await pull(dir, ['--dry-run', '--json']);
    expect(dry.exitCode).toBe(1);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      ok: false,
      conflicts: ['hello'],
      plan: { added: [], deleted: [], changed: [{ name: 'hello', source: true, entry: false }] },
    });
    expect(read(dir, 'functions/hello.js')).toContain("'local'");

    const forced = await pull(dir, ['--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(read(dir, 'functions/hello.js')).toBe(read(source, 'functions/hello.js'));
    expect(read(dir, 'functions/cart/total.js')).toBe('exports = function () { return 0; };\n');
    // A function that was never pushed is new work, not a remote deletion: it stays.
    expect(read(dir, 'functions/mine.js')).toBe('exports = function () { return "new work"; };\n');
    const after = await pull(dir);
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toContain('is up to date');
  });

  it('--dry-run shows the plan and writes nothing', async () => {
    const { dir: source, appId } = appFolder('pull-dry');
    await pushed(source);
    const dir = await pulledCopy(appId);
    write(source, 'functions/version.js', versionSource(2));
    await pushed(source);
    const before = treeOf(dir);
    const r = await pull(dir, ['--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Would pull version 2 of ${appId}`);
    expect(r.stdout).toContain('~ version  update source');
    expect(r.stderr).toContain('dry run: nothing was written');
    expect(treeOf(dir)).toEqual(before);
  });

  it('removes functions deleted remotely, and the folders they leave empty', async () => {
    const { dir: source, appId } = appFolder('pull-delete');
    await pushed(source);
    const dir = await pulledCopy(appId);
    write(dir, 'functions/cart/notes.md', 'not a function\n');
    rmSync(join(source, 'functions/reports'), { recursive: true });
    rmSync(join(source, 'functions/cart'), { recursive: true });
    write(
      source,
      manifestPath,
      read(source, manifestPath)
        .replace('  { "name": "cart/total", "private": false },\n', '')
        .replace('  { "name": "reports/monthly/summary", "private": false, "disable_arg_logs": true },\n', ''),
    );
    await pushed(source);

    const r = await pull(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('- cart/total  delete');
    expect(r.stdout).toContain('- reports/monthly/summary  delete');
    expect(existsSync(join(dir, 'functions/reports'))).toBe(false);
    expect(existsSync(join(dir, 'functions/cart/total.js'))).toBe(false);
    expect(read(dir, 'functions/cart/notes.md')).toBe('not a function\n');
    expect(read(dir, manifestPath)).toBe(read(source, manifestPath));
    expect(treeOf(join(dir, 'functions'), (rel) => rel === 'cart')).toEqual(treeOf(join(source, 'functions')));
  });

  it('updates only the manifest entries that differ, keeping the format of the rest', async () => {
    const { dir: source, appId } = appFolder('pull-format');
    await pushed(source);
    const dir = await pulledCopy(appId);
    // Reformatting the manifest here changes no function: it is not a local change.
    const local = `[\n\t{\n\t\t"name": "hello",\n\t\t"private": false\n\t},\n\t{ "name": "version",   "private": false },\n\t{ "name": "cart/total", "private": false },\n\t{ "name": "reports/monthly/summary", "private": false, "disable_arg_logs": true },\n\t{ "name": "privateHelper", "private": true },\n\t{ "name": "callsHelper", "private": false }\n]\n`;
    write(dir, manifestPath, local);
    write(
      source,
      manifestPath,
      read(source, manifestPath)
        .replace('{ "name": "version", "private": false }', '{ "name": "version", "private": true }')
        .replace(/\n\]\n$/, ',\n  { "name": "added", "private": false }\n]\n'),
    );
    write(source, 'functions/added.js', 'exports = function () { return 1; };\n');
    await pushed(source);

    const r = await pull(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('+ added  add');
    expect(r.stdout).toContain('~ version  update manifest entry');
    expect(read(dir, manifestPath)).toBe(
      local
        .replace('{ "name": "version",   "private": false }', '{ "name": "version", "private": true }')
        .replace('"private": false }\n]\n', '"private": false },\n\t{ "name": "added", "private": false }\n]\n'),
    );
    expect(read(dir, 'functions/added.js')).toBe(read(source, 'functions/added.js'));
  });

  it('never touches files that are not functions: tests, node_modules, fn.config.json, others', async () => {
    const { dir: source, appId } = appFolder('pull-untouched');
    await pushed(source);
    const dir = await pulledCopy(appId);
    write(dir, 'fn.config.json', `{"appId":"${appId}",   "remotes":{"local":{"url":"${server.url}"}}}\n`);
    write(dir, 'test/hello.test.js', read(source, 'test/hello.test.js'));
    write(dir, 'node_modules/left-pad/index.js', 'module.exports = 1;\n');
    write(dir, 'functions/node_modules/dep/index.js', 'module.exports = 2;\n');
    write(dir, 'functions/cart/notes.md', 'notes\n');
    write(dir, 'README.md', '# mine\n');
    const others = [
      'fn.config.json',
      'test/hello.test.js',
      'node_modules/left-pad/index.js',
      'functions/node_modules/dep/index.js',
      'functions/cart/notes.md',
      'README.md',
    ];
    const past = new Date('2001-01-01T00:00:00Z');
    for (const rel of others) utimesSync(join(dir, rel), past, past);
    const before = Object.fromEntries(others.map((rel) => [rel, read(dir, rel)]));

    // Remotely: a change, an addition and a deletion (cart/total, beside notes.md).
    write(source, 'functions/hello.js', "exports = function () { return 'v2'; };\n");
    write(source, 'functions/node_modules/dep/index.js', 'module.exports = 3;\n');
    write(source, 'functions/added.js', 'exports = function () { return 1; };\n');
    rmSync(join(source, 'functions/cart'), { recursive: true });
    write(source, manifestPath, read(source, manifestPath).replace('  { "name": "cart/total", "private": false },\n', ''));
    await pushed(source);

    const r = await pull(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 to add, 1 to update, 1 to delete');
    for (const rel of others) {
      expect(read(dir, rel), rel).toBe(before[rel]);
      expect(statSync(join(dir, rel)).mtimeMs, rel).toBe(past.getTime());
    }
    expect(read(dir, 'functions/hello.js')).toContain("'v2'");
  });

  it('round trip: push, then pull into a new folder, gives the same files under functions/, byte for byte (CRLF manifest with a BOM, nested names, non-ASCII)', async () => {
    const { dir: source, appId } = appFolder('roundtrip');
    write(source, 'functions/a/b/c/deep.js', 'exports = function () {\r\n  return "déjà vu ✓";\r\n};\r\n');
    const manifest = read(source, manifestPath).replace(/\n\]\n$/, ',\n  { "name": "a/b/c/deep", "private": false }\n]\n');
    write(source, manifestPath, '\uFEFF' + manifest.replace(/\n/g, '\r\n'));
    expect(readFileSync(join(source, manifestPath)).subarray(0, 6)).toEqual(Buffer.from('\uFEFF[\r\n'));
    await pushed(source);
    const dir = await pulledCopy(appId);
    expect(treeOf(join(dir, 'functions'))).toEqual(treeOf(join(source, 'functions')));
    expect((await callFunction(server.url, appId, 'a/b/c/deep')).json).toBe('déjà vu ✓');

    // And back: a change made in the copy comes home the same way.
    write(dir, 'functions/a/b/c/deep.js', 'exports = function () {\r\n  return "encore";\r\n};\r\n');
    await pushed(dir);
    const home = await pull(source);
    expect(home.exitCode, home.stderr).toBe(0);
    expect(treeOf(join(source, 'functions'))).toEqual(treeOf(join(dir, 'functions')));
  });
});

describe('fn serve', () => {
  it('admin routes: service key required, one function source, If-Match guarded deploys (409 with the current version), rollback', async () => {
    const { dir, appId } = appFolder('admin');
    await pushed(dir);
    const noKey = await admin({ url: server.url, serviceKey: '' }, appId, 'deployment', { headers: { authorization: '' } });
    expect(noKey.status).toBe(401);
    const current = await admin(server, appId, 'deployment');
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe('"1"');
    const source = await admin(server, appId, 'deployment/functions/cart/total/source');
    expect(source.status).toBe(200);
    expect(source.text).toBe(read(dir, 'functions/cart/total.js'));
    expect(source.headers.get('etag')).toBe(`"${expectedState(dir).functions['cart/total']}"`);
    expect((await admin(server, appId, 'deployment/functions/nope/source')).status).toBe(404);

    const manifest = read(dir, manifestPath);
    const stale = await admin(server, appId, 'deployments', {
      method: 'POST',
      headers: { 'if-match': '"0"' },
      body: JSON.stringify({ manifest, set: {}, delete: ['hello'], blobs: {} }),
    });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ currentVersion: 1, error: { code: 'CONFLICT' } });
    expect(stale.headers.get('etag')).toBe('"1"');
    const ok = await admin(server, appId, 'deployments', {
      method: 'POST',
      headers: { 'if-match': '"1"' },
      body: JSON.stringify({ manifest, set: {}, delete: ['hello'], blobs: {}, summary: 'by hand' }),
    });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ version: 2, functions: 5 });
    const missingBlob = await admin(server, appId, 'deployments', {
      method: 'POST',
      headers: { 'if-match': '"2"' },
      body: JSON.stringify({ manifest, set: { hello: 'a'.repeat(64) }, delete: [], blobs: {} }),
    });
    expect(missingBlob.status).toBe(409);
    expect(missingBlob.json.error.code).toBe('MISSING_SOURCES');
    const badManifest = await admin(server, appId, 'deployments', {
      method: 'POST',
      headers: { 'if-match': '"2"' },
      body: JSON.stringify({ manifest: '[ {', set: {}, delete: [], blobs: {} }),
    });
    expect(badManifest.status).toBe(400);

    const staleRollback = await admin(server, appId, 'deployments/1/rollback', {
      method: 'POST',
      headers: { 'if-match': '"1"' },
      body: '{}',
    });
    expect([staleRollback.status, staleRollback.json.currentVersion]).toEqual([409, 2]);
    const rollback = await admin(server, appId, 'deployments/1/rollback', { method: 'POST', headers: { 'if-match': '"2"' }, body: '{}' });
    expect(rollback.status).toBe(201);
    expect(await currentDeployment(server, appId)).toMatchObject({ version: 3, ...expectedState(dir) });
    const list = await admin(server, appId, 'deployments');
    expect(list.json.deployments.map((d: { version: number; summary: string }) => [d.version, d.summary])).toEqual([
      [3, 'rollback to version 1'],
      [2, 'by hand'],
      [1, expect.any(String)],
    ]);
  });

  it('hosts two apps side by side, and both survive a restart on the same data dir', async () => {
    const dataDir = tempDir('fn-serve-two-');
    const own = await startServe(dataDir);
    try {
      expect(own.apps).toEqual([]);
      const alpha = appFolder('alpha');
      const beta = appFolder('beta');
      write(beta.dir, 'functions/hello.js', 'exports = function ({ name }) { return `bonjour ${name}`; };\n');
      for (const app of [alpha, beta]) {
        const r = await fnAt(own, 'push', app.dir, ['--yes']);
        expect(r.exitCode, r.stderr).toBe(0);
      }
      write(beta.dir, 'functions/version.js', versionSource(2));
      expect((await fnAt(own, 'push', beta.dir, ['--yes'])).exitCode).toBe(0);
      expect((await callFunction(own.url, alpha.appId, 'hello', { name: 'A' })).json).toBe('hello A');
      expect((await callFunction(own.url, beta.appId, 'hello', { name: 'B' })).json).toBe('bonjour B');
      expect((await callFunction(own.url, alpha.appId, 'version')).json).toEqual({ version: 1 });
      expect((await callFunction(own.url, beta.appId, 'version')).json).toEqual({ version: 2 });
      expect((await currentDeployment(own, alpha.appId))!.version).toBe(1);
      expect((await currentDeployment(own, beta.appId))!.version).toBe(2);
      expect((await own.stop()).signal).toBeUndefined();

      const again = await startServe(dataDir);
      try {
        expect(again.apps).toEqual(
          [
            { appId: alpha.appId, version: 1 },
            { appId: beta.appId, version: 2 },
          ].sort((x, y) => (x.appId < y.appId ? -1 : 1)),
        );
        expect((await callFunction(again.url, beta.appId, 'hello', { name: 'B' })).json).toBe('bonjour B');
        expect((await callFunction(again.url, alpha.appId, 'hello', { name: 'A' })).json).toBe('hello A');
        expect(again.events.filter((e) => e.event === 'store-problem')).toEqual([]);
      } finally {
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  });

  it('keeps its data in .fn/server under the current folder by default', async () => {
    const cwd = tempDir('fn-serve-cwd-');
    const child = execa('node', [bin, 'serve', '--port', '0', '--json'], {
      cwd,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      env: { NO_COLOR: '1', CI: '1', FN_SERVICE_KEY: 'fixed-key' },
      extendEnv: true,
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        child.once('exit', () => reject(new Error('fn serve exited')));
      });
      const listening = JSON.parse(first);
      expect(listening).toMatchObject({
        event: 'listening',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        apps: [],
        serviceKeyFrom: 'given',
      });
      expect(first).not.toContain('fixed-key');
      expect(listening.dataDir).toBe(join(cwd, '.fn', 'server'));
      expect(existsSync(join(cwd, '.fn', 'server', 'apps'))).toBe(true);
    } finally {
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child;
      clearTimeout(killer);
    }
  });
});

describe('fn serve keys', () => {
  /** `fn serve` without --json until its banner is out: the banner's text. */
  async function banner(dataDir: string, env: Record<string, string | undefined>, args: string[] = []): Promise<string> {
    const child = execa('node', [bin, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
      cwd: dataDir,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      env: { NO_COLOR: '1', CI: '1', ...env },
      extendEnv: true,
    });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (/service key .*\n/.test(out)) resolve();
        });
        child.once('exit', () => reject(new Error(`fn serve exited: ${out}`)));
      });
    } finally {
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child;
      clearTimeout(killer);
    }
    return out;
  }

  const tokenFor = async (server: ServeProcess, appId: string, userId: string) => {
    const r = await admin(server, appId, `users/${userId}/token`, { method: 'POST', body: '{}' });
    expect(r.status, r.text).toBe(200);
    return r.json.token as string;
  };

  it('keeps the service key and token secret it made in the data dir (0600): the same after a restart, until --rotate-keys', async () => {
    const dataDir = tempDir('fn-serve-keys-');
    const first = await startServe(dataDir, { env: { FN_SERVICE_KEY: undefined } });
    const { dir, appId } = appFolder('keys');
    let token: string;
    try {
      expect(first.events[0]).toMatchObject({ event: 'listening', serviceKeyFrom: 'new', keysFile: join(dataDir, 'keys.json') });
      expect(first.serviceKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
      expect((await fnAt(first, 'push', dir, ['--yes'])).exitCode).toBe(0);
      token = await tokenFor(first, appId, 'u1');
    } finally {
      await first.stop();
    }

    const second = await startServe(dataDir, { env: { FN_SERVICE_KEY: undefined } });
    try {
      expect(second.events[0]).toMatchObject({ event: 'listening', serviceKeyFrom: 'kept' });
      expect(second.serviceKey).toBe(first.serviceKey);
      // The old key and a token signed before the restart still work.
      const listed = await fn(['deployments', '--url', second.url, '--app-id', appId], {
        env: { ...cleanEnv, FN_SERVICE_KEY: first.serviceKey },
      });
      expect(listed.exitCode, listed.stderr).toBe(0);
      const call = await callFunction(second.url, appId, 'hello', { name: 'u' }, { authorization: `Bearer ${token}` });
      expect([call.status, call.json]).toEqual([200, 'hello u']);
    } finally {
      await second.stop();
    }

    const rotated = await startServe(dataDir, { env: { FN_SERVICE_KEY: undefined }, args: ['--rotate-keys'] });
    try {
      expect(rotated.events[0]).toMatchObject({ event: 'listening', serviceKeyFrom: 'new' });
      expect(rotated.serviceKey).not.toBe(first.serviceKey);
      const old = await fn(['deployments', '--url', rotated.url, '--app-id', appId], {
        env: { ...cleanEnv, FN_SERVICE_KEY: first.serviceKey },
      });
      expect(old.exitCode).toBe(4);
      const call = await callFunction(rotated.url, appId, 'hello', {}, { authorization: `Bearer ${token}` });
      expect(call.status).toBe(401);
      expect((await fnAt(rotated, 'deployments', dir)).exitCode).toBe(0);
    } finally {
      await rotated.stop();
    }
    expect(await startServe(dataDir, { env: { FN_SERVICE_KEY: undefined } }).then(async (s) => (await s.stop(), s.serviceKey))).toBe(
      rotated.serviceKey,
    );
  });

  it('never prints a key given by FN_SERVICE_KEY, nor writes it; keeps the token secret all the same', async () => {
    const dataDir = tempDir('fn-serve-given-');
    const text = await banner(dataDir, { FN_SERVICE_KEY: 'given-secret-123' });
    expect(text).not.toContain('given-secret-123');
    expect(text).toContain('service key  from FN_SERVICE_KEY (not shown)');
    const kept = readFileSync(join(dataDir, 'keys.json'), 'utf8');
    expect(kept).not.toContain('given-secret-123');
    expect(Object.keys(JSON.parse(kept))).toEqual(['jwtSecret']);
    const json = await startServe(dataDir, { env: { FN_SERVICE_KEY: 'given-secret-123' } });
    try {
      expect(json.events[0]).toMatchObject({ serviceKeyFrom: 'given' });
      expect(JSON.stringify(json.events[0])).not.toContain('given-secret-123');
    } finally {
      await json.stop();
    }
  });

  it('prints a key it made, saying where it is kept', async () => {
    const dataDir = tempDir('fn-serve-made-');
    const text = await banner(dataDir, { FN_SERVICE_KEY: undefined });
    const key = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')).serviceKey as string;
    expect(text).toContain(`service key  ${key}  (new; kept in ${join(dataDir, 'keys.json')}; --rotate-keys makes a new one)`);
    expect(await banner(dataDir, { FN_SERVICE_KEY: undefined })).toContain(`service key  ${key}  (kept in ${join(dataDir, 'keys.json')}`);
  });

  it('refuses to start on a damaged keys file (exit 3), naming --rotate-keys', async () => {
    const dataDir = tempDir('fn-serve-bad-keys-');
    writeFileSync(join(dataDir, 'keys.json'), '{"jwtSecret": "sh');
    const r = await fn(['serve', '--port', '0', '--data-dir', dataDir], { env: { FN_SERVICE_KEY: undefined } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('keys.json is not valid JSON');
    expect(r.stderr).toContain('--rotate-keys');
  });
});

describe('fn push on a terminal', () => {
  const hasScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0;

  /** Runs fn push under `script` (a real terminal), answering `answer` at the question. */
  async function pushOnTerminal(dir: string, answer: string) {
    const line = ['node', bin, 'push', '--no-color'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = execa('script', ['-qec', line, '/dev/null'], {
      cwd: dir,
      env: { ...cleanEnv, CI: undefined, NO_COLOR: '1', FN_URL: server.url, FN_SERVICE_KEY: server.serviceKey },
      extendEnv: true,
      reject: false,
      stdin: 'pipe',
      timeout: 20_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Deploy? (y/N): ') && !child.stdin.writableEnded) child.stdin.end(answer + '\n');
    });
    const r = await child;
    return { exitCode: r.exitCode, output };
  }

  it.skipIf(!hasScript)('shows the plan, asks, and deploys on yes', async () => {
    const { dir } = appFolder('tty-yes');
    const r = await pushOnTerminal(dir, 'y');
    expect(r.output).toContain('Will push to');
    expect(r.output).toContain('Pushed to');
    expect(r.exitCode).toBe(0);
    expect(await versionsOf(dir)).toEqual([1]);
  });

  it.skipIf(!hasScript)('shows the changes of access before the question', async () => {
    const { dir } = appFolder('tty-access');
    await pushed(dir);
    write(
      dir,
      manifestPath,
      read(dir, manifestPath).replace('{ "name": "privateHelper", "private": true }', '{ "name": "privateHelper" }'),
    );
    const r = await pushOnTerminal(dir, 'n');
    const question = r.output.indexOf('Deploy? (y/N)');
    expect(question).toBeGreaterThan(0);
    expect(r.output.indexOf('! made public (was private)')).toBeGreaterThan(0);
    expect(r.output.indexOf('! made public (was private)')).toBeLessThan(question);
    expect(r.output.indexOf('1 function marked !: more callers may call it, or it runs as someone else')).toBeGreaterThan(0);
    expect(r.output.indexOf('1 function marked !')).toBeLessThan(question);
    expect(r.exitCode).toBe(1);
  });

  it.skipIf(!hasScript)('deploys nothing on no, and exits 1 saying so', async () => {
    const { dir } = appFolder('tty-no');
    const r = await pushOnTerminal(dir, 'n');
    expect(r.output).toContain('Will push to');
    expect(r.output).toContain('push cancelled; nothing was deployed');
    expect(r.exitCode).toBe(1);
    expect(await versionsOf(dir)).toEqual([]);
  });
});
