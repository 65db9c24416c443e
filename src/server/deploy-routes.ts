// fn serve's admin routes for deployments (service key required, checked by the caller):
//   GET  .../deployment                              the current version, manifest and hashes
//   GET  .../deployment/functions/{name...}/source   one function's source
//   POST .../deployment/sources                      several sources: { names } → { sources }
//   GET  .../deployments                             past versions, newest first
//   POST .../deployments          (If-Match: <v>)    a new version from the changes sent
//   POST .../deployments/{v}/rollback (If-Match)     a new version equal to version v
import { manifestFromText } from '../manifest/load.js';
import type { SourceFile } from '../manifest/sources.js';
import { sendJson, HttpError, type AdminRequest } from './http.js';
import { ConflictError, CorruptionError, MissingBlobError, type Deployment, type DeploymentStore } from './store.js';

export function deployRoutes(store: DeploymentStore, onDeploy: (appId: string, deployment: Deployment) => void): (r: AdminRequest) => Promise<boolean> {
  const expected = (r: AdminRequest): number | undefined => {
    const header = r.req.headers['if-match'];
    if (header === undefined || header === '*') return undefined;
    const n = Number(String(header).replace(/^W\//, '').replace(/"/g, '').trim());
    if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'BAD_REQUEST', `If-Match must be a version number, not ${JSON.stringify(header)}`);
    return n;
  };
  const conflict = (r: AdminRequest, error: ConflictError) =>
    sendJson(r.res, 409, { error: { code: 'CONFLICT', message: `the app has moved on: it is at version ${error.currentVersion}` }, currentVersion: error.currentVersion }, { etag: `"${error.currentVersion}"` });

  return async (r) => {
    const { method, rest, appId, res } = r;
    try {
      if (method === 'GET' && rest.length === 1 && rest[0] === 'deployment') {
        const d = store.current(appId);
        if (!d) throw new HttpError(404, 'NO_DEPLOYMENT', `nothing is deployed for "${appId}"`);
        sendJson(res, 200, d, { etag: `"${d.version}"` });
        return true;
      }
      if (method === 'GET' && rest[0] === 'deployment' && rest[1] === 'functions' && rest.length >= 4 && rest[rest.length - 1] === 'source') {
        const name = rest.slice(2, -1).join('/');
        const d = store.current(appId);
        const hash = d && Object.hasOwn(d.functions, name) ? d.functions[name] : undefined;
        if (!hash) throw new HttpError(404, 'FUNCTION_NOT_FOUND', `function "${name}" is not deployed`);
        const text = store.readBlob(appId, hash);
        res.writeHead(200, { 'content-type': 'application/javascript; charset=utf-8', 'content-length': Buffer.byteLength(text), etag: `"${hash}"` });
        res.end(text);
        return true;
      }
      if (method === 'POST' && rest.length === 2 && rest[0] === 'deployment' && rest[1] === 'sources') {
        const body = (await r.readJson()) as { names?: unknown };
        const d = store.current(appId);
        if (!d) throw new HttpError(404, 'NO_DEPLOYMENT', `nothing is deployed for "${appId}"`);
        const names = Array.isArray(body.names) ? body.names.filter((n): n is string => typeof n === 'string') : Object.keys(d.functions);
        const sources: Record<string, string> = {};
        for (const name of names) if (Object.hasOwn(d.functions, name)) sources[name] = store.readBlob(appId, d.functions[name]!);
        sendJson(res, 200, { version: d.version, sources });
        return true;
      }
      if (method === 'GET' && rest.length === 1 && rest[0] === 'deployments') {
        sendJson(res, 200, { deployments: store.list(appId) });
        return true;
      }
      if (method === 'POST' && rest.length === 1 && rest[0] === 'deployments') {
        const body = (await r.readJson()) as { manifest?: unknown; set?: unknown; delete?: unknown; blobs?: unknown; summary?: unknown; dataSources?: unknown };
        if (typeof body.manifest !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"manifest" (the functions/config.json text) is required');
        const record = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {});
        const set = record(body.set);
        const del = Array.isArray(body.delete) ? body.delete.filter((n): n is string => typeof n === 'string') : [];
        checkManifestText(body.manifest, [...Object.keys(set)]);
        const d = await store.commit(appId, { expectedVersion: expected(r), manifest: body.manifest, set, delete: del, blobs: record(body.blobs), summary: typeof body.summary === 'string' ? body.summary.slice(0, 200) : '', ...(body.dataSources !== undefined ? { dataSources: Object.fromEntries(Object.entries(record(body.dataSources)).filter(([, v]) => typeof v === "string")) } : {}) });
        onDeploy(appId, d);
        sendJson(res, 201, { version: d.version, createdAt: d.createdAt, functions: Object.keys(d.functions).length }, { etag: `"${d.version}"` });
        return true;
      }
      if (method === 'POST' && rest.length === 3 && rest[0] === 'deployments' && rest[2] === 'rollback') {
        const target = store.get(appId, Number(rest[1]));
        if (!target) throw new HttpError(404, 'NO_DEPLOYMENT', `there is no version ${rest[1]} of "${appId}"`);
        const d = await store.commit(appId, { expectedVersion: expected(r), manifest: target.manifest, set: target.functions, delete: [], blobs: {}, summary: `rollback to version ${target.version}`, replace: true, dataSources: target.dataSources ?? {} });
        onDeploy(appId, d);
        sendJson(res, 201, { version: d.version, createdAt: d.createdAt, functions: Object.keys(d.functions).length }, { etag: `"${d.version}"` });
        return true;
      }
      return false;
    } catch (error) {
      if (error instanceof ConflictError) {
        conflict(r, error);
        return true;
      }
      if (error instanceof MissingBlobError) throw new HttpError(409, 'MISSING_SOURCES', `${error.message}: the app changed since the plan was made; push again`);
      if (error instanceof CorruptionError) throw new HttpError(500, 'STORE_CORRUPT', error.message);
      throw error;
    }
  };
}

function checkManifestText(text: string, names: string[]): void {
  const sources = new Map<string, SourceFile>(names.map((n) => [n, { name: n, path: '', relPath: n + '.js' }]));
  const m = manifestFromText(text, sources);
  const blocking = m.problems.filter((p) => p.rule === 'json-syntax' || (p.rule === 'schema' && p.pointer === ''));
  if (blocking.length) throw new HttpError(400, 'INVALID_MANIFEST', `the manifest is not valid: ${blocking[0]!.message} (line ${blocking[0]!.line})`);
}
