import { distance } from 'fastest-levenshtein';

/** Candidates near `input`, nearest first (case-insensitive edit distance, small enough to be a typo). */
export function suggest(input: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = input.toLowerCase();
  const limit = Math.max(2, Math.floor(input.length / 3));
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d <= limit || c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())) scored.push([c, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([c]) => c);
}

/**
 * The candidate `input` is a likely typo of: within `maxDistance` edits, ignoring case, or once
 * '_', '-' and spaces are dropped (runAsSystem, run-as-system); the nearest one, or undefined.
 */
export function typoOf<T extends string>(input: string, candidates: Iterable<T>, maxDistance = 2): T | undefined {
  const bare = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');
  let best: [T, number] | undefined;
  for (const c of candidates) {
    const d = Math.min(distance(input.toLowerCase(), c.toLowerCase()), distance(bare(input), bare(c)));
    if (d <= maxDistance && (!best || d < best[1])) best = [c, d];
  }
  return best?.[0];
}
