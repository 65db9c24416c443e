// fn validate's rules for data sources: config.json, rules.json and default_rule.json against
// their schemas (schemas/), the expressions in roles and filters, and context.services.get('<x>')
// in function sources naming no configured data source.
import { readFileSync } from 'node:fs';
import { checkExpression } from '../expression/check.js';
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, type JsonFile, type JsonPath } from '../manifest/json-file.js';
import { validateDataSourceSchema } from './data-source-schema.generated.js';
import { loadDataSources } from './data-sources.js';
import { validateRulesSchema } from './rules-schema.generated.js';

const EXPRESSION_KEYS = ['apply_when', 'read', 'write', 'insert', 'delete', 'search'] as const;

export function pathOf(instancePath: string): JsonPath {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => {
      const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(key) ? Number(key) : key;
    });
}

export function pointerOf(path: JsonPath): string {
  return path.length ? `/${path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : '';
}

function schemaDiagnostics(file: JsonFile, kind: 'config' | 'rules' | 'default_rule'): Diagnostic[] {
  const validate = kind === 'config' ? validateDataSourceSchema : validateRulesSchema;
  if (validate(file.value)) return [];
  const rule = kind === 'config' ? 'data-source-invalid' : 'rules-invalid';
  const hint = kind === 'config' ? 'see schemas/data-source.schema.json' : 'see schemas/rules.schema.json';
  return (validate.errors ?? []).map((e) => {
    const path = pathOf(e.instancePath);
    const where = e.keyword === 'required' ? `${e.instancePath || 'the file'}` : e.instancePath || 'the file';
    const message =
      e.keyword === 'required'
        ? `${where} needs "${String(e.params.missingProperty)}"`
        : e.keyword === 'enum'
          ? `${where} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
          : `${where} ${e.message ?? 'is invalid'}`;
    return diagnostic(rule, message, { file: file.relPath, ...locate(file, path), pointer: pointerOf(path) }, hint);
  });
}

function expressionDiagnostics(file: JsonFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const value = file.value as { roles?: unknown; filters?: unknown };
  const check = (expr: unknown, path: JsonPath) => {
    if (typeof expr !== 'object' || expr === null || Array.isArray(expr)) return;
    for (const p of checkExpression(expr)) {
      const at = [...path, ...p.path];
      out.push(
        diagnostic(
          'invalid-expression',
          p.message,
          { file: file.relPath, ...locate(file, at, { key: p.key === true }), pointer: pointerOf(at) },
          p.hint,
        ),
      );
    }
  };
  for (const [list, keys] of [
    ['roles', EXPRESSION_KEYS],
    ['filters', ['apply_when']],
  ] as const) {
    const items = (value as Record<string, unknown>)[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item: unknown, i) => {
      if (typeof item !== 'object' || item === null) return;
      for (const key of keys) check((item as Record<string, unknown>)[key], [list, i, key]);
    });
  }
  return out;
}

const SERVICES_GET = /context\s*\.\s*services\s*\.\s*get\s*\(\s*(['"`])([^'"`$\\]*)\1\s*\)/g;

/** Every data source finding of the app at `root`; `sources` are the function files (relPath from the root). */
export function checkDataSources(root: string, sources: { rel: string; path: string }[]): Diagnostic[] {
  const loaded = loadDataSources(root);
  const out: Diagnostic[] = [...loaded.diagnostics];
  for (const { kind, file } of loaded.files) {
    const schema = schemaDiagnostics(file, kind);
    out.push(...schema);
    if (kind !== 'config' && !schema.length) out.push(...expressionDiagnostics(file));
  }
  const names = new Set(loaded.sources.map((s) => s.name));
  for (const source of sources) {
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(SERVICES_GET)) {
      const name = m[2]!;
      if (names.has(name)) continue;
      const before = text.slice(0, m.index);
      const line = before.split('\n').length;
      const column = m.index - before.lastIndexOf('\n');
      const known = [...names].map((n) => `"${n}"`).join(', ');
      out.push(
        diagnostic(
          'unknown-data-source',
          `context.services.get("${name}") names no data source of this app${known ? ` (it has ${known})` : ''}`,
          { file: source.rel, line, column },
          known
            ? `use one of ${known}, or add data_sources/${name}/config.json`
            : `add data_sources/${name}/config.json ({ "name": "${name}", "type": "mongodb-atlas", "config": { "clusterName": "Cluster0" } })`,
        ),
      );
    }
  }
  return out;
}
