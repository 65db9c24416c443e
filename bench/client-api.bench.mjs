// The App Services client API of fn serve (what realm-web speaks): login throughput (anonymous,
// email/password) and a functions/call round trip, each next to the Base44 route's call of the
// same function measured in the same run (autocannon, loopback, 10 connections, rounds taken in
// turn). Information figures, no targets. Logins are rate-limited per client address: the server
// runs with --trust-proxy and each login carries its own X-Forwarded-For, so the figure is the
// login path's own cost (a password login verifies a scrypt hash, which dominates it).
// Run with the others (`node bench/run.mjs client-api`) or alone (`node bench/client-api.bench.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { fnBin, median, node, runAlone, tempDir } from './lib.mjs';

export const name = 'client-api';
export const description = 'fn serve client API: login throughput and functions/call vs the Base44 route, same run';

const CONNECTIONS = 10;
const DURATION_S = 2;
const ROUNDS = 3;
const WARMUP_S = 1;
const SERVICE_KEY = 'bench-client-key';
const APP_ID = 'bench';
/** Accounts the password logins go round (each account has its own rate limit too). */
const ACCOUNTS = 50;
const emailOf = (i) => `bench${i}@example.com`;
const PASSWORD = 'bench-password-1';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** fn serve with its stdout in a file; resolves once its first line (the listening event) is there. */
async function startServe(dataDir, outFile) {
  const out = openSync(outFile, 'w');
  const child = spawn(node, [fnBin, 'serve', '--port', '0', '--json', '--trust-proxy', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, NO_COLOR: '1', FN_SERVICE_KEY: SERVICE_KEY },
    stdio: ['ignore', out, 'pipe'],
  });
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
      child.kill('SIGINT');
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
  throw new Error(`fn serve did not start\n${stderr}`);
}

function makeApp() {
  const app = tempDir('fn-bench-client-app-');
  const write = (rel, value) => {
    mkdirSync(join(app, rel, '..'), { recursive: true });
    writeFileSync(join(app, rel), JSON.stringify(value, null, 2) + '\n');
  };
  write('fn.config.json', { appId: APP_ID });
  write('functions/config.json', [{ name: 'hello' }]);
  writeFileSync(join(app, 'functions', 'hello.js'), 'exports = function () {\n  return { hello: "world" };\n};\n');
  write('auth/providers.json', {
    'anon-user': { name: 'anon-user', type: 'anon-user', disabled: false },
    'local-userpass': { name: 'local-userpass', type: 'local-userpass', disabled: false, config: { autoConfirm: true } },
  });
  return app;
}

let forwarded = 0;
/** Another client address for each request (see the top of this file). */
const nextAddress = () => {
  forwarded = (forwarded + 1) % 16_000_000;
  return `10.${(forwarded >> 16) & 255}.${(forwarded >> 8) & 255}.${forwarded & 255}`;
};

function cannon({ url, body, headers = {}, spread = false, bodies }, duration) {
  let n = 0;
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: CONNECTIONS,
    duration,
    timeout: 10,
    // Each request built again with its own X-Forwarded-For (and the next account's body).
    ...(spread
      ? {
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                ...(bodies ? { body: bodies[n++ % bodies.length] } : {}),
                headers: { ...req.headers, 'x-forwarded-for': nextAddress() },
              }),
            },
          ],
        }
      : {}),
  });
}

async function measure(target, duration = DURATION_S) {
  const r = await cannon(target, duration);
  if (r.non2xx) throw new Error(`${target.label}: ${r.non2xx} non-2xx answers`);
  // A connection error or a timeout is counted and shown, not timed as an answer.
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts };
}

async function post(url, body, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export async function run({ log }) {
  const dataDir = tempDir('fn-bench-client-data-');
  const logs = tempDir('fn-bench-client-out-');
  const serve = await startServe(dataDir, join(logs, 'serve.out'));
  try {
    const pushed = spawnSync(node, [fnBin, 'push', '--url', serve.url, '--service-key', SERVICE_KEY, '--yes'], {
      cwd: makeApp(),
      encoding: 'utf8',
      env: { ...process.env, FN_SERVICE_KEY: '' },
    });
    if (pushed.status !== 0) throw new Error(`fn push: ${pushed.stderr}`);
    const client = `${serve.url}/api/client/v2.0/app/${APP_ID}`;
    for (let i = 0; i < ACCOUNTS; i++)
      await post(
        `${client}/auth/providers/local-userpass/register`,
        { email: emailOf(i), password: PASSWORD },
        { 'x-forwarded-for': nextAddress() },
      );
    const device = { options: { device: { platform: 'bench', platformVersion: '0', sdkVersion: '0' } } };
    const session = await post(`${client}/auth/providers/anon-user/login`, device, { 'x-forwarded-for': nextAddress() });
    const auth = { authorization: `Bearer ${session.access_token}` };
    const call = await post(`${client}/functions/call`, { name: 'hello', arguments: [] }, auth);
    if (JSON.stringify(call) !== '{"hello":"world"}') throw new Error(`functions/call answered ${JSON.stringify(call)}`);

    const base44 = { label: 'Base44 route call', url: `${serve.url}/api/apps/${APP_ID}/functions/hello`, body: '{}', headers: auth };
    const cases = [
      {
        label: 'email/password login',
        url: `${client}/auth/providers/local-userpass/login`,
        body: JSON.stringify({ username: emailOf(0), password: PASSWORD, ...device }),
        bodies: Array.from({ length: ACCOUNTS }, (_, i) => JSON.stringify({ username: emailOf(i), password: PASSWORD, ...device })),
        spread: true,
      },
      {
        label: 'anonymous login',
        url: `${client}/auth/providers/anon-user/login`,
        body: JSON.stringify(device),
        spread: true,
      },
      {
        label: 'functions/call round trip',
        url: `${client}/functions/call`,
        body: JSON.stringify({ name: 'hello', arguments: [] }),
        headers: auth,
      },
    ];
    for (const target of [...cases, base44]) {
      log(`client-api: ${target.label}: ${WARMUP_S} s warm-up`);
      await measure(target, WARMUP_S);
    }
    const errorsOf = (runs) => {
      const n = runs.reduce((sum, r) => sum + r.errors, 0);
      return n ? ` (${n} connection errors or timeouts in these rounds)` : '';
    };
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    const mid = (runs) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
    const checks = [];
    for (const target of cases) {
      const subject = [];
      const baseline = [];
      for (let round = 1; round <= ROUNDS; round++) {
        log(`client-api: ${target.label} and the Base44 call: round ${round} of ${ROUNDS}, ${DURATION_S} s each`);
        // In turn, the order swapped every other round, so that a slow patch hits both alike.
        if (round % 2) {
          subject.push(await measure(target));
          baseline.push(await measure(base44));
        } else {
          baseline.push(await measure(base44));
          subject.push(await measure(target));
        }
      }
      const ratios = subject.map((r, i) => r.rps / baseline[i].rps);
      const s = mid(subject);
      const b = mid(baseline);
      // The file user store rewrites its whole file at each login: its size is part of the figure.
      const storeKb = Math.round(statSync(join(dataDir, 'users', `${APP_ID}.json`)).size / 1024);
      checks.push({
        label: `client-api: ${target.label} at ${CONNECTIONS} connections (median round)`,
        value: `${fmt(s.rps)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms (rounds: ${subject.map((r) => fmt(r.rps)).join(', ')}; user store ${fmt(storeKb)} KB after)`,
      });
      checks.push({
        label: `client-api:   the Base44 route's call in the same rounds`,
        value: `${fmt(b.rps)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms${errorsOf([...subject, ...baseline])}; ratio ${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
      });
    }
    return { rows: [], checks };
  } finally {
    await serve.stop();
  }
}

// Alone: node bench/client-api.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
