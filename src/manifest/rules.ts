// The manifest's own rules: names, sources, run-as fields and unknown keys. Expression and source
// checks live with their modules (src/expression, src/source) and are joined in src/project.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { diagnostic, toPointer, type Diagnostic, type RuleId } from './diagnostics.js';
import { locate, type JsonPath } from './json-file.js';
import { MANIFEST_FIELDS, type Manifest, type ResolvedEntry } from './load.js';
import { checkName, sourcePathOf } from './names.js';
import { suggest, typoOf } from './suggest.js';
import type { SourceFile } from './sources.js';

/** The fields that decide who may call a function, as whom it runs, and what is logged. */
export const ACCESS_FIELDS = [
  'private',
  'can_evaluate',
  'run_as_system',
  'run_as_user_id',
  'run_as_user_id_script_source',
  'disable_arg_logs',
] as const;

/** What an access field left at its default means, for the unknown-access-field message. */
const ACCESS_DEFAULTS: Record<(typeof ACCESS_FIELDS)[number], string> = {
  private: 'the function is public',
  can_evaluate: 'any caller may call it',
  run_as_system: 'it runs as the caller',
  run_as_user_id: 'it runs as the caller',
  run_as_user_id_script_source: 'it runs as the caller',
  disable_arg_logs: 'its arguments are logged',
};

/** A problem of one entry; `path` is inside the entry, `key` when the key itself is at fault. */
export interface EntryProblem {
  rule: RuleId;
  message: string;
  hint?: string;
  path: JsonPath;
  key?: boolean;
}

export type EntryFieldsView = Pick<ResolvedEntry, 'name' | 'runAsSystem' | 'runAsUserId' | 'runAsUserIdScriptSource' | 'unknownFields'>;

/** The rules one entry must follow on its own: its name, its run-as fields, its keys. */
export function checkEntryShape(entry: EntryFieldsView): EntryProblem[] {
  const out: EntryProblem[] = checkName(entry.name).map((p) => ({ ...p, path: ['name'] }));
  const userId = entry.runAsUserId !== '';
  const script = entry.runAsUserIdScriptSource !== '';
  if (userId && script) {
    out.push({
      rule: 'run-as-conflict',
      message: `function "${entry.name}" sets both "run_as_user_id" and "run_as_user_id_script_source"`,
      hint: 'keep one of them: a fixed user id, or a script that returns one',
      path: ['run_as_user_id_script_source'],
      key: true,
    });
  }
  if (entry.runAsSystem && (userId || script)) {
    const ignored = userId ? 'run_as_user_id' : 'run_as_user_id_script_source';
    out.push({
      rule: 'run-as-system-override',
      message: `"run_as_system" is true, so "${ignored}" of "${entry.name}" is ignored`,
      hint: `remove "${ignored}" or set "run_as_system" to false`,
      path: [ignored],
      key: true,
    });
  }
  for (const key of entry.unknownFields) {
    // A misspelt access field fails closed: App Services would ignore it and apply the default.
    const access = typoOf(key, ACCESS_FIELDS);
    if (access) {
      out.push({
        rule: 'unknown-access-field',
        message: `"${key}" is not a function manifest field, and App Services ignores it: "${access}" stays at its default, so ${ACCESS_DEFAULTS[access]}`,
        hint: `did you mean "${access}"?`,
        path: [key],
        key: true,
      });
      continue;
    }
    const near = suggest(key, MANIFEST_FIELDS, 1)[0];
    out.push({
      rule: 'unknown-field',
      message: `"${key}" is not a function manifest field; App Services ignores it`,
      hint: near ? `did you mean "${near}"?` : `the fields are ${MANIFEST_FIELDS.join(', ')}`,
      path: [key],
      key: true,
    });
  }
  return out;
}

/** Maps entry problems to diagnostics in the manifest file. */
export function entryDiagnostics(manifest: Manifest, entry: ResolvedEntry, problems: readonly EntryProblem[]): Diagnostic[] {
  const file = manifest.file!;
  return problems.map((p) => {
    const path = [entry.index, ...p.path];
    return diagnostic(
      p.rule,
      p.message,
      { file: file.relPath, ...locate(file, path, { key: p.key === true }), pointer: toPointer(path) },
      p.hint,
    );
  });
}

export function checkManifest(manifest: Manifest): Diagnostic[] {
  const out: Diagnostic[] = outsideSources(manifest);
  const file = manifest.file;
  if (!file || file.syntaxErrors.length) return out;
  const firstByName = new Map<string, ResolvedEntry>();

  for (const entry of manifest.entries) {
    const first = firstByName.get(entry.name);
    if (first) {
      const line = locate(file, [first.index, 'name']).line;
      out.push(
        ...entryDiagnostics(manifest, entry, [
          {
            rule: 'duplicate-name',
            message: `function "${entry.name}" is already defined by entry ${first.index} (line ${line})`,
            hint: 'remove one of the two entries',
            path: ['name'],
          },
        ]),
      );
      continue;
    }
    firstByName.set(entry.name, entry);
    const problems = checkEntryShape(entry);
    if (!problems.some((p) => p.rule === 'invalid-name') && !entry.source) {
      problems.push({
        rule: 'missing-source',
        message: `function "${entry.name}" has no source file ${manifest.functionsRel}/${sourcePathOf(entry.name)}`,
        hint: missingSourceHint(entry.name, manifest),
        path: ['name'],
      });
    }
    out.push(...entryDiagnostics(manifest, entry, problems));
  }

  const declared = new Set(manifest.entries.map((e) => e.name));
  const lowerDeclared = new Map([...declared].map((n) => [n.toLowerCase(), n]));
  for (const source of manifest.sources.values()) {
    if (declared.has(source.name)) continue;
    const cased = lowerDeclared.get(source.name.toLowerCase());
    const misspelt = cased
      ? undefined
      : manifest.entries.find((e) => !e.source && nearOrphanSource(e.name, manifest)?.name === source.name);
    out.push(
      diagnostic(
        'orphan-source',
        `${manifest.functionsRel}/${source.relPath} has no entry in ${file.relPath}; App Services deploys it with the defaults`,
        { file: `${manifest.functionsRel}/${source.relPath}`, line: 1, column: 1 },
        cased
          ? `the entry "${cased}" differs only in case: rename the file or the entry`
          : misspelt
            ? `the entry "${misspelt.name}" has no source: did you mean "${source.name}"? (fn validate --fix renames the entry)`
            : `run fn validate --fix to add { "name": ${JSON.stringify(source.name)} }`,
      ),
    );
  }
  return out;
}

/** Sources linked from outside the functions folder. */
function outsideSources(manifest: Manifest): Diagnostic[] {
  const out: Diagnostic[] = [];
  // A linked source is read and deployed as if it were the app's own: one from outside the app
  // (another project, a home folder) would be uploaded without anyone asking.
  for (const source of manifest.sources.values()) {
    if (source.outside === undefined) continue;
    out.push(
      diagnostic(
        'source-outside-app',
        `${manifest.functionsRel}/${source.relPath} is a link to ${source.outside}, outside ${manifest.functionsRel}/`,
        { file: `${manifest.functionsRel}/${source.relPath}`, line: 1, column: 1 },
        'copy the file into the app instead of linking it (fn reads and deploys only what is inside the app)',
      ),
    );
  }
  return out;
}

/**
 * The source without an entry that an entry without a source most likely means (a typo on
 * either side): the nearest by edit distance, when it is near enough and no other is as near.
 */
export function nearOrphanSource(name: string, manifest: Manifest): SourceFile | undefined {
  const declared = new Set(manifest.entries.map((e) => e.name));
  const orphans = [...manifest.sources.keys()].filter((n) => !declared.has(n));
  if (checkName(name).some((p) => p.rule === 'invalid-name')) return undefined;
  const limit = Math.max(1, Math.floor(name.length / 4));
  const scored = orphans
    .map((n) => [n, distance(name.toLowerCase(), n.toLowerCase())] as const)
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1]);
  if (!scored.length || (scored.length > 1 && scored[0]![1] === scored[1]![1])) return undefined;
  return manifest.sources.get(scored[0]![0]);
}

/** Extensions people give function files that App Services does not run. */
const OTHER_EXTENSIONS = ['.ts', '.mjs', '.cjs', '.tsx', '.jsx'];

function missingSourceHint(name: string, manifest: Manifest): string {
  if (manifest.functionsDir) {
    const stem = sourcePathOf(name).replace(/\.js$/, '');
    const other = OTHER_EXTENSIONS.find((ext) => existsSync(join(manifest.functionsDir, stem + ext)));
    if (other)
      return `${manifest.functionsRel}/${stem}${other} exists; function files must be .js (plain JavaScript, which App Services runs)`;
  }
  const base = name.slice(name.lastIndexOf('/') + 1);
  const lower = name.toLowerCase();
  const candidates = [...manifest.sources.values()].filter(
    (s) => s.name.toLowerCase() === lower || s.name.endsWith('/' + base) || s.name === base,
  );
  if (candidates.length === 1) {
    const c = candidates[0]!;
    return `${manifest.functionsRel}/${c.relPath} exists: rename the entry to "${c.name}" or move the file`;
  }
  if (candidates.length > 1) return `files with that name: ${candidates.map((c) => `${manifest.functionsRel}/${c.relPath}`).join(', ')}`;
  const near = nearOrphanSource(name, manifest);
  if (near)
    return `${manifest.functionsRel}/${near.relPath} exists and has no entry: did you mean "${near.name}"? (fn validate --fix renames the entry)`;
  return `create ${manifest.functionsRel}/${sourcePathOf(name)} with: exports = function (args) { ... }`;
}
