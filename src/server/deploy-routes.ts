// fn serve's admin routes for deployments (service key required, checked by the caller):
//   GET  .../deployment                              the current version, manifest and hashes
//   GET  .../deployment/functions/{name...}/source   one function's source
//   POST .../deployment/sources                      several sources: { names } → { sources }
//   GET  .../deployments                             past versions, newest first
//   GET  .../deployments/{v}                         one version: manifest and hashes
//   POST .../deployments          (If-Match: <v>)    a new version from the changes sent (and,
//                                                    when given, all its values/*.json texts
//                                                    and its environment { tag, values })
//                                                    its packages { hash } (sent first by
//                                                    dependency-routes.ts) or null for none;
//                                                    refused while a value reads a secret the
//                                                    app does not have (409 MISSING_SECRET)
//   POST .../deployments/{v}/rollback (If-Match)     a new version equal to version v
import { missingSecrets } from '../app/values.js';
import { manifestFromText } from '../manifest/load.js';
import { checkName, SOURCE_EXTENSION } from '../manifest/names.js';
import type { SourceFile } from '../manifest/sources.js';
import type { AdminRequest, AdminRoute } from './admin-routes.js';
import { sendJson, HttpError } from './http.js';
import { ConflictError, CorruptionError, MissingBlobError, type Deployment, type DeploymentStore } from './store.js';

/** What the deployment routes check beside the store: the app's secrets and packages. */
export interface DeployChecks {
  /** The names of the app's secrets: a deployment whose values read another is refused. */
  secretNames?: (appId: string) => string[];
  /** The package count of a set the app has, else undefined: a deployment naming another is refused. */
  dependencies?: (appId: string, hash: string) => { hash: string; packages: number } | undefined;
}

export function deployRoutes(
  store: DeploymentStore,
  onDeploy: (appId: string, deployment: Deployment) => void,
  checks: DeployChecks = {},
): AdminRoute[] {
  const expected = (r: AdminRequest): number | undefined => {
    const header = r.req.headers['if-match'];
    if (header === undefined || header === '*') return undefined;
    const n = Number(String(header).replace(/^W\//, '').replace(/"/g, '').trim());
    if (!Number.isInteger(n) || n < 0)
      throw new HttpError(400, 'BAD_REQUEST', `If-Match must be a version number, not ${JSON.stringify(header)}`);
    return n;
  };
  const conflict = (r: AdminRequest, error: ConflictError) =>
    sendJson(
      r.res,
      409,
      {
        error: { code: 'CONFLICT', message: `the app has moved on: it is at version ${error.currentVersion}` },
        currentVersion: error.currentVersion,
      },
      { etag: `"${error.currentVersion}"` },
    );

  /** Store failures as answers: a conflict 409 with the current version, damage 500. */
  const guarded =
    (handler: (r: AdminRequest, params: string[]) => Promise<void>) =>
    async (r: AdminRequest, params: string[]): Promise<void> => {
      checkAppId(r.appId);
      try {
        await handler(r, params);
      } catch (error) {
        if (error instanceof ConflictError) return conflict(r, error);
        if (error instanceof MissingBlobError)
          throw new HttpError(409, 'MISSING_SOURCES', `${error.message}: the app changed since the plan was made; push again`);
        if (error instanceof CorruptionError) throw new HttpError(500, 'STORE_CORRUPT', error.message);
        throw error;
      }
    };

  const routes: AdminRoute[] = [
    {
      method: 'GET',
      path: 'deployment',
      handler: async ({ res, appId }) => {
        const d = store.current(appId);
        if (!d) throw new HttpError(404, 'NO_DEPLOYMENT', `nothing is deployed for "${appId}"`);
        sendJson(res, 200, d, { etag: `"${d.version}"` });
      },
    },
    {
      method: 'GET',
      path: 'deployment/functions/**/source',
      handler: async ({ res, appId }, [name]) => {
        const d = store.current(appId);
        const hash = d && Object.hasOwn(d.functions, name!) ? d.functions[name!] : undefined;
        if (!hash) throw new HttpError(404, 'FUNCTION_NOT_FOUND', `function "${name}" is not deployed`);
        const text = store.readBlob(appId, hash);
        res.writeHead(200, {
          'content-type': 'application/javascript; charset=utf-8',
          'content-length': Buffer.byteLength(text),
          etag: `"${hash}"`,
        });
        res.end(text);
      },
    },
    {
      method: 'POST',
      path: 'deployment/sources',
      handler: async ({ res, appId, readJson }) => {
        const body = (await readJson()) as { names?: unknown };
        const d = store.current(appId);
        if (!d) throw new HttpError(404, 'NO_DEPLOYMENT', `nothing is deployed for "${appId}"`);
        const names = Array.isArray(body.names) ? body.names.filter((n): n is string => typeof n === 'string') : Object.keys(d.functions);
        const sources: Record<string, string> = {};
        for (const name of names) if (Object.hasOwn(d.functions, name)) sources[name] = store.readBlob(appId, d.functions[name]!);
        sendJson(res, 200, { version: d.version, sources });
      },
    },
    {
      method: 'GET',
      path: 'deployments',
      handler: async ({ res, appId }) => sendJson(res, 200, { deployments: store.list(appId) }),
    },
    {
      method: 'GET',
      path: 'deployments/*',
      handler: async ({ res, appId }, [v]) => {
        const d = store.get(appId, Number(v));
        if (!d) throw new HttpError(404, 'NO_DEPLOYMENT', `there is no version ${v} of "${appId}"`);
        sendJson(res, 200, d, { etag: `"${d.version}"` });
      },
    },
    {
      method: 'POST',
      path: 'deployments',
      handler: async (r) => {
        const { res, appId } = r;
        const body = (await r.readJson()) as {
          manifest?: unknown;
          set?: unknown;
          delete?: unknown;
          blobs?: unknown;
          summary?: unknown;
          values?: unknown;
          environment?: unknown;
          dataSources?: unknown;
          httpEndpoints?: unknown;
          dependencies?: unknown;
          triggers?: unknown;
        };
        if (typeof body.manifest !== 'string')
          throw new HttpError(400, 'BAD_REQUEST', '"manifest" (the functions/config.json text) is required');
        const record = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {});
        const set = record(body.set);
        for (const name of Object.keys(set)) checkDeployedName(name);
        const del = Array.isArray(body.delete) ? body.delete.filter((n): n is string => typeof n === 'string') : [];
        checkManifestText(body.manifest, [...Object.keys(set)]);
        const values = body.values === undefined ? undefined : checkValues(body.values);
        const environment = body.environment === undefined ? undefined : checkEnvironment(body.environment);
        if (values && checks.secretNames) {
          const missing = missingSecrets(values, checks.secretNames(appId));
          if (missing.length)
            throw new HttpError(
              409,
              'MISSING_SECRET',
              `${missing.map((m) => `value "${m.value}" (values/${m.file}) reads secret "${m.secret}"`).join('; ')}, which the server does not have: set ${missing.length === 1 ? 'it' : 'them'} first (fn secrets set ${missing[0]!.secret} --remote); nothing was deployed`,
            );
        }
        let dependencies: { hash: string; packages: number } | null | undefined;
        if (body.dependencies === null) dependencies = null;
        else if (body.dependencies !== undefined) {
          const hash = (body.dependencies as { hash?: unknown } | null)?.hash;
          if (typeof hash !== 'string')
            throw new HttpError(400, 'BAD_REQUEST', '"dependencies" must be { "hash": "<sha256 of the set>" } or null');
          dependencies = checks.dependencies?.(appId, hash);
          if (!dependencies)
            throw new HttpError(
              409,
              'MISSING_DEPENDENCIES',
              `the packages ${hash.slice(0, 12)} were not sent (PUT .../dependencies/{hash} first); nothing was deployed`,
            );
        }
        const d = await store.commit(appId, {
          expectedVersion: expected(r),
          manifest: body.manifest,
          set,
          delete: del,
          blobs: record(body.blobs),
          summary: typeof body.summary === 'string' ? body.summary.slice(0, 200) : '',
          ...(values ? { values } : {}),
          ...(environment ? { environment } : {}),
          ...(dependencies !== undefined ? { dependencies } : {}),
          ...(body.dataSources !== undefined
            ? { dataSources: Object.fromEntries(Object.entries(record(body.dataSources)).filter(([, v]) => typeof v === 'string')) }
            : {}),
          ...(body.httpEndpoints !== undefined ? { httpEndpoints: checkEndpointFiles(body.httpEndpoints) } : {}),
          ...(body.triggers !== undefined ? { triggers: checkTriggerFiles(body.triggers) } : {}),
        });
        onDeploy(appId, d);
        sendJson(
          res,
          201,
          { version: d.version, createdAt: d.createdAt, functions: Object.keys(d.functions).length },
          { etag: `"${d.version}"` },
        );
      },
    },
    {
      method: 'POST',
      path: 'deployments/*/rollback',
      handler: async (r, [v]) => {
        const { res, appId } = r;
        const target = store.get(appId, Number(v));
        if (!target) throw new HttpError(404, 'NO_DEPLOYMENT', `there is no version ${v} of "${appId}"`);
        const d = await store.commit(appId, {
          expectedVersion: expected(r),
          manifest: target.manifest,
          set: target.functions,
          delete: [],
          blobs: {},
          summary: `rollback to version ${target.version}`,
          replace: true,
          values: target.values ?? {},
          environment: target.environment ?? { tag: '', values: {} },
          dataSources: target.dataSources ?? {},
          httpEndpoints: target.httpEndpoints ?? {},
          dependencies: target.dependencies ?? null,
          triggers: target.triggers ?? {},
        });
        onDeploy(appId, d);
        sendJson(
          res,
          201,
          { version: d.version, createdAt: d.createdAt, functions: Object.keys(d.functions).length },
          { etag: `"${d.version}"` },
        );
      },
    },
  ];
  return routes.map((route) => ({ ...route, handler: guarded(route.handler as (r: AdminRequest, params: string[]) => Promise<void>) }));
}

/** An app id is a folder name under apps/: 1 to 128 of [A-Za-z0-9._-], starting with a letter or digit. */
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkAppId(appId: string): void {
  if (!APP_ID.test(appId)) {
    throw new HttpError(
      400,
      'INVALID_APP_ID',
      `app id ${JSON.stringify(appId)} is not valid here: use 1 to 128 letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
}

/** The most bytes of one segment of a function name with its .js: what file systems take. */
const MAX_SEGMENT_BYTES = 255;
/** The most bytes of a whole function name. */
const MAX_NAME_BYTES = 1024;

/**
 * A deployed function's name must be one the manifest accepts (checkName's invalid-name: no
 * control characters, no '.'/'..' or empty segments, no backslash, not under node_modules) and
 * one every client can write back as a file: no segment over 255 bytes with its .js, at most
 * 1024 bytes in all, and not "__proto__" (an object key that is not a key).
 */
function checkDeployedName(name: string): void {
  const quoted = JSON.stringify(name.length > 80 ? name.slice(0, 80) + '…' : name);
  const refuse = (why: string) => {
    throw new HttpError(400, 'INVALID_FUNCTION_NAME', `function name ${quoted} cannot be deployed: ${why}; nothing was deployed`);
  };
  if (name === '') refuse('it is empty');
  const invalid = checkName(name).find((p) => p.rule === 'invalid-name');
  if (invalid) throw new HttpError(400, 'INVALID_FUNCTION_NAME', `${invalid.message}: it cannot be deployed; nothing was deployed`);
  if (name === '__proto__') refuse('"__proto__" is reserved');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) refuse(`it is longer than ${MAX_NAME_BYTES} bytes`);
  const segments = name.split('/');
  if (segments.some((s, i) => Buffer.byteLength(i === segments.length - 1 ? s + SOURCE_EXTENSION : s) > MAX_SEGMENT_BYTES))
    refuse(`a part of it is longer than ${MAX_SEGMENT_BYTES} bytes (with ${SOURCE_EXTENSION})`);
}

/** values: { "<name>.json": "<its text>" }, each a file name of values/ and a string. */
function checkValues(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'BAD_REQUEST', '"values" must be an object of values/<name>.json texts by file name');
  const out: Record<string, string> = {};
  for (const [file, text] of Object.entries(value)) {
    if (!/^[^/\\]+\.json$/.test(file) || file.startsWith('.'))
      throw new HttpError(400, 'BAD_REQUEST', `"values" names ${JSON.stringify(file)}, not a file name ending in .json`);
    if (typeof text !== 'string') throw new HttpError(400, 'BAD_REQUEST', `"values"."${file}" must be the file's text`);
    Object.defineProperty(out, file, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** httpEndpoints: { "<path>": "<its text>" }, each path an endpoint or webhook file of the app. */
function checkEndpointFiles(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'BAD_REQUEST', '"httpEndpoints" must be an object of file texts by path');
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(value as Record<string, unknown>)) {
    const ok =
      /^https?_endpoints\/config\.json$/.test(path) ||
      /^(services|http_endpoints)\/[^/\\]+\/incoming_webhooks\/[^/\\]+\/(config\.json|source\.js)$/.test(path);
    if (!ok || path.split('/').some((s) => s === '.' || s === '..'))
      throw new HttpError(400, 'BAD_REQUEST', `"httpEndpoints" names ${JSON.stringify(path)}, not an endpoint or webhook file`);
    if (typeof text !== 'string') throw new HttpError(400, 'BAD_REQUEST', `"httpEndpoints"."${path}" must be the file's text`);
    out[path] = text;
  }
  return out;
}

/** environment: { tag: "<name>", values: { ... } }. */
function checkEnvironment(value: unknown): { tag: string; values: Record<string, unknown> } {
  const v = value as { tag?: unknown; values?: unknown };
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v.tag !== 'string' ||
    typeof v.values !== 'object' ||
    v.values === null ||
    Array.isArray(v.values)
  ) {
    throw new HttpError(400, 'BAD_REQUEST', '"environment" must be { "tag": "<name>", "values": { … } }');
  }
  return { tag: v.tag, values: v.values as Record<string, unknown> };
}

function checkManifestText(text: string, names: string[]): void {
  const sources = new Map<string, SourceFile>(names.map((n) => [n, { name: n, path: '', relPath: n + '.js' }]));
  const m = manifestFromText(text, sources);
  const blocking = m.problems.filter((p) => p.rule === 'json-syntax' || (p.rule === 'schema' && p.pointer === ''));
  if (blocking.length)
    throw new HttpError(400, 'INVALID_MANIFEST', `the manifest is not valid: ${blocking[0]!.message} (line ${blocking[0]!.line})`);
}

/** The trigger files of a deployment: triggers/<name>.json → text, and nothing else. */
function checkTriggerFiles(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'BAD_REQUEST', '"triggers" must be an object of triggers/<name>.json paths and their texts');
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(value as Record<string, unknown>)) {
    if (!/^triggers\/[A-Za-z0-9_.-]{1,100}\.json$/.test(path) || path.includes('..') || typeof text !== 'string')
      throw new HttpError(400, 'BAD_REQUEST', `"triggers" may hold only triggers/<name>.json texts; ${JSON.stringify(path)} is not one`);
    if (text.length > 1024 * 1024) throw new HttpError(413, 'TOO_LARGE', `${path} is over 1 MB`);
    out[path] = text;
  }
  return out;
}
