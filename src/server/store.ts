// Deployments of apps. Every deployment is an immutable version (the manifest text and a content
// hash per function) over content-addressed sources; a pointer names the current version. The
// pointer moves by rename, so a reader sees the old version or the new one, never a mix, and a
// crash at any moment leaves the last complete version current. Everything read back is checked
// against its hash: a corrupt or truncated file is reported, never served.
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FnError } from '../errors.js';
import { canonicalJson, hashText } from '../manifest/hash.js';
import { syncDir, TEMP_FILE, writeFileAtomic } from '../manifest/write.js';

export interface Deployment {
  version: number;
  createdAt: string;
  summary: string;
  /** The functions/config.json text. */
  manifest: string;
  /** Function name → sha256 of its source. */
  functions: Record<string, string>;
  /** values/<file>.json texts by file name; absent in versions deployed before values were. */
  values?: Record<string, string>;
  /** context.environment: the tag and values of environments/<tag>.json; absent when empty. */
  environment?: { tag: string; values: Record<string, unknown> };
  /** The data source files (data_sources/**: config.json, rules): path → text. Never connection strings. */
  dataSources?: Record<string, string>;
  /** The endpoint and webhook files (http_endpoints/**, services/<svc>/incoming_webhooks/**): path → text. */
  httpEndpoints?: Record<string, string>;
  /** The npm packages of the functions: a set kept by hash (dependency-store.ts); absent: none. */
  dependencies?: { hash: string; packages: number };
  /** The trigger files (triggers/<name>.json): path → text; absent when the app has none. */
  triggers?: Record<string, string>;
}

export interface DeploymentSummary {
  version: number;
  createdAt: string;
  summary: string;
  functions: number;
}

export interface Commit {
  /** The version the change is based on; the commit fails with a conflict when it is not current. */
  expectedVersion: number | undefined;
  manifest: string;
  /** Functions added or changed: name → source hash. */
  set: Record<string, string>;
  /** Functions removed. */
  delete: string[];
  /** Source texts by hash, for hashes the store does not have yet. */
  blobs: Record<string, string>;
  summary: string;
  /** Replace every function (a rollback): set holds them all. */
  replace?: boolean;
  /** The values files of the new version; when absent it keeps those of the version it is based on. */
  values?: Record<string, string>;
  /** The data source files; undefined keeps the current version's. */
  dataSources?: Record<string, string>;
  /** The trigger files; undefined keeps the current version's. */
  triggers?: Record<string, string>;
  /** The environment of the new version; when absent it keeps that of the version it is based on. */
  environment?: { tag: string; values: Record<string, unknown> };
  /** The endpoint and webhook files; undefined keeps the current version's. */
  httpEndpoints?: Record<string, string>;
  /** The packages of the new version; undefined keeps the base's, null removes them. */
  dependencies?: { hash: string; packages: number } | null;
}

export class ConflictError extends Error {
  constructor(readonly currentVersion: number) {
    super(`the app is at version ${currentVersion}`);
  }
}

export class CorruptionError extends Error {}

export class MissingBlobError extends Error {
  constructor(readonly hashes: string[]) {
    super(`sources missing for ${hashes.length} function(s)`);
  }
}

/** The interface another backend (a database, an object store) would implement. */
export interface DeploymentStore {
  apps(): string[];
  current(appId: string): Deployment | undefined;
  get(appId: string, version: number): Deployment | undefined;
  list(appId: string): DeploymentSummary[];
  hasBlob(appId: string, hash: string): boolean;
  readBlob(appId: string, hash: string): string;
  commit(appId: string, commit: Commit): Promise<Deployment>;
}

/**
 * The version a commit makes on top of `base` (the current version, if any): the functions of the
 * base with the commit's changes (or only the commit's, for a rollback), and each other part from
 * the commit or, when the commit leaves it out, from the base. Every store builds versions this way.
 */
export function nextDeployment(base: Deployment | undefined, commit: Commit, version: number, createdAt: string): Deployment {
  const functions: Record<string, string> = commit.replace ? {} : { ...(base?.functions ?? {}) };
  for (const name of commit.delete) delete functions[name];
  for (const [name, hash] of Object.entries(commit.set)) functions[name] = hash;
  const deployment: Deployment = {
    version,
    createdAt,
    summary: commit.summary,
    manifest: commit.manifest,
    functions: sortedRecord(functions),
  };
  const values = commit.values ?? base?.values;
  if (values && Object.keys(values).length) deployment.values = sortedRecord(values);
  const environment = commit.environment ?? base?.environment;
  if (environment && (environment.tag !== '' || Object.keys(environment.values).length)) deployment.environment = environment;
  const dataSources = commit.dataSources ?? base?.dataSources;
  if (dataSources && Object.keys(dataSources).length) deployment.dataSources = sortedRecord(dataSources);
  const httpEndpoints = commit.httpEndpoints ?? base?.httpEndpoints;
  if (httpEndpoints && Object.keys(httpEndpoints).length) deployment.httpEndpoints = sortedRecord(httpEndpoints);
  const dependencies = commit.dependencies === undefined ? base?.dependencies : commit.dependencies;
  if (dependencies) deployment.dependencies = { hash: dependencies.hash, packages: dependencies.packages };
  const triggers = commit.triggers ?? base?.triggers;
  if (triggers && Object.keys(triggers).length) deployment.triggers = sortedRecord(triggers);
  return deployment;
}

/** The blob hashes a version needs. */
export function blobsOf(deployment: Deployment): string[] {
  return [...new Set(Object.values(deployment.functions))];
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface StoredVersion extends Deployment {
  /** sha256 of the canonical JSON of the other fields. */
  checksum: string;
}

/** The embedded default: one folder per app under the data dir. */
export class FileStore implements DeploymentStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Problems found while reading the store (corrupt files), for the server to report. */
  readonly problems: string[] = [];

  /** What the last lock() collected: orphan temp files and blobs no version references. */
  collected: { tempFiles: number; blobs: number } = { tempFiles: 0, blobs: 0 };
  private held: DataDirLock | undefined;

  constructor(readonly dataDir: string) {
    mkdirSync(join(dataDir, 'apps'), { recursive: true });
  }

  /**
   * Takes the data dir for this process alone (see lockDataDir), then collects what crashes and
   * full disks left behind: temp files of interrupted writes, and blobs no version references.
   */
  lock(): void {
    if (this.held) return;
    this.held = lockDataDir(this.dataDir);
    this.collected = this.collect();
  }

  /** Gives the data dir back (the lock file is removed). */
  unlock(): void {
    this.held?.release();
    this.held = undefined;
  }

  /** Only while the lock is held: no other writer can be in the middle of a write. */
  private collect(): { tempFiles: number; blobs: number } {
    let tempFiles = 0;
    let blobs = 0;
    const removeTemps = (dir: string) => {
      for (const name of safeList(dir)) {
        if (!TEMP_FILE.test(name)) continue;
        rmSync(join(dir, name), { force: true });
        tempFiles++;
      }
    };
    removeTemps(this.dataDir);
    for (const entry of safeList(join(this.dataDir, 'apps'))) {
      const dir = join(this.dataDir, 'apps', entry);
      for (const sub of [dir, join(dir, 'versions'), join(dir, 'blobs')]) removeTemps(sub);
      // Sets of packages half unpacked (dependency-store.ts): folders and archives.
      for (const name of safeList(join(dir, 'deps'))) {
        if (!TEMP_FILE.test(name)) continue;
        rmSync(join(dir, 'deps', name), { recursive: true, force: true });
        tempFiles++;
      }
      // A blob is garbage only when every version file could be read and none names it; one
      // unreadable version keeps all of the app's blobs.
      const referenced = new Set<string>();
      let whole = true;
      for (const file of safeList(join(dir, 'versions'))) {
        if (!file.endsWith('.json')) continue;
        try {
          const v = JSON.parse(readFileSync(join(dir, 'versions', file), 'utf8')) as Partial<Deployment>;
          for (const hash of Object.values(v.functions ?? {})) referenced.add(hash);
        } catch {
          whole = false;
        }
      }
      if (!whole) continue;
      for (const hash of safeList(join(dir, 'blobs'))) {
        if (!/^[0-9a-f]{64}$/.test(hash) || referenced.has(hash)) continue;
        rmSync(join(dir, 'blobs', hash), { force: true });
        blobs++;
      }
    }
    return { tempFiles, blobs };
  }

  private appDir(appId: string): string {
    return join(this.dataDir, 'apps', encodeURIComponent(appId));
  }

  apps(): string[] {
    try {
      return readdirSync(join(this.dataDir, 'apps'))
        .map((d) => decodeURIComponent(d))
        .sort();
    } catch {
      return [];
    }
  }

  private pointer(appId: string): number {
    try {
      const n = Number(readFileSync(join(this.appDir(appId), 'CURRENT'), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  /** The current version, or the newest older one that is whole when it is damaged (reported). */
  current(appId: string): Deployment | undefined {
    for (let v = this.pointer(appId); v > 0; v--) {
      try {
        const d = this.read(appId, v);
        for (const hash of new Set(Object.values(d.functions))) this.readBlob(appId, hash);
        return d;
      } catch (error) {
        this.report(`${appId} version ${v}: ${(error as Error).message}; serving an older version`);
      }
    }
    return undefined;
  }

  get(appId: string, version: number): Deployment | undefined {
    if (!existsSync(join(this.appDir(appId), 'versions', `${version}.json`))) return undefined;
    try {
      return this.read(appId, version);
    } catch (error) {
      if (error instanceof CorruptionError) this.report(`${appId} version ${version}: ${error.message}`);
      return undefined;
    }
  }

  list(appId: string): DeploymentSummary[] {
    const out: DeploymentSummary[] = [];
    for (let v = this.pointer(appId); v > 0; v--) {
      const d = this.get(appId, v);
      if (d) out.push({ version: d.version, createdAt: d.createdAt, summary: d.summary, functions: Object.keys(d.functions).length });
    }
    return out;
  }

  hasBlob(appId: string, hash: string): boolean {
    return /^[0-9a-f]{64}$/.test(hash) && existsSync(join(this.appDir(appId), 'blobs', hash));
  }

  readBlob(appId: string, hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new CorruptionError(`bad source hash ${JSON.stringify(hash)}`);
    let text: string;
    try {
      text = readFileSync(join(this.appDir(appId), 'blobs', hash), 'utf8');
    } catch {
      throw new CorruptionError(`the source ${hash.slice(0, 12)} is missing`);
    }
    if (hashText(text) !== hash)
      throw new CorruptionError(`the source ${hash.slice(0, 12)} does not match its hash (corrupt or truncated)`);
    return text;
  }

  private blobIsWhole(appId: string, hash: string): boolean {
    try {
      this.readBlob(appId, hash);
      return true;
    } catch {
      return false;
    }
  }

  private read(appId: string, version: number): Deployment {
    let raw: string;
    try {
      raw = readFileSync(join(this.appDir(appId), 'versions', `${version}.json`), 'utf8');
    } catch {
      throw new CorruptionError(`version ${version} is missing`);
    }
    let stored: StoredVersion;
    try {
      stored = JSON.parse(raw) as StoredVersion;
    } catch {
      throw new CorruptionError(`version ${version} is not valid JSON (corrupt or truncated)`);
    }
    const { checksum, ...deployment } = stored;
    if (checksum !== hashText(canonicalJson(deployment))) throw new CorruptionError(`version ${version} does not match its checksum`);
    return deployment;
  }

  private report(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  /** Deploys atomically: sources first, then the immutable version file, then the pointer. */
  commit(appId: string, commit: Commit): Promise<Deployment> {
    const previous = this.locks.get(appId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.commitLocked(appId, commit));
    this.locks.set(appId, next);
    return next;
  }

  private commitLocked(appId: string, commit: Commit): Deployment {
    const dir = this.appDir(appId);
    // The base is the version being served: the pointer's, or the newest whole one before it when
    // that one is damaged. Version numbers only grow.
    const pointer = this.pointer(appId);
    const base = this.current(appId);
    const currentVersion = base?.version ?? 0;
    if (commit.expectedVersion !== undefined && commit.expectedVersion !== currentVersion) throw new ConflictError(currentVersion);
    mkdirSync(join(dir, 'blobs'), { recursive: true });
    mkdirSync(join(dir, 'versions'), { recursive: true });
    for (const [hash, text] of Object.entries(commit.blobs)) {
      if (hashText(text) !== hash) throw new CorruptionError(`a sent source does not match its hash ${hash.slice(0, 12)}`);
      if (!this.blobIsWhole(appId, hash)) writeFileAtomic(join(dir, 'blobs', hash), text);
    }
    // Names made so far reach the disk before the version that needs them, and that one before
    // the pointer: after a power loss the pointer never names what is not there.
    if (Object.keys(commit.blobs).length) syncDir(join(dir, 'blobs'));
    // A version file left by a crash before its pointer moved was never current: it is replaced.
    const version = Math.max(pointer, currentVersion) + 1;
    const deployment = nextDeployment(base, commit, version, new Date().toISOString());
    const missing = [...new Set(Object.values(deployment.functions))].filter((h) => !this.hasBlob(appId, h));
    if (missing.length) throw new MissingBlobError(missing);
    const stored: StoredVersion = { ...deployment, checksum: hashText(canonicalJson(deployment)) };
    writeFileAtomic(join(dir, 'versions', `${version}.json`), JSON.stringify(stored), { syncDir: true });
    writeFileAtomic(join(dir, 'CURRENT'), `${version}\n`, { syncDir: true });
    return deployment;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Who holds a data dir: written into <dataDir>/lock. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DataDirLock {
  path: string;
  holder: LockHolder;
  release(): void;
}

export const lockPath = (dataDir: string): string => join(dataDir, 'lock');
/** Lock files held by this process, so that one process does not take a data dir twice. */
const heldHere = new Set<string>();

/**
 * Takes <dataDir>/lock for this process. The lock file is made whole beside it, then linked into
 * place, which fails when the name exists (as O_EXCL does), so a lock file is never seen half
 * written. A lock of a process that is gone from this host is taken over; a live holder, or one
 * on another host (which cannot be checked from here), refuses with exit 3 naming it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = lockPath(dataDir);
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const text = JSON.stringify(holder) + '\n';
  // Names that the collection of temp files recognises, should this process die between steps.
  const tempName = () => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const temp = tempName();
  mkdirSync(dataDir, { recursive: true });
  writeFileAtomic(temp, text, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockError(dataDir, path, error);
      }
      const other = readHolder(path);
      if (!other || !holderIsGone(other, path)) throw lockError(dataDir, path, other ?? error0(path));
      // Taken over by one starter only: the stale file is moved aside (one rename wins), and if
      // what was moved is not the stale lock read above (another starter's fresh one), it is put
      // back and this starter gives way.
      const aside = tempName();
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      if (JSON.stringify(readHolder(aside)) !== JSON.stringify(other)) {
        try {
          linkSync(aside, path);
        } catch {
          // a third starter linked its own meanwhile: it holds the dir
        }
        rmSync(aside, { force: true });
        throw lockError(dataDir, path, readHolder(path) ?? error0(path));
      }
      rmSync(aside, { force: true });
    }
  } finally {
    rmSync(temp, { force: true });
  }
  syncDir(dataDir);
  heldHere.add(path);
  const release = () => {
    if (!heldHere.delete(path)) return;
    if (JSON.stringify(readHolder(path)) === JSON.stringify(holder)) rmSync(path, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release);
  return { path, holder, release };
}

const error0 = (path: string) => Object.assign(new Error(`${path} is unreadable`), { code: 'the lock file is unreadable' });

function readHolder(path: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string')
      return { pid: v.pid, host: v.host, startedAt: v.startedAt };
  } catch {
    // unreadable: treated as a holder that cannot be checked
  }
  return undefined;
}

function holderIsGone(holder: LockHolder, path: string): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(path);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function lockError(dataDir: string, path: string, cause: unknown): FnError {
  const other = cause && typeof cause === 'object' && 'pid' in cause ? (cause as LockHolder) : readHolder(path);
  if (!other)
    return new FnError(
      'PROJECT_UNREADABLE',
      `the data dir ${dataDir} cannot be locked (${(cause as NodeJS.ErrnoException)?.code ?? 'the lock file is unreadable'})`,
      { hint: `if no fn serve uses it, remove ${path}` },
    );
  return new FnError(
    'PROJECT_UNREADABLE',
    `the data dir ${dataDir} is in use by another fn serve (pid ${other.pid} on ${other.host}, since ${other.startedAt})`,
    {
      hint: `stop that server, or give this one another --data-dir; if that process is gone, remove ${path}`,
    },
  );
}

/** The secrets of a host: what signs its user tokens, and its service key. */
export interface ServerKeys {
  serviceKey: string;
  jwtSecret: string;
  /** given: FN_SERVICE_KEY (never written, never shown); new: made now; kept: read back from the data dir. */
  serviceKeyFrom: 'given' | 'new' | 'kept';
  /** The file that keeps them (0600). */
  path: string;
}

interface KeysFile {
  serviceKey?: string;
  jwtSecret: string;
}

export const keysPath = (dataDir: string): string => join(dataDir, 'keys.json');

/**
 * The host's keys, kept in <dataDir>/keys.json (0600) so that they stay valid across restarts: the
 * token secret always, the service key when none is given. `rotate` makes new ones. A key that is
 * given is never written.
 */
export function loadServerKeys(
  dataDir: string,
  options: { serviceKey?: string | undefined; rotate?: boolean; generate: () => string },
): ServerKeys {
  const path = keysPath(dataDir);
  let kept: KeysFile | undefined;
  if (!options.rotate && existsSync(path)) {
    kept = readKeys(path);
    // Keys copied in with looser permissions are closed again.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
  const given = options.serviceKey || undefined;
  const jwtSecret = kept?.jwtSecret ?? options.generate();
  const serviceKey = given ?? kept?.serviceKey ?? options.generate();
  const serviceKeyFrom = given ? 'given' : kept?.serviceKey ? 'kept' : 'new';
  const next: KeysFile = { ...(given ? (kept?.serviceKey ? { serviceKey: kept.serviceKey } : {}) : { serviceKey }), jwtSecret };
  if (!kept || canonicalJson(next) !== canonicalJson(kept)) writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  return { serviceKey, jwtSecret, serviceKeyFrom, path };
}

function readKeys(path: string): KeysFile {
  const bad = (why: string) =>
    new FnError('PROJECT_UNREADABLE', `${path} ${why}`, {
      hint: 'restore it from a backup, or start with --rotate-keys to make new keys (tokens and keys given out so far stop working)',
    });
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw bad(
      error instanceof SyntaxError
        ? 'is not valid JSON (corrupt or truncated)'
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const v = value as Partial<KeysFile> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.jwtSecret !== 'string' ||
    v.jwtSecret.length < 16 ||
    (v.serviceKey !== undefined && (typeof v.serviceKey !== 'string' || v.serviceKey === ''))
  )
    throw bad('does not hold the keys of this host');
  return { jwtSecret: v.jwtSecret, ...(v.serviceKey !== undefined ? { serviceKey: v.serviceKey } : {}) };
}
