// The function sources of an app: every .js file under functions/, recursively, not under
// node_modules. Names come from paths; nothing is read here. Links are followed, but never into a
// folder already on the way down (two `-> .` links would otherwise make the walk endless), and a
// source whose real path is outside the functions folder is marked (validate refuses it).
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { nameFromSourcePath, SOURCE_EXTENSION } from './names.js';

export interface SourceFile {
  name: string;
  /** Absolute path. */
  path: string;
  /** Path relative to the functions folder, with '/'. */
  relPath: string;
  /** The real path, when a link on the way leads outside the functions folder. */
  outside?: string;
}

export function listSources(functionsDir: string): Map<string, SourceFile> {
  const found = new Map<string, SourceFile>();
  let root: string;
  try {
    root = realpathSync(functionsDir);
  } catch {
    return found;
  }
  walk(functionsDir, root, '', found, root, new Set([root]));
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const isInside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
};

/**
 * `realDir`: the real path of `dir`; `onWalk`: the real paths of the folders from the functions
 * folder down to `dir`. Only links cost a realpath call: an entry that is not one is where its
 * folder really is (10,000 sources: one syscall each saved).
 */
function walk(dir: string, realDir: string, prefix: string, found: Map<string, SourceFile>, root: string, onWalk: Set<string>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    const rel = prefix + entry.name;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    const link = entry.isSymbolicLink();
    if (link) {
      try {
        const st = statSync(full);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isDir) {
      if (entry.name === 'node_modules') continue;
      let real: string;
      try {
        real = link ? realpathSync.native(full) : join(realDir, entry.name);
      } catch {
        continue;
      }
      if (onWalk.has(real)) continue; // a link back up: a loop
      onWalk.add(real);
      walk(full, real, rel + '/', found, root, onWalk);
      onWalk.delete(real);
    } else if (isFile && entry.name.endsWith(SOURCE_EXTENSION) && entry.name.length > SOURCE_EXTENSION.length) {
      const name = nameFromSourcePath(rel);
      const file: SourceFile = { name, path: full, relPath: rel };
      let real: string | undefined;
      try {
        real = link ? realpathSync.native(full) : join(realDir, entry.name);
      } catch {
        real = undefined;
      }
      if (real !== undefined && !isInside(root, real)) file.outside = real;
      found.set(name, file);
    }
  }
}
