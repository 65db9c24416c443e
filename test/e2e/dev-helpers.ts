// Shared by the fn dev end-to-end tests: start the built `fn dev --port 0 --json` in a folder, read
// its NDJSON events, call it over HTTP, stop it.
import { request as httpRequest } from 'node:http';
import { spawnEventProcess, type JsonEvent } from './event-process.js';

export type DevEvent = JsonEvent;

export interface DevServer {
  url: string;
  appId: string;
  serviceKey: string;
  /** Every NDJSON event printed so far (the listening event first); kept up to date. */
  events: DevEvent[];
  /** Resolves with the first event (already printed or still to come) that matches. */
  waitFor(predicate: (event: DevEvent, index: number) => boolean, timeoutMs?: number): Promise<DevEvent>;
  /** Stderr so far, for failure messages. */
  stderr(): string;
  /** SIGINT, then SIGKILL if it has not exited in time; resolves with the exit code. */
  stop(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
}

const START_TIMEOUT_MS = 15_000;

/** Starts `fn dev --port 0 --json` in `cwd` and resolves once it printed its listening event. */
export async function startDev(cwd: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<DevServer> {
  const {
    events,
    waitFor,
    stderr,
    stop,
    listening: untilListening,
  } = spawnEventProcess(['dev', '--port', '0', '--json', ...extraArgs], {
    cwd,
    env: { FN_SERVICE_KEY: undefined, ...env },
    label: 'fn dev',
  });
  const listening: DevEvent = await untilListening(START_TIMEOUT_MS);
  return {
    url: String(listening.url),
    appId: String(listening.appId),
    serviceKey: String(listening.serviceKey),
    events,
    waitFor,
    stderr,
    stop,
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POST /api/apps/{appId}/functions/{name}; a string body is sent as is, anything else as JSON. */
export async function callFunction(
  dev: Pick<DevServer, 'url' | 'appId'>,
  name: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const isForm = body instanceof FormData;
  const response = await fetch(`${dev.url}/api/apps/${dev.appId}/functions/${name}`, {
    method: 'POST',
    headers: isForm ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : isForm || typeof body === 'string' ? body : JSON.stringify(body),
  });
  return reply(response);
}

/** Any request to the server, through fetch (which normalizes the path: use rawRequest for '..'). */
export async function request(dev: Pick<DevServer, 'url'>, path: string, init: RequestInit = {}): Promise<Reply> {
  return reply(await fetch(`${dev.url}${path}`, init));
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A user token from the admin token route (service key). */
export async function userToken(dev: DevServer, userId: string, claims: Record<string, unknown> = {}): Promise<string> {
  const r = await request(dev, `/api/admin/v1/apps/${dev.appId}/users/${encodeURIComponent(userId)}/token`, {
    method: 'POST',
    headers: { ...bearer(dev.serviceKey), 'content-type': 'application/json' },
    body: JSON.stringify(claims),
  });
  if (r.status !== 200) throw new Error(`token route answered ${r.status}: ${r.text}`);
  return (r.json as { token: string }).token;
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * An HTTP request with the path sent byte for byte (node:http does not normalize '..' or escapes).
 * A body is written in 256 KB pieces, yielding between them, and no more is written once the
 * response has arrived: a server may answer (413) and close before the upload ends.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | number>;
    body?: Buffer | string;
    chunked?: boolean;
    /** Send only this many bytes of the body, then wait for the response without ending the request. */
    sendOnly?: number;
  },
): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers = { ...options.headers };
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    // Without content-length node:http sends the body chunked, so the server can only count bytes.
    if (body !== undefined && !options.chunked && headers['content-length'] === undefined) headers['content-length'] = body.length;
    const req = httpRequest({ host: hostname, port, method: options.method ?? 'POST', path: options.path, headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body === undefined) return void req.end();
    if (options.sendOnly === 0) return void req.flushHeaders();
    const end = Math.min(body.length, options.sendOnly ?? body.length);
    let offset = 0;
    const pump = (): void => {
      if (answered || req.destroyed) return;
      if (offset >= end) return void (end === body.length && req.end());
      const next = body.subarray(offset, Math.min(end, offset + 256 * 1024));
      offset += next.length;
      if (req.write(next)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}
