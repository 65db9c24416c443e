// fn add <name>: the source file from a template and the manifest entry, in one step, checked
// with the rules fn validate uses before anything is written.
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { appendEntries } from '../manifest/edit.js';
import { minimalEntry, type EntryFields } from '../manifest/entry.js';
import type { FunctionEntry } from '../manifest/load.js';
import { sourcePathOf } from '../manifest/names.js';
import { writeFileAtomic } from '../manifest/write.js';
import { checkEntry } from '../project/check-project.js';
import { displayPath, loadProject, type Project } from '../project/load-project.js';
import { readTemplate } from '../project/templates.js';
import type { Ui } from '../ui/ui.js';
import { createdDirs, removeEmptyDirs } from './scaffold.js';
import { readText } from '../manifest/text.js';

export interface AddOptions {
  name: string;
  private?: boolean;
  canEvaluate?: string;
  disableArgLogs?: boolean;
  runAsSystem?: boolean;
  runAsUser?: string;
  runAsScript?: string;
}

export interface AddResult {
  ok: true;
  name: string;
  entry: FunctionEntry;
  /** The source file, relative to the working folder. */
  source: string;
  /** False when the file existed (an orphan source) and was left as it was. */
  sourceCreated: boolean;
  manifest: string;
}

export async function runAdd(ctx: Context, options: AddOptions): Promise<AddResult> {
  const project = loadProject(ctx.cwd);
  const fields = readFields(ctx, options);
  const name = options.name;
  const entry = minimalEntry(name, fields);

  const problems = checkEntry({
    name,
    runAsSystem: fields.run_as_system === true,
    runAsUserId: typeof fields.run_as_user_id === 'string' ? fields.run_as_user_id : '',
    runAsUserIdScriptSource: typeof fields.run_as_user_id_script_source === 'string' ? fields.run_as_user_id_script_source : '',
    unknownFields: [],
    raw: entry,
  });
  if (problems.length) {
    const [first] = problems;
    throw new FnError('USAGE', `${first!.rule}: ${first!.message}`, {
      hint: [first!.hint, ...problems.slice(1).map((p) => `also ${p.rule}: ${p.message}`)].filter(Boolean).join('; ') || undefined,
    });
  }

  const file = usableManifest(project);
  const existing =
    project.manifest.entries.find((e) => e.name === name) ??
    project.manifest.entries.find((e) => e.name.toLowerCase() === name.toLowerCase());
  if (existing) {
    throw new FnError(
      'ALREADY_EXISTS',
      existing.name === name ? `function "${name}" already exists` : `function "${existing.name}" already exists and differs only in case`,
      { hint: `edit ${project.manifest.functionsRel}/${sourcePathOf(existing.name)}, or fn remove ${existing.name} first` },
    );
  }

  const sourcePath = join(project.manifest.functionsDir, sourcePathOf(name));
  const orphan = project.manifest.sources.get(name);
  const newDirs = orphan ? [] : createdDirs(project.manifest.functionsDir, dirname(sourcePath));
  if (!orphan) {
    if (existsSync(sourcePath))
      throw new FnError('ALREADY_EXISTS', `${displayPath(ctx.cwd, sourcePath)} exists and is not a file`, { hint: 'pick another name' });
    const blocker = fileInTheWay(project.manifest.functionsDir, dirname(sourcePath));
    if (blocker)
      throw new FnError('ALREADY_EXISTS', `${displayPath(ctx.cwd, blocker)} is a file, so "${name}" cannot have a folder there`, {
        hint: 'pick another name',
      });
    const template = readTemplate('function', { name })[0]!;
    try {
      writeFileAtomic(sourcePath, template.text);
    } catch (error) {
      removeEmptyDirs(newDirs);
      throw new FnError(
        'WRITE_FAILED',
        `cannot write ${displayPath(ctx.cwd, sourcePath)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  }
  try {
    writeFileAtomic(file.path, appendEntries(file, [entry]));
  } catch (error) {
    // Leave the app as it was: the new source goes again, with any folder made for it.
    if (!orphan) {
      rmSync(sourcePath, { force: true });
      removeEmptyDirs(newDirs);
    }
    throw new FnError('WRITE_FAILED', `cannot write ${displayPath(ctx.cwd, file.path)}: ${(error as Error).message}`, { cause: error });
  }
  return {
    ok: true,
    name,
    entry,
    source: displayPath(ctx.cwd, sourcePath),
    sourceCreated: !orphan,
    manifest: displayPath(ctx.cwd, file.path),
  };
}

/** The first path between the functions folder and `dir` that exists and is not a folder. */
function fileInTheWay(base: string, dir: string): string | undefined {
  for (let d = dir; d.length > base.length; d = dirname(d)) {
    if (existsSync(d) && !statSync(d).isDirectory()) return d;
  }
  return undefined;
}

/** The manifest as a parsed array, or the validator's findings as the reason not to edit it. */
export function usableManifest(project: Project) {
  const file = project.manifest.file;
  const blocking = project.problems.filter(
    (p) => p.rule === 'json-syntax' || p.rule === 'manifest-missing' || (p.rule === 'schema' && p.pointer === ''),
  );
  if (!file || !Array.isArray(file.value) || blocking.length) {
    const first = blocking[0];
    throw new FnError(
      'APP_INVALID',
      `${project.manifest.functionsRel}/config.json cannot be edited: ${first ? `${first.file}:${first.line}:${first.column} ${first.rule} ${first.message}` : 'it is not a JSON array'}`,
      { hint: 'fix it first (fn validate shows every problem)' },
    );
  }
  return file;
}

function readFields(ctx: Context, options: AddOptions): EntryFields {
  const fields: EntryFields = {};
  if (options.private) fields.private = true;
  if (options.disableArgLogs) fields.disable_arg_logs = true;
  if (options.runAsSystem) fields.run_as_system = true;
  if (options.runAsUser !== undefined) fields.run_as_user_id = options.runAsUser;
  if (options.canEvaluate !== undefined) fields.can_evaluate = parseCanEvaluate(options.canEvaluate);
  if (options.runAsScript !== undefined) {
    const path = resolve(ctx.cwd, options.runAsScript);
    let script: string;
    try {
      script = readText(path).replace(/\r\n/g, '\n');
    } catch (error) {
      throw new FnError(
        'USAGE',
        `--run-as-script ${options.runAsScript} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { hint: 'pass the path of a .js file whose function returns the user id' },
      );
    }
    if (script.trim() === '')
      throw new FnError('USAGE', `--run-as-script ${options.runAsScript} is empty`, {
        hint: 'the file holds a function that returns the user id: exports = function () { return "<user id>"; }',
      });
    fields.run_as_user_id_script_source = script;
  }
  return fields;
}

function parseCanEvaluate(text: string): Record<string, unknown> | boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FnError('USAGE', `--can-evaluate is not JSON: ${(error as Error).message}`, {
      hint: `quote it for the shell: --can-evaluate '{"%%user.type": "server"}'`,
    });
  }
  if (typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value)))
    return value as Record<string, unknown> | boolean;
  throw new FnError('USAGE', `schema: "can_evaluate" must be an object or true or false, found ${JSON.stringify(value)}`, {
    hint: `e.g. --can-evaluate '{"%%user.type": "server"}'`,
  });
}

export function renderAdd(result: AddResult, ui: Ui): void {
  if (result.sourceCreated)
    ui.out(
      `${ui.c.green('✔')} added ${ui.c.cyan(result.name)}: created ${ui.c.cyan(result.source)} and its entry in ${ui.c.cyan(result.manifest)}`,
    );
  else
    ui.out(
      `${ui.c.green('✔')} added the entry for ${ui.c.cyan(result.name)} to ${ui.c.cyan(result.manifest)}; ${result.source} was left as it was`,
    );
}
