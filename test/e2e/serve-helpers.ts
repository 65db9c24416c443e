// Shared by the fn serve / push / pull end-to-end tests: start the built `fn serve --port 0 --json`
// on a data dir, read its NDJSON events, stop it (SIGINT, then SIGKILL) or kill it (SIGKILL), talk
// to its routes, run push and pull against it, and compute the state a folder should deploy as.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnEventProcess, type JsonEvent } from './event-process.js';
import { fn, type RunResult } from './helpers.js';

export type ServeEvent = JsonEvent;

export interface ServeProcess {
  url: string;
  serviceKey: string;
  dataDir: string;
  /** The apps of the listening event. */
  apps: { appId: string; version: number }[];
  /** Every NDJSON event printed so far; store-problem events may come before listening. */
  events: ServeEvent[];
  waitFor(predicate: (event: ServeEvent, index: number) => boolean, timeoutMs?: number): Promise<ServeEvent>;
  stderr(): string;
  /** SIGINT, then SIGKILL if it has not exited in time. */
  stop(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
  /** SIGKILL now: no cleanup at all, the way a crash looks. */
  kill(): Promise<void>;
}

export const SERVICE_KEY = 'test-service-key';
const START_TIMEOUT_MS = 15_000;

/** Starts `fn serve --port 0 --json --data-dir <dataDir>`; resolves at its listening event. */
export async function startServe(
  dataDir: string,
  options: { env?: Record<string, string | undefined>; args?: string[]; cwd?: string } = {},
): Promise<ServeProcess> {
  const {
    events,
    waitFor,
    stderr,
    stop,
    kill,
    listening: untilListening,
  } = spawnEventProcess(['serve', '--port', '0', '--json', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: options.cwd ?? dataDir,
    env: { FN_SERVICE_KEY: SERVICE_KEY, ...options.env },
    label: 'fn serve',
  });
  const listening: ServeEvent = await untilListening(START_TIMEOUT_MS);
  return {
    url: String(listening.url),
    // A key given by FN_SERVICE_KEY is never printed; one fn made is.
    serviceKey:
      typeof listening.serviceKey === 'string'
        ? listening.serviceKey
        : String({ FN_SERVICE_KEY: SERVICE_KEY, ...options.env }.FN_SERVICE_KEY),
    dataDir: String(listening.dataDir),
    apps: listening.apps as { appId: string; version: number }[],
    events,
    waitFor,
    stderr,
    stop,
    kill,
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function httpRequest(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A request to an admin route of an app: /api/admin/v1/apps/{appId}/{path}, with the service key. */
export function admin(
  server: { url: string; serviceKey: string },
  appId: string,
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Reply> {
  return httpRequest(`${server.url}/api/admin/v1/apps/${encodeURIComponent(appId)}/${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${server.serviceKey}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
}

export interface DeployedState {
  version: number;
  manifest: string;
  functions: Record<string, string>;
}

/** GET .../deployment: the current version, its manifest text and a hash per function. */
export async function currentDeployment(server: { url: string; serviceKey: string }, appId: string): Promise<DeployedState | undefined> {
  const r = await admin(server, appId, 'deployment');
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET deployment answered ${r.status}: ${r.text}`);
  return r.json as DeployedState;
}

/** POST /api/apps/{appId}/functions/{name}, the Base44 SDK route, as an anonymous client. */
export function callFunction(
  url: string,
  appId: string,
  name: string,
  params: unknown = {},
  headers: Record<string, string> = {},
): Promise<Reply> {
  return httpRequest(`${url}/api/apps/${encodeURIComponent(appId)}/functions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(params),
  });
}

/** The environment for push and pull: nothing from the developer's own FN_* settings leaks in. */
export const cleanEnv = { FN_URL: undefined, FN_APP_ID: undefined, FN_SERVICE_KEY: undefined, FN_TOKEN: undefined } as Record<
  string,
  undefined
>;

/** `fn <command> --url <server> --service-key <key> ...args` in `cwd`. */
export function fnAt(server: { url: string; serviceKey: string }, command: string, cwd: string, args: string[] = []): Promise<RunResult> {
  return fn([command, '--url', server.url, '--service-key', server.serviceKey, ...args], { cwd, env: cleanEnv });
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every function source of a folder (functions/**\/*.js, not under node_modules): name → bytes. */
export function functionFiles(appDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      } else if (entry.name.endsWith('.js')) out.set(prefix + entry.name.slice(0, -3), readFileSync(join(dir, entry.name)));
    }
  };
  walk(join(appDir, 'functions'), '');
  return out;
}

/** What deploying the folder must give: its manifest text and the sha256 of each source. */
export function expectedState(appDir: string): Omit<DeployedState, 'version'> {
  const functions: Record<string, string> = {};
  for (const [name, bytes] of [...functionFiles(appDir)].sort(([a], [b]) => (a < b ? -1 : 1))) functions[name] = sha256(bytes);
  return { manifest: readFileSync(join(appDir, 'functions', 'config.json'), 'utf8'), functions };
}

/** Every file under a folder (relative path → bytes), for byte-for-byte comparisons. */
export function treeOf(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix + entry.name;
      if (skip(rel)) continue;
      if (entry.isDirectory()) walk(join(d, entry.name), rel + '/');
      else out[rel] = readFileSync(join(d, entry.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}
