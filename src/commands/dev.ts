// fn dev: serves the app in the working folder on the runtime server, with hot reload. Every
// change is served from the next call on. A function whose file or entry has an error answers
// 500 FUNCTION_INVALID naming the file, the place and the problem; the others are served.
import { join, relative } from 'node:path';
import { loadAuthConfig, readAllowedOrigins } from '../app/auth-config.js';
import { loadDataSources } from '../app/data-sources.js';
import { loadTriggers, summarizeTrigger, type TriggerSummary } from '../app/triggers.js';
import type { Context } from '../context.js';
import type { BackendInfo } from '../data/hub.js';
import { summarize, type Diagnostic } from '../manifest/diagnostics.js';
import { checkProject } from '../project/check-project.js';
import { depsRoot } from '../project/dependencies.js';
import { removeDevServer, writeDevServer } from '../project/dev-server.js';
import { localSecretsPath } from '../project/secrets.js';
import { requireAppRoot } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { snapshotFiles, watchApp, type AppWatcher } from '../project/watch.js';
import { bundleProject } from '../runtime/bundle.js';
import { RunnerClient } from '../runtime/runner-client.js';
import { folderSecrets } from '../server/endpoints.js';
import { limitsFrom, type LimitFlags } from './limits.js';
import type { AppBundle } from '../runtime/types.js';
import { randomSecret } from '../server/auth.js';
import { connectionLimitsFrom, createHandler, listenOrExplain, type ConnectionFlags, type ServedApp } from '../server/http.js';
import { CallLog, type CallLogEntry } from '../server/logs.js';
import { FileUserStore } from '../store/users.js';
import { FileTriggerStateStore } from '../server/trigger-state.js';
import { triggerRoutes } from '../server/trigger-routes.js';
import { AppTriggers } from '../server/triggers.js';
import { formatDiagnosticLine } from '../ui/diagnostics.js';
import type { Ui } from '../ui/ui.js';

export interface DevOptions extends LimitFlags, ConnectionFlags {
  /** Origins of web pages allowed to call, besides local ones (--allow-origin). */
  allowOrigin?: string[];
  port?: number;
  host?: string;
  watch?: boolean;
}

/** What cannot run in a version, and why (calls to it answer this). */
export interface Broken {
  /** Set when the whole app cannot run (the manifest cannot be read). */
  app?: string;
  functions: { name: string; message: string }[];
}

export type DevEvent =
  | {
      event: 'listening';
      url: string;
      appId: string;
      serviceKey: string;
      functions: number;
      version: string;
      broken: Broken;
      diagnostics: Diagnostic[];
      /** How many HTTPS endpoints (and webhooks) the app has, when it has any. */
      endpoints?: number;
    }
  | { event: 'call'; entry: CallLogEntry }
  | { event: 'data'; backends: BackendInfo[] }
  | {
      event: 'reloaded';
      version: string;
      functions: number;
      warnings: number;
      changed: string[];
      broken: Broken;
      diagnostics: Diagnostic[];
    }
  | { event: 'reload-failed'; message: string; changed: string[] }
  /** The app's triggers, when they change: each one's name, type, function and whether it fires. */
  | { event: 'triggers'; triggers: TriggerSummary[] }
  /** Something about one trigger: it stopped, missed ticks were skipped. */
  | { event: 'trigger'; trigger: string; message: string }
  | { event: 'stopped' };

export interface DevResult {
  ok: true;
  url: string;
}

export async function runDev(ctx: Context, options: DevOptions, emit: (event: DevEvent) => void): Promise<DevResult> {
  const found = requireAppRoot(ctx.cwd);
  let version = 0;
  /** The next version: every function that can run, and what cannot and why. */
  const load = () => {
    const project = loadProjectAt(found.root, found.configPath);
    const diagnostics = checkProject(project);
    const bundle = bundleProject(project, String(++version), diagnostics);
    return {
      project,
      bundle,
      diagnostics,
      // Shown with each version: the errors, and values whose secret is not set (they read undefined).
      errors: diagnostics.filter((d) => d.severity === 'error' || d.rule === 'missing-secret'),
      warnings: summarize(diagnostics).warnings,
    };
  };
  // The files a version is made of, and what they were before the first load read them: an edit
  // made while it reads gives a reload once the watch is ready.
  const root = found.root;
  const targets = [
    loadProjectAt(root, found.configPath).manifest.functionsDir,
    ...['values', 'environments', 'data_sources', 'triggers', 'fn.config.json', 'root_config.json', 'realm_config.json'].map((p) =>
      join(root, p),
    ),
    ...['http_endpoints', 'https_endpoints', 'services'].map((p) => join(root, p)),
    // fn secrets set writes here: values that read a secret change with it.
    localSecretsPath(root),
  ];
  const baseline = snapshotFiles(targets);
  const first = load();
  // The app's functions run in a process of their own (a runner), which holds no secret of this one.
  const runtime = new RunnerClient({ limits: limitsFrom(options), dataRoot: root, tz: ctx.env.TZ, packageDirs: [depsRoot(root)] });
  // The app's data sources (opened in the runner): a MongoDB where a connection string is set,
  // else the embedded engine.
  let hasData = false;
  let announced = '';
  const loadData = () => {
    const { sources } = loadDataSources(root);
    if (!sources.length && !hasData) return;
    const infos = runtime.setData({ sources, env: ctx.env, embedded: true });
    hasData = true;
    const now = JSON.stringify(infos);
    if (now !== announced) emit({ event: 'data', backends: infos });
    announced = now;
  };
  loadData();
  runtime.setApp(first.bundle);
  const appId = first.project.appId;
  const serviceKey = ctx.env.FN_SERVICE_KEY || randomSecret();
  const log = new CallLog();
  const served: ServedApp = {
    appId,
    runtime,
    secret: folderSecrets(root),
    auth: () => loadAuthConfig(root),
    // Logins, new users and deleted users fire the app's authentication triggers.
    authEvent: (operation, providers, user) => triggers.authEvent(operation, providers, user),
  };
  // The app's triggers: their functions run in the runner as the system user, their runs go to
  // the call log, and where each got to is kept in .fn/triggers.json.
  const triggers = new AppTriggers({
    appId,
    runtime,
    state: new FileTriggerStateStore(() => join(root, '.fn', 'triggers.json')),
    log,
    onRun: (entry) => ctx.ui.lines(() => emit({ event: 'call', entry }), false),
    onNotice: (trigger, message) => emit({ event: 'trigger', trigger, message }),
  });
  let triggersShown = '';
  const loadTriggerSpecs = () => {
    const specs = loadTriggers(root).triggers;
    triggers.set(specs);
    const summary = specs.map(summarizeTrigger);
    const now = JSON.stringify(summary);
    if (now !== triggersShown && (summary.length || triggersShown !== '')) emit({ event: 'triggers', triggers: summary });
    triggersShown = now;
  };
  const handler = createHandler({
    allowOrigins: options.allowOrigin ?? [],
    serviceKey,
    jwtSecret: randomSecret(),
    apps: (id) => (id === appId ? served : undefined),
    // The client API's users and sessions, in .fn/users/ (fn dev keeps them across restarts).
    users: new FileUserStore(join(root, '.fn', 'users')),
    trustProxy: options.trustProxy === true,
    // Pages of the origins realm_config.json allows (allowed_request_origins) may call too.
    appOrigins: () => readAllowedOrigins(root),
    log,
    // fn dev serves one's own folder: every caller sees a failing call's stack.
    details: 'all',
    // A call's line is written before its answer; while other calls run (or lines are held), lines
    // may be held a few ms to share a write.
    onCall: (entry, busy) => ctx.ui.lines(() => emit({ event: 'call', entry }), busy),
    adminRoutes: triggerRoutes((id) => (id === appId ? triggers : undefined)),
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  let server;
  try {
    server = await listenOrExplain(handler, host, port, connectionLimitsFrom(options));
  } catch (error) {
    await runtime.close();
    throw error;
  }

  let watcher: AppWatcher | undefined;
  if (options.watch !== false) {
    const reload = (paths: string[]) => {
      const changed = paths.map((p) => relative(root, p).replace(/\\/g, '/'));
      let next;
      try {
        next = load();
      } catch (error) {
        // The folder cannot be read at all (fn.config.json unreadable): the last version goes on.
        return emit({ event: 'reload-failed', message: (error as Error).message, changed });
      }
      try {
        loadData();
      } catch (error) {
        emit({ event: 'reload-failed', message: `data sources: ${(error as Error).message}`, changed });
      }
      runtime.setApp(next.bundle);
      try {
        loadTriggerSpecs();
      } catch (error) {
        emit({ event: 'reload-failed', message: `triggers: ${(error as Error).message}`, changed });
      }
      emit({
        event: 'reloaded',
        version: next.bundle.version,
        functions: Object.keys(next.bundle.functions).length,
        warnings: next.warnings,
        changed,
        broken: brokenOf(next.bundle),
        diagnostics: next.errors,
      });
    };
    try {
      watcher = await watchApp({
        paths: targets,
        baseline,
        run: reload,
        onError: (error) => emit({ event: 'reload-failed', message: (error as Error)?.message ?? String(error), changed: [] }),
      });
    } catch (error) {
      await server.close();
      await runtime.close();
      throw error;
    }
  }

  // Remote commands of this app find the server and its key in .fn/dev.json (0600) until it stops.
  const appRoot = first.project.root;
  try {
    writeDevServer(appRoot, { url: server.url, appId, serviceKey, pid: process.pid });
  } catch {
    // A read-only folder: invoke then needs --service-key, as it would without the record.
  }
  // Listening is announced once changes are being watched, so no edit made after it is missed.
  emit({
    event: 'listening',
    url: server.url,
    appId,
    serviceKey,
    functions: Object.keys(first.bundle.functions).length,
    version: first.bundle.version,
    broken: brokenOf(first.bundle),
    diagnostics: first.errors,
    ...(first.bundle.endpoints?.length ? { endpoints: first.bundle.endpoints.length } : {}),
  });
  // Triggers start once the server is announced (their runs' lines come after it).
  loadTriggerSpecs();

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  removeDevServer(appRoot, process.pid);
  await watcher?.close();
  await server.close();
  await triggers.close();
  await runtime.close();
  emit({ event: 'stopped' });
  return { ok: true, url: server.url };
}

function brokenOf(bundle: AppBundle): Broken {
  const functions = Object.values(bundle.functions).flatMap((f) => (f.broken === undefined ? [] : [{ name: f.name, message: f.broken }]));
  return bundle.broken === undefined ? { functions } : { app: bundle.broken, functions };
}

/** The errors, then what cannot run until they are fixed. */
function renderBroken(broken: Broken, diagnostics: Diagnostic[], ui: Ui): void {
  const c = ui.c;
  for (const d of diagnostics) ui.out(formatDiagnosticLine(d, ui) + (d.hint ? `\n  ${c.dim('hint:')} ${d.hint}` : ''));
  if (broken.app !== undefined) ui.out(`${c.yellow('⚠')} ${broken.app}; every call answers 500 FUNCTION_INVALID until it is fixed`);
  else if (broken.functions.length) {
    const n = broken.functions.length;
    ui.out(
      `${c.yellow('⚠')} ${n} function${n === 1 ? '' : 's'} cannot run until fixed (calls answer 500 FUNCTION_INVALID): ${broken.functions.map((f) => c.cyan(f.name)).join(', ')}; the others are served`,
    );
  }
}

export function renderDevEvent(event: DevEvent, ui: Ui): void {
  const c = ui.c;
  switch (event.event) {
    case 'listening':
      ui.out(
        `${c.green('✔')} fn dev: serving ${c.cyan(event.appId)} (${event.functions} function${event.functions === 1 ? '' : 's'}) at ${c.cyan(event.url)}`,
      );
      ui.out(`  functions    POST ${event.url}/api/apps/${event.appId}/functions/<name>`);
      if (event.endpoints) ui.out(`  endpoints    ${event.url}/app/${event.appId}/endpoint/<route> (${event.endpoints})`);
      ui.out(`  app id       ${event.appId}`);
      ui.out(`  service key  ${event.serviceKey}`);
      ui.out(`  ${c.dim('watching for changes; Ctrl-C stops')}`);
      renderBroken(event.broken, event.diagnostics, ui);
      return;
    case 'call': {
      const e = event.entry;
      const status = e.status < 400 ? c.green(String(e.status)) : e.status < 500 ? c.yellow(String(e.status)) : c.red(String(e.status));
      const runAs =
        'system' in e.runAs ? ' (as system)' : 'userId' in e.runAs && e.runAs.userId !== e.user ? ` (as ${e.runAs.userId})` : '';
      const via = e.via === 'admin' ? 'admin ' : e.via === 'trigger' ? `trigger ${c.cyan(e.trigger ?? '')} → ` : '';
      ui.out(`${c.dim(e.time.slice(11, 23))} ${via}${c.cyan(e.function)}  ${e.user}${runAs}  ${status}  ${e.durationMs}ms`);
      // Nested calls (context.functions.execute) and their output are indented under the call.
      for (const line of e.logs)
        ui.out(
          `  ${c.dim('│')} ${'  '.repeat(line.depth ?? 0)}${line.call ? c.dim(line.message) : line.level === 'error' ? c.red(line.message) : line.level === 'warn' ? c.yellow(line.message) : line.message}`,
        );
      if (e.error) ui.out(`  ${c.red('✖')} ${e.error.code}: ${e.error.message}`);
      for (const frame of e.error?.stack ?? []) ui.out(`      ${c.dim(frame)}`);
      return;
    }
    case 'data':
      for (const b of event.backends)
        ui.err(
          `${c.dim('data')} ${c.cyan(b.source)}: ${b.description}${b.kind === 'embedded' ? c.dim(` (set ${b.variable} to use a MongoDB)`) : ''}`,
        );
      return;
    case 'reloaded': {
      const what = event.changed.length
        ? ` ${event.changed
            .slice(0, 3)
            .map((f) => c.cyan(f))
            .join(', ')}${event.changed.length > 3 ? ` and ${event.changed.length - 3} more` : ''}`
        : '';
      ui.out(
        `${c.green('↻')} reloaded${what}: version ${event.version}, ${event.functions} function${event.functions === 1 ? '' : 's'}${event.warnings ? ` (${event.warnings} warning${event.warnings === 1 ? '' : 's'}: fn validate shows them)` : ''}`,
      );
      renderBroken(event.broken, event.diagnostics, ui);
      return;
    }
    case 'triggers':
      for (const t of event.triggers)
        ui.out(
          `  trigger ${c.cyan(t.name)}  ${t.type.toLowerCase()} ${t.on} → ${c.cyan(t.function || '?')}${t.status === 'fires' ? '' : `  ${t.status === 'disabled' ? c.dim('disabled') : c.yellow(t.status)}`}`,
        );
      return;
    case 'trigger':
      ui.out(`${c.yellow('⚠')} trigger ${c.cyan(event.trigger)}: ${event.message}`);
      return;
    case 'reload-failed':
      ui.out(`${c.red('✖')} the change cannot be loaded: ${event.message}; the version before it is still served`);
      return;
    case 'stopped':
      ui.err('stopped');
      return;
  }
}
