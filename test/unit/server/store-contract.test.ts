// The deployment store's contract, run against every store: the file store (the default) and the
// PostgreSQL store (127.0.0.1:5432 with trust auth, as `.ci/run` provides, or FN_TEST_POSTGRES_URL;
// each test in a schema of its own). What only one store can show (files edited behind its back,
// a crash between two renames) stays in that store's own tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hashText } from '../../../src/manifest/hash.js';
import { PostgresDeploymentStore } from '../../../src/server/store-postgres.js';
import { ConflictError, CorruptionError, FileStore, MissingBlobError, type DeploymentStore } from '../../../src/server/store.js';
import { APP, change, MANIFEST_2, src } from './commits.js';

const PG_URL = process.env.FN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

type Open = () => Promise<{ store: DeploymentStore; another: () => Promise<DeploymentStore> }>;

const stores: [string, Open][] = [
  [
    'file',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fn-store-contract-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const store = new FileStore(dir);
      // One process holds a data dir: the second "host" is the same store.
      return { store, another: async () => store };
    },
  ],
  [
    'postgres',
    async () => {
      const schema = `fn_contract_${randomBytes(6).toString('hex')}`;
      const opened: PostgresDeploymentStore[] = [];
      const open = async () => {
        const s = await PostgresDeploymentStore.open({ url: PG_URL, schema });
        opened.push(s);
        return s;
      };
      cleanups.push(async () => {
        for (const s of opened) await s.close();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      });
      return { store: await open(), another: open };
    },
  ],
];

describe.each(stores)('DeploymentStore contract: %s', (_name, open) => {
  it('starts empty, then keeps immutable versions over content-addressed sources', async () => {
    const { store } = await open();
    expect(store.apps()).toEqual([]);
    expect(store.current(APP)).toBeUndefined();
    const v1 = await store.commit(APP, change(0, { a: src('a1'), 'nested/b': src('b1') }));
    const v2 = await store.commit(APP, change(1, { a: src('a2'), c: src('c1') }, { manifest: MANIFEST_2, delete: ['nested/b'] }));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(store.apps()).toEqual([APP]);
    expect(store.current(APP)).toEqual(v2);
    expect(store.get(APP, 1)).toEqual(v1);
    expect(store.get(APP, 9)).toBeUndefined();
    expect(Object.keys(v2.functions)).toEqual(['a', 'c']);
    expect(store.readBlob(APP, v2.functions.a!)).toBe(src('a2'));
    expect(store.hasBlob(APP, hashText(src('b1')))).toBe(true);
    expect(store.list(APP).map((d) => [d.version, d.functions])).toEqual([
      [2, 2],
      [1, 2],
    ]);
  });

  it('keeps functions, values, environment and data sources a commit leaves out', async () => {
    const { store } = await open();
    await store.commit(
      APP,
      change(0, { a: src('a1') }, { values: { 'v.json': '{"name":"v","value":1}' }, environment: { tag: 'qa', values: { x: 1 } } }),
    );
    const v2 = await store.commit(APP, { ...change(1, {}), set: {}, blobs: {} });
    expect(Object.keys(v2.functions)).toEqual(['a']);
    expect(v2.values).toEqual({ 'v.json': '{"name":"v","value":1}' });
    expect(v2.environment).toEqual({ tag: 'qa', values: { x: 1 } });
  });

  it('If-Match: refuses a commit based on a version that is not current, naming it, changing nothing', async () => {
    const { store } = await open();
    await store.commit(APP, change(0, { a: src('a1') }));
    const error = await store.commit(APP, change(0, { x: src('lost') })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentVersion).toBe(1);
    expect(store.current(APP)!.version).toBe(1);
    await expect(store.commit('new-app', change(1, { x: src('x') }))).rejects.toMatchObject({ currentVersion: 0 });
    expect((await store.commit(APP, change(undefined, { e: src('e') }))).version).toBe(2);
  });

  it('of two commits from the same base (through two hosts where there can be two), exactly one wins', async () => {
    const { store, another } = await open();
    const other = await another();
    await store.commit(APP, change(0, { a: src('a1') }));
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.allSettled([
        store.commit(APP, change(round, { a: src(`left${round}`) })),
        other.commit(APP, change(round, { a: src(`right${round}`) })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    }
  });

  it('refuses a version whose sources it lacks, and sources that do not match their hash', async () => {
    const { store } = await open();
    const missing = await store.commit(APP, { ...change(0, {}), set: { a: hashText('never sent') }, blobs: {} }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MissingBlobError);
    expect(store.current(APP)).toBeUndefined();
    await expect(
      store.commit(APP, { ...change(0, {}), set: { a: hashText('x') }, blobs: { [hashText('x')]: 'y' } }),
    ).rejects.toBeInstanceOf(CorruptionError);
  });

  it('keeps apps apart', async () => {
    const { store } = await open();
    await store.commit('alpha', change(0, { a: src('alpha') }));
    await store.commit('team/beta', change(0, { a: src('beta') }));
    expect(store.apps()).toEqual(['alpha', 'team/beta']);
    expect(store.readBlob('team/beta', store.current('team/beta')!.functions.a!)).toBe(src('beta'));
    expect(store.hasBlob('alpha', hashText(src('beta')))).toBe(false);
  });

  it('rolls back with a replace commit: a new version with exactly the given functions, history kept', async () => {
    const { store } = await open();
    const v1 = await store.commit(APP, change(0, { a: src('a1'), 'nested/b': src('b1') }));
    await store.commit(APP, change(1, { c: src('c1') }, { manifest: MANIFEST_2, delete: ['nested/b'] }));
    const v3 = await store.commit(APP, {
      expectedVersion: 2,
      manifest: v1.manifest,
      set: v1.functions,
      delete: [],
      blobs: {},
      summary: 'rollback to version 1',
      replace: true,
    });
    expect(v3).toMatchObject({ version: 3, functions: v1.functions, manifest: v1.manifest });
    expect(store.list(APP).map((d) => d.version)).toEqual([3, 2, 1]);
  });
});

describe('PostgresDeploymentStore across hosts', () => {
  it('a deploy through one host is served by the other, version and sources whole', async () => {
    const [, open] = stores[1]!;
    const { store: a, another } = await open();
    const b = (await another()) as PostgresDeploymentStore;
    const moved: [string, number][] = [];
    await b.watch((appId, deployment) => moved.push([appId, deployment.version]));
    const started = Date.now();
    const v1 = await a.commit(APP, change(0, { a: src('a1') }));
    while (!moved.length && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(moved).toEqual([[APP, 1]]);
    expect(b.current(APP)).toEqual(v1);
    expect(b.readBlob(APP, v1.functions.a!)).toBe(src('a1'));
  });
});
