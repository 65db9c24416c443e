// fn push of an app of 1,000 functions to fn serve when one function changed, against a no-op push
// of the same app (nothing changed: the plan is made, nothing is sent), in the same run. Figures:
// the bytes sent (the body of the deploy request: `bytesSent` of --json, `N bytes sent` in text
// mode) and the wall time. Target: the bytes sent are within 2x of the changed source plus the
// manifest (only what changed is uploaded). The time is shown beside the no-op push's (info).
// Run with the others (`node bench/run.mjs push`) or alone (`node bench/push.bench.mjs`).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fnBin, median, node, runAlone, runOnce, tempDir } from './lib.mjs';

export const name = 'push';
export const description = 'fn push of 1,000 functions with one changed vs a no-op push: bytes sent and time';

const FUNCTIONS = 1_000;
const RUNS = 7;
const WARMUP = 1;
const BYTES_TARGET = 2;
const SERVICE_KEY = 'bench-service-key';

/** A distinct source per function (so that no two share a blob), `variant` changes one line. */
const sourceOf = (i, variant = 0) =>
  `// Function ${i}: adds its number to the total it is given.\nexports = function ({ total = 0 } = {}) {\n  const step = ${i};\n  return { total: total + step, variant: ${variant} };\n};\n`;

function generateApp(root) {
  mkdirSync(join(root, 'functions'), { recursive: true });
  writeFileSync(join(root, 'fn.config.json'), JSON.stringify({ appId: 'bench-push' }, null, 2) + '\n');
  const entries = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    const name = i % 4 === 1 ? `group${i % 25}/fn${String(i).padStart(5, '0')}` : `fn${String(i).padStart(5, '0')}`;
    mkdirSync(join(root, 'functions', name, '..'), { recursive: true });
    writeFileSync(join(root, 'functions', `${name}.js`), sourceOf(i));
    entries.push({ name, private: false });
  }
  writeFileSync(join(root, 'functions', 'config.json'), JSON.stringify(entries, null, 2) + '\n');
  return entries.map((e) => e.name);
}

/** `fn serve --port 0 --json` on a temp data dir; resolves with its URL and a stop(). */
async function startServe(dataDir) {
  const child = spawn(node, [fnBin, 'serve', '--port', '0', '--json', '--data-dir', dataDir], {
    env: { ...process.env, NO_COLOR: '1', FN_SERVICE_KEY: SERVICE_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fn serve printed nothing in 15 s\n${stderr}`)), 15_000);
    lines.on('line', (line) => {
      const event = JSON.parse(line);
      if (event.event !== 'listening') return;
      clearTimeout(timer);
      resolve(event.url);
    });
    child.once('exit', (code) => reject(new Error(`fn serve exited (${code}) before it listened\n${stderr}`)));
  });
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
  return { url, stop };
}

export async function run({ log }) {
  const app = join(tempDir('fn-bench-push-'), 'app');
  const names = generateApp(app);
  const server = await startServe(tempDir('fn-bench-push-data-'));
  try {
    const pushArgs = (extra) => [fnBin, 'push', '--url', server.url, '--service-key', SERVICE_KEY, '--yes', ...extra];
    const push = (extra = ['--json']) => {
      const r = runOnce(node, pushArgs(extra), { cwd: app, capture: true });
      return { ms: r.ms, cpuMs: r.cpuMs, result: extra.includes('--json') ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
    };
    log(`push: first push of ${FUNCTIONS} functions`);
    const first = push();
    if (!first.result.ok || first.result.plan.added.length !== FUNCTIONS)
      throw new Error(`the first push did not deploy ${FUNCTIONS} functions: ${JSON.stringify(first.result).slice(0, 300)}`);

    // Each one-change push flips one function between two variants: exactly one source changed.
    const target = names[FUNCTIONS >> 1];
    const targetIndex = FUNCTIONS >> 1;
    let variant = 0;
    const changeOne = () => {
      variant = variant ? 0 : 1;
      writeFileSync(join(app, 'functions', `${target}.js`), sourceOf(targetIndex, variant));
    };
    const manifestBytes = readFileSync(join(app, 'functions', 'config.json')).length;
    const changedBytes = Buffer.byteLength(sourceOf(targetIndex, 1));

    log(`push: one changed vs no-op, ${RUNS} runs each after ${WARMUP} warm-up`);
    const changed = [];
    const noop = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      changeOne();
      const c = push();
      const n = push();
      const plan = c.result.plan;
      if (
        !c.result.ok ||
        plan.changed.length !== 1 ||
        plan.changed[0].name !== target ||
        plan.added.length ||
        plan.deleted.length ||
        plan.unchanged !== FUNCTIONS - 1
      )
        throw new Error(`the one-change push planned ${JSON.stringify(plan)}`);
      if (!n.result.ok || !n.result.upToDate || n.result.bytesSent !== 0)
        throw new Error(`the no-op push was not a no-op: ${JSON.stringify(n.result).slice(0, 300)}`);
      if (i >= WARMUP) {
        changed.push(c);
        noop.push(n);
      }
    }
    // Text mode says the same on stderr.
    changeOne();
    const text = push([]);
    const textBytes = Number(/^(\d+) bytes sent$/m.exec(text.stderr)?.[1] ?? NaN);

    const bytes = median(changed.map((c) => c.result.bytesSent));
    const allowed = BYTES_TARGET * (changedBytes + manifestBytes);
    const meanCpu = (runs) =>
      runs.some((r) => r.cpuMs === undefined) ? undefined : runs.reduce((sum, r) => sum + r.cpuMs, 0) / runs.length;
    const rows = [
      {
        bench: 'push',
        case: `${FUNCTIONS.toLocaleString('en-US')} functions, 1 changed`,
        runs: RUNS,
        value: median(changed.map((c) => c.ms)),
        baseline: median(noop.map((n) => n.ms)),
        baselineLabel: 'no-op push',
        cpu: meanCpu(changed),
        baselineCpu: meanCpu(noop),
      },
    ];
    const kb = (n) => `${n.toLocaleString('en-US')} B`;
    const checks = [
      { label: 'push: bytes sent, first push of every function (info)', value: kb(first.result.bytesSent) },
      { label: 'push: bytes sent, no-op push (info)', value: kb(0) },
      {
        label: 'push: changed source + manifest (info)',
        value: `${kb(changedBytes)} + ${kb(manifestBytes)} = ${kb(changedBytes + manifestBytes)}`,
      },
      {
        label: `push: bytes sent, 1 changed (target <= ${BYTES_TARGET}x source + manifest = ${kb(allowed)})`,
        value: `${kb(bytes)} (${(bytes / (changedBytes + manifestBytes)).toFixed(2)}x, ${((bytes / first.result.bytesSent) * 100).toFixed(1)}% of the first push)`,
        ok: bytes <= allowed,
      },
      {
        label: 'push: text mode prints the same "N bytes sent"',
        value: Number.isFinite(textBytes) ? `${textBytes} bytes sent` : 'missing',
        ok: Number.isFinite(textBytes) && Math.abs(textBytes - bytes) <= 16,
      },
    ];
    return { rows, checks };
  } finally {
    await server.stop();
  }
}

// Alone: node bench/push.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
