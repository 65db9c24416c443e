// fn deployments: the versions deployed to fn serve, newest first.
import type { Context } from '../context.js';
import { findAppRoot } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import type { Ui } from '../ui/ui.js';
import { connect, type TargetFlags } from './sync.js';

export interface DeploymentsResult {
  ok: true;
  url: string;
  appId: string;
  deployments: { version: number; createdAt: string; summary: string; functions: number }[];
}

export async function runDeployments(ctx: Context, options: TargetFlags): Promise<DeploymentsResult> {
  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const { remote, client } = connect(ctx, options, project);
  return { ok: true, url: remote.url, appId: remote.appId, deployments: await client.list() };
}

export function renderDeployments(result: DeploymentsResult, ui: Ui): void {
  if (!result.deployments.length) {
    ui.out(`nothing is deployed for ${result.appId} at ${result.url}`);
    return;
  }
  for (const [i, d] of result.deployments.entries()) {
    ui.out(`${String(d.version).padStart(5)}  ${d.createdAt}  ${String(d.functions).padStart(4)} fn  ${d.summary}${i === 0 ? ui.c.green('  (current)') : ''}`);
  }
}
