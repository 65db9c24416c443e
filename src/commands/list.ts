// fn list: the functions of the app here (or, with --remote, of the deployed app) with what
// decides who may call them: private, who they run as, whether can_evaluate is set.
import type { Context } from '../context.js';
import { manifestFromText, type Manifest } from '../manifest/load.js';
import { sourcePathOf } from '../manifest/names.js';
import type { SourceFile } from '../manifest/sources.js';
import { compareNames } from '../typegen/inputs.js';
import { findAppRoot } from '../project/find-root.js';
import { loadProject, loadProjectAt } from '../project/load-project.js';
import type { Ui } from '../ui/ui.js';
import { connect, type TargetFlags } from './sync.js';

export interface ListOptions extends Omit<TargetFlags, 'remote'> {
  remote?: string | boolean;
}

export interface ListedFunction {
  name: string;
  private: boolean;
  /** "caller", "system", "user <id>" or "script". */
  runAs: string;
  /** can_evaluate is set to something other than {} (allowed). */
  canEvaluate: boolean;
  /** It has a manifest entry (a source alone is deployed with the defaults). */
  entry: boolean;
  /** It has a source file. */
  source: boolean;
}

export interface ListResult {
  ok: true;
  /** "local", or the URL of the server listed with --remote. */
  where: string;
  appId: string;
  /** The deployed version under --remote. */
  version?: number;
  functions: ListedFunction[];
}

export async function runList(ctx: Context, options: ListOptions): Promise<ListResult> {
  if (options.remote === undefined || options.remote === false) {
    const project = loadProject(ctx.cwd);
    return { ok: true, where: 'local', appId: project.appId, functions: listFunctions(project.manifest) };
  }
  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const { remote, client } = connect(ctx, { ...options, remote: typeof options.remote === 'string' ? options.remote : undefined }, project);
  const deployed = await client.current();
  if (!deployed) return { ok: true, where: remote.url, appId: remote.appId, version: 0, functions: [] };
  const sources = new Map<string, SourceFile>(
    Object.keys(deployed.functions).map((n) => [n, { name: n, path: '', relPath: sourcePathOf(n) }]),
  );
  return {
    ok: true,
    where: remote.url,
    appId: remote.appId,
    version: deployed.version,
    functions: listFunctions(manifestFromText(deployed.manifest, sources)),
  };
}

/** Every entry and every source without one (served with the defaults), sorted by name. */
export function listFunctions(manifest: Manifest): ListedFunction[] {
  const out = new Map<string, ListedFunction>();
  for (const e of manifest.entries) {
    if (out.has(e.name)) continue;
    const runAs = e.runAsSystem ? 'system' : e.runAsUserId ? `user ${e.runAsUserId}` : e.runAsUserIdScriptSource ? 'script' : 'caller';
    const canEvaluate = typeof e.canEvaluate === 'boolean' || Object.keys(e.canEvaluate).length > 0;
    out.set(e.name, { name: e.name, private: e.private, runAs, canEvaluate, entry: true, source: manifest.sources.has(e.name) });
  }
  for (const name of manifest.sources.keys()) {
    if (!out.has(name)) out.set(name, { name, private: false, runAs: 'caller', canEvaluate: false, entry: false, source: true });
  }
  return [...out.values()].sort((a, b) => compareNames(a.name, b.name));
}

export function renderList(result: ListResult, ui: Ui): void {
  const c = ui.c;
  const where = result.where === 'local' ? `${result.appId} (here)` : `${result.appId} at ${result.where}, version ${result.version}`;
  if (!result.functions.length) {
    ui.err(c.dim(`${where} has no functions`));
    return;
  }
  const rows = result.functions.map((f) => [
    f.name,
    f.private ? 'private' : 'public',
    f.runAs,
    f.canEvaluate ? 'yes' : '-',
    !f.entry ? 'no entry: defaults' : !f.source ? 'no source' : '',
  ]);
  const head = ['NAME', 'ACCESS', 'RUN AS', 'CAN_EVALUATE', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  ui.out(c.dim(line(head)));
  for (const r of rows) ui.out(line(r));
  ui.err(c.dim(`${result.functions.length} function${result.functions.length === 1 ? '' : 's'} in ${where}`));
}
