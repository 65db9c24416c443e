// fn dev as a server: (1) throughput and p50/p99 latency of a trivial function over HTTP (autocannon,
// loopback, 10 connections) against a bare node:http server in a child process that answers the
// same JSON; target: fn dev >= 0.5x the bare throughput. fn dev runs as users run it, printing a
// line per call; `fn dev --json` (an NDJSON event per call, 4-5x the bytes) is measured beside it
// for information. Each server gets a warm-up, then they take turns: 5 rounds of 3 s each, and
// the ratio is the median of the ratios of the rounds, each taken right after the other, so a
// machine that is busier for a moment weighs on both. fn dev and bare again at 100 connections,
// for information: at 10, both are bound by round trips (fn's include a hop to a worker thread and
// back), at 100 by the work they do. Server output goes to a file (as it would to a terminal), not
// through the process that runs the load generator. (2) Hot reload: the time from saving a
// function file to the first call answered by the new code, median of 20 edits.
// Run with the others (`node bench/run.mjs dev`) or alone (`node bench/dev.bench.mjs`).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { fnBin, median, node, runAlone, tempDir } from './lib.mjs';

export const name = 'dev';
export const description = 'fn dev: HTTP throughput and latency vs bare node:http; save-to-served hot reload time';

const CONNECTIONS = 10;
/** A second, informational comparison where both servers, not the round trip, are the limit. */
const SATURATING_CONNECTIONS = 100;
const DURATION_S = 3;
const ROUNDS = 5;
const WARMUP_S = 1;
const EDITS = 20;
const THROUGHPUT_TARGET = 0.5;
const RESULT = { hello: 'world' };

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

/**
 * Spawns a server process with its stdout going to a file, and resolves with it and the URL it
 * prints there first (`urlOf` reads it from the first line).
 */
function startServer(args, { cwd, stopSignal, outFile, urlOf }) {
  const out = openSync(outFile, 'w');
  const child = spawn(node, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited;
  child.once('exit', (code) => (exited = code ?? 'signal'));
  const first = (async () => {
    const started = Date.now();
    while (Date.now() - started < 15_000) {
      if (exited !== undefined) throw new Error(`server exited (${exited}) before it listened\n${stderr}`);
      const text = readFileSync(outFile, 'utf8');
      const end = text.indexOf('\n');
      if (end >= 0) return urlOf(text.slice(0, end));
      await sleep(20);
    }
    throw new Error(`${args.join(' ').slice(0, 80)} printed nothing in 15 s\n${stderr}`);
  })();
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
  return first.then(
    (url) => ({ url, stop }),
    async (error) => {
      await stop();
      throw error;
    },
  );
}

function cannon(url, duration, connections) {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    connections,
    duration,
    timeout: 10,
  });
}

/** Throughput (req/s) and latency (ms) of one round; refuses a round with errors or non-2xx answers. */
async function measure(label, url, connections) {
  const r = await cannon(url, DURATION_S, connections);
  if (r.errors || r.timeouts || r.non2xx)
    throw new Error(`${label}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  // autocannon's latency percentiles are whole milliseconds; the mean is not rounded.
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average };
}

/** Warm-ups, then rounds taken in turn; each server's median round (by throughput) and all of them. */
async function compare(servers, connections, log) {
  for (const { label, url } of servers) {
    log(`dev: ${label}: ${WARMUP_S} s warm-up`);
    await cannon(url, WARMUP_S, connections);
  }
  const rounds = servers.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, { label, url }] of servers.entries()) {
      log(`dev: ${label}: round ${round} of ${ROUNDS}, ${DURATION_S} s at ${connections} connections`);
      rounds[i].push(await measure(label, url, connections));
    }
  }
  return rounds.map((runs) => ({ ...[...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)], all: runs.map((r) => r.rps) }));
}

/**
 * The ratio of two servers' throughput: the median of the ratios of rounds taken one right after
 * the other, so a machine that is slower for a while (a noisy neighbour) weighs on both sides of
 * a ratio rather than on one server's median.
 */
function pairedRatio(a, b) {
  return median(a.all.map((rps, i) => rps / b.all[i]));
}

async function callVersion(url) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return response.ok ? (await response.json()).v : undefined;
}

/** Saves hello.js returning { v }, then polls until a call answers v; ms from the save, or throws after 5 s. */
async function timeReload(app, url, v) {
  const source = `exports = function () {\n  return { hello: 'world', v: ${v} };\n};\n`;
  const started = performance.now();
  writeFileSync(join(app, 'functions', 'hello.js'), source);
  while (performance.now() - started < 5_000) {
    if ((await callVersion(url)) === v) return performance.now() - started;
    await sleep(2);
  }
  throw new Error(`edit ${v} was not served within 5 s`);
}

export async function run({ log }) {
  const app = tempDir('fn-bench-dev-');
  mkdirSync(join(app, 'functions'), { recursive: true });
  writeFileSync(join(app, 'fn.config.json'), JSON.stringify({ appId: 'bench' }) + '\n');
  writeFileSync(join(app, 'functions', 'config.json'), JSON.stringify([{ name: 'hello', private: false }], null, 2) + '\n');
  writeFileSync(join(app, 'functions', 'hello.js'), `exports = function () {\n  return ${JSON.stringify(RESULT)};\n};\n`);

  // Outside the app: fn dev watches the app's folder (chokidar watches a file through its folder).
  const logs = tempDir('fn-bench-dev-out-');
  const jsonUrl = (line) => JSON.parse(line).url;
  // fn dev as users run it (a line per call); with --json (an NDJSON event per call) for information.
  const dev = await startServer([fnBin, 'dev', '--port', '0'], {
    cwd: app,
    stopSignal: 'SIGINT',
    outFile: join(logs, 'dev.out'),
    urlOf: (line) => / at (http:\/\/\S+)/.exec(line)[1],
  });
  let devJson;
  let bare;
  try {
    devJson = await startServer([fnBin, 'dev', '--port', '0', '--json', '--no-watch'], {
      cwd: app,
      stopSignal: 'SIGINT',
      outFile: join(logs, 'dev-json.out'),
      urlOf: jsonUrl,
    });
    bare = await startServer(['--input-type=module', '-e', BARE_SERVER], {
      cwd: app,
      stopSignal: 'SIGTERM',
      outFile: join(logs, 'bare.out'),
      urlOf: jsonUrl,
    });
    const fnUrl = `${dev.url}/api/apps/bench/functions/hello`;
    const fnJsonUrl = `${devJson.url}/api/apps/bench/functions/hello`;
    const bareUrl = `${bare.url}/api/apps/bench/functions/hello`;
    // Same answer from all, so the comparison is of like with like.
    for (const url of [fnUrl, fnJsonUrl, bareUrl]) {
      const body = await (await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).json();
      if (JSON.stringify(body) !== JSON.stringify(RESULT)) throw new Error(`${url} answered ${JSON.stringify(body)}`);
    }

    const fnServer = { label: 'fn dev', url: fnUrl };
    const bareServer = { label: 'node:http', url: bareUrl };
    // Bare in the middle: each fn round is taken right next to the bare round it is compared with.
    const [fnRun, bareRun, fnJsonRun] = await compare([fnServer, bareServer, { label: 'fn dev --json', url: fnJsonUrl }], CONNECTIONS, log);
    await devJson.stop();
    devJson = undefined;
    const [fnSat, bareSat] = await compare([fnServer, bareServer], SATURATING_CONNECTIONS, log);
    await bare.stop();
    bare = undefined;

    // Hot reload. The listening event can come before the watcher is ready, and chokidar drops a
    // second change of one file within 50 ms: make sure edits are seen, then space them out.
    log(`dev: hot reload, ${EDITS} edits`);
    let watching = false;
    for (let attempt = 0; attempt < 50 && !watching; attempt++) {
      try {
        await timeReload(app, fnUrl, 1000 + attempt);
        watching = true;
      } catch {
        // not yet
      }
    }
    if (!watching) throw new Error('fn dev never served an edit');
    const samples = [];
    for (let i = 1; i <= EDITS; i++) {
      await sleep(120);
      samples.push(await timeReload(app, fnUrl, i));
    }

    const ratio = pairedRatio(fnRun, bareRun);
    const rows = [
      {
        bench: 'dev',
        case: `save -> served by new code`,
        runs: EDITS,
        value: median(samples),
        note: `info (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)} ms)`,
      },
    ];
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    const latency = (run) => `p50 ${run.p50} ms, p99 ${run.p99} ms, mean ${run.mean.toFixed(2)} ms`;
    const checks = [
      {
        label: `dev: throughput at ${CONNECTIONS} connections, fn dev (median round)`,
        value: `${fmt(fnRun.rps)} req/s (rounds: ${fnRun.all.map(fmt).join(', ')})`,
      },
      {
        label: `dev: throughput at ${CONNECTIONS} connections, bare node:http (median round)`,
        value: `${fmt(bareRun.rps)} req/s (rounds: ${bareRun.all.map(fmt).join(', ')})`,
      },
      {
        label: `dev: throughput at ${CONNECTIONS} connections, fn dev --json / node:http (info)`,
        value: `${fmt(fnJsonRun.rps)} / ${fmt(bareRun.rps)} req/s; round by round ${pairedRatio(fnJsonRun, bareRun).toFixed(2)}x`,
      },
      {
        label: `dev: throughput at ${SATURATING_CONNECTIONS} connections, fn dev / node:http (info)`,
        value: `${fmt(fnSat.rps)} / ${fmt(bareSat.rps)} req/s; round by round ${pairedRatio(fnSat, bareSat).toFixed(2)}x`,
      },
      { label: `dev: latency at ${CONNECTIONS} connections, fn dev`, value: latency(fnRun) },
      { label: `dev: latency at ${CONNECTIONS} connections, bare node:http`, value: latency(bareRun) },
      {
        label: `dev: throughput ratio fn dev / node:http, median of ${ROUNDS} rounds taken in turn (target >= ${THROUGHPUT_TARGET}x)`,
        value: `${ratio.toFixed(2)}x (rounds: ${fnRun.all.map((rps, i) => (rps / bareRun.all[i]).toFixed(2)).join(', ')}; of the medians: ${(fnRun.rps / bareRun.rps).toFixed(2)}x)`,
        ok: ratio >= THROUGHPUT_TARGET,
      },
    ];
    return { rows, checks };
  } finally {
    await bare?.stop();
    await devJson?.stop();
    await dev.stop();
  }
}

// Alone: node bench/dev.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
