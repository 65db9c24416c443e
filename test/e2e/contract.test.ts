// The contracts every command shares: startup cost, exit-code table, streams, version.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE } from '../../src/errors.js';
import { cleanupTemps, fnProcess, repoRoot, tempDir } from './helpers.js';

afterAll(cleanupTemps);

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
};

describe('startup', () => {
  it('the built entry and the grammar have no static import of ts-morph, chokidar, execa or typescript', () => {
    for (const file of ['bin.js', 'cli.js']) {
      const entry = readFileSync(join(repoRoot, 'dist', file), 'utf8');
      const staticImports = [...entry.matchAll(/^\s*import\s+(?:[^'"]*from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      expect(staticImports.length, file).toBeGreaterThan(0);
      for (const heavy of ['ts-morph', 'chokidar', 'execa', 'typescript']) expect(staticImports, file).not.toContain(heavy);
      expect(
        staticImports.every((s) => s!.startsWith('node:') || s!.startsWith('./')),
        file,
      ).toBe(true);
    }
  });

  it('chokidar loads only when a watch starts: no command module nor the app watcher imports it statically', () => {
    const files = [
      join(repoRoot, 'dist', 'project', 'watch.js'),
      ...readdirSync(join(repoRoot, 'dist', 'commands'))
        .filter((f) => f.endsWith('.js'))
        .map((f) => join(repoRoot, 'dist', 'commands', f)),
    ];
    for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toMatch(/^import[^;]*['"]chokidar['"]/m);
    expect(readFileSync(files[0]!, 'utf8')).toContain("import('chokidar')");
  });

  it('no command module imports ts-morph or typescript statically, except the types generator', () => {
    const dir = join(repoRoot, 'dist', 'commands');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/^import[^;]*['"](ts-morph|typescript)['"]/m);
    }
  });

  it('--version prints the package version on stdout', async () => {
    const r = await fnProcess(['--version']);
    expect(r).toEqual({ exitCode: 0, stdout: pkg.version, stderr: '' });
  });

  it('package.json ships a bin shim and supports Node 20.19', () => {
    expect(pkg.bin).toEqual({ fn: 'bin/fn.js' });
    expect(pkg.engines.node).toBe('>=20.19');
    expect(readFileSync(join(repoRoot, 'bin', 'fn.js'), 'utf8')).toBe("#!/usr/bin/env node\nimport '../dist/bin.js';\n");
  });
});

describe('exit codes', () => {
  it('--help lists every exit code of the table, as the README does', async () => {
    const r = await fnProcess(['--help']);
    expect(r.exitCode).toBe(0);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const [code, meaning] of EXIT_CODE_TABLE) {
      expect(r.stdout).toContain(`${String(code).padStart(3)}  ${meaning}`);
      expect(readme).toContain(`| ${code} | ${meaning} |`);
    }
  });

  it('2 for an unknown command, on stderr in text mode', async () => {
    const r = await fnProcess(['frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('2 with one JSON error document under --json', async () => {
    const r = await fnProcess(['validate', '--json', '--format', 'yaml']);
    expect(r.exitCode).toBe(2);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.message).toContain('yaml');
  });

  it('3 when there is no app, with a hint', async () => {
    const r = await fnProcess(['validate'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error no app found at .* \(looked for fn.config.json or functions\/config.json\)\nhint /);
  });

  it('3 as a JSON error document under --json', async () => {
    const r = await fnProcess(['validate', '--json'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'NO_APP_ROOT' } });
  });

  it('--help of every command shows an example', async () => {
    const help = await fnProcess(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const r = await fnProcess([command, '--help']);
      expect(r.exitCode, command).toBe(0);
      expect(r.stdout, command).toMatch(/Examples?:\n {2}fn /);
    }
  });
});

describe('runtime limit flags', () => {
  const defaultsIn = (help: string): Record<string, number> => {
    const found: Record<string, number> = {};
    // A description wrapped onto the next lines is read as one line.
    const unwrapped = help.replace(/\n {20,}/g, ' ');
    for (const m of unwrapped.matchAll(
      /--(timeout|memory|concurrency|workers|max-workers|max-connections|headers-timeout|request-timeout|keep-alive-timeout) <\w+>\s+[^\n]*\(default: (\d+)\)/g,
    ))
      found[m[1]!] = Number(m[2]);
    return found;
  };

  it('--help of fn dev and fn serve shows the defaults the runtime uses', async () => {
    const { DEFAULT_LIMITS } = await import('../../src/runtime/types.js');
    const { SERVE_LIMIT_DEFAULTS } = await import('../../src/commands/serve.js');
    const { CONNECTION_DEFAULTS } = await import('../../src/server/http.js');
    const expected = {
      timeout: DEFAULT_LIMITS.timeoutMs,
      memory: DEFAULT_LIMITS.memoryMb,
      concurrency: DEFAULT_LIMITS.concurrency,
      workers: DEFAULT_LIMITS.workers,
      'max-workers': DEFAULT_LIMITS.maxWorkers,
      'max-connections': CONNECTION_DEFAULTS.maxConnections,
      'headers-timeout': CONNECTION_DEFAULTS.headersTimeoutMs,
      'request-timeout': CONNECTION_DEFAULTS.requestTimeoutMs,
      'keep-alive-timeout': CONNECTION_DEFAULTS.keepAliveTimeoutMs,
    };
    expect(defaultsIn((await fnProcess(['dev', '--help'])).stdout)).toEqual(expected);
    expect(defaultsIn((await fnProcess(['serve', '--help'])).stdout)).toEqual({
      ...expected,
      workers: SERVE_LIMIT_DEFAULTS.workers,
      'max-workers': SERVE_LIMIT_DEFAULTS.maxWorkers,
    });
  });
});
