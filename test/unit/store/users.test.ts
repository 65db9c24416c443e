import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword, randomToken, tokenHash, verifyPassword } from '../../../src/store/passwords.js';
import { FileUserStore, MAX_SESSIONS_PER_USER, newId, type StoredUser } from '../../../src/store/users.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'fn-users-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const user = (id = newId()): StoredUser => ({
  id,
  type: 'normal',
  disabled: false,
  data: { email: 'a@b.c' },
  identities: [{ id: 'acct1', provider_type: 'local-userpass' }],
  createdAt: new Date().toISOString(),
});

describe('passwords', () => {
  it('hashes with scrypt and its parameters, and checks', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[\w-]+\$[\w-]{43}$/);
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    // An unknown account is checked against a decoy and never matches.
    expect(await verifyPassword('anything', undefined)).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });

  it('two hashes of one password differ (salted)', async () => {
    expect(await hashPassword('pw123456', { log2N: 10, r: 8, p: 1 })).not.toBe(await hashPassword('pw123456', { log2N: 10, r: 8, p: 1 }));
  });

  it('a token is stored by its hash', () => {
    const t = randomToken();
    expect(t).toHaveLength(43);
    expect(tokenHash(t)).toBe(tokenHash(t));
    expect(tokenHash(t)).not.toBe(t);
  });
});

describe('FileUserStore', () => {
  it('keeps users, accounts, keys and sessions in one 0600 file per app, read back by a new store', async () => {
    const dir = tmp();
    const store = new FileUserStore(dir);
    const u = user();
    await store.putUser('app1', u);
    await store.putPassword('app1', { email: 'a@b.c', id: 'acct1', hash: 'h', status: 'confirmed', createdAt: u.createdAt });
    await store.putApiKey('app1', {
      id: 'k1',
      userId: u.id,
      name: 'ci',
      keyHash: tokenHash('secret-key'),
      disabled: false,
      createdAt: u.createdAt,
    });
    await store.putSession('app1', {
      id: 's1',
      userId: u.id,
      tokenHash: tokenHash('refresh'),
      deviceId: 'd',
      provider: 'local-userpass',
      createdAt: u.createdAt,
      expiresAt: Date.now() + 60_000,
    });
    const file = join(dir, 'app1.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('secret-key');
    expect(text).not.toContain('"refresh"');

    const again = new FileUserStore(dir);
    expect(await again.getUser('app1', u.id)).toEqual(u);
    expect((await again.findUserByIdentity('app1', 'local-userpass', 'acct1'))?.id).toBe(u.id);
    expect((await again.findApiKey('app1', tokenHash('secret-key')))?.id).toBe('k1');
    expect((await again.findSession('app1', tokenHash('refresh')))?.id).toBe('s1');
    expect(await again.getUser('app2', u.id)).toBeUndefined();

    // Deleting a user takes its sessions, keys and email account with it.
    expect(await again.deleteUser('app1', u.id)).toBe(true);
    expect(await again.findSession('app1', tokenHash('refresh'))).toBeUndefined();
    expect(await again.findApiKey('app1', tokenHash('secret-key'))).toBeUndefined();
    expect(await again.getPassword('app1', 'a@b.c')).toBeUndefined();
    expect(await again.deleteUser('app1', u.id)).toBe(false);
  });

  it('caps the sessions of one user and drops expired ones', async () => {
    const store = new FileUserStore(tmp());
    const base = { userId: 'u', deviceId: 'd', provider: 'anon-user' };
    await store.putSession('a', { ...base, id: 'old', tokenHash: 'x', createdAt: '2000', expiresAt: Date.now() - 1 });
    for (let i = 0; i < MAX_SESSIONS_PER_USER + 5; i++)
      await store.putSession('a', {
        ...base,
        id: `s${i}`,
        tokenHash: `h${i}`,
        createdAt: String(3000 + i),
        expiresAt: Date.now() + 60_000,
      });
    expect(await store.getSession('a', 'old')).toBeUndefined();
    expect(await store.getSession('a', 's0')).toBeUndefined();
    expect(await store.getSession('a', `s${MAX_SESSIONS_PER_USER + 4}`)).toBeDefined();
    expect(await store.deleteSessionsOf('a', 'u')).toHaveLength(MAX_SESSIONS_PER_USER);
  });

  it('names the file when it is not JSON', async () => {
    const dir = tmp();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad.json'), '{nope');
    await expect(new FileUserStore(dir).listUsers('bad')).rejects.toThrow(/bad\.json is not valid JSON/);
  });
});
