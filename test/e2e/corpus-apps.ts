// The real App Services apps of ../shared/corpus/atlas, read in place and rebuilt in temp folders:
// functions/config.json byte for byte, a stub per .js listed in files.txt, an empty file for
// everything else, at the same path as in the app's repository.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot, sharedDir, tempDir } from './helpers.js';

export const atlasDir = join(sharedDir, 'corpus', 'atlas');
export const legacyDir = join(sharedDir, 'corpus', 'atlas-legacy');

/**
 * Why tests over `dir` cannot run (it is not there: ../shared is not beside the repository), said
 * on stderr once; undefined when they can. Put it in the describe's name so the report shows it.
 */
export function sharedMissing(dir: string): string | undefined {
  if (existsSync(dir)) return undefined;
  const reason = `skipped: ${relative(repoRoot, dir)} is absent (the test data is read from ../shared beside the repository; see the README)`;
  console.warn(reason);
  return reason;
}

export const STUB = 'exports = function () {};\n';
const MANIFEST = 'functions/config.json';

export interface CorpusApp {
  id: string;
  /** The app root inside its repository ('' or e.g. 'realm/', '😈/'), from source.txt. */
  appDir: string;
  /** config.json as bytes and as text. */
  bytes: Buffer;
  text: string;
  /** Every path under functions/, relative to it. */
  files: string[];
}

export function listLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

export function readCorpusApp(id: string): CorpusApp {
  const dir = join(atlasDir, id);
  const bytes = readFileSync(join(dir, 'config.json'));
  // source.txt: "<owner>/<repo> <path of functions/config.json> <commit>"; the path may hold spaces.
  const source = readFileSync(join(dir, 'source.txt'), 'utf8').trim().split(' ');
  const path = source.slice(1, -1).join(' ');
  if (!path.endsWith(MANIFEST)) throw new Error(`${id}: unexpected manifest path ${path}`);
  return { id, appDir: path.slice(0, -MANIFEST.length), bytes, text: bytes.toString('utf8'), files: listLines(join(dir, 'files.txt')) };
}

/** Rebuilds the app under a new temp folder, at the same path as in its repository; returns its root. */
export function materialise(app: CorpusApp, prefix = 'fn-corpus-'): string {
  const root = join(tempDir(prefix), app.appDir);
  const functionsDir = join(root, 'functions');
  mkdirSync(functionsDir, { recursive: true });
  for (const rel of app.files) {
    if (rel === 'config.json') continue;
    const target = join(functionsDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, rel.endsWith('.js') ? STUB : '');
  }
  writeFileSync(join(functionsDir, 'config.json'), app.bytes);
  return root;
}

/** Runs `task` over `items`, at most `limit` at once. */
export async function eachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
