// fn invoke sends the request the real @base44/sdk sends: the same call made once through
// createClient(...).functions.invoke and once through the built `fn invoke`, both against a local
// capture server, compared header by header and byte for byte (multipart: part by part, since
// boundaries differ). fn runs in a temp folder with no app, so no manifest checks the names.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createClient } from '@base44/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, fixturesDir, fn, tempDir } from './helpers.js';

const APP_ID = 'app_local_123';
const TOKEN = 'user-jwt-abc.def.ghi';
const SERVICE_KEY = 'service-token-xyz';

interface Captured {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Server;
let url: string;
let outside: string;
const captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const body = '{"ok":true}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  outside = tempDir('fn-invoke-bytes-');
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanupTemps();
});

/** The one request `run` made to the capture server. */
async function captureOne(run: () => Promise<unknown>): Promise<Captured> {
  const before = captured.length;
  await run();
  const made = captured.slice(before);
  expect(made).toHaveLength(1);
  return made[0]!;
}

type Caller = { kind: 'anonymous' } | { kind: 'token' } | { kind: 'service' };
/** Any name: a FunctionNameRegistry augmentation elsewhere in the project must not narrow it here. */
type AnyName = Parameters<ReturnType<typeof createClient>['functions']['invoke']>[0];

function viaSdk(caller: Caller, name: string, data?: Record<string, unknown>): Promise<Captured> {
  return captureOne(async () => {
    if (caller.kind === 'service') {
      const client = createClient({ serverUrl: url, appId: APP_ID, serviceToken: SERVICE_KEY });
      await client.asServiceRole.functions.invoke(name as AnyName, data);
    } else {
      const client = createClient({ serverUrl: url, appId: APP_ID, ...(caller.kind === 'token' ? { token: TOKEN } : {}) });
      await client.functions.invoke(name as AnyName, data);
    }
  });
}

function viaFn(caller: Caller, name: string, args: string[] = []): Promise<Captured> {
  return captureOne(async () => {
    const who =
      caller.kind === 'token' ? ['--token', TOKEN] : caller.kind === 'service' ? ['--service-role', '--service-key', SERVICE_KEY] : [];
    const r = await fn(['invoke', name, '--url', url, '--app-id', APP_ID, ...who, ...args], {
      cwd: outside,
      env: { FN_URL: undefined, FN_APP_ID: undefined, FN_TOKEN: undefined, FN_SERVICE_KEY: undefined },
    });
    expect(r.stderr).not.toContain('error');
    expect([r.exitCode, r.stdout]).toEqual([0, '{"ok":true}']);
  });
}

/** The headers that carry meaning for the server (not transport headers such as user-agent). */
function meaningful(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'authorization' || name === 'on-behalf-of' || name.startsWith('x-') || name.startsWith('base44-')) out[name] = value;
  }
  return out;
}

function expectSameRequest(sdk: Captured, cli: Captured): void {
  expect(cli.method).toBe(sdk.method);
  expect(cli.path).toBe(sdk.path);
  for (const h of ['accept', 'content-type', 'x-app-id', 'authorization']) expect(cli.headers[h], h).toBe(sdk.headers[h]);
  expect(meaningful(cli.headers)).toEqual(meaningful(sdk.headers));
  expect(cli.body.equals(sdk.body), `body\n sdk: ${sdk.body.toString('utf8')}\n fn:  ${cli.body.toString('utf8')}`).toBe(true);
}

const DATA = { items: ['item1', 'item2'], qty: 2, nested: { a: 1, deep: [true, null, 1.5] }, nothing: null, text: 'héllo ✓ "quoted"\n' };

describe('fn invoke sends what @base44/sdk sends: JSON', () => {
  it('with a user token', async () => {
    const sdk = await viaSdk({ kind: 'token' }, 'calculateTotal', DATA);
    const cli = await viaFn({ kind: 'token' }, 'calculateTotal', ['--data', JSON.stringify(DATA)]);
    expect(sdk.path).toBe(`/api/apps/${APP_ID}/functions/calculateTotal`);
    expect(sdk.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expectSameRequest(sdk, cli);
  });

  it('anonymously: no Authorization on either', async () => {
    const sdk = await viaSdk({ kind: 'anonymous' }, 'calculateTotal', DATA);
    const cli = await viaFn({ kind: 'anonymous' }, 'calculateTotal', ['--data', JSON.stringify(DATA)]);
    expect(sdk.headers.authorization).toBeUndefined();
    expectSameRequest(sdk, cli);
  });

  it('as the service role (asServiceRole, --service-role)', async () => {
    const sdk = await viaSdk({ kind: 'service' }, 'calculateTotal', { items: ['svc'] });
    const cli = await viaFn({ kind: 'service' }, 'calculateTotal', ['--data', '{"items":["svc"]}']);
    expect(sdk.headers.authorization).toBe(`Bearer ${SERVICE_KEY}`);
    expectSameRequest(sdk, cli);
  });

  it('with no data: both send an empty body labelled application/json', async () => {
    const sdk = await viaSdk({ kind: 'token' }, 'noArgs');
    const cli = await viaFn({ kind: 'token' }, 'noArgs');
    expect(sdk.body.length).toBe(0);
    expect(sdk.headers['content-type']).toBe('application/json');
    expectSameRequest(sdk, cli);
  });

  it('with an empty object', async () => {
    const sdk = await viaSdk({ kind: 'token' }, 'emptyArgs', {});
    const cli = await viaFn({ kind: 'token' }, 'emptyArgs', ['--data', '{}']);
    expect(sdk.body.toString()).toBe('{}');
    expectSameRequest(sdk, cli);
  });

  it('with data from a file and from standard input, byte for byte as from the flag', async () => {
    const sdk = await viaSdk({ kind: 'token' }, 'calculateTotal', DATA);
    const fromStdin = await captureOne(async () => {
      const r = await fn(['invoke', 'calculateTotal', '--url', url, '--app-id', APP_ID, '--token', TOKEN, '--data', '-'], {
        cwd: outside,
        input: JSON.stringify(DATA, null, 2),
      });
      expect(r.exitCode).toBe(0);
    });
    expectSameRequest(sdk, fromStdin);
    writeFileSync(join(outside, 'data.json'), JSON.stringify(DATA, null, '\t') + '\n');
    const fromFile = await viaFn({ kind: 'token' }, 'calculateTotal', ['--data', '@data.json']);
    expectSameRequest(sdk, fromFile);
  });

  it.each([
    ['a nested name', 'reports/monthly', '/functions/reports/monthly'],
    ['a name with a space', 'export v2', '/functions/export%20v2'],
    ['a nested name with a space', 'reports/export v2', '/functions/reports/export%20v2'],
  ])('with %s', async (_what, name, suffix) => {
    const sdk = await viaSdk({ kind: 'token' }, name, { a: 1 });
    const cli = await viaFn({ kind: 'token' }, name, ['--data', '{"a":1}']);
    expect(sdk.path).toBe(`/api/apps/${APP_ID}${suffix}`);
    expectSameRequest(sdk, cli);
  });
});

interface Part {
  name: string;
  value?: string;
  file?: { name: string; type: string; size: number; bytes: string };
}

async function partsOf(c: Captured): Promise<Part[]> {
  const ct = String(c.headers['content-type']);
  const form = await new Response(c.body, { headers: { 'content-type': ct } }).formData();
  const parts: Part[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') parts.push({ name, value });
    else {
      const f = value as File;
      parts.push({
        name,
        file: { name: f.name, type: f.type, size: f.size, bytes: Buffer.from(await f.arrayBuffer()).toString('base64') },
      });
    }
  }
  return parts.sort((a, b) => a.name.localeCompare(b.name));
}

describe('fn invoke sends what @base44/sdk sends: files (multipart)', () => {
  it('the same parts: file name, type, size and bytes; objects as JSON; other values as strings', async () => {
    const note = readFileSync(join(fixturesDir, 'invoke', 'note.txt'));
    const pixel = readFileSync(join(fixturesDir, 'invoke', 'pixel.png'));
    const fields = { userId: 'u1', meta: { a: [1] }, list: [1, 'two'], n: 5, ratio: 0.5, flag: true, nil: null, empty: '' };
    const sdk = await viaSdk({ kind: 'token' }, 'avatars/upload', {
      doc: new File([note], 'note.txt', { type: 'text/plain' }),
      img: new File([pixel], 'pixel.png', { type: 'image/png' }),
      ...fields,
    });
    const cli = await viaFn({ kind: 'token' }, 'avatars/upload', [
      '--file',
      `doc=${join(fixturesDir, 'invoke', 'note.txt')}`,
      '--file',
      `img=${join(fixturesDir, 'invoke', 'pixel.png')}`,
      '--data',
      JSON.stringify(fields),
    ]);

    expect(cli.method).toBe(sdk.method);
    expect(cli.path).toBe(sdk.path);
    for (const h of ['accept', 'x-app-id', 'authorization']) expect(cli.headers[h], h).toBe(sdk.headers[h]);
    expect(sdk.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(cli.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(meaningful(cli.headers)).toEqual(meaningful(sdk.headers));

    const [sdkParts, cliParts] = [await partsOf(sdk), await partsOf(cli)];
    expect(sdkParts.find((p) => p.name === 'meta')?.value).toBe('{"a":[1]}');
    expect(sdkParts.find((p) => p.name === 'nil')?.value).toBe('null');
    expect(sdkParts.find((p) => p.name === 'img')?.file).toMatchObject({ name: 'pixel.png', type: 'image/png', size: pixel.length });
    expect(cliParts).toEqual(sdkParts);
  });

  it('a file alone, with no other parameters', async () => {
    const note = readFileSync(join(fixturesDir, 'invoke', 'note.txt'));
    const sdk = await viaSdk({ kind: 'anonymous' }, 'upload', { doc: new File([note], 'note.txt', { type: 'text/plain' }) });
    const cli = await viaFn({ kind: 'anonymous' }, 'upload', ['--file', `doc=${join(fixturesDir, 'invoke', 'note.txt')}`]);
    expect(await partsOf(cli)).toEqual(await partsOf(sdk));
    expect(meaningful(cli.headers)).toEqual(meaningful(sdk.headers));
  });
});
