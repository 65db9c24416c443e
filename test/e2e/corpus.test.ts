// fn validate over real App Services apps nobody on this project wrote (../shared/corpus).
// Each app is rebuilt in a temp folder: its functions/config.json byte for byte, a stub per .js
// listed in files.txt, an empty file for everything else. The JSON result is then checked against
// expectations computed here, from the manifest and files.txt alone, without fn's code.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../src/manifest/diagnostics.js';
import {
  atlasDir,
  eachLimited,
  legacyDir,
  listLines,
  materialise,
  readCorpusApp,
  sharedMissing,
  STUB,
  type CorpusApp,
} from './corpus-apps.js';
import { cleanupTemps, fn, tempDir, type RunResult } from './helpers.js';

const INVALID_JSON_APP = 'mostafa-aboelnaga__MongoDB-App-Services-Template';
const MANIFEST = 'functions/config.json';
const FIELDS = ['name', 'private', 'can_evaluate', 'disable_arg_logs', 'run_as_system', 'run_as_user_id', 'run_as_user_id_script_source'];
const PORTABLE_SEGMENT = /^[A-Za-z0-9_-]+$/;

interface Diagnostic {
  severity: string;
  rule: string;
  message: string;
  file: string;
  line: number;
  column: number;
  pointer?: string;
  hint?: string;
}

interface ValidateJson {
  ok: boolean;
  strict: boolean;
  apps: { root: string; appId: string; functions: number; fixed: string[]; errors: number; warnings: number }[];
  diagnostics: Diagnostic[];
  summary: { errors: number; warnings: number; apps: number; functions: number };
  skipped: string[];
}

// ---------------------------------------------------------------------------------------------
// Expectations, from the documented rules (README "Rules") applied to the raw JSON and files.txt.

interface Expected {
  jsonValid: boolean;
  /** Source names (path without .js) of every .js not under node_modules/, by name. */
  sources: Map<string, string>;
  /** Entry names without a source (each once), with their entry index: one missing-source each. */
  missing: Map<string, number>;
  /** functions/<path> of every source with no entry: one orphan-source each. */
  orphans: string[];
  /** Pointers (/i/name) of entries repeating an earlier name: one duplicate-name each. */
  duplicates: string[];
  /** Pointers of names that cannot be a path under functions/: one invalid-name error each, and no missing-source. */
  invalidNames: string[];
  /** Pointers of other names with a segment outside [A-Za-z0-9_-]: one name-not-portable warning each. */
  unportableNames: string[];
  /** Entries setting both run-as fields: one run-as-conflict each (pointer of the script field). */
  conflicts: string[];
  /** Entries with run_as_system true and a non-empty user id or script: pointer of the ignored field. */
  overrides: string[];
  /** Entries with run_as_system true next to "run_as_user_id": "" (rule f: never an override). */
  emptyUserIdBesideSystem: string[];
  unknownFields: string[];
  /** True when the manifest breaks the JSON Schema (not an array, an entry without a name, a field of the wrong type). */
  schemaBroken: boolean;
  /** Non-empty run_as_user_id_script_source values that do not compile as a script or a function expression. */
  badScripts: number;
  /** Distinct function names: entries plus sources. */
  functions: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSet = (v: unknown) => typeof v === 'string' && v !== '';

function underNodeModules(rel: string): boolean {
  return rel.split('/').slice(0, -1).includes('node_modules');
}

function compiles(script: string): boolean {
  for (const text of [script, `(${script}\n)`]) {
    try {
      new Script(text);
      return true;
    } catch {
      // try the next form
    }
  }
  return false;
}

function expectationsFor(app: CorpusApp): Expected {
  const sources = new Map<string, string>();
  for (const rel of app.files) {
    // A file named just ".js" has no name; node_modules/ holds dependencies, never functions.
    if (rel.endsWith('.js') && !rel.endsWith('/.js') && rel !== '.js' && !underNodeModules(rel)) sources.set(rel.slice(0, -3), rel);
  }
  const expected: Expected = {
    jsonValid: true,
    sources,
    missing: new Map(),
    orphans: [],
    duplicates: [],
    invalidNames: [],
    unportableNames: [],
    conflicts: [],
    overrides: [],
    emptyUserIdBesideSystem: [],
    unknownFields: [],
    schemaBroken: false,
    badScripts: 0,
    functions: 0,
  };
  let value: unknown;
  try {
    value = JSON.parse(app.text.replace(/^\uFEFF/, ''));
  } catch {
    expected.jsonValid = false;
    // A manifest that is not JSON is checked no further: no entry, so no missing or orphan source.
    expected.functions = sources.size;
    return expected;
  }
  if (!Array.isArray(value)) {
    expected.schemaBroken = true;
    expected.functions = sources.size;
    return expected;
  }
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
      expected.schemaBroken = true;
      return;
    }
    for (const [key, v] of Object.entries(entry)) {
      if (['private', 'disable_arg_logs', 'run_as_system'].includes(key) && typeof v !== 'boolean') expected.schemaBroken = true;
      if (['run_as_user_id', 'run_as_user_id_script_source'].includes(key) && typeof v !== 'string') expected.schemaBroken = true;
      if (key === 'can_evaluate' && !isObject(v) && typeof v !== 'boolean') expected.schemaBroken = true;
    }
    const name = entry.name;
    // The script is compiled for every entry, duplicates included.
    if (
      typeof entry.run_as_user_id_script_source === 'string' &&
      entry.run_as_user_id_script_source.trim() !== '' &&
      !compiles(entry.run_as_user_id_script_source)
    )
      expected.badScripts++;
    if (seen.has(name)) {
      // A repeated name is reported once, as duplicate-name; its other fields are not checked.
      expected.duplicates.push(`/${i}/name`);
      return;
    }
    seen.add(name);
    if (isInvalidName(name)) expected.invalidNames.push(`/${i}/name`);
    else {
      if (!name.split('/').every((s) => PORTABLE_SEGMENT.test(s))) expected.unportableNames.push(`/${i}/name`);
      if (!sources.has(name)) expected.missing.set(name, i);
    }
    if (isSet(entry.run_as_user_id) && isSet(entry.run_as_user_id_script_source))
      expected.conflicts.push(`/${i}/run_as_user_id_script_source`);
    if (entry.run_as_system === true) {
      if (isSet(entry.run_as_user_id)) expected.overrides.push(`/${i}/run_as_user_id`);
      else if (isSet(entry.run_as_user_id_script_source)) expected.overrides.push(`/${i}/run_as_user_id_script_source`);
      if (entry.run_as_user_id === '') expected.emptyUserIdBesideSystem.push(`/${i}/run_as_user_id`);
    }
    for (const key of Object.keys(entry)) if (!FIELDS.includes(key)) expected.unknownFields.push(`/${i}/${key}`);
  });
  expected.orphans = [...sources].filter(([name]) => !seen.has(name)).map(([, rel]) => `functions/${rel}`);
  expected.functions = new Set([...seen, ...sources.keys()]).size;
  return expected;
}

/** A name that cannot be a file under functions/: a backslash, a control character, a leading or trailing '/', an empty, '.' or '..' segment. */
function isInvalidName(name: string): boolean {
  if (name.includes('\\') || /[\u0000-\u001f\u007f-\u009f]/.test(name)) return true;
  return name.split('/').some((s) => s === '' || s === '.' || s === '..');
}

function expectedExitCode(e: Expected): 0 | 1 {
  const errors =
    !e.jsonValid ||
    e.schemaBroken ||
    e.missing.size > 0 ||
    e.duplicates.length > 0 ||
    e.invalidNames.length > 0 ||
    e.conflicts.length > 0 ||
    e.badScripts > 0;
  return errors ? 1 : 0;
}

/** The characters of `text` from a 1-based line and column (UTF-16 units; CRLF, LF and CR end lines). */
function textAt(text: string, line: number, column: number): string {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  return (lines[line - 1] ?? '').slice(column - 1);
}

function lineCount(text: string): number {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).length;
}

// ---------------------------------------------------------------------------------------------

const noAtlas = sharedMissing(atlasDir);
const appIds = noAtlas
  ? []
  : readdirSync(atlasDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
const apps = new Map(appIds.map((id) => [id, readCorpusApp(id)]));
const results = new Map<string, RunResult>();
/** Apps the rules say have findings: run in text format too (code frames read the files). */
const withFindings = appIds.filter((id) => {
  const e = expectationsFor(apps.get(id)!);
  const lists = [e.orphans, e.duplicates, e.invalidNames, e.unportableNames, e.conflicts, e.overrides, e.unknownFields];
  return !e.jsonValid || e.schemaBroken || e.badScripts > 0 || e.missing.size > 0 || lists.some((l) => l.length > 0);
});
const textResults = new Map<string, RunResult>();

afterAll(() => cleanupTemps());

describe.skipIf(noAtlas !== undefined)(`fn validate on the App Services corpus${noAtlas ? ` (${noAtlas})` : ''}`, () => {
  beforeAll(async () => {
    await eachLimited(appIds, 4, async (id) => {
      const root = materialise(apps.get(id)!);
      results.set(id, await fn(['validate', '--format', 'json'], { cwd: root }));
      if (withFindings.includes(id)) textResults.set(id, await fn(['validate'], { cwd: root }));
    });
  }, 180_000);

  it('has the corpus the README describes', () => {
    expect(appIds).toHaveLength(157);
    expect(withFindings.length).toBeGreaterThan(10);
    const invalid = appIds.filter((id) => !expectationsFor(apps.get(id)!).jsonValid);
    expect(invalid).toEqual([INVALID_JSON_APP]);
    // The odd cases the rules below must hold for are really there (no vacuous assertion).
    const texts = [...apps.values()].map((a) => a.text);
    expect(texts.filter((t) => t.includes('\r\n')).length).toBe(2);
    expect(texts.filter((t) => !t.endsWith('\n')).length).toBe(5);
    const all = [...apps.values()].map(expectationsFor);
    expect(all.filter((e) => e.missing.size > 0).length).toBe(4);
    expect(all.filter((e) => e.orphans.length > 0).length).toBe(13);
    expect(all.flatMap((e) => e.emptyUserIdBesideSystem).length).toBeGreaterThan(0);
    expect(
      [...apps.values()].filter((a) => a.files.some((f) => f.startsWith('node_modules/') && f.endsWith('.js'))).length,
    ).toBeGreaterThan(0);
    expect([...apps.values()].some((a) => a.appDir === '😈/')).toBe(true);
    expect([...apps.values()].some((a) => a.files.includes('new one.js'))).toBe(true);
  });

  it.each(appIds)('%s', (id) => {
    const app = apps.get(id)!;
    const result = results.get(id)!;
    const e = expectationsFor(app);

    // The contract: a verdict (0 or 1), never an internal error (70) nor "no project" (3).
    expect([0, 1], result.stderr).toContain(result.exitCode);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as ValidateJson;
    const ds = out.diagnostics;

    for (const d of ds) {
      expect(Object.keys(RULES)).toContain(d.rule);
      expect(d.severity).toBe(RULES[d.rule as keyof typeof RULES]);
      expect(Number.isInteger(d.line) && d.line >= 1, `${d.rule} line ${d.line}`).toBe(true);
      expect(Number.isInteger(d.column) && d.column >= 1, `${d.rule} column ${d.column}`).toBe(true);
      if (d.file === MANIFEST) expect(d.line).toBeLessThanOrEqual(lineCount(app.text));
    }
    const byRule = (rule: string) => ds.filter((d) => d.rule === rule);

    // Summary and verdict agree with the diagnostics and with the rules.
    expect(result.exitCode, JSON.stringify(ds.filter((d) => d.severity === 'error').slice(0, 3))).toBe(expectedExitCode(e));
    expect(out.ok).toBe(result.exitCode === 0);
    expect(out.summary).toEqual({
      errors: ds.filter((d) => d.severity === 'error').length,
      warnings: ds.filter((d) => d.severity === 'warning').length,
      apps: 1,
      functions: e.functions,
    });
    expect(out.apps).toHaveLength(1);
    expect(out.apps[0]).toMatchObject({
      root: '.',
      functions: e.functions,
      fixed: [],
      errors: out.summary.errors,
      warnings: out.summary.warnings,
    });
    expect(out.skipped).toEqual([]);

    // (a) A manifest that is not JSON: json-syntax errors only, the first at the first bad character.
    if (!e.jsonValid) {
      expect(ds.length).toBeGreaterThan(0);
      expect(ds.every((d) => d.rule === 'json-syntax' && d.file === MANIFEST)).toBe(true);
      if (id === INVALID_JSON_APP) {
        // `"private": <Boolean>,` on line 5 of a CRLF file without a final newline.
        expect(ds[0]).toMatchObject({ line: 5, column: 18 });
        expect(textAt(app.text, 5, 18).startsWith('<Boolean>')).toBe(true);
      }
      return;
    }
    expect(byRule('json-syntax')).toEqual([]);
    expect(byRule('manifest-missing')).toEqual([]);
    if (!e.schemaBroken) expect(byRule('schema')).toEqual([]);
    else expect(byRule('schema').length).toBeGreaterThan(0);

    // (b) One missing-source per entry name without <name>.js, at the name's string in the file.
    const missing = byRule('missing-source');
    expect(missing.map((d) => d.pointer).sort()).toEqual([...e.missing.values()].map((i) => `/${i}/name`).sort());
    for (const [name, index] of e.missing) {
      const d = missing.find((m) => m.pointer === `/${index}/name`)!;
      expect(d).toMatchObject({ severity: 'error', file: MANIFEST });
      expect(d.message).toContain(JSON.stringify(name));
      expect(textAt(app.text, d.line, d.column).startsWith(JSON.stringify(name)), `${name} at ${d.line}:${d.column}`).toBe(true);
      // The hint names every source file with the same base name (entries naming files in subfolders).
      const base = name.slice(name.lastIndexOf('/') + 1);
      for (const [sourceName, rel] of e.sources) {
        if (sourceName.slice(sourceName.lastIndexOf('/') + 1) === base) expect(d.hint).toContain(`functions/${rel}`);
      }
    }

    // (c) One orphan-source warning per .js without an entry, at 1:1 of that file, and (d) none
    // for anything under node_modules/.
    const orphans = byRule('orphan-source');
    expect(orphans.map((d) => d.file).sort()).toEqual([...e.orphans].sort());
    for (const d of orphans) expect(d).toMatchObject({ severity: 'warning', line: 1, column: 1 });
    expect(orphans.filter((d) => d.file.includes('node_modules/'))).toEqual([]);
    expect(ds.filter((d) => d.file.includes('/node_modules/'))).toEqual([]);

    // (e) Names, duplicates and the run-as fields.
    expect(byRule('duplicate-name').map((d) => d.pointer)).toEqual(e.duplicates);
    expect(byRule('invalid-name').map((d) => d.pointer)).toEqual(e.invalidNames);
    expect(byRule('name-not-portable').map((d) => d.pointer)).toEqual(e.unportableNames);
    expect(byRule('run-as-conflict').map((d) => d.pointer)).toEqual(e.conflicts);
    expect(
      byRule('unknown-field')
        .map((d) => d.pointer)
        .sort(),
    ).toEqual([...e.unknownFields].sort());
    expect(byRule('script-syntax')).toHaveLength(e.badScripts);
    // The corpus's can_evaluate values ({}, %%user.type, a $nin on %%request.remoteIPAddress) are all valid.
    expect(byRule('invalid-expression')).toEqual([]);

    // (f) An empty "run_as_user_id" counts as unset: no override warning beside "run_as_system": true.
    const overrides = byRule('run-as-system-override').map((d) => d.pointer);
    expect(overrides).toEqual(e.overrides);
    for (const p of e.emptyUserIdBesideSystem) expect(overrides).not.toContain(p);

    // The stubs are valid function files: no source rule fires.
    expect(ds.filter((d) => ['source-syntax', 'no-exports', 'top-level-require'].includes(d.rule))).toEqual([]);
  });

  it.each(withFindings)('%s in text format', (id) => {
    const json = JSON.parse(results.get(id)!.stdout) as ValidateJson;
    const text = textResults.get(id)!;
    expect(text.exitCode, text.stderr).toBe(results.get(id)!.exitCode);
    expect(text.stderr).toBe('');
    expect(json.diagnostics.length).toBeGreaterThan(0);
    for (const d of json.diagnostics)
      expect(text.stdout).toContain(`${d.file}:${d.line}:${d.column}  ${d.severity}  ${d.rule}  ${d.message}\n`);
    const { errors, warnings, functions } = json.summary;
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(
      `${errors ? '✖' : '⚠'} ${errors + warnings} problem${errors + warnings === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}) in ${functions} function${functions === 1 ? '' : 's'}`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The older per-function layout (functions/<name>/config.json + source.js): not an app fn can
// load, so exit 3 with a hint that says why, never an internal error.

const noLegacy = sharedMissing(legacyDir);
const legacyIds = noLegacy
  ? []
  : readdirSync(legacyDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();

function materialiseLegacy(id: string): string {
  const root = tempDir('fn-legacy-');
  for (const rel of listLines(join(legacyDir, id, 'files.txt'))) {
    const target = join(root, 'functions', rel);
    mkdirSync(dirname(target), { recursive: true });
    const saved = rel.endsWith('/config.json') ? join(legacyDir, id, `${rel.slice(0, -'/config.json'.length)}.config.json`) : undefined;
    if (saved) copyFileSync(saved, target);
    else writeFileSync(target, rel.endsWith('.js') ? STUB : '');
  }
  return root;
}

const LEGACY_HINT = 'older per-function layout';

describe.skipIf(noLegacy !== undefined)(`fn validate on the legacy per-function layout${noLegacy ? ` (${noLegacy})` : ''}`, () => {
  const roots = new Map<string, string>();
  beforeAll(() => {
    for (const id of legacyIds) roots.set(id, materialiseLegacy(id));
  });

  it('has the 9 legacy apps', () => {
    expect(legacyIds).toHaveLength(9);
  });

  it.each(legacyIds)('%s: exit 3 with a hint naming the older layout', async (id) => {
    const root = roots.get(id)!;
    // From the app root, and from inside one function's folder.
    const name = listLines(join(legacyDir, id, 'files.txt'))[0]!.split('/')[0]!;
    const [text, json, inner] = await Promise.all([
      fn(['validate'], { cwd: root }),
      fn(['validate', '--json'], { cwd: root }),
      fn(['validate', '--json', '--cwd', join(root, 'functions', name)]),
    ]);
    expect(text.exitCode, text.stderr).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(LEGACY_HINT);

    expect(json.exitCode).toBe(3);
    const doc = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('NO_APP_ROOT');
    expect(doc.error.hint).toContain(LEGACY_HINT);

    expect(inner.exitCode).toBe(3);
    expect((JSON.parse(inner.stdout) as { error: { hint?: string } }).error.hint).toContain(LEGACY_HINT);
  });

  it('--format json (two arguments) prints the error as one JSON document', async () => {
    const result = await fn(['validate', '--format', 'json'], { cwd: roots.get(legacyIds[0]!)! });
    expect(result.exitCode).toBe(3);
    const doc = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; hint?: string } };
    expect(doc.error.code).toBe('NO_APP_ROOT');
    expect(doc.error.hint).toContain(LEGACY_HINT);
  });
});
