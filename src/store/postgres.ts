// The PostgreSQL store: what `fn serve --store postgres://…` keeps in a database several hosts
// share. It holds apps, their immutable versions (a JSON document each, with its checksum),
// content-addressed sources and the current-version pointer, and tells every host when a pointer
// moves (LISTEN/NOTIFY, with a poll as fallback). What a version holds is the caller's business:
// the store builds the next version inside the transaction that holds the app's row, so two
// commits from one base through two hosts never both win.
//
// Schema changes are numbered migrations run in one transaction under an advisory lock: a host
// that starts while another migrates waits, and a migration is applied whole or not at all.
// `pg` is loaded on first use; nothing else of fn loads it.
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { FnError } from '../errors.js';

/** A version as stored: its number, when, a one-line summary, and the document the caller built. */
export interface StoredVersion<D> {
  version: number;
  createdAt: string;
  summary: string;
  document: D;
}

export interface PgCommit<D> {
  /** The version the change is based on; the commit fails with PgConflict when it is not current. */
  expectedVersion: number | undefined;
  /** Source texts by sha256 (hex) of their UTF-8 text, for hashes the store may not have yet. */
  blobs: Record<string, string>;
  summary: string;
  /** Builds the new version's document from the current one (undefined: the app has none yet). */
  build: (base: StoredVersion<D> | undefined, version: number, createdAt: string) => D;
  /** The blob hashes the new document needs; the commit fails with PgMissingBlobs if any is absent. */
  needs: (document: D) => string[];
}

export class PgConflict extends Error {
  constructor(readonly currentVersion: number) {
    super(`the app is at version ${currentVersion}`);
  }
}

export class PgMissingBlobs extends Error {
  constructor(readonly hashes: string[]) {
    super(`sources missing for ${hashes.length} function(s)`);
  }
}

export class PgCorruption extends Error {}

/** One migration: applied once, in order, in the transaction of all pending ones. */
interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE fn_apps (
        app_id text PRIMARY KEY,
        current_version integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE fn_versions (
        app_id text NOT NULL REFERENCES fn_apps (app_id),
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        summary text NOT NULL,
        document text NOT NULL,
        checksum text NOT NULL,
        PRIMARY KEY (app_id, version)
      );
      CREATE TABLE fn_blobs (
        app_id text NOT NULL REFERENCES fn_apps (app_id),
        hash text NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (app_id, hash)
      );`,
  },
];

/** The newest schema version this fn knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The channel a moved pointer is announced on: payload `<version> <app id>`. */
const CHANNEL = 'fn_deployments';
/** A key of pg_advisory_xact_lock for migrations: any fixed 64-bit number fn alone uses. */
const MIGRATION_LOCK = 0x666e5f6d6967; // "fn_mig"
/** How often hosts also poll for moved pointers, in case a notification was missed (ms). */
export const POLL_MS = 500;
const HASH = /^[0-9a-f]{64}$/;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export interface PgStoreOptions {
  /** The connection string (postgres://…). Never from a committed file: a flag or FN_STORE_URL. */
  url: string;
  /**
   * A schema of its own (tests, or several fn installations in one database); default public, or
   * the URL's `?schema=<name>`.
   */
  schema?: string;
  /** Run pending migrations on open (under the lock). When false, a database behind fails to open. */
  migrate?: boolean;
  /** Fail a connection attempt after this long (ms). */
  connectTimeoutMs?: number;
}

export class PostgresStore {
  private listener: PoolClient | undefined;
  private poller: NodeJS.Timeout | undefined;
  private pointers = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    readonly schema: string,
  ) {}

  /** Connects, checks (or brings up to date) the schema, and returns the store. */
  static async open(options: PgStoreOptions): Promise<PostgresStore> {
    const { default: pg } = await import('pg');
    const { url, schema: fromUrl } = schemaOfUrl(options.url);
    const schema = options.schema ?? fromUrl ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new FnError('USAGE', `bad store schema name "${schema}"`);
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      // Every connection works in fn's schema.
      options: `-c search_path=${schema}`,
    });
    // A connection that breaks while idle is dropped by the pool; it must not end the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, schema);
    try {
      await store.prepare(options.migrate ?? true);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw unreachable(error, options.url);
    }
    return store;
  }

  private async prepare(migrate: boolean): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      if (this.schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query('CREATE TABLE IF NOT EXISTS fn_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)');
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM fn_schema_migrations')).rows.map((r) => Number(r.version)),
      );
      const newest = Math.max(0, ...done);
      if (newest > SCHEMA_VERSION)
        throw new FnError('USAGE', `the store's schema is at version ${newest}, newer than this fn knows (${SCHEMA_VERSION})`, {
          hint: 'upgrade fn on this host to the version the other hosts run',
        });
      const pending = MIGRATIONS.filter((m) => !done.has(m.version));
      if (pending.length && !migrate)
        throw new FnError('USAGE', `the store's schema is at version ${newest}; this fn needs ${SCHEMA_VERSION}`, {
          hint: 'run fn serve --migrate once (migrations run in one transaction, under a lock)',
        });
      for (const m of pending) {
        await client.query(m.sql);
        await client.query('INSERT INTO fn_schema_migrations (version, applied_at) VALUES ($1, now())', [m.version]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The schema version the database is at. */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ v: number | null }>('SELECT max(version) AS v FROM fn_schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }

  async apps(): Promise<string[]> {
    const { rows } = await this.pool.query<{ app_id: string }>('SELECT app_id FROM fn_apps WHERE current_version > 0 ORDER BY app_id');
    return rows.map((r) => r.app_id);
  }

  /** The current version of each app, for a host that starts or catches up. */
  async pointersNow(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ app_id: string; current_version: number }>(
      'SELECT app_id, current_version FROM fn_apps WHERE current_version > 0',
    );
    return new Map(rows.map((r) => [r.app_id, Number(r.current_version)]));
  }

  async current<D>(appId: string): Promise<StoredVersion<D> | undefined> {
    const { rows } = await this.pool.query<VersionRow>(
      `SELECT v.version, v.created_at, v.summary, v.document, v.checksum
         FROM fn_apps a JOIN fn_versions v ON v.app_id = a.app_id AND v.version = a.current_version
        WHERE a.app_id = $1`,
      [appId],
    );
    return rows[0] && readVersion<D>(appId, rows[0]);
  }

  async get<D>(appId: string, version: number): Promise<StoredVersion<D> | undefined> {
    const { rows } = await this.pool.query<VersionRow>(
      'SELECT version, created_at, summary, document, checksum FROM fn_versions WHERE app_id = $1 AND version = $2',
      [appId, version],
    );
    return rows[0] && readVersion<D>(appId, rows[0]);
  }

  /** Versions up to the current one, newest first. */
  async list<D>(appId: string): Promise<StoredVersion<D>[]> {
    const { rows } = await this.pool.query<VersionRow>(
      `SELECT v.version, v.created_at, v.summary, v.document, v.checksum
         FROM fn_versions v JOIN fn_apps a ON a.app_id = v.app_id
        WHERE v.app_id = $1 AND v.version <= a.current_version ORDER BY v.version DESC`,
      [appId],
    );
    return rows.map((r) => readVersion<D>(appId, r));
  }

  /** Which of these hashes the store has for the app. */
  async hasBlobs(appId: string, hashes: string[]): Promise<Set<string>> {
    const wanted = hashes.filter((h) => HASH.test(h));
    if (!wanted.length) return new Set();
    const { rows } = await this.pool.query<{ hash: string }>('SELECT hash FROM fn_blobs WHERE app_id = $1 AND hash = ANY($2)', [
      appId,
      wanted,
    ]);
    return new Set(rows.map((r) => r.hash));
  }

  async readBlobs(appId: string, hashes: string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(hashes)];
    for (const h of wanted) if (!HASH.test(h)) throw new PgCorruption(`bad source hash ${JSON.stringify(h)}`);
    const { rows } = await this.pool.query<{ hash: string; body: string }>(
      'SELECT hash, body FROM fn_blobs WHERE app_id = $1 AND hash = ANY($2)',
      [appId, wanted],
    );
    const out = new Map<string, string>();
    for (const r of rows) {
      if (sha256(r.body) !== r.hash) throw new PgCorruption(`the source ${r.hash.slice(0, 12)} does not match its hash`);
      out.set(r.hash, r.body);
    }
    const missing = wanted.filter((h) => !out.has(h));
    if (missing.length) throw new PgCorruption(`the source ${missing[0]!.slice(0, 12)} is missing`);
    return out;
  }

  /**
   * One deploy, atomically: the app's row is locked for the transaction, so commits of one app
   * through any number of hosts run one after another; the precondition is checked against the
   * pointer under that lock; sources, the version and the pointer are written together; the
   * notification is sent at commit.
   */
  async commit<D>(appId: string, commit: PgCommit<D>): Promise<StoredVersion<D>> {
    for (const [hash, text] of Object.entries(commit.blobs))
      if (!HASH.test(hash) || sha256(text) !== hash) throw new PgCorruption(`a sent source does not match its hash ${hash.slice(0, 12)}`);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO fn_apps (app_id) VALUES ($1) ON CONFLICT (app_id) DO NOTHING', [appId]);
      const { rows } = await client.query<{ current_version: number; newest: number | null }>(
        `SELECT a.current_version, (SELECT max(version) FROM fn_versions WHERE app_id = a.app_id) AS newest
           FROM fn_apps a WHERE a.app_id = $1 FOR UPDATE`,
        [appId],
      );
      const currentVersion = Number(rows[0]!.current_version);
      if (commit.expectedVersion !== undefined && commit.expectedVersion !== currentVersion) throw new PgConflict(currentVersion);
      let base: StoredVersion<D> | undefined;
      if (currentVersion > 0) {
        const found = await client.query<VersionRow>(
          'SELECT version, created_at, summary, document, checksum FROM fn_versions WHERE app_id = $1 AND version = $2',
          [appId, currentVersion],
        );
        base = found.rows[0] && readVersion<D>(appId, found.rows[0]);
      }
      for (const [hash, text] of Object.entries(commit.blobs))
        await client.query('INSERT INTO fn_blobs (app_id, hash, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [appId, hash, text]);
      // Version numbers only grow, past any version a rolled-back pointer left above it.
      const version = Math.max(currentVersion, Number(rows[0]!.newest ?? 0)) + 1;
      const createdAt = new Date().toISOString();
      const document = commit.build(base, version, createdAt);
      const needed = [...new Set(commit.needs(document))];
      if (needed.length) {
        const have = await client.query<{ hash: string }>('SELECT hash FROM fn_blobs WHERE app_id = $1 AND hash = ANY($2)', [
          appId,
          needed,
        ]);
        const present = new Set(have.rows.map((r) => r.hash));
        const missing = needed.filter((h) => !present.has(h));
        if (missing.length) throw new PgMissingBlobs(missing);
      }
      const text = JSON.stringify(document);
      await client.query(
        'INSERT INTO fn_versions (app_id, version, created_at, summary, document, checksum) VALUES ($1, $2, $3, $4, $5, $6)',
        [appId, version, createdAt, commit.summary, text, sha256(text)],
      );
      await client.query('UPDATE fn_apps SET current_version = $2, updated_at = now() WHERE app_id = $1', [appId, version]);
      await client.query('SELECT pg_notify($1, $2)', [this.channel, `${version} ${appId}`]);
      await client.query('COMMIT');
      return { version, createdAt, summary: commit.summary, document };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private get channel(): string {
    return this.schema === 'public' ? CHANNEL : `${CHANNEL}_${this.schema}`;
  }

  /**
   * Calls `onMove(appId, version)` whenever an app's current version changes, whichever host moved
   * it: at once by LISTEN/NOTIFY, and by a poll every POLL_MS in case a notification was lost (a
   * dropped connection is opened again). Each move is reported once per new version.
   */
  async watch(onMove: (appId: string, version: number) => void): Promise<void> {
    this.pointers = await this.pointersNow();
    const seen = (appId: string, version: number) => {
      if ((this.pointers.get(appId) ?? 0) === version) return;
      this.pointers.set(appId, version);
      onMove(appId, version);
    };
    const listen = async (): Promise<void> => {
      if (this.closed) return;
      try {
        const client = await this.pool.connect();
        this.listener = client;
        client.on('notification', (n) => {
          const payload = n.payload ?? '';
          const space = payload.indexOf(' ');
          if (space > 0) seen(payload.slice(space + 1), Number(payload.slice(0, space)));
        });
        client.on('error', () => {
          this.listener = undefined;
          client.release(true);
          setTimeout(() => void listen(), POLL_MS).unref();
        });
        await client.query(`LISTEN ${this.channel}`);
      } catch {
        this.listener = undefined;
        setTimeout(() => void listen(), POLL_MS).unref();
      }
    };
    await listen();
    const poll = async () => {
      try {
        for (const [appId, version] of await this.pointersNow()) seen(appId, version);
      } catch {
        // The database is away: loaded versions keep being served; the next poll tries again.
      }
    };
    this.poller = setInterval(() => void poll(), POLL_MS);
    this.poller.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    if (this.listener) {
      this.listener.removeAllListeners('notification');
      this.listener.release();
      this.listener = undefined;
    }
    await this.pool.end();
  }

  /** Drops the store's schema (tests; never public). */
  async dropSchema(): Promise<void> {
    if (this.schema === 'public') throw new Error('refusing to drop the public schema');
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }
}

interface VersionRow {
  version: number;
  created_at: Date;
  summary: string;
  document: string;
  checksum: string;
}

function readVersion<D>(appId: string, row: VersionRow): StoredVersion<D> {
  if (sha256(row.document) !== row.checksum) throw new PgCorruption(`${appId} version ${row.version} does not match its checksum`);
  return {
    version: Number(row.version),
    createdAt: new Date(row.created_at).toISOString(),
    summary: row.summary,
    document: JSON.parse(row.document) as D,
  };
}

/** The URL without its `?schema=` (not a PostgreSQL parameter), and that schema. */
function schemaOfUrl(url: string): { url: string; schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  const schema = u.searchParams.get('schema');
  if (schema === null) return { url };
  u.searchParams.delete('schema');
  return { url: u.toString(), schema };
}

/** A store URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** A connection failure as an error that names the server (never the password) and what to check. */
function unreachable(error: unknown, url: string): unknown {
  if (error instanceof FnError) return error;
  let where = 'the PostgreSQL store';
  try {
    const u = new URL(url);
    where = `PostgreSQL at ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    // Not a URL: keep the generic name.
  }
  return new FnError('REMOTE_UNREACHABLE', `cannot open ${where}: ${(error as Error)?.message ?? String(error)}`, {
    hint: 'check --store (or FN_STORE_URL), that the server runs, and the credentials',
    cause: error,
  });
}
