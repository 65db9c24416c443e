// fn invoke <name>: calls a function the way the Base44 SDK does (POST .../functions/{name},
// named parameters as JSON, multipart when files are sent), on a server or --local in-process.
import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { parseJsonFile } from '../manifest/json-file.js';
import { suggest } from '../manifest/suggest.js';
import { checkProject } from '../project/check-project.js';
import { findAppRoot, noRootHint } from '../project/find-root.js';
import { loadProjectAt, type Project } from '../project/load-project.js';
import { missingKeyError, resolveRemoteSettings, type RemoteSettings } from '../project/remote-settings.js';
import {
  buildBody,
  errorOf,
  functionPath,
  request,
  requestUserToken,
  type FileUpload,
  type HttpReply,
  type Remote,
} from '../remote/client.js';
import { CALL_ID_HEADER, type LogLine } from '../runtime/types.js';
import type { Ui } from '../ui/ui.js';

export interface InvokeOptions {
  name: string;
  data?: string;
  file?: string[];
  url?: string;
  appId?: string;
  remote?: string;
  token?: string;
  user?: string;
  /** The type claim of the --user token (can_evaluate often tests %%user.type). */
  userType?: 'normal' | 'server';
  /** The custom_data of the --user token: a JSON object. */
  userData?: string;
  serviceRole?: boolean;
  serviceKey?: string;
  local?: boolean;
  timeout?: number;
}

export interface InvokeResult {
  ok: boolean;
  status: number;
  data: unknown;
  durationMs: number;
  error?: { code: string; message: string };
  /** Not part of the --json envelope: */
  meta: { name: string; target: string; caller: string; text: string | undefined; logs: LogLine[]; stack?: string[]; data?: string[] };
}

/** The --json document: exactly { ok, status, data, durationMs, error? }. */
export function invokeEnvelope(result: InvokeResult): Record<string, unknown> {
  return {
    ok: result.ok,
    status: result.status,
    data: result.data,
    durationMs: Math.round(result.durationMs * 10) / 10,
    ...(result.error ? { error: result.error } : {}),
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.html': 'text/html',
  '.md': 'text/markdown',
  '.xml': 'application/xml',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.wav': 'audio/wav',
};

export async function runInvoke(ctx: Context, options: InvokeOptions): Promise<InvokeResult> {
  const callers = [
    options.token !== undefined && '--token',
    options.user !== undefined && '--user',
    options.serviceRole && '--service-role',
  ].filter(Boolean);
  if (callers.length > 1)
    throw new FnError('USAGE', `${callers.join(' and ')} cannot be used together: pick one caller`, {
      hint: 'anonymous by default; --token <jwt>, --user <id> or --service-role',
    });
  if (options.local && (options.token !== undefined || options.url !== undefined || options.remote !== undefined)) {
    throw new FnError('USAGE', '--local runs the function here, with no server: --token, --url and --remote do not apply', {
      hint: 'use --user <id> or --service-role to choose the caller',
    });
  }
  if (options.user === undefined && (options.userType !== undefined || options.userData !== undefined)) {
    throw new FnError(
      'USAGE',
      `${options.userType !== undefined ? '--user-type' : '--user-data'} sets a claim of the --user token: it needs --user <id>`,
      { hint: `e.g. --user u1 --user-type server --user-data '{"role":"admin"}'` },
    );
  }
  const userData = options.userData === undefined ? undefined : parseUserData(options.userData);
  const data = await readData(ctx, options.data);
  const files = readFiles(ctx, options.file ?? []);

  // The local manifest, when there is one, catches a misspelt or private name before any request.
  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  if (options.local && !project)
    throw new FnError('NO_APP_ROOT', `--local needs the app: none found at ${ctx.cwd} or above it`, { hint: noRootHint(ctx.cwd) });
  if (project) checkName(project, options);

  if (options.local) return invokeLocal(ctx, project!, options, data, files, userData);

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
  const { token, caller } = await callerToken(options, settings, remote, userData);
  const { body, contentType } = buildBody(data, files);
  const reply = await request(remote, 'POST', functionPath(remote.appId, options.name), {
    token,
    body,
    contentType,
    timeoutMs: options.timeout,
    signal: ctx.signal,
  });
  if (reply.status === 401 && token !== undefined) {
    const e = errorOf(reply);
    throw new FnError('REMOTE_AUTH', `the server refused the ${caller === 'service role' ? 'service key' : 'token'}: ${e.message}`, {
      hint:
        caller === 'service role'
          ? 'pass the key fn dev printed: --service-key or FN_SERVICE_KEY'
          : 'get a new token, or call with --user <id> and the service key',
    });
  }
  const ok = reply.status >= 200 && reply.status < 300;
  const text = typeof reply.data === 'string' ? reply.data : undefined;
  const details = await callDetails(remote, reply, settings.serviceKey, options.timeout, ctx.signal);
  return {
    ok,
    status: reply.status,
    data: reply.data,
    durationMs: reply.durationMs,
    ...(ok ? {} : { error: errorOf(reply) }),
    meta: { name: options.name, target: remote.url, caller, text, ...details },
  };
}

function checkName(project: Project, options: InvokeOptions): void {
  const { manifest } = project;
  const entry = manifest.entries.find((e) => e.name === options.name);
  if (!entry && !manifest.sources.has(options.name)) {
    const near = suggest(options.name, new Set([...manifest.entries.map((e) => e.name), ...manifest.sources.keys()]));
    throw new FnError('NOT_FOUND', `there is no function "${options.name}" in ${manifest.functionsRel}/config.json`, {
      hint: near.length ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : 'fn list lists the functions',
    });
  }
  if (entry?.private && !options.serviceRole) {
    throw new FnError('NOT_FOUND', `"${options.name}" is private: clients cannot call it`, {
      hint: 'call it with --service-role (the service key), or from another function with context.functions.execute',
    });
  }
}

const NO_KEY_HINT = 'run fn dev in this app (its key is found in .fn/dev.json), or pass --service-key <key> (or FN_SERVICE_KEY)';

export async function callerToken(
  options: InvokeOptions,
  settings: RemoteSettings,
  remote: Remote,
  userData: Record<string, unknown> | undefined,
): Promise<{ token: string | undefined; caller: string }> {
  if (options.serviceRole) {
    if (!settings.serviceKey)
      throw settings.serviceKeyWithheld
        ? missingKeyError(settings, '--service-role needs the service key')
        : new FnError('USAGE', '--service-role needs the service key', { hint: NO_KEY_HINT });
    return { token: settings.serviceKey, caller: 'service role' };
  }
  if (options.user !== undefined) {
    if (!settings.serviceKey)
      throw settings.serviceKeyWithheld
        ? missingKeyError(settings, '--user needs the service key to ask the server for a token')
        : new FnError('USAGE', '--user needs the service key to ask the server for a token', { hint: NO_KEY_HINT });
    const claims = { ...(options.userType ? { type: options.userType } : {}), ...(userData ? { custom_data: userData } : {}) };
    return {
      token: await requestUserToken(remote, options.user, settings.serviceKey, options.timeout, claims),
      caller: userCaller(options),
    };
  }
  if (settings.token) return { token: settings.token, caller: 'token' };
  return { token: undefined, caller: 'anonymous' };
}

/** "user u1", or "user u1 (server)" when the token's type is set. */
export function userCaller(options: InvokeOptions): string {
  return `user ${options.user}${options.userType === 'server' ? ' (server)' : ''}`;
}

export function parseUserData(text: string): Record<string, unknown> {
  const parsed = parseJsonFile('--user-data', '--user-data', text);
  const e = parsed.syntaxErrors[0];
  if (e)
    throw new FnError('USAGE', `--user-data is not JSON: ${e.message} at line ${e.line}, column ${e.column}`, {
      hint: `pass an object, e.g. --user-data '{"role":"admin"}'`,
    });
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FnError(
      'USAGE',
      `--user-data must be a JSON object (the token's custom_data), not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
      { hint: `e.g. --user-data '{"role":"admin"}'` },
    );
  return value as Record<string, unknown>;
}

async function invokeLocal(
  ctx: Context,
  project: Project,
  options: InvokeOptions,
  data: Record<string, unknown> | undefined,
  files: Record<string, FileUpload>,
  userData: Record<string, unknown> | undefined,
): Promise<InvokeResult> {
  // As in fn dev: a function with an error answers it (500 FUNCTION_INVALID); the others run.
  const diagnostics = checkProject(project);
  const [{ bundleProject }, { RuntimeHost }, { anonymousUser, systemUser }] = await Promise.all([
    import('../runtime/bundle.js'),
    import('../runtime/host.js'),
    import('../runtime/types.js'),
  ]);
  const runtime = new RuntimeHost({ workers: 1, ...(options.timeout ? { timeoutMs: options.timeout } : {}) });
  // The same backend choice as fn dev: a MongoDB where a connection string is set, else the embedded engine.
  const [{ loadDataSources }, { DataHub }] = await Promise.all([import('../app/data-sources.js'), import('../data/hub.js')]);
  const { sources } = loadDataSources(project.root);
  const dataHub = sources.length ? new DataHub({ root: project.root, sources, env: ctx.env, embedded: true }) : undefined;
  runtime.setData(dataHub);
  try {
    runtime.setApp(bundleProject(project, 'local', diagnostics));
    // With files the request would be multipart: the other values arrive as strings, as there.
    const multipart = Object.keys(files).length > 0;
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data ?? {})) {
      if (Object.hasOwn(files, key)) continue;
      const v = multipart ? (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)) : value;
      Object.defineProperty(params, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    const fileArgs = Object.fromEntries(Object.entries(files).map(([key, f]) => [key, { name: f.name, type: f.type, bytes: f.bytes }]));
    const caller = options.serviceRole
      ? systemUser()
      : options.user !== undefined
        ? { id: options.user, type: options.userType ?? 'normal', data: {}, custom_data: userData ?? {}, identities: [] }
        : anonymousUser();
    const outcome = await runtime.call({
      name: options.name,
      args: [params],
      ...(multipart ? { files: fileArgs } : {}),
      caller,
      via: options.serviceRole ? 'admin' : 'client',
      request: { remoteIPAddress: '127.0.0.1', rawHeaders: [], httpMethod: 'POST', rawQueryString: '' },
    });
    const callerName = options.serviceRole ? 'service role' : options.user !== undefined ? userCaller(options) : 'anonymous';
    const meta = {
      name: options.name,
      target: 'local',
      caller: callerName,
      logs: outcome.logs,
      ...(outcome.error?.stack ? { stack: outcome.error.stack } : {}),
      ...(dataHub ? { data: dataHub.infos.map((b) => `data ${b.source}: ${b.description}`) } : {}),
    };
    if (!outcome.ok)
      return {
        ok: false,
        status: outcome.error.status,
        data: { error: { code: outcome.error.code, message: outcome.error.message } },
        durationMs: outcome.durationMs,
        error: { code: outcome.error.code, message: outcome.error.message },
        meta: { ...meta, text: undefined },
      };
    const result = outcome.result;
    if (result.kind === 'json')
      return {
        ok: true,
        status: 200,
        data: JSON.parse(result.json) as unknown,
        durationMs: outcome.durationMs,
        meta: { ...meta, text: undefined },
      };
    const text = Buffer.from(result.body).toString('utf8');
    const isJson = result.headers.some(([k, v]) => k === 'content-type' && v.includes('json'));
    let body: unknown = text;
    if (isJson) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
      }
    }
    const ok = result.status >= 200 && result.status < 300;
    return {
      ok,
      status: result.status,
      data: body,
      durationMs: outcome.durationMs,
      ...(ok ? {} : { error: { code: String(result.status), message: text.slice(0, 500) } }),
      meta: { ...meta, text: typeof body === 'string' ? body : undefined },
    };
  } finally {
    await runtime.close();
    await dataHub?.close();
  }
}

/**
 * The call's console output and stack: from its entry in the server's call log when this command
 * holds the service key (the answer names the entry), else the stack the error answer carries.
 */
export async function callDetails(
  remote: Remote,
  reply: HttpReply,
  serviceKey: string | undefined,
  timeoutMs: number | undefined,
  signal: AbortSignal,
): Promise<{ logs: LogLine[]; stack?: string[] }> {
  const framesOf = (error: unknown): string[] | undefined => {
    const stack = typeof error === 'object' && error !== null ? (error as { stack?: unknown }).stack : undefined;
    return Array.isArray(stack) && stack.every((f) => typeof f === 'string') ? stack : undefined;
  };
  const answered = framesOf(typeof reply.data === 'object' && reply.data !== null ? (reply.data as { error?: unknown }).error : undefined);
  const fallback = answered ? { logs: [], stack: answered } : { logs: [] };
  const id = reply.headers.get(CALL_ID_HEADER);
  if (!serviceKey || !id || !/^\d+$/.test(id)) return fallback;
  try {
    const entry = await request(remote, 'GET', `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/logs/${id}`, {
      token: serviceKey,
      timeoutMs,
      signal,
    });
    const data = entry.data as { logs?: unknown; error?: unknown };
    if (entry.status !== 200 || typeof data !== 'object' || data === null || !Array.isArray(data.logs)) return fallback;
    const stack = framesOf(data.error) ?? answered;
    return { logs: data.logs as LogLine[], ...(stack ? { stack } : {}) };
  } catch {
    // The answer stands without its details.
    return fallback;
  }
}

async function readData(ctx: Context, data: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (data === undefined) return undefined;
  let text: string;
  let source: string;
  if (data === '-') {
    source = 'standard input';
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    text = Buffer.concat(chunks).toString('utf8');
  } else if (data.startsWith('@')) {
    source = data.slice(1);
    try {
      text = readFileSync(resolve(ctx.cwd, source), 'utf8');
    } catch (error) {
      throw new FnError(
        'USAGE',
        `--data ${data}: cannot read ${source} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { hint: 'give the path of a JSON file after @' },
      );
    }
  } else {
    source = '--data';
    text = data;
  }
  const parsed = parseJsonFile(source, source, text);
  const e = parsed.syntaxErrors[0];
  if (e)
    throw new FnError('USAGE', `${source} is not JSON: ${e.message} at line ${e.line}, column ${e.column}`, {
      hint: `pass an object of named parameters, e.g. --data '{"items": [1, 2]}'`,
    });
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FnError(
      'USAGE',
      `${source} must be a JSON object of named parameters, not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
      { hint: `e.g. --data '{"items": [1, 2]}': each key is a parameter` },
    );
  }
  return value as Record<string, unknown>;
}

function readFiles(ctx: Context, specs: string[]): Record<string, FileUpload> {
  const files: Record<string, FileUpload> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq > 0 ? spec.slice(0, eq) : '';
    const path = eq > 0 ? spec.slice(eq + 1).replace(/^@/, '') : '';
    if (!key || !path) throw new FnError('USAGE', `--file ${spec} is not <param>=<path>`, { hint: 'e.g. --file avatar=./me.png' });
    let bytes: Buffer;
    try {
      bytes = readFileSync(resolve(ctx.cwd, path));
    } catch (error) {
      throw new FnError(
        'USAGE',
        `--file ${spec}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    files[key] = {
      name: basename(path),
      type: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      bytes: new Uint8Array(bytes),
    };
  }
  return files;
}

export function renderInvoke(result: InvokeResult, ui: Ui): void {
  const c = ui.c;
  for (const line of result.meta.data ?? []) ui.err(c.dim(line));
  for (const line of result.meta.logs)
    ui.err(
      `${c.dim('│')} ${'  '.repeat(line.depth ?? 0)}${line.call ? c.dim(line.message) : line.level === 'error' ? c.red(line.message) : line.level === 'warn' ? c.yellow(line.message) : line.message}`,
    );
  const timing = `${Math.round(result.durationMs)}ms`;
  if (result.ok) {
    if (result.meta.text !== undefined) ui.write(result.meta.text);
    else ui.out(JSON.stringify(result.data, null, ui.stdoutIsTTY ? 2 : undefined) ?? 'null');
    ui.err(
      c.dim(
        `${c.green('✔')} ${result.status} ${result.meta.name} (${result.meta.caller}, ${result.meta.target === 'local' ? 'local' : result.meta.target}) in ${timing}`,
      ),
    );
    return;
  }
  ui.err(`${c.red().bold('error')} ${result.status} ${result.error?.code ?? ''}: ${result.error?.message ?? ''}`);
  for (const frame of result.meta.stack ?? []) ui.err(`    ${frame}`);
  if (typeof result.data === 'object' && result.data !== null && !result.meta.stack) ui.err(c.dim(JSON.stringify(result.data)));
  if (result.status === 404 && result.error?.code === 'APP_NOT_FOUND')
    ui.err(`${c.dim('hint')} ${result.meta.target} does not serve this app id: pass --app-id <id>, or --url for the server that serves it`);
  else if (result.status === 404)
    ui.err(`${c.dim('hint')} is the function deployed there, and public? (${result.meta.target}; fn list --remote lists what is deployed)`);
  if (result.status === 403)
    ui.err(`${c.dim('hint')} its can_evaluate expression refused this caller (${result.meta.caller}); try --user <id> or --service-role`);
}
