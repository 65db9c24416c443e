// fn push: validates, plans against the remote, and deploys the changes atomically, guarded by
// the version the folder is based on (If-Match) so that no update is ever lost silently.
import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { dataSourceFiles } from '../app/data-sources.js';
import { endpointFiles } from '../app/endpoints.js';
import { readAuthFiles, readOriginFiles } from '../app/auth-config.js';
import { triggerFiles } from '../app/triggers.js';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { accessChanges, describeAccessChange, type AccessChange } from '../manifest/access.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { fileBytes, syncEntries } from '../manifest/edit.js';
import { canonicalJson, diffStates, isEmptyPlan, planNames, type AppState, type Plan } from '../manifest/hash.js';
import { parseJsonFile } from '../manifest/json-file.js';
import { checkProject } from '../project/check-project.js';
import { loadProject, type Project } from '../project/load-project.js';
import { readBase, writeBase } from '../project/state.js';
import type { RemoteDeployment } from '../remote/deployments.js';
import { readEnvironment, readValueFiles } from '../runtime/bundle.js';
import { missingSecrets } from '../app/values.js';
import { declaredDependencies, dependencySet, locateModules, packDependencies, type DependencySet } from '../project/dependencies.js';
import { formatDiagnosticLine, renderDiagnostics } from '../ui/diagnostics.js';
import type { Ui } from '../ui/ui.js';
import { connect, localSnapshot, remoteState, renderPlan, type LocalSnapshot, type TargetFlags } from './sync.js';
import { readText } from '../manifest/text.js';

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
  /** What validate finds (paths relative to the working folder): errors stop the push, warnings are shown in the plan. */
  diagnostics?: Diagnostic[];
  /** The changes of the plan that let more callers in or change who a function runs as. */
  access?: AccessChange[];
  rolledBackTo?: number;
  /** The data source files (configs and rules; never connection strings): how many, and whether they change. */
  dataSources?: { files: number; changed: boolean };
  /** The endpoint and webhook files, and whether they differ from the deployed ones. */
  httpEndpoints?: { files: number; changed: boolean };
  /** The trigger files (triggers/*.json): how many, and whether they change. */
  triggers?: { files: number; changed: boolean };
  /** values/*.json files that differ from the deployed ones (added, changed or removed). */
  valueChanges?: string[];
  /** The environment (environments/<tag>.json) differs from the deployed one. */
  environmentChanged?: boolean;
  /** The npm packages of the functions (functions/node_modules or its exported archive). */
  dependencies?: { packages: number; changed: boolean; hash?: string; removed?: boolean; bytes?: number };
  /** Values that read a secret the server does not have: the push is refused. */
  missingSecrets?: { value: string; secret: string; file: string }[];
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
  const base = {
    ok: false,
    url: remote.url,
    appId: remote.appId,
    remoteVersion: 0,
    plan: empty,
    dryRun: options.dryRun === true,
    upToDate: false,
    bytesSent: 0,
  };

  if (options.rollback !== undefined) {
    const current = await client.current();
    const wanted = await client.version(options.rollback);
    if (!wanted)
      throw new FnError('NOT_FOUND', `there is no version ${options.rollback} to roll back to`, { hint: 'fn deployments lists them' });
    // The plan: what redeploying that version changes against the current one.
    const rollback = {
      ...base,
      remoteVersion: current?.version ?? 0,
      rolledBackTo: options.rollback,
      plan: diffStates(remoteState(current), remoteState(wanted)),
    };
    if (options.dryRun) return { ...rollback, ok: true };
    if (!options.yes) {
      if (!ctx.interactive || !hooks.confirm)
        throw new FnError('USAGE', 'fn push --rollback deploys only after a yes: there is no terminal to ask on', { hint: 'pass --yes' });
      if (!(await hooks.confirm(rollback))) throw new FnError('CANCELLED', 'rollback cancelled; nothing was deployed');
    }
    const out = await client.rollback(options.rollback, current?.version ?? 0);
    if (!out.ok) return { ...rollback, conflict: { currentVersion: out.currentVersion } };
    return { ...rollback, ok: true, version: out.version };
  }

  const prefix = relative(ctx.cwd, project.root).split(sep).join('/');
  // Secrets on this machine are not the server's: those are checked against the server below.
  const diagnostics = checkProject(project)
    .filter((d) => d.rule !== 'missing-secret')
    .map((d) => ({ ...d, file: prefix ? `${prefix}/${d.file}` : d.file }));
  if (summarize(diagnostics).errors) return { ...base, diagnostics };

  const local = localSnapshot(project);
  const deployed = await client.current();
  const remoteVersion = deployed?.version ?? 0;
  const theirs = remoteState(deployed);
  const known = readBase(project.root, remote.url, remote.appId);
  const only = options.only
    ? new Set(
        options.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : undefined;
  if (only) {
    const unknown = [...only].filter((n) => !Object.hasOwn(local.state, n) && !Object.hasOwn(theirs, n));
    if (unknown.length) throw new FnError('USAGE', `--only names functions that exist neither here nor there: ${unknown.join(', ')}`);
  }
  const plan = diffStates(theirs, local.state, only);
  const access = accessChanges(theirs, local.state, plan);
  // values/ and the environment go with a whole push (not with --only), as one set each, from a
  // folder that has them: one without (as fn pull leaves it) keeps those deployed.
  const has = (...names: string[]) => names.some((n) => existsSync(join(project.root, n)));
  const values = only || !has('values') ? undefined : readValueFiles(project.root);
  const valueChanges = values ? changedFiles(deployed?.values ?? {}, values) : [];
  const environment = only || !has('environments', 'root_config.json', 'realm_config.json') ? undefined : readEnvironment(project.root);
  const environmentChanged =
    environment !== undefined && canonicalJson(environment) !== canonicalJson(deployed?.environment ?? { tag: '', values: {} });
  // Data source configs and rules go with every push but --only, which pushes functions alone.
  // auth/providers.json and auth/custom_user_data.json travel with them (the client API's config).
  const dataFiles = only
    ? undefined
    : withAuthFiles(dataSourceFiles(project.root), { ...readAuthFiles(project.root), ...readOriginFiles(project.root) });
  const dataChanged = dataFiles !== undefined && JSON.stringify(dataFiles) !== JSON.stringify(deployed?.dataSources ?? {});
  // HTTPS endpoints and webhooks too: with every push but --only.
  const endpointTexts = only ? undefined : endpointFiles(project.root);
  const endpointsChanged = endpointTexts !== undefined && JSON.stringify(endpointTexts) !== JSON.stringify(deployed?.httpEndpoints ?? {});
  // The packages go with every push but --only: resolved here, once, from what is installed.
  const deps = only ? undefined : localDependencies(project);
  const depsChanged = deps !== undefined && (deps.set?.hash ?? null) !== (deployed?.dependencies?.hash ?? null);
  // Values that read a secret the server lacks would deploy as undefined: refused.
  const secretNames = values ? await client.secretNames() : undefined;
  const missing = values && secretNames ? missingSecrets(values, secretNames) : [];
  // Triggers too (not with --only).
  const triggerTexts = only ? undefined : triggerFiles(project.root);
  const triggersChanged = triggerTexts !== undefined && JSON.stringify(triggerTexts) !== JSON.stringify(deployed?.triggers ?? {});
  const result: PushResult = {
    ...base,
    remoteVersion,
    plan,
    diagnostics,
    access,
    ...(valueChanges.length ? { valueChanges } : {}),
    ...(environmentChanged ? { environmentChanged } : {}),
    ...(dataFiles && (dataChanged || Object.keys(dataFiles).length)
      ? { dataSources: { files: Object.keys(dataFiles).length, changed: dataChanged } }
      : {}),
    ...(endpointTexts && (endpointsChanged || Object.keys(endpointTexts).length)
      ? { httpEndpoints: { files: Object.keys(endpointTexts).length, changed: endpointsChanged } }
      : {}),
    ...(deps && (deps.set || depsChanged)
      ? {
          dependencies: deps.set
            ? { packages: deps.set.packages, changed: depsChanged, hash: deps.set.hash, bytes: deps.set.bytes }
            : { packages: 0, changed: true, removed: true },
        }
      : {}),
    ...(missing.length ? { missingSecrets: missing } : {}),
    ...(triggerTexts && (triggersChanged || Object.keys(triggerTexts).length)
      ? { triggers: { files: Object.keys(triggerTexts).length, changed: triggersChanged } }
      : {}),
  };
  if (missing.length) return result;

  // Drift: the remote moved since this folder last saw it.
  if ((known?.version ?? 0) !== remoteVersion && !options.force) {
    const drift = diffStates(known?.functions ?? {}, theirs);
    return { ...result, drift };
  }
  if (
    isEmptyPlan(plan) &&
    !valueChanges.length &&
    !environmentChanged &&
    !dataChanged &&
    !endpointsChanged &&
    !depsChanged &&
    !triggersChanged
  ) {
    if (!options.dryRun) writeBase(project.root, { url: remote.url, appId: remote.appId, version: remoteVersion, functions: theirs });
    return { ...result, ok: true, upToDate: true };
  }
  if (options.dryRun) return { ...result, ok: true };
  if (!options.yes) {
    if (!ctx.interactive || !hooks.confirm) {
      const widening = access.length
        ? ` (and it lets more callers in or changes who functions run as: ${[...new Set(access.map((a) => a.function))].join(', ')})`
        : '';
      throw new FnError('USAGE', `fn push deploys only after a yes: there is no terminal to ask on${widening}`, {
        hint: 'pass --yes (and --dry-run first to see the plan)',
      });
    }
    if (!(await hooks.confirm(result))) throw new FnError('CANCELLED', 'push cancelled; nothing was deployed');
  }

  // Packages the server lacks are sent first (content-addressed: a set it has is not sent again).
  let depsBytes = 0;
  if (depsChanged && deps?.set && !(await client.hasDependencies(deps.set.hash))) {
    const archive = await packDependencies(deps.dir!, deps.set);
    await client.putDependencies(deps.set.hash, archive);
    depsBytes = archive.byteLength;
  }
  const manifest = only ? manifestFor(deployed, project, plan) : local.manifestText;
  const body = {
    ...changes(plan, local, (hash) => !Object.values(deployed?.functions ?? {}).includes(hash), manifest),
    ...(values ? { values } : {}),
    ...(environment ? { environment } : {}),
    ...(dataFiles ? { dataSources: dataFiles } : {}),
    ...(endpointTexts ? { httpEndpoints: endpointTexts } : {}),
    ...(depsChanged ? { dependencies: deps?.set ? { hash: deps.set.hash } : null } : {}),
    ...(triggerTexts ? { triggers: triggerTexts } : {}),
  };
  if (isEmptyPlan(plan))
    body.summary = [
      valueChanges.length && `values: ${valueChanges.join(', ')}`,
      environmentChanged && 'environment',
      dataChanged && 'data sources',
      endpointsChanged && 'endpoints',
      depsChanged && 'dependencies',
      triggersChanged && 'triggers',
    ]
      .filter(Boolean)
      .join('; ')
      .slice(0, 200);
  const out = await client.deploy(body, remoteVersion);
  if (!out.ok && 'refused' in out)
    throw new FnError('CONFLICT', `the server refused the push: ${out.refused.message}`, {
      hint: out.refused.code === 'MISSING_SECRET' ? 'fn secrets set <name> --remote, then push again' : 'push again',
    });
  if (!out.ok) return { ...result, conflict: { currentVersion: out.currentVersion }, bytesSent: out.bytesSent + depsBytes };
  const after: AppState = { ...theirs };
  for (const n of plan.deleted) delete after[n];
  for (const n of [...plan.added, ...plan.changed.map((c) => c.name)]) after[n] = local.state[n]!;
  writeBase(project.root, { url: remote.url, appId: remote.appId, version: out.version, functions: after });
  return { ...result, ok: true, version: out.version, bytesSent: out.bytesSent + depsBytes };
}

/**
 * The packages this folder deploys: the set in functions/node_modules (or its exported archive),
 * none (a package.json without dependencies), or undefined: no package.json, no packages, so the
 * deployed ones are kept. A package.json that lists dependencies with nothing installed is refused: the server
 * never installs anything.
 */
function localDependencies(project: Project): { dir: string | undefined; set: DependencySet | undefined } | undefined {
  const functionsDir = project.manifest.functionsDir;
  const where = locateModules(project.root, functionsDir);
  if (where.dir) return { dir: where.dir, set: dependencySet(where.dir) };
  const pkg = declaredDependencies(functionsDir);
  // A folder with no package.json at all (as fn pull leaves it) keeps the deployed packages.
  if (pkg === undefined) return undefined;
  const declared = Object.keys(pkg);
  if (declared.length)
    throw new FnError(
      'APP_INVALID',
      `functions/package.json lists ${declared.length} dependenc${declared.length === 1 ? 'y' : 'ies'} (${declared.slice(0, 3).join(', ')}${declared.length > 3 ? ', …' : ''}) but functions/node_modules is not installed; nothing was pushed`,
      { hint: 'run npm install in functions/ (fn push sends the installed packages; the server installs nothing)' },
    );
  return { dir: undefined, set: undefined };
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
  const summary = [
    plan.added.length && `+${plan.added.length}`,
    plan.changed.length && `~${plan.changed.length}`,
    plan.deleted.length && `-${plan.deleted.length}`,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    manifest,
    set,
    delete: plan.deleted,
    blobs,
    summary: `${summary}: ${planNames(plan).slice(0, 5).join(', ')}${planNames(plan).length > 5 ? ', …' : ''}`,
  };
}

/** The file names whose text differs between two sets of files, sorted. */
function changedFiles(from: Record<string, string>, to: Record<string, string>): string[] {
  return [...new Set([...Object.keys(from), ...Object.keys(to)])].filter((f) => from[f] !== to[f]).sort();
}

/** --only: the deployed manifest with just those entries changed (in its own format). */
function manifestFor(deployed: RemoteDeployment | undefined, project: Project, plan: Plan): string {
  const deployedFile = parseJsonFile('config.json', 'config.json', deployed?.manifest ?? '[]\n');
  const localEntry = (name: string) => project.manifest.entries.find((e) => e.name === name)?.raw;
  const { file } = syncEntries(deployedFile, planNames(plan), (name) => (plan.deleted.includes(name) ? undefined : localEntry(name)));
  return fileBytes(file);
}

/** `cwd`: the working folder, for the code frames of errors (as validate prints them). */
export function renderPush(result: PushResult, ui: Ui, cwd?: string): void {
  const c = ui.c;
  const where = `${result.appId} at ${result.url}`;
  const diagnostics = result.diagnostics ?? [];
  if (summarize(diagnostics).errors) {
    renderDiagnostics(diagnostics, ui, 'text', (file) => (cwd ? readSafe(resolve(cwd, file)) : undefined));
    ui.error('the app has errors: nothing was pushed', 'fn validate shows every problem');
    return;
  }
  if (result.rolledBackTo !== undefined) {
    if (result.dryRun)
      ui.out(`Would redeploy version ${result.rolledBackTo} of ${where} as a new version (now at ${result.remoteVersion}):`);
    else if (result.version === undefined && !result.conflict)
      ui.out(`Redeploy version ${result.rolledBackTo} of ${where} as a new version (now at ${result.remoteVersion}):`);
    else if (result.conflict)
      ui.error(`the app moved on (now version ${result.conflict.currentVersion}) while rolling back; nothing changed`);
    else ui.out(`${c.green('✔')} ${where}: version ${result.version} redeploys version ${result.rolledBackTo}:`);
    if (!result.conflict) renderPlan(result.plan, ui);
    if (result.dryRun) ui.err(c.dim('dry run: nothing was deployed'));
    return;
  }
  if (result.missingSecrets?.length) {
    for (const m of result.missingSecrets)
      ui.error(
        `value "${m.value}" (values/${m.file}) reads secret "${m.secret}", which ${where} does not have: nothing was pushed`,
        `fn secrets set ${m.secret} --remote`,
      );
    return;
  }
  if (result.drift) {
    ui.error(
      `the remote moved since this folder last pulled or pushed: ${where} is at version ${result.remoteVersion}`,
      'fn pull first to bring those changes in, or fn push --force to overwrite them',
    );
    ui.out('Changed remotely:');
    renderPlan(result.drift, ui, { added: 'added', changed: 'changed', deleted: 'deleted' });
    return;
  }
  if (result.upToDate) {
    ui.out(
      `${c.green('✔')} ${where} is up to date (version ${result.remoteVersion}, ${result.plan.unchanged} function${result.plan.unchanged === 1 ? '' : 's'})`,
    );
    return;
  }
  // Before the question on a terminal there is a plan and no outcome yet.
  const asking = !result.dryRun && result.version === undefined && !result.conflict;
  ui.out(
    `${result.dryRun ? 'Would push' : asking ? 'Will push' : 'Pushed'} to ${where} (version ${result.remoteVersion}${result.version ? ` → ${result.version}` : ''}):`,
  );
  const access = result.access ?? [];
  const marks = new Map<string, string[]>();
  for (const a of access) marks.set(a.function, [...(marks.get(a.function) ?? []), describeAccessChange(a)]);
  renderPlan(result.plan, ui, undefined, marks);
  if (result.valueChanges?.length) ui.out(`  ${c.yellow('~')} values: ${result.valueChanges.map((f) => `values/${f}`).join(', ')}`);
  if (result.environmentChanged) ui.out(`  ${c.yellow('~')} environment`);
  if (result.dataSources?.changed)
    ui.out(
      `  ${c.yellow('~')} data sources: ${result.dataSources.files} file${result.dataSources.files === 1 ? '' : 's'} (configs and rules)`,
    );
  if (result.httpEndpoints?.changed)
    ui.out(
      `  ${c.yellow('~')} endpoints: ${result.httpEndpoints.files} file${result.httpEndpoints.files === 1 ? '' : 's'} (HTTPS endpoints and webhooks)`,
    );
  if (result.dependencies) {
    const d = result.dependencies;
    if (d.removed) ui.out(`  ${c.red('-')} dependencies: none (removed)`);
    else
      ui.out(
        `  ${d.changed ? c.yellow('~') : c.dim('=')} dependencies: ${d.packages} package${d.packages === 1 ? '' : 's'} (${d.changed ? 'changed' : 'unchanged'})`,
      );
  }
  if (result.triggers?.changed)
    ui.out(`  ${c.yellow('~')} triggers: ${result.triggers.files} file${result.triggers.files === 1 ? '' : 's'}`);
  for (const d of diagnostics) ui.out(`${formatDiagnosticLine(d, ui)}${d.hint ? `\n  ${c.dim('hint:')} ${d.hint}` : ''}`);
  if (access.length) {
    const n = new Set(access.map((a) => a.function)).size;
    ui.warn(
      `${n} function${n === 1 ? '' : 's'} marked !: more callers may call ${n === 1 ? 'it' : 'them'}, or ${n === 1 ? 'it runs' : 'they run'} as someone else`,
    );
  }
  if (result.conflict)
    ui.error(
      `conflict: someone deployed version ${result.conflict.currentVersion} first; nothing was pushed`,
      'fn pull to bring their changes in, then push again',
    );
  else if (result.dryRun) ui.err(c.dim('dry run: nothing was deployed'));
  else if (!asking) ui.err(c.dim(`${result.bytesSent} bytes sent`));
}

function readSafe(file: string): string | undefined {
  try {
    return readText(file);
  } catch {
    return undefined;
  }
}

/** The data source files and the auth/ files, in one map sorted by path (as the store keeps it). */
function withAuthFiles(data: Record<string, string>, auth: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...data, ...auth }).sort(([a], [b]) => (a < b ? -1 : 1)));
}
