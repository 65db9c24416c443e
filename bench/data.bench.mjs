// Data access: (1) a function doing findOne by _id on a 10,000-document collection, called through
// fn dev over HTTP (autocannon, 10 connections), against a bare node:http server doing the same
// findOne on the same embedded engine in-process; target: fn dev >= 0.5x the bare throughput.
// (2) find with a filter, sort and limit, and aggregate with $match/$group, over those 10,000
// documents: time per call through fn dev (function -> context.services -> data bridge -> engine)
// next to the engine called directly in this process; target: overhead <= 1.2x. (3) Memory of the
// embedded engine per 10,000 documents (heap after load - heap before, after GC, in a child).
// Run with the others (`node bench/run.mjs data`) or alone (`node bench/data.bench.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { fnBin, median, node, repoRoot, runAlone, tempDir } from './lib.mjs';

export const name = 'data';
export const description = 'context.services on the embedded engine: findOne throughput vs bare node:http, find/aggregate overhead, memory';

const DOCS = 10_000;
const CONNECTIONS = 10;
const DURATION_S = 3;
const ROUNDS = 3;
const CALLS = 30;
const THROUGHPUT_TARGET = 0.5;
const OVERHEAD_TARGET = 1.2;
const FIND = { filter: { group: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, price: { $gte: 10 } }, sort: { price: -1 }, limit: 20 };
const AGG = [
  { $match: { price: { $gte: 20 } } },
  { $group: { _id: '$group', n: { $sum: 1 }, total: { $sum: '$price' } } },
  { $sort: { _id: 1 } },
];

const dist = (p) => pathToFileURL(join(repoRoot, 'dist', p)).href;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const BARE_SERVER = (dataDir) => `
import { createServer } from 'node:http';
const { EmbeddedEngine } = await import(${JSON.stringify(dist('data/embedded.js'))});
const { loadBson } = await import(${JSON.stringify(dist('data/libs.js'))});
const { ObjectId } = loadBson();
const items = new EmbeddedEngine(${JSON.stringify(dataDir)}).collection('bench', 'items');
const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const { id } = JSON.parse(body);
    const doc = await items.findOne({ _id: new ObjectId(id) });
    const text = JSON.stringify(doc);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function startServer(args, { cwd, stopSignal, outFile, urlOf, env = {} }) {
  const out = openSync(outFile, 'w');
  const child = spawn(node, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited;
  child.once('exit', (code) => (exited = code ?? 'signal'));
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
  return (async () => {
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      if (exited !== undefined) throw new Error(`server exited (${exited}) before it listened\n${stderr}`);
      const text = readFileSync(outFile, 'utf8');
      const end = text.indexOf('\n');
      if (end >= 0) return { url: urlOf(text.slice(0, end)), stop };
      await sleep(20);
    }
    await stop();
    throw new Error(`${args.join(' ').slice(0, 80)} printed nothing in 20 s\n${stderr}`);
  })();
}

async function cannon(url, body, duration) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration,
    timeout: 10,
  });
  if (r.errors || r.timeouts || r.non2xx)
    throw new Error(`${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  return r.requests.average;
}

const post = async (url, body) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
};

export async function run({ log }) {
  const { EmbeddedEngine } = await import(dist('data/embedded.js'));
  const { loadBson } = await import(dist('data/libs.js'));
  const { ObjectId } = loadBson();

  const app = tempDir('fn-bench-data-');
  const write = (rel, text) => {
    mkdirSync(join(app, rel, '..'), { recursive: true });
    writeFileSync(join(app, rel), text);
  };
  write('fn.config.json', JSON.stringify({ appId: 'bench' }));
  write(
    'data_sources/mongodb-atlas/config.json',
    JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } }),
  );
  write(
    'functions/config.json',
    JSON.stringify([
      { name: 'byId', run_as_system: true },
      { name: 'top', run_as_system: true },
      { name: 'groups', run_as_system: true },
    ]),
  );
  const items = `context.services.get('mongodb-atlas').db('bench').collection('items')`;
  write('functions/byId.js', `exports = function ({ id }) {\n  return ${items}.findOne({ _id: BSON.ObjectId(id) });\n};\n`);
  write(
    'functions/top.js',
    `exports = function () {\n  return ${items}.find(${JSON.stringify(FIND.filter)}).sort(${JSON.stringify(FIND.sort)}).limit(${FIND.limit}).toArray();\n};\n`,
  );
  write('functions/groups.js', `exports = function () {\n  return ${items}.aggregate(${JSON.stringify(AGG)}).toArray();\n};\n`);

  // 10,000 documents, written as fn dev will read them.
  const dataDir = join(app, '.fn', 'data', 'mongodb-atlas');
  const seed = new EmbeddedEngine(dataDir);
  const docs = Array.from({ length: DOCS }, (_, i) => ({
    _id: new ObjectId(),
    i,
    name: `item ${i}`,
    group: i % 50,
    price: (i * 37) % 100,
    tags: [`t${i % 7}`, `u${i % 11}`],
    at: new Date(1_700_000_000_000 + i * 1000),
  }));
  await seed.collection('bench', 'items').insertMany(docs);
  await seed.close();
  const pick = docs[4242]._id.toHexString();

  const logs = tempDir('fn-bench-data-out-');
  const env = { FN_DATA_SOURCE_MONGODB_ATLAS_URI: '' };
  const dev = await startServer([fnBin, 'dev', '--port', '0', '--no-watch'], {
    cwd: app,
    stopSignal: 'SIGINT',
    outFile: join(logs, 'dev.out'),
    urlOf: (line) => / at (http:\/\/\S+)/.exec(line)[1],
    env,
  });
  let bare;
  try {
    bare = await startServer(['--input-type=module', '-e', BARE_SERVER(dataDir)], {
      cwd: app,
      stopSignal: 'SIGTERM',
      outFile: join(logs, 'bare.out'),
      urlOf: (line) => JSON.parse(line).url,
    });
    const fnUrl = `${dev.url}/api/apps/bench/functions/byId`;
    const body = JSON.stringify({ id: pick });
    const a = await post(fnUrl, { id: pick });
    const b = await post(bare.url, { id: pick });
    if (JSON.stringify(a) !== JSON.stringify(b) || a.i !== 4242)
      throw new Error(`fn dev answered ${JSON.stringify(a)}, bare ${JSON.stringify(b)}`);

    // (1) findOne throughput, rounds in turn.
    log(`data: warm-up`);
    await cannon(fnUrl, body, 1);
    await cannon(bare.url, body, 1);
    const ratios = [];
    const fnRps = [];
    const bareRps = [];
    for (let round = 1; round <= ROUNDS; round++) {
      log(`data: findOne round ${round} of ${ROUNDS}`);
      fnRps.push(await cannon(fnUrl, body, DURATION_S));
      bareRps.push(await cannon(bare.url, body, DURATION_S));
      ratios.push(fnRps.at(-1) / bareRps.at(-1));
    }
    await bare.stop();
    bare = undefined;

    // (2) find and aggregate: per call through fn dev vs the engine here, calls alternating.
    const direct = new EmbeddedEngine(dataDir).collection('bench', 'items');
    const cases = [
      {
        label: 'find filter+sort+limit 20',
        url: `${dev.url}/api/apps/bench/functions/top`,
        run: () => direct.find(FIND.filter, { sort: FIND.sort, limit: FIND.limit }).toArray(),
      },
      { label: 'aggregate $match/$group', url: `${dev.url}/api/apps/bench/functions/groups`, run: () => direct.aggregate(AGG).toArray() },
    ];
    const rows = [];
    for (const c of cases) {
      log(`data: ${c.label}, ${CALLS} calls each`);
      const viaFn = [];
      const viaEngine = [];
      for (let i = 0; i < 5; i++) {
        await post(c.url, {});
        await c.run();
      }
      const expected = JSON.stringify(await c.run());
      for (let i = 0; i < CALLS; i++) {
        let t = performance.now();
        const got = await post(c.url, {});
        viaFn.push(performance.now() - t);
        if (i === 0 && JSON.stringify(got) !== expected) throw new Error(`${c.label}: fn dev answered differently from the engine`);
        t = performance.now();
        JSON.stringify(await c.run());
        viaEngine.push(performance.now() - t);
      }
      rows.push({
        bench: 'data',
        case: `${c.label} (${DOCS} docs), fn dev vs engine in-process`,
        runs: CALLS,
        value: median(viaFn),
        baseline: median(viaEngine),
        baselineLabel: 'engine',
        target: OVERHEAD_TARGET,
      });
    }

    // (3) memory per 10,000 documents, in a child with --expose-gc.
    log('data: memory');
    const mem = spawnSync(
      node,
      [
        '--expose-gc',
        '--input-type=module',
        '-e',
        `
      const { EmbeddedEngine } = await import(${JSON.stringify(dist('data/embedded.js'))});
      const { loadBson, loadMingo } = await import(${JSON.stringify(dist('data/libs.js'))});
      loadBson(); loadMingo();
      gc(); gc();
      const before = process.memoryUsage().heapUsed;
      const c = new EmbeddedEngine(${JSON.stringify(dataDir)}).collection('bench', 'items');
      c.all();
      gc(); gc();
      console.log(JSON.stringify({ docs: c.size, bytes: process.memoryUsage().heapUsed - before }));
    `,
      ],
      { encoding: 'utf8' },
    );
    if (mem.status !== 0) throw new Error(`memory child failed: ${mem.stderr}`);
    const { docs: loaded, bytes } = JSON.parse(mem.stdout);
    const fileBytes = readFileSync(join(dataDir, 'bench', 'items.json')).length;

    const ratio = median(ratios);
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    const checks = [
      {
        label: `data: findOne by _id via fn dev, ${CONNECTIONS} connections`,
        value: `${fmt(median(fnRps))} req/s (rounds: ${fnRps.map(fmt).join(', ')})`,
      },
      {
        label: `data: findOne by _id, bare node:http + engine in-process`,
        value: `${fmt(median(bareRps))} req/s (rounds: ${bareRps.map(fmt).join(', ')})`,
      },
      {
        label: `data: throughput ratio fn dev / bare, median of ${ROUNDS} rounds (target >= ${THROUGHPUT_TARGET}x)`,
        value: `${ratio.toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
        ok: ratio >= THROUGHPUT_TARGET,
      },
      {
        label: `data: embedded engine heap per ${fmt(loaded)} documents`,
        value: `${(bytes / 1048576).toFixed(1)} MB (file ${(fileBytes / 1048576).toFixed(1)} MB of EJSON)`,
      },
    ];
    return { rows, checks };
  } finally {
    await bare?.stop();
    await dev.stop();
  }
}

// Alone: node bench/data.bench.mjs (after npm run build).
await runAlone(import.meta.url, run);
