// Shared by the benchmarks: run a command many times, take the median, compare it with a baseline
// measured in the same run, print a table. A benchmark is not a test: a missed target prints FAIL
// and the process still exits 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const benchDir = fileURLToPath(new URL('.', import.meta.url));
export const fnBin = join(repoRoot, 'bin', 'fn.js');
export const node = process.execPath;

export const DEFAULT_WARMUP = 2;
export const DEFAULT_RUNS = 15;

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux Node supports

/**
 * CPU time (user + system, ms) used so far by this process's finished children, from
 * /proc/self/stat; undefined where there is no /proc. Its 10 ms grain is fine summed over many runs.
 */
export function childCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5) (cutime, cstime); fields[0] is field 3.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Runs `cmd args` once and returns its wall time in ms. Output goes to /dev/null unless `capture`.
 * An exit status other than `expectStatus` (0 unless given; null: any) throws, so a broken command
 * is never timed as a fast one.
 */
export function runOnce(cmd, args, { cwd = repoRoot, env, capture = false, expectStatus = 0 } = {}) {
  const cpuBefore = childCpuMs();
  const start = performance.now();
  const result = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  const cpuAfter = childCpuMs();
  if (result.error) throw result.error;
  if (expectStatus !== null && result.status !== expectStatus) {
    throw new Error(`${[cmd, ...args].join(' ')} exited with ${result.status ?? result.signal}, not ${expectStatus}\n${result.stderr}`);
  }
  const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return { ms, cpuMs, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Times one command: `warmup` untimed runs, then the median of `runs`. */
export function timeCommand(cmd, args, { warmup = DEFAULT_WARMUP, runs = DEFAULT_RUNS, ...options } = {}) {
  for (let i = 0; i < warmup; i++) runOnce(cmd, args, options);
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(runOnce(cmd, args, options).ms);
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/**
 * Times a command against its baseline, alternating the two run by run so that a slow patch of
 * the machine hits both alike. Each side is `{ cmd, args, ...runOnce options }`. Wall time is the
 * median; CPU time (user + system of the child, less disturbed by other load) is the mean.
 */
export function compareCommands(subject, baseline, { warmup = DEFAULT_WARMUP, runs = DEFAULT_RUNS } = {}) {
  const once = ({ cmd, args, ...options }) => runOnce(cmd, args, options);
  for (let i = 0; i < warmup; i++) {
    once(subject);
    once(baseline);
  }
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    // Swap the order every other round as well.
    if (i % 2) {
      b.push(once(baseline));
      a.push(once(subject));
    } else {
      a.push(once(subject));
      b.push(once(baseline));
    }
  }
  const meanCpu = (samples) =>
    samples.some((s) => s.cpuMs === undefined) ? undefined : samples.reduce((sum, s) => sum + s.cpuMs, 0) / samples.length;
  const subjectMs = median(a.map((s) => s.ms));
  const baselineMs = median(b.map((s) => s.ms));
  return { subjectMs, baselineMs, ratio: subjectMs / baselineMs, runs, subjectCpuMs: meanCpu(a), baselineCpuMs: meanCpu(b) };
}

/**
 * A table row. `target` is the highest acceptable ratio; without it the row is informational.
 * `cpu` and `baselineCpu` (ms) are shown as a second, informational ratio.
 * @typedef {{ bench: string, case: string, value: number, runs?: number, baseline?: number, baselineLabel?: string, target?: number, cpu?: number, baselineCpu?: number, unit?: string, note?: string }} Row
 */

/** 'PASS', 'FAIL' or 'info' for a row. */
export function verdict(row) {
  if (row.target === undefined || row.baseline === undefined) return 'info';
  return row.value / row.baseline <= row.target ? 'PASS' : 'FAIL';
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) + ' ms';

export function printTable(rows, write = (line) => process.stdout.write(line + '\n')) {
  const header = ['benchmark', 'case', 'runs', 'fn (median)', 'baseline (median)', 'ratio', 'target', 'result', 'cpu fn / baseline (mean)'];
  const body = rows.map((r) => [
    r.bench,
    r.case,
    r.runs === undefined ? '-' : String(r.runs),
    r.unit ? `${r.value} ${r.unit}` : fmtMs(r.value),
    r.baseline === undefined ? '-' : `${fmtMs(r.baseline)}${r.baselineLabel ? ` (${r.baselineLabel})` : ''}`,
    r.baseline === undefined ? '-' : `${(r.value / r.baseline).toFixed(2)}x`,
    r.target === undefined ? '-' : `<= ${r.target}x`,
    verdict(r) === 'info' ? (r.note ?? 'info') : verdict(r),
    r.cpu === undefined || r.baselineCpu === undefined
      ? '-'
      : `${fmtMs(r.cpu)} / ${fmtMs(r.baselineCpu)} = ${(r.cpu / r.baselineCpu).toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  write(line(header));
  write(line(widths.map((w) => '-'.repeat(w))));
  for (const row of body) write(line(row));
}

/** A temp folder under os.tmpdir(), removed by removeTemps() (also on exit). */
const temps = [];
export function tempDir(prefix = 'fn-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
export function removeTemps() {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', removeTemps);

/** Prints `{ label, value, ok? }` lines in two aligned columns, then PASS, FAIL or nothing (info). */
export function printChecks(checks, write = (line) => process.stdout.write(line + '\n')) {
  const lw = Math.max(...checks.map((c) => c.label.length));
  const vw = Math.max(...checks.map((c) => (c.ok === undefined ? 0 : String(c.value).length)));
  for (const c of checks)
    write(`${c.label.padEnd(lw)}  ${c.ok === undefined ? c.value : `${String(c.value).padEnd(vw)}  ${c.ok ? 'PASS' : 'FAIL'}`}`);
}

/**
 * Runs a bench module on its own when it is the script node was started with
 * (`node bench/<name>.bench.mjs`, after npm run build): its table, its checks, and PASS or FAIL.
 */
export async function runAlone(moduleUrl, run) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  try {
    const { rows, checks } = await run({ log: (line) => process.stderr.write(`… ${line}\n`) });
    if (rows.length) printTable(rows);
    console.log('');
    printChecks(checks);
    const failed = checks.filter((c) => c.ok === false);
    console.log('');
    console.log(failed.length ? `FAIL: ${failed.map((c) => c.label).join('; ')}` : 'PASS: all targets met');
  } finally {
    removeTemps();
  }
}
