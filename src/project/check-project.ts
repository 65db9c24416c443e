// Every rule of fn validate over one project: the manifest's own rules, can_evaluate expressions,
// run-as scripts and the function sources. Commands that write check with this before they write.
import { readFileSync } from 'node:fs';
import { checkExpression } from '../expression/check.js';
import { compareDiagnostics, diagnostic, toPointer, type Diagnostic } from '../manifest/diagnostics.js';
import { locate } from '../manifest/json-file.js';
import { checkManifest } from '../manifest/rules.js';
import { checkScriptSource, checkSource } from '../source/check-source.js';
import type { Project } from './load-project.js';

export interface CheckOptions {
  /** Read and parse the function sources (default true). */
  sources?: boolean;
}

export function checkProject(project: Project, options: CheckOptions = {}): Diagnostic[] {
  const { manifest } = project;
  const out: Diagnostic[] = [...project.problems, ...checkManifest(manifest)];
  const file = manifest.file;
  if (file && !file.syntaxErrors.length) {
    for (const entry of manifest.entries) {
      if (typeof entry.raw.can_evaluate === 'object' && entry.raw.can_evaluate !== null && !Array.isArray(entry.raw.can_evaluate)) {
        for (const p of checkExpression(entry.raw.can_evaluate)) {
          const path = [entry.index, 'can_evaluate', ...p.path];
          out.push(diagnostic('invalid-expression', p.message, { file: file.relPath, ...locate(file, path, { key: p.key === true }), pointer: toPointer(path) }, p.hint));
        }
      }
      if (entry.runAsUserIdScriptSource.trim() !== '') {
        const error = checkScriptSource(entry.runAsUserIdScriptSource);
        if (error) {
          const path = [entry.index, 'run_as_user_id_script_source'];
          out.push(diagnostic('script-syntax', `"run_as_user_id_script_source" of "${entry.name}" does not parse: ${error.message} (script line ${error.line}, column ${error.column})`, { file: file.relPath, ...locate(file, path), pointer: toPointer(path) }, 'the script is a function source, e.g. "exports = function () { return \\"<user id>\\"; }"'));
        }
      }
    }
  }
  if (options.sources !== false) {
    for (const source of manifest.sources.values()) {
      let text: string;
      try {
        text = readFileSync(source.path, 'utf8');
      } catch (error) {
        out.push(diagnostic('source-syntax', `cannot read the file: ${(error as Error).message}`, { file: `${manifest.functionsRel}/${source.relPath}`, line: 1, column: 1 }));
        continue;
      }
      for (const p of checkSource(text.replace(/^\uFEFF/, ''))) {
        out.push(diagnostic(p.rule, p.message, { file: `${manifest.functionsRel}/${source.relPath}`, line: p.line, column: p.column }, p.hint));
      }
    }
  }
  return out.sort(compareDiagnostics);
}
