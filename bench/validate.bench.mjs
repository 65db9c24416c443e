// `fn validate` on generated apps of 10, 1,000 and 10,000 functions, against a plain Node script
// that only reads every file of the same app and parses the manifest (bench/baseline-read.mjs).
// Also checks that validate never loads TypeScript (nor ts-morph, chokidar, execa).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, compareCommands, fnBin, node, repoRoot, runOnce, tempDir } from './lib.mjs';

export const name = 'validate';
export const description = 'fn validate vs reading the files, on 10 / 1,000 / 10,000 functions; no TypeScript on the path';

const SOURCE = 'exports = function ({ a, b }) { return a + b; };\n';
const SIZES = [
  { functions: 10, target: undefined },
  { functions: 1_000, target: 2 },
  { functions: 10_000, target: undefined },
];
const HEAVY = ['typescript', 'ts-morph', '@ts-morph/common', 'chokidar', 'execa'];

/** An app with `count` functions: one manifest entry and one source each; every 4th in a folder, a few two deep. */
export function generateApp(root, count) {
  const functionsDir = join(root, 'functions');
  mkdirSync(functionsDir, { recursive: true });
  const entries = [];
  for (let i = 0; i < count; i++) {
    let name = `fn${String(i).padStart(5, '0')}`;
    if (i % 4 === 1) name = `group${i % 25}/${name}`;
    if (i % 40 === 3) name = `group${i % 25}/deep${i % 3}/${name}`;
    const file = join(functionsDir, `${name}.js`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, SOURCE);
    entries.push({ name, private: false });
  }
  writeFileSync(join(functionsDir, 'config.json'), JSON.stringify(entries, null, 2) + '\n');
  return root;
}

/** The package names (node_modules/<name>) among the modules a command resolved. */
function tracePackages(args, cwd) {
  const trace = join(tempDir('fn-bench-trace-'), 'trace.log');
  writeFileSync(trace, '');
  const result = runOnce(node, ['--import', join(benchDir, 'trace-loads.mjs'), ...args], {
    cwd,
    env: { FN_BENCH_TRACE: trace },
    capture: true,
    expectStatus: null,
  });
  const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const packages = new Set();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) packages.add(decodeURIComponent(m[1]));
  }
  return { status: result.status, modules: new Set(urls).size, packages };
}

export async function run({ log }) {
  const rows = [];
  const checks = [];
  const root = tempDir('fn-bench-validate-');
  const apps = new Map();
  for (const { functions, target } of SIZES) {
    const app = generateApp(join(root, `app-${functions}`), functions);
    apps.set(functions, app);
    // Sanity: the generated app is valid and fn sees every function, so the timing is of real work.
    const check = runOnce(node, [fnBin, 'validate', '--cwd', app], { capture: true });
    const expected = `no problems (${functions} function${functions === 1 ? '' : 's'})`;
    if (!check.stdout.includes(expected))
      throw new Error(`fn validate on the ${functions}-function app printed ${JSON.stringify(check.stdout)}, expected "${expected}"`);
    log(`validate: ${functions} functions`);
    const runs = functions >= 10_000 ? 9 : undefined;
    // The cache in .fn/cache is warm from the sanity run above, as it is for a pre-commit hook.
    const {
      subjectMs,
      baselineMs,
      runs: done,
      subjectCpuMs,
      baselineCpuMs,
    } = compareCommands(
      { cmd: node, args: [fnBin, 'validate', '--cwd', app] },
      { cmd: node, args: [join(benchDir, 'baseline-read.mjs'), app] },
      runs ? { runs } : {},
    );
    rows.push({
      bench: 'validate',
      case: `${functions.toLocaleString('en-US')} functions`,
      runs: done,
      value: subjectMs,
      baseline: baselineMs,
      baselineLabel: 'read files',
      target,
      cpu: subjectCpuMs,
      baselineCpu: baselineCpuMs,
    });
    // The same with the source-check cache off: every file parsed, as on a first run (informational).
    const cold = compareCommands(
      { cmd: node, args: [fnBin, 'validate', '--no-cache', '--cwd', app] },
      { cmd: node, args: [join(benchDir, 'baseline-read.mjs'), app] },
      runs ? { runs } : {},
    );
    rows.push({
      bench: 'validate',
      case: `${functions.toLocaleString('en-US')} functions, --no-cache`,
      runs: cold.runs,
      value: cold.subjectMs,
      baseline: cold.baselineMs,
      baselineLabel: 'read files',
      target: undefined,
      cpu: cold.subjectCpuMs,
      baselineCpu: cold.baselineCpuMs,
    });
  }

  // What validate loads: the detector is first shown to see TypeScript when it is loaded, through
  // an ESM import and a CommonJS require, so "no" below means something.
  const esm = tracePackages(['--input-type=module', '-e', "await import('typescript')"], repoRoot);
  const cjs = tracePackages(['-e', "require('typescript')"], repoRoot);
  const detectorWorks = esm.packages.has('typescript') && cjs.packages.has('typescript');
  checks.push({ label: 'load detector sees typescript (import and require)', ok: detectorWorks, value: detectorWorks ? 'yes' : 'no' });
  const traced = tracePackages([fnBin, 'validate', '--cwd', apps.get(1_000)], repoRoot);
  if (traced.status !== 0) throw new Error(`traced fn validate exited with ${traced.status}`);
  const heavy = HEAVY.filter((p) => traced.packages.has(p));
  checks.push({
    label: 'typescript loaded by fn validate',
    ok: !traced.packages.has('typescript'),
    value: traced.packages.has('typescript') ? 'yes' : 'no',
  });
  checks.push({
    label: 'ts-morph / chokidar / execa loaded by fn validate',
    ok: heavy.length === 0,
    value: heavy.length ? heavy.join(', ') : 'none',
  });
  checks.push({
    label: 'packages loaded by fn validate (info)',
    value: `${[...traced.packages].sort().join(', ')} (${traced.modules} modules in all)`,
  });
  return { rows, checks };
}
