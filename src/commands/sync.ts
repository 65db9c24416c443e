// What push and pull share: the folder's and the remote's function states, the target, the plan.
import { readFileSync } from 'node:fs';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { fileBytes } from '../manifest/edit.js';
import { appState, type AppState, type Plan } from '../manifest/hash.js';
import { manifestFromText } from '../manifest/load.js';
import { sourcePathOf } from '../manifest/names.js';
import type { SourceFile } from '../manifest/sources.js';
import type { Project } from '../project/load-project.js';
import { missingKeyError, resolveRemoteSettings } from '../project/remote-settings.js';
import type { Remote } from '../remote/client.js';
import { deploymentClient, type DeploymentClient, type RemoteDeployment } from '../remote/deployments.js';
import type { Ui } from '../ui/ui.js';

export interface TargetFlags {
  url?: string;
  appId?: string;
  remote?: string;
  serviceKey?: string;
  timeout?: number;
}

export interface Target {
  remote: Remote;
  client: DeploymentClient;
  /** The key sent to that server (for other clients of its admin routes). */
  serviceKey: string;
}

export function connect(ctx: Context, flags: TargetFlags, project: Project | undefined): Target {
  const settings = resolveRemoteSettings(flags, ctx.env, project);
  if (!settings.appId) throw new FnError('USAGE', 'no app id', { hint: 'pass --app-id <id> (or FN_APP_ID)' });
  if (!settings.serviceKey) throw missingKeyError(settings);
  const remote: Remote = { url: settings.url, appId: settings.appId, isDefaultLocal: settings.isDefaultLocal };
  return { remote, client: deploymentClient(remote, settings.serviceKey, flags.timeout, ctx.signal), serviceKey: settings.serviceKey };
}

export interface LocalSnapshot {
  state: AppState;
  texts: Map<string, string>;
  manifestText: string;
}

export function localSnapshot(project: Project): LocalSnapshot {
  const texts = new Map<string, string>();
  for (const s of project.manifest.sources.values()) texts.set(s.name, readFileSync(s.path, 'utf8'));
  const file = project.manifest.file;
  const manifestText = file ? fileBytes(file) : '[]\n';
  return { state: appState(project.manifest, (n) => texts.get(n)!), texts, manifestText };
}

/** The state of a deployment: its hashes, and the entries of its manifest text. */
export function remoteState(d: RemoteDeployment | undefined): AppState {
  if (!d) return {};
  const sources = new Map<string, SourceFile>(Object.keys(d.functions).map((n) => [n, { name: n, path: '', relPath: sourcePathOf(n) }]));
  const hashes = new Map(Object.entries(d.functions));
  const state = appState(manifestFromText(d.manifest, sources), () => '');
  for (const name of Object.keys(state)) state[name]!.hash = hashes.get(name)!;
  return state;
}

/** `marks`: lines to show under a function's line (push: the changes that widen access). */
export function renderPlan(
  plan: Plan,
  ui: Ui,
  verbs = { added: 'add', changed: 'change', deleted: 'delete' },
  marks: ReadonlyMap<string, string[]> = new Map(),
): void {
  const c = ui.c;
  const marked = (name: string) => {
    for (const line of marks.get(name) ?? []) ui.out(`      ${c.yellow().bold('!')} ${c.yellow(line)}`);
  };
  for (const n of plan.added) {
    ui.out(`  ${c.green('+')} ${n}  ${c.dim(verbs.added)}`);
    marked(n);
  }
  for (const ch of plan.changed) {
    ui.out(
      `  ${c.yellow('~')} ${ch.name}  ${c.dim(`${verbs.changed} ${[ch.source && 'source', ch.entry && 'manifest entry'].filter(Boolean).join(' and ')}`)}`,
    );
    marked(ch.name);
  }
  for (const n of plan.deleted) ui.out(`  ${c.red('-')} ${n}  ${c.dim(verbs.deleted)}`);
  const count = (n: number, verb: string) => (verb.endsWith('ed') ? `${n} ${verb}` : `${n} to ${verb}`);
  ui.out(
    `  ${c.dim(`${count(plan.added.length, verbs.added)}, ${count(plan.changed.length, verbs.changed)}, ${count(plan.deleted.length, verbs.deleted)}, ${plan.unchanged} unchanged`)}`,
  );
}
