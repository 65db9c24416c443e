// The manifest's own rules: names, sources, run-as fields and unknown keys. Expression and source
// checks live with their modules (src/expression, src/source) and are joined in src/project.
import { diagnostic, toPointer, type Diagnostic } from './diagnostics.js';
import { locate, type JsonPath } from './json-file.js';
import { MANIFEST_FIELDS, type Manifest, type ResolvedEntry } from './load.js';
import { checkName, sourcePathOf } from './names.js';
import { suggest } from './suggest.js';

export function checkManifest(manifest: Manifest): Diagnostic[] {
  const file = manifest.file;
  if (!file || file.syntaxErrors.length) return [];
  const out: Diagnostic[] = [];
  const at = (path: JsonPath, key = false) => ({ file: file.relPath, ...locate(file, path, { key }), pointer: toPointer(path) });
  const firstByName = new Map<string, ResolvedEntry>();

  for (const entry of manifest.entries) {
    const namePath = [entry.index, 'name'];
    const first = firstByName.get(entry.name);
    if (first) {
      const line = locate(file, [first.index, 'name']).line;
      out.push(diagnostic('duplicate-name', `function "${entry.name}" is already defined by entry ${first.index} (line ${line})`, at(namePath), 'remove one of the two entries'));
      continue;
    }
    firstByName.set(entry.name, entry);

    const nameProblems = checkName(entry.name);
    for (const p of nameProblems) out.push(diagnostic(p.rule, p.message, at(namePath), p.hint));
    if (!nameProblems.some((p) => p.rule === 'invalid-name') && !entry.source) {
      out.push(diagnostic('missing-source', `function "${entry.name}" has no source file ${manifest.functionsRel}/${sourcePathOf(entry.name)}`, at(namePath), missingSourceHint(entry.name, manifest)));
    }

    const userId = entry.runAsUserId !== '';
    const script = entry.runAsUserIdScriptSource !== '';
    if (userId && script) {
      out.push(diagnostic('run-as-conflict', `function "${entry.name}" sets both "run_as_user_id" and "run_as_user_id_script_source"`, at([entry.index, 'run_as_user_id_script_source'], true), 'keep one of them: a fixed user id, or a script that returns one'));
    }
    if (entry.runAsSystem && (userId || script)) {
      const ignored = userId ? 'run_as_user_id' : 'run_as_user_id_script_source';
      out.push(diagnostic('run-as-system-override', `"run_as_system" is true, so "${ignored}" of "${entry.name}" is ignored`, at([entry.index, ignored], true), `remove "${ignored}" or set "run_as_system" to false`));
    }
    for (const key of entry.unknownFields) {
      const near = suggest(key, MANIFEST_FIELDS, 1)[0];
      out.push(diagnostic('unknown-field', `"${key}" is not a function manifest field; App Services ignores it`, at([entry.index, key], true), near ? `did you mean "${near}"?` : `the fields are ${MANIFEST_FIELDS.join(', ')}`));
    }
  }

  const declared = new Set(manifest.entries.map((e) => e.name));
  const lowerDeclared = new Map([...declared].map((n) => [n.toLowerCase(), n]));
  for (const source of manifest.sources.values()) {
    if (declared.has(source.name)) continue;
    const cased = lowerDeclared.get(source.name.toLowerCase());
    out.push(
      diagnostic(
        'orphan-source',
        `${manifest.functionsRel}/${source.relPath} has no entry in ${file.relPath}; App Services deploys it with the defaults`,
        { file: `${manifest.functionsRel}/${source.relPath}`, line: 1, column: 1 },
        cased
          ? `the entry "${cased}" differs only in case: rename the file or the entry`
          : `run fn validate --fix to add { "name": ${JSON.stringify(source.name)} }`,
      ),
    );
  }
  return out;
}

function missingSourceHint(name: string, manifest: Manifest): string {
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
  return `create ${manifest.functionsRel}/${sourcePathOf(name)} with: exports = function (args) { ... }`;
}
