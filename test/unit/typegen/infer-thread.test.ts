import { describe, expect, it } from 'vitest';
import { partitionOf, poolSize } from '../../../src/typegen/infer-thread.js';

describe('poolSize', () => {
  it('one worker for a small app, one more per 400 functions, capped by idle CPUs and at 4', () => {
    expect(poolSize(6, 8, 0)).toBe(1);
    expect(poolSize(400, 8, 0)).toBe(1);
    expect(poolSize(1_000, 8, 0)).toBe(3);
    expect(poolSize(1_000, 2, 0)).toBe(2);
    expect(poolSize(10_000, 16, 0)).toBe(4);
  });

  it('a busy machine gets one worker: a second would only load TypeScript twice', () => {
    expect(poolSize(1_000, 2, 1.8)).toBe(1);
    expect(poolSize(1_000, 2, 6)).toBe(1);
    expect(poolSize(1_000, 4, 2)).toBe(2);
  });
});

describe('partitionOf', () => {
  it('is stable and within the pool', () => {
    const names = Array.from({ length: 200 }, (_, i) => `group${i % 7}/fn${i}`);
    for (const size of [1, 2, 3]) {
      const parts = names.map((n) => partitionOf(n, size));
      expect(names.map((n) => partitionOf(n, size))).toEqual(parts);
      expect(parts.every((p) => p >= 0 && p < size)).toBe(true);
      expect(new Set(parts).size).toBe(size);
    }
  });
});
