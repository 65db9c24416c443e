// The npm packages of an app's functions: functions/node_modules when the folder has one, else
// the archive App Services exports (functions/node_modules.tar.gz, .tgz or .tar), unpacked once
// into .fn/deps/<sha256 of the archive>/node_modules (never into the user's folder). A set of
// packages is known by one content hash over its files (path, executable bit, sha256), so the
// client and fn serve agree on what a set is without trusting each other's names for it.
// Only regular files and folders count: links (node_modules/.bin) are left out everywhere.
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { FnError } from '../errors.js';

/** The archive names App Services exports, in the order looked for. */
export const DEPENDENCY_ARCHIVES = ['node_modules.tar.gz', 'node_modules.tgz', 'node_modules.tar'];
/** The most bytes a set of packages may hold once unpacked. */
export const MAX_DEPENDENCY_BYTES = 512 * 1024 * 1024;
/** The most files a set of packages may hold. */
export const MAX_DEPENDENCY_FILES = 100_000;

export interface ModulesLocation {
  /** The node_modules folder require() reads, when the app has packages. */
  dir: string | undefined;
  from: 'folder' | 'archive' | 'none';
  /** The archive's path under the app, when it came from one. */
  archive?: string;
}

/** Where the packages of the functions in `functionsDir` are (the archive unpacked as needed). */
export function locateModules(root: string, functionsDir: string): ModulesLocation {
  const folder = join(functionsDir, 'node_modules');
  if (isDir(folder)) return { dir: folder, from: 'folder' };
  for (const name of DEPENDENCY_ARCHIVES) {
    const archive = join(functionsDir, name);
    if (!isFile(archive)) continue;
    return { dir: unpackArchive(root, archive), from: 'archive', archive };
  }
  return { dir: undefined, from: 'none' };
}

/** Where unpacked dependency archives are kept: <root>/.fn/deps. */
export const depsRoot = (root: string): string => join(root, '.fn', 'deps');

/**
 * functions/node_modules.tar.gz unpacked into .fn/deps/<sha256>/node_modules (once per archive;
 * a half-unpacked one is never used: it is unpacked beside, then renamed into place).
 */
export function unpackArchive(root: string, archive: string): string {
  const hash = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const target = join(depsRoot(root), hash);
  if (isDir(join(target, 'node_modules'))) return join(target, 'node_modules');
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const tar = loadTar();
  try {
    // Exports hold node_modules/ at the top; an archive of the folder's contents is taken too.
    const tops = new Set<string>();
    tar.t({ file: archive, sync: true, onReadEntry: (e) => void tops.add(e.path.replace(/^\.\//, '').split('/')[0]!) });
    const into = tops.size === 1 && tops.has('node_modules') ? temp : join(temp, 'node_modules');
    mkdirSync(into, { recursive: true });
    extractSafely(tar, archive, into);
    rmSync(target, { recursive: true, force: true });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof FnError) throw error;
    throw new FnError('PROJECT_UNREADABLE', `${archive} cannot be unpacked: ${(error as Error).message}`, {
      hint: 'make it again from the folder: tar -czf node_modules.tar.gz node_modules (in functions/)',
    });
  }
  return join(target, 'node_modules');
}

type Tar = typeof import('tar');

/** tar, loaded only when an archive is read or written. */
export function loadTar(): Tar {
  return createRequire(import.meta.url)('tar') as Tar;
}

/**
 * Unpacks `file` (or a buffer's temp file) into `cwd`: files and folders only (no links, devices
 * or paths out of `cwd`), within MAX_DEPENDENCY_BYTES and MAX_DEPENDENCY_FILES.
 */
export function extractSafely(tar: Tar, file: string, cwd: string): void {
  let bytes = 0;
  let files = 0;
  let over: string | undefined;
  tar.x({
    file,
    cwd,
    sync: true,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (_path, entry) => {
      const type = 'type' in entry ? entry.type : entry.isDirectory() ? 'Directory' : 'File';
      if (type !== 'File' && type !== 'OldFile' && type !== 'Directory') return false;
      if (type !== 'Directory') {
        files++;
        bytes += entry.size ?? 0;
      }
      if (bytes > MAX_DEPENDENCY_BYTES) over = `more than ${MAX_DEPENDENCY_BYTES / 1024 / 1024} MB`;
      if (files > MAX_DEPENDENCY_FILES) over = `more than ${MAX_DEPENDENCY_FILES} files`;
      return over === undefined;
    },
  });
  if (over) throw new FnError('PROJECT_UNREADABLE', `the packages hold ${over}, more than fn takes`);
}

export interface DependencyFile {
  /** Relative to node_modules, with '/'. */
  path: string;
  executable: boolean;
  sha256: string;
  size: number;
}

export interface DependencySet {
  /** sha256 over every file's path, executable bit and content hash, in path order. */
  hash: string;
  /** Folders holding a package.json right under a node_modules folder (@scope/name counted once). */
  packages: number;
  files: DependencyFile[];
  bytes: number;
}

/** The set of packages in a node_modules folder (regular files only; links are skipped). */
export function dependencySet(modulesDir: string): DependencySet {
  const files: DependencyFile[] = [];
  let packages = 0;
  let bytes = 0;
  const walk = (dir: string, rel: string, parentIsModules: boolean, scope: boolean) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(full);
      if (st.isDirectory()) {
        if (parentIsModules && name.startsWith('@')) {
          walk(full, path, true, true);
          continue;
        }
        if ((parentIsModules || scope) && name !== '.bin' && isFile(join(full, 'package.json'))) packages++;
        walk(full, path, name === 'node_modules', false);
      } else if (st.isFile()) {
        const sha256 = createHash('sha256').update(readFileSync(full)).digest('hex');
        files.push({ path, executable: (st.mode & 0o111) !== 0, sha256, size: st.size });
        bytes += st.size;
        if (files.length > MAX_DEPENDENCY_FILES)
          throw new FnError('PROJECT_UNREADABLE', `${modulesDir} holds more than ${MAX_DEPENDENCY_FILES} files, more than fn takes`);
      }
    }
  };
  walk(modulesDir, '', true, false);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.executable ? 'x' : '-'}\0${f.sha256}\n`);
  return { hash: h.digest('hex'), packages, files, bytes };
}

/** A gzipped tar of a set's files (paths under node_modules/, the folder's name), to send to fn serve. */
export async function packDependencies(modulesDir: string, set: DependencySet): Promise<Buffer> {
  const tar = loadTar();
  const chunks: Buffer[] = [];
  // Paths start with the folder's name: tar reads a name starting with '@' as an archive to add.
  const stream = tar.c(
    { gzip: true, cwd: dirname(modulesDir), portable: true, noDirRecurse: true },
    set.files.map((f) => `${basename(modulesDir)}/${f.path}`),
  );
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The dependencies functions/package.json lists (name → range), or undefined with no file. */
export function declaredDependencies(functionsDir: string): Record<string, string> | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(functionsDir, 'package.json'), 'utf8')) as { dependencies?: unknown };
    const deps = pkg.dependencies;
    return typeof deps === 'object' && deps !== null && !Array.isArray(deps) ? (deps as Record<string, string>) : {};
  } catch {
    return undefined;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
