// Every rule of fn validate over one project: the manifest's own rules, can_evaluate expressions,
// run-as scripts and the function sources. Commands that write check with this before they write.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDataSources } from '../app/check-data-sources.js';
import { checkEndpoints } from '../app/check-endpoints.js';
import { checkValues } from '../app/values.js';
import { localSecretsPath, SecretsFile } from './secrets.js';
import { checkTriggers } from '../app/check-triggers.js';
import { loadDataSources } from '../app/data-sources.js';
import { checkExpression } from '../expression/check.js';
import { compareDiagnostics, diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { checkEntryShape, checkManifest, entryDiagnostics, type EntryFieldsView, type EntryProblem } from '../manifest/rules.js';
import { checkScriptSource, checkSource, type SourceProblem } from '../source/check-source.js';
import { SourceCache } from './source-cache.js';
import type { Project } from './load-project.js';
import { stripBom } from '../manifest/text.js';

export interface CheckOptions {
  /** Read and parse the function sources (default true). */
  sources?: boolean;
  /** Reuse source-check results of unchanged files from .fn/cache (default true). */
  cache?: boolean;
}

/** The rules of one entry that need the expression and script checkers. */
export function checkEntryContent(entry: EntryFieldsView & { raw: { can_evaluate?: unknown } }): EntryProblem[] {
  const out: EntryProblem[] = [];
  const expr = entry.raw.can_evaluate;
  if (typeof expr === 'object' && expr !== null && !Array.isArray(expr)) {
    for (const p of checkExpression(expr)) {
      out.push({
        rule: 'invalid-expression',
        message: p.message,
        ...(p.hint ? { hint: p.hint } : {}),
        path: ['can_evaluate', ...p.path],
        key: p.key === true,
      });
    }
  }
  if (entry.runAsUserIdScriptSource.trim() !== '') {
    const error = checkScriptSource(entry.runAsUserIdScriptSource);
    if (error) {
      out.push({
        rule: 'script-syntax',
        message: `"run_as_user_id_script_source" of "${entry.name}" does not parse: ${error.message} (script line ${error.line}, column ${error.column})`,
        hint: 'the script is a function source, e.g. "exports = function () { return \\"<user id>\\"; }"',
        path: ['run_as_user_id_script_source'],
      });
    }
  }
  return out;
}

/** Every rule one entry must follow on its own (what fn add checks before it writes). */
export function checkEntry(entry: EntryFieldsView & { raw: { can_evaluate?: unknown } }): EntryProblem[] {
  return [...checkEntryShape(entry), ...checkEntryContent(entry)];
}

export function checkProject(project: Project, options: CheckOptions = {}): Diagnostic[] {
  const { manifest } = project;
  const out: Diagnostic[] = [...project.problems, ...checkManifest(manifest)];
  const file = manifest.file;
  if (file && !file.syntaxErrors.length) {
    for (const entry of manifest.entries) out.push(...entryDiagnostics(manifest, entry, checkEntryContent(entry)));
  }
  if (options.sources !== false) {
    const cache = options.cache === false ? undefined : new SourceCache(project.root);
    const seen = new Set<string>();
    for (const source of manifest.sources.values()) {
      const rel = `${manifest.functionsRel}/${source.relPath}`;
      const check = (): SourceProblem[] => {
        let text: string;
        try {
          text = readFileSync(source.path, 'utf8');
        } catch (error) {
          return [{ rule: 'source-syntax', message: `cannot read the file: ${(error as Error).message}`, line: 1, column: 1 }];
        }
        return checkSource(stripBom(text));
      };
      seen.add(rel);
      const problems = cache ? cache.problems(rel, source.path, check) : check();
      for (const p of problems) out.push(diagnostic(p.rule, p.message, { file: rel, line: p.line, column: p.column }, p.hint));
    }
    cache?.save(seen);
    out.push(
      ...checkDataSources(
        project.root,
        [...manifest.sources.values()].map((s) => ({ rel: `${manifest.functionsRel}/${s.relPath}`, path: s.path })),
      ),
      ...checkEndpoints(project.root, { functions: new Set(manifest.sources.keys()), secrets: localSecretNames(project.root) }),
    );
    out.push(
      ...checkTriggers(
        project.root,
        new Set([...manifest.entries.map((e) => e.name), ...manifest.sources.keys()]),
        loadDataSources(project.root).sources.map((s) => s.name),
      ),
    );
  }
  // values/*.json, and the secrets they read from .fn/secrets.json (fn secrets set).
  let secretNames: string[] = [];
  try {
    secretNames = new SecretsFile(localSecretsPath(project.root)).list().map((s) => s.name);
  } catch {
    // an unreadable secrets file: every secret counts as missing
  }
  out.push(...checkValues(project.root, secretNames));
  return out.sort(compareDiagnostics);
}

/**
 * The names of the secrets in the folder's .fn/secrets.json (the file runtime/bundle.ts reads
 * values' secrets from; none when it is absent), or undefined when it cannot be read as an object.
 */
function localSecretNames(root: string): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, '.fn', 'secrets.json'), 'utf8');
  } catch {
    return new Set();
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? new Set(Object.keys(parsed)) : undefined;
  } catch {
    return undefined;
  }
}
