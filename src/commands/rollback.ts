// fn rollback <version>: redeploys a past version as a new one. The same path as
// fn push --rollback: the plan against the current version, a yes, then the rollback route.
import type { Context } from '../context.js';
import { runPush, type PushHooks, type PushOptions, type PushResult } from './push.js';

export interface RollbackOptions extends Omit<PushOptions, 'rollback' | 'force' | 'only'> {
  version: number;
}

export async function runRollback(ctx: Context, options: RollbackOptions, hooks: PushHooks = {}): Promise<PushResult> {
  const { version, ...rest } = options;
  return runPush(ctx, { ...rest, rollback: version }, hooks);
}

export { renderPush as renderRollback } from './push.js';
