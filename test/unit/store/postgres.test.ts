// The PostgreSQL store against a real server: 127.0.0.1:5432 (trust auth) on the machines fn is
// developed and tested on (`.ci/run` starts it), or FN_TEST_POSTGRES_URL. Each test works in a
// schema of its own, dropped afterwards; two PostgresStore objects on one schema stand for two hosts.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import { PgConflict, PgCorruption, PgMissingBlobs, PostgresStore, SCHEMA_VERSION, type PgCommit } from '../../../src/store/postgres.js';

const URL = process.env.FN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Doc {
  functions: Record<string, string>;
  note: string;
}

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const opened: PostgresStore[] = [];
let schemas: string[] = [];

async function open(schema: string, migrate = true): Promise<PostgresStore> {
  const store = await PostgresStore.open({ url: URL, schema, migrate });
  opened.push(store);
  return store;
}

function freshSchema(): string {
  const schema = `fn_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

/** A commit that sets one function to `source` on top of whatever is current. */
function setFunction(name: string, source: string, expectedVersion?: number): PgCommit<Doc> {
  const hash = sha(source);
  return {
    expectedVersion,
    blobs: { [hash]: source },
    summary: `set ${name}`,
    build: (base) => ({ functions: { ...(base?.document.functions ?? {}), [name]: hash }, note: 'x' }),
    needs: (doc) => Object.values(doc.functions),
  };
}

beforeAll(async () => {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${URL} (${(error as Error).message}): start it (.ci/run does) or set FN_TEST_POSTGRES_URL`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  schemas = [];
});

afterAll(async () => {
  for (const store of opened) await store.close().catch(() => undefined);
});

describe('PostgresStore: schema', () => {
  it('migrates a new database once, even when two hosts start at the same moment', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    expect(await a.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await b.schemaVersion()).toBe(SCHEMA_VERSION);
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${schema}.fn_schema_migrations`);
    await client.end();
    expect(rows[0].n).toBe(SCHEMA_VERSION);
  });

  it('refuses a database behind unless told to migrate, and says how', async () => {
    const error = await open(freshSchema(), false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).message).toMatch(/schema is at version 0; this fn needs 1/);
    expect((error as FnError).hint).toMatch(/fn serve --migrate/);
  });

  it('names the server and exits 4 when it cannot connect, without the password', async () => {
    const error = await PostgresStore.open({ url: 'postgres://fn:s3cret@127.0.0.1:1/db', connectTimeoutMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).exitCode).toBe(4);
    expect((error as FnError).message).toMatch(/PostgreSQL at 127\.0\.0\.1:1\/db/);
    expect((error as FnError).message).not.toMatch(/s3cret/);
  });
});

describe('PostgresStore: deployments', () => {
  it('keeps immutable versions, their sources, and the current pointer', async () => {
    const store = await open(freshSchema());
    expect(await store.apps()).toEqual([]);
    expect(await store.current('shop')).toBeUndefined();
    const v1 = await store.commit('shop', setFunction('a', 'exports = () => 1;', 0));
    const v2 = await store.commit('shop', setFunction('b', 'exports = () => 2;', 1));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(await store.apps()).toEqual(['shop']);
    const current = await store.current<Doc>('shop');
    expect(current?.version).toBe(2);
    expect(Object.keys(current!.document.functions).sort()).toEqual(['a', 'b']);
    expect((await store.get<Doc>('shop', 1))?.document.functions).toEqual({ a: sha('exports = () => 1;') });
    expect((await store.list('shop')).map((v) => v.version)).toEqual([2, 1]);
    const blobs = await store.readBlobs('shop', Object.values(current!.document.functions));
    expect([...blobs.values()].sort()).toEqual(['exports = () => 1;', 'exports = () => 2;']);
    expect(await store.hasBlobs('shop', [sha('exports = () => 1;'), sha('nope')])).toEqual(new Set([sha('exports = () => 1;')]));
  });

  it('refuses a commit based on a version that is not current, and changes nothing', async () => {
    const store = await open(freshSchema());
    await store.commit('shop', setFunction('a', 'exports = () => 1;'));
    const error = await store.commit('shop', setFunction('a', 'exports = () => 9;', 0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgConflict);
    expect((error as PgConflict).currentVersion).toBe(1);
    expect((await store.current('shop'))?.version).toBe(1);
    expect(await store.hasBlobs('shop', [sha('exports = () => 9;')])).toEqual(new Set());
  });

  it('of two concurrent pushes from one base through two hosts, exactly one wins, every time', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    await a.commit('shop', setFunction('f', 'exports = () => 0;'));
    for (let round = 1; round <= 15; round++) {
      const base = (await a.current('shop'))!.version;
      const results = await Promise.allSettled([
        a.commit('shop', setFunction('f', `exports = () => 'a${round}';`, base)),
        b.commit('shop', setFunction('f', `exports = () => 'b${round}';`, base)),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(PgConflict);
      expect((await b.current('shop'))!.version).toBe(base + 1);
    }
  });

  it('refuses a version whose sources are missing, writing nothing', async () => {
    const store = await open(freshSchema());
    const error = await store
      .commit<Doc>('shop', {
        expectedVersion: undefined,
        blobs: {},
        summary: 'broken',
        build: () => ({ functions: { a: sha('never sent') }, note: '' }),
        needs: (doc) => Object.values(doc.functions),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgMissingBlobs);
    expect(await store.current('shop')).toBeUndefined();
  });

  it('refuses sources that do not match their hash', async () => {
    const store = await open(freshSchema());
    const commit = setFunction('a', 'exports = () => 1;');
    commit.blobs = { [sha('other')]: 'exports = () => 1;' };
    await expect(store.commit('shop', commit)).rejects.toBeInstanceOf(PgCorruption);
  });

  it('reports a version or a source changed behind its back instead of serving it', async () => {
    const schema = freshSchema();
    const store = await open(schema);
    await store.commit('shop', setFunction('a', 'exports = () => 1;'));
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`UPDATE ${schema}.fn_versions SET document = replace(document, '"x"', '"y"')`);
    await client.query(`UPDATE ${schema}.fn_blobs SET body = 'exports = () => 666;'`);
    await client.end();
    await expect(store.current('shop')).rejects.toBeInstanceOf(PgCorruption);
    await expect(store.readBlobs('shop', [sha('exports = () => 1;')])).rejects.toThrow(/does not match its hash/);
  });
});

describe('PostgresStore: across hosts', () => {
  it('tells every host when any host moves an app', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    const moves: [string, number][] = [];
    await b.watch((appId, version) => moves.push([appId, version]));
    await a.commit('shop', setFunction('a', 'exports = () => 1;'));
    await a.commit('blog', setFunction('a', 'exports = () => 2;'));
    const deadline = Date.now() + 2_000;
    while (moves.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect([...moves].sort()).toEqual([
      ['blog', 1],
      ['shop', 1],
    ]);
  });
});
