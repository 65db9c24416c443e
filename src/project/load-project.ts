// The resolved app: root, fn.config.json, the manifest model. Bad user data becomes diagnostics;
// only a missing app root is an error (exit 3).
import { readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { FnError } from '../errors.js';
import { diagnostic, toPointer, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, parseJsonFile, type JsonFile, type JsonPath } from '../manifest/json-file.js';
import { loadManifest, type Manifest } from '../manifest/load.js';
import { validateFnConfigSchema, type FnConfig } from './config-schema.generated.js';
import { CONFIG_FILE, requireAppRoot } from './find-root.js';
import { readJson } from '../manifest/text.js';

export type { FnConfig } from './config-schema.generated.js';

export const DEFAULT_FUNCTIONS_DIR = 'functions';

export interface Project {
  root: string;
  configFile: JsonFile | undefined;
  config: FnConfig;
  appId: string;
  /** Where the app id came from: fn.config.json, an Atlas export file, or the folder name. */
  appIdSource: string;
  manifest: Manifest;
  /** Problems found while loading (fn.config.json, manifest syntax and shape). */
  problems: Diagnostic[];
}

export function loadProject(start: string): Project {
  const found = requireAppRoot(start);
  return loadProjectAt(found.root, found.configPath);
}

export function loadProjectAt(root: string, configPath: string | undefined): Project {
  const problems: Diagnostic[] = [];
  let config: FnConfig = {};
  let configFile: JsonFile | undefined;
  if (configPath) {
    let raw: string | undefined;
    try {
      raw = readFileSync(configPath, 'utf8');
    } catch (error) {
      throw new FnError('PROJECT_UNREADABLE', `${configPath} cannot be read: ${(error as Error).message}`);
    }
    configFile = parseJsonFile(configPath, CONFIG_FILE, raw);
    for (const e of configFile.syntaxErrors)
      problems.push(diagnostic('config-invalid', e.message, { file: CONFIG_FILE, line: e.line, column: e.column }));
    if (!configFile.syntaxErrors.length) {
      if (validateFnConfigSchema(configFile.value)) config = configFile.value as FnConfig;
      else {
        // Keep the settings that are right, so one mistake does not move the functions folder.
        const value = configFile.value;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          const v = value as Record<string, unknown>;
          if (typeof v.appId === 'string' && v.appId !== '') config.appId = v.appId;
          if (typeof v.functionsDir === 'string' && v.functionsDir !== '') config.functionsDir = v.functionsDir;
        }
        for (const error of validateFnConfigSchema.errors ?? []) {
          const path: JsonPath = error.instancePath
            .split('/')
            .slice(1)
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
          const extra = error.keyword === 'additionalProperties' ? String(error.params.additionalProperty) : undefined;
          const where = extra ? [...path, extra] : path;
          const name = where.length ? `"${where.join('.')}"` : CONFIG_FILE;
          const message = extra ? `${name} is not a setting of ${CONFIG_FILE}` : `${name} ${error.message ?? 'is not valid'}`;
          problems.push(
            diagnostic(
              'config-invalid',
              message,
              { file: CONFIG_FILE, ...locate(configFile, where, { key: !!extra }), pointer: toPointer(where) },
              'see schemas/fn-config.schema.json for the settings',
            ),
          );
        }
      }
    }
  }
  const functionsRel = (config.functionsDir ?? DEFAULT_FUNCTIONS_DIR).replace(/\\/g, '/').replace(/\/+$/, '');
  const manifest = loadManifest(root, functionsRel);
  problems.push(...manifest.problems);
  const [appId, appIdSource] = resolveAppId(root, config);
  return { root, configFile, config, appId, appIdSource, manifest, problems };
}

/** The app id: fn.config.json, then an Atlas export's own files, then the folder name. */
export function resolveAppId(root: string, config: FnConfig): [string, string] {
  if (config.appId) return [config.appId, CONFIG_FILE];
  const exported = appIdFromExport(root);
  if (exported) return exported;
  return [slugify(basename(root)) || 'app', 'folder name'];
}

export function appIdFromExport(root: string): [string, string] | undefined {
  const candidates: [string, (v: Record<string, unknown>) => unknown][] = [
    ['.mdb/meta.json', (v) => v.client_app_id],
    ['realm_config.json', (v) => v.app_id ?? v.client_app_id],
    ['root_config.json', (v) => v.app_id ?? v.name],
    ['config.json', (v) => (v.config_version ? (v.app_id ?? v.name) : undefined)],
    ['stitch.json', (v) => v.app_id ?? v.name],
  ];
  for (const [file, pick] of candidates) {
    try {
      const value = readJson(join(root, file)) as Record<string, unknown>;
      const id = pick(value);
      if (typeof id === 'string' && id.trim() !== '') return [id.trim(), file];
    } catch {
      // not there, or not JSON: try the next one
    }
  }
  return undefined;
}

export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A path relative to `from`, with '/' (for display). */
export function displayPath(from: string, to: string): string {
  const rel = relative(from, to).replace(/\\/g, '/');
  return rel === '' ? '.' : rel;
}
