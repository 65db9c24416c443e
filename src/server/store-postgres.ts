// Deployments in PostgreSQL (`fn serve --store postgres://…`): the DeploymentStore the server
// uses, over src/store/postgres.ts. Every host keeps a copy of the versions and sources of the
// apps it serves, so a call never touches the database; a deploy through any host reaches the
// others by LISTEN/NOTIFY (or the poll behind it), and each host then reads the new version and
// the sources it lacks before it switches: a call runs on the old version or the new one, whole.
import { PgConflict, PgCorruption, PgMissingBlobs, PostgresStore, type PgStoreOptions } from '../store/postgres.js';
import {
  blobsOf,
  ConflictError,
  CorruptionError,
  MissingBlobError,
  nextDeployment,
  type Commit,
  type Deployment,
  type DeploymentStore,
  type DeploymentSummary,
} from './store.js';

interface AppCopy {
  current: number;
  versions: Map<number, Deployment>;
  blobs: Map<string, string>;
}

export class PostgresDeploymentStore implements DeploymentStore {
  /** Problems found while reading the store, for the server to report (as FileStore's). */
  readonly problems: string[] = [];
  private readonly copies = new Map<string, AppCopy>();

  private constructor(private readonly db: PostgresStore) {}

  /** Opens the database (migrating it unless told not to) and reads every app it holds. */
  static async open(options: PgStoreOptions): Promise<PostgresDeploymentStore> {
    const db = await PostgresStore.open(options);
    const store = new PostgresDeploymentStore(db);
    try {
      for (const appId of await db.apps()) await store.refresh(appId);
    } catch (error) {
      await db.close();
      throw error;
    }
    return store;
  }

  /** Reads an app's versions and the sources they need; the copy is replaced only when all is read. */
  private async refresh(appId: string): Promise<AppCopy | undefined> {
    try {
      const versions = await this.db.list<Deployment>(appId);
      if (!versions.length) return undefined;
      const known = this.copies.get(appId);
      const hashes = new Set(versions.flatMap((v) => blobsOf(v.document)));
      const missing = [...hashes].filter((h) => !known?.blobs.has(h));
      const fetched = missing.length ? await this.db.readBlobs(appId, missing) : new Map<string, string>();
      const blobs = new Map(known?.blobs ?? []);
      for (const [hash, text] of fetched) blobs.set(hash, text);
      const copy: AppCopy = {
        current: versions[0]!.version,
        versions: new Map(versions.map((v) => [v.version, v.document])),
        blobs,
      };
      this.copies.set(appId, copy);
      return copy;
    } catch (error) {
      this.report(`${appId}: ${(error as Error).message}; serving the version loaded before`);
      return this.copies.get(appId);
    }
  }

  private report(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  apps(): string[] {
    return [...this.copies.keys()].sort();
  }

  current(appId: string): Deployment | undefined {
    const copy = this.copies.get(appId);
    return copy?.versions.get(copy.current);
  }

  get(appId: string, version: number): Deployment | undefined {
    return this.copies.get(appId)?.versions.get(version);
  }

  list(appId: string): DeploymentSummary[] {
    const copy = this.copies.get(appId);
    if (!copy) return [];
    return [...copy.versions.values()]
      .sort((a, b) => b.version - a.version)
      .map((d) => ({ version: d.version, createdAt: d.createdAt, summary: d.summary, functions: Object.keys(d.functions).length }));
  }

  hasBlob(appId: string, hash: string): boolean {
    return this.copies.get(appId)?.blobs.has(hash) ?? false;
  }

  readBlob(appId: string, hash: string): string {
    const text = this.copies.get(appId)?.blobs.get(hash);
    if (text === undefined) throw new CorruptionError(`the source ${hash.slice(0, 12)} is missing`);
    return text;
  }

  async commit(appId: string, commit: Commit): Promise<Deployment> {
    try {
      const stored = await this.db.commit<Deployment>(appId, {
        expectedVersion: commit.expectedVersion,
        blobs: commit.blobs,
        summary: commit.summary,
        build: (base, version, createdAt) => nextDeployment(base?.document, commit, version, createdAt),
        needs: blobsOf,
      });
      const copy = this.copies.get(appId) ?? { current: 0, versions: new Map<number, Deployment>(), blobs: new Map<string, string>() };
      for (const [hash, text] of Object.entries(commit.blobs)) copy.blobs.set(hash, text);
      const missing = blobsOf(stored.document).filter((h) => !copy.blobs.has(h));
      if (missing.length) for (const [hash, text] of await this.db.readBlobs(appId, missing)) copy.blobs.set(hash, text);
      copy.versions.set(stored.version, stored.document);
      copy.current = Math.max(copy.current, stored.version);
      this.copies.set(appId, copy);
      return stored.document;
    } catch (error) {
      if (error instanceof PgConflict) throw new ConflictError(error.currentVersion);
      if (error instanceof PgMissingBlobs) throw new MissingBlobError(error.hashes);
      if (error instanceof PgCorruption) throw new CorruptionError(error.message);
      throw error;
    }
  }

  /**
   * Calls `onMove` with an app's new current version whenever another host (or this one) moves it,
   * once the version and its sources are read here.
   */
  async watch(onMove: (appId: string, deployment: Deployment) => void): Promise<void> {
    await this.db.watch((appId, version) => {
      void this.refresh(appId).then((copy) => {
        const deployment = copy?.versions.get(version);
        if (copy && deployment && copy.current === version) onMove(appId, deployment);
      });
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
