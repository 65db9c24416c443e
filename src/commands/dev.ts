// fn dev: serves the app in the working folder on the runtime server, with hot reload. A valid
// change is served from the next call on; an invalid one keeps the last good version running.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataSources } from '../app/data-sources.js';
import type { Context } from '../context.js';
import { DataHub, type BackendInfo } from '../data/hub.js';
import { FnError } from '../errors.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { checkProject } from '../project/check-project.js';
import { findAppRoot, noRootHint } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { bundleProject } from '../runtime/bundle.js';
import { limitsFrom, RuntimeHost, type LimitFlags } from '../runtime/host.js';
import { randomSecret } from '../server/auth.js';
import { createHandler, listenOrExplain } from '../server/http.js';
import { CallLog, type CallLogEntry } from '../server/logs.js';
import { formatDiagnosticLine } from '../ui/diagnostics.js';
import type { Ui } from '../ui/ui.js';

export interface DevOptions extends LimitFlags {
  port?: number;
  host?: string;
  watch?: boolean;
}

export type DevEvent =
  | { event: 'listening'; url: string; appId: string; serviceKey: string; functions: number; version: string }
  | { event: 'call'; entry: CallLogEntry }
  | { event: 'data'; backends: BackendInfo[] }
  | { event: 'reloaded'; version: string; functions: number; warnings: number }
  | { event: 'reload-failed'; diagnostics: Diagnostic[] }
  | { event: 'stopped' };

export interface DevResult {
  ok: true;
  url: string;
}

export async function runDev(ctx: Context, options: DevOptions, emit: (event: DevEvent) => void): Promise<DevResult> {
  const found = findAppRoot(ctx.cwd);
  if (!found) throw new FnError('NO_APP_ROOT', `no app found at ${ctx.cwd} or above it (looked for fn.config.json or functions/config.json)`, { hint: noRootHint(ctx.cwd) });
  const load = () => {
    const project = loadProjectAt(found.root, found.configPath);
    return { project, diagnostics: checkProject(project) };
  };
  const first = load();
  if (summarize(first.diagnostics).errors) {
    emit({ event: 'reload-failed', diagnostics: first.diagnostics });
    throw new FnError('CHECK_FAILED', 'the app has errors; fix them and run fn dev again', { hint: 'fn validate shows them with their hints' });
  }
  let version = 1;
  const runtime = new RuntimeHost(limitsFrom(options));
  // The app's data sources: a MongoDB where a connection string is set, else the embedded engine.
  let data: DataHub | undefined;
  const loadData = () => {
    const { sources } = loadDataSources(first.project.root);
    if (!sources.length && !data) return;
    if (data) data.setSources(sources);
    else {
      data = new DataHub({ root: first.project.root, sources, env: ctx.env, embedded: true });
      runtime.setData(data);
    }
    const now = JSON.stringify(data.infos);
    if (now !== announced) emit({ event: 'data', backends: data.infos });
    announced = now;
  };
  let announced = '';
  loadData();
  runtime.setApp(bundleProject(first.project, String(version)));
  const appId = first.project.appId;
  const serviceKey = ctx.env.FN_SERVICE_KEY || randomSecret();
  const log = new CallLog();
  const handler = createHandler({
    serviceKey,
    jwtSecret: randomSecret(),
    apps: (id) => (id === appId ? { appId, runtime } : undefined),
    log,
    // A call's line is written before its answer; while other calls run (or lines are held), lines
    // may be held a few ms to share a write.
    onCall: (entry, busy) => ctx.ui.lines(() => emit({ event: 'call', entry }), busy),
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  let server;
  try {
    server = await listenOrExplain(handler, host, port);
  } catch (error) {
    await runtime.close();
    await data?.close();
    throw error;
  }

  let watcher: { close(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (options.watch !== false) {
    const { watch } = await import('chokidar');
    const root = first.project.root;
    const targets = [first.project.manifest.functionsDir, join(root, 'values'), join(root, 'environments'), join(root, 'fn.config.json'), join(root, 'root_config.json'), join(root, 'data_sources')];
    const w = watch(targets, { ignoreInitial: true, ignored: (p) => p.split(/[\\/]/).includes('node_modules') || p.endsWith('.tmp') });
    // What the last load saw; a second save of one file within chokidar's 50 ms window sends no
    // event, so each reload is followed by one more look at the files.
    let seen = fingerprint(targets);
    let recheck: NodeJS.Timeout | undefined;
    const reload = () => {
      seen = fingerprint(targets);
      clearTimeout(recheck);
      recheck = setTimeout(() => {
        if (fingerprint(targets) !== seen) reload();
      }, 150);
      const next = load();
      const { errors, warnings } = summarize(next.diagnostics);
      if (errors) return emit({ event: 'reload-failed', diagnostics: next.diagnostics });
      version++;
      loadData();
      runtime.setApp(bundleProject(next.project, String(version)));
      emit({ event: 'reloaded', version: String(version), functions: Object.keys(runtime.app!.functions).length, warnings });
    };
    w.on('all', () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 25);
    });
    ctx.signal.addEventListener('abort', () => clearTimeout(recheck), { once: true });
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    watcher = w;
  }
  // Listening is announced once changes are being watched, so no edit made after it is missed.
  emit({ event: 'listening', url: server.url, appId, serviceKey, functions: Object.keys(runtime.app!.functions).length, version: String(version) });

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearTimeout(timer);
  await watcher?.close();
  await server.close();
  await runtime.close();
  await data?.close();
  emit({ event: 'stopped' });
  return { ok: true, url: server.url };
}

/** Size and modification time of every file under the watched paths (cheap: no reading). */
function fingerprint(paths: string[]): string {
  const parts: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== 'node_modules') walk(join(p, name));
    } else parts.push(`${p}:${st.size}:${st.mtimeMs}`);
  };
  paths.forEach(walk);
  return parts.join('|');
}

export function renderDevEvent(event: DevEvent, ui: Ui): void {
  const c = ui.c;
  switch (event.event) {
    case 'listening':
      ui.out(`${c.green('✔')} fn dev: serving ${c.cyan(event.appId)} (${event.functions} function${event.functions === 1 ? '' : 's'}) at ${c.cyan(event.url)}`);
      ui.out(`  functions    POST ${event.url}/api/apps/${event.appId}/functions/<name>`);
      ui.out(`  app id       ${event.appId}`);
      ui.out(`  service key  ${event.serviceKey}`);
      ui.out(`  ${c.dim('watching for changes; Ctrl-C stops')}`);
      return;
    case 'call': {
      const e = event.entry;
      const status = e.status < 400 ? c.green(String(e.status)) : e.status < 500 ? c.yellow(String(e.status)) : c.red(String(e.status));
      const runAs = 'system' in e.runAs ? ' (as system)' : 'userId' in e.runAs && e.runAs.userId !== e.user ? ` (as ${e.runAs.userId})` : '';
      ui.out(`${c.dim(e.time.slice(11, 23))} ${e.via === 'admin' ? 'admin ' : ''}${c.cyan(e.function)}  ${e.user}${runAs}  ${status}  ${e.durationMs}ms`);
      for (const line of e.logs) ui.out(`  ${c.dim('│')} ${line.level === 'error' ? c.red(line.message) : line.level === 'warn' ? c.yellow(line.message) : line.message}`);
      if (e.error) ui.out(`  ${c.red('✖')} ${e.error.code}: ${e.error.message}`);
      return;
    }
    case 'data':
      for (const b of event.backends) ui.err(`${c.dim('data')} ${c.cyan(b.source)}: ${b.description}${b.kind === 'embedded' ? c.dim(` (set ${b.variable} to use a MongoDB)`) : ''}`);
      return;
    case 'reloaded':
      ui.out(`${c.green('↻')} reloaded: version ${event.version}, ${event.functions} function${event.functions === 1 ? '' : 's'}${event.warnings ? ` (${event.warnings} warning${event.warnings === 1 ? '' : 's'}: fn validate shows them)` : ''}`);
      return;
    case 'reload-failed':
      for (const d of event.diagnostics.filter((x) => x.severity === 'error')) ui.out(formatDiagnosticLine(d, ui) + (d.hint ? `\n  ${c.dim('hint:')} ${d.hint}` : ''));
      ui.out(`${c.yellow('⚠')} the change has errors; still serving the last good version`);
      return;
    case 'stopped':
      ui.err('stopped');
      return;
  }
}
