import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashText } from '../../../src/manifest/hash.js';
import { FnError } from '../../../src/errors.js';
import { ConflictError, CorruptionError, FileStore, keysPath, loadServerKeys, MissingBlobError } from '../../../src/server/store.js';
import { APP, change, MANIFEST_1, MANIFEST_2, src } from './commits.js';

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function newStore(): FileStore {
  const dir = mkdtempSync(join(tmpdir(), 'fn-store-'));
  temps.push(dir);
  return new FileStore(dir);
}

const paths = (store: FileStore, appId = APP) => {
  const dir = join(store.dataDir, 'apps', encodeURIComponent(appId));
  return {
    dir,
    version: (v: number) => join(dir, 'versions', `${v}.json`),
    blob: (hash: string) => join(dir, 'blobs', hash),
    current: join(dir, 'CURRENT'),
  };
};

/** Two versions: v1 {a, nested/b}; v2 {a changed, nested/b deleted, c added}. */
async function twoVersions() {
  const store = newStore();
  const v1 = await store.commit(APP, change(0, { a: src('a1'), 'nested/b': src('b1') }));
  const v2 = await store.commit(APP, change(1, { a: src('a2'), c: src('c1') }, { manifest: MANIFEST_2, delete: ['nested/b'] }));
  return { store, v1, v2 };
}

describe('FileStore: commit, current, list', () => {
  it('starts empty', () => {
    const store = newStore();
    expect(store.apps()).toEqual([]);
    expect(store.current(APP)).toBeUndefined();
    expect(store.list(APP)).toEqual([]);
  });

  it('commits immutable versions over content-addressed sources; current is the newest', async () => {
    const { store, v1, v2 } = await twoVersions();
    expect(v1).toMatchObject({
      version: 1,
      manifest: MANIFEST_1,
      functions: { a: hashText(src('a1')), 'nested/b': hashText(src('b1')) },
      summary: 'test',
    });
    expect(v2).toMatchObject({ version: 2, manifest: MANIFEST_2, functions: { a: hashText(src('a2')), c: hashText(src('c1')) } });
    expect(Object.keys(v2.functions)).toEqual(['a', 'c']);
    expect(store.current(APP)).toEqual(v2);
    expect(store.get(APP, 1)).toEqual(v1);
    expect(store.list(APP)).toEqual([
      { version: 2, createdAt: v2.createdAt, summary: 'test', functions: 2 },
      { version: 1, createdAt: v1.createdAt, summary: 'test', functions: 2 },
    ]);
    expect(store.apps()).toEqual([APP]);
    expect(store.readBlob(APP, hashText(src('b1')))).toBe(src('b1'));
    expect(store.hasBlob(APP, hashText(src('c1')))).toBe(true);
    expect(readFileSync(paths(store).current, 'utf8')).toBe('2\n');
    expect(store.problems).toEqual([]);
  });

  it('keeps functions not named in a commit, and sources the store already has need not be sent again', async () => {
    const { store } = await twoVersions();
    const hashA2 = hashText(src('a2'));
    const v3 = await store.commit(APP, {
      expectedVersion: 2,
      manifest: MANIFEST_2,
      set: { d: hashA2 },
      delete: [],
      blobs: {},
      summary: 'reuse',
    });
    expect(v3.functions).toEqual({ a: hashA2, c: hashText(src('c1')), d: hashA2 });
    expect(readdirSync(join(paths(store).dir, 'blobs')).filter((f) => !f.endsWith('.tmp'))).toHaveLength(4);
  });

  it('an expectedVersion of undefined (If-Match: *) commits on top of whatever is current', async () => {
    const { store } = await twoVersions();
    expect((await store.commit(APP, change(undefined, { e: src('e') }))).version).toBe(3);
  });

  it('keeps apps apart, and app ids that are not file names round-trip', async () => {
    const store = newStore();
    await store.commit('alpha', change(0, { a: src('alpha') }));
    await store.commit('team/beta', change(0, { a: src('beta') }));
    expect(store.apps()).toEqual(['alpha', 'team/beta']);
    expect(store.current('alpha')!.functions.a).toBe(hashText(src('alpha')));
    expect(store.current('team/beta')!.functions.a).toBe(hashText(src('beta')));
    expect(store.hasBlob('alpha', hashText(src('beta')))).toBe(false);
  });
});

describe('FileStore: get', () => {
  it('a version that was never made is undefined, and not a store problem', async () => {
    const { store } = await twoVersions();
    expect(store.get(APP, 9)).toBeUndefined();
    expect(store.problems).toEqual([]);
  });

  it('a version that was never made is undefined', async () => {
    const { store } = await twoVersions();
    expect(store.get(APP, 9)).toBeUndefined();
    expect(store.get(APP, 0)).toBeUndefined();
  });
});

describe('FileStore: If-Match', () => {
  it('refuses a commit based on a version that is not current, with the current version, writing nothing', async () => {
    const { store } = await twoVersions();
    const before = readdirSync(join(paths(store).dir, 'blobs')).sort();
    const attempt = store.commit(APP, change(1, { x: src('lost') }));
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ currentVersion: 2 });
    expect(store.current(APP)!.version).toBe(2);
    expect(existsSync(paths(store).version(3))).toBe(false);
    expect(readdirSync(join(paths(store).dir, 'blobs')).sort()).toEqual(before);
    await expect(store.commit('new-app', change(1, { x: src('x') }))).rejects.toMatchObject({ currentVersion: 0 });
  });

  it('of two commits from the same base, exactly one wins; the other gets the conflict', async () => {
    const { store } = await twoVersions();
    const results = await Promise.allSettled([
      store.commit(APP, change(2, { a: src('left') })),
      store.commit(APP, change(2, { c: src('right') })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect((results[1] as PromiseRejectedResult).reason.currentVersion).toBe(3);
    expect(store.current(APP)!.functions.a).toBe(hashText(src('left')));
    expect(store.current(APP)!.functions.c).toBe(hashText(src('c1')));
    // A commit that fails does not block the ones after it.
    expect((await store.commit(APP, change(3, { c: src('right') }))).version).toBe(4);
  });
});

describe('FileStore: missing and corrupt data', () => {
  it('refuses a commit naming a source it does not have and was not sent (MissingBlobError)', async () => {
    const { store } = await twoVersions();
    const missing = 'f'.repeat(64);
    const attempt = store.commit(APP, {
      expectedVersion: 2,
      manifest: MANIFEST_2,
      set: { a: missing },
      delete: [],
      blobs: {},
      summary: '',
    });
    await expect(attempt).rejects.toBeInstanceOf(MissingBlobError);
    await expect(attempt).rejects.toMatchObject({ hashes: [missing] });
    expect(store.current(APP)!.version).toBe(2);
  });

  it('refuses a sent source that does not match its hash', async () => {
    const { store } = await twoVersions();
    const wrong = hashText(src('claimed'));
    await expect(
      store.commit(APP, {
        expectedVersion: 2,
        manifest: MANIFEST_2,
        set: { a: wrong },
        delete: [],
        blobs: { [wrong]: src('actual') },
        summary: '',
      }),
    ).rejects.toBeInstanceOf(CorruptionError);
    expect(store.hasBlob(APP, wrong)).toBe(false);
    expect(store.current(APP)!.version).toBe(2);
  });

  it('refuses hashes that are not sha256 hex (no paths out of the blob folder)', async () => {
    const store = newStore();
    expect(store.hasBlob(APP, '../CURRENT')).toBe(false);
    expect(() => store.readBlob(APP, '../../../etc/passwd')).toThrow(CorruptionError);
  });

  it('a version file edited after the fact fails its checksum: reported, and the previous version is served', async () => {
    const { store, v1 } = await twoVersions();
    const file = paths(store).version(2);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    stored.manifest = stored.manifest.replace('true', 'false');
    writeFileSync(file, JSON.stringify(stored));
    expect(store.current(APP)).toEqual(v1);
    expect(store.problems).toEqual([expect.stringMatching(/version 2 does not match its checksum; serving an older version/)]);
    expect(store.get(APP, 2)).toBeUndefined();
    expect(store.list(APP).map((d) => d.version)).toEqual([1]);
  });

  it('a truncated version file is detected and the previous version served', async () => {
    const { store, v1 } = await twoVersions();
    truncateSync(paths(store).version(2), 40);
    expect(store.current(APP)).toEqual(v1);
    expect(store.problems.join('\n')).toMatch(/version 2 is not valid JSON \(corrupt or truncated\)/);
  });

  it('a missing or truncated source is detected by its hash; a version using it is not served', async () => {
    const { store, v1 } = await twoVersions();
    const c = hashText(src('c1'));
    truncateSync(paths(store).blob(c), 5);
    expect(() => store.readBlob(APP, c)).toThrow(/does not match its hash \(corrupt or truncated\)/);
    // Version 2 needs c; version 1 does not.
    expect(store.current(APP)).toEqual(v1);
    expect(store.problems.join('\n')).toMatch(new RegExp(`${APP} version 2: the source ${c.slice(0, 12)} does not match its hash`));
    rmSync(paths(store).blob(c));
    expect(() => store.readBlob(APP, c)).toThrow(/is missing/);
    expect(store.current(APP)).toEqual(v1);
  });

  it('a sent source replaces a corrupt copy of it, so the new version is whole', async () => {
    const { store } = await twoVersions();
    const c = hashText(src('c1'));
    truncateSync(paths(store).blob(c), 5);
    // Version 2 uses the damaged source, so version 1 is served and is the base to build on.
    const v3 = await store.commit(APP, change(1, { c: src('c1') }));
    expect(v3.version).toBe(3);
    expect(store.readBlob(APP, c)).toBe(src('c1'));
    expect(store.current(APP)).toEqual(v3);
  });

  it('serves nothing when no version is whole', async () => {
    const store = newStore();
    const v1 = await store.commit(APP, change(0, { a: src('a1') }));
    writeFileSync(paths(store).blob(v1.functions.a!), 'garbage');
    expect(store.current(APP)).toBeUndefined();
    expect(store.problems).toHaveLength(1);
  });

  it('after a crash between the version file and the pointer, the half-made version is ignored, then replaced', async () => {
    const { store, v2 } = await twoVersions();
    // What a kill -9 before the rename of CURRENT leaves: version 3 written, the pointer at 2.
    writeFileSync(paths(store).version(3), '{"version":3,"trunc');
    writeFileSync(`${paths(store).current}.123.abcd.tmp`, '3\n');
    expect(store.current(APP)).toEqual(v2);
    expect(store.list(APP).map((d) => d.version)).toEqual([2, 1]);
    expect(store.problems).toEqual([]);
    const v3 = await store.commit(APP, change(2, { a: src('a3') }));
    expect(v3.version).toBe(3);
    expect(store.current(APP)).toEqual(v3);
    expect(store.problems).toEqual([]);
  });

  it('a pointer that is not a version number reads as nothing deployed', async () => {
    const { store } = await twoVersions();
    writeFileSync(paths(store).current, 'x\n');
    expect(store.current(APP)).toBeUndefined();
  });
});

describe('FileStore: rollback via replace', () => {
  it('a replace commit is a new version with exactly the given functions and manifest', async () => {
    const { store, v1 } = await twoVersions();
    const v3 = await store.commit(APP, {
      expectedVersion: 2,
      manifest: v1.manifest,
      set: v1.functions,
      delete: [],
      blobs: {},
      summary: 'rollback to version 1',
      replace: true,
    });
    expect(v3).toMatchObject({ version: 3, manifest: v1.manifest, functions: v1.functions, summary: 'rollback to version 1' });
    expect(store.current(APP)).toEqual(v3);
    // History is kept: version 2 is still there to roll forward to.
    expect(store.list(APP).map((d) => d.version)).toEqual([3, 2, 1]);
    expect(store.get(APP, 2)!.functions).toHaveProperty('c');
  });

  it('a rollback is guarded by If-Match like any commit', async () => {
    const { store, v1 } = await twoVersions();
    await expect(
      store.commit(APP, {
        expectedVersion: 1,
        manifest: v1.manifest,
        set: v1.functions,
        delete: [],
        blobs: {},
        summary: '',
        replace: true,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('loadServerKeys: the host keys kept in the data dir', () => {
  let n = 0;
  const generate = () => `generated-secret-number-${++n}`;
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'fn-keys-'));
    temps.push(dir);
    return dir;
  };
  const file = (dir: string) => JSON.parse(readFileSync(keysPath(dir), 'utf8'));

  it('makes both on the first start, then reads the same ones back', () => {
    const dir = newDir();
    const first = loadServerKeys(dir, { generate });
    expect(first).toMatchObject({ serviceKeyFrom: 'new', path: keysPath(dir) });
    expect(statSync(keysPath(dir)).mode & 0o777).toBe(0o600);
    const again = loadServerKeys(dir, { generate });
    expect(again).toEqual({ ...first, serviceKeyFrom: 'kept' });
  });

  it('uses a given key without writing it, keeping a key made before for later', () => {
    const dir = newDir();
    const made = loadServerKeys(dir, { generate });
    const given = loadServerKeys(dir, { serviceKey: 'given', generate });
    expect(given).toMatchObject({ serviceKey: 'given', serviceKeyFrom: 'given', jwtSecret: made.jwtSecret });
    expect(file(dir)).toEqual({ serviceKey: made.serviceKey, jwtSecret: made.jwtSecret });
    expect(loadServerKeys(dir, { generate }).serviceKey).toBe(made.serviceKey);
  });

  it('rotates both; with a given key, the kept key is dropped and only the secret is kept', () => {
    const dir = newDir();
    const made = loadServerKeys(dir, { generate });
    const rotated = loadServerKeys(dir, { rotate: true, generate });
    expect(rotated.serviceKey).not.toBe(made.serviceKey);
    expect(rotated.jwtSecret).not.toBe(made.jwtSecret);
    loadServerKeys(dir, { rotate: true, serviceKey: 'given', generate });
    expect(Object.keys(file(dir))).toEqual(['jwtSecret']);
  });

  it('closes a keys file left readable by others', () => {
    const dir = newDir();
    loadServerKeys(dir, { generate });
    chmodSync(keysPath(dir), 0o644);
    loadServerKeys(dir, { generate });
    expect(statSync(keysPath(dir)).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['not JSON', '{"jwtSecret":'],
    ['without a secret', '{"serviceKey":"k"}'],
    ['with an empty key', '{"serviceKey":"","jwtSecret":"0123456789abcdef0123"}'],
  ])('refuses a file %s (exit 3), naming --rotate-keys', (_what, text) => {
    const dir = newDir();
    writeFileSync(keysPath(dir), text);
    let error: unknown;
    try {
      loadServerKeys(dir, { generate });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).exitCode).toBe(3);
    expect((error as FnError).hint).toContain('--rotate-keys');
  });
});
