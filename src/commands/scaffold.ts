// Folder bookkeeping shared by add and remove: which folders a write creates, and removing the
// ones left empty, never above the functions folder.
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';

/** The folders between `base` (exclusive) and `dir` (inclusive) that do not exist yet, deepest last. */
export function createdDirs(base: string, dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (d !== base && !relative(base, d).startsWith('..') && !existsSync(d)) {
    out.unshift(d);
    d = dirname(d);
  }
  return out;
}

/** Removes each folder (deepest first) while it is empty. */
export function removeEmptyDirs(dirs: readonly string[]): string[] {
  const removed: string[] = [];
  for (const d of [...dirs].sort((a, b) => b.split(sep).length - a.split(sep).length)) {
    try {
      if (readdirSync(d).length === 0) {
        rmdirSync(d);
        removed.push(d);
      }
    } catch {
      // already gone, or not a folder
    }
  }
  return removed;
}

/** The folders from `dir` up to (not including) `base`. */
export function dirsUpTo(base: string, dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (d !== base && !relative(base, d).startsWith('..') && d !== dirname(d)) {
    out.push(d);
    d = dirname(d);
  }
  return out;
}
