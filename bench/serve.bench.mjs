// fn serve as a server, with each app's functions in a runner process of its own: throughput and
// p50/p99 latency of a trivial function over HTTP (autocannon, loopback, 10 connections) against a
// bare node:http server in a child process that answers the same JSON; target: fn serve >= 0.45x
// the bare throughput. Two apps are deployed (two runners), the load goes to one. Warm-up, then
// 5 rounds of 3 s taken in turn; the ratio is the median of the ratios of the rounds.
// Run with the others (`node bench/run.mjs serve`) or alone (`node bench/serve.bench.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { fnBin, median, node, runAlone, tempDir } from './lib.mjs';

export const name = 'serve';
export const description = 'fn serve (a runner process per app): HTTP throughput and latency vs bare node:http';

const CONNECTIONS = 10;
const DURATION_S = 3;
const ROUNDS = 5;
const WARMUP_S = 1;
const THROUGHPUT_TARGET = 0.45;
const RESULT = { hello: 'world' };
const SERVICE_KEY = 'bench-serve-key';

const BARE_SERVER = `
import { createServer } from 'node:http';
const body = ${JSON.stringify(JSON.stringify(RESULT))};
const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Spawns a server with its stdout in a file; resolves with it once its first line names its URL. */
async function startServer(args, { cwd, env = {}, stopSignal, outFile }) {
  const out = openSync(outFile, 'w');
  const child = spawn(node, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill(stopSignal);
    });
  const started = Date.now();
  while (Date.now() - started < 15_000) {
    if (child.exitCode !== null) break;
    const text = readFileSync(outFile, 'utf8');
    const end = text.indexOf('\n');
    if (end >= 0) return { url: JSON.parse(text.slice(0, end)).url, stop };
    await sleep(20);
  }
  await stop();
  throw new Error(`${args.join(' ').slice(0, 80)} did not start\n${stderr}`);
}

function cannon(url, duration) {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    connections: CONNECTIONS,
    duration,
    timeout: 10,
  });
}

async function measure(label, url) {
  const r = await cannon(url, DURATION_S);
  if (r.errors || r.timeouts || r.non2xx)
    throw new Error(`${label}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average };
}

function makeApp(appId) {
  const app = tempDir(`fn-bench-serve-${appId}-`);
  mkdirSync(join(app, 'functions'), { recursive: true });
  writeFileSync(join(app, 'fn.config.json'), JSON.stringify({ appId }) + '\n');
  writeFileSync(join(app, 'functions', 'config.json'), JSON.stringify([{ name: 'hello', private: false }], null, 2) + '\n');
  writeFileSync(join(app, 'functions', 'hello.js'), `exports = function () {\n  return ${JSON.stringify(RESULT)};\n};\n`);
  return app;
}

export async function run({ log }) {
  const dataDir = tempDir('fn-bench-serve-data-');
  const logs = tempDir('fn-bench-serve-out-');
  // fn serve as users run it (a line per call), its output to a file.
  const serve = await startServer([fnBin, 'serve', '--port', '0', '--json', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { FN_SERVICE_KEY: SERVICE_KEY },
    stopSignal: 'SIGINT',
    outFile: join(logs, 'serve.out'),
  });
  let bare;
  try {
    for (const appId of ['bench', 'other']) {
      const pushed = spawnSync(node, [fnBin, 'push', '--url', serve.url, '--service-key', SERVICE_KEY, '--yes'], {
        cwd: makeApp(appId),
        encoding: 'utf8',
        env: { ...process.env, FN_SERVICE_KEY: '' },
      });
      if (pushed.status !== 0) throw new Error(`fn push ${appId}: ${pushed.stderr}`);
    }
    bare = await startServer(['--input-type=module', '-e', BARE_SERVER], {
      cwd: logs,
      stopSignal: 'SIGTERM',
      outFile: join(logs, 'bare.out'),
    });
    const servers = [
      { label: 'fn serve', url: `${serve.url}/api/apps/bench/functions/hello` },
      { label: 'node:http', url: `${bare.url}/api/apps/bench/functions/hello` },
    ];
    for (const { url } of [...servers, { url: `${serve.url}/api/apps/other/functions/hello` }]) {
      const body = await (await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).json();
      if (JSON.stringify(body) !== JSON.stringify(RESULT)) throw new Error(`${url} answered ${JSON.stringify(body)}`);
    }
    for (const { label, url } of servers) {
      log(`serve: ${label}: ${WARMUP_S} s warm-up`);
      await cannon(url, WARMUP_S);
    }
    const rounds = servers.map(() => []);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, { label, url }] of servers.entries()) {
        log(`serve: ${label}: round ${round} of ${ROUNDS}, ${DURATION_S} s at ${CONNECTIONS} connections`);
        rounds[i].push(await measure(label, url));
      }
    }
    const [fnRuns, bareRuns] = rounds;
    const mid = (runs) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
    const ratios = fnRuns.map((r, i) => r.rps / bareRuns[i].rps);
    const ratio = median(ratios);
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    const latency = (r) => `p50 ${r.p50} ms, p99 ${r.p99} ms, mean ${r.mean.toFixed(2)} ms`;
    const checks = [
      {
        label: `serve: throughput at ${CONNECTIONS} connections, fn serve (median round)`,
        value: `${fmt(mid(fnRuns).rps)} req/s (rounds: ${fnRuns.map((r) => fmt(r.rps)).join(', ')})`,
      },
      {
        label: `serve: throughput at ${CONNECTIONS} connections, bare node:http (median round)`,
        value: `${fmt(mid(bareRuns).rps)} req/s (rounds: ${bareRuns.map((r) => fmt(r.rps)).join(', ')})`,
      },
      { label: `serve: latency at ${CONNECTIONS} connections, fn serve`, value: latency(mid(fnRuns)) },
      { label: `serve: latency at ${CONNECTIONS} connections, bare node:http`, value: latency(mid(bareRuns)) },
      {
        label: `serve: throughput ratio fn serve / node:http, median of ${ROUNDS} rounds taken in turn (target >= ${THROUGHPUT_TARGET}x)`,
        value: `${ratio.toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
        ok: ratio >= THROUGHPUT_TARGET,
      },
    ];
    return { rows: [], checks };
  } finally {
    await bare?.stop();
    await serve.stop();
  }
}

// Alone: node bench/serve.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
