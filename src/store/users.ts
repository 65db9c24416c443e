// What the host keeps of an app's users: the users and their identities, email/password
// accounts, API keys and sessions (refresh tokens). One interface (UserStore) so another backend
// (PostgreSQL) can take the file store's place; FileUserStore keeps one JSON file per app, written
// by temp file and rename (writeFileAtomic), so a crash leaves the old file or the new one.
//
// Secrets are never stored as given: passwords as scrypt hashes (passwords.ts), refresh tokens,
// API keys and confirmation/reset tokens as SHA-256 hashes (they are long random strings, so a
// fast hash is enough); compared in constant time where a guess could be timed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../manifest/write.js';

export interface UserIdentity {
  /** The provider's own id of the user (an email account's id, a JWT's sub, an API key's id). */
  id: string;
  provider_type: string;
  data?: Record<string, unknown>;
}

export interface StoredUser {
  /** 24 hex digits, like an ObjectId. */
  id: string;
  type: 'normal' | 'server';
  disabled: boolean;
  /** Metadata of the identities merged (email, name, a custom JWT's fields). */
  data: Record<string, unknown>;
  identities: UserIdentity[];
  createdAt: string;
  lastLoginAt?: string;
}

/** An email/password account (local-userpass); the user is made at its first login. */
export interface StoredPassword {
  email: string;
  /** The identity id (also the account's id). */
  id: string;
  hash: string;
  status: 'pending' | 'confirmed';
  createdAt: string;
  /** A pending confirmation: its token's hash, its id and when it expires (ms). */
  confirm?: { tokenHash: string; tokenId: string; expiresAt: number };
  /** A pending reset: its token's hash, its id, the new password's hash and when it expires (ms). */
  reset?: { tokenHash: string; tokenId: string; hash: string; expiresAt: number };
}

export interface StoredApiKey {
  id: string;
  /** The owner; a server key owns a user of type "server" made with it. */
  userId: string;
  name: string;
  keyHash: string;
  disabled: boolean;
  createdAt: string;
}

export interface StoredSession {
  id: string;
  userId: string;
  /** SHA-256 of the refresh token. */
  tokenHash: string;
  deviceId: string;
  /** The identity the session was opened with. */
  provider: string;
  createdAt: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** One app's users, sessions and keys. Every method may be backed by a database: all are async. */
export interface UserStore {
  getUser(appId: string, id: string): Promise<StoredUser | undefined>;
  findUserByIdentity(appId: string, provider: string, identityId: string): Promise<StoredUser | undefined>;
  listUsers(appId: string): Promise<StoredUser[]>;
  putUser(appId: string, user: StoredUser): Promise<void>;
  /** Removes the user and everything it owns: sessions, API keys, its email account. */
  deleteUser(appId: string, id: string): Promise<boolean>;

  getPassword(appId: string, email: string): Promise<StoredPassword | undefined>;
  findPasswordByToken(appId: string, kind: 'confirm' | 'reset', tokenId: string): Promise<StoredPassword | undefined>;
  putPassword(appId: string, account: StoredPassword): Promise<void>;
  deletePassword(appId: string, email: string): Promise<void>;

  findApiKey(appId: string, keyHash: string): Promise<StoredApiKey | undefined>;
  listApiKeys(appId: string, userId: string): Promise<StoredApiKey[]>;
  putApiKey(appId: string, key: StoredApiKey): Promise<void>;
  deleteApiKey(appId: string, id: string): Promise<void>;

  findSession(appId: string, tokenHash: string): Promise<StoredSession | undefined>;
  getSession(appId: string, id: string): Promise<StoredSession | undefined>;
  putSession(appId: string, session: StoredSession): Promise<void>;
  deleteSession(appId: string, id: string): Promise<void>;
  /** Ends every session of a user (disable, delete); returns their ids. */
  deleteSessionsOf(appId: string, userId: string): Promise<string[]>;
}

/** A new id: 4 bytes of seconds and 8 random bytes, 24 hex digits (the shape of an ObjectId). */
export function newId(): string {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  return time + randomBytes(8).toString('hex');
}

interface AppUsers {
  version: 1;
  users: Record<string, StoredUser>;
  passwords: Record<string, StoredPassword>;
  apiKeys: Record<string, StoredApiKey>;
  sessions: Record<string, StoredSession>;
}

const empty = (): AppUsers => ({ version: 1, users: {}, passwords: {}, apiKeys: {}, sessions: {} });

/** At most this many sessions per user: the oldest are ended first (a client that logs in in a loop). */
export const MAX_SESSIONS_PER_USER = 100;

/**
 * The file store: `<dir>/<appId>.json` (0600), read once, kept in memory and written whole after
 * each change. One process owns the folder (fn serve's data dir is locked; fn dev's is its own).
 */
export class FileUserStore implements UserStore {
  private readonly apps = new Map<string, AppUsers>();

  /** Writes of an app's file due at the end of this turn (save). */
  private readonly saving = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  private fileOf(appId: string): string {
    // App ids are checked names (letters, digits, - and _); anything else is encoded.
    return join(this.dir, `${encodeURIComponent(appId)}.json`);
  }

  private load(appId: string): AppUsers {
    let app = this.apps.get(appId);
    if (app) return app;
    let text: string | undefined;
    try {
      text = readFileSync(this.fileOf(appId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) app = empty();
    else {
      try {
        app = { ...empty(), ...(JSON.parse(text) as Partial<AppUsers>) };
      } catch (error) {
        throw new Error(`${this.fileOf(appId)} is not valid JSON (${(error as Error).message}): restore it or move it away`);
      }
    }
    this.apps.set(appId, app);
    return app;
  }

  /**
   * Writes the app's file once for all the changes made in this turn of the event loop: each
   * change's promise settles when the file that holds it is on disk, so concurrent logins share one
   * write instead of rewriting the whole file each (109 → 23 anonymous logins/s as a file grew).
   */
  private save(appId: string): Promise<void> {
    let saving = this.saving.get(appId);
    if (!saving) {
      saving = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.saving.delete(appId);
          try {
            writeFileAtomic(this.fileOf(appId), `${JSON.stringify(this.load(appId))}\n`, { mode: 0o600 });
            resolve();
          } catch (error) {
            reject(error);
          }
        });
      });
      this.saving.set(appId, saving);
    }
    return saving;
  }

  async getUser(appId: string, id: string): Promise<StoredUser | undefined> {
    const users = this.load(appId).users;
    return Object.hasOwn(users, id) ? users[id] : undefined;
  }

  async findUserByIdentity(appId: string, provider: string, identityId: string): Promise<StoredUser | undefined> {
    return Object.values(this.load(appId).users).find((u) => u.identities.some((i) => i.provider_type === provider && i.id === identityId));
  }

  async listUsers(appId: string): Promise<StoredUser[]> {
    return Object.values(this.load(appId).users).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async putUser(appId: string, user: StoredUser): Promise<void> {
    this.load(appId).users[user.id] = user;
    await this.save(appId);
  }

  async deleteUser(appId: string, id: string): Promise<boolean> {
    const app = this.load(appId);
    const user = Object.hasOwn(app.users, id) ? app.users[id] : undefined;
    if (!user) return false;
    delete app.users[id];
    for (const [sid, s] of Object.entries(app.sessions)) if (s.userId === id) delete app.sessions[sid];
    for (const [kid, k] of Object.entries(app.apiKeys)) if (k.userId === id) delete app.apiKeys[kid];
    for (const identity of user.identities) {
      if (identity.provider_type !== 'local-userpass') continue;
      for (const [email, p] of Object.entries(app.passwords)) if (p.id === identity.id) delete app.passwords[email];
    }
    await this.save(appId);
    return true;
  }

  async getPassword(appId: string, email: string): Promise<StoredPassword | undefined> {
    const passwords = this.load(appId).passwords;
    return Object.hasOwn(passwords, email) ? passwords[email] : undefined;
  }

  async findPasswordByToken(appId: string, kind: 'confirm' | 'reset', tokenId: string): Promise<StoredPassword | undefined> {
    return Object.values(this.load(appId).passwords).find((p) => p[kind]?.tokenId === tokenId);
  }

  async putPassword(appId: string, account: StoredPassword): Promise<void> {
    this.load(appId).passwords[account.email] = account;
    await this.save(appId);
  }

  async deletePassword(appId: string, email: string): Promise<void> {
    const app = this.load(appId);
    if (!Object.hasOwn(app.passwords, email)) return;
    delete app.passwords[email];
    await this.save(appId);
  }

  async findApiKey(appId: string, keyHash: string): Promise<StoredApiKey | undefined> {
    return Object.values(this.load(appId).apiKeys).find((k) => k.keyHash === keyHash);
  }

  async listApiKeys(appId: string, userId: string): Promise<StoredApiKey[]> {
    return Object.values(this.load(appId).apiKeys).filter((k) => k.userId === userId);
  }

  async putApiKey(appId: string, key: StoredApiKey): Promise<void> {
    this.load(appId).apiKeys[key.id] = key;
    await this.save(appId);
  }

  async deleteApiKey(appId: string, id: string): Promise<void> {
    const app = this.load(appId);
    if (!Object.hasOwn(app.apiKeys, id)) return;
    delete app.apiKeys[id];
    await this.save(appId);
  }

  async findSession(appId: string, tokenHash: string): Promise<StoredSession | undefined> {
    return Object.values(this.load(appId).sessions).find((s) => s.tokenHash === tokenHash);
  }

  async getSession(appId: string, id: string): Promise<StoredSession | undefined> {
    const sessions = this.load(appId).sessions;
    return Object.hasOwn(sessions, id) ? sessions[id] : undefined;
  }

  async putSession(appId: string, session: StoredSession): Promise<void> {
    const app = this.load(appId);
    const now = Date.now();
    // Expired sessions, and a user's oldest beyond the cap, go when a new one comes.
    const mine: StoredSession[] = [];
    for (const [sid, s] of Object.entries(app.sessions)) {
      if (s.expiresAt <= now) delete app.sessions[sid];
      else if (s.userId === session.userId) mine.push(s);
    }
    mine.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_USER + 1))) delete app.sessions[old.id];
    app.sessions[session.id] = session;
    await this.save(appId);
  }

  async deleteSession(appId: string, id: string): Promise<void> {
    const app = this.load(appId);
    if (!Object.hasOwn(app.sessions, id)) return;
    delete app.sessions[id];
    await this.save(appId);
  }

  async deleteSessionsOf(appId: string, userId: string): Promise<string[]> {
    const app = this.load(appId);
    const ended: string[] = [];
    for (const [sid, s] of Object.entries(app.sessions))
      if (s.userId === userId) {
        delete app.sessions[sid];
        ended.push(sid);
      }
    if (ended.length) await this.save(appId);
    return ended;
  }
}
