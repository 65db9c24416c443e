// AppSandbox in this process (it is what each worker runs): run-as resolution, including the
// combinations a valid manifest cannot express, arguments and results across the boundary.
import { describe, expect, it } from 'vitest';
import { AppSandbox } from '../../../src/runtime/sandbox.js';
import { anonymousUser, type CallOutcome, type CallRequest } from '../../../src/runtime/types.js';
import { bundleOf, callOf, fnDef, userOf } from './bundle-fixtures.js';

/** The outcome of one call (run() also says whether the worker must be replaced). */
const runCall = async (
  sandbox: { run: (r: CallRequest) => Promise<{ outcome: CallOutcome }> },
  request: CallRequest,
): Promise<CallOutcome> => (await sandbox.run(request)).outcome;

const WHO = 'exports = function () { return { user: context.user.id, system: context.runningAsSystem() }; };';
const SCRIPT = "exports = function () { return 'u-script'; };";

const resultOf = (outcome: CallOutcome): unknown => {
  expect(outcome.error).toBeUndefined();
  return outcome.result?.kind === 'json' ? JSON.parse(outcome.result.json) : outcome.result;
};

describe('AppSandbox run-as', () => {
  const sandbox = new AppSandbox(
    bundleOf('1', [
      fnDef('all', WHO, { runAsSystem: true, runAsUserId: 'u-fixed', runAsUserIdScriptSource: SCRIPT }),
      fnDef('userAndScript', WHO, { runAsUserId: 'u-fixed', runAsUserIdScriptSource: SCRIPT }),
      fnDef('script', WHO, { runAsUserIdScriptSource: SCRIPT }),
      fnDef('scriptSystem', WHO, { runAsUserIdScriptSource: 'exports = function () { return { runAsSystem: true }; };' }),
      fnDef('scriptArgs', WHO, { runAsUserIdScriptSource: 'exports = function ({ as }) { return as; };' }),
      fnDef('scriptEmpty', WHO, { runAsUserIdScriptSource: "exports = function () { return ''; };" }),
      fnDef('scriptThrows', WHO, { runAsUserIdScriptSource: "exports = function () { throw new Error('no user'); };" }),
      fnDef('caller', WHO),
    ]),
  );

  it('run_as_system > run_as_user_id > run_as_user_id_script_source > the caller; context.user stays the caller', async () => {
    const cases: [string, { system: true } | { userId: string }, boolean][] = [
      ['all', { system: true }, true],
      ['userAndScript', { userId: 'u-fixed' }, false],
      ['script', { userId: 'u-script' }, false],
      ['scriptSystem', { system: true }, true],
      ['caller', { userId: 'u-caller' }, false],
    ];
    for (const [name, runAs, system] of cases) {
      const outcome = await runCall(sandbox, callOf(name));
      expect(outcome.runAs, name).toEqual(runAs);
      expect(resultOf(outcome), name).toEqual({ user: 'u-caller', system });
    }
  });

  it('passes the call arguments to the script', async () => {
    expect((await runCall(sandbox, callOf('scriptArgs', [{ as: 'u-arg' }]))).runAs).toEqual({ userId: 'u-arg' });
  });

  it('fails the call with 500 when the script returns no user id or throws', async () => {
    for (const name of ['scriptEmpty', 'scriptThrows', 'scriptArgs']) {
      const outcome = await runCall(sandbox, callOf(name, [{}]));
      expect(outcome.ok, name).toBe(false);
      expect(outcome.error, name).toMatchObject({ code: 'FUNCTION_ERROR', status: 500 });
    }
  });

  it('lets an admin runAs override the manifest', async () => {
    expect((await runCall(sandbox, callOf('all', [], { via: 'admin', runAs: { userId: 'u-admin' } }))).runAs).toEqual({
      userId: 'u-admin',
    });
    const forced = await runCall(sandbox, callOf('caller', [], { via: 'admin', runAs: { system: true } }));
    expect(forced.runAs).toEqual({ system: true });
    expect(resultOf(forced)).toEqual({ user: 'u-caller', system: true });
  });

  it('runs as system for a system caller (the service key) unless the manifest says otherwise', async () => {
    const system = userOf('', { type: 'system' });
    expect((await runCall(sandbox, callOf('caller', [], { via: 'admin', caller: system }))).runAs).toEqual({ system: true });
    expect((await runCall(sandbox, callOf('script', [], { via: 'admin', caller: system }))).runAs).toEqual({ userId: 'u-script' });
  });
});

describe('AppSandbox calls', () => {
  const sandbox = new AppSandbox(
    bundleOf(
      '1',
      [
        fnDef(
          'file',
          'exports = async function ({ f, s }) { return { isFile: f instanceof File, name: f.name, size: f.size, type: f.type, text: await f.text(), s }; };',
        ),
        fnDef('respond', "exports = () => new Response('body', { status: 201, headers: { 'x-a': '1' } });"),
        fnDef('nothing', 'exports = function () {};'),
        fnDef('bigint', 'exports = () => ({ n: 1n });'),
        fnDef('noExport', 'const x = 1;'),
        fnDef('broken', 'exports = function ( {'),
        fnDef('badExpr', 'exports = () => 1;', { canEvaluate: { '%%nope.x': 1 } }),
        fnDef('gated', 'exports = () => 1;', { canEvaluate: { '%%values.open': true } }),
        fnDef(
          'mutate',
          'exports = function () { context.user.data.seen = (context.user.data.seen || 0) + 1; context.request.requestHeaders.x = ["y"]; return [context.user.data.seen, Object.keys(context.request.requestHeaders)]; };',
        ),
        fnDef('chatty', 'exports = () => { for (let i = 0; i < 250; i++) console.log(i); console.error("x".repeat(5000)); return 1; };'),
        fnDef(
          'globals',
          "exports = () => ({ process: typeof process, module: typeof module, req: (() => { try { require('./x'); return 'loaded'; } catch (e) { return e.message; } })(), pkg: (() => { try { require('left-pad'); return 'loaded'; } catch (e) { return e.message; } })() });",
        ),
      ],
      { open: false },
    ),
  );

  it('revives file arguments as File objects', async () => {
    const outcome = await runCall(sandbox, {
      ...callOf('file', [{ s: 'str' }]),
      files: { f: { name: 'a.txt', type: 'text/plain', bytes: new TextEncoder().encode('héllo') } },
    });
    expect(resultOf(outcome)).toEqual({ isFile: true, name: 'a.txt', size: 6, type: 'text/plain', text: 'héllo', s: 'str' });
  });

  it('gives each call its own copy of context.user and context.request: a change stays in that call', async () => {
    const caller = anonymousUser();
    const request = { remoteIPAddress: '127.0.0.1', rawHeaders: ['Host', 'h'], httpMethod: 'POST', rawQueryString: '' };
    for (let i = 0; i < 2; i++)
      expect(resultOf(await runCall(sandbox, callOf('mutate', [{}], { caller, request })))).toEqual([1, ['host', 'x']]);
    expect(caller.data).toEqual({});
    expect(request.rawHeaders).toEqual(['Host', 'h']);
  });

  it('serializes a Response as status, headers and bytes, and undefined as null', async () => {
    const response = (await runCall(sandbox, callOf('respond'))).result;
    expect(response).toMatchObject({ kind: 'response', status: 201 });
    expect(response?.kind === 'response' && new TextDecoder().decode(response.body)).toBe('body');
    expect(response?.kind === 'response' && response.headers).toEqual(expect.arrayContaining([['x-a', '1']]));
    expect((await runCall(sandbox, callOf('nothing'))).result).toEqual({ kind: 'json', json: 'null' });
  });

  it('reports results that are not JSON, sources that do not load or export, and bad expressions as 500s', async () => {
    expect((await runCall(sandbox, callOf('bigint'))).error).toMatchObject({ code: 'RESULT_NOT_SERIALIZABLE', status: 500 });
    expect((await runCall(sandbox, callOf('noExport'))).error).toMatchObject({ code: 'FUNCTION_INVALID', status: 500 });
    expect((await runCall(sandbox, callOf('broken'))).error).toMatchObject({ code: 'FUNCTION_INVALID', status: 500 });
    expect((await runCall(sandbox, callOf('badExpr'))).error).toMatchObject({ code: 'FUNCTION_INVALID', status: 500 });
    expect((await runCall(sandbox, callOf('gated'))).error).toMatchObject({ code: 'EXECUTION_DENIED', status: 403 });
    expect((await runCall(sandbox, callOf('gated', [], { via: 'admin' }))).ok).toBe(true);
  });

  it('keeps the last 200 log lines of a call, each at most 4096 characters', async () => {
    const { logs } = await runCall(sandbox, callOf('chatty'));
    expect(logs).toHaveLength(200);
    expect(logs[0]).toEqual({ level: 'log', message: '51' });
    expect(logs.at(-1)!.level).toBe('error');
    expect(logs.at(-1)!.message).toHaveLength(4097);
  });

  it('gives no process global and no file require; packages only from functions/node_modules', async () => {
    const r = resultOf(await runCall(sandbox, callOf('globals'))) as Record<string, string>;
    expect(r.process).toBe('undefined');
    expect(r.module).toBe('undefined');
    expect(r.req).toMatch(/functions cannot require files/);
    expect(r.pkg).toMatch(/Cannot find module 'left-pad'/);
  });
});

describe('context.functions.execute', () => {
  const sandbox = new AppSandbox(
    bundleOf('1', [
      fnDef('list', 'exports = function (n) { return [n, n + 1]; };'),
      fnDef('later', 'exports = async function (n) { return n * 2; };'),
      fnDef('boom', "exports = function () { throw new Error('sync boom'); };"),
      fnDef('scripted', WHO, { runAsUserIdScriptSource: SCRIPT }),
      fnDef('asyncScripted', WHO, { runAsUserIdScriptSource: "exports = async function () { return 'u-later'; };" }),
      // Real exports use a synchronous callee's value without await.
      fnDef('useSync', "exports = function () { return context.functions.execute('list', 1).map((x) => x * 10); };"),
      fnDef(
        'useAsync',
        "exports = function () { const p = context.functions.execute('later', 2); return { isPromise: typeof p.then === 'function' }; };",
      ),
      fnDef('awaitAsync', "exports = async function () { return await context.functions.execute('later', 2); };"),
      fnDef(
        'catchSync',
        "exports = function () { try { context.functions.execute('boom'); return 'no'; } catch (e) { return e.message; } };",
      ),
      fnDef('whoSync', "exports = function () { return context.functions.execute('scripted'); };"),
      fnDef(
        'whoAsync',
        "exports = async function () { const p = context.functions.execute('asyncScripted'); return { isPromise: typeof p.then === 'function', value: await p }; };",
      ),
      fnDef('missing', "exports = async function () { try { await context.functions.execute('nope'); } catch (e) { return e.message; } };"),
    ]),
  );
  const call = async (name: string) => resultOf(await runCall(sandbox, callOf(name, [])));

  it("gives a synchronous callee's value as it is, usable without await", async () => {
    expect(await call('useSync')).toEqual([10, 20]);
  });

  it("gives an async callee's promise, which await resolves", async () => {
    expect(await call('useAsync')).toEqual({ isPromise: true });
    expect(await call('awaitAsync')).toBe(4);
  });

  it("throws a synchronous callee's error at the call, where try/catch sees it", async () => {
    expect(await call('catchSync')).toBe('sync boom');
  });

  it('resolves run-as scripts at once when they return a user id, and through a promise when they are async', async () => {
    expect(await call('whoSync')).toEqual({ user: 'u-caller', system: false });
    expect(await call('whoAsync')).toEqual({ isPromise: true, value: { user: 'u-caller', system: false } });
  });

  it('rejects an unknown function name', async () => {
    expect(await call('missing')).toBe('function "nope" not found');
  });
});
