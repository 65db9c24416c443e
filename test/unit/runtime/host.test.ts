// RuntimeHost runs functions in worker threads spawned from dist/runtime/worker.js (next to the
// module, by import.meta.url), so this test imports the built module: run the build first.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeHost as RuntimeHostClass } from '../../../src/runtime/host.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
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

const slow = (version: number, ms: number) => fnDef('slow', `exports = async function () {\n  await new Promise((r) => setTimeout(r, ${ms}));\n  return { version: ${version} };\n};`);

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
    host.setApp(bundleOf('1', [fnDef('exit', 'exports = function () { require("process").exit(3); };'), fnDef('ok', 'exports = () => "ok";')]));
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
    const next = await host.call(callOf('slow', [{}], { caller: { id: 'u-other', type: 'normal', data: {}, custom_data: {}, identities: [] } }));
    expect(next.error).toBeUndefined();
    expect(resultOf(next)).toEqual({ version: 1 });
  });

  // Spins for `ms` without giving the thread back: a call that keeps its worker busy.
  const spin = (name: string, ms: number) => fnDef(name, `exports = function () { const end = Date.now() + ${ms}; while (Date.now() < end) {} return require('worker_threads').threadId; };`);
  const thread = fnDef('thread', "exports = () => require('worker_threads').threadId;");
  const timed = async (call: Promise<CallOutcome>, since: number) => ({ result: resultOf(await call), ms: performance.now() - since });

  it('sends the calls of one turn to one worker, and skips a worker whose call runs long', async () => {
    const host = makeHost({ workers: 2 });
    host.setApp(bundleOf('1', [thread, spin('spin', 400)]));
    // Both workers start; then the host sees the function answer quickly (its first call compiles it).
    await Promise.all([host.call(callOf('thread')), host.call(callOf('thread'))]);
    for (let i = 0; i < 3; i++) await host.call(callOf('thread'));
    const threads = (await Promise.all([1, 2, 3, 4].map(() => host.call(callOf('thread'))))).map(resultOf);
    expect(new Set(threads).size).toBe(1);
    const since = performance.now();
    const spinning = timed(host.call(callOf('spin')), since);
    await sleep(50);
    const quick = await timed(host.call(callOf('thread')), since);
    expect(quick.ms).toBeLessThan(300);
    const slowOne = await spinning;
    expect(quick.result).not.toBe(slowOne.result);
  });

  it('answers a call at once when the call after it, in the same message, blocks its worker past the time limit', async () => {
    const host = makeHost({ workers: 1, timeoutMs: 1000 });
    // Quick or slow by its input: the worker cannot tell which before it runs it.
    host.setApp(bundleOf('1', [fnDef('work', 'exports = function ({ ms }) { const end = Date.now() + ms; while (Date.now() < end) {} return ms; };')]));
    await host.call(callOf('work', [{ ms: 0 }]));
    await host.call(callOf('work', [{ ms: 0 }]));
    const since = performance.now();
    const quick = host.call(callOf('work', [{ ms: 0 }])).then((outcome) => ({ outcome, ms: performance.now() - since }));
    const stuck = host.call(callOf('work', [{ ms: 3000 }])).then((outcome) => ({ outcome, ms: performance.now() - since }));
    const first = await quick;
    expect(resultOf(first.outcome)).toBe(0);
    expect(first.ms).toBeLessThan(300);
    const second = await stuck;
    expect(second.outcome.error).toMatchObject({ code: 'EXECUTION_TIME_LIMIT', status: 504 });
    // Failed once, after one time limit: not started again on another worker.
    expect(second.ms).toBeLessThan(1800);
  });

  it('spreads calls that wait on I/O over the workers instead of queueing them on one', async () => {
    const host = makeHost({ workers: 2, maxWorkers: 2 });
    host.setApp(bundleOf('1', [fnDef('io', "exports = async function () { await new Promise((r) => setTimeout(r, 100)); return require('worker_threads').threadId; };")]));
    await Promise.all([host.call(callOf('io')), host.call(callOf('io'))]);
    const threads = (await Promise.all([1, 2, 3, 4, 5, 6].map(() => host.call(callOf('io'))))).map(resultOf);
    const perThread = [...new Set(threads)].map((t) => threads.filter((x) => x === t).length);
    expect(perThread).toEqual([3, 3]);
  });

  it('starts more workers (up to maxWorkers) while calls wait behind slow ones', async () => {
    const host = makeHost({ workers: 1, maxWorkers: 4 });
    host.setApp(bundleOf('1', [fnDef('io', "exports = async function () { await new Promise((r) => setTimeout(r, 500)); return require('worker_threads').threadId; };")]));
    await host.call(callOf('io'));
    const since = performance.now();
    const threads = (await Promise.all([1, 2, 3, 4, 5, 6].map(() => host.call(callOf('io'))))).map(resultOf);
    // One worker alone takes 6 x 500 ms; four take two rounds, plus the time the new ones take to start.
    expect(new Set(threads).size).toBe(4);
    expect(performance.now() - since).toBeLessThan(2400);
  });

  it('stops the workers it started when they have been idle for workerIdleMs, and keeps the others', async () => {
    const host = makeHost({ workers: 1, maxWorkers: 3, workerIdleMs: 200 });
    host.setApp(bundleOf('1', [fnDef('io', "exports = async function () { await new Promise((r) => setTimeout(r, 150)); return require('worker_threads').threadId; };")]));
    await host.call(callOf('io'));
    const burst = async () => new Set((await Promise.all([1, 2, 3].map(() => host.call(callOf('io'))))).map(resultOf));
    const first = await burst();
    expect(first.size).toBe(3);
    await sleep(600);
    const second = await burst();
    expect(second.size).toBe(3);
    // The kept worker answers again; the two started for the first burst are gone, two new ones came.
    expect([...second].filter((id) => first.has(id))).toHaveLength(1);
  });

  it('never puts a quick call behind a slow one: it takes a free worker, or a new one', async () => {
    const host = makeHost({ workers: 2, maxWorkers: 3 });
    host.setApp(bundleOf('1', [thread, fnDef('io', "exports = async function () { await new Promise((r) => setTimeout(r, 1000)); return 'io'; };")]));
    await Promise.all([host.call(callOf('io')), host.call(callOf('io'))]);
    for (let i = 0; i < 3; i++) await host.call(callOf('thread'));
    // A slow call and a quick one in the same turn, one worker free: the quick one does not wait.
    let since = performance.now();
    const slowOne = host.call(callOf('io'));
    expect(resultOf(await host.call(callOf('thread')))).toEqual(expect.any(Number));
    expect(performance.now() - since).toBeLessThan(500);
    await slowOne;
    // Both workers held by slow calls: a third starts for the quick call.
    since = performance.now();
    const held = [host.call(callOf('io')), host.call(callOf('io'))];
    await sleep(20);
    expect(resultOf(await host.call(callOf('thread')))).toEqual(expect.any(Number));
    expect(performance.now() - since).toBeLessThan(700);
    await Promise.all(held);
  });

  it('takes back the quick calls sent behind a call that turns slow, and runs them elsewhere at once', async () => {
    const host = makeHost({ workers: 2, maxWorkers: 2 });
    // Usually quick, sometimes slow (a cache miss waiting on I/O): the host cannot tell before.
    host.setApp(bundleOf('1', [fnDef('f', 'exports = function (p) { return p.slow ? new Promise((r) => setTimeout(() => r("slow"), 600)) : "quick"; };')]));
    for (let i = 0; i < 20; i++) await host.call(callOf('f', [{}]));
    const since = performance.now();
    const slowOne = timed(host.call(callOf('f', [{ slow: true }])), since);
    // Sent in the same turn, behind the slow one on its worker.
    const quick = await Promise.all(Array.from({ length: 30 }, () => timed(host.call(callOf('f', [{}])), since)));
    expect(quick.map((q) => q.result)).toEqual(Array(30).fill('quick'));
    expect(Math.max(...quick.map((q) => q.ms))).toBeLessThan(400);
    const slow = await slowOne;
    expect(slow.result).toBe('slow');
    expect(slow.ms).toBeGreaterThanOrEqual(590);
  });

  it('does not blame a call that finished, nor run the next one twice, when this thread reads answers late', async () => {
    const runs = join(mkdtempSync(join(tmpdir(), 'fn-host-')), 'runs.txt');
    writeFileSync(runs, '');
    const host = makeHost({ workers: 1, maxWorkers: 2, timeoutMs: 100 });
    host.setApp(bundleOf('1', [fnDef('f', `exports = function (p) { const end = Date.now() + (p.spin || 0); while (Date.now() < end) {} require('fs').appendFileSync(${JSON.stringify(runs)}, p.tag + '\\n'); return p.tag; };`)]));
    for (let i = 0; i < 3; i++) await host.call(callOf('f', [{ tag: 'warm' }]));
    writeFileSync(runs, '');
    const a = host.call(callOf('f', [{ tag: 'A', spin: 20 }]));
    const b = host.call(callOf('f', [{ tag: 'B' }]));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // This thread is busy past A's time limit (a long GC pause, a large body to parse) while the
    // worker finishes A and runs B.
    const end = performance.now() + 250;
    while (performance.now() < end) {}
    expect(resultOf(await a)).toBe('A');
    expect(resultOf(await b)).toBe('B');
    await sleep(50);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['A', 'B']);
  });

  it('starts a worker for waiting calls when the first call of a function holds its worker (nothing known yet)', async () => {
    const host = makeHost({ workers: 1, maxWorkers: 2, timeoutMs: 3000 });
    host.setApp(bundleOf('1', [thread, spin('hang', 10_000)]));
    await host.call(callOf('thread'));
    const since = performance.now();
    const hung = host.call(callOf('hang'));
    await sleep(20);
    expect(resultOf(await host.call(callOf('thread')))).toEqual(expect.any(Number));
    expect(performance.now() - since).toBeLessThan(1500);
    expect((await hung).error).toMatchObject({ code: 'EXECUTION_TIME_LIMIT' });
  });

  it('settles every call sent in the same turn as a crash, a new version or close()', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(bundleOf('1', [fnDef('exit', 'exports = function () { require("process").exit(3); };'), fnDef('ok', 'exports = () => "ok 1";')]));
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

  it('answers 503 SERVER_CLOSING after close()', async () => {
    const host = makeHost({ workers: 1 });
    host.setApp(bundleOf('1', [fnDef('ok', 'exports = () => "ok";')]));
    await host.close();
    expect((await host.call(callOf('ok'))).error).toMatchObject({ code: 'SERVER_CLOSING', status: 503 });
  });
});
