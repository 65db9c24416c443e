// fn serve under a bounded abuse run: one `fn serve` hosts two apps; for a fixed time (60 s, or
// FN_BENCH_ABUSE_SECONDS) a fixed number of attack loops hammer app "appa" (hostile functions: an
// infinite loop, a memory bomb, a 20 MB result, a spinning setInterval left after answering,
// process.exit, a throw; a JSON body nested 5,000 deep, a 10 MB body, 100,000 urlencoded fields,
// a bad Host, alg-none tokens) while slow-header and slow-body sockets and bursts of idle
// connections hold the server's sockets. Meanwhile a trivial function of the other app, "appb",
// is called in turn and timed. Targets: its p99 latency under abuse < 1 s, and the server
// process's RSS (sampled every 250 ms from /proc) < 1 GB. The p99 of the same calls with no abuse,
// measured first in the same run, is the baseline; RSS with the runner processes is information.
// Run with the others (`node bench/run.mjs abuse`) or alone (`node bench/abuse.bench.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fnBin, node, runAlone, tempDir } from './lib.mjs';

export const name = 'abuse';
export const description = 'fn serve under abuse of one app: the other app keeps answering, the server keeps its memory';

const SECONDS = Number(process.env.FN_BENCH_ABUSE_SECONDS) > 0 ? Number(process.env.FN_BENCH_ABUSE_SECONDS) : 60;
const BASELINE_S = Math.min(10, Math.max(3, SECONDS / 4));
const ATTACK_LOOPS = 8;
const PING_LOOPS = 2;
const SLOW_SOCKETS = 24; // of each kind: slow headers, slow body
const BURST_SOCKETS = 300;
const REQUEST_TIMEOUT_MS = 10_000; // a ping
const ATTACK_TIMEOUT_MS = 5_000; // an attack, given up on (the server may still be running it)
const P99_TARGET_MS = 1_000;
const RSS_TARGET_MB = 1_024;
const RSS_SAMPLE_MS = 250;
const SERVICE_KEY = 'bench-abuse-key';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const HOSTILE = {
  loop: 'exports = function () { for (;;) {} };',
  membomb: 'exports = function () { const keep = []; for (;;) keep.push(new Array(1e6).fill(keep.length)); };',
  bigresult: "exports = function () { return 'x'.repeat(20 * 1024 * 1024); };",
  spinner: 'exports = function () { setInterval(() => { const until = Date.now() + 50; while (Date.now() < until) {} }, 1); return 1; };',
  exit: 'exports = function () { process.exit(1); };',
  thrower: "exports = function () { throw new Error('thrown on purpose'); };",
  echo: 'exports = function () { return 1; };',
};

function makeApp(appId, functions) {
  const app = tempDir(`fn-bench-abuse-${appId}-`);
  mkdirSync(join(app, 'functions'), { recursive: true });
  writeFileSync(
    join(app, 'functions', 'config.json'),
    JSON.stringify(
      Object.keys(functions).map((fname) => ({ name: fname, private: false })),
      null,
      2,
    ) + '\n',
  );
  for (const [fname, source] of Object.entries(functions)) writeFileSync(join(app, 'functions', `${fname}.js`), source + '\n');
  return app;
}

/** Spawns fn serve with its stdout in a file; resolves once its first line names its URL. */
async function startServe(dataDir, outFile) {
  const out = openSync(outFile, 'w');
  const child = spawn(node, [fnBin, 'serve', '--port', '0', '--json', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', FN_SERVICE_KEY: SERVICE_KEY },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGINT');
    });
  const started = Date.now();
  while (Date.now() - started < 15_000) {
    if (child.exitCode !== null) break;
    const text = readFileSync(outFile, 'utf8');
    const end = text.indexOf('\n');
    if (end >= 0) return { url: JSON.parse(text.slice(0, end)).url, pid: child.pid, child, stop, stderr: () => stderr };
    await sleep(20);
  }
  await stop();
  throw new Error(`fn serve did not start\n${stderr}`);
}

/** VmRSS of a process in kB, or 0 once it is gone. */
function rssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every descendant of a process, from /proc/<pid>/task/<tid>/children. */
function descendants(pid) {
  const found = [];
  const walk = (p) => {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let text = '';
      try {
        text = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of text.split(' ').filter(Boolean).map(Number)) {
        if (!found.includes(c)) {
          found.push(c);
          walk(c);
        }
      }
    }
  };
  walk(pid);
  return found;
}

/**
 * One HTTP request on a connection of its own (or of `agent`), bounded by `timeoutMs` and
 * by `signal`; resolves with the status, 'timeout' or 'error', never rejects.
 */
function hit(base, { method = 'POST', path, headers = {}, body, agent = false, signal, timeoutMs = REQUEST_TIMEOUT_MS }) {
  return new Promise((resolve) => {
    const url = new URL(path, base);
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname + url.search,
        headers: body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers },
        agent,
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => finish(res.statusCode));
        res.on('error', () => finish('error'));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('timeout');
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish('aborted');
    };
    signal?.addEventListener('abort', onAbort);
    req.on('error', () => finish('error'));
    req.end(body);
  });
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const NONE_TOKEN = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', role: 'admin', exp: 4_000_000_000 })}.`;
const EMPTY_SIG_TOKEN = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'admin', exp: 4_000_000_000 })}.`;

/** The request attacks on appa, each one request; the loops go through them in turn. */
function requestAttacks() {
  const fnPath = (fname) => `/api/apps/appa/functions/${fname}`;
  const json = { 'content-type': 'application/json' };
  const deep = '['.repeat(5_000) + ']'.repeat(5_000);
  const big =
    '[' +
    Array(Math.floor((10 * 1024 * 1024) / 3))
      .fill('{}')
      .join(',') +
    ']';
  const fields = 'a=1&'.repeat(100_000).slice(0, -1);
  const call = (fname) => ({ kind: `call ${fname}`, path: fnPath(fname), headers: json, body: '{}' });
  return [
    ...['loop', 'membomb', 'bigresult', 'spinner', 'exit', 'thrower'].map(call),
    { kind: 'json 5,000 deep', path: fnPath('echo'), headers: json, body: deep },
    { kind: 'body 10 MB', path: fnPath('echo'), headers: json, body: big },
    {
      kind: 'urlencoded 100,000 fields',
      path: fnPath('echo'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields,
    },
    { kind: 'bad Host', path: fnPath('echo'), headers: { ...json, host: 'evil.example' }, body: '{}' },
    { kind: 'token alg none', path: fnPath('echo'), headers: { ...json, authorization: `Bearer ${NONE_TOKEN}` }, body: '{}' },
    { kind: 'token empty signature', path: fnPath('echo'), headers: { ...json, authorization: `Bearer ${EMPTY_SIG_TOKEN}` }, body: '{}' },
    {
      kind: 'admin with alg none',
      method: 'GET',
      path: '/api/admin/v1/apps/appa/deployment',
      headers: { authorization: `Bearer ${NONE_TOKEN}` },
    },
  ];
}

/** Opens a socket that sends its request a byte a second (headers, or a body), reopened when closed. */
function slowSockets(base, kind, count, state) {
  const url = new URL(base);
  const open = new Set();
  const start = () => {
    if (state.stopped) return;
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    open.add(socket);
    state.sockets.add(socket);
    const head =
      kind === 'headers'
        ? 'POST /api/apps/appa/functions/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '
        : `POST /api/apps/appa/functions/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[`;
    socket.on('connect', () => socket.write(head));
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(kind === 'headers' ? 'a' : '1');
    }, 1_000);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      open.delete(socket);
      state.sockets.delete(socket);
      state.closedByServer[kind] = (state.closedByServer[kind] ?? 0) + (state.stopped ? 0 : 1);
      // Reopened a little later, so a server that closes at once is not spun on.
      if (!state.stopped) setTimeout(start, 200);
    });
  };
  for (let i = 0; i < count; i++) start();
}

/** Bursts of idle connections: opens `count`, holds them 2 s, closes them, again until stopped. */
async function bursts(base, count, state) {
  const url = new URL(base);
  while (!state.stopped) {
    const held = [];
    for (let i = 0; i < count; i++) {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      socket.on('error', () => {});
      held.push(socket);
      state.sockets.add(socket);
    }
    state.bursts++;
    await sleep(2_000);
    for (const socket of held) {
      socket.destroy();
      state.sockets.delete(socket);
    }
    await sleep(500);
  }
}

/** Calls appb's ping in `loops` sequential loops until `until`; returns the latencies (ms) and failures. */
async function pings(base, untilMs, loops) {
  const agent = new Agent({ keepAlive: true, maxSockets: loops });
  const latencies = [];
  const failures = {};
  try {
    await Promise.all(
      Array.from({ length: loops }, async () => {
        while (performance.now() < untilMs) {
          const t0 = performance.now();
          const status = await hit(base, {
            path: '/api/apps/appb/functions/ping',
            headers: { 'content-type': 'application/json' },
            body: '{}',
            agent,
          });
          latencies.push(performance.now() - t0);
          if (status !== 200) failures[status] = (failures[status] ?? 0) + 1;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { latencies, failures };
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function run({ log }) {
  if (process.platform !== 'linux') throw new Error('the abuse benchmark reads memory from /proc: Linux only');
  const dataDir = tempDir('fn-bench-abuse-data-');
  const logs = tempDir('fn-bench-abuse-out-');
  const serve = await startServe(dataDir, join(logs, 'serve.out'));
  const state = { stopped: false, sockets: new Set(), closedByServer: {}, bursts: 0 };
  const abort = new AbortController();
  const seenPids = new Set();
  let sampler;
  try {
    for (const [appId, functions] of [
      ['appa', HOSTILE],
      ['appb', { ping: 'exports = function () { return 1; };' }],
    ]) {
      const pushed = spawnSync(node, [fnBin, 'push', '--yes', '--url', serve.url, '--service-key', SERVICE_KEY, '--app-id', appId], {
        cwd: makeApp(appId, functions),
        encoding: 'utf8',
        env: { ...process.env, FN_SERVICE_KEY: '', FN_URL: '', FN_APP_ID: '', FN_TOKEN: '' },
      });
      if (pushed.status !== 0) throw new Error(`fn push ${appId}: ${pushed.stderr}`);
    }
    for (const path of ['/api/apps/appb/functions/ping', '/api/apps/appa/functions/echo']) {
      const status = await hit(serve.url, { path, headers: { 'content-type': 'application/json' }, body: '{}' });
      if (status !== 200) throw new Error(`${path} answered ${status}`);
    }

    // RSS every 250 ms, the server alone and with its children, for the whole run.
    const samples = { server: [], total: [], phase: 'baseline' };
    sampler = setInterval(() => {
      const kids = descendants(serve.pid);
      for (const k of kids) seenPids.add(k);
      const server = rssKb(serve.pid);
      samples.server.push({ phase: samples.phase, kb: server });
      samples.total.push({ phase: samples.phase, kb: server + kids.reduce((sum, k) => sum + rssKb(k), 0) });
    }, RSS_SAMPLE_MS);

    log(`abuse: warm-up, then ${BASELINE_S} s of appb ping with no abuse`);
    await pings(serve.url, performance.now() + 1_000, PING_LOOPS);
    const baseline = await pings(serve.url, performance.now() + BASELINE_S * 1_000, PING_LOOPS);

    log(
      `abuse: ${SECONDS} s of attacks on appa (${ATTACK_LOOPS} request loops, ${SLOW_SOCKETS}+${SLOW_SOCKETS} slow sockets, bursts of ${BURST_SOCKETS} idle connections) while appb ping is timed`,
    );
    samples.phase = 'abuse';
    const until = performance.now() + SECONDS * 1_000;
    const attacks = requestAttacks();
    const outcomes = {};
    let attacksSent = 0;
    slowSockets(serve.url, 'headers', SLOW_SOCKETS, state);
    slowSockets(serve.url, 'body', SLOW_SOCKETS, state);
    const burstDone = bursts(serve.url, BURST_SOCKETS, state);
    const loops = Array.from({ length: ATTACK_LOOPS }, async (_, i) => {
      for (let n = i; performance.now() < until; n++) {
        const attack = attacks[n % attacks.length];
        const status = await hit(serve.url, { ...attack, signal: abort.signal, timeoutMs: ATTACK_TIMEOUT_MS });
        attacksSent++;
        const counts = (outcomes[attack.kind] ??= {});
        counts[status] = (counts[status] ?? 0) + 1;
      }
    });
    const underAbuse = await pings(serve.url, until, PING_LOOPS);
    state.stopped = true;
    abort.abort();
    await Promise.all(loops);
    await burstDone;
    for (const socket of state.sockets) socket.destroy();
    samples.phase = 'after';
    log('abuse: 3 s after the attacks stopped');
    const after = await pings(serve.url, performance.now() + 3_000, PING_LOOPS);
    clearInterval(sampler);
    sampler = undefined;

    const alive = serve.child.exitCode === null && serve.child.signalCode === null;
    const p99 = percentile(underAbuse.latencies, 99);
    const baseP99 = percentile(baseline.latencies, 99);
    const maxMb = (list, phase) => Math.max(0, ...list.filter((s) => !phase || s.phase === phase).map((s) => s.kb)) / 1024;
    const serverMax = maxMb(samples.server);
    const fmtFailures = (f) =>
      Object.keys(f).length
        ? Object.entries(f)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')
        : 'none';
    const rows = [
      {
        bench: 'abuse',
        case: `appb ping p99, ${PING_LOOPS} loops, ${SECONDS} s of abuse on appa`,
        value: p99,
        runs: underAbuse.latencies.length,
        baseline: baseP99,
        baselineLabel: 'no abuse',
        note: `target < ${P99_TARGET_MS} ms`,
      },
      {
        bench: 'abuse',
        case: 'appb ping p50 under abuse',
        value: percentile(underAbuse.latencies, 50),
        runs: underAbuse.latencies.length,
        baseline: percentile(baseline.latencies, 50),
        baselineLabel: 'no abuse',
      },
    ];
    const checks = [
      {
        label: `abuse: appb ping p99 under ${SECONDS} s of abuse on appa (target < ${P99_TARGET_MS} ms)`,
        value: `${p99.toFixed(1)} ms (no abuse: ${baseP99.toFixed(1)} ms; max ${Math.max(...underAbuse.latencies).toFixed(0)} ms)`,
        ok: p99 < P99_TARGET_MS && alive,
      },
      {
        label: 'abuse: appb ping calls that failed under abuse / after',
        value: `${underAbuse.latencies.length} calls, failures: ${fmtFailures(underAbuse.failures)} / after: ${after.latencies.length} calls, p99 ${percentile(after.latencies, 99).toFixed(1)} ms, failures: ${fmtFailures(after.failures)}`,
      },
      {
        label: `abuse: fn serve process RSS, max over the run (target < ${RSS_TARGET_MB} MB)`,
        value: `${serverMax.toFixed(0)} MB (no abuse: ${maxMb(samples.server, 'baseline').toFixed(0)} MB; ${samples.server.length} samples)`,
        ok: serverMax < RSS_TARGET_MB && serverMax > 0,
      },
      {
        label: 'abuse: RSS of fn serve with its runner processes, max',
        value: `${maxMb(samples.total).toFixed(0)} MB (no abuse: ${maxMb(samples.total, 'baseline').toFixed(0)} MB)`,
      },
      {
        label: 'abuse: fn serve still running after the attacks',
        value: alive ? 'yes' : `no (exit ${serve.child.exitCode ?? serve.child.signalCode})`,
        ok: alive,
      },
      {
        label: 'abuse: attack requests sent',
        value: `${attacksSent} by ${ATTACK_LOOPS} loops (each given up after ${ATTACK_TIMEOUT_MS / 1000} s)`,
      },
      {
        label: 'abuse: slow sockets closed by the server (headers / body)',
        value: `${state.closedByServer.headers ?? 0} / ${state.closedByServer.body ?? 0}; bursts of ${BURST_SOCKETS} idle connections: ${state.bursts}`,
      },
      ...Object.entries(outcomes).map(([kind, counts]) => ({
        label: `abuse: answers to ${kind}`,
        value: Object.entries(counts)
          .map(([k, v]) => `${v}x ${k}`)
          .join(', '),
      })),
    ];
    return { rows, checks };
  } finally {
    state.stopped = true;
    abort.abort();
    if (sampler) clearInterval(sampler);
    for (const socket of state.sockets) socket.destroy();
    for (const k of descendants(serve.pid)) seenPids.add(k);
    await serve.stop();
    // A runner the server left behind (it was killed, or died) is ended by its pid.
    await sleep(500);
    for (const pid of seenPids) {
      if (rssKb(pid) > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
  }
}

// Alone: node bench/abuse.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
