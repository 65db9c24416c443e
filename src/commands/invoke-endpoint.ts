// fn invoke --endpoint <METHOD> <route?query>: calls an HTTPS endpoint of the app, on a server
// (/app/{appId}/endpoint/{route}) or --local: then the app's folder is served in-process by the
// same handler fn dev uses, on 127.0.0.1 at a free port, for this one request, so matching,
// validation, authentication and the answer are exactly the server's.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { findAppRoot, noRootHint } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { resolveRemoteSettings } from '../project/remote-settings.js';
import { cleanText, request, type HttpReply, type Remote } from '../remote/client.js';
import { CALL_ID_HEADER, type LogLine } from '../runtime/types.js';
import type { Ui } from '../ui/ui.js';
import { callDetails, callerToken, parseUserData, userCaller, type InvokeOptions } from './invoke.js';

export interface InvokeEndpointOptions extends Omit<InvokeOptions, 'name' | 'file'> {
  /** The HTTP method (GET, POST, PUT, PATCH, DELETE, ...). */
  endpoint: string;
  /** The route after /endpoint, with its query: /hello?x=1. */
  route: string;
  /** Request headers, "Name: value" each. */
  header?: string[];
}

export interface InvokeEndpointResult {
  ok: boolean;
  status: number;
  headers: Record<string, string>;
  /** The body: parsed when it is JSON, else its text. */
  body: unknown;
  durationMs: number;
  /** Not part of the --json document: */
  meta: { method: string; url: string; target: string; caller: string; text: string; logs: LogLine[]; stack?: string[] };
}

/** The --json document: { ok, status, headers, body, durationMs }. */
export function invokeEndpointEnvelope(result: InvokeEndpointResult): Record<string, unknown> {
  return {
    ok: result.ok,
    status: result.status,
    headers: result.headers,
    body: result.body,
    durationMs: Math.round(result.durationMs * 10) / 10,
  };
}

const METHOD = /^[A-Z]+$/;

export async function runInvokeEndpoint(ctx: Context, options: InvokeEndpointOptions): Promise<InvokeEndpointResult> {
  const method = options.endpoint.toUpperCase();
  if (!METHOD.test(method))
    throw new FnError('USAGE', `--endpoint ${options.endpoint} is not an HTTP method`, { hint: 'e.g. fn invoke --endpoint GET /hello' });
  if (options.local && (options.token !== undefined || options.url !== undefined || options.remote !== undefined))
    throw new FnError('USAGE', '--local serves the endpoint here: --token, --url and --remote do not apply', {
      hint: 'use --user <id> or --service-role to choose the caller',
    });
  if ([options.token !== undefined, options.user !== undefined, options.serviceRole === true].filter(Boolean).length > 1)
    throw new FnError('USAGE', '--token, --user and --service-role cannot be used together: pick one caller', {
      hint: 'anonymous by default',
    });
  const route = options.route.startsWith('/') ? options.route : `/${options.route}`;
  const path = (appId: string) => `/app/${encodeURIComponent(appId)}/endpoint${route}`;
  const headers = parseHeaders(options.header ?? []);
  const body = await readBody(ctx, options.data);
  // Without an Accept of its own the endpoint's return_type decides the format, as for a browser.
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'accept')) headers.Accept = '*/*';
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['Content-Type'] = isJson(body) ? 'application/json' : 'text/plain';
  const userData = options.userData === undefined ? undefined : parseUserData(options.userData);
  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;

  if (options.local) {
    if (!project)
      throw new FnError('NO_APP_ROOT', `--local needs the app: none found at ${ctx.cwd} or above it`, { hint: noRootHint(ctx.cwd) });
    const [{ checkProject }, { bundleProject }, { RuntimeHost }, { loadDataSources }, { DataHub }, http, auth, logs, endpoints] =
      await Promise.all([
        import('../project/check-project.js'),
        import('../runtime/bundle.js'),
        import('../runtime/host.js'),
        import('../app/data-sources.js'),
        import('../data/hub.js'),
        import('../server/http.js'),
        import('../server/auth.js'),
        import('../server/logs.js'),
        import('../server/endpoints.js'),
      ]);
    const runtime = new RuntimeHost({ workers: 1, ...(options.timeout ? { timeoutMs: options.timeout } : {}) });
    const { sources } = loadDataSources(project.root);
    const dataHub = sources.length ? new DataHub({ root: project.root, sources, env: ctx.env, embedded: true }) : undefined;
    runtime.setData(dataHub);
    runtime.setApp(bundleProject(project, 'local', checkProject(project)));
    const serviceKey = auth.randomSecret();
    const jwtSecret = auth.randomSecret();
    const log = new logs.CallLog();
    const app = { appId: project.appId, runtime, secret: endpoints.folderSecrets(project.root) };
    const handler = http.createHandler({ serviceKey, jwtSecret, apps: (id) => (id === app.appId ? app : undefined), log, details: 'all' });
    const server = await http.listen(handler, '127.0.0.1', 0);
    try {
      const token = options.serviceRole
        ? serviceKey
        : options.user !== undefined
          ? auth.signToken(jwtSecret, {
              sub: options.user,
              type: options.userType ?? 'normal',
              data: {},
              custom_data: userData ?? {},
            }).token
          : undefined;
      const remote: Remote = { url: server.url, appId: app.appId };
      const reply = await request(remote, method, path(app.appId), {
        token,
        body,
        headers,
        timeoutMs: options.timeout,
        signal: ctx.signal,
      });
      const id = Number(reply.headers.get(CALL_ID_HEADER));
      const entry = Number.isInteger(id) && id > 0 ? log.get(id) : undefined;
      const caller = options.serviceRole
        ? 'service role'
        : options.user !== undefined
          ? userCaller({ ...options, name: route })
          : 'anonymous';
      return resultOf(reply, method, route, 'local', caller, {
        logs: entry?.logs ?? [],
        ...(entry?.error?.stack ? { stack: entry.error.stack } : {}),
      });
    } finally {
      await server.close();
      await runtime.close();
      await dataHub?.close();
    }
  }

  const settings = resolveRemoteSettings(
    { url: options.url, appId: options.appId, remote: options.remote, token: options.token, serviceKey: options.serviceKey },
    ctx.env,
    project,
  );
  if (!settings.appId)
    throw new FnError('NO_APP_ROOT', 'no app id: there is no app here to take it from', {
      hint: 'run inside an app, or pass --app-id <id> (or FN_APP_ID)',
    });
  const remote: Remote = { url: settings.url, appId: settings.appId, isDefaultLocal: settings.isDefaultLocal };
  const { token, caller } = await callerToken({ ...options, name: route }, settings, remote, userData);
  const reply = await request(remote, method, path(remote.appId), { token, body, headers, timeoutMs: options.timeout, signal: ctx.signal });
  const details = await callDetails(remote, reply, settings.serviceKey, options.timeout, ctx.signal);
  return resultOf(reply, method, route, remote.url, caller, details);
}

function resultOf(
  reply: HttpReply,
  method: string,
  route: string,
  target: string,
  caller: string,
  details: { logs: LogLine[]; stack?: string[] },
): InvokeEndpointResult {
  const headers: Record<string, string> = {};
  reply.headers.forEach((value, name) => {
    if (name === CALL_ID_HEADER || name === 'date' || name === 'connection' || name === 'keep-alive') return;
    headers[name] = value;
  });
  return {
    ok: reply.status >= 200 && reply.status < 300,
    status: reply.status,
    headers,
    body: reply.data,
    durationMs: reply.durationMs,
    meta: { method, url: route, target, caller, text: reply.text, ...details },
  };
}

function parseHeaders(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const name = colon > 0 ? spec.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new FnError('USAGE', `--header ${spec} is not <name>:<value>`, { hint: 'e.g. --header "Endpoint-Signature: sha256=…"' });
    const value = spec.slice(colon + 1).trim();
    const known = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase());
    if (known) out[known] = `${out[known]}, ${value}`;
    else out[name] = value;
  }
  return out;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** --data for an endpoint: the body as it is (text, @file or - for standard input). */
async function readBody(ctx: Context, data: string | undefined): Promise<string | undefined> {
  if (data === undefined) return undefined;
  if (data === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  if (data.startsWith('@')) {
    const file = data.slice(1);
    try {
      return readFileSync(resolve(ctx.cwd, file), 'utf8');
    } catch (error) {
      throw new FnError(
        'USAGE',
        `--data ${data}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        {
          hint: 'give the path of a file after @',
        },
      );
    }
  }
  return data;
}

export function renderInvokeEndpoint(result: InvokeEndpointResult, ui: Ui): void {
  const c = ui.c;
  for (const line of result.meta.logs)
    ui.err(`${c.dim('│')} ${'  '.repeat(line.depth ?? 0)}${line.level === 'error' ? c.red(line.message) : line.message}`);
  const status = `${result.status} ${result.meta.method} ${result.meta.url}`;
  ui.err(result.ok ? `${c.green('✔')} ${status}` : `${c.red().bold('error')} ${status}`);
  for (const [name, value] of Object.entries(result.headers)) ui.err(c.dim(`  ${name}: ${cleanText(value)}`));
  for (const frame of result.meta.stack ?? []) ui.err(`    ${frame}`);
  ui.err(c.dim(`${result.meta.caller}, ${result.meta.target} in ${Math.round(result.durationMs)}ms`));
  if (result.meta.text !== '') ui.write(result.meta.text.endsWith('\n') ? result.meta.text : `${result.meta.text}\n`);
}
