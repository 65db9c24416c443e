// Reliability of fn serve's deployments, end to end against the built CLI:
// - SIGKILL of the server in the middle of pushes, many rounds: after a restart on the same data
//   dir the app is exactly the old version or the new one, never a mix, and never an error;
// - two pushes from one base at the same moment, many rounds: exactly one wins, the other is
//   refused, and the deployed app is the winner's;
// - a corrupt or truncated file in the store is detected by its hash, reported, and not served.
// 6 kill rounds by default, 25 with FN_TEST_LONG=1, any number with FN_RELIABILITY_ROUNDS (race
// rounds are 4/5 of them).
import { writeFileSync, readFileSync, rmSync, truncateSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, copyFixture, tempDir } from './helpers.js';
import {
  admin,
  callFunction,
  currentDeployment,
  expectedState,
  fnAt,
  startServe,
  type DeployedState,
  type ServeProcess,
} from './serve-helpers.js';

const KILL_ROUNDS = Number(process.env.FN_RELIABILITY_ROUNDS ?? (process.env.FN_TEST_LONG === '1' ? 25 : 6));
const RACE_ROUNDS = Math.max(1, Math.round((KILL_ROUNDS * 4) / 5));
/** Functions rewritten by every kill round: enough that a commit takes a while to write. */
const BULK = 40;
/** Pushes before the kill rounds, that measure how long a deploy takes here and now. */
const CALIBRATION = 3;

const running = new Set<ServeProcess>();
async function serve(dataDir: string): Promise<ServeProcess> {
  const s = await startServe(dataDir);
  running.add(s);
  return s;
}
async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
  running.clear();
}

afterAll(async () => {
  await stopAll();
  cleanupTemps();
});

const write = (dir: string, rel: string, text: string) => {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
};
const sameState = (a: Omit<DeployedState, 'version'>, b: Omit<DeployedState, 'version'>) =>
  a.manifest === b.manifest && JSON.stringify(Object.entries(a.functions).sort()) === JSON.stringify(Object.entries(b.functions).sort());

/**
 * A TCP proxy in front of the server, to time a kill from the moment a deploy request (POST
 * .../deployments) starts to arrive, to measure how long a deploy takes, and to hold deploy
 * requests until `barrier` of them are there (two pushes reaching the server at the same moment).
 * Its upstream port can change (a restarted server); connections to a dead server are closed.
 */
interface Tap {
  url: string;
  setTarget(port: number): void;
  onDeploy: (() => void) | undefined;
  /** Hold deploy requests until this many have arrived (or 5 s passed), then send them all. */
  barrier: number;
  /** Milliseconds from the start of each deploy request to the first byte of its answer. */
  latencies: number[];
  close(): Promise<void>;
}

async function startTap(): Promise<Tap> {
  let target = 0;
  const sockets = new Set<Socket>();
  const held: (() => void)[] = [];
  let holdTimer: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(holdTimer);
    holdTimer = undefined;
    for (const go of held.splice(0)) go();
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let holding: Buffer[] | undefined;
    let deployStart = 0;
    client.on('data', (chunk: Buffer) => {
      if (/^POST \/api\/admin\/v1\/apps\/[^/\s]+\/deployments /m.test(chunk.toString('latin1'))) {
        deployStart = performance.now();
        const fire = tap.onDeploy;
        tap.onDeploy = undefined;
        fire?.();
        if (tap.barrier > 1) {
          const pending: Buffer[] = [];
          holding = pending;
          held.push(() => {
            holding = undefined;
            deployStart = performance.now();
            for (const b of pending) upstream.write(b);
          });
          if (held.length >= tap.barrier) release();
          else holdTimer ??= setTimeout(release, 5000);
        }
      }
      if (holding) holding.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (deployStart) {
        tap.latencies.push(performance.now() - deployStart);
        deployStart = 0;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
      s.on('end', end);
    }
  });
  const tap: Tap = {
    url: '',
    setTarget: (port) => void (target = port),
    onDeploy: undefined,
    barrier: 0,
    latencies: [],
    close: () =>
      new Promise<void>((done) => {
        release();
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  tap.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return tap;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
const portOf = (url: string) => Number(new URL(url).port);

describe('[slow] SIGKILL in the middle of pushes', () => {
  it(`restarts on the old or the new version, never a mix, never an error (${KILL_ROUNDS} rounds)`, async () => {
    const dataDir = tempDir('fn-kill-data-');
    const app = copyFixture('deploy/app');
    writeFileSync(join(app, 'fn.config.json'), '{ "appId": "crash" }\n');
    const baseManifest = readFileSync(join(app, 'functions/config.json'), 'utf8');
    /** Round r: every bulk function and `probe` changed, `added/r<r>` added, `added/r<r-1>` deleted, and the manifest changed. */
    const prepare = (round: number) => {
      for (let i = 0; i < BULK; i++)
        write(
          app,
          `functions/bulk/f${i}.js`,
          `// round ${round}\n// ${'.'.repeat(1000)}\nexports = function () { return ${round * 1000 + i}; };\n`,
        );
      write(app, 'functions/probe.js', `exports = function () { return { round: ${round} }; };\n`);
      rmSync(join(app, 'functions/added'), { recursive: true, force: true });
      write(app, `functions/added/r${round}.js`, `exports = function () { return ${round}; };\n`);
      write(
        app,
        'functions/config.json',
        baseManifest.replace(
          /\n\]\n$/,
          `,\n  { "name": "probe", "private": false, "disable_arg_logs": ${round % 2 === 0} },\n  { "name": "added/r${round}", "private": ${round % 3 === 0} }\n]\n`,
        ),
      );
    };

    const tap = await startTap();
    let server = await serve(dataDir);
    tap.setTarget(portOf(server.url));
    const key = { url: tap.url, serviceKey: server.serviceKey };
    prepare(0);
    const first = await fnAt(key, 'push', app, ['--yes']);
    expect(first.exitCode, first.stderr).toBe(0);
    for (let round = 1; round <= CALIBRATION; round++) {
      prepare(round);
      const r = await fnAt(key, 'push', app, ['--yes', '--force']);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    // Kills land from the start of the deploy request to well after its answer: 0–60 ms, or 0 to
    // 1.5 times the time a deploy takes when the machine is slower than that.
    const deployMs = median(tap.latencies.slice(1));
    const windowMs = Math.max(60, Math.round(deployMs * 1.5));

    const tally = { old: 0, new: 0, newButPushFailed: 0, pushExitCodes: {} as Record<string, number>, delaysMs: [] as number[] };
    let roundOfCurrent = CALIBRATION;
    try {
      for (let round = CALIBRATION + 1; round <= CALIBRATION + KILL_ROUNDS; round++) {
        const old = await currentDeployment(server, 'crash');
        expect(old, `round ${round}`).toBeDefined();
        prepare(round);
        const next = expectedState(app);
        const delay = Math.random() * windowMs;
        tally.delaysMs.push(Math.round(delay));
        const victim = server;
        let killed: Promise<void> | undefined;
        tap.onDeploy = () => {
          killed = new Promise<void>((done) => setTimeout(() => void victim.kill().then(done), delay));
        };
        // --force: a killed push may have left .fn/state.json behind the server.
        const pushing = await fnAt(key, 'push', app, ['--yes', '--force', '--json']);
        tap.onDeploy = undefined;
        await (killed ?? victim.kill());
        running.delete(victim);
        tally.pushExitCodes[pushing.exitCode] = (tally.pushExitCodes[pushing.exitCode] ?? 0) + 1;

        server = await serve(dataDir);
        tap.setTarget(portOf(server.url));
        const after = await currentDeployment(server, 'crash');
        expect(after, `round ${round}: nothing deployed after the restart`).toBeDefined();
        const isOld = sameState(after!, old!);
        const isNew = sameState(after!, next);
        expect(isOld || isNew, `round ${round}: the deployment is neither the old version nor the new one`).toBe(true);
        expect(after!.version).toBe(isNew ? old!.version + 1 : old!.version);
        expect(server.apps).toEqual([{ appId: 'crash', version: after!.version }]);
        // A push that said yes is never undone by a crash.
        if (pushing.exitCode === 0) expect(isNew, `round ${round}: push succeeded but the new version is gone`).toBe(true);
        else expect(pushing.exitCode, pushing.stdout + pushing.stderr).toBe(4);
        if (isNew) {
          tally.new++;
          if (pushing.exitCode !== 0) tally.newButPushFailed++;
          roundOfCurrent = round;
        } else tally.old++;
        const probe = await callFunction(server.url, 'crash', 'probe');
        expect(probe.status, probe.text).toBe(200);
        expect(probe.json).toEqual({ round: roundOfCurrent });
        const bulk = await callFunction(server.url, 'crash', `bulk/f${round % BULK}`);
        expect(bulk.json).toBe(roundOfCurrent * 1000 + (round % BULK));
        expect(server.events.filter((e) => e.event === 'store-problem')).toEqual([]);
      }
      // Every version is whole and none is missing: one per push that landed, plus the first.
      const list = await admin(server, 'crash', 'deployments');
      expect(list.json.deployments.map((d: { version: number }) => d.version)).toEqual(
        Array.from({ length: tally.new + CALIBRATION + 1 }, (_, i) => tally.new + CALIBRATION + 1 - i),
      );
      // Leftovers of killed writes are temp files only, never taken for data.
      const appDir = join(dataDir, 'apps', 'crash');
      expect(
        readdirSync(join(appDir, 'versions'))
          .filter((f) => !/^\d+\.json$/.test(f))
          .every((f) => f.endsWith('.tmp')),
      ).toBe(true);
      expect(
        readdirSync(join(appDir, 'blobs'))
          .filter((f) => !/^[0-9a-f]{64}$/.test(f))
          .every((f) => f.endsWith('.tmp')),
      ).toBe(true);
    } finally {
      console.log(
        `[reliability] kill rounds: ${KILL_ROUNDS}; a deploy took ${deployMs.toFixed(0)} ms (median of ${CALIBRATION}), kill window 0–${windowMs} ms; old version: ${tally.old}; new version: ${tally.new} (of which the push itself failed: ${tally.newButPushFailed}); push exit codes: ${JSON.stringify(tally.pushExitCodes)}; kill delays (ms after the deploy request began): ${tally.delaysMs.join(' ')}`,
      );
      await tap.close();
      await stopAll();
    }
  }, 180_000);
});

describe('[slow] two pushes from one base at the same moment', () => {
  it(`exactly one wins, the other is refused, and the deployed app is the winner's (${RACE_ROUNDS} rounds)`, async () => {
    const server = await serve(tempDir('fn-race-data-'));
    const tap = await startTap();
    tap.setTarget(portOf(server.url));
    const viaTap = { url: tap.url, serviceKey: server.serviceKey };
    const origin = copyFixture('deploy/app');
    writeFileSync(join(origin, 'fn.config.json'), '{ "appId": "race" }\n');
    expect((await fnAt(server, 'push', origin, ['--yes'])).exitCode).toBe(0);
    const folders = [tempDir('fn-race-a-'), tempDir('fn-race-b-')];
    for (const dir of folders) expect((await fnAt(viaTap, 'pull', dir, ['--app-id', 'race'])).exitCode).toBe(0);
    const tally = { wins: [0, 0], conflict: 0, drift: 0, conflictHeld: 0 };
    try {
      for (let round = 1; round <= RACE_ROUNDS; round++) {
        const before = await currentDeployment(server, 'race');
        // Each folder changes a different function.
        write(folders[0]!, 'functions/hello.js', `exports = function () { return 'a${round}'; };\n`);
        write(folders[1]!, 'functions/version.js', `exports = function () { return { version: ${round}, by: 'b' }; };\n`);
        // Odd rounds: the two deploy requests are held until both have arrived, then sent together.
        tap.barrier = round % 2 ? 2 : 0;
        const results = await Promise.all(folders.map((dir) => fnAt(viaTap, 'push', dir, ['--yes', '--json'])));
        const codes = results.map((r) => r.exitCode);
        expect(codes.slice().sort(), `round ${round}: ${results.map((r) => r.stdout + r.stderr).join('\n')}`).toEqual([0, 1]);
        const w = codes.indexOf(0);
        const loser = JSON.parse(results[1 - w]!.stdout) as { ok: boolean; conflict?: { currentVersion: number }; drift?: unknown };
        expect(loser.ok).toBe(false);
        if (loser.conflict) {
          expect(loser.conflict.currentVersion).toBe(before!.version + 1);
          tally.conflict++;
          if (tap.barrier) tally.conflictHeld++;
        } else {
          expect(loser.drift, results[1 - w]!.stdout).toBeDefined();
          tally.drift++;
        }
        tally.wins[w]!++;
        const after = await currentDeployment(server, 'race');
        expect(after!.version).toBe(before!.version + 1);
        expect(sameState(after!, expectedState(folders[w]!))).toBe(true);
        expect((await callFunction(server.url, 'race', w === 0 ? 'hello' : 'version')).json).toEqual(
          w === 0 ? `a${round}` : { version: round, by: 'b' },
        );
        // The loser pulls the winner's change (its own edit, to another function, stays: a
        // three-way merge) and is on the winner's version for the next round.
        const pulled = await fnAt(viaTap, 'pull', folders[1 - w]!, ['--force']);
        expect(pulled.exitCode, pulled.stderr).toBe(0);
        const winnerFile = w === 0 ? 'functions/hello.js' : 'functions/version.js';
        expect(readFileSync(join(folders[1 - w]!, winnerFile), 'utf8')).toBe(readFileSync(join(folders[w]!, winnerFile), 'utf8'));
      }
      expect((await admin(server, 'race', 'deployments')).json.deployments).toHaveLength(RACE_ROUNDS + 1);
    } finally {
      console.log(
        `[reliability] race rounds: ${RACE_ROUNDS} (deploy requests held and sent together in ${Math.ceil(RACE_ROUNDS / 2)}); wins a/b: ${tally.wins.join('/')}; loser got the If-Match conflict: ${tally.conflict} (${tally.conflictHeld} in held rounds); loser refused for drift (the winner had finished first): ${tally.drift}`,
      );
      await tap.close();
      await stopAll();
    }
  }, 180_000);
});

describe('a corrupt or truncated file in the store', () => {
  /** A data dir with two versions of app "store": version 2 changes `version` (a source only it has). */
  async function twoVersions() {
    const dataDir = tempDir('fn-corrupt-data-');
    const app = copyFixture('deploy/app');
    writeFileSync(join(app, 'fn.config.json'), '{ "appId": "store" }\n');
    const server = await serve(dataDir);
    expect((await fnAt(server, 'push', app, ['--yes'])).exitCode).toBe(0);
    const v1 = (await currentDeployment(server, 'store'))!;
    write(app, 'functions/version.js', 'exports = function () { return { version: 2 }; };\n');
    expect((await fnAt(server, 'push', app, ['--yes'])).exitCode).toBe(0);
    const v2 = (await currentDeployment(server, 'store'))!;
    const appDir = join(dataDir, 'apps', 'store');
    return { dataDir, app, server, v1, v2, appDir, blobOfV2: join(appDir, 'blobs', v2.functions.version!) };
  }

  /** Restarts on the data dir; expects a store-problem matching `problem`, and version 1 served. */
  async function expectFallback(dataDir: string, v1: DeployedState, problem: RegExp) {
    const again = await serve(dataDir);
    const reported = await again.waitFor((e) => e.event === 'store-problem');
    expect(String(reported.message)).toMatch(problem);
    expect(again.apps).toEqual([{ appId: 'store', version: 1 }]);
    expect(await currentDeployment(again, 'store')).toEqual(v1);
    const call = await callFunction(again.url, 'store', 'version');
    expect([call.status, call.json]).toEqual([200, { version: 1 }]);
    return again;
  }

  it('a truncated source is detected by its hash, reported, and the last whole version is served', async () => {
    const { dataDir, server, v1, blobOfV2 } = await twoVersions();
    await server.stop();
    truncateSync(blobOfV2, 10);
    await expectFallback(
      dataDir,
      v1,
      /store version 2: the source [0-9a-f]{12} does not match its hash \(corrupt or truncated\); serving an older version/,
    );
    await stopAll();
  });

  it('an edited version file fails its checksum; a truncated one is not valid JSON: both reported, version 1 served', async () => {
    const { dataDir, server, v1, appDir } = await twoVersions();
    await server.stop();
    const file = join(appDir, 'versions', '2.json');
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, whole.replace('"summary":"', '"summary":"edited '));
    expect(readFileSync(file, 'utf8')).not.toBe(whole);
    const again = await expectFallback(dataDir, v1, /store version 2: version 2 does not match its checksum/);
    await again.stop();
    writeFileSync(file, whole.slice(0, whole.length >> 1));
    await expectFallback(dataDir, v1, /store version 2: version 2 is not valid JSON \(corrupt or truncated\)/);
    await stopAll();
  });

  it('a missing source of a function route answers an error, not a wrong text', async () => {
    const { dataDir, server, v1, v2, appDir } = await twoVersions();
    await server.stop();
    // A source both versions share: no whole version is left.
    rmSync(join(appDir, 'blobs', v2.functions.hello!));
    expect(v1.functions.hello).toBe(v2.functions.hello);
    const again = await serve(dataDir);
    expect(String((await again.waitFor((e) => e.event === 'store-problem')).message)).toMatch(/is missing/);
    expect(again.apps).toEqual([]);
    const deployment = await admin(again, 'store', 'deployment');
    expect(deployment.status).toBe(404);
    const call = await callFunction(again.url, 'store', 'hello');
    expect(call.status).toBe(404);
    expect(call.json.error.code).toBe('APP_NOT_FOUND');
    await stopAll();
  });

  it('a source truncated while the server runs is reported as soon as it is read', async () => {
    const { server, v1, blobOfV2 } = await twoVersions();
    truncateSync(blobOfV2, 10);
    expect(await currentDeployment(server, 'store')).toEqual(v1);
    try {
      await server.waitFor((e) => e.event === 'store-problem', 3000);
    } finally {
      await stopAll();
    }
  });

  it('after the current version is damaged, fn push --force --yes redeploys the folder', async () => {
    const { dataDir, app, server, v1, blobOfV2 } = await twoVersions();
    await server.stop();
    truncateSync(blobOfV2, 10);
    const again = await expectFallback(dataDir, v1, /does not match its hash/);
    try {
      const r = await fnAt(again, 'push', app, ['--yes', '--force']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect((await callFunction(again.url, 'store', 'version')).json).toEqual({ version: 2 });
    } finally {
      await stopAll();
    }
  });
});
