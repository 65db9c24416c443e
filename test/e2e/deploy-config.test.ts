// Values, environments, secrets and npm dependencies, end to end: the same app answers the same
// under fn invoke --local, fn dev and fn serve after fn push. Secrets are set with fn secrets (in
// .fn/secrets.json, or on fn serve with --remote) and never come back as text.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDev, callFunction as callDev } from './dev-helpers.js';
import { cleanupTemps, fn, makeApp, tempDir } from './helpers.js';
import { admin, callFunction, cleanEnv, fnAt, startServe, type ServeProcess } from './serve-helpers.js';

let server: ServeProcess;
let nextApp = 0;

beforeAll(async () => {
  server = await startServe(tempDir('fn-serve-config-'));
});

afterAll(async () => {
  await server?.stop();
  cleanupTemps();
});

const SECRET = 'sk_live_do-not-print-4f2a9c';

/** An app with values (plain, from an environment, from a secret) and a function that shows them. */
function valuesApp(): { dir: string; appId: string } {
  const appId = `cfg-${++nextApp}-${process.pid}`;
  const dir = makeApp({
    'fn.config.json': JSON.stringify({ appId }),
    'root_config.json': JSON.stringify({ name: 'cfg', environment: 'development' }),
    'environments/development.json': JSON.stringify({ values: { baseUrl: 'https://dev.example.com', retries: 3 } }),
    'environments/production.json': JSON.stringify({ values: { baseUrl: 'https://example.com', retries: 5 } }),
    'values/plain.json': JSON.stringify({ name: 'plain', value: { a: 1, list: ['x'] } }),
    'values/apiUrl.json': JSON.stringify({ name: 'apiUrl', value: '%(%%environment.values.baseUrl)' }),
    'values/endpoint.json': JSON.stringify({ name: 'endpoint', value: '%(%%environment.values.baseUrl)/v1?env=%(%%environment.tag)' }),
    'values/apiKey.json': JSON.stringify({ name: 'apiKey', from_secret: true, value: 'stripeKey' }),
    'functions/config.json': JSON.stringify([{ name: 'show' }]),
    'functions/show.js': `exports = function () {
  return {
    plain: context.values.get('plain'),
    apiUrl: context.values.get('apiUrl'),
    endpoint: context.values.get('endpoint'),
    apiKeyLength: (context.values.get('apiKey') || '').length,
    apiKeyMatches: context.values.get('apiKey') === ${JSON.stringify(SECRET)},
    missing: context.values.get('nothing') === undefined,
    tag: context.environment.tag,
    envValues: context.environment.values,
  };
};
`,
  });
  return { dir, appId };
}

const EXPECTED = {
  plain: { a: 1, list: ['x'] },
  apiUrl: 'https://dev.example.com',
  endpoint: 'https://dev.example.com/v1?env=development',
  apiKeyLength: SECRET.length,
  apiKeyMatches: true,
  missing: true,
  tag: 'development',
  envValues: { baseUrl: 'https://dev.example.com', retries: 3 },
};

async function invokeLocal(dir: string, name: string): Promise<{ ok: boolean; status: number; data: any; error?: { message: string } }> {
  const r = await fn(['invoke', name, '--local', '--json'], { cwd: dir, env: cleanEnv });
  return JSON.parse(r.stdout);
}

describe('values, environments and secrets', () => {
  it('fn secrets set/list/unset keep .fn/secrets.json (0600) and never print a value', async () => {
    const { dir } = valuesApp();
    const set = await fn(['secrets', 'set', 'stripeKey', SECRET], { cwd: dir });
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.stdout).toContain('stripeKey');
    const file = join(dir, '.fn', 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await fn(['secrets', 'set', 'other', '--stdin'], { cwd: dir, input: 'from-stdin-value\n' });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).secrets.other.value).toBe('from-stdin-value');
    const list = await fn(['secrets', 'list', '--json'], { cwd: dir });
    expect(list.exitCode).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.secrets.map((s: { name: string }) => s.name)).toEqual(['other', 'stripeKey']);
    expect(listed.secrets[0].updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    for (const out of [set.stdout, set.stderr, list.stdout, again.stdout]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain('from-stdin-value');
    }
    const unset = await fn(['secrets', 'unset', 'other'], { cwd: dir });
    expect(unset.exitCode).toBe(0);
    const gone = await fn(['secrets', 'unset', 'other'], { cwd: dir });
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain('no secret "other"');
    // No terminal and no value: refused, naming --stdin.
    const none = await fn(['secrets', 'set', 'x'], { cwd: dir });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('--stdin');
    const badName = await fn(['secrets', 'set', 'bad name', 'v'], { cwd: dir });
    expect(badName.exitCode).toBe(2);
  });

  it('[slow] a secret value without its secret: a validate and fn dev warning locally, undefined in the function', async () => {
    const { dir } = valuesApp();
    const v = await fn(['validate', '--format', 'json'], { cwd: dir });
    const diagnostics = JSON.parse(v.stdout).apps?.[0]?.diagnostics ?? JSON.parse(v.stdout).diagnostics;
    const warning = diagnostics.find((d: { rule: string }) => d.rule === 'missing-secret');
    expect(warning, v.stdout).toBeDefined();
    expect(warning.message).toContain('"apiKey"');
    expect(warning.message).toContain('"stripeKey"');
    expect(v.exitCode).toBe(0);
    const r = await invokeLocal(dir, 'show');
    expect(r.ok).toBe(true);
    expect(r.data.apiKeyLength).toBe(0);
    // fn dev says so when it starts.
    const dev = await startDev(dir);
    try {
      const listening = (await dev.waitFor((e) => e.event === 'listening')) as { diagnostics?: { rule: string; severity: string }[] };
      const shown = listening.diagnostics ?? [];
      expect(shown).toContainEqual(expect.objectContaining({ rule: 'missing-secret', severity: 'warning' }));
    } finally {
      await dev.stop();
    }
  });

  it('[slow] context.values and context.environment answer the same in invoke --local, fn dev and fn serve', async () => {
    const { dir, appId } = valuesApp();
    expect((await fn(['secrets', 'set', 'stripeKey', SECRET], { cwd: dir })).exitCode).toBe(0);

    const local = await invokeLocal(dir, 'show');
    expect(local.ok, JSON.stringify(local)).toBe(true);
    expect(local.data).toEqual(EXPECTED);

    const dev = await startDev(dir);
    try {
      const r = await callDev(dev, 'show', {});
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual(EXPECTED);
      // fn secrets set while fn dev runs: read from the next version on.
      const mark = dev.events.length;
      expect((await fn(['secrets', 'set', 'stripeKey', 'changed'], { cwd: dir })).exitCode).toBe(0);
      await dev.waitFor((e, i) => i >= mark && e.event === 'reloaded');
      expect((await callDev(dev, 'show', {})).json.apiKeyLength).toBe('changed'.length);
      expect(dev.stderr()).not.toContain(SECRET);
      expect(JSON.stringify(dev.events)).not.toContain(SECRET);
    } finally {
      expect((await fn(['secrets', 'set', 'stripeKey', SECRET], { cwd: dir })).exitCode).toBe(0);
      await dev.stop();
    }

    // fn push refuses while the server lacks the secret: it names the value, the secret and the fix.
    const refused = await fnAt(server, 'push', dir, ['--yes']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('value "apiKey"');
    expect(refused.stderr).toContain('secret "stripeKey"');
    expect(refused.stderr).toContain('fn secrets set stripeKey --remote');
    expect(refused.stderr + refused.stdout).not.toContain(SECRET);

    const remoteSet = await fn(
      ['secrets', 'set', 'stripeKey', '--stdin', '--remote', '--url', server.url, '--service-key', server.serviceKey],
      {
        cwd: dir,
        env: cleanEnv,
        input: SECRET,
      },
    );
    expect(remoteSet.exitCode, remoteSet.stderr).toBe(0);
    const pushed = await fnAt(server, 'push', dir, ['--yes']);
    expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
    const r = await callFunction(server.url, appId, 'show');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual(EXPECTED);

    // The admin route lists names and times only; the stored file is 0600; nothing printed the value.
    const listed = await admin(server, appId, 'secrets');
    expect(listed.status).toBe(200);
    expect(listed.json.secrets).toEqual([{ name: 'stripeKey', updatedAt: expect.stringMatching(/^\d{4}-/) }]);
    expect(listed.text).not.toContain(SECRET);
    const stored = join(server.dataDir, 'secrets', `${encodeURIComponent(appId)}.json`);
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    const remoteList = await fn(['secrets', 'list', '--remote', '--url', server.url, '--service-key', server.serviceKey], {
      cwd: dir,
      env: cleanEnv,
    });
    expect(remoteList.exitCode).toBe(0);
    expect(remoteList.stdout).toContain('stripeKey');
    expect(JSON.stringify(server.events)).not.toContain(SECRET);
    expect(server.stderr()).not.toContain(SECRET);
    const deployment = await admin(server, appId, 'deployment');
    expect(deployment.text).not.toContain(SECRET);

    // A new value is read from the next call on; unset makes it undefined.
    const changed = await fn(
      ['secrets', 'set', 'stripeKey', 'short', '--remote', '--url', server.url, '--service-key', server.serviceKey],
      {
        cwd: dir,
        env: cleanEnv,
      },
    );
    expect(changed.exitCode).toBe(0);
    expect((await callFunction(server.url, appId, 'show')).json.apiKeyLength).toBe(5);
    const removed = await fn(['secrets', 'unset', 'stripeKey', '--remote', '--url', server.url, '--service-key', server.serviceKey], {
      cwd: dir,
      env: cleanEnv,
    });
    expect(removed.exitCode).toBe(0);
    expect((await callFunction(server.url, appId, 'show')).json.apiKeyLength).toBe(0);
  });

  it('another environment tag: the values of environments/<tag>.json, the same in dev and serve', async () => {
    const { dir, appId } = valuesApp();
    writeFileSync(join(dir, 'root_config.json'), JSON.stringify({ name: 'cfg', environment: 'production' }));
    writeFileSync(join(dir, 'values', 'apiKey.json'), JSON.stringify({ name: 'apiKey', value: SECRET }));
    const local = await invokeLocal(dir, 'show');
    expect(local.data).toMatchObject({
      tag: 'production',
      apiUrl: 'https://example.com',
      endpoint: 'https://example.com/v1?env=production',
    });
    expect((await fnAt(server, 'push', dir, ['--yes'])).exitCode).toBe(0);
    expect((await callFunction(server.url, appId, 'show')).json).toEqual(local.data);
  });
});

describe('the admin routes guard what a push checks', () => {
  it('a deployment whose values read a missing secret is refused (409 MISSING_SECRET), as is one naming packages never sent', async () => {
    const appId = `raw-${++nextApp}-${process.pid}`;
    const body = (extra: Record<string, unknown>) =>
      JSON.stringify({ manifest: '[]\n', set: {}, delete: [], blobs: {}, summary: 'raw', ...extra });
    const secret = await admin(server, appId, 'deployments', {
      method: 'POST',
      body: body({ values: { 'k.json': JSON.stringify({ name: 'k', from_secret: true, value: 'nope' }) } }),
    });
    expect(secret.status).toBe(409);
    expect(secret.json.error.code).toBe('MISSING_SECRET');
    expect(secret.json.error.message).toContain('"nope"');
    const deps = await admin(server, appId, 'deployments', { method: 'POST', body: body({ dependencies: { hash: 'f'.repeat(64) } }) });
    expect(deps.status).toBe(409);
    expect(deps.json.error.code).toBe('MISSING_DEPENDENCIES');
    const bogus = await admin(server, appId, 'dependencies/' + 'f'.repeat(64), { method: 'PUT', body: 'not a tarball' });
    expect(bogus.status).toBe(400);
    // A value is never given back, and a bad name is refused.
    expect((await admin(server, appId, 'secrets/bad%20name', { method: 'PUT', body: '{"value":"v"}' })).status).toBe(400);
    expect((await admin(server, appId, 'secrets/k', { method: 'PUT', body: '{"value":"hidden-value-77"}' })).status).toBe(200);
    expect((await admin(server, appId, 'secrets')).text).not.toContain('hidden-value-77');
    expect((await admin(server, appId, 'secrets/k', { method: 'DELETE' })).status).toBe(200);
    expect((await admin(server, appId, 'secrets/k', { method: 'DELETE' })).json.error.code).toBe('SECRET_NOT_FOUND');
  });
});

/** A package "greet" in node_modules form, under `base` (base/node_modules/greet). */
function writeGreet(base: string, greeting: string): void {
  mkdirSync(join(base, 'node_modules', 'greet'), { recursive: true });
  writeFileSync(join(base, 'node_modules', 'greet', 'package.json'), JSON.stringify({ name: 'greet', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(base, 'node_modules', 'greet', 'index.js'), `module.exports = (n) => ${JSON.stringify(greeting)} + ', ' + n;\n`);
  mkdirSync(join(base, 'node_modules', '@scope', 'util'), { recursive: true });
  writeFileSync(join(base, 'node_modules', '@scope', 'util', 'package.json'), JSON.stringify({ name: '@scope/util', version: '2.0.0' }));
  writeFileSync(join(base, 'node_modules', '@scope', 'util', 'index.js'), 'exports.twice = (x) => x * 2;\n');
}

function depsApp(): { dir: string; appId: string } {
  const appId = `deps-${++nextApp}-${process.pid}`;
  const dir = makeApp({
    'fn.config.json': JSON.stringify({ appId }),
    'functions/package.json': JSON.stringify({ name: 'fns', dependencies: { greet: '^1.0.0', '@scope/util': '^2.0.0' } }),
    'functions/config.json': JSON.stringify([{ name: 'hello' }, { name: 'missing' }, { name: 'peek' }]),
    'functions/hello.js': `exports = function ({ who }) {\n  const greet = require('greet');\n  return { text: greet(who), twice: require('@scope/util').twice(21) };\n};\n`,
    'functions/missing.js': `exports = function () {\n  return require('left-pad/index.js')('x', 3);\n};\n`,
    'functions/peek.js': `exports = function ({ path }) {\n  try { return { read: require('fs').readFileSync(path, 'utf8').length }; } catch (e) { return { refused: String(e.code || e.message) }; }\n};\n`,
  });
  writeGreet(join(dir, 'functions'), 'Hello');
  return { dir, appId };
}

describe('dependencies', () => {
  it('[slow] require() of functions/node_modules answers the same in invoke --local, fn dev and fn serve; push sends a set once', async () => {
    const { dir, appId } = depsApp();
    const local = JSON.parse(
      (await fn(['invoke', 'hello', '--local', '--json', '--data', '{"who":"Ada"}'], { cwd: dir, env: cleanEnv })).stdout,
    );
    expect(local.data).toEqual({ text: 'Hello, Ada', twice: 42 });

    const dev = await startDev(dir);
    try {
      const r = await callDev(dev, 'hello', { who: 'Ada' });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual(local.data);
    } finally {
      await dev.stop();
    }

    const first = await fnAt(server, 'push', dir, ['--yes']);
    expect(first.exitCode, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain('dependencies: 2 packages (changed)');
    const served = await callFunction(server.url, appId, 'hello', { who: 'Ada' });
    expect(served.status, served.text).toBe(200);
    expect(served.json).toEqual(local.data);
    const deps = readdirSync(join(server.dataDir, 'apps', appId, 'deps')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    expect(deps).toHaveLength(1);

    // A function change alone: the set is unchanged and not sent again.
    writeFileSync(join(dir, 'functions', 'hello.js'), readFileSync(join(dir, 'functions', 'hello.js'), 'utf8').replace('21', '5'));
    const second = await fnAt(server, 'push', dir, ['--yes', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    const secondResult = JSON.parse(second.stdout);
    expect(secondResult.dependencies).toMatchObject({ packages: 2, changed: false });
    expect(secondResult.bytesSent).toBeLessThan(4000);
    expect((await callFunction(server.url, appId, 'hello', { who: 'Bo' })).json).toEqual({ text: 'Hello, Bo', twice: 10 });
    const plan = await fnAt(server, 'push', dir, ['--dry-run']);
    expect(plan.stdout).not.toContain('dependencies: 2 packages (changed)');

    // A changed package: a new set, served from the next call on.
    writeGreet(join(dir, 'functions'), 'Hi');
    const third = await fnAt(server, 'push', dir, ['--yes']);
    expect(third.stdout).toContain('dependencies: 2 packages (changed)');
    expect((await callFunction(server.url, appId, 'hello', { who: 'Cy' })).json.text).toBe('Hi, Cy');

    // A folder pulled from the server has no packages: its push keeps the deployed ones.
    const copy = tempDir('fn-pulled-deps-');
    expect((await fnAt(server, 'pull', copy, ['--app-id', appId])).exitCode).toBe(0);
    writeFileSync(
      join(copy, 'functions', 'hello.js'),
      readFileSync(join(copy, 'functions', 'hello.js'), 'utf8').replace('twice(5)', 'twice(6)'),
    );
    const fromCopy = await fnAt(server, 'push', copy, ['--yes', '--json']);
    expect(fromCopy.exitCode, fromCopy.stderr).toBe(0);
    expect(JSON.parse(fromCopy.stdout).dependencies).toBeUndefined();
    expect((await callFunction(server.url, appId, 'hello', { who: 'Di' })).json).toEqual({ text: 'Hi, Di', twice: 12 });
    // The folder is behind the server now: pull first.
    expect((await fnAt(server, 'pull', dir, ['--force'])).exitCode).toBe(0);

    // A require of a package the app lacks names it and says what to do, everywhere.
    const missingLocal = await fn(['invoke', 'missing', '--local', '--json'], { cwd: dir, env: cleanEnv });
    expect(missingLocal.exitCode).toBe(1);
    const missingServed = await callFunction(server.url, appId, 'missing');
    expect(missingServed.status).toBe(500);
    for (const text of [missingLocal.stdout, missingServed.text]) {
      expect(text).toContain("'left-pad'");
      expect(text).toContain('add it to functions/package.json and run npm install in functions/');
    }
  });

  it('[slow] the exported functions/node_modules.tar.gz is unpacked into .fn/deps, never into functions/, and deploys', async () => {
    const { dir, appId } = depsApp();
    const staging = tempDir('fn-archive-');
    writeGreet(staging, 'Howdy');
    // The archive App Services exports, with the folder moved out of the app.
    await tar.c({ gzip: true, cwd: staging, file: join(dir, 'functions', 'node_modules.tar.gz') }, ['node_modules']);
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'functions', 'node_modules'), { recursive: true });

    const local = JSON.parse(
      (await fn(['invoke', 'hello', '--local', '--json', '--data', '{"who":"Ada"}'], { cwd: dir, env: cleanEnv })).stdout,
    );
    expect(local.data).toEqual({ text: 'Howdy, Ada', twice: 42 });
    expect(existsSync(join(dir, 'functions', 'node_modules'))).toBe(false);
    const unpacked = readdirSync(join(dir, '.fn', 'deps'));
    expect(unpacked).toHaveLength(1);
    expect(existsSync(join(dir, '.fn', 'deps', unpacked[0]!, 'node_modules', 'greet', 'index.js'))).toBe(true);

    const dev = await startDev(dir);
    try {
      expect((await callDev(dev, 'hello', { who: 'Ada' })).json).toEqual(local.data);
    } finally {
      await dev.stop();
    }

    const pushed = await fnAt(server, 'push', dir, ['--yes']);
    expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
    expect(pushed.stdout).toContain('dependencies: 2 packages (changed)');
    expect((await callFunction(server.url, appId, 'hello', { who: 'Ada' })).json).toEqual(local.data);
  });

  it("[slow] an app's runner reads its own packages, not another app's", async () => {
    const a = depsApp();
    const b = depsApp();
    writeGreet(join(b.dir, 'functions'), 'Other');
    expect((await fnAt(server, 'push', a.dir, ['--yes'])).exitCode).toBe(0);
    expect((await fnAt(server, 'push', b.dir, ['--yes'])).exitCode).toBe(0);
    const depsOf = (appId: string) => {
      const root = join(server.dataDir, 'apps', appId, 'deps');
      const hash = readdirSync(root).find((n) => /^[0-9a-f]{64}$/.test(n))!;
      return join(root, hash, 'node_modules', 'greet', 'index.js');
    };
    const own = await callFunction(server.url, a.appId, 'peek', { path: depsOf(a.appId) });
    expect(own.json.read).toBeGreaterThan(0);
    const other = await callFunction(server.url, a.appId, 'peek', { path: depsOf(b.appId) });
    expect(other.json.refused).toBe('ERR_ACCESS_DENIED');
  });

  it('package.json lists dependencies with nothing installed: push refuses and says to run npm install', async () => {
    const { dir } = depsApp();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'functions', 'node_modules'), { recursive: true });
    const r = await fnAt(server, 'push', dir, ['--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('run npm install in functions/');
  });
});
