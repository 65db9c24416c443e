// fn types: the .d.ts that types the app's functions for the Base44 SDK (FunctionNameRegistry,
// FunctionSignatures) and for context.functions.execute (FnFunctionRegistry). --check compares
// the hash in the file's header with the inputs' hash and never loads TypeScript. Generation
// types the sources in worker threads (typegen/infer-thread.ts) that load ts-morph while this
// thread validates the app; --watch keeps those workers, and their projects, for the session.
import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Context } from '../context.js';
import { FnError, isFnError, type ErrorCode } from '../errors.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { writeFileAtomic } from '../manifest/write.js';
import { checkProject } from '../project/check-project.js';
import { CONFIG_FILE, requireAppRoot, type AppRoot } from '../project/find-root.js';
import { displayPath, loadProjectAt, type Project } from '../project/load-project.js';
import { ignoredByDefault, snapshotFiles, watchApp } from '../project/watch.js';
import { templatesRoot } from '../project/templates.js';
import { emitTypes, isEmittableModuleName } from '../typegen/emit.js';
import { digestChanges, functionDigests, generatorVersion, hashTypeInputs, readDigests, readHeaderHash } from '../typegen/hash.js';
import { collectInputs } from '../typegen/inputs.js';
import type { InferrerPool } from '../typegen/infer-thread.js';
import { renderDiagnostics } from '../ui/diagnostics.js';
import type { Ui } from '../ui/ui.js';

export const DEFAULT_TYPES_OUT = 'types/functions.d.ts';
export const DEFAULT_TYPES_MODULE = '@base44/sdk';

export interface TypesOptions {
  /** Output file, relative to the working folder; default: types.out of fn.config.json (relative to the app). */
  out?: string;
  /** The module whose FunctionNameRegistry is augmented; default: types.module, or @base44/sdk. */
  module?: string;
  check?: boolean;
  watch?: boolean;
}

/**
 * written / unchanged: generated (and written only when the bytes differ). current / missing /
 * stale: the answer of --check. invalid: the app has errors, nothing was written. error: a run of
 * --watch failed (the watch goes on).
 */
export type TypesState = 'written' | 'unchanged' | 'current' | 'missing' | 'stale' | 'invalid' | 'error';

export interface TypesResult {
  /** false means exit 1. */
  ok: boolean;
  state: TypesState;
  /** The output file, relative to the working folder. */
  out: string;
  /** This run wrote the file. */
  written: boolean;
  /** The file was current before this run. */
  upToDate: boolean;
  /** Manifest entries, private ones included. */
  functions: number;
  public: number;
  /** The hash of the inputs, as the header records it. */
  hash: string;
  /** Every finding when the app has errors (paths relative to the working folder). */
  diagnostics?: Diagnostic[];
  /** Why a --watch run failed. */
  error?: { code: ErrorCode; message: string; hint?: string };
  /** When stale: the functions added, removed or changed since the file was written (none: a setting or fn's version changed). */
  changes?: { added: string[]; removed: string[]; changed: string[] };
}

/** State kept between runs of --watch: the inference workers, started on first need, and what the last run saw. */
interface Session {
  inferrer?: InferrerPool;
  /** The output path and inputs hash of the last run. */
  lastKey?: string;
}

export async function runTypes(ctx: Context, options: TypesOptions): Promise<TypesResult> {
  const session: Session = {};
  try {
    return (await generate(ctx, appRoot(ctx.cwd), options, session))!;
  } finally {
    await session.inferrer?.close();
  }
}

/** Writes again on every change under the app until the context is aborted. */
export async function watchTypes(ctx: Context, options: TypesOptions, onResult: (result: TypesResult) => void): Promise<void> {
  if (options.check) throw new FnError('USAGE', '--watch cannot be used with --check', { hint: 'pick one of them' });
  const root = appRoot(ctx.cwd);
  const session: Session = {};
  const project = loadProjectAt(root.root, root.configPath);
  let failure: { error: unknown } | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolveStop) => {
    stop = resolveStop;
    if (ctx.signal.aborted) resolveStop();
    ctx.signal.addEventListener('abort', () => resolveStop(), { once: true });
  });

  // The app watcher runs one at a time and never misses a save (see project/watch.ts). A run for
  // an event that no file shows (seen by the run before) reports nothing when the inputs are
  // those of the last run.
  const run = async (changed: string[]): Promise<void> => {
    const result = await generateOrReport(ctx, root, options, session, changed.length === 0);
    if (result) onResult(result);
  };
  const paths = [project.manifest.functionsDir, ...(root.configPath ? [root.configPath] : [])];
  // Not inputs: declaration files (ours among them).
  const ignore = (path: string) => path.endsWith('.d.ts');
  const baseline = snapshotFiles(paths, (p) => ignoredByDefault(p) || ignore(p));
  await generateOrReport(ctx, root, options, session, false).then(
    (result) => void (result && onResult(result)),
    (error: unknown) => ((failure = { error }), stop()),
  );
  const watcher = await watchApp({ paths, ignore, baseline, run, onError: (error) => ((failure = { error }), stop()) });
  await stopped;
  await watcher.close();
  await session.inferrer?.close();
  if (failure) throw failure.error;
}

export function renderTypes(result: TypesResult, ui: Ui): void {
  if (result.diagnostics?.length) renderDiagnostics(result.diagnostics, ui, 'text', () => undefined);
  const out = ui.c.cyan(result.out);
  const counts = `${result.functions} function${result.functions === 1 ? '' : 's'}, ${result.public} public`;
  switch (result.state) {
    case 'written':
      ui.out(`${ui.c.green('✔')} wrote ${out} (${counts})`);
      break;
    case 'unchanged':
    case 'current':
      ui.out(`${ui.c.green('✔')} ${out} is up to date (${counts})`);
      break;
    case 'missing':
      ui.error(`${out} does not exist`, 'run fn types');
      break;
    case 'stale': {
      const ch = result.changes;
      const parts = ch
        ? [
            ch.changed.length && `changed: ${ch.changed.join(', ')}`,
            ch.added.length && `added: ${ch.added.join(', ')}`,
            ch.removed.length && `removed: ${ch.removed.join(', ')}`,
          ].filter(Boolean)
        : [];
      const why = parts.length ? parts.join('; ') : ch ? 'the settings or fn changed, not the functions' : undefined;
      ui.error(`${out} is out of date${why ? ` (${why})` : ''}`, 'run fn types');
      break;
    }
    case 'invalid': {
      const { errors } = summarize(result.diagnostics ?? []);
      ui.error(`${out} was not written: the app has ${errors} error${errors === 1 ? '' : 's'}`, 'fix them, then run fn types again');
      break;
    }
    case 'error':
      ui.error(result.error?.message ?? 'fn types failed', result.error?.hint);
      break;
  }
}

function appRoot(cwd: string): AppRoot {
  return requireAppRoot(cwd);
}

/** Where to write and which module to augment: flags first, then fn.config.json, then the defaults. */
function resolveTarget(cwd: string, project: Project, options: TypesOptions): { path: string; module: string } {
  const config = project.config.types ?? {};
  const path = options.out !== undefined ? resolve(cwd, options.out) : resolve(project.root, config.out ?? DEFAULT_TYPES_OUT);
  const module = options.module ?? config.module ?? DEFAULT_TYPES_MODULE;
  if (!isEmittableModuleName(module)) {
    const from = options.module !== undefined ? '--module' : `"types.module" in ${CONFIG_FILE}`;
    throw new FnError('USAGE', `${from} ${JSON.stringify(module)} is not a module name`, {
      hint: 'give a package name such as @base44/sdk (no quotes, backslashes or spaces)',
    });
  }
  return { path, module };
}

/** One run. With `quiet`, undefined when the inputs and output path are those of the session's last run. */
async function generate(
  ctx: Context,
  root: AppRoot,
  options: TypesOptions,
  session: Session,
  quiet = false,
): Promise<TypesResult | undefined> {
  // Generation types the sources in worker threads: start the first one before anything else, so
  // that it loads TypeScript while the app is read and validated here.
  if (!options.check && !session.inferrer) {
    const { startInferrerPool } = await import('../typegen/infer-thread.js');
    session.inferrer = startInferrerPool(readFileSync(join(templatesRoot, 'base', 'types', 'fn-runtime.d.ts'), 'utf8'));
  }
  const project = loadProjectAt(root.root, root.configPath);
  const target = resolveTarget(ctx.cwd, project, options);
  const inputs = collectInputs(project);
  const hash = hashTypeInputs({ generator: generatorVersion(), module: target.module, functions: inputs });
  const digests = functionDigests(inputs);
  const key = `${target.path}\n${hash}`;
  if (quiet && key === session.lastKey) return undefined;
  session.lastKey = key;
  const existing = readIfExists(target.path);
  const upToDate = existing !== undefined && readHeaderHash(existing) === hash;
  const base = {
    out: displayPath(ctx.cwd, target.path),
    written: false,
    upToDate,
    functions: inputs.length,
    public: inputs.filter((f) => !f.private).length,
    hash,
  };

  if (options.check) {
    // A matching hash means these exact inputs were valid when the file was written: nothing else to check.
    if (upToDate) return { ok: true, state: 'current', ...base };
    const diagnostics = blockingDiagnostics(ctx.cwd, project);
    const recorded = existing === undefined ? undefined : readDigests(existing);
    const changes = recorded ? digestChanges(recorded, digests) : undefined;
    return {
      ok: false,
      state: existing === undefined ? 'missing' : 'stale',
      ...base,
      ...(diagnostics ? { diagnostics } : {}),
      ...(changes ? { changes } : {}),
    };
  }

  // Typing runs while the app is validated; an invalid app discards the result.
  const inferred = session.inferrer!.infer(inputs);
  inferred.catch(() => {});
  const diagnostics = blockingDiagnostics(ctx.cwd, project);
  if (diagnostics) return { ok: false, state: 'invalid', ...base, diagnostics };
  const signatures = await inferred;
  const text = emitTypes(
    inputs.map((f) => ({ name: f.name, private: f.private, signature: signatures.get(f.name)! })),
    { module: target.module, hash, digests },
  );
  if (text === existing) return { ok: true, state: 'unchanged', ...base };
  try {
    writeFileAtomic(target.path, text);
  } catch (error) {
    throw new FnError('WRITE_FAILED', `cannot write ${base.out}: ${(error as Error).message}`, { cause: error });
  }
  return { ok: true, state: 'written', ...base, written: true };
}

/** In --watch, a run that fails on the project (unreadable file, bad setting) is reported and the watch goes on. */
async function generateOrReport(
  ctx: Context,
  root: AppRoot,
  options: TypesOptions,
  session: Session,
  quiet: boolean,
): Promise<TypesResult | undefined> {
  try {
    return await generate(ctx, root, options, session, quiet);
  } catch (error) {
    if (!isFnError(error) || error.code === 'INTERRUPTED' || error.code === 'INTERNAL') throw error;
    session.lastKey = undefined;
    return {
      ok: false,
      state: 'error',
      out: '',
      written: false,
      upToDate: false,
      functions: 0,
      public: 0,
      hash: '',
      error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
    };
  }
}

/** Every finding when at least one is an error (errors block generation), else undefined. */
function blockingDiagnostics(cwd: string, project: Project): Diagnostic[] | undefined {
  const diagnostics = checkProject(project);
  if (summarize(diagnostics).errors === 0) return undefined;
  const prefix = relative(cwd, project.root).split(sep).join('/');
  return diagnostics.map((d) => ({ ...d, file: prefix ? `${prefix}/${d.file}` : d.file }));
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FnError('PROJECT_UNREADABLE', `${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}
