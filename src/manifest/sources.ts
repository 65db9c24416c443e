// The function sources of an app: every .js file under functions/, recursively, not under
// node_modules. Names come from paths; nothing is read here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nameFromSourcePath, SOURCE_EXTENSION } from './names.js';

export interface SourceFile {
  name: string;
  /** Absolute path. */
  path: string;
  /** Path relative to the functions folder, with '/'. */
  relPath: string;
}

export function listSources(functionsDir: string): Map<string, SourceFile> {
  const found = new Map<string, SourceFile>();
  walk(functionsDir, '', found);
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function walk(dir: string, prefix: string, found: Map<string, SourceFile>): void {
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
    if (entry.isSymbolicLink()) {
      try {
        const st = statSync(full);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isDir) {
      if (entry.name !== 'node_modules') walk(full, rel + '/', found);
    } else if (isFile && entry.name.endsWith(SOURCE_EXTENSION) && entry.name.length > SOURCE_EXTENSION.length) {
      const name = nameFromSourcePath(rel);
      found.set(name, { name, path: full, relPath: rel });
    }
  }
}
