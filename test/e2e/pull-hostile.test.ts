// fn pull against a hostile server: names that step out of the app, that were never asked for, or
// that a file system cannot hold refuse the whole pull (exit 4) and nothing is written; a symbolic
// link inside functions/ is never written through.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fn, tempDir } from './helpers.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const SOURCE = 'exports = function () { return 1; };\n';

/** What the fake server answers: a deployment's function names, and the sources it sends back. */
let functions: string[] = [];
let extraSources: Record<string, string> = {};
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url?.endsWith('/deployment')) {
        const manifest = JSON.stringify(functions.map((name) => ({ name, private: false })));
        res.end(
          JSON.stringify({
            version: 1,
            createdAt: new Date().toISOString(),
            summary: '',
            manifest,
            functions: Object.fromEntries(functions.map((n) => [n, sha(SOURCE)])),
          }),
        );
      } else if (req.method === 'POST' && req.url?.endsWith('/deployment/sources')) {
        const asked = (JSON.parse(body) as { names: string[] }).names;
        res.end(JSON.stringify({ sources: { ...Object.fromEntries(asked.map((n) => [n, SOURCE])), ...extraSources } }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no route' } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  cleanupTemps();
});

const pull = (cwd: string, args: string[] = []) =>
  fn(['pull', '--url', url, '--app-id', 'app', '--service-key', 'k', ...args], {
    cwd,
    env: { FN_URL: undefined, FN_APP_ID: undefined, FN_SERVICE_KEY: undefined },
  });

describe('fn pull from a hostile server', () => {
  it('pulls good names (the fake server works)', async () => {
    functions = ['ok', 'nested/fine'];
    extraSources = {};
    const dir = join(tempDir(), 'app');
    mkdirSync(dir);
    const r = await pull(dir);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(dir, 'functions', 'ok.js'))).toBe(true);
    expect(existsSync(join(dir, 'functions', 'nested', 'fine.js'))).toBe(true);
  });

  const hostile: [string, string][] = [
    ['../x', "'..'"],
    ['a/../../b', "'..'"],
    ['/etc/evil', "leading '/'"],
    ['/tmp/abs', "leading '/'"],
    ['a\u0000b', 'control character'],
    ['x'.repeat(300), 'longer than'],
    ['__proto__', 'reserved'],
    ['a/__proto__', 'reserved'],
    ['a\\..\\..\\b', 'backslash'],
  ];
  for (const [name, why] of hostile) {
    it(`refuses the whole pull for ${JSON.stringify(name).slice(0, 40)}, writing nothing`, async () => {
      functions = ['ok', name];
      extraSources = {};
      const outer = tempDir();
      const dir = join(outer, 'app');
      mkdirSync(dir);
      const r = await pull(dir);
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toContain('cannot be pulled');
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('nothing was written');
      expect(readdirSync(dir)).toEqual([]);
      expect(readdirSync(outer)).toEqual(['app']);
    });
  }

  it('refuses sources it never asked for', async () => {
    functions = ['ok'];
    extraSources = { other: SOURCE };
    const dir = join(tempDir(), 'app');
    mkdirSync(dir);
    const r = await pull(dir);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain('"other" was never asked for');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses unasked hostile names in the sources reply', async () => {
    functions = ['ok'];
    extraSources = { '../../escape': SOURCE };
    const outer = tempDir();
    const dir = join(outer, 'app');
    mkdirSync(dir);
    const r = await pull(dir);
    expect(r.exitCode).toBe(4);
    expect(readdirSync(outer)).toEqual(['app']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never writes through a symbolic link inside functions/', async () => {
    functions = ['ok'];
    extraSources = {};
    const outer = tempDir();
    const dir = join(outer, 'app');
    mkdirSync(dir);
    expect((await pull(dir)).exitCode).toBe(0);
    const elsewhere = join(outer, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, 'functions', 'sub'));
    functions = ['ok', 'sub/f', 'zz'];
    const r = await pull(dir);
    expect(r.stderr).toContain('functions/sub is a symbolic link');
    expect(r.exitCode).toBe(3);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(join(dir, 'functions', 'zz.js'))).toBe(false);
    // A link in place of the file itself is not written through either.
    writeFileSync(join(elsewhere, 'target.js'), 'kept');
    symlinkSync(join(elsewhere, 'target.js'), join(dir, 'functions', 'zz.js'));
    functions = ['ok', 'zz'];
    const again = await pull(dir, ['--force']);
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toContain('functions/zz.js is a symbolic link');
    expect(readdirSync(elsewhere)).toEqual(['target.js']);
  });
});
