// appendEntries / removeEntry over every real Atlas manifest in the shared corpus (read in place,
// never copied into the repo): appending { name: "x" } only inserts the entry, and removing it
// again restores the original bytes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { insertedText, roundTrip } from './round-trip.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const corpusDir = join(repoRoot, '..', 'shared', 'corpus', 'atlas');

interface Sample {
  app: string;
  raw: string;
}

function readCorpus(): Sample[] {
  if (!existsSync(corpusDir)) return [];
  const out: Sample[] = [];
  for (const app of readdirSync(corpusDir).sort()) {
    const path = join(corpusDir, app, 'config.json');
    if (!existsSync(path)) continue;
    const raw = readFileSync(path, 'utf8');
    try {
      if (!Array.isArray(JSON.parse(raw.replace(/^\uFEFF/, '')))) continue;
    } catch {
      continue; // not JSON (e.g. a template with <placeholders>)
    }
    out.push({ app, raw });
  }
  return out;
}

const samples = readCorpus();
const missing = existsSync(corpusDir)
  ? undefined
  : `skipped: ../shared/corpus/atlas is absent (the test data is read from ../shared beside the repository; see the README)`;
if (missing) console.warn(missing);

describe.skipIf(missing !== undefined)(`edit round trip over the Atlas corpus${missing ? ` (${missing})` : ''}`, () => {
  it('finds the corpus manifests', () => {
    expect(samples.length).toBeGreaterThan(100);
  });

  for (const { app, raw } of samples) {
    it(`${app}: appending only inserts the entry`, () => {
      const rt = roundTrip(raw);
      const inserted = insertedText(rt);
      const emptyArray = rt.text[rt.insertAt - 1] === '[';
      expect(inserted.replace(/\s+/g, '')).toBe(emptyArray ? '{"name":"x"}' : ',{"name":"x"}');
      // Line endings of the inserted text are the file's own.
      const eol = rt.text.includes('\r\n') ? '\r\n' : '\n';
      expect(/[\r\n]/.test(inserted.split(eol).join(''))).toBe(false);
      expect(rt.appended.startsWith('\uFEFF')).toBe(raw.startsWith('\uFEFF'));
      expect(JSON.parse(rt.appended.replace(/^\uFEFF/, ''))).toEqual([
        ...(JSON.parse(raw.replace(/^\uFEFF/, '')) as unknown[]),
        { name: 'x' },
      ]);
    });

    it(`${app}: removing it again restores the original bytes`, () => {
      expect(roundTrip(raw).restored).toBe(raw);
    });
  }
});
