// fn push: validates, plans against the remote, and deploys the changes atomically, guarded by
// the version the folder is based on (If-Match) so that no update is ever lost silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { appendEntries, removeEntry, replaceEntry } from '../manifest/edit.js';
import { canonicalJson, diffStates, isEmptyPlan, planNames, type AppState, type Plan } from '../manifest/hash.js';
import { parseJsonFile } from '../manifest/json-file.js';
import { checkProject } from '../project/check-project.js';
import { loadProject, type Project } from '../project/load-project.js';
import { readBase, writeBase } from '../project/state.js';
import type { RemoteDeployment } from '../remote/deployments.js';
import { readEnvironment, readValueFiles } from '../runtime/bundle.js';
import { renderDiagnostics } from '../ui/diagnostics.js';
import type { Ui } from '../ui/ui.js';
import { connect, localSnapshot, remoteState, renderPlan, type LocalSnapshot, type TargetFlags } from './sync.js';

export interface PushOptions extends TargetFlags {
  yes?: boolean;
  dryRun?: boolean;
  force?: boolean;
  only?: string;
  rollback?: number;
}

export interface PushResult {
  ok: boolean;
  url: string;
  appId: string;
  /** The remote version the plan was made against (0: nothing deployed). */
  remoteVersion: number;
  plan: Plan;
  /** What changed on the remote since this folder's last pull or push (a refusal without --force). */
  drift?: Plan;
  dryRun: boolean;
  upToDate: boolean;
  /** The version created. */
  version?: number;
  conflict?: { currentVersion: number };
  bytesSent: number;
  diagnostics?: Diagnostic[];
  rolledBackTo?: number;
  /** values/*.json files that differ from the deployed ones (added, changed or removed). */
  valueChanges?: string[];
  /** The environment (environments/<tag>.json) differs from the deployed one. */
  environmentChanged?: boolean;
}

export interface PushHooks {
  /** Asked on a terminal before deploying; false cancels. */
  confirm?: (result: PushResult) => Promise<boolean>;
}

export async function runPush(ctx: Context, options: PushOptions, hooks: PushHooks = {}): Promise<PushResult> {
  const project = loadProject(ctx.cwd);
  const target = connect(ctx, options, project);
  const { remote, client } = target;
  const empty: Plan = { added: [], changed: [], deleted: [], unchanged: 0 };
  const base = { ok: false, url: remote.url, appId: remote.appId, remoteVersion: 0, plan: empty, dryRun: options.dryRun === true, upToDate: false, bytesSent: 0 };

  if (options.rollback !== undefined) {
    const current = await client.current();
    const rollback = { ...base, remoteVersion: current?.version ?? 0, rolledBackTo: options.rollback };
    if (options.dryRun) return { ...rollback, ok: true };
    if (!options.yes) {
      if (!ctx.interactive || !hooks.confirm) throw new FnError('USAGE', 'fn push --rollback deploys only after a yes: there is no terminal to ask on', { hint: 'pass --yes' });
      if (!(await hooks.confirm(rollback))) throw new FnError('CHECK_FAILED', 'rollback cancelled; nothing was deployed');
    }
    const out = await client.rollback(options.rollback, current?.version ?? 0);
    if (!out.ok) return { ...base, remoteVersion: current?.version ?? 0, conflict: { currentVersion: out.currentVersion } };
    return { ...base, ok: true, remoteVersion: current?.version ?? 0, version: out.version, rolledBackTo: options.rollback };
  }

  const diagnostics = checkProject(project);
  if (summarize(diagnostics).errors) return { ...base, diagnostics };

  const local = localSnapshot(project);
  const deployed = await client.current();
  const remoteVersion = deployed?.version ?? 0;
  const theirs = remoteState(deployed);
  const known = readBase(project.root, remote.url, remote.appId);
  const only = options.only ? new Set(options.only.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  if (only) {
    const unknown = [...only].filter((n) => !Object.hasOwn(local.state, n) && !Object.hasOwn(theirs, n));
    if (unknown.length) throw new FnError('USAGE', `--only names functions that exist neither here nor there: ${unknown.join(', ')}`);
  }
  const plan = diffStates(theirs, local.state, only);
  // values/ and the environment go with a whole push (not with --only), as one set each, from a
  // folder that has them: one without (as fn pull leaves it) keeps those deployed.
  const has = (...names: string[]) => names.some((n) => existsSync(join(project.root, n)));
  const values = only || !has('values') ? undefined : readValueFiles(project.root);
  const valueChanges = values ? changedFiles(deployed?.values ?? {}, values) : [];
  const environment = only || !has('environments', 'root_config.json', 'realm_config.json') ? undefined : readEnvironment(project.root);
  const environmentChanged = environment !== undefined && canonicalJson(environment) !== canonicalJson(deployed?.environment ?? { tag: '', values: {} });
  const result: PushResult = { ...base, remoteVersion, plan, ...(valueChanges.length ? { valueChanges } : {}), ...(environmentChanged ? { environmentChanged } : {}) };

  // Drift: the remote moved since this folder last saw it.
  if ((known?.version ?? 0) !== remoteVersion && !options.force) {
    const drift = diffStates(known?.functions ?? {}, theirs);
    return { ...result, drift };
  }
  if (isEmptyPlan(plan) && !valueChanges.length && !environmentChanged) {
    if (!options.dryRun) writeBase(project.root, { url: remote.url, appId: remote.appId, version: remoteVersion, functions: theirs });
    return { ...result, ok: true, upToDate: true };
  }
  if (options.dryRun) return { ...result, ok: true };
  if (!options.yes) {
    if (!ctx.interactive || !hooks.confirm) throw new FnError('USAGE', 'fn push deploys only after a yes: there is no terminal to ask on', { hint: 'pass --yes (and --dry-run first to see the plan)' });
    if (!(await hooks.confirm(result))) throw new FnError('CHECK_FAILED', 'push cancelled; nothing was deployed');
  }

  const manifest = only ? manifestFor(deployed, project, plan) : local.manifestText;
  const body = { ...changes(plan, local, (hash) => !Object.values(deployed?.functions ?? {}).includes(hash), manifest), ...(values ? { values } : {}), ...(environment ? { environment } : {}) };
  if (isEmptyPlan(plan)) body.summary = [valueChanges.length && `values: ${valueChanges.join(', ')}`, environmentChanged && 'environment'].filter(Boolean).join('; ').slice(0, 200);
  const out = await client.deploy(body, remoteVersion);
  if (!out.ok) return { ...result, conflict: { currentVersion: out.currentVersion }, bytesSent: out.bytesSent };
  const after: AppState = { ...theirs };
  for (const n of plan.deleted) delete after[n];
  for (const n of [...plan.added, ...plan.changed.map((c) => c.name)]) after[n] = local.state[n]!;
  writeBase(project.root, { url: remote.url, appId: remote.appId, version: out.version, functions: after });
  return { ...result, ok: true, version: out.version, bytesSent: out.bytesSent };
}

/** Only the changes: hashes of added and changed functions, deleted names, and the new sources. */
function changes(plan: Plan, local: LocalSnapshot, serverLacks: (hash: string) => boolean, manifest: string) {
  const set: Record<string, string> = {};
  const blobs: Record<string, string> = {};
  for (const name of [...plan.added, ...plan.changed.map((c) => c.name)]) {
    const hash = local.state[name]!.hash;
    set[name] = hash;
    if (serverLacks(hash)) blobs[hash] = local.texts.get(name)!;
  }
  const summary = [plan.added.length && `+${plan.added.length}`, plan.changed.length && `~${plan.changed.length}`, plan.deleted.length && `-${plan.deleted.length}`].filter(Boolean).join(' ');
  return { manifest, set, delete: plan.deleted, blobs, summary: `${summary}: ${planNames(plan).slice(0, 5).join(', ')}${planNames(plan).length > 5 ? ', …' : ''}` };
}

/** The file names whose text differs between two sets of files, sorted. */
function changedFiles(from: Record<string, string>, to: Record<string, string>): string[] {
  return [...new Set([...Object.keys(from), ...Object.keys(to)])].filter((f) => from[f] !== to[f]).sort();
}

/** --only: the deployed manifest with just those entries changed (in its own format). */
function manifestFor(deployed: RemoteDeployment | undefined, project: Project, plan: Plan): string {
  let file = parseJsonFile('config.json', 'config.json', deployed?.manifest ?? '[]\n');
  const localEntry = (name: string) => project.manifest.entries.find((e) => e.name === name)?.raw;
  const indexOf = (name: string) => (Array.isArray(file.value) ? file.value.findIndex((e) => (e as { name?: unknown })?.name === name) : -1);
  const apply = (text: string) => (file = parseJsonFile('config.json', 'config.json', text));
  for (const name of planNames(plan)) {
    const wanted = plan.deleted.includes(name) ? undefined : localEntry(name);
    const at = indexOf(name);
    if (at >= 0 && !wanted) apply(removeEntry(file, at));
    else if (at >= 0 && wanted) apply(replaceEntry(file, at, wanted));
    else if (wanted) apply(appendEntries(file, [wanted]));
  }
  return (file.bom ? '\uFEFF' : '') + file.text;
}

export function renderPush(result: PushResult, ui: Ui): void {
  const c = ui.c;
  const where = `${result.appId} at ${result.url}`;
  if (result.diagnostics) {
    renderDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), ui, 'text', () => undefined);
    ui.error('the app has errors: nothing was pushed', 'fn validate shows every problem');
    return;
  }
  if (result.rolledBackTo !== undefined) {
    if (result.dryRun) ui.out(`Would redeploy version ${result.rolledBackTo} of ${where} as a new version (now at ${result.remoteVersion}); dry run: nothing was deployed`);
    else if (result.version === undefined && !result.conflict) ui.out(`Redeploy version ${result.rolledBackTo} of ${where} as a new version (now at ${result.remoteVersion})?`);
    else if (result.conflict) ui.error(`the app moved on (now version ${result.conflict.currentVersion}) while rolling back; nothing changed`);
    else ui.out(`${c.green('✔')} ${where}: version ${result.version} redeploys version ${result.rolledBackTo}`);
    return;
  }
  if (result.drift) {
    ui.error(`the remote moved since this folder last pulled or pushed: ${where} is at version ${result.remoteVersion}`, 'fn pull first to bring those changes in, or fn push --force to overwrite them');
    ui.out('Changed remotely:');
    renderPlan(result.drift, ui, { added: 'added', changed: 'changed', deleted: 'deleted' });
    return;
  }
  if (result.upToDate) {
    ui.out(`${c.green('✔')} ${where} is up to date (version ${result.remoteVersion}, ${result.plan.unchanged} function${result.plan.unchanged === 1 ? '' : 's'})`);
    return;
  }
  // Before the question on a terminal there is a plan and no outcome yet.
  const asking = !result.dryRun && result.version === undefined && !result.conflict;
  ui.out(`${result.dryRun ? 'Would push' : asking ? 'Will push' : 'Pushed'} to ${where} (version ${result.remoteVersion}${result.version ? ` → ${result.version}` : ''}):`);
  renderPlan(result.plan, ui);
  if (result.valueChanges?.length) ui.out(`  ${c.yellow('~')} values: ${result.valueChanges.map((f) => `values/${f}`).join(', ')}`);
  if (result.environmentChanged) ui.out(`  ${c.yellow('~')} environment`);
  if (result.conflict) ui.error(`conflict: someone deployed version ${result.conflict.currentVersion} first; nothing was pushed`, 'fn pull to bring their changes in, then push again');
  else if (result.dryRun) ui.err(c.dim('dry run: nothing was deployed'));
  else if (!asking) ui.err(c.dim(`${result.bytesSent} bytes sent`));
}
