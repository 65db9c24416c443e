// The app's data sources: data_sources/<dir>/config.json with default_rule.json and
// <db>/<coll>/rules.json (the namespace comes from the folders), and the older services/<svc>/
// layout (config.json, rules/<db>.<coll>.json). Loading never throws on bad user data: a file
// that cannot be used is left out and reported.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSourceSpec, NamespaceRules, RuleFilter, Role, SourceRules } from '../data/types.js';
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, parseJsonFile, type JsonFile } from '../manifest/json-file.js';

export interface LoadedDataSources {
  sources: DataSourceSpec[];
  /** Every JSON file read, for schema checks with positions. */
  files: { kind: 'config' | 'rules' | 'default_rule'; file: JsonFile }[];
  diagnostics: Diagnostic[];
}

const MONGO_TYPES = new Set(['mongodb-atlas', 'mongodb', 'mongodb-datafederation', 'datalake']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where the files come from: the app folder, or a deployment's copy of them (fn serve). */
export interface Tree {
  read(rel: string): string | undefined;
  dirs(rel: string): string[];
  jsonFiles(rel: string): string[];
}

export function diskTree(root: string): Tree {
  return {
    read: (rel) => {
      try {
        return readFileSync(join(root, rel), 'utf8');
      } catch {
        return undefined;
      }
    },
    dirs: (rel) => {
      try {
        return readdirSync(join(root, rel), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort();
      } catch {
        return [];
      }
    },
    jsonFiles: (rel) => {
      try {
        return readdirSync(join(root, rel))
          .filter((f) => f.endsWith('.json') && statSync(join(root, rel, f)).isFile())
          .sort();
      } catch {
        return [];
      }
    },
  };
}

export function memoryTree(files: Record<string, string>): Tree {
  const children = (rel: string, dir: boolean) => {
    const prefix = `${rel}/`;
    const names = new Set<string>();
    for (const path of Object.keys(files)) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length).split('/');
      if (dir ? rest.length > 1 : rest.length === 1 && rest[0]!.endsWith('.json')) names.add(rest[0]!);
    }
    return [...names].sort();
  };
  return {
    read: (rel) => (Object.hasOwn(files, rel) ? files[rel] : undefined),
    dirs: (rel) => children(rel, true),
    jsonFiles: (rel) => children(rel, false),
  };
}

/** The data source files of an app folder, path → text: what fn push deploys (no connection string is ever in them). */
export function dataSourceFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { file } of loadDataSources(root).files) out[file.relPath] = file.bom ? `\uFEFF${file.text}` : file.text;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The data sources of an app folder, or of the files a deployment carries (`files`: path → text). */
export function loadDataSources(root: string, files?: Record<string, string>): LoadedDataSources {
  const tree = files ? memoryTree(files) : diskTree(root);
  const dirs = (path: string) => tree.dirs(path);
  const out: LoadedDataSources = { sources: [], files: [], diagnostics: [] };
  const read = (rel: string, kind: 'config' | 'rules' | 'default_rule'): JsonFile | undefined => {
    const path = join(root, rel);
    const raw = tree.read(rel);
    if (raw === undefined) return undefined;
    // A file with nothing in it declares nothing.
    if (raw.trim() === '') return undefined;
    const file = parseJsonFile(path, rel, raw);
    for (const e of file.syntaxErrors)
      out.diagnostics.push(diagnostic('json-syntax', e.message, { file: rel, line: e.line, column: e.column }));
    if (file.syntaxErrors.length) return undefined;
    out.files.push({ kind, file });
    return file;
  };
  const sourceOf = (rel: string): SourceRules | undefined => {
    const config = read(`${rel}/config.json`, 'config');
    if (!config || !isRecord(config.value)) return undefined;
    const value = config.value;
    const name = typeof value.name === 'string' && value.name !== '' ? value.name : rel.split('/').pop()!;
    const type = typeof value.type === 'string' ? value.type : '';
    // Not a MongoDB source (or not a known type: the schema check says so): its rules are still read, for the checks.
    if (!MONGO_TYPES.has(type)) return { namespaces: {} };
    if (out.sources.some((s) => s.name === name)) {
      out.diagnostics.push(
        diagnostic(
          'data-source-invalid',
          `a second data source is named "${name}"; context.services.get("${name}") would be ambiguous`,
          { file: config.relPath, ...locate(config, ['name']), pointer: '/name' },
          'give each data source its own name',
        ),
      );
      return undefined;
    }
    const rules: SourceRules = { namespaces: {} };
    out.sources.push({ name, type, dir: rel, config: isRecord(value.config) ? value.config : {}, rules });
    return rules;
  };

  for (const dir of dirs('data_sources')) {
    const rel = `data_sources/${dir}`;
    const rules = sourceOf(rel);
    if (!rules) continue;
    const def = read(`${rel}/default_rule.json`, 'default_rule');
    if (def) rules.defaultRule = namespaceRules(def.value);
    for (const db of dirs(rel)) {
      for (const coll of dirs(`${rel}/${db}`)) {
        const file = read(`${rel}/${db}/${coll}/rules.json`, 'rules');
        if (!file) continue;
        if (isRecord(file.value)) {
          for (const [key, expected] of [
            ['database', db],
            ['collection', coll],
          ] as const) {
            const v = file.value[key];
            if (typeof v === 'string' && v !== expected)
              out.diagnostics.push(
                diagnostic(
                  'data-source-invalid',
                  `"${key}" says ${JSON.stringify(v)} but the folder says ${JSON.stringify(expected)}; App Services uses the folder`,
                  { file: file.relPath, ...locate(file, [key]), pointer: `/${key}` },
                  `rename the folder or set "${key}" to "${expected}"`,
                ),
              );
          }
        }
        rules.namespaces[`${db}.${coll}`] = namespaceRules(file.value);
      }
    }
  }
  for (const dir of dirs('services')) {
    const rel = `services/${dir}`;
    const text = tree.read(`${rel}/config.json`);
    if (text === undefined) continue;
    // A third-party service of the older layout (http, github, twilio...: its webhooks are
    // endpoints, app/endpoints.ts) is no data source.
    if (isThirdPartyService(text)) continue;
    const rules = sourceOf(rel);
    if (!rules) continue;
    for (const f of tree.jsonFiles(`${rel}/rules`)) {
      const file = read(`${rel}/rules/${f}`, 'rules');
      if (!file) continue;
      const v = isRecord(file.value) ? file.value : {};
      const ns = typeof v.database === 'string' && typeof v.collection === 'string' ? `${v.database}.${v.collection}` : f.slice(0, -5);
      rules.namespaces[ns] = namespaceRules(file.value);
    }
  }
  return out;
}

/** App Services' third-party service types (deprecated; their webhooks still load as endpoints). */
const THIRD_PARTY_TYPES = new Set(['http', 'github', 'twilio', 'aws', 'aws-s3', 'aws-ses', 'aws-sns', 'gcm', 'mailgun', 'slack', 'pubnub']);

function isThirdPartyService(text: string): boolean {
  try {
    const v = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    return isRecord(v) && typeof v.type === 'string' && THIRD_PARTY_TYPES.has(v.type);
  } catch {
    return false;
  }
}

/** The roles and filters of a rules file; anything that is not a role or a filter is left out. */
function namespaceRules(value: unknown): NamespaceRules {
  const v = isRecord(value) ? value : {};
  const roles = Array.isArray(v.roles) ? (v.roles.filter(isRecord) as Role[]) : [];
  const filters = Array.isArray(v.filters)
    ? v.filters.filter(isRecord).map((f) => {
        const filter = { ...f } as RuleFilter & { project?: Record<string, unknown> };
        // The docs' own example spells it "project".
        if (filter.projection === undefined && isRecord(filter.project)) filter.projection = filter.project;
        return filter;
      })
    : [];
  return { roles, filters };
}
