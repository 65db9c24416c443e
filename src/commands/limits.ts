// The limit flags fn dev and fn serve share, and the runtime limits they set.
import type { RuntimeLimits } from '../runtime/limits.js';

export interface LimitFlags {
  timeout?: number;
  memory?: number;
  concurrency?: number;
  workers?: number;
  maxWorkers?: number;
}

export function limitsFrom(flags: LimitFlags, defaults: Partial<RuntimeLimits> = {}): Partial<RuntimeLimits> {
  const limits: Partial<RuntimeLimits> = { ...defaults };
  if (flags.timeout !== undefined) limits.timeoutMs = flags.timeout;
  if (flags.memory !== undefined) limits.memoryMb = flags.memory;
  if (flags.concurrency !== undefined) limits.concurrency = flags.concurrency;
  if (flags.workers !== undefined) limits.workers = flags.workers;
  if (flags.maxWorkers !== undefined) limits.maxWorkers = flags.maxWorkers;
  return limits;
}
