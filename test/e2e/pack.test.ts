// What users install: the npm pack tarball, installed once as a dependency of a project that is a
// real git repository, runs from its own node_modules/.bin every path that spawns a process or
// imports a module lazily: init (beside the project's package.json), validate, validate --staged
// (and a git pre-commit hook running it), add, invoke --local, types, dev + invoke, serve + push
// and pull. A package the built CLI loads but the tarball does not bring fails here.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, repoRoot, tempDir } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };
const quiet = { npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' };
const env = { NO_COLOR: '1', CI: '1', FN_URL: undefined, FN_APP_ID: undefined, FN_SERVICE_KEY: undefined, FN_TOKEN: undefined };

let bin = '';
let files: string[] = [];
/** The project fn is installed in: `npm init -y`, git, and fn as a dependency. */
let project = '';
const running: ResultPromise[] = [];

beforeAll(async () => {
  const out = tempDir('fn-pack-');
  // The e2e setup has built dist/ already: pack it as it is (prepare would build it again).
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: repoRoot, env: quiet });
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  files = info[0]!.files.map((f) => f.path);
  const tarball = join(
    out,
    readdirSync(out).find((f) => f.endsWith('.tgz'))!,
  );
  project = tempDir('fn-install-');
  await execa('git', ['init', '-q'], { cwd: project });
  await execa('npm', ['init', '-y'], { cwd: project, env: quiet });
  // lint-staged too, for the README's recipe (in the same install).
  await execa('npm', ['install', '--prefer-offline', tarball, 'lint-staged@^16'], { cwd: project, env: quiet });
  bin = join(project, 'node_modules', '.bin', 'fn');
}, 300_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.allSettled(running);
  cleanupTemps();
});

const run = (args: string[], cwd = project, extra: Record<string, string | undefined> = {}) =>
  execa(bin, args, { cwd, reject: false, env: { ...env, ...extra } });
const git = (args: string[], cwd = project) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, reject: false });

/** Starts a long-running `fn <args> --json` from the install and resolves with its listening event. */
async function start(
  args: string[],
  cwd: string,
  extra: Record<string, string> = {},
): Promise<{ event: Record<string, unknown>; stop: () => Promise<unknown> }> {
  const child = execa(bin, [...args, '--json'], { cwd, reject: false, stdin: 'ignore', buffer: false, env: { ...env, ...extra } });
  running.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const event = await new Promise<Record<string, unknown>>((resolveEvent, reject) => {
    const timer = setTimeout(() => reject(new Error(`fn ${args[0]} did not start: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.event === 'listening') {
        clearTimeout(timer);
        resolveEvent(parsed);
      }
    });
    void child.then(() => reject(new Error(`fn ${args[0]} exited: ${stderr}`)));
  });
  return {
    event,
    stop: () => {
      child.kill('SIGINT');
      return child;
    },
  };
}

describe('[slow] the packed package', () => {
  it('ships the built CLI, schemas and templates, and no sources or tests', () => {
    for (const f of [
      'bin/fn.js',
      'dist/cli.js',
      'dist/runtime/worker.js',
      'schemas/function-manifest.schema.json',
      'schemas/fn-config.schema.json',
      'templates/base/_gitignore',
      'templates/example/functions/calculateTotal.js',
      'README.md',
      'package.json',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/'))).toBe(false);
  });

  it("runs: init beside the project's package.json, validate, add, invoke --local", async () => {
    expect((await run(['--version'])).exitCode).toBe(0);
    const before = readFileSync(join(project, 'package.json'), 'utf8');
    const init = await run(['init', '--yes']);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(readFileSync(join(project, 'package.json'), 'utf8')).toBe(before);
    expect((await run(['validate'])).stdout).toContain('no problems');
    const add = await run(['add', 'reports/monthly', '--private']);
    expect(add.exitCode, add.stderr).toBe(0);
    const invoked = await run(['invoke', 'calculateTotal', '--local', '--data', '{"items":[{"price":2.5,"quantity":2}]}']);
    expect(invoked.exitCode, invoked.stderr).toBe(0);
    expect(JSON.parse(invoked.stdout)).toEqual({ total: 5 });
  });

  it('fn init writes a $schema that resolves to the installed schema, from the project and from a folder below it', async () => {
    const fromRoot = JSON.parse(readFileSync(join(project, 'fn.config.json'), 'utf8')) as { $schema: string };
    expect(fromRoot.$schema).toBe(`./node_modules/${pkg.name}/schemas/fn-config.schema.json`);
    expect(existsSync(resolve(project, fromRoot.$schema))).toBe(true);
    const sub = await run(['init', 'backend', '--yes']);
    expect(sub.exitCode, sub.stderr).toBe(0);
    const fromSub = JSON.parse(readFileSync(join(project, 'backend', 'fn.config.json'), 'utf8')) as { $schema: string };
    expect(fromSub.$schema).toBe(`../node_modules/${pkg.name}/schemas/fn-config.schema.json`);
    expect(existsSync(resolve(project, 'backend', fromSub.$schema))).toBe(true);
  });

  it('validate --staged checks the git index: staged-good passes, staged-broken fails, whatever the working tree holds', async () => {
    const source = join(project, 'functions', 'calculateTotal.js');
    const good = readFileSync(source, 'utf8');
    expect((await git(['add', '-A'])).exitCode).toBe(0);
    const ok = await run(['validate', '--staged']);
    expect(ok.exitCode, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stderr).not.toContain('internal error');

    try {
      writeFileSync(source, 'exports = function ( {\n');
      expect((await git(['add', 'functions/calculateTotal.js'])).exitCode).toBe(0);
      writeFileSync(source, good);
      const bad = await run(['validate', '--staged', 'functions/calculateTotal.js']);
      expect(bad.exitCode, bad.stderr).toBe(1);
      expect(bad.stdout).toContain('source-syntax');
      expect((await run(['validate'])).exitCode).toBe(0);
    } finally {
      writeFileSync(source, good);
      await git(['add', 'functions/calculateTotal.js']);
    }
  });

  it("the README's lint-staged recipe as a git pre-commit hook: a broken commit is refused, a good one goes through, fn runs once", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const recipe = JSON.parse(/```json\n(\{\n {2}"lint-staged"[\s\S]*?)```/.exec(readme)![1]!) as { 'lint-staged': Record<string, string> };
    const hookLine = /`\.husky\/pre-commit` containing `([^`]+)`/.exec(readme)![1]!;
    const pkgPath = join(project, 'package.json');
    writeFileSync(pkgPath, JSON.stringify({ ...JSON.parse(readFileSync(pkgPath, 'utf8')), ...recipe }, null, 2) + '\n');
    writeFileSync(join(project, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\n${hookLine}\n`, { mode: 0o755 });
    await git(['add', '-A']);
    expect((await git(['commit', '-qm', 'base'])).exitCode).toBe(0);

    const manifest = join(project, 'functions', 'config.json');
    const config = join(project, 'fn.config.json');
    const [good, goodConfig] = [readFileSync(manifest, 'utf8'), readFileSync(config, 'utf8')];
    try {
      writeFileSync(manifest, '[{ "name": "calculateTotal" },]\n');
      writeFileSync(config, goodConfig.replace('"functionsDir"', ' "functionsDir"'));
      await git(['add', '-A']);
      const refused = await git(['commit', '-m', 'broken']);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain('json-syntax');
    } finally {
      // Still a change from the last commit: both the manifest and fn.config.json are staged.
      writeFileSync(manifest, good + '\n');
    }
    await git(['add', '-A']);
    expect((await git(['diff', '--cached', '--name-only'])).stdout.split('\n').sort()).toEqual(['fn.config.json', 'functions/config.json']);
    // NODE_ENV=test (set by the test runner) would switch lint-staged's output to its test format.
    const committed = await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-m', 'good'], {
      cwd: project,
      reject: false,
      env: { NODE_ENV: undefined },
    });
    const out = committed.stdout + committed.stderr;
    expect(committed.exitCode, out).toBe(0);
    // One run of fn for the two files.
    expect(out.match(/\[STARTED\] fn validate --staged/g), out).toHaveLength(1);
    // Three commits, each running npx lint-staged and the installed fn: beyond 30 s on a busy machine.
  }, 120_000);

  it('types: writes the .d.ts (ts-morph loaded from the install), and --check passes after', async () => {
    const r = await run(['types']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(project, 'types', 'functions.d.ts'), 'utf8')).toMatch(/FunctionNameRegistry[\s\S]*calculateTotal/);
    expect((await run(['types', '--check'])).exitCode).toBe(0);
  }, 120_000);

  it('dev serves the app and invoke calls it over HTTP', async () => {
    const dev = await start(['dev', '--port', '0', '--no-watch'], project);
    try {
      const r = await run(['invoke', 'calculateTotal', '--url', String(dev.event.url), '--data', '{"items":[{"price":2.5,"quantity":2}]}']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ total: 5 });
    } finally {
      await dev.stop();
    }
  }, 60_000);

  it('push deploys to serve, and pull brings the app into an empty folder', async () => {
    const key = 'pack-test-key';
    const serve = await start(['serve', '--port', '0', '--data-dir', tempDir('fn-pack-serve-')], project, { FN_SERVICE_KEY: key });
    try {
      const url = String(serve.event.url);
      const pushed = await run(['push', '--url', url, '--yes'], project, { FN_SERVICE_KEY: key });
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      const copy = tempDir('fn-pack-pulled-');
      const appId = (JSON.parse(readFileSync(join(project, 'fn.config.json'), 'utf8')) as { appId: string }).appId;
      const pulled = await run(['pull', '--url', url, '--app-id', appId], copy, { FN_SERVICE_KEY: key });
      expect(pulled.exitCode, pulled.stderr).toBe(0);
      expect(readFileSync(join(copy, 'functions', 'calculateTotal.js'), 'utf8')).toBe(
        readFileSync(join(project, 'functions', 'calculateTotal.js'), 'utf8'),
      );
      expect(existsSync(join(copy, 'functions', 'reports', 'monthly.js'))).toBe(true);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
