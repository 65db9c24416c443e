// fn serve's packages of deployed apps: per app, content-addressed by the set's hash
// (project/dependencies.ts), unpacked once into <dataDir>/apps/<appId>/deps/<hash>/node_modules.
// A set is sent by fn push as a gzipped tar, unpacked beside its place (files and folders only:
// no links, no paths out of it, bounded in bytes and files), hashed again, and renamed into place
// only when its hash is the one it was sent as. The server never reaches a registry. A runner is
// allowed to read its own app's deps folder and no other.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dependencySet, extractSafely, loadTar } from '../project/dependencies.js';

const HASH = /^[0-9a-f]{64}$/;

export class DependencyMismatchError extends Error {}

export class DependencyStore {
  constructor(readonly dataDir: string) {}

  /** The folder a runner of the app may read: every set of packages of that app. */
  root(appId: string): string {
    return join(this.dataDir, 'apps', encodeURIComponent(appId), 'deps');
  }

  modulesDir(appId: string, hash: string): string {
    return join(this.root(appId), hash, 'node_modules');
  }

  /** The set's package count when the app has it whole, else undefined. */
  info(appId: string, hash: string): { hash: string; packages: number } | undefined {
    if (!HASH.test(hash)) return undefined;
    try {
      const v = JSON.parse(readFileSync(join(this.root(appId), hash, 'set.json'), 'utf8')) as { packages?: unknown };
      return { hash, packages: typeof v.packages === 'number' ? v.packages : 0 };
    } catch {
      return undefined;
    }
  }

  /** Unpacks a gzipped tar of node_modules/ and keeps it when its hash is `hash`. */
  put(appId: string, hash: string, archive: Buffer): { hash: string; packages: number } {
    if (!HASH.test(hash)) throw new DependencyMismatchError(`${JSON.stringify(hash)} is not a sha256 in hex`);
    const known = this.info(appId, hash);
    if (known) return known;
    const root = this.root(appId);
    mkdirSync(root, { recursive: true });
    // Names the data dir's collection recognises (TEMP_FILE), should this process die meanwhile.
    const tag = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const temp = join(root, `${hash}.${tag}`);
    const file = join(root, `${hash}.tgz.${tag}`);
    try {
      mkdirSync(temp);
      writeFileSync(file, archive, { mode: 0o600 });
      extractSafely(loadTar(), file, temp);
      const modules = join(temp, 'node_modules');
      if (!isDir(modules)) mkdirSync(modules);
      const set = dependencySet(modules);
      if (set.hash !== hash)
        throw new DependencyMismatchError(`the packages sent hash to ${set.hash.slice(0, 12)}, not ${hash.slice(0, 12)} as announced`);
      writeFileSync(join(temp, 'set.json'), JSON.stringify({ packages: set.packages, files: set.files.length, bytes: set.bytes }) + '\n');
      rmSync(join(root, hash), { recursive: true, force: true });
      renameSync(temp, join(root, hash));
      return { hash, packages: set.packages };
    } finally {
      rmSync(file, { force: true });
      rmSync(temp, { recursive: true, force: true });
    }
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
