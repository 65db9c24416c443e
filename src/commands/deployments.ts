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
  const row = (version: string, createdAt: string, functions: string, summary: string) =>
    `${version.padStart(7)}  ${createdAt.padEnd(24)}  ${functions.padStart(9)}  ${summary}`;
  ui.out(ui.c.dim(row('VERSION', 'DEPLOYED (UTC)', 'FUNCTIONS', 'CHANGES')));
  for (const [i, d] of result.deployments.entries()) {
    ui.out(row(String(d.version), d.createdAt, String(d.functions), d.summary) + (i === 0 ? ui.c.green('  (current)') : ''));
  }
  if (result.deployments.length > 1) ui.err(ui.c.dim(`fn rollback <version> redeploys a past version as a new one`));
}
