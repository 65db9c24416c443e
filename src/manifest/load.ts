// Loads functions/config.json into the resolved model. Never throws on bad user data: problems
// come back as diagnostics with positions, and the entries that could be read are resolved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, toPointer, type Diagnostic } from './diagnostics.js';
import { locate, parseJsonFile, type JsonFile, type JsonPath } from './json-file.js';
import { validateManifestSchema, schemaSource, type FunctionEntry } from './schema.generated.js';
import { listSources, type SourceFile } from './sources.js';

export type { FunctionEntry } from './schema.generated.js';

/** The seven manifest fields, read from the schema (its single source). */
export const MANIFEST_FIELDS = Object.keys(
  schemaSource.definitions.FunctionEntry.properties,
) as (keyof typeof schemaSource.definitions.FunctionEntry.properties)[];

export type CanEvaluate = Record<string, unknown> | boolean;

/** An entry with the Atlas defaults applied. Empty strings count as unset. */
export interface ResolvedEntry {
  index: number;
  name: string;
  private: boolean;
  canEvaluate: CanEvaluate;
  disableArgLogs: boolean;
  runAsSystem: boolean;
  runAsUserId: string;
  runAsUserIdScriptSource: string;
  /** The entry as written. */
  raw: FunctionEntry;
  unknownFields: string[];
  source: SourceFile | undefined;
}

export interface Manifest {
  root: string;
  functionsDir: string;
  /** functions/ relative to the root, with '/'. */
  functionsRel: string;
  file: JsonFile | undefined;
  entries: ResolvedEntry[];
  sources: Map<string, SourceFile>;
  problems: Diagnostic[];
}

export function manifestPathOf(functionsDir: string): string {
  return join(functionsDir, 'config.json');
}

export function loadManifest(root: string, functionsRel: string): Manifest {
  const functionsDir = join(root, functionsRel);
  const path = manifestPathOf(functionsDir);
  const relPath = functionsRel + '/config.json';
  const sources = listSources(functionsDir);
  const manifest: Manifest = { root, functionsDir, functionsRel, file: undefined, entries: [], sources, problems: [] };
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    manifest.problems.push(
      diagnostic(
        'manifest-missing',
        code === 'ENOENT' ? `${relPath} does not exist` : `${relPath} cannot be read (${code ?? (error as Error).message})`,
        { file: relPath, line: 1, column: 1 },
        code === 'ENOENT' ? `create it with the content [] (or run fn validate --fix to list every source)` : undefined,
      ),
    );
    return manifest;
  }
  return fillManifest(manifest, parseJsonFile(path, relPath, raw));
}

/**
 * The model of a manifest text that is not on disk (a deployment): the same parsing, checks and
 * defaults; `sources` lists the functions that have a source.
 */
export function manifestFromText(raw: string, sources: Map<string, SourceFile>, functionsRel = 'functions'): Manifest {
  const manifest: Manifest = { root: '', functionsDir: '', functionsRel, file: undefined, entries: [], sources, problems: [] };
  return fillManifest(manifest, parseJsonFile(functionsRel + '/config.json', functionsRel + '/config.json', raw));
}

function fillManifest(manifest: Manifest, file: JsonFile): Manifest {
  manifest.file = file;
  for (const e of file.syntaxErrors) {
    manifest.problems.push(
      diagnostic('json-syntax', e.message, { file: file.relPath, line: e.line, column: e.column }, syntaxHint(e.message)),
    );
  }
  if (file.syntaxErrors.length) return manifest;
  manifest.problems.push(...schemaProblems(file));
  if (!Array.isArray(file.value)) return manifest;
  file.value.forEach((value, index) => {
    if (!isPlainObject(value) || typeof value.name !== 'string' || value.name === '') return;
    manifest.entries.push(resolveEntry(value as FunctionEntry, index, manifest.sources));
  });
  return manifest;
}

export function resolveEntry(raw: FunctionEntry, index: number, sources: Map<string, SourceFile>): ResolvedEntry {
  const bool = (v: unknown) => (typeof v === 'boolean' ? v : false);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const canEvaluate = raw.can_evaluate;
  // A value of the wrong type is a schema error; until it is fixed the entry fails closed
  // (private, never allowed) rather than open.
  return {
    index,
    name: raw.name,
    private: raw.private === undefined ? false : raw.private !== false,
    canEvaluate: canEvaluate === undefined ? {} : typeof canEvaluate === 'boolean' || isPlainObject(canEvaluate) ? canEvaluate : false,
    disableArgLogs: bool(raw.disable_arg_logs),
    runAsSystem: bool(raw.run_as_system),
    runAsUserId: str(raw.run_as_user_id),
    runAsUserIdScriptSource: str(raw.run_as_user_id_script_source),
    raw,
    unknownFields: Object.keys(raw).filter((k) => !(MANIFEST_FIELDS as string[]).includes(k)),
    source: sources.get(raw.name),
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value)}`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = { boolean: 'true or false', string: 'a string', object: 'an object', array: 'an array' };

function schemaProblems(file: JsonFile): Diagnostic[] {
  if (validateManifestSchema(file.value)) return [];
  const out: Diagnostic[] = [];
  for (const error of validateManifestSchema.errors ?? []) {
    const path: JsonPath = error.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const value = valueAt(file.value, path);
    const field = typeof path[path.length - 1] === 'string' ? (path[path.length - 1] as string) : undefined;
    let message: string;
    let hint: string | undefined;
    if (path.length === 0) {
      message = `the manifest must be a JSON array of function entries, found ${describeValue(value)}`;
      hint = 'wrap the entries in [ ]';
    } else if (field === undefined && error.keyword === 'type') {
      message = `entry ${path[0]} must be an object with a "name", found ${describeValue(value)}`;
    } else if (error.keyword === 'required') {
      message = `entry ${path[0]} has no "${String(error.params.missingProperty)}"`;
      hint = "every entry needs the function's name, its path under functions/ without .js";
    } else if (error.keyword === 'minLength') {
      message = `"${field}" must not be empty`;
    } else if (error.keyword === 'type') {
      const types = ([] as string[]).concat(error.params.type as string | string[]);
      message = `"${field}" must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}, found ${describeValue(value)}`;
      if (types.includes('boolean') && (value === 'true' || value === 'false')) hint = `write ${value} without quotes`;
      else if (types.includes('string') && value === null) hint = 'use "" or remove the field to leave it unset';
    } else {
      message = `${field ? `"${field}"` : 'value'} ${error.message ?? 'is not valid'}`;
    }
    const pos = locate(file, path);
    out.push(diagnostic('schema', message, { file: file.relPath, ...pos, pointer: toPointer(path) }, hint));
  }
  return out;
}

function valueAt(value: unknown, path: JsonPath): unknown {
  let v = value;
  for (const p of path) v = (v as Record<string | number, unknown> | undefined)?.[p];
  return v;
}

function syntaxHint(message: string): string | undefined {
  if (message.startsWith('comments')) return 'remove the comment: functions/config.json is strict JSON';
  if (message.startsWith('trailing')) return 'remove the comma after the last item';
  if (message.startsWith('a property name')) return 'JSON keys need double quotes';
  return undefined;
}
