// Links among function sources: two `-> .` folder links end in a finite walk for validate, push
// and the pre-commit path (--staged); a source linked from outside the app is an error
// (source-outside-app) that stops push before anything is sent.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fnProcess, makeApp, tempDir } from './helpers.js';

afterAll(() => cleanupTemps());

const APP = {
  'fn.config.json': JSON.stringify({ appId: 'links' }),
  'functions/config.json': JSON.stringify([{ name: 'hello', private: false }]),
  'functions/hello.js': 'exports = function () { return "hi"; };\n',
};
/** Far above what a finite walk takes here, far below "forever". */
const BOUND_MS = 30_000;
const env = { FN_URL: undefined, FN_APP_ID: undefined, FN_SERVICE_KEY: undefined, FN_TOKEN: undefined };
// A port nothing listens on: push gets past validation, then fails to connect (exit 4).
const deadUrl = 'http://127.0.0.1:9';

function git(cwd: string, args: string[]) {
  return execa('git', args, { cwd, env: { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } });
}

describe('folder link loops', () => {
  it(
    'validate, push --dry-run and validate --staged finish',
    async () => {
      const dir = makeApp(APP);
      symlinkSync('.', join(dir, 'functions', 'a'));
      symlinkSync('.', join(dir, 'functions', 'b'));
      mkdirSync(join(dir, 'functions', 'sub'));
      symlinkSync('..', join(dir, 'functions', 'sub', 'up'));
      const started = Date.now();
      const v = await fnProcess(['validate', '--json'], { cwd: dir, env, timeout: BOUND_MS });
      expect(v.exitCode).toBe(0);
      expect((JSON.parse(v.stdout) as { ok?: boolean; summary?: unknown }).summary).toMatchObject({ errors: 0 });
      const p = await fnProcess(['push', '--dry-run', '--url', deadUrl, '--service-key', 'k'], { cwd: dir, env, timeout: BOUND_MS });
      expect(p.stderr).not.toContain('errors');
      expect(p.exitCode).toBe(4);
      await git(dir, ['init', '-q']);
      await git(dir, ['add', '-A']);
      const s = await fnProcess(['validate', '--staged'], { cwd: dir, env, timeout: BOUND_MS });
      expect(s.exitCode).toBe(0);
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
    },
    3 * BOUND_MS,
  );
});

describe('sources linked from outside the app', () => {
  it(
    'are an error for validate, and push sends nothing',
    async () => {
      const dir = makeApp(APP);
      const outside = tempDir();
      writeFileSync(join(outside, 'secret.js'), 'exports = function () { return "not yours"; };\n');
      mkdirSync(join(outside, 'lib'));
      writeFileSync(join(outside, 'lib', 'deep.js'), 'exports = function () { return 1; };\n');
      symlinkSync(join(outside, 'secret.js'), join(dir, 'functions', 'secret.js'));
      symlinkSync(join(outside, 'lib'), join(dir, 'functions', 'lib'));
      // A link inside the app is fine.
      symlinkSync('hello.js', join(dir, 'functions', 'alias.js'));
      writeFileSync(
        join(dir, 'functions', 'config.json'),
        JSON.stringify([{ name: 'hello' }, { name: 'alias' }, { name: 'secret' }, { name: 'lib/deep' }]),
      );
      const v = await fnProcess(['validate', '--json'], { cwd: dir, env, timeout: BOUND_MS });
      expect(v.exitCode).toBe(1);
      const report = JSON.parse(v.stdout) as {
        diagnostics?: { rule: string; file: string; severity: string }[];
        apps?: { diagnostics: { rule: string; file: string; severity: string }[] }[];
      };
      const diagnostics = report.diagnostics ?? report.apps?.flatMap((a) => a.diagnostics) ?? [];
      const outsideOnes = diagnostics.filter((d) => d.rule === 'source-outside-app');
      expect(outsideOnes.map((d) => [d.file, d.severity]).sort()).toEqual([
        ['functions/lib/deep.js', 'error'],
        ['functions/secret.js', 'error'],
      ]);
      const p = await fnProcess(['push', '--dry-run', '--url', deadUrl, '--service-key', 'k'], { cwd: dir, env, timeout: BOUND_MS });
      expect(p.exitCode).toBe(1);
      expect(p.stdout + p.stderr).toContain('source-outside-app');
    },
    3 * BOUND_MS,
  );
});
