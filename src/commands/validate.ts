// fn validate: every rule over the app (or apps) the given paths belong to.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { applyEdit, fileBytes } from '../manifest/edit.js';
import { nearOrphanSource } from '../manifest/rules.js';
import { writeFileAtomic } from '../manifest/write.js';
import { checkProject } from '../project/check-project.js';
import { findAppRoot, noRootHint, requireAppRoot, type AppRoot } from '../project/find-root.js';
import { displayPath, loadProjectAt, resolveAppId, type Project } from '../project/load-project.js';
import { snapshotFiles, watchApp } from '../project/watch.js';
import type { Ui } from '../ui/ui.js';
import { renderDiagnostics } from '../ui/diagnostics.js';
import { readText } from '../manifest/text.js';

export type ValidateFormat = 'text' | 'json' | 'github';

export interface ValidateOptions {
  paths?: string[];
  format?: ValidateFormat;
  strict?: boolean;
  fix?: boolean;
  staged?: boolean;
  watch?: boolean;
  /** false with --no-cache. */
  cache?: boolean;
}

export interface AppReport {
  /** The app root, relative to the working folder. */
  root: string;
  appId: string;
  functions: number;
  /** Names given an entry by --fix. */
  fixed: string[];
  /** Entries renamed by --fix to the source file their name misspelt. */
  renamed: { from: string; to: string }[];
  errors: number;
  warnings: number;
}

export interface ValidateResult {
  ok: boolean;
  strict: boolean;
  apps: AppReport[];
  /** Every finding, with file paths relative to the working folder. */
  diagnostics: Diagnostic[];
  summary: { errors: number; warnings: number; apps: number; functions: number };
  /** Paths given that belong to no app. */
  skipped: string[];
}

export async function runValidate(ctx: Context, options: ValidateOptions): Promise<ValidateResult> {
  if (options.staged && options.fix)
    throw new FnError('USAGE', '--fix cannot be used with --staged: the index is not a working tree', {
      hint: 'run fn validate --fix, then git add the manifest',
    });
  const { roots, skipped } = resolveRoots(ctx.cwd, options.paths ?? []);
  const checked: Checked[] = [];
  for (const root of roots) {
    checked.push(
      options.staged ? await validateStaged(ctx, root) : validateApp(ctx.cwd, root, options.fix === true, options.cache !== false),
    );
  }
  const result = finish(checked, skipped, options.strict === true);
  return options.format === 'github' ? rebaseForGithub(result, ctx.cwd, ctx.env) : result;
}

/**
 * GitHub attaches an annotation to a file by its path from the repository root: GITHUB_WORKSPACE
 * when set (and holding the working folder), else the git top level (the folder holding .git above the working folder), else the
 * working folder.
 */
export function githubRoot(cwd: string, env: NodeJS.ProcessEnv): string {
  // A workspace that does not hold the working folder (a temp dir in a test) cannot be the root.
  if (env.GITHUB_WORKSPACE && !relative(resolve(env.GITHUB_WORKSPACE), resolve(cwd)).startsWith('..')) return resolve(env.GITHUB_WORKSPACE);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

function rebaseForGithub(result: ValidateResult, cwd: string, env: NodeJS.ProcessEnv): ValidateResult {
  const root = githubRoot(cwd, env);
  return {
    ...result,
    diagnostics: result.diagnostics.map((d) => ({ ...d, file: relative(root, resolve(cwd, d.file)).split(sep).join('/') })),
  };
}

interface Checked {
  app: AppReport;
  diagnostics: Diagnostic[];
}

function finish(checked: Checked[], skipped: string[], strict: boolean): ValidateResult {
  const apps = checked.map((c) => c.app);
  const diagnostics = checked.flatMap((c) => c.diagnostics);
  const { errors, warnings } = summarize(diagnostics);
  return {
    ok: errors === 0 && (!strict || warnings === 0),
    strict,
    apps,
    diagnostics,
    summary: { errors, warnings, apps: apps.length, functions: apps.reduce((n, a) => n + a.functions, 0) },
    skipped,
  };
}

function resolveRoots(cwd: string, paths: string[]): { roots: AppRoot[]; skipped: string[] } {
  if (paths.length === 0) {
    return { roots: [requireAppRoot(cwd)], skipped: [] };
  }
  const roots = new Map<string, AppRoot>();
  const skipped: string[] = [];
  for (const p of paths) {
    const found = findAppRoot(resolve(cwd, p));
    if (found) roots.set(found.root, found);
    else skipped.push(p);
  }
  if (roots.size === 0)
    throw new FnError(
      'NO_APP_ROOT',
      `no app found for ${paths.join(', ')} (looked for fn.config.json or functions/config.json above each)`,
      { hint: noRootHint(resolve(cwd, paths[0]!)) },
    );
  return { roots: [...roots.values()], skipped };
}

function report(
  cwd: string,
  project: Project,
  diagnostics: Diagnostic[],
  fixed: string[],
  displayRoot = project.root,
  renamed: { from: string; to: string }[] = [],
): Checked {
  const prefix = relative(cwd, displayRoot).split(sep).join('/');
  const { errors, warnings } = summarize(diagnostics);
  return {
    app: {
      root: displayPath(cwd, displayRoot),
      appId: project.appId,
      functions: new Set([...project.manifest.entries.map((e) => e.name), ...project.manifest.sources.keys()]).size,
      fixed,
      renamed,
      errors,
      warnings,
    },
    diagnostics: diagnostics.map((d) => ({ ...d, file: prefix ? `${prefix}/${d.file}` : d.file })),
  };
}

export function validateApp(cwd: string, root: AppRoot, fix: boolean, cache = true): Checked {
  let project = loadProjectAt(root.root, root.configPath);
  let fixed: string[] = [];
  let renamed: { from: string; to: string }[] = [];
  if (fix) {
    ({ added: fixed, renamed } = fixOrphans(project));
    if (fixed.length || renamed.length) project = loadProjectAt(root.root, root.configPath);
  }
  return report(cwd, project, checkProject(project, { cache }), fixed, project.root, renamed);
}

/**
 * Renames each entry without a source to the orphan source its name misspells, then adds
 * { "name" } for every source still without an entry, changing nothing else in the file.
 */
function fixOrphans(project: Project): { added: string[]; renamed: { from: string; to: string }[] } {
  const { manifest } = project;
  let file = manifest.file;
  if (!file || file.syntaxErrors.length || !Array.isArray(file.value)) return { added: [], renamed: [] };
  const declared = new Set(manifest.entries.map((e) => e.name));
  const lower = new Set(manifest.entries.map((e) => e.name.toLowerCase()));
  const renamed: { from: string; to: string }[] = [];
  for (const entry of manifest.entries) {
    if (entry.source) continue;
    const near = nearOrphanSource(entry.name, manifest);
    if (!near || lower.has(near.name.toLowerCase()) || renamed.some((r) => r.to === near.name)) continue;
    file = applyEdit(file, { replace: entry.index, entry: { ...entry.raw, name: near.name } });
    renamed.push({ from: entry.name, to: near.name });
  }
  const named = new Set([...declared, ...renamed.map((r) => r.to)]);
  // A file that differs from an entry only in case is a rename to make by hand, not a new function.
  const orphans = [...manifest.sources.keys()].filter((n) => !named.has(n) && !lower.has(n.toLowerCase()));
  if (orphans.length) file = applyEdit(file, { append: orphans.map((name) => ({ name })) });
  if (orphans.length || renamed.length) writeFileAtomic(file.path, fileBytes(file));
  return { added: orphans, renamed };
}

/** Validates the app as it is in the git index: the staged files are checked out into a temp dir. */
async function validateStaged(ctx: Context, root: AppRoot): Promise<Checked> {
  const { execa } = await import('execa');
  const git = (args: string[], input?: string) => execa('git', args, { cwd: root.root, input, reject: false, stripFinalNewline: false });
  const top = await git(['rev-parse', '--show-toplevel']);
  if (top.exitCode !== 0)
    throw new FnError('USAGE', `--staged needs a git repository, and ${root.root} is not in one`, {
      hint: 'run fn validate without --staged',
    });
  const repo = top.stdout.trim();
  const probe = loadProjectAt(root.root, root.configPath);
  const inRepo = (abs: string) => relative(repo, abs).split(sep).join('/');
  const listed = await execa(
    'git',
    ['ls-files', '-z', '--cached', '--', inRepo(probe.manifest.functionsDir), ...(root.configPath ? [inRepo(root.configPath)] : [])],
    { cwd: repo, reject: false },
  );
  const files = listed.stdout.split('\0').filter(Boolean);
  const temp = mkdtempSync(join(tmpdir(), 'fn-staged-'));
  try {
    if (files.length) {
      const out = await execa('git', ['checkout-index', '-z', '--stdin', `--prefix=${temp}/`], {
        cwd: repo,
        input: files.join('\0'),
        reject: false,
      });
      if (out.exitCode !== 0) throw new FnError('PROJECT_UNREADABLE', `git checkout-index failed: ${out.stderr}`);
    }
    const stagedRoot = join(temp, relative(repo, root.root));
    const stagedConfig = root.configPath && files.includes(inRepo(root.configPath)) ? join(temp, inRepo(root.configPath)) : undefined;
    const project = loadProjectAt(stagedRoot, stagedConfig);
    // The app id of the real folder, not of the temp checkout.
    [project.appId, project.appIdSource] = resolveAppId(root.root, project.config);
    return report(ctx.cwd, project, checkProject(project, { cache: false }), [], root.root);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Re-validates on every change under the app until the context is aborted. */
export async function watchValidate(ctx: Context, options: ValidateOptions, onResult: (result: ValidateResult) => void): Promise<void> {
  if (options.staged) throw new FnError('USAGE', '--watch cannot be used with --staged', { hint: 'pick one of them' });
  const { roots, skipped } = resolveRoots(ctx.cwd, options.paths ?? []);
  const run = () => {
    const result = finish(
      roots.map((root) => validateApp(ctx.cwd, root, options.fix === true, options.cache !== false)),
      skipped,
      options.strict === true,
    );
    onResult(options.format === 'github' ? rebaseForGithub(result, ctx.cwd, ctx.env) : result);
  };
  const targets = roots.flatMap((r) => {
    const project = loadProjectAt(r.root, r.configPath);
    return [project.manifest.functionsDir, ...(r.configPath ? [r.configPath] : [])];
  });
  // What the first run sees: an edit made while it runs gives one more once the watch is ready.
  const baseline = snapshotFiles(targets);
  run();
  let failure: { error: unknown } | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolveDone) => {
    stop = resolveDone;
    if (ctx.signal.aborted) resolveDone();
    ctx.signal.addEventListener('abort', () => resolveDone(), { once: true });
  });
  const watcher = await watchApp({ paths: targets, baseline, run, onError: (error) => ((failure = { error }), stop()) });
  await stopped;
  await watcher.close();
  if (failure) throw failure.error;
}

/** `cwd` lets the text format show a code frame; frames are left out for --staged (the index may differ). */
export function renderValidate(result: ValidateResult, ui: Ui, options: ValidateOptions, cwd?: string): void {
  const format = options.format ?? 'text';
  if (format === 'json') {
    if (options.watch) ui.ndjson(result);
    else ui.json(result);
    return;
  }
  for (const path of result.skipped) ui.warn(`${path} belongs to no app; skipped`);
  for (const app of result.apps) {
    for (const r of app.renamed)
      ui.success(
        `renamed the entry "${r.from}" to "${r.to}" in ${app.root === '.' ? '' : app.root + '/'}functions/config.json: its source file is ${r.to}.js`,
      );
    if (app.fixed.length)
      ui.success(
        `added ${app.fixed.length} entr${app.fixed.length === 1 ? 'y' : 'ies'} to ${app.root === '.' ? '' : app.root + '/'}functions/config.json: ${app.fixed.join(', ')}`,
      );
  }
  const read = cwd && !options.staged ? (file: string) => readSafe(resolve(cwd, file)) : () => undefined;
  renderDiagnostics(result.diagnostics, ui, format, read);
  if (format === 'github') return;
  const { errors, warnings, functions, apps } = result.summary;
  const where = `${functions} function${functions === 1 ? '' : 's'}${apps > 1 ? ` in ${apps} apps` : ''}`;
  if (errors === 0 && warnings === 0) ui.out(`${ui.c.green('✔')} no problems (${where})`);
  else {
    const parts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    const mark = result.ok ? ui.c.yellow('⚠') : ui.c.red('✖');
    ui.out(
      `${mark} ${errors + warnings} problem${errors + warnings === 1 ? '' : 's'} (${parts}) in ${where}${!result.ok && errors === 0 ? ' — failing because of --strict' : ''}`,
    );
  }
}

function readSafe(file: string): string | undefined {
  try {
    return readText(file);
  } catch {
    return undefined;
  }
}
