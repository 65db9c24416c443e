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
  return scored.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max).map(([c]) => c);
}
