// The deployment admin routes of fn serve, from the client side.
import { FnError } from '../errors.js';
import { errorOf, request, type HttpReply, type Remote } from './client.js';

export interface RemoteDeployment {
  version: number;
  createdAt: string;
  summary: string;
  manifest: string;
  functions: Record<string, string>;
  /** values/<file>.json texts by file name. */
  values?: Record<string, string>;
  environment?: { tag: string; values: Record<string, unknown> };
  dataSources?: Record<string, string>;
  /** The endpoint and webhook files: path → text. */
  httpEndpoints?: Record<string, string>;
  dependencies?: { hash: string; packages: number };
  /** triggers/<name>.json texts by path. */
  triggers?: Record<string, string>;
}

const base = (remote: Remote) => `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}`;

function check(reply: HttpReply, what: string): void {
  if (reply.status === 401 || reply.status === 403)
    throw new FnError('REMOTE_AUTH', `the server refused the service key (${reply.status})`, {
      hint: 'pass the key fn serve printed: --service-key <key> or FN_SERVICE_KEY',
    });
  if (reply.status === 404 && errorOf(reply).code === 'NOT_FOUND')
    throw new FnError('REMOTE_ERROR', `${what}: the server has no deployment routes`, {
      hint: 'push and pull talk to fn serve (fn dev serves a folder and takes no deployments)',
    });
  if (reply.status >= 500) throw new FnError('REMOTE_ERROR', `${what}: ${reply.status} ${errorOf(reply).message}`);
}

export interface DeploymentClient {
  current(): Promise<RemoteDeployment | undefined>;
  /** One past version; undefined when the server has no such version. */
  version(version: number): Promise<RemoteDeployment | undefined>;
  sources(names: string[]): Promise<Record<string, string>>;
  list(): Promise<{ version: number; createdAt: string; summary: string; functions: number }[]>;
  deploy(
    body: {
      manifest: string;
      set: Record<string, string>;
      delete: string[];
      blobs: Record<string, string>;
      summary: string;
      values?: Record<string, string>;
      environment?: { tag: string; values: Record<string, unknown> };
      dataSources?: Record<string, string>;
      httpEndpoints?: Record<string, string>;
      dependencies?: { hash: string } | null;
      triggers?: Record<string, string>;
    },
    ifMatch: number,
  ): Promise<
    | { ok: true; version: number; bytesSent: number }
    | { ok: false; currentVersion: number; bytesSent: number }
    | { ok: false; refused: { code: string; message: string }; bytesSent: number }
  >;
  /** Whether the server has this set of packages of the app. */
  hasDependencies(hash: string): Promise<boolean>;
  /** Sends a set of packages (a gzipped tar of node_modules/); the server checks its hash. */
  putDependencies(hash: string, archive: Uint8Array): Promise<{ packages: number }>;
  /** The names of the app's secrets on the server; undefined when it has no secrets routes. */
  secretNames(): Promise<string[] | undefined>;
  rollback(version: number, ifMatch: number | undefined): Promise<{ ok: true; version: number } | { ok: false; currentVersion: number }>;
}

export function deploymentClient(remote: Remote, serviceKey: string, timeoutMs: number | undefined, signal: AbortSignal): DeploymentClient {
  const opts = { token: serviceKey, timeoutMs, signal };
  return {
    async current() {
      const reply = await request(remote, 'GET', `${base(remote)}/deployment`, opts);
      check(reply, 'reading the deployment');
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw new FnError('REMOTE_ERROR', `reading the deployment: ${reply.status} ${errorOf(reply).message}`);
      return reply.data as RemoteDeployment;
    },
    async version(version) {
      const reply = await request(remote, 'GET', `${base(remote)}/deployments/${version}`, opts);
      check(reply, 'reading a deployment');
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw new FnError('REMOTE_ERROR', `reading version ${version}: ${reply.status} ${errorOf(reply).message}`);
      return reply.data as RemoteDeployment;
    },
    async sources(names) {
      const reply = await request(remote, 'POST', `${base(remote)}/deployment/sources`, {
        ...opts,
        body: JSON.stringify({ names }),
        contentType: 'application/json',
      });
      check(reply, 'reading sources');
      if (reply.status !== 200) throw new FnError('REMOTE_ERROR', `reading sources: ${reply.status} ${errorOf(reply).message}`);
      return (reply.data as { sources: Record<string, string> }).sources;
    },
    async list() {
      const reply = await request(remote, 'GET', `${base(remote)}/deployments`, opts);
      check(reply, 'listing deployments');
      return (reply.data as { deployments: { version: number; createdAt: string; summary: string; functions: number }[] }).deployments;
    },
    async deploy(body, ifMatch) {
      const text = JSON.stringify(body);
      const reply = await requestWithIfMatch(remote, `${base(remote)}/deployments`, text, ifMatch, opts);
      const bytesSent = Buffer.byteLength(text);
      check(reply, 'deploying');
      const refused = errorOf(reply);
      if (reply.status === 409 && (refused.code === 'MISSING_SECRET' || refused.code === 'MISSING_DEPENDENCIES'))
        return { ok: false, refused, bytesSent };
      if (reply.status === 409)
        return { ok: false, currentVersion: Number((reply.data as { currentVersion?: number }).currentVersion ?? -1), bytesSent };
      if (reply.status !== 201) throw new FnError('REMOTE_ERROR', `deploying: ${reply.status} ${errorOf(reply).message}`);
      return { ok: true, version: (reply.data as { version: number }).version, bytesSent };
    },
    async hasDependencies(hash) {
      const reply = await request(remote, 'GET', `${base(remote)}/dependencies/${hash}`, opts);
      check(reply, 'reading the packages');
      return reply.status === 200;
    },
    async putDependencies(hash, archive) {
      const reply = await request(remote, 'PUT', `${base(remote)}/dependencies/${hash}`, {
        ...opts,
        body: archive,
        contentType: 'application/gzip',
      });
      check(reply, 'sending the packages');
      if (reply.status !== 201 && reply.status !== 200)
        throw new FnError('REMOTE_ERROR', `sending the packages: ${reply.status} ${errorOf(reply).message}`);
      return { packages: Number((reply.data as { packages?: number }).packages ?? 0) };
    },
    async secretNames() {
      const reply = await request(remote, 'GET', `${base(remote)}/secrets`, opts);
      if (reply.status === 404) return undefined;
      check(reply, 'reading the secrets');
      if (reply.status !== 200) throw new FnError('REMOTE_ERROR', `reading the secrets: ${reply.status} ${errorOf(reply).message}`);
      return ((reply.data as { secrets?: { name: string }[] }).secrets ?? []).map((s) => s.name);
    },
    async rollback(version, ifMatch) {
      const reply = await requestWithIfMatch(remote, `${base(remote)}/deployments/${version}/rollback`, '{}', ifMatch, opts);
      check(reply, 'rolling back');
      if (reply.status === 409)
        return { ok: false, currentVersion: Number((reply.data as { currentVersion?: number }).currentVersion ?? -1) };
      if (reply.status === 404)
        throw new FnError('NOT_FOUND', `there is no version ${version} to roll back to`, { hint: 'fn deployments lists them' });
      if (reply.status !== 201) throw new FnError('REMOTE_ERROR', `rolling back: ${reply.status} ${errorOf(reply).message}`);
      return { ok: true, version: (reply.data as { version: number }).version };
    },
  };
}

async function requestWithIfMatch(
  remote: Remote,
  path: string,
  body: string,
  ifMatch: number | undefined,
  opts: { token: string; timeoutMs: number | undefined; signal: AbortSignal },
): Promise<HttpReply> {
  return request(remote, 'POST', path, {
    ...opts,
    body,
    contentType: 'application/json',
    ...(ifMatch !== undefined ? { headers: { 'If-Match': `"${ifMatch}"` } } : {}),
  });
}
