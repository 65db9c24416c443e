// fn pull: brings the remote app into the folder. Writes the changed sources, removes functions
// deleted remotely, and edits only the manifest entries that differ (format kept). Never touches
// files that are not functions, and never overwrites local changes without --force.
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { fileBytes, syncEntries } from '../manifest/edit.js';
import { diffStates, isEmptyPlan, planNames, type AppState, type Plan } from '../manifest/hash.js';
import { parseJsonFile } from '../manifest/json-file.js';
import { checkName, sourcePathOf } from '../manifest/names.js';
import { writeFileAtomic } from '../manifest/write.js';
import { CONFIG_FILE, findAppRoot } from '../project/find-root.js';
import { displayPath, loadProjectAt, type Project } from '../project/load-project.js';
import { readBase, writeBase } from '../project/state.js';
import { readTemplate } from '../project/templates.js';
import type { RemoteDeployment } from '../remote/deployments.js';
import type { Ui } from '../ui/ui.js';
import { dirsUpTo, removeEmptyDirs } from './scaffold.js';
import { connect, localSnapshot, remoteState, renderPlan, type TargetFlags } from './sync.js';

export interface PullOptions extends TargetFlags {
  force?: boolean;
  dryRun?: boolean;
}

export interface PullResult {
  ok: boolean;
  url: string;
  appId: string;
  version: number;
  root: string;
  /** What pulling does to the folder. */
  plan: Plan;
  /** Functions changed here since the last pull or push that the pull would overwrite. */
  conflicts: string[];
  created: boolean;
  dryRun: boolean;
  written: string[];
  removed: string[];
}

const IGNORABLE = new Set(['.git', '.DS_Store', '.fn', '.gitignore', 'README.md']);

export async function runPull(ctx: Context, options: PullOptions): Promise<PullResult> {
  const found = findAppRoot(ctx.cwd);
  let project: Project | undefined = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const root = project?.root ?? ctx.cwd;
  if (!project && existsSync(root)) {
    const present = readdirSync(root).filter((n) => !IGNORABLE.has(n));
    if (present.length)
      throw new FnError('NOT_EMPTY', `${root} is not an app and not empty: fn pull creates an app only in an empty folder`, {
        hint: 'run it in an empty folder, or inside the app',
      });
  }
  const { remote, client } = connect(ctx, options, project);
  const deployed = await client.current();
  if (!deployed)
    throw new FnError('NOT_FOUND', `nothing is deployed for "${remote.appId}" at ${remote.url}`, { hint: 'fn push deploys this folder' });
  checkRemoteNames(deployed, remote.url);
  const theirs = remoteState(deployed);
  const local = project ? localSnapshot(project) : undefined;
  const mine: AppState = local?.state ?? {};
  const known = project ? readBase(project.root, remote.url, remote.appId) : undefined;

  // A three-way merge against the version this folder last saw: what changed remotely comes in,
  // what changed only here stays. With no such base, the remote wins except for functions it
  // does not have (new work here).
  const same = (a: AppState[string] | undefined, b: AppState[string] | undefined) => JSON.stringify(a) === JSON.stringify(b);
  const get = (s: AppState | undefined, n: string) => (s && Object.hasOwn(s, n) ? s[n] : undefined);
  const target: AppState = {};
  const conflicts: string[] = [];
  for (const name of new Set([...Object.keys(mine), ...Object.keys(theirs), ...Object.keys(known?.functions ?? {})])) {
    const l = get(mine, name);
    const r = get(theirs, name);
    const b = get(known?.functions, name);
    const remoteChanged = known ? !same(r, b) : r !== undefined;
    const localChanged = known ? !same(l, b) : l !== undefined;
    const t = remoteChanged ? r : l;
    if (t) target[name] = t;
    if (remoteChanged && localChanged && !same(l, r)) conflicts.push(name);
  }
  conflicts.sort();
  const plan = diffStates(mine, target);
  const result: PullResult = {
    ok: false,
    url: remote.url,
    appId: remote.appId,
    version: deployed.version,
    root: displayPath(ctx.cwd, root),
    plan,
    conflicts,
    created: !project,
    dryRun: options.dryRun === true,
    written: [],
    removed: [],
  };
  if (conflicts.length && !options.force) return result;
  if (options.dryRun) return { ...result, ok: true };

  const asked = planNames(plan).filter(
    (n) => Object.hasOwn(theirs, n) && (plan.added.includes(n) || plan.changed.some((c) => c.name === n && c.source)),
  );
  const sources = await client.sources(asked);
  checkSources(sources, asked, remote.url);
  if (!project) {
    // What fn init writes (config, .gitignore, jsconfig.json, runtime types), with the remote
    // pulled from as the local one; a file already there (a .gitignore) is kept.
    for (const file of readTemplate('base', { appId: remote.appId, name: basename(root) })) {
      let text = file.text;
      if (file.path === CONFIG_FILE) {
        const config = JSON.parse(text) as { appId?: string; remotes?: Record<string, { url: string }> };
        text =
          JSON.stringify({ ...config, appId: remote.appId, remotes: { ...config.remotes, local: { url: remote.url } } }, null, 2) + '\n';
      } else if (existsSync(join(root, file.path))) continue;
      writeFileAtomic(join(root, file.path), text);
      result.written.push(file.path);
    }
    // A new folder gets the deployed values/ too (an existing one keeps its own: no merge yet).
    for (const [file, text] of Object.entries(deployed.values ?? {})) {
      if (!/^[^/\\]+\.json$/.test(file)) continue;
      writeFileAtomic(join(root, 'values', file), text);
      result.written.push(`values/${file}`);
    }
    project = loadProjectAt(root, join(root, CONFIG_FILE));
  }
  // Every path pulling writes or removes is checked before anything is written.
  const targets = [...Object.keys(sources), ...plan.deleted].map((n) => join(project.manifest.functionsDir, sourcePathOf(n)));
  checkNoLinks(project.root, [...targets, join(project.manifest.functionsDir, 'config.json')]);
  await apply(project, deployed, plan, result, sources);
  writeBase(project.root, { url: remote.url, appId: remote.appId, version: deployed.version, functions: theirs });
  return { ...result, ok: true };
}

/** Longest function name pulled: names are file paths, and file systems limit them. */
export const MAX_PULLED_NAME = 200;

/** Why a name a server returns cannot be written, or undefined when it can. */
export function badPulledName(name: string): string | undefined {
  if (name.length > MAX_PULLED_NAME) return `is longer than ${MAX_PULLED_NAME} characters`;
  const problem = checkName(name).find((p) => p.rule === 'invalid-name');
  if (problem) return problem.message.replace(/^function name ".*?" /s, '');
  if (name.split('/').some((s) => s === '__proto__' || s === 'constructor' || s === 'prototype')) return 'is a reserved word';
  if (name.split('/').some((s) => Buffer.byteLength(s) > 255)) return 'has a folder or file name longer than 255 bytes';
  return undefined;
}

const refuse = (url: string, name: string, why: string) =>
  new FnError(
    'REMOTE_ERROR',
    `the server at ${url} returned a function name that cannot be pulled: ${JSON.stringify(name).slice(0, 120)} ${why}; nothing was written`,
    { hint: 'the deployment there is damaged or the server is not a fn server: check the URL, or redeploy from a good copy' },
  );

/** The names of a deployment (sources and manifest entries): all must be names a folder can hold. */
function checkRemoteNames(deployed: RemoteDeployment, url: string): void {
  const functions = deployed.functions as unknown;
  if (typeof functions !== 'object' || functions === null || Array.isArray(functions))
    throw new FnError('REMOTE_ERROR', `the server at ${url} returned a deployment without functions; nothing was written`);
  const names = Object.keys(functions);
  const entries = parseJsonFile('remote', 'remote', typeof deployed.manifest === 'string' ? deployed.manifest : '').value;
  if (Array.isArray(entries))
    for (const e of entries) if (typeof (e as { name?: unknown })?.name === 'string') names.push((e as { name: string }).name);
  for (const name of names) {
    const why = badPulledName(name);
    if (why) throw refuse(url, name, why);
  }
}

/** Sources come back only for the names asked, each a text. */
function checkSources(sources: Record<string, string>, asked: string[], url: string): void {
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources))
    throw new FnError('REMOTE_ERROR', `the server at ${url} returned no sources; nothing was written`);
  const wanted = new Set(asked);
  for (const [name, text] of Object.entries(sources)) {
    if (!wanted.has(name)) throw refuse(url, name, 'was never asked for');
    const why = badPulledName(name);
    if (why) throw refuse(url, name, why);
    if (typeof text !== 'string') throw refuse(url, name, 'came without a source text');
  }
}

/**
 * Every path is inside the app, and no folder on the way from the app's root to it, nor the file
 * itself, is a symbolic link: pulling never writes through a link to somewhere else.
 */
function checkNoLinks(root: string, paths: string[]): void {
  for (const path of paths) {
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep))
      throw new FnError('PROJECT_INVALID', `${path} is outside the app; nothing was written`);
    let at = root;
    for (const part of rel.split(sep)) {
      at = join(at, part);
      let isLink: boolean;
      try {
        isLink = lstatSync(at).isSymbolicLink();
      } catch {
        break; // does not exist yet: created as a plain folder or file
      }
      if (isLink)
        throw new FnError(
          'PROJECT_INVALID',
          `${relative(root, at)} is a symbolic link: fn pull does not write through links; nothing was written`,
          { hint: 'replace the link with a plain folder or file, then pull again' },
        );
    }
  }
}

async function apply(
  project: Project,
  deployed: RemoteDeployment,
  plan: Plan,
  result: PullResult,
  sources: Record<string, string>,
): Promise<void> {
  const { manifest } = project;
  const rel = (name: string) => `${manifest.functionsRel}/${sourcePathOf(name)}`;
  for (const [name, text] of Object.entries(sources)) {
    writeFileAtomic(join(manifest.functionsDir, sourcePathOf(name)), text);
    result.written.push(rel(name));
  }
  for (const name of plan.deleted) {
    const path = join(manifest.functionsDir, sourcePathOf(name));
    rmSync(path, { force: true });
    removeEmptyDirs(dirsUpTo(manifest.functionsDir, dirname(path)));
    result.removed.push(rel(name));
  }
  // The manifest: the deployed text when there is none here; else only the entries that differ.
  const manifestPath = join(manifest.functionsDir, 'config.json');
  if (!manifest.file || manifest.file.syntaxErrors.length || !Array.isArray(manifest.file.value)) {
    writeFileAtomic(manifestPath, deployed.manifest);
    result.written.push(`${manifest.functionsRel}/config.json`);
    return;
  }
  const remoteEntries = parseJsonFile('remote', 'remote', deployed.manifest).value;
  const wanted = new Map<string, Record<string, unknown>>();
  if (Array.isArray(remoteEntries))
    for (const e of remoteEntries)
      if (typeof (e as { name?: unknown })?.name === 'string') wanted.set((e as { name: string }).name, e as Record<string, unknown>);
  const { file, changed: edited } = syncEntries(manifest.file, planNames(plan), (name) =>
    plan.deleted.includes(name) ? undefined : wanted.get(name),
  );
  if (edited) {
    writeFileAtomic(manifestPath, fileBytes(file));
    result.written.push(`${manifest.functionsRel}/config.json`);
  }
}

export function renderPull(result: PullResult, ui: Ui): void {
  const c = ui.c;
  const where = `${result.appId} at ${result.url}`;
  if (result.conflicts.length && !result.ok) {
    ui.error(
      `local changes would be overwritten: ${result.conflicts.join(', ')}`,
      'push them first, move them aside, or fn pull --force to take the remote version',
    );
    renderPlan(result.plan, ui, { added: 'add', changed: 'overwrite', deleted: 'delete' });
    return;
  }
  if (isEmptyPlan(result.plan)) {
    ui.out(`${c.green('✔')} ${result.root} is up to date with ${where} (version ${result.version})`);
    return;
  }
  ui.out(
    `${result.dryRun ? 'Would pull' : 'Pulled'} version ${result.version} of ${where}${result.created ? ` into a new app in ${result.root}` : ''}:`,
  );
  renderPlan(result.plan, ui, { added: 'add', changed: 'update', deleted: 'delete' });
  if (result.dryRun) ui.err(c.dim('dry run: nothing was written'));
}
