// Several fn serve hosts on one PostgreSQL store (127.0.0.1:5432, trust auth, or
// FN_BENCH_POSTGRES_URL; a schema of its own, dropped afterwards), for information (2 cores here):
// (1) deploy-to-served latency across hosts: a push through host A, then the time until host B
// answers with the new code, median and max of 10 pushes; (2) the cost per call of the PostgreSQL
// store against the file store: one host of each, the same trivial function, throughput at 10
// connections (calls never touch the database once a version is loaded, so the two should match);
// (3) two hosts of the PostgreSQL store against one, the load split over both.
// Run with the others (`node bench/run.mjs postgres`) or alone (`node bench/postgres.bench.mjs`).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { fnBin, median, node, runAlone, tempDir } from './lib.mjs';

export const name = 'postgres';
export const description = 'fn serve hosts on one PostgreSQL store: deploy-to-served latency, per-call cost vs the file store';

const PG_URL = process.env.FN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SERVICE_KEY = 'bench-postgres-key';
const TOKEN_SECRET = 'bench-postgres-token-secret';
const PUSHES = 10;
const execFileAsync = promisify(execFile);
/** Calls that failed during the throughput runs (reported beside the figures). */
const failures = [];
const DURATION_S = 3;
const CONNECTIONS = 10;

function startServe(args) {
  const dataDir = tempDir('fn-bench-pg-host-');
  const child = spawn(node, [fnBin, 'serve', '--port', '0', '--json', '--data-dir', dataDir, ...args], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', FN_SERVICE_KEY: SERVICE_KEY, FN_TOKEN_SECRET: TOKEN_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  child.on('exit', (code, signal) => {
    if (code !== 130 && code !== 0 && signal !== 'SIGINT') process.stderr.write(`fn serve exited ${code ?? signal}: ${err.slice(-2000)}\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fn serve did not start: ${err}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        url: JSON.parse(line).url,
        stop: () =>
          new Promise((done) => {
            child.once('exit', done);
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}

function makeApp(answer) {
  const app = tempDir('fn-bench-pg-app-');
  mkdirSync(join(app, 'functions'), { recursive: true });
  writeFileSync(join(app, 'fn.config.json'), JSON.stringify({ appId: 'bench' }) + '\n');
  writeFileSync(join(app, 'functions', 'config.json'), JSON.stringify([{ name: 'hello', private: false }]) + '\n');
  setAnswer(app, answer);
  return app;
}

function setAnswer(app, answer) {
  writeFileSync(join(app, 'functions', 'hello.js'), `exports = function () { return ${JSON.stringify(answer)}; };\n`);
}

/** fn push, without blocking this process (a keep-alive connection closed meanwhile is seen closed). */
async function push(app, url) {
  try {
    await execFileAsync(node, [fnBin, 'push', '--url', url, '--service-key', SERVICE_KEY, '--yes', '--force'], {
      cwd: app,
      env: { ...process.env, FN_SERVICE_KEY: '' },
    });
  } catch (error) {
    throw new Error(`fn push: ${error.stderr ?? error.message}`);
  }
}

async function answer(url) {
  const r = await fetch(`${url}/api/apps/bench/functions/hello`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  return r.ok ? r.json() : undefined;
}

async function throughput(urls) {
  const runs = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}/api/apps/bench/functions/hello`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        connections: Math.max(1, Math.round(CONNECTIONS / urls.length)),
        duration: DURATION_S,
      }),
    ),
  );
  const failed = runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
  if (failed) failures.push(`${failed} failed: ${runs.map((r) => JSON.stringify(r.statusCodeStats)).join(' ')}`);
  return runs.reduce((sum, r) => sum + r.requests.average, 0);
}

export async function run({ log }) {
  const schema = `fn_bench_${randomBytes(5).toString('hex')}`;
  const storeUrl = `${PG_URL}?schema=${schema}`;
  const hosts = [];
  try {
    const a = await startServe(['--store', storeUrl]);
    hosts.push(a);
    const b = await startServe(['--store', storeUrl]);
    hosts.push(b);
    const file = await startServe([]);
    hosts.push(file);
    const app = makeApp('v0');
    await push(app, a.url);
    await push(app, file.url);
    // Host B starts the app's runner on its first call: that start is not what is timed.
    if ((await answer(b.url)) !== 'v0') throw new Error('host B does not serve the app');
    log(`postgres: ${PUSHES} pushes through host A, timed until host B serves each`);
    const latencies = [];
    for (let i = 1; i <= PUSHES; i++) {
      setAnswer(app, `v${i}`);
      await push(app, a.url);
      const pushed = performance.now();
      while ((await answer(b.url)) !== `v${i}`) {
        if (performance.now() - pushed > 5_000) throw new Error(`host B did not serve v${i} within 5 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      latencies.push(performance.now() - pushed);
    }
    log('postgres: throughput, file store vs PostgreSQL store, then two PostgreSQL hosts');
    await throughput([file.url]);
    await throughput([a.url]);
    const fileRps = await throughput([file.url]);
    const pgRps = await throughput([a.url]);
    const twoRps = await throughput([a.url, b.url]);
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    return {
      rows: [],
      checks: [
        {
          label: `postgres: deploy through host A to served by host B, median and max of ${PUSHES} (target < 1 s)`,
          value: `${median(latencies).toFixed(0)} ms median, ${Math.max(...latencies).toFixed(0)} ms max`,
          ok: Math.max(...latencies) < 1_000,
        },
        {
          label: `postgres: calls at ${CONNECTIONS} connections, PostgreSQL store / file store (the hot path never reads the database)`,
          value: `${(pgRps / fileRps).toFixed(2)}x (${fmt(pgRps)} vs ${fmt(fileRps)} req/s)`,
        },
        {
          label: `postgres: two hosts / one host on this machine (information: both share 2 cores)`,
          value: `${(twoRps / pgRps).toFixed(2)}x (${fmt(twoRps)} vs ${fmt(pgRps)} req/s)`,
        },
        { label: 'postgres: calls that failed during the throughput runs', value: failures.join('; ') || 'none', ok: !failures.length },
      ],
    };
  } finally {
    for (const h of hosts) await h.stop();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

await runAlone(import.meta.url, run);
