// The results of the source checks, kept in .fn/cache between runs (as eslint --cache does):
// a file whose size and modification time are unchanged is not parsed again. The cache is only
// an optimisation: when it cannot be read or written, every file is checked.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../manifest/write.js';
import type { SourceProblem } from '../source/check-source.js';

/** Bump when the source rules change, so old results are not reused. */
const CACHE_VERSION = 2;

interface Entry {
  size: number;
  mtimeMs: number;
  problems: SourceProblem[];
}

export class SourceCache {
  private entries: Record<string, Entry> = {};
  private dirty = false;
  private readonly path: string;

  constructor(root: string) {
    this.path = join(root, '.fn', 'cache', 'source-checks.json');
    try {
      const data = JSON.parse(readFileSync(this.path, 'utf8')) as { version?: number; entries?: Record<string, Entry> };
      if (data.version === CACHE_VERSION && data.entries) this.entries = data.entries;
    } catch {
      this.entries = {};
    }
  }

  /** The problems of a file: from the cache when it has not changed, else from `check`. */
  problems(key: string, path: string, check: () => SourceProblem[]): SourceProblem[] {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return check();
    }
    const hit = Object.hasOwn(this.entries, key) ? this.entries[key] : undefined;
    if (hit && hit.size === stat.size && hit.mtimeMs === stat.mtimeMs) return hit.problems;
    const problems = check();
    this.entries[key] = { size: stat.size, mtimeMs: stat.mtimeMs, problems };
    this.dirty = true;
    return problems;
  }

  /** Writes the cache when it changed, keeping only the files seen this run. */
  save(seen: ReadonlySet<string>): void {
    for (const key of Object.keys(this.entries)) {
      if (!seen.has(key)) {
        delete this.entries[key];
        this.dirty = true;
      }
    }
    if (!this.dirty) return;
    try {
      mkdirSync(join(this.path, '..'), { recursive: true });
      writeFileAtomic(this.path, JSON.stringify({ version: CACHE_VERSION, entries: this.entries }));
    } catch {
      // a read-only folder: no cache, same results
    }
  }
}
