// fn serve: hosts the apps deployed by fn push, from a deployment store, with the same runtime
// and routes as fn dev plus the deployment admin routes.
import { mkdirSync } from 'node:fs';
import { allowedOriginsOf, authConfigOf } from '../app/auth-config.js';
import { FileUserStore } from '../store/users.js';
import { join, resolve } from 'node:path';
import { loadDataSources } from '../app/data-sources.js';
import { loadTriggers } from '../app/triggers.js';
import type { Context } from '../context.js';
import { bundleDeployment } from '../runtime/bundle.js';
import { RunnerClient } from '../runtime/runner-client.js';
import { limitsFrom, type LimitFlags } from './limits.js';
import type { AdminRoute } from '../server/admin-routes.js';
import { randomSecret } from '../server/auth.js';
import { SecretStore } from '../server/app-secrets.js';
import { deployRoutes } from '../server/deploy-routes.js';
import { dependencyRoutes } from '../server/dependency-routes.js';
import { DependencyStore } from '../server/dependency-store.js';
import { secretRoutes } from '../server/secret-routes.js';
import { connectionLimitsFrom, createHandler, listenOrExplain, type ConnectionFlags, type ServedApp } from '../server/http.js';
import { CallLog, type CallLogEntry } from '../server/logs.js';
import { FileStore, loadServerKeys, type Deployment, type ServerKeys } from '../server/store.js';
import { PostgresDeploymentStore } from '../server/store-postgres.js';
import { redactUrl, SCHEMA_VERSION } from '../store/postgres.js';
import { FnError } from '../errors.js';
import { FileTriggerStateStore } from '../server/trigger-state.js';
import { triggerRoutes } from '../server/trigger-routes.js';
import { AppTriggers } from '../server/triggers.js';
import type { Ui } from '../ui/ui.js';

/** fn serve hosts many apps: one worker each unless --workers says more, four at most under load. */
export const SERVE_LIMIT_DEFAULTS = { workers: 1, maxWorkers: 4 };

export interface ServeOptions extends LimitFlags, ConnectionFlags {
  /** Origins of web pages allowed to call, besides local ones (--allow-origin). */
  allowOrigin?: string[];
  dataDir?: string;
  port?: number;
  host?: string;
  /** New service key and token secret, kept in the data dir. */
  rotateKeys?: boolean;
  /** Data sources without a connection string use the embedded engine (development only). */
  embeddedData?: boolean;
  /** A PostgreSQL store's URL (else FN_STORE_URL; else the file store in the data dir). */
  store?: string;
  /** Migrate the PostgreSQL store's schema and exit. */
  migrate?: boolean;
}

export type ServeEvent =
  // serviceKey only when fn made it (never one given by FN_SERVICE_KEY); keysFile keeps it.
  | {
      event: 'listening';
      url: string;
      dataDir: string;
      apps: { appId: string; version: number }[];
      serviceKey?: string;
      serviceKeyFrom: 'given' | 'new' | 'kept';
      keysFile: string;
    }
  | { event: 'call'; entry: CallLogEntry }
  | { event: 'deployed'; appId: string; version: number; functions: number; summary: string }
  | { event: 'store-problem'; message: string }
  // A secret set or removed (its name only, never its value).
  | { event: 'secret'; appId: string; name: string; action: 'set' | 'unset' }
  | { event: 'data'; appId: string; source: string; backend: string; warning?: string }
  /** Something about one trigger of an app: it stopped, missed ticks were skipped. */
  | { event: 'trigger'; appId: string; trigger: string; message: string }
  | { event: 'stopped' }
  | { event: 'migrated'; store: string; schemaVersion: number };

export async function runServe(ctx: Context, options: ServeOptions, emit: (event: ServeEvent) => void): Promise<{ ok: true }> {
  const dataDir = resolve(ctx.cwd, options.dataDir ?? '.fn/server');
  const storeUrl = options.store ?? (ctx.env.FN_STORE_URL || undefined);
  if (options.migrate && !storeUrl)
    throw new FnError('USAGE', '--migrate works on a PostgreSQL store', { hint: 'give --store postgres://… (or FN_STORE_URL)' });
  if (storeUrl && !/^postgres(ql)?:\/\//.test(storeUrl))
    throw new FnError('USAGE', `--store takes a postgres:// URL, not "${redactUrl(storeUrl)}"`, {
      hint: 'leave it out to keep deployments in --data-dir',
    });
  if (storeUrl && !options.migrate)
    for (const name of ['FN_SERVICE_KEY', 'FN_TOKEN_SECRET'] as const)
      if (!ctx.env[name])
        throw new FnError('USAGE', `a shared store needs ${name}: every host must use the same one`, {
          hint: `set ${name} to the same secret on every host (at least 16 characters for FN_TOKEN_SECRET)`,
        });
  const postgres = storeUrl ? await PostgresDeploymentStore.open({ url: storeUrl }) : undefined;
  if (postgres && options.migrate) {
    await postgres.close();
    emit({ event: 'migrated', store: redactUrl(storeUrl!), schemaVersion: SCHEMA_VERSION });
    return { ok: true };
  }
  const fileStore = postgres ? undefined : new FileStore(dataDir);
  const store: FileStore | PostgresDeploymentStore = postgres ?? fileStore!;
  mkdirSync(dataDir, { recursive: true });
  fileStore?.lock();
  const limits = limitsFrom(options, SERVE_LIMIT_DEFAULTS);
  // Each app's functions run in a process of their own (a runner), which holds no secret of the
  // server and nothing of another app.
  const served = new Map<string, ServedApp & { runtime: RunnerClient; triggers: AppTriggers }>();
  const log = new CallLog();
  // Where each app's triggers got to: <data dir>/triggers/<app>.json.
  const triggerState = new FileTriggerStateStore((appId) => join(dataDir, 'triggers', `${appId}.json`));
  // Each app's data sources (from its deployment, opened in its runner): a connection string
  // each, or with --embedded-data the embedded engine under <data dir>/embedded/<app>/.
  const dataFiles = new Map<string, string>();
  const attachData = (appId: string, app: ServedApp & { runtime: RunnerClient }, deployment: Deployment) => {
    const files = JSON.stringify(deployment.dataSources ?? {});
    const known = dataFiles.get(appId);
    if (known === files) return;
    const { sources } = loadDataSources('', deployment.dataSources ?? {});
    try {
      if (known === undefined && !sources.length) return;
      const infos = app.runtime.setData({ sources, env: ctx.env, embedded: options.embeddedData === true });
      dataFiles.set(appId, files);
      for (const b of infos)
        emit({
          event: 'data',
          appId,
          source: b.source,
          backend: b.description,
          ...(b.kind === 'embedded' ? { warning: `for development only: set ${b.variable} to use a MongoDB` } : {}),
        });
    } catch (error) {
      store.problems.push(
        `${appId}: ${(error as Error).message}; its functions run, and context.services fails until it is set (or fn serve --embedded-data)`,
      );
    }
  };
  let reported = 0;
  const reportProblems = () => {
    for (; reported < store.problems.length; reported++) emit({ event: 'store-problem', message: store.problems[reported]! });
  };
  // Each app's secrets and packages, kept beside its deployments.
  const secrets = new SecretStore(dataDir);
  const deps = new DependencyStore(dataDir);
  /** Bundles made again for a version (its secrets changed), per app: the next label. */
  const remade = new Map<string, number>();
  /** The allowed_request_origins of each served app's deployment. */
  const origins = new Map<string, string[]>();
  const load = (appId: string, deployment: Deployment | undefined, again = false): ServedApp | undefined => {
    if (!deployment) return undefined;
    let app = served.get(appId);
    const n = again ? (remade.get(appId) ?? 0) + 1 : 0;
    remade.set(appId, n);
    const bundle = bundleDeployment(appId, deployment, (hash) => store.readBlob(appId, hash), {
      secrets: secrets.values(appId),
      modulesDir: deployment.dependencies ? deps.modulesDir(appId, deployment.dependencies.hash) : undefined,
      // A new label: the workers of the old bundle (with the old secrets) retire.
      ...(n ? { version: `${deployment.version}.${n}` } : {}),
    });
    if (!app) {
      const runtime = new RunnerClient({
        limits,
        dataRoot: join(dataDir, 'embedded', appId),
        tz: ctx.env.TZ,
        // Its own app's packages, whichever version it serves; no other app's.
        packageDirs: [deps.root(appId)],
      });
      const triggers = new AppTriggers({
        appId,
        runtime,
        state: triggerState,
        log,
        onRun: (entry) => ctx.ui.lines(() => emit({ event: 'call', entry }), false),
        onNotice: (trigger, message) => emit({ event: 'trigger', appId, trigger, message }),
      });
      app = {
        appId,
        runtime,
        triggers,
        // Its endpoints' validation reads the app's secrets at each request, as its values do.
        secret: (name) => secrets.values(appId)[name],
        // Logins, new users and deleted users fire its authentication triggers.
        authEvent: (operation, providers, user) => triggers.authEvent(operation, providers, user),
      };
      served.set(appId, app);
    }
    // The client API's config: the auth/ files pushed with the data source files. Its secrets
    // (custom-token's signing keys, as App Services keeps them) are the app's secrets, read when
    // used: `fn secrets set --remote` takes effect at the next login.
    const auth = authConfigOf(deployment.dataSources ?? {});
    // Pages of the origins its realm_config.json allows (allowed_request_origins) may call it.
    origins.set(appId, allowedOriginsOf(deployment.dataSources ?? {}));
    app.auth = () => ({
      ...auth,
      get secrets() {
        return secrets.values(appId);
      },
    });
    attachData(appId, app, deployment);
    app.runtime.setApp(bundle);
    app.triggers.set(loadTriggers('', deployment.triggers ?? {}).triggers);
    return app;
  };
  const appFor = (appId: string): ServedApp | undefined => {
    const existing = served.get(appId);
    if (existing) return existing;
    try {
      return load(appId, store.current(appId));
    } catch (error) {
      store.problems.push(`${appId}: ${(error as Error).message}`);
      return undefined;
    } finally {
      reportProblems();
    }
  };

  const keys = postgres
    ? sharedKeys(ctx.env)
    : loadServerKeys(dataDir, {
        serviceKey: ctx.env.FN_SERVICE_KEY,
        rotate: options.rotateKeys === true,
        generate: () => randomSecret(),
      });
  // Deploys and rollbacks made through other hosts of a shared store are served here too.
  await postgres?.watch((appId, deployment) => {
    if (!served.has(appId)) return;
    load(appId, deployment);
    emit({
      event: 'deployed',
      appId,
      version: deployment.version,
      functions: Object.keys(deployment.functions).length,
      summary: deployment.summary,
    });
  });
  const handler = createHandler({
    allowOrigins: options.allowOrigin ?? [],
    appOrigins: (appId) => {
      if (appId === undefined) return [];
      // A preflight may come before the app's first call: its deployment is read once.
      if (!origins.has(appId)) appFor(appId);
      return origins.get(appId) ?? [];
    },
    serviceKey: keys.serviceKey,
    jwtSecret: keys.jwtSecret,
    apps: appFor,
    // The client API's users and sessions: <data dir>/users/<app>.json.
    users: new FileUserStore(join(dataDir, 'users')),
    trustProxy: options.trustProxy === true,
    log,
    // A call's line is written before its answer; while other calls run (or lines are held), lines
    // may be held a few ms to share a write.
    onCall: (entry, busy) => ctx.ui.lines(() => emit({ event: 'call', entry }), busy),
    adminRoutes: [
      ...deployRoutes(
        store,
        (appId, deployment) => {
          load(appId, deployment);
          emit({
            event: 'deployed',
            appId,
            version: deployment.version,
            functions: Object.keys(deployment.functions).length,
            summary: deployment.summary,
          });
        },
        { secretNames: (appId) => secrets.names(appId), dependencies: (appId, hash) => deps.info(appId, hash) },
      ),
      ...secretRoutes(secrets, (appId, name, action) => {
        // A served app's values read the secret from its next call on.
        if (served.has(appId)) load(appId, store.current(appId), true);
        emit({ event: 'secret', appId, name, action });
      }),
      ...dependencyRoutes(deps),
    ]
      .map((route): AdminRoute => ({
        ...route,
        handler: async (request, params) => {
          try {
            await route.handler(request, params);
          } finally {
            // Damage found while answering (a source that no longer matches its hash) is reported now.
            reportProblems();
          }
        },
      }))
      // fn trigger list/run --remote.
      .concat(
        triggerRoutes((appId) => {
          appFor(appId);
          return served.get(appId)?.triggers;
        }),
      ),
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  const server = await listenOrExplain(handler, host, port, connectionLimitsFrom(options));
  const apps = store.apps().flatMap((appId) => {
    const d = store.current(appId);
    return d ? [{ appId, version: d.version }] : [];
  });
  reportProblems();
  emit({
    event: 'listening',
    url: server.url,
    dataDir,
    apps,
    ...(keys.serviceKeyFrom === 'given' ? {} : { serviceKey: keys.serviceKey }),
    serviceKeyFrom: keys.serviceKeyFrom,
    keysFile: keys.path,
  });
  // Apps with triggers run from the start (the others start at their first call).
  for (const { appId } of apps) if (Object.keys(store.current(appId)?.triggers ?? {}).length) appFor(appId);
  await new Promise<void>((done) => {
    if (ctx.signal.aborted) done();
    ctx.signal.addEventListener('abort', () => done(), { once: true });
  });
  await server.close();
  await Promise.all([...served.values()].map((a) => a.triggers.close()));
  await Promise.all([...served.values()].map((a) => a.runtime.close()));
  fileStore?.unlock();
  await postgres?.close();
  emit({ event: 'stopped' });
  return { ok: true };
}

export function renderServeEvent(event: ServeEvent, ui: Ui): void {
  const c = ui.c;
  switch (event.event) {
    case 'listening':
      ui.out(`${c.green('✔')} fn serve: listening at ${c.cyan(event.url)} (data in ${event.dataDir})`);
      ui.out(
        `  apps         ${event.apps.length ? event.apps.map((a) => `${a.appId}@${a.version}`).join(', ') : 'none yet: deploy one with fn push --url ' + event.url}`,
      );
      if (event.serviceKey === undefined) ui.out(`  service key  from FN_SERVICE_KEY ${c.dim('(not shown)')}`);
      else
        ui.out(
          `  service key  ${event.serviceKey}  ${c.dim(`(${event.serviceKeyFrom === 'new' ? 'new; ' : ''}kept in ${event.keysFile}; --rotate-keys makes a new one)`)}`,
        );
      return;
    case 'call': {
      const e = event.entry;
      ui.out(
        `${c.dim(e.time.slice(11, 23))} ${e.via === 'trigger' ? `trigger ${c.cyan(e.trigger ?? '')} → ` : ''}${c.cyan(`${e.appId}/${e.function}`)}  ${e.user}  ${e.status < 400 ? c.green(String(e.status)) : c.red(String(e.status))}  ${e.durationMs}ms`,
      );
      for (const line of e.logs) ui.out(`  ${c.dim('│')} ${'  '.repeat(line.depth ?? 0)}${line.message}`);
      if (e.error) ui.out(`  ${c.red('✖')} ${e.error.code}: ${e.error.message}`);
      for (const frame of e.error?.stack ?? []) ui.out(`      ${c.dim(frame)}`);
      return;
    }
    case 'deployed':
      ui.out(
        `${c.green('↑')} ${event.appId}: version ${event.version} deployed (${event.functions} function${event.functions === 1 ? '' : 's'})${event.summary ? ` — ${event.summary}` : ''}`,
      );
      return;
    case 'data':
      ui.out(
        `${c.dim('data')} ${c.cyan(`${event.appId}/${event.source}`)}: ${event.backend}${event.warning ? ` ${c.yellow('warning')} ${event.warning}` : ''}`,
      );
      return;
    case 'secret':
      ui.out(`${c.dim('secret')} ${c.cyan(`${event.appId}/${event.name}`)} ${event.action === 'set' ? 'set' : 'removed'}`);
      return;
    case 'trigger':
      ui.out(`${c.yellow('⚠')} trigger ${c.cyan(`${event.appId}/${event.trigger}`)}: ${event.message}`);
      return;
    case 'store-problem':
      ui.out(`${c.red('✖')} store: ${event.message}`);
      return;
    case 'stopped':
      ui.err('stopped');
      return;
    case 'migrated':
      ui.out(`${c.green('✔')} store ${c.cyan(event.store)} is at schema version ${event.schemaVersion}`);
      return;
  }
}

/** The keys of a host of a shared store: given by the environment, the same on every host. */
function sharedKeys(env: Record<string, string | undefined>): ServerKeys {
  const jwtSecret = env.FN_TOKEN_SECRET ?? '';
  if (jwtSecret.length < 16)
    throw new FnError('USAGE', 'FN_TOKEN_SECRET is shorter than 16 characters', {
      hint: 'use a long random secret, the same on every host',
    });
  return { serviceKey: env.FN_SERVICE_KEY!, jwtSecret, serviceKeyFrom: 'given', path: '(FN_SERVICE_KEY, FN_TOKEN_SECRET)' };
}
