import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashText } from '../../../src/manifest/hash.js';
import { deployRoutes } from '../../../src/server/deploy-routes.js';
import { createHandler, listen, type Listening } from '../../../src/server/http.js';
import { CallLog } from '../../../src/server/logs.js';
import { FileStore } from '../../../src/server/store.js';

/** A POST with the path sent as written (fetch would resolve '.' and '..' segments). */
function post(url: string, path: string, body: unknown): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const { hostname, port } = new URL(url);
    const req = request(
      {
        hostname,
        port,
        path,
        method: 'POST',
        headers: { authorization: 'Bearer svc-key', 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code: string; message: string } },
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const source = 'exports = function () { return 1; };\n';
const deployment = (names: string[]) => ({
  manifest: JSON.stringify(names.map((name) => ({ name }))),
  set: Object.fromEntries(names.map((n) => [n, hashText(source)])),
  blobs: { [hashText(source)]: source },
});

describe('the deploy route checks function names and app ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-deploy-names-'));
  const store = new FileStore(join(dir, 'data'));
  let server: Listening;
  beforeAll(async () => {
    const handler = createHandler({
      serviceKey: 'svc-key',
      jwtSecret: 'jwt',
      apps: () => undefined,
      log: new CallLog(),
      adminRoutes: deployRoutes(store, () => undefined),
    });
    server = await listen(handler, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad names with 400 INVALID_FUNCTION_NAME and writes nothing', async () => {
    const bad = [
      '__proto__',
      'a\u0000b',
      'x'.repeat(300),
      'a/' + 'y'.repeat(253),
      '../escape',
      'a/./b',
      'a//b',
      '/lead',
      'a\\b',
      'node_modules/x',
      'z'.repeat(100) + '/' + 'q/'.repeat(500) + 'end',
    ];
    for (const name of bad) {
      const r = await post(server.url, '/api/admin/v1/apps/shop/deployments', deployment(['ok', name]));
      expect(r.status, JSON.stringify(name).slice(0, 40)).toBe(400);
      expect(r.json.error!.code).toBe('INVALID_FUNCTION_NAME');
      expect(r.json.error!.message).toMatch(/nothing was deployed/);
    }
    expect(store.current('shop')).toBeUndefined();
    expect(existsSync(join(dir, 'data', 'apps', 'shop'))).toBe(false);
  });

  it('deploys good names, portable or not, and a name of 252 characters', async () => {
    const r = await post(
      server.url,
      '/api/admin/v1/apps/shop/deployments',
      deployment(['ok', 'reports/daily', 'with space', 'x'.repeat(252)]),
    );
    expect(r.status).toBe(201);
    expect(Object.keys(store.current('shop')!.functions).sort()).toEqual(['ok', 'reports/daily', 'with space', 'x'.repeat(252)].sort());
  });

  it("refuses app ids '.', '..' and others that are not a plain folder name, writing nothing", async () => {
    const before = readdirSync(dir, { recursive: true }).sort();
    for (const appId of ['.', '..', '%2e%2e', '.hidden', 'a%00b', 'a%2Fb', 'x'.repeat(129)]) {
      const r = await post(server.url, `/api/admin/v1/apps/${appId}/deployments`, deployment(['ok']));
      expect(r.status, appId).toBe(400);
      expect(r.json.error!.code).toBe('INVALID_APP_ID');
    }
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(before);
  });
});
