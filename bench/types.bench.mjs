// `fn types` on a generated app of 1,000 functions (JSDoc on half of them, the rest inferred):
//   - generation against `tsc --noEmit --allowJs --checkJs` over the same sources (target: no slower),
//   - `--check` on the up-to-date app against `fn validate` on it (target: within 1.5x),
//   - `--watch`: time from a saved change to the rewritten file, median of 20 edits (reported).
// Also checks that --check loads no TypeScript. Run by bench/run.mjs, or alone: node bench/types.bench.mjs
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchDir, compareCommands, fnBin, median, node, repoRoot, runAlone, runOnce, tempDir } from './lib.mjs';

export const name = 'types';
export const description = 'fn types vs tsc --checkJs, fn types --check vs fn validate, --watch latency; 1,000 functions';

const FUNCTIONS = 1_000;
const WATCH_EDITS = 20;
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const HEAVY = /\/node_modules\/(typescript|ts-morph|@ts-morph\/common)\//;

/** A function with JSDoc types: named parameters in, an object out (async). */
const jsdocSource = (i) => `/**
 * Order total number ${i}.
 *
 * @param {{ items: { price: number, quantity?: number }[], coupon?: string }} args
 * @returns {Promise<{ total: number, count: number, id: string }>}
 */
exports = async function ({ items, coupon }) {
  const total = items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);
  const discount = coupon === 'SAVE${i}' ? 0.1 : 0;
  return { total: Math.round(total * (1 - discount) * 100) / 100, count: items.length, id: 'order-${i}' };
};
`;

/** A function without JSDoc: the types are inferred from the JavaScript. */
const inferredSource = (i) => `exports = function ({ name, tags = [] }) {
  const label = String(name).trim() + ' #${i}';
  const user = context.user;
  return { label, tags: tags.map((t) => String(t).toLowerCase()), by: user.id, kind: user.type, n: ${i} };
};
`;

/** The app: `count` functions, every 4th in a folder, every 10th private; JSDoc on the even ones. */
export function generateTypesApp(root, count) {
  const functionsDir = join(root, 'functions');
  mkdirSync(join(root, 'types'), { recursive: true });
  writeFileSync(join(root, 'types', 'fn-runtime.d.ts'), readFileSync(join(repoRoot, 'templates', 'base', 'types', 'fn-runtime.d.ts')));
  const entries = [];
  const files = [];
  for (let i = 0; i < count; i++) {
    let fnName = `fn${String(i).padStart(4, '0')}`;
    if (i % 4 === 1) fnName = `group${i % 20}/${fnName}`;
    const file = join(functionsDir, `${fnName}.js`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, i % 2 === 0 ? jsdocSource(i) : inferredSource(i));
    entries.push(i % 10 === 9 ? { name: fnName, private: true } : { name: fnName });
    files.push(file);
  }
  writeFileSync(join(functionsDir, 'config.json'), JSON.stringify(entries, null, 2) + '\n');
  // What `tsc --noEmit --allowJs --checkJs` checks: the same sources with the same runtime globals,
  // set up as the app's jsconfig.json is (each file a module, ES2022).
  writeFileSync(
    join(root, 'tsconfig.bench.json'),
    JSON.stringify({
      compilerOptions: {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'preserve',
        moduleDetection: 'force',
        skipLibCheck: true,
        types: [],
      },
      include: ['functions/**/*.js', 'types/fn-runtime.d.ts'],
    }),
  );
  return { root, files };
}

/** The packages (node_modules/<name>) a command resolved, through bench/trace-loads.mjs. */
function loadedPackages(args, cwd) {
  const trace = join(tempDir('fn-bench-types-trace-'), 'trace.log');
  writeFileSync(trace, '');
  const result = runOnce(node, ['--import', join(benchDir, 'trace-loads.mjs'), ...args], {
    cwd,
    env: { FN_BENCH_TRACE: trace },
    expectStatus: null,
  });
  return {
    status: result.status,
    heavy: readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => HEAVY.test(l)),
  };
}

/** Starts `fn types --watch --json`, edits `edits` functions one by one, and times each save → rewritten file. */
async function watchLatency(app, files, edits) {
  const child = spawn(node, [fnBin, 'types', '--watch', '--json'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const waiters = [];
  const results = [];
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const result = { at: performance.now(), ...JSON.parse(line) };
      results.push(result);
      waiters.shift()?.(result);
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const nextResult = (ms = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fn types --watch gave no result within ${ms} ms: ${stderr}`)), ms);
      waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  try {
    const first = await nextResult(120_000);
    if (!first.ok) throw new Error(`the first run of fn types --watch failed: ${JSON.stringify(first)}`);
    const samples = [];
    for (let i = 0; i < edits; i++) {
      // Wait past chokidar's 50 ms change throttle and fn's quiet re-check, so each edit is timed alone.
      await sleep(250);
      const file = files[(i * 37) % files.length];
      const text = readFileSync(file, 'utf8');
      const pending = nextResult();
      const start = performance.now();
      writeFileSync(file, text.replace(/return \{ /, `return { edit${i}: ${i}, `));
      const result = await pending;
      if (!result.written) throw new Error(`edit ${i} did not rewrite the file: ${JSON.stringify(result)}`);
      samples.push(result.at - start);
    }
    return samples;
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

export async function run({ log }) {
  const rows = [];
  const checks = [];
  const { root: app, files } = generateTypesApp(tempDir('fn-bench-types-'), FUNCTIONS);
  const label = `${FUNCTIONS.toLocaleString('en-US')} functions`;

  // Sanity: the app is valid, fn types writes the file, and tsc checks the sources cleanly.
  const first = runOnce(node, [fnBin, 'types', '--json', '--cwd', app], { capture: true });
  const doc = JSON.parse(first.stdout);
  if (!doc.written || doc.functions !== FUNCTIONS) throw new Error(`fn types on the generated app printed ${first.stdout}`);
  const typeCheck = runOnce(node, [tsc, '-p', join(app, 'tsconfig.bench.json')], { capture: true, expectStatus: null });
  if (typeCheck.status !== 0) throw new Error(`tsc found errors in the generated app:\n${typeCheck.stdout.slice(0, 2000)}`);

  log(`types: fn types vs tsc --checkJs, ${label}`);
  // Each fn types run generates in full: the hash never short-cuts generation, only --check.
  const generation = compareCommands(
    { cmd: node, args: [fnBin, 'types', '--cwd', app] },
    { cmd: node, args: [tsc, '-p', join(app, 'tsconfig.bench.json')] },
    { warmup: 1, runs: 7 },
  );
  rows.push({
    bench: 'types',
    case: `fn types, ${label}`,
    runs: generation.runs,
    value: generation.subjectMs,
    baseline: generation.baselineMs,
    baselineLabel: 'tsc --checkJs',
    target: 1,
    cpu: generation.subjectCpuMs,
    baselineCpu: generation.baselineCpuMs,
  });

  log(`types: fn types --check vs fn validate, ${label}`);
  const check = compareCommands(
    { cmd: node, args: [fnBin, 'types', '--check', '--cwd', app] },
    { cmd: node, args: [fnBin, 'validate', '--cwd', app] },
  );
  rows.push({
    bench: 'types',
    case: `fn types --check, ${label}`,
    runs: check.runs,
    value: check.subjectMs,
    baseline: check.baselineMs,
    baselineLabel: 'fn validate',
    target: 1.5,
    cpu: check.subjectCpuMs,
    baselineCpu: check.baselineCpuMs,
  });

  log(`types: --watch, ${WATCH_EDITS} edits`);
  const samples = await watchLatency(app, files, WATCH_EDITS);
  rows.push({
    bench: 'types',
    case: `--watch save → rewritten, ${label}`,
    runs: samples.length,
    value: median(samples),
    note: `info (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)} ms)`,
  });

  const generating = loadedPackages([fnBin, 'types', '--cwd', app], repoRoot);
  checks.push({
    label: 'load detector sees ts-morph when fn types generates',
    ok: generating.heavy.length > 0,
    value: generating.heavy.length ? 'yes' : 'no',
  });
  const checking = loadedPackages([fnBin, 'types', '--check', '--cwd', app], repoRoot);
  checks.push({
    label: 'typescript / ts-morph loaded by fn types --check',
    ok: checking.status === 0 && checking.heavy.length === 0,
    value: checking.heavy.length ? 'yes' : 'no',
  });
  return { rows, checks };
}

// Alone: node bench/types.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
