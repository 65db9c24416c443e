// The runtime's limits and their defaults: what fn dev and fn serve's flags set.

export interface RuntimeLimits {
  /** Per-call time limit. */
  timeoutMs: number;
  /** Per-worker heap limit. */
  memoryMb: number;
  /** Calls running or waiting at once; more get 429. */
  concurrency: number;
  /** Worker threads kept for the current version. */
  workers: number;
  /** Worker threads at most: more start while calls wait behind slow ones, and stop when idle. */
  maxWorkers: number;
  /** How long a worker above `workers` may stay idle before it stops. */
  workerIdleMs: number;
}

export const DEFAULT_LIMITS: RuntimeLimits = {
  timeoutMs: 60_000,
  memoryMb: 256,
  concurrency: 256,
  workers: 2,
  maxWorkers: 8,
  workerIdleMs: 30_000,
};

/**
 * Calls sent ahead to a busy worker, which runs them one after another. Hides the round trip
 * between threads; a call never starts before the one ahead of it has finished, and those not
 * started come back to the host if it runs long.
 */
export const PIPELINE_DEPTH = 32;

/** Request bodies above this are refused with 413 (the App Services limit). */
export const MAX_REQUEST_BYTES = 18 * 1024 * 1024;
