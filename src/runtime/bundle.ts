// Builds the AppBundle of a project folder: resolved entries, sources, values and environment.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../project/load-project.js';
import type { AppBundle, BundledFunction } from './types.js';

export function bundleProject(project: Project, version: string): AppBundle {
  const functions: Record<string, BundledFunction> = Object.create(null) as Record<string, BundledFunction>;
  for (const entry of project.manifest.entries) {
    if (!entry.source || entry.name in functions) continue;
    functions[entry.name] = {
      name: entry.name,
      private: entry.private,
      canEvaluate: entry.canEvaluate,
      disableArgLogs: entry.disableArgLogs,
      runAsSystem: entry.runAsSystem,
      runAsUserId: entry.runAsUserId,
      runAsUserIdScriptSource: entry.runAsUserIdScriptSource,
      source: readFileSync(entry.source.path, 'utf8').replace(/^\uFEFF/, ''),
    };
  }
  // App Services deploys a source without an entry with the defaults.
  for (const source of project.manifest.sources.values()) {
    if (source.name in functions || project.manifest.entries.some((e) => e.name === source.name)) continue;
    functions[source.name] = {
      name: source.name,
      private: false,
      canEvaluate: {},
      disableArgLogs: false,
      runAsSystem: false,
      runAsUserId: '',
      runAsUserIdScriptSource: '',
      source: readFileSync(source.path, 'utf8').replace(/^\uFEFF/, ''),
    };
  }
  return {
    appId: project.appId,
    version,
    functions,
    values: readValues(project.root),
    environment: readEnvironment(project.root),
    modulesDir: join(project.manifest.functionsDir, 'node_modules'),
  };
}

/** values/<name>.json in the App Services format: { name, value, from_secret }. Secret values come from .fn/secrets.json. */
export function readValues(root: string): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let secrets: Record<string, unknown> = {};
  try {
    secrets = JSON.parse(readFileSync(join(root, '.fn', 'secrets.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    secrets = {};
  }
  let files: string[] = [];
  try {
    files = readdirSync(join(root, 'values')).filter((f) => f.endsWith('.json'));
  } catch {
    return values;
  }
  for (const file of files) {
    try {
      const v = JSON.parse(readFileSync(join(root, 'values', file), 'utf8').replace(/^\uFEFF/, '')) as { name?: unknown; value?: unknown; from_secret?: unknown };
      const name = typeof v.name === 'string' ? v.name : file.slice(0, -5);
      values[name] = v.from_secret === true ? (typeof v.value === 'string' ? secrets[v.value] : undefined) : v.value;
    } catch {
      // a broken value file is reported by nobody yet; it is left out
    }
  }
  return values;
}

/** root_config.json's environment tag and environments/<tag or no-environment>.json values. */
export function readEnvironment(root: string): { tag: string; values: Record<string, unknown> } {
  let tag = '';
  for (const file of ['root_config.json', 'realm_config.json']) {
    try {
      const v = JSON.parse(readFileSync(join(root, file), 'utf8').replace(/^\uFEFF/, '')) as { environment?: unknown };
      if (typeof v.environment === 'string') tag = v.environment;
      break;
    } catch {
      // not there
    }
  }
  try {
    const env = JSON.parse(readFileSync(join(root, 'environments', `${tag || 'no-environment'}.json`), 'utf8').replace(/^\uFEFF/, '')) as { values?: Record<string, unknown> };
    return { tag, values: env.values ?? {} };
  } catch {
    return { tag, values: {} };
  }
}
