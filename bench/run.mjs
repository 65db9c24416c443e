// Runs the benchmarks (bench/*.bench.mjs), all of them or those named: `node bench/run.mjs validate`.
// `npm run bench` builds first. Each figure is printed beside a baseline measured in the same run,
// with its target ratio and PASS or FAIL; a missed target does not change the exit code (0), a
// benchmark that cannot run at all (a broken build) gives 1.
//
// A benchmark module exports `name`, `description` and `run({ log })`, which returns table rows
// (see lib.mjs) or `{ rows, checks }`, checks being `{ label, value, ok? }` (ok undefined: info).
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, DEFAULT_WARMUP, printChecks, printTable, removeTemps, repoRoot, verdict } from './lib.mjs';

const log = (line) => process.stderr.write(`… ${line}\n`);

async function main() {
  if (!existsSync(join(repoRoot, 'dist', 'cli.js'))) {
    process.stderr.write('dist/cli.js is missing: run npm run bench (it builds first) or npm run build\n');
    return 2;
  }
  const files = readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.mjs'))
    .sort();
  const benches = [];
  for (const file of files) benches.push(await import(pathToFileURL(join(benchDir, file)).href));
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; there are: ${benches.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = wanted.length ? benches.filter((b) => wanted.includes(b.name)) : benches;

  const rows = [];
  const checks = [];
  const broken = [];
  try {
    for (const bench of selected) {
      try {
        const result = await bench.run({ log });
        rows.push(...(Array.isArray(result) ? result : result.rows));
        if (!Array.isArray(result)) checks.push(...(result.checks ?? []));
      } catch (error) {
        // A benchmark that cannot run measured nothing: say so, run the others, exit 1 at the end.
        broken.push(bench.name);
        process.stderr.write(`benchmark ${bench.name} could not run: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  } finally {
    removeTemps();
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `fn benchmarks: node ${process.version}, ${process.platform}-${process.arch}, ${availableParallelism()} CPUs (${cpu}), load average ${load}`,
  );
  if (loadavg()[0] > availableParallelism())
    console.log('warning: the machine was busy (load above the CPU count): wall times are noisy; the CPU-time column is steadier');
  console.log(
    `wall time per process, median of the runs shown after ${DEFAULT_WARMUP} warm-ups; fn and its baseline alternate run by run\n`,
  );
  printTable(rows);
  if (checks.length) {
    console.log('');
    printChecks(checks);
  }
  const failed = [
    ...rows.filter((r) => verdict(r) === 'FAIL').map((r) => `${r.bench} ${r.case}`),
    ...checks.filter((c) => c.ok === false).map((c) => c.label),
  ];
  console.log('');
  console.log(
    failed.length ? `FAIL: ${failed.length} target${failed.length === 1 ? '' : 's'} missed: ${failed.join('; ')}` : 'all targets met',
  );
  if (broken.length) {
    console.log(`ERROR: ${broken.join(', ')} could not run (see above)`);
    return 1;
  }
  // Missed targets are reported, not turned into an exit code: timings are not tests.
  return 0;
}

process.exitCode = await main();
