// fn trigger run <name>: fires one trigger by hand (a scheduled one with no argument, a database
// or authentication one with the event of --event), here in-process or --remote on the server,
// as the system user, and prints the outcome. fn trigger list: the app's triggers.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTriggers, summarizeTrigger, type TriggerSpec, type TriggerSummary } from '../app/triggers.js';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { suggest } from '../manifest/suggest.js';
import { checkProject } from '../project/check-project.js';
import { findAppRoot, noRootHint } from '../project/find-root.js';
import { loadProjectAt, type Project } from '../project/load-project.js';
import { missingKeyError, resolveRemoteSettings } from '../project/remote-settings.js';
import { errorOf, request, type Remote } from '../remote/client.js';
import type { LogLine } from '../runtime/types.js';
import type { Ui } from '../ui/ui.js';

export interface TriggerTargetOptions {
  /** Run on the server: true for the default remote, or a remote's name. */
  remote?: string | boolean;
  url?: string;
  appId?: string;
  serviceKey?: string;
  timeout?: number;
}

export interface TriggerRunOptions extends TriggerTargetOptions {
  name: string;
  /** A JSON (EJSON) file holding the event. */
  event?: string;
}

export interface TriggerRunResult {
  ok: boolean;
  trigger: string;
  type: string;
  function: string;
  /** local, or the server's URL. */
  target: string;
  result: unknown;
  error: { code: string; message: string; stack?: string[] } | null;
  logs: LogLine[];
  durationMs: number;
}

export interface TriggerListResult {
  ok: true;
  target: string;
  triggers: TriggerSummary[];
}

function project(ctx: Context): Project | undefined {
  const found = findAppRoot(ctx.cwd);
  return found ? loadProjectAt(found.root, found.configPath) : undefined;
}

function requireProject(ctx: Context): Project {
  const p = project(ctx);
  if (!p) throw new FnError('NO_APP_ROOT', `no app found at ${ctx.cwd} or above it`, { hint: noRootHint(ctx.cwd) });
  return p;
}

function target(ctx: Context, options: TriggerTargetOptions): { remote: Remote; serviceKey: string } {
  const settings = resolveRemoteSettings(
    {
      url: options.url,
      appId: options.appId,
      remote: typeof options.remote === 'string' ? options.remote : undefined,
      serviceKey: options.serviceKey,
    },
    ctx.env,
    project(ctx),
  );
  if (!settings.appId)
    throw new FnError('USAGE', 'no app id: there is no app here to take it from', { hint: 'run inside an app, or pass --app-id <id>' });
  if (!settings.serviceKey) throw missingKeyError(settings, 'running a trigger on the server needs the service key');
  return { remote: { url: settings.url, appId: settings.appId, isDefaultLocal: settings.isDefaultLocal }, serviceKey: settings.serviceKey };
}

const adminPath = (remote: Remote, rest: string) => `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/${rest}`;

function checkReply(reply: { status: number }, what: string, remote: Remote, errorOfReply: () => { code: string; message: string }): void {
  if (reply.status === 401 || reply.status === 403)
    throw new FnError('REMOTE_AUTH', `the server refused the service key (${reply.status})`, {
      hint: 'pass the key fn dev or fn serve printed: --service-key <key> or FN_SERVICE_KEY',
    });
  if (reply.status === 404 && errorOfReply().code === 'NOT_FOUND')
    throw new FnError('REMOTE_ERROR', `${what}: ${remote.url} has no trigger routes`, {
      hint: 'is it fn dev or fn serve, of this version of fn?',
    });
  if (reply.status === 404)
    throw new FnError('NOT_FOUND', `${what}: ${errorOfReply().message}`, { hint: 'fn trigger list --remote shows them' });
  if (reply.status === 409) throw new FnError('APP_INVALID', `${what}: ${errorOfReply().message}`, { hint: 'fn validate says more' });
  if (reply.status !== 200) throw new FnError('REMOTE_ERROR', `${what}: ${reply.status} ${errorOfReply().message}`);
}

function readEvent(ctx: Context, file: string): unknown {
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FnError(
      'USAGE',
      `--event ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new FnError('USAGE', `--event ${file} is not JSON: ${(error as Error).message}`, {
      hint: 'a change event as (extended) JSON, e.g. {"operationType":"insert","fullDocument":{"_id":{"$oid":"..."}}}',
    });
  }
}

function checkEvent(spec: Pick<TriggerSpec, 'name' | 'type'>, event: unknown): void {
  if (spec.type === 'SCHEDULED' && event !== undefined)
    throw new FnError('USAGE', `trigger "${spec.name}" is scheduled: its function takes no event`, { hint: 'leave out --event' });
  if (spec.type !== 'SCHEDULED' && event === undefined)
    throw new FnError('USAGE', `trigger "${spec.name}" is a ${spec.type.toLowerCase()} trigger: its function takes an event`, {
      hint: `pass --event <file.json> (${spec.type === 'DATABASE' ? 'a change event' : 'an authentication event'} as JSON)`,
    });
}

export async function runTriggerRun(ctx: Context, options: TriggerRunOptions): Promise<TriggerRunResult> {
  const event = options.event === undefined ? undefined : readEvent(ctx, options.event);
  if (options.remote !== undefined && options.remote !== false) return runRemote(ctx, options, event);
  if (options.url !== undefined || options.serviceKey !== undefined)
    throw new FnError('USAGE', '--url and --service-key go with --remote (without it the trigger runs here, in-process)');
  const app = requireProject(ctx);
  const { triggers } = loadTriggers(app.root);
  const spec = triggers.find((t) => t.name === options.name);
  if (!spec) {
    const near = suggest(
      options.name,
      triggers.map((t) => t.name),
    );
    throw new FnError('NOT_FOUND', `there is no trigger "${options.name}" in ${app.root}/triggers`, {
      hint: near.length
        ? `did you mean ${near.join(' or ')}?`
        : triggers.length
          ? `its triggers: ${triggers.map((t) => t.name).join(', ')}`
          : 'add triggers/<name>.json',
    });
  }
  if (spec.broken !== undefined)
    throw new FnError('APP_INVALID', `trigger "${spec.name}" cannot run: ${spec.broken}`, { hint: 'fn validate says more' });
  checkEvent(spec, event);
  const diagnostics = checkProject(app);
  const [{ bundleProject }, { RuntimeHost }, { loadDataSources }, { DataHub }, { AppTriggers }, { MemoryTriggerStateStore }, { CallLog }] =
    await Promise.all([
      import('../runtime/bundle.js'),
      import('../runtime/host.js'),
      import('../app/data-sources.js'),
      import('../data/hub.js'),
      import('../server/triggers.js'),
      import('../server/trigger-state.js'),
      import('../server/logs.js'),
    ]);
  const runtime = new RuntimeHost({ workers: 1, ...(options.timeout ? { timeoutMs: options.timeout } : {}) });
  const { sources } = loadDataSources(app.root);
  const dataHub = sources.length ? new DataHub({ root: app.root, sources, env: ctx.env, embedded: true }) : undefined;
  runtime.setData(dataHub);
  try {
    runtime.setApp(bundleProject(app, 'local', diagnostics));
    const runner = new AppTriggers({ appId: app.appId, runtime, state: new MemoryTriggerStateStore(), log: new CallLog() });
    // Only this one is known to the runner, so nothing else starts; fire() leaves the state as it was.
    runner.set([{ ...spec, disabled: true }]);
    const fired = (await runner.fire(spec.name, event))!;
    const outcome = fired.outcome;
    return {
      ok: outcome.ok,
      trigger: spec.name,
      type: spec.type,
      function: spec.functionName,
      target: 'local',
      result: outcome.result?.kind === 'json' ? (JSON.parse(outcome.result.json) as unknown) : null,
      error: outcome.error
        ? { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.stack ? { stack: outcome.error.stack } : {}) }
        : null,
      logs: outcome.logs,
      durationMs: Math.round(outcome.durationMs * 10) / 10,
    };
  } finally {
    await runtime.close();
    await dataHub?.close();
  }
}

async function runRemote(ctx: Context, options: TriggerRunOptions, event: unknown): Promise<TriggerRunResult> {
  const { remote, serviceKey } = target(ctx, options);
  const what = `running trigger "${options.name}"`;
  const reply = await request(remote, 'POST', adminPath(remote, `triggers/${encodeURIComponent(options.name)}/run`), {
    token: serviceKey,
    body: JSON.stringify(event === undefined ? {} : { event }),
    contentType: 'application/json',
    timeoutMs: options.timeout,
    signal: ctx.signal,
  });
  checkReply(reply, what, remote, () => errorOf(reply));
  const d = reply.data as Omit<TriggerRunResult, 'ok' | 'target'>;
  return { ...d, ok: d.error === null, target: remote.url };
}

export async function runTriggerList(ctx: Context, options: TriggerTargetOptions): Promise<TriggerListResult> {
  if (options.remote !== undefined && options.remote !== false) {
    const { remote, serviceKey } = target(ctx, options);
    const reply = await request(remote, 'GET', adminPath(remote, 'triggers'), {
      token: serviceKey,
      timeoutMs: options.timeout,
      signal: ctx.signal,
    });
    checkReply(reply, 'listing the triggers', remote, () => errorOf(reply));
    const specs = (reply.data as { triggers: TriggerSpec[] }).triggers;
    return { ok: true, target: remote.url, triggers: specs.map(summarizeTrigger) };
  }
  const app = requireProject(ctx);
  return { ok: true, target: 'local', triggers: loadTriggers(app.root).triggers.map(summarizeTrigger) };
}

export function renderTriggerRun(result: TriggerRunResult, ui: Ui): void {
  const c = ui.c;
  for (const line of result.logs) ui.err(`${c.dim('│')} ${'  '.repeat(line.depth ?? 0)}${line.message}`);
  const where = result.target === 'local' ? 'here' : result.target;
  if (result.error) {
    ui.error(`trigger ${result.trigger} → ${result.function}: ${result.error.code}: ${result.error.message}`);
    for (const frame of result.error.stack ?? []) ui.err(`    ${c.dim(frame)}`);
    return;
  }
  ui.err(
    `${c.green('✔')} trigger ${c.cyan(result.trigger)} → ${c.cyan(result.function)} ran as system (${where}) in ${result.durationMs}ms`,
  );
  if (result.result !== null && result.result !== undefined) ui.json(result.result);
}

export function renderTriggerList(result: TriggerListResult, ui: Ui): void {
  const c = ui.c;
  if (!result.triggers.length) {
    ui.err('no triggers (add triggers/<name>.json)');
    return;
  }
  for (const t of result.triggers)
    ui.out(
      `${c.cyan(t.name)}  ${t.type.toLowerCase()}  ${t.on}  → ${c.cyan(t.function || '?')}  ${t.status === 'fires' ? c.green('fires') : t.status === 'disabled' ? c.dim('disabled') : c.yellow(t.status)}`,
    );
}
