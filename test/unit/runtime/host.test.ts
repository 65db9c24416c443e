// RuntimeHost runs functions in worker threads spawned from dist/runtime/worker.js (next to the
// module, by import.meta.url), so this test imports the built module: run the build first.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeHost as RuntimeHostClass } from '../../../src/runtime/host.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
import { CLAIM_SLOTS, encodeCall, offerCall } from '../../../src/runtime/wire.js';
import { bundleOf, callOf, fnDef } from './bundle-fixtures.js';

const distHost = new URL('../../../dist/runtime/host.js', import.meta.url).href;
const { RuntimeHost } = (await import(distHost)) as typeof import('../../../src/runtime/host.js');

const hosts: RuntimeHostClass[] = [];
function makeHost(limits: ConstructorParameters<typeof RuntimeHost>[0] = {}): RuntimeHostClass {
  const host = new RuntimeHost(limits);
  hosts.push(host);
  return host;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const resultOf = (outcome: CallOutcome): unknown => {
  expect(outcome.error).toBeUndefined();
  expect(outcome.result?.kind).toBe('json');
  return JSON.parse((outcome.result as { json: string }).json);
};

const slow = (version: number, ms: number) =>
  fnDef('slow', `exports = async function () {\n  await new Promise((r) => setTimeout(r, ${ms}));\n  return { version: ${version} };\n};`);

describe('RuntimeHost', () => {
  it('runs a call of the app set with setApp, in a worker', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(bundleOf('1', [fnDef('sum', 'exports = function ({ a, b }) { console.log("adding", a, b); return a + b; };')]));
    expect(host.app?.version).toBe('1');
    const outcome = await host.call(callOf('sum', [{ a: 2, b: 3 }]));
    expect(outcome.ok).toBe(true);
    expect(resultOf(outcome)).toBe(5);
    expect(outcome.logs).toEqual([{ level: 'log', message: 'adding 2 3' }]);
    expect(outcome.runAs).toEqual({ userId: 'u-caller' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('answers 404 before any app is set, for a missing function, and for a private one called by a client', async () => {
    const host = makeHost({ workers: 1 });
    expect((await host.call(callOf('sum'))).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND', status: 404 });
    host.setApp(bundleOf('1', [fnDef('hidden', 'exports = () => "secret";', { private: true })]));
    expect((await host.call(callOf('nope'))).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND', status: 404 });
    expect((await host.call(callOf('hidden'))).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND', status: 404 });
    expect((await host.call(callOf('toString'))).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND', status: 404 });
    expect(resultOf(await host.call(callOf('hidden', [], { via: 'admin' })))).toBe('secret');
  });

  it('finishes a call in flight on the old version when a new one is set; the next call gets the new code', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(bundleOf('1', [slow(1, 400)]));
    // Warm up so the worker is running the slow call (not still starting) when the version changes.
    expect(resultOf(await host.call(callOf('slow')))).toEqual({ version: 1 });
    const inFlight = host.call(callOf('slow'));
    await sleep(100);
    host.setApp(bundleOf('2', [slow(2, 10)]));
    const next = host.call(callOf('slow'));
    const [old, fresh] = await Promise.all([inFlight, next]);
    expect(resultOf(old)).toEqual({ version: 1 });
    expect(resultOf(fresh)).toEqual({ version: 2 });
    expect(resultOf(await host.call(callOf('slow')))).toEqual({ version: 2 });
  });

  it('answers 429 TOO_MANY_REQUESTS past the concurrency limit, and serves again once calls finish', async () => {
    const host = makeHost({ workers: 1, concurrency: 2 });
    host.setApp(bundleOf('1', [slow(1, 300)]));
    const running = [host.call(callOf('slow')), host.call(callOf('slow'))];
    const refused = await host.call(callOf('slow'));
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429 });
    expect(refused.durationMs).toBeLessThan(100);
    for (const outcome of await Promise.all(running)) expect(resultOf(outcome)).toEqual({ version: 1 });
    expect(resultOf(await host.call(callOf('slow')))).toEqual({ version: 1 });
  });

  it('ends a call past the time limit with 504 and replaces the worker', async () => {
    const host = makeHost({ workers: 1, timeoutMs: 300 });
    host.setApp(bundleOf('1', [fnDef('loop', 'exports = function () { for (;;) {} };'), fnDef('ok', 'exports = () => "ok";')]));
    const outcome = await host.call(callOf('loop'));
    expect(outcome.error).toMatchObject({ code: 'EXECUTION_TIME_LIMIT', status: 504 });
    // It ran for its limit, and says so.
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(resultOf(await host.call(callOf('ok')))).toBe('ok');
  });

  it('reports a worker that exits with 500 WORKER_EXITED and keeps serving', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(
      bundleOf('1', [fnDef('exit', 'exports = function () { require("process").exit(3); };'), fnDef('ok', 'exports = () => "ok";')]),
    );
    const outcome = await host.call(callOf('exit'));
    expect(outcome.error).toMatchObject({ code: 'WORKER_EXITED', status: 500 });
    expect(outcome.error?.message).toContain('exit code 3');
    expect(resultOf(await host.call(callOf('ok')))).toBe('ok');
  });

  it('does not fail a call with the unhandled rejection of an earlier, finished call', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(
      bundleOf('1', [
        fnDef('lateReject', "exports = function () { setTimeout(() => Promise.reject(new Error('late')), 50); return 'returned'; };"),
        slow(1, 200),
      ]),
    );
    expect(resultOf(await host.call(callOf('lateReject')))).toBe('returned');
    const next = await host.call(
      callOf('slow', [{}], { caller: { id: 'u-other', type: 'normal', data: {}, custom_data: {}, identities: [] } }),
    );
    expect(next.error).toBeUndefined();
    expect(resultOf(next)).toEqual({ version: 1 });
  });

  // The policy itself is tested on a fake clock (schedule.test.ts); this only checks the host applies it.
  it('starts more workers (up to maxWorkers) while calls wait behind slow ones, and stops them when idle', async () => {
    const host = makeHost({ workers: 1, maxWorkers: 3, workerIdleMs: 300 });
    host.setApp(
      bundleOf('1', [
        fnDef(
          'io',
          "exports = async function () { await new Promise((r) => setTimeout(r, 1000)); return require('worker_threads').threadId; };",
        ),
      ]),
    );
    await host.call(callOf('io'));
    const burst = async () => new Set((await Promise.all([1, 2, 3].map(() => host.call(callOf('io'))))).map(resultOf));
    const first = await burst();
    expect(first.size).toBe(3);
    await sleep(1500);
    // The kept worker answers again; the two started for the first burst are gone, two new ones came.
    const second = await burst();
    expect(second.size).toBe(3);
    expect([...second].filter((id) => first.has(id))).toHaveLength(1);
  });

  it('settles every call sent in the same turn as a crash, a new version or close()', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(
      bundleOf('1', [fnDef('exit', 'exports = function () { require("process").exit(3); };'), fnDef('ok', 'exports = () => "ok 1";')]),
    );
    expect(resultOf(await host.call(callOf('ok')))).toBe('ok 1');
    // One message: the first call ends the worker; the one behind it has not started and runs elsewhere.
    const [crashed, after] = await Promise.all([host.call(callOf('exit')), host.call(callOf('ok'))]);
    expect(crashed.error).toMatchObject({ code: 'WORKER_EXITED', status: 500 });
    expect(resultOf(after)).toBe('ok 1');
    // Sent, then a new version in the same turn: the call finishes on the version it was sent to.
    const sent = host.call(callOf('ok'));
    host.setApp(bundleOf('2', [fnDef('ok', 'exports = () => "ok 2";')]));
    expect(resultOf(await sent)).toBe('ok 1');
    expect(resultOf(await host.call(callOf('ok')))).toBe('ok 2');
    // Sent, then close() in the same turn: each call is answered.
    const last = [host.call(callOf('ok')), host.call(callOf('ok'))];
    await host.close();
    for (const outcome of await Promise.all(last)) expect(outcome.error).toMatchObject({ code: 'SERVER_CLOSING', status: 503 });
  });

  describe('a call that cannot cross to its worker', () => {
    const echo = fnDef('echo', 'exports = (p) => Object.keys(p ?? {}).length;');
    const deep = () => JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown;

    it('fails with 500 CALL_ENCODING_FAILED when its arguments cannot be encoded, alone, and leaves nothing queued', async () => {
      const host = makeHost({ workers: 1, concurrency: 2 });
      host.setApp(bundleOf('1', [echo]));
      expect(resultOf(await host.call(callOf('echo')))).toBe(0);
      // Sent in one turn, to one worker: the first cannot be encoded (too deep; a BigInt), the others run.
      const [tooDeep, fine] = await Promise.all([host.call(callOf('echo', [{ deep: deep() }])), host.call(callOf('echo', [{ a: 1 }]))]);
      expect(tooDeep.error).toMatchObject({ code: 'CALL_ENCODING_FAILED', status: 500 });
      expect(tooDeep.error?.message).toMatch(/arguments cannot be sent to a worker/);
      expect(resultOf(fine)).toBe(1);
      const [big, after] = await Promise.all([host.call(callOf('echo', [{ n: 1n }])), host.call(callOf('echo', [{ a: 1, b: 2 }]))]);
      expect(big.error).toMatchObject({ code: 'CALL_ENCODING_FAILED', status: 500 });
      expect(resultOf(after)).toBe(2);
      // Nothing stays counted as in flight: two calls at once are still within the limit of two.
      for (const outcome of await Promise.all([host.call(callOf('echo')), host.call(callOf('echo'))])) expect(resultOf(outcome)).toBe(0);
    });

    it('fails with 500 CALL_ENCODING_FAILED when structured clone refuses it, and the calls posted with it run', async () => {
      const host = makeHost({ workers: 1 });
      host.setApp(bundleOf('1', [echo]));
      expect(resultOf(await host.call(callOf('echo')))).toBe(0);
      // Calls with files cross as objects: one holding a function (or nested too deep) cannot be cloned.
      const files = { f: { name: 'a.bin', type: 'application/octet-stream', bytes: new Uint8Array([1]) } };
      const outcomes = await Promise.all([
        host.call(callOf('echo', [{ fn: () => 1 }], { files })),
        host.call(callOf('echo', [{ a: 1 }], { files })),
        host.call(callOf('echo', [{ deep: deep() }], { files })),
        host.call(callOf('echo', [{ a: 1, b: 2 }])),
      ]);
      expect(outcomes[0].error).toMatchObject({ code: 'CALL_ENCODING_FAILED', status: 500 });
      expect(outcomes[2].error).toMatchObject({ code: 'CALL_ENCODING_FAILED', status: 500 });
      expect(resultOf(outcomes[1])).toBe(2);
      expect(resultOf(outcomes[3])).toBe(2);
      expect(resultOf(await host.call(callOf('echo', [{}], { files })))).toBe(1);
    });

    it('fails alone when its answer cannot be encoded (a result nested too deep), and the worker goes on', async () => {
      const host = makeHost({ workers: 1 });
      host.setApp(
        bundleOf('1', [echo, fnDef('deep', 'exports = () => { let v = []; for (let i = 0; i < 20000; i++) v = [v]; return v; };')]),
      );
      const [deepOne, next] = await Promise.all([host.call(callOf('deep')), host.call(callOf('echo', [{ a: 1 }]))]);
      expect(deepOne.error).toMatchObject({ code: 'RESULT_NOT_SERIALIZABLE', status: 500 });
      expect(resultOf(next)).toBe(1);
    });

    it('is answered by the worker with CALL_ENCODING_FAILED when the worker cannot read it', async () => {
      // The worker alone, sent a call whose arguments are not JSON (no host encodes that).
      const claims = new Int32Array(new SharedArrayBuffer(CLAIM_SLOTS * 4));
      const worker = new Worker(new URL('../../../dist/runtime/worker.js', import.meta.url), {
        workerData: { bundle: bundleOf('1', [echo]), claims: claims.buffer },
      });
      try {
        const answers: unknown[] = [];
        const got = new Promise<void>((resolve) =>
          worker.on('message', (m: unknown) => (Array.isArray(m) && answers.push(...m), answers.length >= 2 && resolve())),
        );
        const good = encodeCall(8, callOf('echo', [{ a: 1 }])) as string;
        const bad = good.replace('[{"a":1}]', '[{"a":').replace(/^8/, '7');
        offerCall(claims, 1);
        offerCall(claims, 2);
        worker.postMessage([1, bad, 2, good]);
        await got;
        expect(answers[0]).toMatchObject({
          type: 'done',
          id: 7,
          outcome: { ok: false, error: { code: 'CALL_ENCODING_FAILED', status: 500 } },
        });
        expect(answers.slice(1, 3)).toEqual([8, '1']);
      } finally {
        await worker.terminate();
      }
    });
  });

  describe('a worker that runs out of heap', () => {
    const shapes = {
      objects: 'exports = function () { const a = []; for (let i = 0; ; i++) a.push({ i, s: "item " + i }); };',
      strings: 'exports = function () { const a = []; for (let i = 0; ; i++) a.push("x".repeat(100000) + i); };',
      parse: 'exports = function () { const text = "[" + "{},".repeat(6e6) + "{}]"; return JSON.parse(text).length; };',
    };

    it('fails the call and is replaced; the process and the other calls go on (arrays of objects, strings, a huge JSON.parse)', async () => {
      const host = makeHost({ workers: 1, memoryMb: 64, timeoutMs: 30_000 });
      host.setApp(
        bundleOf('1', [...Object.entries(shapes).map(([name, source]) => fnDef(name, source)), fnDef('ok', 'exports = () => "ok";')]),
      );
      for (const name of Object.keys(shapes)) {
        const [outcome, other] = await Promise.all([host.call(callOf(name)), host.call(callOf('ok'))]);
        expect([name, outcome.ok]).toEqual([name, false]);
        if (name === 'parse')
          expect(outcome.error).toMatchObject({
            code: 'FUNCTION_ERROR',
            message: expect.stringMatching(/too large to parse within the memory limit/),
          });
        else expect(outcome.error).toMatchObject({ code: 'MEMORY_LIMIT', status: 500 });
        expect(resultOf(other)).toBe('ok');
        expect(resultOf(await host.call(callOf('ok')))).toBe('ok');
      }
    });

    it('answers 413 MEMORY_LIMIT to a call whose arguments would not fit once parsed, before parsing them', async () => {
      const host = makeHost({ workers: 1, memoryMb: 64 });
      host.setApp(bundleOf('1', [fnDef('count', 'exports = (p) => p.list.length;')]));
      const list = Array.from({ length: 3e6 }, () => ({}));
      const outcome = await host.call(callOf('count', [{ list }]));
      expect(outcome.error).toMatchObject({ code: 'MEMORY_LIMIT', status: 413 });
      expect(resultOf(await host.call(callOf('count', [{ list: [{}, {}] }])))).toBe(2);
    });
  });

  it('answers 503 SERVER_CLOSING after close()', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(bundleOf('1', [fnDef('ok', 'exports = () => "ok";')]));
    await host.close();
    expect((await host.call(callOf('ok'))).error).toMatchObject({ code: 'SERVER_CLOSING', status: 503 });
  });
});
