// Installing fn from its source, the way a user and pre-commit do it. A clean copy of the
// repository (the files git tracks or would track: no dist/, no node_modules) is installed:
//  - globally from the folder (`npm install -g <clone>`): npm runs prepare, which builds dist/;
//  - as a dev dependency from its git URL (`npm install -D git+file://<clone>`): npm clones it,
//    installs its devDependencies, runs prepare and packs it; then `npx fn` in the project;
//  - the way pre-commit installs a node hook: `npm install` (devDependencies included) in the
//    clone, `npm pack`, `npm install -g <tarball>` into the hook's own prefix, the clone's
//    node_modules removed; then the hook's entry from .pre-commit-hooks.yaml on staged files.
// Slow (npm installs and two builds): a few minutes under load.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, repoRoot, tempDir } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const quiet = { npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };
const fnEnv = { NO_COLOR: '1', CI: '1' };
const git = (args: string[], cwd: string) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, reject: false });

let clone = '';

beforeAll(async () => {
  clone = tempDir('fn-clone-');
  const listed = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(clone, file));
  }
  await git(['init', '-q'], clone);
  await git(['add', '-A'], clone);
  await git(['commit', '-qm', 'clone'], clone);
});

afterAll(cleanupTemps);

/** A new app from `fn init`, in a git repository, all of it staged. */
async function stagedApp(fnBin: string, env: Record<string, string> = {}): Promise<string> {
  const repo = tempDir('fn-user-repo-');
  await git(['init', '-q'], repo);
  const init = await execa(fnBin, ['init', '--yes'], { cwd: repo, reject: false, env: { ...fnEnv, ...env } });
  expect(init.exitCode, init.stderr).toBe(0);
  await git(['add', '-A'], repo);
  return repo;
}

describe('[slow] installing fn from a clone', () => {
  it('the clone has no dist/: what prepare builds is not committed', () => {
    expect(existsSync(join(clone, 'package.json'))).toBe(true);
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
  });

  it('npm install -g <clone>: prepare builds dist/, and fn runs init and validate --staged', async () => {
    const prefix = tempDir('fn-global-');
    const r = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', clone], { env: quiet, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(clone, 'dist', 'cli.js'))).toBe(true);
    const fnBin = join(prefix, 'bin', 'fn');
    const version = await execa(fnBin, ['--version'], { reject: false });
    expect(version.stdout.trim()).toBe(pkg.version);

    const app = await stagedApp(fnBin);
    // Not in the app's node_modules: $schema is the file URL of the schema, which exists.
    const config = JSON.parse(readFileSync(join(app, 'fn.config.json'), 'utf8')) as { $schema: string };
    expect(config.$schema.startsWith('file://')).toBe(true);
    expect(existsSync(fileURLToPath(config.$schema))).toBe(true);
    const staged = await execa(fnBin, ['validate', '--staged'], { cwd: app, reject: false, env: fnEnv });
    expect(staged.exitCode, staged.stderr).toBe(0);
  }, 600_000);

  // npm clones the repository and installs every devDependency once more to build it: the longest
  // of the three, and the same prepare script as the other two. Run with FN_TEST_LONG=1.
  it.skipIf(process.env.FN_TEST_LONG !== '1')(
    'npm install -D <git url>: npm builds it from git; npx fn runs it in the project (FN_TEST_LONG=1)',
    async () => {
      const project = tempDir('fn-gitdep-');
      await git(['init', '-q'], project);
      await execa('npm', ['init', '-y'], { cwd: project, env: quiet });
      const r = await execa('npm', ['install', '-D', '--prefer-offline', `git+file://${clone}`], {
        cwd: project,
        env: quiet,
        reject: false,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const installed = join(project, 'node_modules', ...pkg.name.split('/'));
      expect(existsSync(join(installed, 'dist', 'cli.js'))).toBe(true);
      expect(existsSync(join(installed, 'src'))).toBe(false);
      const npx = (args: string[]) =>
        execa('npx', ['--no-install', 'fn', ...args], { cwd: project, reject: false, env: { ...quiet, ...fnEnv } });
      const init = await npx(['init', '--yes']);
      expect(init.exitCode, init.stderr).toBe(0);
      const config = JSON.parse(readFileSync(join(project, 'fn.config.json'), 'utf8')) as { $schema: string };
      expect(config.$schema).toBe(`./node_modules/${pkg.name}/schemas/fn-config.schema.json`);
      await git(['add', '-A'], project);
      const staged = await npx(['validate', '--staged']);
      expect(staged.exitCode, staged.stderr).toBe(0);
    },
    600_000,
  );

  it('as pre-commit installs the hook: npm install, npm pack, npm install -g; the hook entry checks staged files', async () => {
    // A fresh clone again, as pre-commit makes one.
    rmSync(join(clone, 'dist'), { recursive: true, force: true });
    rmSync(join(clone, 'node_modules'), { recursive: true, force: true });
    const envDir = tempDir('fn-precommit-env-');
    const env = {
      ...quiet,
      NPM_CONFIG_PREFIX: envDir,
      npm_config_prefix: envDir,
      PATH: `${join(envDir, 'bin')}${delimiter}${process.env.PATH}`,
    };
    const install = await execa(
      'npm',
      ['install', '--include=dev', '--include=prod', '--ignore-prepublish', '--no-progress', '--no-save', '--prefer-offline'],
      { cwd: clone, env, reject: false },
    );
    expect(install.exitCode, install.stderr).toBe(0);
    const packed = await execa('npm', ['pack'], { cwd: clone, env, reject: false });
    expect(packed.exitCode, packed.stderr).toBe(0);
    const tarball = join(clone, packed.stdout.trim().split('\n').pop()!);
    const global = await execa('npm', ['install', '-g', '--prefer-offline', tarball], { cwd: clone, env, reject: false });
    expect(global.exitCode, global.stderr).toBe(0);
    rmSync(join(clone, 'node_modules'), { recursive: true, force: true });
    rmSync(tarball);

    // The hook as .pre-commit-hooks.yaml declares it.
    const hooks = readFileSync(join(clone, '.pre-commit-hooks.yaml'), 'utf8');
    const entry = /^\s*entry:\s*(.+)$/m.exec(hooks)![1]!.trim().split(/\s+/);
    const files = new RegExp(/^\s*files:\s*(.+)$/m.exec(hooks)![1]!.trim());
    expect(/^\s*language:\s*node\s*$/m.test(hooks)).toBe(true);
    const runHook = async (repo: string) => {
      const changed = (await git(['diff', '--cached', '--name-only'], repo)).stdout.split('\n').filter((f) => files.test(f));
      expect(changed.length).toBeGreaterThan(0);
      return execa(entry[0]!, [...entry.slice(1), ...changed], { cwd: repo, reject: false, env: { ...env, ...fnEnv } });
    };

    const app = await stagedApp(join(envDir, 'bin', 'fn'), env);
    const good = await runHook(app);
    expect(good.exitCode, good.stderr + good.stdout).toBe(0);
    writeFileSync(join(app, 'functions', 'calculateTotal.js'), 'module.exports = 1;\n');
    await git(['add', '-A'], app);
    const bad = await runHook(app);
    expect(bad.exitCode, bad.stderr).toBe(1);
    expect(bad.stdout).toContain('functions/calculateTotal.js');
  }, 600_000);
});
