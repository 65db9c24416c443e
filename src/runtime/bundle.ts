// The one way an app becomes an AppBundle, whether it comes from a folder (fn dev, invoke --local)
// or from a deployment (fn serve after fn push): the same manifest model, the same reading of
// entries (the first entry of a name wins; validate reports the others), the same defaults for a
// source without an entry, and the same values/*.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEndpoints, type LoadedEndpoints } from '../app/endpoints.js';
import type { Diagnostic } from '../manifest/diagnostics.js';
import { manifestFromText, type Manifest, type ResolvedEntry } from '../manifest/load.js';
import { sourcePathOf } from '../manifest/names.js';
import type { SourceFile } from '../manifest/sources.js';
import type { Project } from '../project/load-project.js';
import type { AppBundle, BundledFunction } from './types.js';
import { stripBom } from '../manifest/text.js';
import { readEnvironment, readValueFiles, resolveValues } from '../app/values.js';
import { locateModules } from '../project/dependencies.js';
import { localSecretsPath, SecretsFile } from '../project/secrets.js';

export interface BundleInput {
  appId: string;
  version: string;
  manifest: Manifest;
  /** A function's source text (throws when it cannot be read). */
  readSource: (name: string) => string;
  /** values/<file>.json texts by file name. */
  valueFiles: Record<string, string>;
  /** What a value with from_secret names. */
  secrets: Record<string, unknown>;
  environment: AppBundle['environment'];
  modulesDir: string | undefined;
  /** Problems of the app: errors make the functions they are about (or the whole app) broken. */
  diagnostics?: readonly Diagnostic[];
  /** The app's HTTPS endpoints and webhooks (their sources become private functions). */
  endpoints?: LoadedEndpoints;
}

export function buildBundle(input: BundleInput): AppBundle {
  const { manifest } = input;
  const functions: Record<string, BundledFunction> = Object.create(null) as Record<string, BundledFunction>;
  const broken = brokenFrom(manifest, input.diagnostics ?? []);
  const fileOf = (name: string) => `${manifest.functionsRel}/${manifest.sources.get(name)?.relPath ?? sourcePathOf(name)}`;
  const add = (name: string, entry: ResolvedEntry | undefined) => {
    let source = '';
    let problem = broken.functions.get(name);
    if (manifest.sources.has(name)) {
      try {
        source = stripBom(input.readSource(name));
      } catch (error) {
        problem ??= `${fileOf(name)} cannot be read: ${(error as Error).message}`;
      }
    }
    const fn: BundledFunction = {
      name,
      private: entry?.private ?? false,
      canEvaluate: entry?.canEvaluate ?? {},
      disableArgLogs: entry?.disableArgLogs ?? false,
      runAsSystem: entry?.runAsSystem ?? false,
      runAsUserId: entry?.runAsUserId ?? '',
      runAsUserIdScriptSource: entry?.runAsUserIdScriptSource ?? '',
      source,
      file: fileOf(name),
    };
    if (problem !== undefined) fn.broken = `function "${name}" cannot run: ${problem}`;
    functions[name] = fn;
  };
  const declared = new Set<string>();
  for (const entry of manifest.entries) {
    if (declared.has(entry.name)) continue;
    declared.add(entry.name);
    // An entry without a source is no function, unless it is broken: then calls say why.
    if (entry.source || broken.functions.has(entry.name)) add(entry.name, entry);
  }
  // App Services deploys a source without an entry with the defaults.
  for (const name of manifest.sources.keys()) if (!declared.has(name)) add(name, undefined);
  for (const w of input.endpoints?.webhooks ?? [])
    functions[w.name] = {
      name: w.name,
      private: true,
      canEvaluate: w.canEvaluate,
      disableArgLogs: w.disableArgLogs,
      runAsSystem: w.runAsSystem,
      runAsUserId: w.runAsUserId,
      runAsUserIdScriptSource: w.runAsUserIdScriptSource,
      source: w.source,
      file: w.file,
    };
  const bundle: AppBundle = {
    appId: input.appId,
    version: input.version,
    functions,
    values: valuesOf(input.valueFiles, input.secrets, input.environment),
    environment: input.environment,
    modulesDir: input.modulesDir,
  };
  if (input.endpoints?.endpoints.length) bundle.endpoints = input.endpoints.endpoints;
  if (broken.app !== undefined) bundle.broken = `the app cannot run: ${broken.app}`;
  return bundle;
}

/** The AppBundle of a project folder (its problems, when given, mark what cannot run). */
export function bundleProject(project: Project, version: string, diagnostics?: readonly Diagnostic[]): AppBundle {
  const { manifest } = project;
  return buildBundle({
    appId: project.appId,
    version,
    manifest,
    readSource: (name) => readFileSync(manifest.sources.get(name)!.path, 'utf8'),
    valueFiles: readValueFiles(project.root),
    secrets: readSecrets(project.root),
    environment: readEnvironment(project.root),
    modulesDir: modulesDirOf(project),
    ...(diagnostics ? { diagnostics } : {}),
    endpoints: loadEndpoints(project.root),
  });
}

/**
 * Where require() finds the packages of a folder: functions/node_modules, else the exported
 * archive unpacked under .fn/deps (an archive that cannot be unpacked: the folder's path, and a
 * require then fails naming the package).
 */
function modulesDirOf(project: Project): string {
  const folder = join(project.manifest.functionsDir, 'node_modules');
  try {
    return locateModules(project.root, project.manifest.functionsDir).dir ?? folder;
  } catch {
    return folder;
  }
}

/** What a deployment holds: its manifest text, a source hash per function, its values files. */
export interface DeployedApp {
  version: number;
  manifest: string;
  functions: Record<string, string>;
  values?: Record<string, string>;
  environment?: AppBundle['environment'];
  /** The endpoint and webhook files (http_endpoints/**, services/<svc>/incoming_webhooks/**): path → text. */
  httpEndpoints?: Record<string, string>;
}

/** What fn serve adds to a deployment: the app's secrets, its packages, a version label. */
export interface DeploymentExtras {
  /** The app's secrets, for values with from_secret (only those values reach the runner). */
  secrets?: Record<string, unknown>;
  /** The node_modules folder of the deployment's packages. */
  modulesDir?: string | undefined;
  /** The bundle's version when it differs from the deployment's (secrets changed since). */
  version?: string;
}

/** The AppBundle of a deployed version; sources are read (and hash-checked) by `readSource`. */
export function bundleDeployment(
  appId: string,
  deployment: DeployedApp,
  readSource: (hash: string) => string,
  extras: DeploymentExtras = {},
): AppBundle {
  const sources = new Map<string, SourceFile>(
    Object.keys(deployment.functions).map((name) => [name, { name, path: '', relPath: sourcePathOf(name) }]),
  );
  return buildBundle({
    appId,
    version: extras.version ?? String(deployment.version),
    manifest: manifestFromText(deployment.manifest, sources),
    readSource: (name) => readSource(deployment.functions[name]!),
    valueFiles: deployment.values ?? {},
    secrets: extras.secrets ?? {},
    environment: deployment.environment ?? { tag: '', values: {} },
    modulesDir: extras.modulesDir,
    ...(deployment.httpEndpoints ? { endpoints: loadEndpoints('', deployment.httpEndpoints) } : {}),
  });
}

/**
 * Values from values/<name>.json texts in the App Services format: { name, value, from_secret }.
 * A secret value takes the secret its value names; "%(%%environment.values.X)" in a plain value
 * takes the environment's. A file that is not a value is left out (validate reports it).
 */
export function valuesOf(
  files: Record<string, string>,
  secrets: Record<string, unknown>,
  environment: AppBundle['environment'] = { tag: '', values: {} },
): Record<string, unknown> {
  return resolveValues(files, secrets, environment);
}

/** The values of a folder (values/*.json, secrets from .fn/secrets.json, its environment). */
export function readValues(root: string): Record<string, unknown> {
  return valuesOf(readValueFiles(root), readSecrets(root), readEnvironment(root));
}

/** The secrets fn dev and invoke --local give values: .fn/secrets.json. */
export function readSecrets(root: string): Record<string, unknown> {
  return new SecretsFile(localSecretsPath(root)).values();
}

export { readEnvironment, readValueFiles };

/** Rules whose errors are about an entry that is not a function of its own. */
const NOT_A_FUNCTION = new Set(['duplicate-name', 'invalid-name']);

/**
 * Which functions the errors among `diagnostics` break: an error in a function's file or in its
 * manifest entry breaks that function; one in the manifest as a whole (it cannot be read) breaks
 * the app. Each says where: `functions/x.js:3:11: <message>` (the first error, and how many more).
 */
export function brokenFrom(manifest: Manifest, diagnostics: readonly Diagnostic[]): { app?: string; functions: Map<string, string> } {
  const manifestFile = `${manifest.functionsRel}/config.json`;
  const byFile = new Map<string, string>([...manifest.sources.values()].map((s) => [`${manifest.functionsRel}/${s.relPath}`, s.name]));
  const found = new Map<string, Diagnostic[]>();
  const app: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.severity !== 'error' || NOT_A_FUNCTION.has(d.rule)) continue;
    let name: string | undefined;
    if (d.file === manifestFile) {
      const index = /^\/(\d+)(\/|$)/.exec(d.pointer ?? '')?.[1];
      if (index === undefined) {
        app.push(d);
        continue;
      }
      const entry = manifest.entries.find((e) => e.index === Number(index));
      // A later entry of a name is not the function's: its problems are validate's to report.
      if (!entry || manifest.entries.find((e) => e.name === entry.name) !== entry) continue;
      name = entry.name;
    } else name = byFile.get(d.file);
    if (name === undefined) continue;
    const list = found.get(name) ?? [];
    list.push(d);
    found.set(name, list);
  }
  const say = (list: Diagnostic[]) =>
    `${list[0]!.file}:${list[0]!.line}:${list[0]!.column}: ${list[0]!.message}${list.length > 1 ? ` (and ${list.length - 1} more: fn validate shows them)` : ''}`;
  const out: { app?: string; functions: Map<string, string> } = { functions: new Map([...found].map(([n, list]) => [n, say(list)])) };
  if (app.length) out.app = say(app);
  return out;
}
