// fn remove <name>: the manifest entry and the source file (unless --keep-source), and any
// folder left empty by it.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { allowsAnyone } from '../manifest/access.js';
import { applyEdit, fileBytes } from '../manifest/edit.js';
import { sourcePathOf } from '../manifest/names.js';
import { suggest } from '../manifest/suggest.js';
import { writeFileAtomic } from '../manifest/write.js';
import { displayPath, loadProject } from '../project/load-project.js';
import type { Ui } from '../ui/ui.js';
import { usableManifest } from './add.js';
import { dirsUpTo, removeEmptyDirs } from './scaffold.js';

export interface RemoveOptions {
  name: string;
  keepSource?: boolean;
}

export interface RemoveResult {
  ok: true;
  name: string;
  /** Entries removed from the manifest (more than one when the name was duplicated). */
  entriesRemoved: number;
  /** Files and folders removed, relative to the working folder. */
  removed: string[];
  kept: string[];
  /** --keep-source: the kept file is still a function, deployed public with the defaults. */
  warnings: string[];
}

export async function runRemove(ctx: Context, options: RemoveOptions): Promise<RemoveResult> {
  const project = loadProject(ctx.cwd);
  const { manifest } = project;
  const name = options.name;
  const entries = manifest.entries.filter((e) => e.name === name);
  const source = manifest.sources.get(name);
  if (!entries.length && !source) {
    const near = suggest(name, new Set([...manifest.entries.map((e) => e.name), ...manifest.sources.keys()]));
    throw new FnError('NOT_FOUND', `there is no function "${name}"`, {
      hint: near.length ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : 'fn list lists the functions',
    });
  }
  // A manifest that cannot be edited stops the command before anything is removed.
  let file = usableManifest(project);
  if (!entries.length && options.keepSource)
    throw new FnError('NOT_FOUND', `"${name}" has no entry, and --keep-source keeps its file: there is nothing to remove`);
  const removed: string[] = [];
  const kept: string[] = [];
  if (entries.length) {
    // Remove from the last to the first so that indexes stay right.
    for (const entry of [...entries].reverse()) file = applyEdit(file, { remove: entry.index });
    try {
      writeFileAtomic(file.path, fileBytes(file));
    } catch (error) {
      throw new FnError(
        'WRITE_FAILED',
        `cannot write ${displayPath(ctx.cwd, file.path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  }
  const sourcePath = join(manifest.functionsDir, sourcePathOf(name));
  if (source && !options.keepSource) {
    rmSync(source.path, { force: true });
    removed.push(displayPath(ctx.cwd, source.path));
    for (const dir of removeEmptyDirs(dirsUpTo(manifest.functionsDir, dirname(sourcePath)))) removed.push(displayPath(ctx.cwd, dir) + '/');
  } else if (source) kept.push(displayPath(ctx.cwd, source.path));
  const warnings: string[] = [];
  if (source && options.keepSource && entries.length) {
    // App Services deploys a source without an entry with the defaults: public, any caller, as the caller.
    const first = entries[0]!;
    const was = [
      first.private && 'private',
      !allowsAnyone(first.canEvaluate) && 'limited by can_evaluate',
      first.runAsSystem
        ? 'run as system'
        : first.runAsUserId
          ? `run as user ${first.runAsUserId}`
          : first.runAsUserIdScriptSource
            ? 'run as the user its script returns'
            : '',
    ].filter(Boolean);
    warnings.push(
      `${displayPath(ctx.cwd, source.path)} is still a function: with no entry, fn push deploys it as a public function with the defaults (any caller may call it; it runs as the caller)${was.length ? `; it was ${was.join(', ')}` : ''}. Remove the file too, or move it out of ${manifest.functionsRel}/, to keep it from being deployed`,
    );
  }
  return { ok: true, name, entriesRemoved: entries.length, removed, kept, warnings };
}

export function renderRemove(result: RemoveResult, ui: Ui): void {
  const parts: string[] = [];
  if (result.entriesRemoved) parts.push(`its entry${result.entriesRemoved > 1 ? ` (${result.entriesRemoved} of them)` : ''}`);
  if (result.removed.length) parts.push(result.removed.join(', '));
  ui.out(`${ui.c.green('✔')} removed ${ui.c.cyan(result.name)}: ${parts.join(' and ')}`);
  for (const k of result.kept) ui.out(`  kept ${k} (--keep-source)`);
  for (const w of result.warnings) ui.warn(w);
}
