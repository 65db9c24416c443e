// What a function can reach, only its own app may know. Function code tries every known way out
// of its sandbox (require of fs and child_process, process.binding, the host's Function through
// constructor chains of the objects it is given, import(), /proc/self/environ, the server's
// /proc/<pid>/environ and /mem, worker_threads, vm re-entry, inspector, writing into the data
// dir, deploying) under fn dev and under fn serve with two apps, and none of it yields the service
// key, the token secret, another app's sources or data, or a deployment. Some ways still "work"
// inside the app's runner (reading its own code): the assertions are on secrets and other apps.
// Then the runner's limits: a runner that goes over its memory is replaced and the server and the
// other app keep serving, a result over 16 MB fails with 413, and a worker kept busy by code
// that went on after answering does not hold up the next call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callFunction as callDev, startDev, type DevServer } from './dev-helpers.js';
import { cleanupTemps, makeApp, tempDir } from './helpers.js';
import { admin, callFunction, currentDeployment, fnAt, SERVICE_KEY, startServe, treeOf, type ServeProcess } from './serve-helpers.js';

afterAll(() => cleanupTemps());

// Every escape, each in its own try; the report is what function code got out of each.
const PROBE = `exports = async function (args) {
  const out = {};
  const show = (v) => { try { return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)); } catch (e) { return String(v); } };
  const attempt = async (name, f) => {
    let timer;
    try {
      out[name] = show(await Promise.race([Promise.resolve().then(f), new Promise((_, no) => { timer = setTimeout(() => no(new Error('timed out')), 3000); })]));
    } catch (e) {
      out[name] = 'denied: ' + String((e && (e.code || e.message)) || e);
    } finally {
      clearTimeout(timer);
    }
  };
  const fs = require('fs');
  let proc;
  const found = (p) => { if (p && typeof p === 'object' && !proc) proc = p; return p && { env: p.env, pid: p.pid, ppid: p.ppid, argv: p.argv, execArgv: p.execArgv }; };
  const self = this;
  await attempt('thisChain', () => found(self.constructor.constructor('return process')()));
  await attempt('argsChain', () => found(args.constructor.constructor('return process')()));
  await attempt('contextChain', () => found(context.constructor.constructor('return process')()));
  await attempt('userChain', () => found(context.user.constructor.constructor('return process')()));
  await attempt('valuesChain', () => found(context.values.get.constructor('return process')()));
  await attempt('functionsChain', () => found(context.functions.execute.constructor('return process')()));
  await attempt('requireChain', () => found(require.constructor('return process')()));
  await attempt('fsChain', () => found(fs.readFileSync.constructor('return process')()));
  await attempt('vmReentry', () => found(require('vm').runInThisContext('process')));
  await attempt('vmNewContext', () => require('vm').runInNewContext('this.constructor.constructor("return process")().env'));
  const ppid = proc ? proc.ppid : 0;
  out.server = String(ppid);
  await attempt('binding', () => Object.keys(proc.binding('fs')));
  await attempt('selfEnviron', () => fs.readFileSync('/proc/self/environ', 'latin1'));
  await attempt('serverEnviron', () => fs.readFileSync('/proc/' + ppid + '/environ', 'latin1'));
  await attempt('serverCmdline', () => fs.readFileSync('/proc/' + ppid + '/cmdline', 'latin1'));
  await attempt('serverMem', () => {
    // Where the server's heap is, and in it what follows the names its keys go by.
    const maps = fs.readFileSync('/proc/' + ppid + '/maps', 'latin1').split('\\n').filter((l) => l.includes('rw-p'));
    const fd = fs.openSync('/proc/' + ppid + '/mem', 'r');
    const hits = [];
    let read = 0;
    for (const line of maps) {
      const [from, to] = line.split(' ')[0].split('-').map((h) => BigInt('0x' + h));
      const size = Number(to - from);
      if (size > 64 << 20 || read > 256 << 20) continue;
      const buf = Buffer.alloc(size);
      try { fs.readSync(fd, buf, 0, size, from); } catch { continue; }
      read += size;
      const text = buf.toString('latin1');
      for (const name of ['serviceKey', 'jwtSecret', 'FN_SERVICE_KEY']) {
        let at = -1;
        while ((at = text.indexOf(name, at + 1)) >= 0 && hits.length < 50) hits.push(text.slice(at, at + 120));
      }
    }
    return hits;
  });
  await attempt('childProcess', () => require('child_process').execSync('cat /proc/' + ppid + '/environ; cat ' + JSON.stringify(args.read[0] || '/dev/null')).toString('latin1'));
  await attempt('spawnEnv', () => require('child_process').spawnSync('env').stdout.toString());
  await attempt('importFs', async () => (await import('node:fs')).readFileSync(args.read[0], 'utf8'));
  await attempt('worker', () => new Promise((resolve, reject) => {
    const W = require('worker_threads').Worker;
    const w = new W('const { parentPort } = require("worker_threads"); const r = {}; try { r.file = require("fs").readFileSync(' + JSON.stringify(args.read[0] || '/dev/null') + ', "utf8"); } catch (e) { r.file = e.code; } try { r.env = require("fs").readFileSync("/proc/' + ppid + '/environ", "latin1"); } catch (e) { r.env = e.code; } try { process.kill(' + ppid + ', 0); r.kill = "could signal the server"; } catch (e) { r.kill = e.code; } parentPort.postMessage(r);', { eval: true });
    w.on('message', resolve);
    w.on('error', reject);
  }));
  await attempt('inspectorSession', () => new Promise((resolve, reject) => {
    const inspector = require('inspector');
    const s = new inspector.Session();
    s.connect();
    s.post('Runtime.evaluate', { expression: 'JSON.stringify(process.env)' }, (err, res) => (err ? reject(err) : resolve(res)));
  }));
  await attempt('inspectorOpen', () => { const i = require('inspector'); i.open(0); return i.url(); });
  await attempt('signalServer', () => { proc.kill(ppid, 0); return 'could signal the server'; });
  for (const path of args.read) await attempt('read ' + path, () => (fs.statSync(path).isDirectory() ? fs.readdirSync(path, { recursive: true }) : fs.readFileSync(path, 'utf8')));
  for (const path of args.write) await attempt('write ' + path, () => { fs.writeFileSync(path, 'written by a function'); return 'written'; });
  if (args.deployUrl) await attempt('deploy', async () => (await fetch(args.deployUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + (proc && proc.env.FN_SERVICE_KEY || 'guess') }, body: '{}' })).status);
  return out;
};
`;

/** The escapes that must not have worked, whatever the rest of the report says. */
function expectNoWayOut(report: Record<string, string>, secrets: string[]): void {
  const text = JSON.stringify(report);
  for (const secret of secrets) expect(text, `a secret reached function code: ${secret}`).not.toContain(secret);
  expect(text).not.toContain('could signal the server');
  // The report itself is real: the probe ran every attempt.
  expect(Object.keys(report).length).toBeGreaterThan(20);
  // No process object with the server's environment: the runner's environment is empty.
  for (const key of ['thisChain', 'argsChain', 'contextChain', 'vmReentry'])
    expect(report[key] ?? '').not.toMatch(/FN_SERVICE_KEY|FN_ISOLATION_CANARY/);
}

const CANARY = 'canary-8d1e5f0c9b';

describe('fn dev: function code reaches nothing of the server', () => {
  let dev: DevServer;
  let app: string;
  let other: string;
  const OTHER_MARKER = 'OTHER-APP-SOURCE-2f7a';

  beforeAll(async () => {
    other = makeApp({
      'fn.config.json': JSON.stringify({ appId: 'other' }),
      'functions/config.json': JSON.stringify([{ name: 'hidden' }]),
      'functions/hidden.js': `exports = () => '${OTHER_MARKER}';\n`,
    });
    app = makeApp({
      'fn.config.json': JSON.stringify({ appId: 'probeapp' }),
      'functions/config.json': JSON.stringify([{ name: 'probe' }]),
      'functions/probe.js': PROBE,
    });
    dev = await startDev(app, ['--no-watch'], { FN_SERVICE_KEY: 'dev-isolation-key-51c3', FN_ISOLATION_CANARY: CANARY });
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('no escape yields the service key, the environment, or another folder', async () => {
    const devRecord = join(app, '.fn', 'dev.json');
    expect(readFileSync(devRecord, 'utf8')).toContain('dev-isolation-key-51c3');
    const reply = await callDev(dev, 'probe', {
      read: [devRecord, join(other, 'functions', 'hidden.js'), other, '/proc/1/environ'],
      write: [devRecord, join(other, 'functions', 'hidden.js')],
    });
    expect(reply.status, reply.text).toBe(200);
    const report = reply.json as Record<string, string>;
    expectNoWayOut(report, ['dev-isolation-key-51c3', CANARY, OTHER_MARKER]);
    // The files it tried to write are as they were, and the server still serves.
    expect(readFileSync(devRecord, 'utf8')).toContain('dev-isolation-key-51c3');
    expect(readFileSync(join(other, 'functions', 'hidden.js'), 'utf8')).toContain(OTHER_MARKER);
    expect((await callDev(dev, 'probe', { read: [], write: [] })).status).toBe(200);
  });
});

describe('fn serve with two apps: one app reaches nothing of the server or of the other', () => {
  let server: ServeProcess;
  let dataDir: string;
  const B_SOURCE = 'B-SOURCE-MARKER-93c1';
  const B_DATA = 'B-DATA-MARKER-4e0a';
  const dataSource = {
    'data_sources/mongodb-atlas/config.json': JSON.stringify({
      name: 'mongodb-atlas',
      type: 'mongodb-atlas',
      config: { clusterName: 'Cluster0' },
    }),
  };

  beforeAll(async () => {
    dataDir = tempDir('fn-isolation-serve-');
    server = await startServe(dataDir, {
      args: ['--embedded-data', '--memory', '128', '--workers', '1', '--max-workers', '1', '--timeout', '30000'],
      env: { FN_ISOLATION_CANARY: CANARY },
    });
    const a = makeApp({
      'fn.config.json': JSON.stringify({ appId: 'appa' }),
      'functions/config.json': JSON.stringify([
        { name: 'probe' },
        { name: 'pid' },
        { name: 'bomb' },
        { name: 'huge' },
        { name: 'spin' },
        { name: 'quick' },
        { name: 'slow' },
      ]),
      'functions/probe.js': PROBE,
      'functions/pid.js': "exports = () => require('vm').runInThisContext('process').pid;\n",
      'functions/bomb.js':
        'exports = async () => { const keep = []; for (;;) { keep.push(Buffer.alloc(64 << 20, 1)); await new Promise((r) => setTimeout(r, 10)); } };\n',
      'functions/huge.js': "exports = () => 'x'.repeat(17 * 1024 * 1024);\n",
      'functions/spin.js':
        'exports = () => { setTimeout(() => { const end = Date.now() + 20000; while (Date.now() < end); }, 0); return "answered"; };\n',
      'functions/quick.js': "exports = () => 'quick';\n",
      'functions/slow.js': "exports = () => new Promise((r) => setTimeout(() => r('slow'), 5000));\n",
      ...dataSource,
    });
    const b = makeApp({
      'fn.config.json': JSON.stringify({ appId: 'appb' }),
      'functions/config.json': JSON.stringify([{ name: 'hidden' }, { name: 'keep' }]),
      'functions/hidden.js': `exports = () => '${B_SOURCE}';\n`,
      'functions/keep.js': `exports = async () => { await context.services.get('mongodb-atlas').db('d').collection('c').insertOne({ secret: '${B_DATA}' }); return 'kept'; };\n`,
      ...dataSource,
    });
    for (const dir of [a, b]) {
      const pushed = await fnAt(server, 'push', dir, ['--yes']);
      expect(pushed.exitCode, pushed.stderr + pushed.stdout).toBe(0);
    }
    const kept = await admin(server, 'appb', 'functions/keep/execute', { method: 'POST', body: JSON.stringify({ args: [] }) });
    expect(kept.json?.result, kept.text).toBe('kept');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("no escape yields the keys, the other app's sources or data, or a deployment", async () => {
    const keys = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')) as { jwtSecret: string };
    const bData = join(dataDir, 'embedded', 'appb', '.fn', 'data', 'mongodb-atlas', 'd', 'c.json');
    // The embedded engine writes a moment after a change.
    for (let i = 0; i < 50 && !treeText(dataDir).includes(B_DATA); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(bData, 'utf8')).toContain(B_DATA);
    const before = treeOf(dataDir, (rel) => rel.startsWith('embedded/appa'));
    const versionOfB = (await currentDeployment(server, 'appb'))?.version;
    const reply = await callFunction(server.url, 'appa', 'probe', {
      read: [join(dataDir, 'keys.json'), join(dataDir, 'apps', 'appb'), bData, dataDir, join(dataDir, 'embedded', 'appb')],
      write: [
        join(dataDir, 'keys.json'),
        join(dataDir, 'apps', 'appb', 'current.json'),
        bData,
        join(dataDir, 'embedded', 'appb', 'x.json'),
      ],
      deployUrl: `${server.url}/api/admin/v1/apps/appb/deployments`,
    });
    expect(reply.status, reply.text).toBe(200);
    const report = reply.json as Record<string, string>;
    expectNoWayOut(report, [SERVICE_KEY, keys.jwtSecret, B_SOURCE, B_DATA, CANARY]);
    expect(report.deploy).toMatch(/^(401|403|denied)/);
    // Nothing of the server's or of the other app changed; both apps still answer.
    expect(treeOf(dataDir, (rel) => rel.startsWith('embedded/appa'))).toEqual(before);
    expect((await currentDeployment(server, 'appb'))?.version).toBe(versionOfB);
    expect((await callFunction(server.url, 'appb', 'hidden')).json).toBe(B_SOURCE);
    expect((await callFunction(server.url, 'appa', 'quick')).json).toBe('quick');
  }, 60_000);

  it('a runner over its memory limit is replaced; the call fails, the server and the other app go on', async () => {
    const first = (await callFunction(server.url, 'appa', 'pid')).json as number;
    const [bombed, other] = await Promise.all([callFunction(server.url, 'appa', 'bomb'), callFunction(server.url, 'appb', 'hidden')]);
    expect(bombed.status, bombed.text).toBe(500);
    expect(bombed.json.error.code).toBe('MEMORY_LIMIT');
    expect(other.json).toBe(B_SOURCE);
    const again = await callFunction(server.url, 'appa', 'pid');
    expect(again.status, again.text).toBe(200);
    expect(again.json).not.toBe(first);
  }, 60_000);

  it('a runner that is killed fails the call it held; the next call runs on a new runner', async () => {
    const runner = (await callFunction(server.url, 'appa', 'pid')).json as number;
    expect(typeof runner).toBe('number');
    const slow = callFunction(server.url, 'appa', 'slow');
    await new Promise((r) => setTimeout(r, 500));
    process.kill(runner, 'SIGKILL');
    const failed = await slow;
    expect(failed.status, failed.text).toBe(500);
    expect(failed.json.error.code).toBe('WORKER_EXITED');
    const next = await callFunction(server.url, 'appa', 'pid');
    expect(next.status, next.text).toBe(200);
    expect(next.json).not.toBe(runner);
    expect((await callFunction(server.url, 'appb', 'hidden')).json).toBe(B_SOURCE);
  }, 60_000);

  it('a runner that stops answering is replaced after 10 s; its call fails with 504', async () => {
    const runner = (await callFunction(server.url, 'appa', 'pid')).json as number;
    process.kill(runner, 'SIGSTOP');
    try {
      const started = performance.now();
      const stuck = await callFunction(server.url, 'appa', 'quick');
      expect(stuck.status, stuck.text).toBe(504);
      expect(performance.now() - started).toBeGreaterThan(9_000);
      expect(performance.now() - started).toBeLessThan(25_000);
      const next = await callFunction(server.url, 'appa', 'pid');
      expect(next.status, next.text).toBe(200);
      expect(next.json).not.toBe(runner);
    } finally {
      try {
        process.kill(runner, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }, 60_000);

  it('a result over 16 MB fails the call with 413 RESULT_TOO_LARGE', async () => {
    const reply = await callFunction(server.url, 'appa', 'huge');
    expect(reply.status, reply.text.slice(0, 300)).toBe(413);
    expect(reply.json.error.code).toBe('RESULT_TOO_LARGE');
    expect((await callFunction(server.url, 'appa', 'quick')).json).toBe('quick');
  }, 60_000);

  it('code that spins after its function answered does not hold up the next call', async () => {
    expect((await callFunction(server.url, 'appa', 'spin')).json).toBe('answered');
    const started = performance.now();
    const next = await callFunction(server.url, 'appa', 'quick');
    expect(next.json).toBe('quick');
    // The spin lasts 20 s; the worker is replaced about a second after the call was sent to it.
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 60_000);
});

function treeText(dir: string): string {
  return JSON.stringify(treeOf(dir));
}
