// What users install: the npm pack tarball, installed into a temp folder, runs init, validate,
// add and invoke --local from its own node_modules/.bin.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, repoRoot, tempDir } from './helpers.js';

afterAll(cleanupTemps);

describe('the packed package', () => {
  let bin = '';
  let files: string[] = [];

  beforeAll(async () => {
    const out = tempDir('fn-pack-');
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', out], { cwd: repoRoot, env: { npm_config_loglevel: 'error' } });
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    files = info[0]!.files.map((f) => f.path);
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);
    const app = tempDir('fn-install-');
    await execa('npm', ['init', '-y'], { cwd: app });
    await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env: { npm_config_loglevel: 'error' } });
    bin = join(app, 'node_modules', '.bin', 'fn');
  }, 180_000);

  it('ships the built CLI, schemas and templates, and no sources or tests', () => {
    for (const f of ['bin/fn.js', 'dist/cli.js', 'dist/runtime/worker.js', 'schemas/function-manifest.schema.json', 'schemas/fn-config.schema.json', 'templates/base/_gitignore', 'templates/example/functions/calculateTotal.js', 'README.md', 'package.json']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/'))).toBe(false);
  });

  it('runs: init, validate, add, invoke --local', async () => {
    const dir = tempDir('fn-pack-app-');
    const run = (args: string[]) => execa(bin, args, { cwd: dir, reject: false, env: { NO_COLOR: '1', CI: '1' } });
    expect((await run(['--version'])).exitCode).toBe(0);
    const init = await run(['init', 'shop', '--yes']);
    expect(init.exitCode, init.stderr).toBe(0);
    const app = join(dir, 'shop');
    const inApp = (args: string[]) => execa(bin, args, { cwd: app, reject: false, env: { NO_COLOR: '1', CI: '1' } });
    expect((await inApp(['validate'])).stdout).toContain('no problems');
    expect((await inApp(['add', 'reports/monthly', '--private'])).exitCode).toBe(0);
    const invoked = await inApp(['invoke', 'calculateTotal', '--local', '--data', '{"items":[{"price":2.5,"quantity":2}]}']);
    expect(invoked.exitCode, invoked.stderr).toBe(0);
    expect(JSON.parse(invoked.stdout)).toEqual({ total: 5 });
  });
});
