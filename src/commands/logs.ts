// fn logs: the recent calls of an app on fn dev or fn serve (the admin logs route), and with
// --follow every new one until Ctrl-C, by polling the route for ids above the last one seen.
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { findAppRoot } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { missingKeyError, resolveRemoteSettings } from '../project/remote-settings.js';
import type { Remote } from '../remote/client.js';
import { fetchCallLog, type RemoteCallEntry } from '../remote/logs.js';
import type { Ui } from '../ui/ui.js';

export interface LogsOptions {
  function?: string;
  limit?: number;
  follow?: boolean;
  /** Milliseconds between two polls under --follow. */
  interval?: number;
  url?: string;
  appId?: string;
  remote?: string;
  serviceKey?: string;
  timeout?: number;
}

export interface LogsResult {
  ok: true;
  url: string;
  appId: string;
  function?: string;
  /** Oldest first. */
  calls: RemoteCallEntry[];
}

const DEFAULT_LIMIT = 20;
/** The most the route gives in one reply. */
const PAGE = 1000;

interface Target {
  remote: Remote;
  serviceKey: string;
}

function target(ctx: Context, options: LogsOptions): Target {
  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const settings = resolveRemoteSettings(
    { url: options.url, appId: options.appId, remote: options.remote, serviceKey: options.serviceKey },
    ctx.env,
    project,
  );
  if (!settings.appId)
    throw new FnError('USAGE', 'no app id: there is no app here to take it from', {
      hint: 'run inside an app, or pass --app-id <id> (or FN_APP_ID)',
    });
  if (!settings.serviceKey) throw missingKeyError(settings, 'the logs need the service key');
  return { remote: { url: settings.url, appId: settings.appId, isDefaultLocal: settings.isDefaultLocal }, serviceKey: settings.serviceKey };
}

export async function runLogs(ctx: Context, options: LogsOptions): Promise<LogsResult> {
  const { remote, serviceKey } = target(ctx, options);
  const calls = await fetchCallLog(
    remote,
    serviceKey,
    { function: options.function, limit: options.limit ?? DEFAULT_LIMIT },
    { timeoutMs: options.timeout, signal: ctx.signal },
  );
  return {
    ok: true,
    url: remote.url,
    appId: remote.appId,
    ...(options.function !== undefined ? { function: options.function } : {}),
    calls,
  };
}

/**
 * Prints the recent calls, then each new call as it comes, until the context is aborted. A
 * server that restarts starts its ids again: a newest id below the last one seen means that.
 */
export async function followLogs(
  ctx: Context,
  options: LogsOptions,
  onCall: (call: RemoteCallEntry) => void,
  onStart?: (result: LogsResult) => void,
): Promise<void> {
  const { remote, serviceKey } = target(ctx, options);
  const read = (limit: number) =>
    fetchCallLog(remote, serviceKey, { function: options.function, limit }, { timeoutMs: options.timeout, signal: ctx.signal });
  const first = await read(options.limit ?? DEFAULT_LIMIT);
  onStart?.({
    ok: true,
    url: remote.url,
    appId: remote.appId,
    ...(options.function !== undefined ? { function: options.function } : {}),
    calls: first,
  });
  for (const call of first) onCall(call);
  let last = first.at(-1)?.id ?? 0;
  const interval = options.interval ?? 500;
  while (!ctx.signal.aborted) {
    await sleep(interval, ctx.signal);
    if (ctx.signal.aborted) break;
    let calls: RemoteCallEntry[];
    try {
      calls = await read(PAGE);
    } catch (error) {
      if (ctx.signal.aborted) break;
      throw error;
    }
    const newest = calls.at(-1)?.id ?? 0;
    if (newest < last) last = 0;
    for (const call of calls) if (call.id > last) onCall(call);
    if (newest > last) last = newest;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

export function renderLogs(result: LogsResult, ui: Ui): void {
  if (!result.calls.length) {
    ui.err(ui.c.dim(`no calls yet${result.function !== undefined ? ` of ${result.function}` : ''} for ${result.appId} at ${result.url}`));
    return;
  }
  for (const call of result.calls) renderCall(call, ui);
}

/** One call: time, function, caller (and who it ran as), status, duration; then its console lines and error. */
export function renderCall(e: RemoteCallEntry, ui: Ui): void {
  const c = ui.c;
  const status = e.status < 400 ? c.green(String(e.status)) : e.status < 500 ? c.yellow(String(e.status)) : c.red(String(e.status));
  const runAs = 'system' in e.runAs ? ' (as system)' : 'userId' in e.runAs && e.runAs.userId !== e.user ? ` (as ${e.runAs.userId})` : '';
  ui.out(
    `${c.dim(e.time.slice(0, 23).replace('T', ' '))} ${e.via === 'admin' ? 'admin ' : e.via === 'trigger' ? `trigger ${c.cyan(e.trigger ?? '')} → ` : ''}${c.cyan(e.function)}  ${e.user}${runAs}  ${status}  ${e.durationMs}ms`,
  );
  for (const line of e.logs)
    ui.out(
      `  ${c.dim('│')} ${line.level === 'error' ? c.red(line.message) : line.level === 'warn' ? c.yellow(line.message) : line.message}`,
    );
  if (e.error) ui.out(`  ${c.red('✖')} ${e.error.code}: ${e.error.message}`);
}
