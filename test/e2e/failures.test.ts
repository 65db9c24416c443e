// When a function fails, the built CLI points at the user's code: a throwing function's stack,
// cut to the app's frames and mapped to functions/<name>.js:line:col, in the fn dev log, in
// fn invoke (--local, against fn dev, against fn serve with the service key), in the admin logs
// route; never for anonymous or user callers of fn serve. fn invoke shows the function's console
// output when it holds the service key. fn dev starts and keeps serving with broken functions,
// which answer 500 FUNCTION_INVALID naming the file. A call ended by the time limit logs about
// its limit. values/*.json answer the same under fn dev and under fn serve after fn push.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, callFunction, request, startDev, userToken, type DevEvent, type DevServer } from './dev-helpers.js';
import { cleanupTemps, fn, makeApp, tempDir } from './helpers.js';
import { admin, callFunction as callServed, cleanEnv, fnAt, httpRequest, startServe, type ServeProcess } from './serve-helpers.js';

afterAll(() => cleanupTemps());

const APP_ID = 'failapp';
const DEV_KEY = 'failures-dev-key';

// helper's x.notThere throws at line 2, column 12; exports calls helper at line 6, column 10.
const BOOM = `function helper(x) {
  return x.notThere.deeper;
}

exports = async function (args) {
  return helper(args.missing);
};
`;

const FILES: Record<string, string> = {
  'fn.config.json': JSON.stringify({ appId: APP_ID }) + '\n',
  'functions/config.json': JSON.stringify([{ name: 'boom' }, { name: 'greet' }, { name: 'loop' }, { name: 'chatty' }], null, 2) + '\n',
  'functions/boom.js': BOOM,
  'functions/chatty.js': "exports = function () {\n  console.log('about to fail', 42);\n  throw new Error('chatty failed');\n};\n",
  'functions/greet.js':
    "exports = function () {\n  console.log('greeting asked');\n  return { greeting: context.values.get('greeting'), tier: context.environment.values.tier };\n};\n",
  'functions/loop.js': 'exports = function () {\n  for (;;) {}\n};\n',
  'values/greeting.json': JSON.stringify({ name: 'greeting', value: 'hi there' }) + '\n',
  'environments/no-environment.json': JSON.stringify({ values: { tier: 'local' } }) + '\n',
};

const HELPER_FRAME = 'at helper (functions/boom.js:2:12)';
const EXPORTS_FRAME = /^at (async )?exports \(functions\/boom\.js:6:10\)$/;

/** The frames of boom: the user's two, nothing of fn's or Node's. */
function expectBoomStack(stack: unknown): void {
  expect(Array.isArray(stack), JSON.stringify(stack)).toBe(true);
  const frames = stack as string[];
  expect(frames[0]).toBe(HELPER_FRAME);
  expect(frames[1]).toMatch(EXPORTS_FRAME);
  expect(frames).toHaveLength(2);
}

interface CallEntry {
  id: number;
  function: string;
  durationMs: number;
  logs: { level: string; message: string }[];
  error?: { code: string; message: string; stack?: string[] };
}
const isCall = (e: DevEvent): e is DevEvent & { entry: CallEntry } => e.event === 'call';

describe('a throwing function under fn dev and fn invoke', () => {
  let dev: DevServer;
  let app: string;

  beforeAll(async () => {
    app = makeApp(FILES);
    dev = await startDev(app, ['--timeout', '1000', '--no-watch'], { FN_SERVICE_KEY: DEV_KEY });
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('answers the stack to any caller of fn dev, logs it in the call event and in the logs route', async () => {
    const mark = dev.events.length;
    const r = await callFunction(dev, 'boom', {});
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe('FUNCTION_ERROR');
    expectBoomStack(r.json.error.stack);

    const event = (await dev.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === 'boom')) as DevEvent & { entry: CallEntry };
    expectBoomStack(event.entry.error?.stack);

    const id = r.headers.get('x-fn-call-id');
    expect(id).toBe(String(event.entry.id));
    const one = await request(dev, `/api/admin/v1/apps/${APP_ID}/logs/${id}`, { headers: bearer(DEV_KEY) });
    expect(one.status).toBe(200);
    expectBoomStack(one.json.error.stack);
    const list = await request(dev, `/api/admin/v1/apps/${APP_ID}/logs?function=boom`, { headers: bearer(DEV_KEY) });
    expectBoomStack(list.json.logs[0].error.stack);
    // The entry by id needs the service key.
    expect((await request(dev, `/api/admin/v1/apps/${APP_ID}/logs/${id}`)).status).toBe(401);
  });

  it('fn invoke --local prints the stack under the error, exit 1', async () => {
    const r = await fn(['invoke', 'boom', '--local', '--data', '{}'], { cwd: app, env: cleanEnv });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(HELPER_FRAME);
    expect(r.stderr).toMatch(/at (async )?exports \(functions\/boom\.js:6:10\)/);
    expect(r.stderr).not.toMatch(/sandbox\.js|node:internal|dist\//);
  });

  it('fn invoke against fn dev prints the stack; with the service key also the console output', async () => {
    const anonymous = await fn(['invoke', 'boom', '--url', dev.url, '--data', '{}'], { cwd: app, env: cleanEnv });
    expect(anonymous.exitCode).toBe(1);
    expect(anonymous.stderr).toContain(HELPER_FRAME);

    const keyed = await fn(['invoke', 'chatty', '--url', dev.url, '--data', '{}'], {
      cwd: app,
      env: { ...cleanEnv, FN_SERVICE_KEY: DEV_KEY },
    });
    expect(keyed.exitCode).toBe(1);
    expect(keyed.stderr).toContain('about to fail 42');
    expect(keyed.stderr).toContain('at exports (functions/chatty.js:3:9)');

    const greet = await fn(['invoke', 'greet', '--url', dev.url, '--data', '{}'], {
      cwd: app,
      env: { ...cleanEnv, FN_SERVICE_KEY: DEV_KEY },
    });
    expect(greet.exitCode).toBe(0);
    expect(JSON.parse(greet.stdout)).toEqual({ greeting: 'hi there', tier: 'local' });
    expect(greet.stderr).toContain('greeting asked');
    expect(greet.stdout).not.toContain('greeting asked');
  });

  it('logs about the time limit for a call it ended, not 0 ms', async () => {
    const mark = dev.events.length;
    const r = await callFunction(dev, 'loop', {});
    expect(r.status).toBe(504);
    const event = (await dev.waitFor((e, i) => i >= mark && isCall(e) && e.entry.function === 'loop')) as DevEvent & { entry: CallEntry };
    expect(event.entry.durationMs).toBeGreaterThanOrEqual(900);
    expect(event.entry.durationMs).toBeLessThan(30_000);
  });
});

describe('fn serve after fn push: the same values, stacks only for the service key', () => {
  let server: ServeProcess;
  let dev: DevServer;
  let app: string;

  beforeAll(async () => {
    app = makeApp(FILES);
    [server, dev] = await Promise.all([startServe(tempDir('fn-fail-serve-')), startDev(app, ['--no-watch'])]);
    const pushed = await fnAt(server, 'push', app, ['--yes']);
    expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), dev?.stop()]);
  });

  it("context.values.get('greeting') and context.environment answer the same under fn dev and fn serve", async () => {
    const underDev = await callFunction(dev, 'greet', {});
    const underServe = await callServed(server.url, APP_ID, 'greet', {});
    expect(underDev.json).toEqual({ greeting: 'hi there', tier: 'local' });
    expect(underServe.status).toBe(200);
    expect(underServe.json).toEqual(underDev.json);
  });

  it('a push that changes only values/ deploys them', async () => {
    writeFileSync(join(app, 'values', 'greeting.json'), JSON.stringify({ name: 'greeting', value: 'hello again' }) + '\n');
    const plan = await fnAt(server, 'push', app, ['--dry-run']);
    expect(plan.stdout).toContain('values/greeting.json');
    const pushed = await fnAt(server, 'push', app, ['--yes']);
    expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
    expect((await callServed(server.url, APP_ID, 'greet', {})).json).toEqual({ greeting: 'hello again', tier: 'local' });
    const again = await fnAt(server, 'push', app, ['--yes']);
    expect(again.stdout).toContain('up to date');
  });

  it('a push from a folder without values/ (as fn pull leaves it) keeps the deployed values', async () => {
    const copy = tempDir('fn-fail-pulled-');
    const pulled = await fnAt(server, 'pull', copy, ['--app-id', APP_ID]);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    // A new folder gets the deployed values; then this one goes without them.
    expect(JSON.parse(readFileSync(join(copy, 'values', 'greeting.json'), 'utf8'))).toEqual({ name: 'greeting', value: 'hello again' });
    rmSync(join(copy, 'values'), { recursive: true });
    writeFileSync(join(copy, 'functions', 'loop.js'), 'exports = function () {\n  return "no loop";\n};\n');
    const pushed = await fnAt(server, 'push', copy, ['--yes']);
    expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
    expect((await callServed(server.url, APP_ID, 'loop', {})).json).toBe('no loop');
    expect((await callServed(server.url, APP_ID, 'greet', {})).json).toEqual({ greeting: 'hello again', tier: 'local' });
  });

  it('never answers a stack to anonymous or user callers; the service key gets it', async () => {
    const anonymous = await callServed(server.url, APP_ID, 'boom', {});
    expect(anonymous.status).toBe(500);
    expect(anonymous.json.error).toEqual({ code: 'FUNCTION_ERROR', message: expect.stringContaining('notThere') });
    const token = await userToken({ ...dev, url: server.url, appId: APP_ID, serviceKey: server.serviceKey }, 'u1');
    const user = await callServed(server.url, APP_ID, 'boom', {}, bearer(token));
    expect(user.status).toBe(500);
    expect(user.json.error.stack).toBeUndefined();
    expect(user.text).not.toContain('boom.js');
    const service = await callServed(server.url, APP_ID, 'boom', {}, bearer(server.serviceKey));
    expectBoomStack(service.json.error.stack);
    // The log has it for the anonymous call too, behind the service key.
    const entry = await admin(server, APP_ID, `logs/${anonymous.headers.get('x-fn-call-id')}`);
    expectBoomStack(entry.json.error.stack);
    expect((await httpRequest(`${server.url}/api/admin/v1/apps/${APP_ID}/logs/${anonymous.headers.get('x-fn-call-id')}`)).status).toBe(401);
  });

  it('fn invoke shows the stack and console output only when it holds the service key', async () => {
    const without = await fn(['invoke', 'chatty', '--url', server.url, '--app-id', APP_ID, '--data', '{}'], {
      cwd: tempDir(),
      env: cleanEnv,
    });
    expect(without.exitCode).toBe(1);
    expect(without.stderr).not.toContain('chatty.js');
    expect(without.stderr).not.toContain('about to fail');
    const withKey = await fn(
      ['invoke', 'chatty', '--url', server.url, '--app-id', APP_ID, '--data', '{}', '--service-key', server.serviceKey],
      { cwd: tempDir(), env: cleanEnv },
    );
    expect(withKey.exitCode).toBe(1);
    expect(withKey.stderr).toContain('at exports (functions/chatty.js:3:9)');
    expect(withKey.stderr).toContain('about to fail 42');
  });
});

describe('fn dev with broken functions', () => {
  const good = "exports = function () {\n  return 'good';\n};\n";
  let dev: DevServer;
  let app: string;
  const since = (mark: number, kind: string) => dev.waitFor((e, i) => i >= mark && e.event === kind, 10_000);

  beforeAll(async () => {
    app = makeApp({
      'fn.config.json': JSON.stringify({ appId: APP_ID }) + '\n',
      'functions/config.json':
        JSON.stringify([
          { name: 'good' },
          { name: 'other' },
          { name: 'bad' },
          { name: 'conflicted', run_as_user_id: 'u1', run_as_user_id_script_source: "exports = () => 'u2';" },
        ]) + '\n',
      'functions/good.js': good,
      'functions/other.js': "exports = function () {\n  return 'other';\n};\n",
      'functions/bad.js': 'exports = function () {\n  const x = ;\n};\n',
      'functions/conflicted.js': good,
    });
    dev = await startDev(app);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('starts, lists what cannot run, and serves every other function', async () => {
    const listening = dev.events[0]!;
    expect(listening.event).toBe('listening');
    expect((listening.broken as { functions: { name: string }[] }).functions.map((f) => f.name).sort()).toEqual(['bad', 'conflicted']);
    const bad = await callFunction(dev, 'bad', {});
    expect(bad.status).toBe(500);
    expect(bad.json.error.code).toBe('FUNCTION_INVALID');
    expect(bad.json.error.message).toMatch(/functions\/bad\.js:2:\d+: .*Unexpected token/);
    const conflicted = await callFunction(dev, 'conflicted', {});
    expect(conflicted.status).toBe(500);
    expect(conflicted.json.error.message).toMatch(/functions\/config\.json:\d+:\d+: /);
    expect((await callFunction(dev, 'good', {})).json).toBe('good');
    expect((await callFunction(dev, 'other', {})).json).toBe('other');
  });

  it('after an edit breaks a function, calls to it say so and calls to the others are unaffected; the fix is served', async () => {
    let mark = dev.events.length;
    writeFileSync(join(app, 'functions/good.js'), "exports = function () {\n  return 'good' +;\n};\n");
    const reloaded = await since(mark, 'reloaded');
    expect(reloaded.changed).toEqual(['functions/good.js']);
    expect((reloaded.broken as { functions: { name: string }[] }).functions.map((f) => f.name)).toContain('good');
    const broken = await callFunction(dev, 'good', {});
    expect(broken.status).toBe(500);
    expect(broken.json.error).toMatchObject({ code: 'FUNCTION_INVALID', message: expect.stringContaining('functions/good.js:2:') });
    expect((await callFunction(dev, 'other', {})).json).toBe('other');

    mark = dev.events.length;
    writeFileSync(join(app, 'functions/good.js'), good.replace("'good'", "'fixed'"));
    await since(mark, 'reloaded');
    expect((await callFunction(dev, 'good', {})).json).toBe('fixed');
  });

  it('a manifest that cannot be read makes every call say so; fixing it serves again', async () => {
    const manifest = JSON.stringify([{ name: 'good' }, { name: 'other' }]) + '\n';
    let mark = dev.events.length;
    writeFileSync(join(app, 'functions/config.json'), '[{"name": "good"},');
    const reloaded = await since(mark, 'reloaded');
    expect(String((reloaded.broken as { app?: string }).app)).toContain('functions/config.json');
    const r = await callFunction(dev, 'other', {});
    expect(r.status).toBe(500);
    expect(r.json.error).toMatchObject({ code: 'FUNCTION_INVALID', message: expect.stringContaining('functions/config.json:') });
    mark = dev.events.length;
    writeFileSync(join(app, 'functions/config.json'), manifest);
    await since(mark, 'reloaded');
    expect((await callFunction(dev, 'other', {})).json).toBe('other');
  });
});
