// The commands users reach for, end to end with the built CLI: fn logs, fn list, fn rollback,
// fn deploy, fn deployments' header, help and usage errors, validate's misspelt-source hints and
// --fix rename, GitHub annotation paths, and fn pull's scaffolding. One fn serve for all.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, cleanupTemps, copyFixture, fn, makeApp, tempDir } from './helpers.js';
import { callFunction, cleanEnv, fnAt, startServe, type ServeProcess } from './serve-helpers.js';

let server: ServeProcess;
let nextApp = 0;

beforeAll(async () => {
  server = await startServe(tempDir('fn-serve-data-'));
});

afterAll(async () => {
  await server?.stop();
  cleanupTemps();
});

function appFolder(prefix: string): { dir: string; appId: string } {
  const appId = `${prefix}-${++nextApp}`;
  const dir = copyFixture('deploy/app');
  writeFileSync(join(dir, 'fn.config.json'), JSON.stringify({ appId }, null, 2) + '\n');
  return { dir, appId };
}

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const versionSource = (n: number) => `exports = function () {\n  return { version: ${n} };\n};\n`;

describe('fn logs', () => {
  it('prints the recent calls of the app, filters by --function, and --json is one document', async () => {
    const { dir, appId } = appFolder('logs');
    expect((await fnAt(server, 'push', dir, ['--yes'])).exitCode).toBe(0);
    const empty = await fnAt(server, 'logs', dir);
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain(`no calls yet for ${appId}`);
    await callFunction(server.url, appId, 'hello', { name: 'a' });
    await callFunction(server.url, appId, 'version');
    await callFunction(server.url, appId, 'privateHelper');
    const r = await fnAt(server, 'logs', dir);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('  '));
    expect(lines, r.stdout).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} hello {2}anonymous {2}200 {2}[\d.]+ms$/);
    expect(lines[1]).toContain(' version  anonymous  200');
    expect(lines[2]).toContain(' privateHelper  anonymous  404');
    expect(r.stdout).toMatch(/^ {2}✖ \S+: /m);
    const only = await fnAt(server, 'logs', dir, ['--function', 'version', '--json']);
    expect(only.exitCode).toBe(0);
    const doc = JSON.parse(only.stdout);
    expect(doc).toMatchObject({ ok: true, appId, url: server.url, function: 'version' });
    expect(doc.calls.map((c: { function: string; status: number }) => [c.function, c.status])).toEqual([['version', 200]]);
    const limited = await fnAt(server, 'logs', dir, ['--limit', '1']);
    expect(
      limited.stdout
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('  ')),
    ).toEqual([expect.stringContaining(' privateHelper ')]);
  });

  it('needs the service key (exit 2) and refuses a wrong one (exit 4); an unknown app is 1', async () => {
    const { dir } = appFolder('logs-key');
    const none = await fn(['logs', '--url', server.url], { cwd: dir, env: cleanEnv });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('the logs need the service key');
    const wrong = await fnAt({ url: server.url, serviceKey: 'nope' }, 'logs', dir);
    expect(wrong.exitCode).toBe(4);
    const missing = await fnAt(server, 'logs', dir, ['--app-id', 'no-such-app']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('there is no app "no-such-app"');
  });

  it('--follow --json prints each new call as one JSON line until SIGINT, then exits 130', async () => {
    const { dir, appId } = appFolder('logs-follow');
    expect((await fnAt(server, 'push', dir, ['--yes'])).exitCode).toBe(0);
    await callFunction(server.url, appId, 'hello', { name: 'before' });
    const child = execa('node', [bin, 'logs', '--follow', '--json', '--url', server.url, '--service-key', server.serviceKey], {
      cwd: dir,
      env: { ...cleanEnv, NO_COLOR: '1' },
      reject: false,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const lines = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { function: string; arguments?: unknown[] });
    const until = async (n: number) => {
      const end = Date.now() + 20_000;
      while (lines().length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    await until(1);
    expect(lines()[0]).toMatchObject({ function: 'hello', arguments: [{ name: 'before' }] });
    await callFunction(server.url, appId, 'version');
    await callFunction(server.url, appId, 'hello', { name: 'after' });
    await until(3);
    expect(lines().map((l) => l.function)).toEqual(['hello', 'version', 'hello']);
    child.kill('SIGINT');
    const done = await child;
    expect(done.exitCode).toBe(130);
  }, 60_000);
});

describe('fn list', () => {
  it('lists the local functions: access, run-as, can_evaluate, and sources without an entry', async () => {
    const app = makeApp({
      'functions/config.json': JSON.stringify([
        { name: 'a', private: true },
        { name: 'b', run_as_system: true, can_evaluate: { '%%user.type': 'server' } },
        { name: 'c', run_as_user_id: 'u1' },
      ]),
      'functions/a.js': 'exports = function () {};\n',
      'functions/b.js': 'exports = function () {};\n',
      'functions/c.js': 'exports = function () {};\n',
      'functions/d/e.js': 'exports = function () {};\n',
    });
    const r = await fn(['list'], { cwd: app });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'NAME  ACCESS   RUN AS   CAN_EVALUATE',
      'a     private  caller   -',
      'b     public   system   yes',
      'c     public   user u1  -',
      'd/e   public   caller   -             no entry: defaults',
    ]);
    const ls = await fn(['ls', '--json'], { cwd: app });
    expect(JSON.parse(ls.stdout)).toMatchObject({
      ok: true,
      where: 'local',
      functions: [
        { name: 'a', private: true, runAs: 'caller', canEvaluate: false, entry: true, source: true },
        {},
        {},
        { name: 'd/e', entry: false },
      ],
    });
    const outside = await fn(['list'], { cwd: tempDir() });
    expect(outside.exitCode).toBe(3);
  });

  it('--remote lists the deployed app', async () => {
    const { dir, appId } = appFolder('list-remote');
    expect((await fnAt(server, 'push', dir, ['--yes'])).exitCode).toBe(0);
    const r = await fn(['list', '--remote', '--url', server.url, '--service-key', server.serviceKey, '--app-id', appId, '--json'], {
      cwd: tempDir(),
      env: cleanEnv,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, where: server.url, appId, version: 1 });
    expect(doc.functions.map((f: { name: string; private: boolean }) => `${f.name}:${f.private}`)).toEqual([
      'callsHelper:false',
      'cart/total:false',
      'hello:false',
      'privateHelper:true',
      'reports/monthly/summary:false',
      'version:false',
    ]);
  });
});

describe('fn deploy, fn rollback, fn deployments', () => {
  it('deploy is push; rollback shows the plan, --dry-run changes nothing, --yes redeploys; deployments has a header', async () => {
    const { dir, appId } = appFolder('rollback');
    const first = await fnAt(server, 'deploy', dir, ['--yes']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Pushed to ${appId}`);
    writeFileSync(join(dir, 'functions/version.js'), versionSource(2));
    expect((await fnAt(server, 'deploy', dir, ['--yes'])).exitCode).toBe(0);

    const dry = await fnAt(server, 'rollback', dir, ['1', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Would redeploy version 1 of ${appId} at ${server.url} as a new version (now at 2):`);
    expect(dry.stdout).toContain('~ version  change source');
    expect(dry.stdout).toContain('0 to add, 1 to change, 0 to delete, 5 unchanged');

    const noTty = await fnAt(server, 'rollback', dir, ['1']);
    expect(noTty.exitCode).toBe(2);
    expect(noTty.stderr).toContain('--yes');

    const r = await fnAt(server, 'rollback', dir, ['1', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('version 3 redeploys version 1');
    expect((await callFunction(server.url, appId, 'version')).json).toEqual({ version: 1 });

    const missing = await fnAt(server, 'rollback', dir, ['9', '--yes']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('there is no version 9 to roll back to');
    const bad = await fnAt(server, 'rollback', dir, ['x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('(run fn rollback --help for usage)');

    const list = await fnAt(server, 'deployments', dir);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*VERSION {2}DEPLOYED \(UTC\)\s+FUNCTIONS {2}CHANGES$/);
    expect(lines[1]).toMatch(/^\s+3 {2}\S+\s+6 {2}rollback to version 1 {2}\(current\)$/);
    expect(list.stderr).toContain('fn rollback <version>');
  });

  it('fn deployments --help and fn rollback --help say how to roll back', async () => {
    const dep = await fn(['deployments', '--help']);
    expect(dep.stdout).toContain('fn rollback 3');
    const rb = await fn(['rollback', '--help']);
    expect(rb.exitCode).toBe(0);
    expect(rb.stdout).toContain('--dry-run');
  });
});

describe('help and usage errors', () => {
  it('a subcommand help lists the global options', async () => {
    for (const cmd of ['validate', 'logs', 'list', 'invoke']) {
      const r = await fn([cmd, '--help']);
      expect(r.exitCode).toBe(0);
      for (const flag of ['--cwd <dir>', '--json', '--no-color', '--verbose']) expect(r.stdout, `${cmd} ${flag}`).toContain(flag);
    }
  });

  it("a usage error names the command's own help, in text and in JSON", async () => {
    const r = await fn(['validate', '--stagd']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('(Did you mean --staged?)');
    expect(r.stderr).toContain('(run fn validate --help for usage)');
    const json = await fn(['--json', 'logs', '--limit', 'x']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout).error.hint).toBe('run fn logs --help for usage');
  });

  it('an unknown command suggests the nearest', async () => {
    const r = await fn(['deplyo']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('(Did you mean deploy?)');
  });
});

describe('fn validate: a misspelt entry or file', () => {
  const shop = () =>
    makeApp({
      'functions/config.json': '[\n  { "name": "applyDiscuont", "private": true }\n]\n',
      'functions/applyDiscount.js': 'exports = function () { return 1; };\n',
    });

  it('missing-source and orphan-source point at each other: did you mean', async () => {
    const r = await fn(['validate'], { cwd: shop() });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(
      'hint: functions/applyDiscount.js exists and has no entry: did you mean "applyDiscount"? (fn validate --fix renames the entry)',
    );
    expect(r.stdout).toContain('hint: the entry "applyDiscuont" has no source: did you mean "applyDiscount"?');
  });

  it('--fix renames the entry, keeping its other fields, instead of adding a second one', async () => {
    const app = shop();
    const r = await fn(['validate', '--fix'], { cwd: app });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stderr).toContain('renamed the entry "applyDiscuont" to "applyDiscount"');
    expect(read(app, 'functions/config.json')).toBe('[\n  { "name": "applyDiscount", "private": true }\n]\n');
  });

  it('a .ts file with the expected name is named in the hint', async () => {
    const app = makeApp({
      'functions/config.json': '[{ "name": "applyDiscount" }]\n',
      'functions/applyDiscount.ts': 'export default 1;\n',
    });
    const r = await fn(['validate'], { cwd: app });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('hint: functions/applyDiscount.ts exists; function files must be .js');
  });
});

describe('fn validate --format github: paths from the repository root', () => {
  const mono = () => {
    const repo = tempDir('fn-mono-');
    mkdirSync(join(repo, '.git'));
    mkdirSync(join(repo, 'apps', 'shop', 'functions'), { recursive: true });
    writeFileSync(join(repo, 'apps', 'shop', 'functions', 'config.json'), '[{ "name": "gone" }]\n');
    return repo;
  };

  it('from the repository, from inside the app, and under GITHUB_WORKSPACE', async () => {
    const repo = mono();
    const env = { GITHUB_WORKSPACE: undefined };
    const fromRepo = await fn(['validate', '--format', 'github', '--cwd', 'apps/shop'], { cwd: repo, env });
    expect(fromRepo.stdout).toMatch(/^::error file=apps\/shop\/functions\/config.json,line=1,/);
    const inside = await fn(['validate', '--format', 'github'], { cwd: join(repo, 'apps', 'shop', 'functions'), env });
    expect(inside.stdout).toMatch(/^::error file=apps\/shop\/functions\/config.json,line=1,/);
    const workspace = await fn(['validate', '--format', 'github'], {
      cwd: join(repo, 'apps', 'shop'),
      env: { GITHUB_WORKSPACE: join(repo, 'apps') },
    });
    expect(workspace.stdout).toMatch(/^::error file=shop\/functions\/config.json,line=1,/);
    // Text output keeps paths from the working folder.
    const text = await fn(['validate'], { cwd: join(repo, 'apps', 'shop', 'functions'), env });
    expect(text.stdout).toContain('../functions/config.json:1:');
  });
});

describe('fn pull into an empty folder', () => {
  it('scaffolds what fn init writes: .gitignore, jsconfig.json, runtime types, fn.config.json with the remote', async () => {
    const { dir: source, appId } = appFolder('pull-scaffold');
    expect((await fnAt(server, 'push', source, ['--yes'])).exitCode).toBe(0);
    const dir = tempDir('fn-pulled-');
    const r = await fnAt(server, 'pull', dir, ['--app-id', appId]);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const file of ['.gitignore', 'jsconfig.json', 'types/fn-runtime.d.ts', 'functions/hello.js'])
      expect(existsSync(join(dir, file)), file).toBe(true);
    expect(read(dir, '.gitignore')).toContain('.fn/');
    expect(JSON.parse(read(dir, 'fn.config.json'))).toMatchObject({ appId, remotes: { local: { url: server.url } } });
    // A .gitignore already there is kept.
    const kept = tempDir('fn-pulled-');
    writeFileSync(join(kept, '.gitignore'), 'mine\n');
    expect((await fnAt(server, 'pull', kept, ['--app-id', appId])).exitCode).toBe(0);
    expect(read(kept, '.gitignore')).toBe('mine\n');
  });
});
