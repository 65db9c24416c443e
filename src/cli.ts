// The whole command grammar and the one catch site. `main(argv, io)` runs one command against
// the streams, environment and folder it is given and returns the exit code; src/bin.ts binds it
// to the process. Each action lazy-imports its command module, so --help and --version load none
// of them.
import { resolve } from 'node:path';
import type { Command as CommandType } from 'commander';
import type { Context } from './context.js';
import type { Ui } from './ui/ui.js';
import { EXIT_CODE_TABLE, ExitCode, FnError } from './errors.js';

interface GlobalOptions {
  cwd?: string;
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
}

/** What one run of the CLI reads and writes: the process's own, or a test's. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The folder --cwd is resolved from. */
  cwd: string;
  /** Aborted on SIGINT/SIGTERM (the process) or by a test; watch modes and servers stop on it. */
  signal?: AbortSignal;
  /** The package version, as --version prints it. */
  version: string;
}

/** Runs `fn <argv...>` and returns the exit code. Never exits the process. */
export async function main(argv: string[], io: Io): Promise<number> {
  const { Argument, Command, Option, InvalidArgumentError } = await import('commander');
  /** A commander argParser for a whole number in a range. */
  const parseInteger = (flag: string, min: number, max: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not "${value}"`);
    return n;
  };
  /** A commander argParser for an origin (scheme://host[:port], or "*"), repeatable. */
  const parseOrigins = (value: string, previous: string[] = []) => {
    if (value !== '*' && !/^https?:\/\/[^/\s?#]+\/?$/i.test(value))
      throw new InvalidArgumentError(
        `--allow-origin takes an origin such as https://app.example.com (scheme, host and port, no path), or "*", not "${value}"`,
      );
    return [...previous, value];
  };
  /** A commander argParser for a host name (no port), repeatable. */
  const parseHosts = (value: string, previous: string[] = []) => {
    if (value !== '*' && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/i.test(value))
      throw new InvalidArgumentError(`--allow-host takes a host name such as fn.example.com (no scheme, no port), or "*", not "${value}"`);
    return [...previous, value];
  };
  const { createUi } = await import('./ui/ui.js');
  const abort = new AbortController();
  const forward = () => abort.abort(io.signal?.reason);
  if (io.signal?.aborted) forward();
  else io.signal?.addEventListener('abort', forward, { once: true });
  let ctx: Context | undefined;
  let exitCode: number = ExitCode.OK;
  const jsonRequested =
    argv.includes('--json') || argv.includes('--format=json') || argv.some((a, i) => a === '--format' && argv[i + 1] === 'json');
  const uiFor = (opts: GlobalOptions): Ui =>
    createUi({ stdout: io.stdout, stderr: io.stderr }, { flag: opts.color !== false && !argv.includes('--no-color'), env: io.env });

  const program = new Command('fn')
    .description('Build, check, type and run App Services-style backend functions, callable the way the Base44 SDK calls them.')
    .version(io.version, '-V, --version', 'print the version')
    .option('--cwd <dir>', 'run as if started in <dir>')
    .option('--json', 'print one JSON document (errors included)')
    .option('--no-color', 'no colors (also NO_COLOR=1)')
    .option('--verbose', 'more detail, and the stack of internal errors')
    .showHelpAfterError('(run fn --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => {
        if (!jsonRequested) io.stderr.write(text);
      },
    })
    .addHelpText(
      'after',
      `\nExit codes:\n${EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}\n\nRun fn <command> --help for a command's options and examples.`,
    );

  const makeContext = (cmd: CommandType): Context => {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    const ui = uiFor(opts);
    ctx = {
      cwd: resolve(io.cwd, opts.cwd ?? '.'),
      env: io.env,
      ui,
      json: opts.json === true,
      verbose: opts.verbose === true,
      signal: abort.signal,
      stdin: io.stdin,
      stderr: io.stderr,
      interactive: io.stdin.isTTY === true && io.stderr.isTTY === true && !io.env.CI,
    };
    return ctx;
  };

  program
    .command('validate')
    .description('check functions/config.json and the function sources against the App Services rules')
    .argument('[paths...]', 'files or folders; validates the app each belongs to (default: the app around --cwd)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--strict', 'fail on warnings too')
    .option('--fix', 'add a minimal manifest entry for each source file without one, or rename an entry to the file its name misspells')
    .option('--staged', 'validate what is staged in git (the index), not the working tree')
    .option('--watch', 'validate again on every change (NDJSON under --json)')
    .option('--no-cache', 'parse every source again (results of unchanged files are kept in .fn/cache)')
    .addHelpText(
      'after',
      `
Examples:
  fn validate                          the app around the current folder
  fn validate --format github          annotations for GitHub Actions
  fn validate --staged                 in a pre-commit hook
  fn validate --fix                    add entries for source files that have none
  fn validate apps/shop/functions/x.js the app that file belongs to`,
    )
    .action(async (paths: string[], opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/validate.js');
      const options = { ...opts, paths, format: c.json ? 'json' : opts.format };
      if (opts.watch) {
        await m.watchValidate(c, options, (result) => m.renderValidate(result, c.ui, { ...options, watch: true }, c.cwd));
        exitCode = ExitCode.INTERRUPTED;
        return;
      }
      const result = await m.runValidate(c, options);
      m.renderValidate(result, c.ui, options, c.cwd);
      exitCode = result.ok ? ExitCode.OK : ExitCode.NO;
    });

  program
    .command('init')
    .description('create an app from a template beside the files there (never overwriting one), or adopt an App Services export in place')
    .argument('[dir]', 'the folder (default: the current one)')
    .option('-t, --template <name>', 'blank or example (default: example)')
    .option('--app-id <id>', 'the app id (default: from the export, or the folder name)')
    .option('-y, --yes', 'ask nothing; use the defaults')
    .addHelpText(
      'after',
      `
Examples:
  fn init my-app                       a new app with an example function
  fn init my-app --template blank      a new app with no function
  fn init                              in a project (package.json, a frontend): adds the app's files
  fn init                              inside an App Services export: writes fn.config.json only`,
    )
    .action(async (dir: string | undefined, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/init.js');
      exitCode = output(c, await m.runInit(c, { ...opts, dir }), m.renderInit);
    });

  program
    .command('add')
    .description('create a function: its source file and its manifest entry')
    .argument('<name>', 'the function name; nested names like reports/monthly create folders')
    .option('--private', 'callable only from other functions')
    .option('--can-evaluate <json>', 'the JSON expression that must be true for a client call')
    .option('--disable-arg-logs', 'keep the arguments out of the call log')
    .option('--run-as-system', 'run as the system user')
    .option('--run-as-user <id>', 'always run as this user id')
    .option('--run-as-script <file>', 'run as the user id the function in <file> returns')
    .addHelpText(
      'after',
      `
Examples:
  fn add calculateTotal
  fn add reports/monthly --run-as-system --can-evaluate '{"%%user.type": "server"}'
  fn add internal/audit --private --disable-arg-logs`,
    )
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/add.js');
      exitCode = output(c, await m.runAdd(c, { ...opts, name }), m.renderAdd);
    });

  program
    .command('remove')
    .alias('rm')
    .description('remove a function: its manifest entry and its source file')
    .argument('<name>', 'the function name')
    .option('--keep-source', 'keep the source file')
    .addHelpText(
      'after',
      `
Examples:
  fn remove calculateTotal
  fn remove reports/monthly --keep-source

A kept source with no entry is still a function: fn push deploys it public, with the defaults.`,
    )
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/remove.js');
      exitCode = output(c, await m.runRemove(c, { ...opts, name }), m.renderRemove);
    });

  program
    .command('types')
    .description('write the .d.ts that types the functions for the Base44 SDK and for context.functions.execute')
    .option('-o, --out <file>', 'output file (default: types.out of fn.config.json, or types/functions.d.ts)')
    .option('--module <name>', 'the module whose FunctionNameRegistry is augmented (default: @base44/sdk)')
    .option('--check', 'exit 1 when the file is missing or stale, naming what changed, without writing it (for CI)')
    .option('--watch', 'write again on every change')
    .addHelpText(
      'after',
      `
Examples:
  fn types                             write types/functions.d.ts
  fn types --check                     in CI: is the committed file current?
  fn types --out src/fn.d.ts --module @base44/sdk
  fn types --watch

The file types base44.functions.invoke: the name, the arguments and the result. It must be part
of the TypeScript program that makes the calls: add its folder to "include" in tsconfig.json,
or write it inside src/ with --out. --check names the functions that changed.`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/types.js');
      if (opts.watch) {
        await m.watchTypes(c, opts, (result) => (c.json ? c.ui.ndjson(result) : m.renderTypes(result, c.ui)));
        exitCode = ExitCode.INTERRUPTED;
        return;
      }
      exitCode = output(c, await m.runTypes(c, opts), m.renderTypes);
    });

  /** The connection limits and the Host and Origin checks fn dev and fn serve share. */
  const connectionOptions = (cmd: CommandType) =>
    cmd
      .option(
        '--max-connections <n>',
        'open connections at once; more are closed as they arrive (default: 1024)',
        parseInteger('--max-connections', 1, 1_000_000),
      )
      .option(
        '--headers-timeout <ms>',
        "time to receive a request's headers, then 408 (default: 10000)",
        parseInteger('--headers-timeout', 100, 3_600_000),
      )
      .option(
        '--request-timeout <ms>',
        'time to receive a whole request, body included, then 408 (default: 60000)',
        parseInteger('--request-timeout', 100, 3_600_000),
      )
      .option(
        '--keep-alive-timeout <ms>',
        'an idle kept-alive connection is closed after this (default: 5000)',
        parseInteger('--keep-alive-timeout', 100, 3_600_000),
      )
      .option('--allow-origin <origin>', 'web pages of this origin may call (repeatable; local pages always may)', parseOrigins)
      .option('--allow-host <name>', "bound to loopback, answer to this Host too (a reverse proxy's; repeatable)", parseHosts)
      .option(
        '--trust-proxy',
        'a reverse proxy is in front: believe its X-Forwarded-Host, -Proto and -For (client API location, rate limits)',
      );

  connectionOptions(
    program
      .command('dev')
      .description('serve the app in this folder on a local runtime server, with hot reload')
      .option('-p, --port <port>', 'port (0 for any free port)', parseInteger('--port', 0, 65535), 8787)
      .option('--host <host>', 'address to bind', '127.0.0.1')
      .option('--timeout <ms>', 'time limit of one call (default: 60000)', parseInteger('--timeout', 1, 3_600_000))
      .option(
        '--memory <mb>',
        "heap limit of one worker, in MB (default: 256); the app's runner process may use 512 MB plus this per worker and one more",
        parseInteger('--memory', 16, 65_536),
      )
      .option('--concurrency <n>', 'calls at once before 429 (default: 256)', parseInteger('--concurrency', 1, 100_000))
      .option('--workers <n>', 'worker threads kept, one call at a time each (default: 2)', parseInteger('--workers', 1, 64))
      .option('--max-workers <n>', 'up to this many, started while calls wait (default: 8)', parseInteger('--max-workers', 1, 64))
      .option('--no-watch', 'do not reload on changes'),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn dev                               http://127.0.0.1:8787
  fn dev --port 0 --json               any free port; NDJSON events (listening, call, reloaded)
  FN_SERVICE_KEY=secret fn dev         a fixed service key instead of a random one

Routes:
  POST /api/apps/{appId}/functions/{name}                        the Base44 SDK route
  POST /api/admin/v1/apps/{appId}/users/{userId}/token           a user token (service key)
  GET  /api/admin/v1/apps/{appId}/logs?function=&limit=          recent calls (service key)
  GET  /api/admin/v1/apps/{appId}/logs/{id}                      one call, the x-fn-call-id of its answer (service key)
  POST /api/admin/v1/apps/{appId}/functions/{name}/execute       run as system or a user (service key)
  /api/client/v2.0/app/{appId}/...                               the App Services client API (realm-web):
                                                                 location, login, sessions, functions/call
  realm-web: new Realm.App({ id: '<appId>', baseUrl: 'http://127.0.0.1:8787' })

A function whose file or manifest entry has an error answers 500 FUNCTION_INVALID naming
the file and the problem until it is fixed; the other functions are served.`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/dev.js');
      const { eventJson } = await import('./server/logs.js');
      await m.runDev(c, opts, (event) => (c.json ? c.ui.jsonLine(eventJson(event)) : m.renderDevEvent(event, c.ui)));
      exitCode = ExitCode.INTERRUPTED;
    });

  program
    .command('invoke')
    .description('call a function the way the Base44 SDK does, on a server (default: fn dev) or --local')
    .argument('<name>', 'the function name')
    .option('-d, --data <json>', 'the named parameters: a JSON object, @file.json, or - for standard input')
    .option('-f, --file <param=path>', 'send a file as a parameter (multipart); repeatable', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--url <url>', 'the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
    .option('--app-id <id>', 'the app id (default: FN_APP_ID or the app here)')
    .option('--remote <name>', 'a remote of fn.config.json (default: local)')
    .option('--token <jwt>', 'call as the user of this token (or FN_TOKEN)')
    .option('--user <id>', 'call as this user: asks the server for a token (needs the service key)')
    .addOption(new Option('--user-type <type>', 'the type of the --user token (%%user.type)').choices(['normal', 'server']))
    .option('--user-data <json>', 'the custom_data of the --user token (%%user.custom_data), a JSON object')
    .option('--service-role', 'call with the service key: private functions, no can_evaluate')
    .option('--service-key <key>', 'the service key (or FN_SERVICE_KEY)')
    .option('--local', 'run the function here, in-process, with no server')
    .option('--timeout <ms>', 'give up after this long (default: 120000)', parseInteger('--timeout', 1, 3_600_000))
    .option('--endpoint <method>', 'call the HTTPS endpoint <name> names (a route, with its query) with this method')
    .option('--header <name:value>', 'a request header of --endpoint; repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .addHelpText(
      'after',
      `
Examples:
  fn invoke calculateTotal --data '{"items":[{"price":2.5,"quantity":2}]}'
  fn invoke calculateTotal --data @cart.json | jq .total
  echo '{"month":"2024-01"}' | fn invoke reports/monthly --data - --user u1
  fn invoke avatars/upload --file avatar=./me.png --data '{"userId":"u1"}'
  fn invoke applyDiscount --service-role --data '{"subtotal":20,"coupon":"TENOFF"}'
  fn invoke calculateTotal --local --data '{"items":[]}'
  fn invoke reports/monthly --user u1 --user-type server --user-data '{"role":"admin"}'
  fn invoke --endpoint GET '/hello?name=Ada' --local
  fn invoke --endpoint POST /orders --data '{"sku":"A1"}' --header 'Endpoint-Signature: sha256=…'

With --endpoint, <name> is the endpoint's route (/app/<appId>/endpoint<route>), --data the
raw body; the status and headers go to stderr, the body to stdout.

In an app where fn dev runs, invoke calls that server and finds its service key in
.fn/dev.json (--user and --service-role need no key then).

The response data goes to stdout (pretty on a terminal, compact in a pipe); status,
timing and the function's logs go to stderr, with a failing function's stack (from a
server, the logs when this command holds the service key). Exit 0 on 2xx, 1 when the
function failed or the server said no, 4 when the server cannot be reached or refuses
the token.`,
    )
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      if (opts.endpoint !== undefined) {
        const e = await import('./commands/invoke-endpoint.js');
        const answer = await e.runInvokeEndpoint(c, { ...opts, endpoint: opts.endpoint as string, route: name });
        if (c.json) c.ui.json(e.invokeEndpointEnvelope(answer));
        else e.renderInvokeEndpoint(answer, c.ui);
        exitCode = answer.ok ? ExitCode.OK : ExitCode.NO;
        return;
      }
      const m = await import('./commands/invoke.js');
      const result = await m.runInvoke(c, { ...opts, name });
      if (c.json) c.ui.json(m.invokeEnvelope(result));
      else m.renderInvoke(result, c.ui);
      exitCode = result.ok ? ExitCode.OK : ExitCode.NO;
    });

  const targetOptions = (cmd: CommandType) =>
    cmd
      .option('--url <url>', 'the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
      .option('--app-id <id>', 'the app id (default: FN_APP_ID or the app here)')
      .option('--remote <name>', 'a remote of fn.config.json (default: local)')
      .option('--service-key <key>', 'the service key of the server (or FN_SERVICE_KEY with --url, or one bound by fn login)')
      .option('--timeout <ms>', 'give up on a request after this long (default: 120000)', parseInteger('--timeout', 1, 3_600_000));

  connectionOptions(
    program
      .command('serve')
      .description('host apps deployed by fn push: the same runtime and routes as fn dev, plus deployments')
      .option('--data-dir <dir>', 'where deployments are kept', '.fn/server')
      .option('--rotate-keys', 'make a new service key and token secret (kept in the data dir); old tokens stop working')
      .option('-p, --port <port>', 'port (0 for any free port)', parseInteger('--port', 0, 65535), 8787)
      .option('--host <host>', 'address to bind', '127.0.0.1')
      .option('--timeout <ms>', 'time limit of one call (default: 60000)', parseInteger('--timeout', 1, 3_600_000))
      .option(
        '--memory <mb>',
        "heap limit of one worker, in MB (default: 256); the app's runner process may use 512 MB plus this per worker and one more",
        parseInteger('--memory', 16, 65_536),
      )
      .option('--concurrency <n>', 'calls at once per app before 429 (default: 256)', parseInteger('--concurrency', 1, 100_000))
      .option('--workers <n>', 'worker threads kept per app (default: 1)', parseInteger('--workers', 1, 64))
      .option('--max-workers <n>', 'up to this many, started while calls wait (default: 4)', parseInteger('--max-workers', 1, 64))
      .option('--embedded-data', 'data sources without FN_DATA_SOURCE_<NAME>_URI use the embedded engine (development only)')
      .option('--store <url>', 'keep deployments in PostgreSQL (postgres://…; or FN_STORE_URL), shared by every host given the same URL')
      .option('--migrate', "bring the PostgreSQL store's schema up to date, then exit"),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn serve                             apps in .fn/server, on http://127.0.0.1:8787
  FN_SERVICE_KEY=secret fn serve --data-dir /var/lib/fn --port 9000
  FN_STORE_URL=postgres://fn@db/fn FN_SERVICE_KEY=… FN_TOKEN_SECRET=… fn serve --host 0.0.0.0
                                       one of several hosts behind a load balancer

Several hosts share one PostgreSQL store: a deploy or rollback through any of them is served by
all within a second. Each needs the same FN_SERVICE_KEY and FN_TOKEN_SECRET (nothing secret is
kept in the database). The schema is migrated on start, under a lock; --migrate does it alone.

The service key (unless FN_SERVICE_KEY gives one) and the token secret are made on the first
start and kept in <data-dir>/keys.json (0600), so they stay valid across restarts.

Deployment routes (service key):
  GET  /api/admin/v1/apps/{appId}/deployment                         current version, manifest, hashes
  GET  /api/admin/v1/apps/{appId}/deployment/functions/{name}/source  one function's source
  GET  /api/admin/v1/apps/{appId}/deployments                        past versions
  GET  /api/admin/v1/apps/{appId}/deployments/{v}                    one version: manifest, hashes
  POST /api/admin/v1/apps/{appId}/deployments        (If-Match)      deploy changes
  POST /api/admin/v1/apps/{appId}/deployments/{v}/rollback           redeploy version v
  GET  /api/admin/v1/apps/{appId}/secrets                            secret names and update times
  PUT  /api/admin/v1/apps/{appId}/secrets/{name}                     set one: { "value" } (fn secrets set --remote)
  DELETE /api/admin/v1/apps/{appId}/secrets/{name}                   remove one
  GET  /api/admin/v1/apps/{appId}/dependencies/{hash}                whether a set of packages is here
  PUT  /api/admin/v1/apps/{appId}/dependencies/{hash}                a set of packages (gzipped tar; fn push)

The App Services client API (realm-web: new Realm.App({ id, baseUrl })) is served under
/api/client/v2.0 with the providers of the pushed auth/providers.json; its users are kept in
<data-dir>/users/ (fn users lists and manages them).`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/serve.js');
      const { eventJson } = await import('./server/logs.js');
      await m.runServe(c, opts, (event) => (c.json ? c.ui.jsonLine(eventJson(event)) : m.renderServeEvent(event, c.ui)));
      exitCode = opts.migrate ? ExitCode.OK : ExitCode.INTERRUPTED;
    });

  targetOptions(
    program
      .command('push')
      .alias('deploy')
      .description('deploy this folder to fn serve: validates, shows the plan, uploads only what changed (alias: deploy)')
      .option('-y, --yes', 'deploy without asking')
      .option('--dry-run', 'show the plan; change nothing')
      .option('--force', 'deploy even when the remote moved since the last pull or push')
      .option('--only <names>', 'push the changes of these functions only (comma-separated)')
      .option('--rollback <version>', 'redeploy a past version (as a new version)', parseInteger('--rollback', 1, Number.MAX_SAFE_INTEGER)),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn push --dry-run                    the plan: added, changed, deleted, unchanged
  fn push --yes                        deploy (in CI: there is no terminal to ask on)
  fn push --only calculateTotal --yes
  fn push --rollback 3 --yes           the same as fn rollback 3 --yes

The plan shows validate's warnings (an error stops the push) and marks with ! every change
that lets more callers in or changes who a function runs as; --json lists them as "access".
It also says "dependencies: N packages (changed|unchanged)": the installed functions/node_modules
(or functions/node_modules.tar.gz) is sent when the server lacks it. A value whose secret the
server lacks stops the push: fn secrets set <name> --remote first.`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/push.js');
      const result = await m.runPush(c, opts, {
        confirm: async (r) => {
          m.renderPush(r, c.ui, c.cwd);
          const { confirm } = await import('./ui/prompt.js');
          return confirm(c, 'Deploy?');
        },
      });
      exitCode = output(c, result, (r, ui) => m.renderPush(r, ui, c.cwd));
    });

  targetOptions(
    program
      .command('pull')
      .description('bring the deployed app into this folder (or into an empty folder)')
      .option('--force', 'overwrite local changes')
      .option('--dry-run', 'show the plan; change nothing'),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn pull                              update this app from its local remote
  fn pull --dry-run
  mkdir copy && cd copy && fn pull --url http://127.0.0.1:8787 --app-id shop`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/pull.js');
      exitCode = output(c, await m.runPull(c, opts), m.renderPull);
    });

  targetOptions(
    program
      .command('rollback')
      .description('redeploy a past version of the app as a new version: shows the plan, then asks')
      .argument('<version>', 'the version to bring back (fn deployments lists them)', parseInteger('<version>', 1, Number.MAX_SAFE_INTEGER))
      .option('-y, --yes', 'roll back without asking')
      .option('--dry-run', 'show the plan; change nothing'),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn deployments                       the versions, newest first
  fn rollback 3 --dry-run              what bringing back version 3 would change
  fn rollback 3 --yes                  deploy version 3 again, as a new version`,
    )
    .action(async (version: number, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/rollback.js');
      const result = await m.runRollback(
        c,
        { ...opts, version },
        {
          confirm: async (r) => {
            m.renderRollback(r, c.ui);
            const { confirm } = await import('./ui/prompt.js');
            return confirm(c, 'Roll back?');
          },
        },
      );
      exitCode = output(c, result, m.renderRollback);
    });

  program
    .command('login')
    .description('bind a service key to one server, so push, pull, deployments and logs send it there and nowhere else')
    .option('--url <url>', 'the server the key is for')
    .option('--service-key <key>', 'the key (default: FN_SERVICE_KEY)')
    .option('--remove', 'forget the key of that server')
    .addHelpText(
      'after',
      `
Examples:
  fn login --url http://127.0.0.1:9000 --service-key <key>
  FN_SERVICE_KEY=... fn login --url https://fn.example.com
  fn login --url https://fn.example.com --remove

Keys are kept in ~/.config/fn/credentials.json (0600; FN_CREDENTIALS or XDG_CONFIG_HOME move it),
by URL. FN_SERVICE_KEY alone goes only to a server named by --url or FN_URL; a server that only
fn.config.json names gets the key bound to it here.`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/login.js');
      exitCode = output(c, m.runLogin(c, opts), m.renderLogin);
    });

  targetOptions(program.command('deployments').description('list the deployed versions of the app; fn rollback <version> brings one back'))
    .addHelpText(
      'after',
      `
Examples:
  fn deployments
  fn deployments --json
  fn rollback 3                        redeploy version 3 as a new version (plan first, then a yes)`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/deployments.js');
      exitCode = output(c, await m.runDeployments(c, opts), m.renderDeployments);
    });

  targetOptions(
    program
      .command('users')
      .description("the client API's users of the app on fn dev or fn serve: list, create, disable, enable, delete")
      .addArgument(new Argument('<action>', 'what to do').choices(['list', 'create', 'disable', 'enable', 'delete']))
      .argument('[id]', 'the user id (disable, enable, delete)')
      .option('--email <email>', 'create: the email of an email/password user')
      .option('--password <password>', 'create: its password, 6 to 128 characters (or FN_USER_PASSWORD)')
      .option('--api-key <name>', 'create: a server API key of this name (and its user) instead; the key is shown once'),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn users list                                        the users of the app here, on fn dev
  fn users create --email ann@example.com --password 'correct horse'
  fn users create --api-key backend                    a server API key (Realm.Credentials.apiKey)
  fn users disable 65a1f0c2e4b0a1b2c3d4e5f6            refuse its logins; its sessions end now
  fn users delete 65a1f0c2e4b0a1b2c3d4e5f6

Users log in through /api/client/v2.0 with the providers of auth/providers.json (realm-web).
Needs the service key (--service-key or FN_SERVICE_KEY; fn dev and fn serve print it).`,
    )
    .action(async (action: string, id: string | undefined, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/users.js');
      const password = (opts as { password?: string }).password ?? c.env.FN_USER_PASSWORD;
      exitCode = output(c, await m.runUsers(c, { ...opts, action, id, password }), m.renderUsers);
    });

  targetOptions(
    program
      .command('logs')
      .description('the recent calls of the app on fn dev or fn serve: status, caller, duration, console output')
      .option('-f, --follow', 'keep printing new calls until Ctrl-C (NDJSON under --json)')
      .option('--function <name>', 'only the calls of this function')
      .option('-n, --limit <n>', 'how many recent calls to show first (default: 20)', parseInteger('--limit', 1, 1000)),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn logs                              the last 20 calls of the app here, on fn dev
  fn logs --follow                     and every new one, until Ctrl-C
  fn logs --function calculateTotal --limit 5
  fn logs --follow --json | jq .status one JSON line per call
  fn logs --url http://127.0.0.1:9000 --app-id shop   an app on fn serve

Needs the service key (--service-key or FN_SERVICE_KEY; fn dev and fn serve print it).`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/logs.js');
      if (opts.follow) {
        await m.followLogs(
          c,
          opts,
          (call) => (c.json ? c.ui.ndjson(call) : m.renderCall(call, c.ui)),
          (first) => {
            if (!c.json && !first.calls.length) m.renderLogs(first, c.ui);
            if (!c.json) c.ui.err(c.ui.c.dim('following; Ctrl-C stops'));
          },
        );
        exitCode = ExitCode.INTERRUPTED;
        return;
      }
      exitCode = output(c, await m.runLogs(c, opts), m.renderLogs);
    });

  program
    .command('list')
    .alias('ls')
    .description('list the functions: name, private or public, who they run as, whether can_evaluate is set')
    .option('--remote [name]', 'list the deployed app instead (a remote of fn.config.json; default: local)')
    .option('--url <url>', 'with --remote: the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
    .option('--app-id <id>', 'with --remote: the app id (default: FN_APP_ID or the app here)')
    .option('--service-key <key>', 'with --remote: the service key of the server (or FN_SERVICE_KEY)')
    .option('--timeout <ms>', 'with --remote: give up on a request after this long', parseInteger('--timeout', 1, 3_600_000))
    .addHelpText(
      'after',
      `
Examples:
  fn list                              the functions of the app here
  fn ls --json                         the same, as JSON
  fn list --remote                     the functions deployed to fn serve`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/list.js');
      exitCode = output(c, await m.runList(c, opts), m.renderList);
    });

  const trigger = program
    .command('trigger')
    .description("the app's triggers (triggers/*.json): fire one by hand, or list them")
    .addHelpText(
      'after',
      `
Examples:
  fn trigger list                                    the triggers here, and whether each fires
  fn trigger run nightlyReport                       fire a scheduled trigger here
  fn trigger run onNewOrder --event insert.json --remote   a database trigger, on fn dev`,
    );
  const triggerTarget = (cmd: CommandType) =>
    cmd
      .option('--remote [name]', 'on the server (fn dev, or a remote of fn.config.json) instead of here')
      .option('--url <url>', 'with --remote: the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
      .option('--app-id <id>', 'with --remote: the app id (default: FN_APP_ID or the app here)')
      .option('--service-key <key>', 'with --remote: the service key of the server (or FN_SERVICE_KEY)')
      .option('--timeout <ms>', 'give up after this long', parseInteger('--timeout', 1, 3_600_000));
  triggerTarget(
    trigger
      .command('run')
      .description('fire one trigger by hand, as the system user, and print the outcome')
      .argument('<name>', 'the trigger name')
      .option('--event <file>', 'the event its function gets (a database or authentication trigger): a JSON (EJSON) file'),
  )
    .addHelpText(
      'after',
      `
Examples:
  fn trigger run nightlyReport                       a scheduled trigger, here (no event)
  fn trigger run onNewOrder --event insert.json      a database trigger with this change event
  fn trigger run onNewOrder --event insert.json --remote   on fn dev (or fn serve with --url)

The run leaves the trigger's state as it was (the next tick or event fires as it would have).
Exit 0 when the function returned, 1 when it threw.`,
    )
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/trigger.js');
      exitCode = output(c, await m.runTriggerRun(c, { ...opts, name }), m.renderTriggerRun);
    });
  triggerTarget(trigger.command('list').alias('ls').description('list the triggers: type, what they fire on, function, whether they fire'))
    .addHelpText(
      'after',
      `
Examples:
  fn trigger list                      the triggers of the app here
  fn trigger list --remote --json      those the server runs`,
    )
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/trigger.js');
      exitCode = output(c, await m.runTriggerList(c, opts), m.renderTriggerList);
    });

  program
    .command('data')
    .description("seed, dump or clear the embedded engine's collections (.fn/data), in EJSON")
    .argument('<action>', 'import, export or reset', (value: string) => {
      if (value !== 'import' && value !== 'export' && value !== 'reset')
        throw new InvalidArgumentError(`the action is import, export or reset, not "${value}"`);
      return value;
    })
    .argument('[args...]', '<db>.<collection> and/or a file (- for standard input or output)')
    .option('--source <name>', 'the data source (default: the only one, or mongodb-atlas)')
    .option('--replace', 'import: empty each collection first')
    .addHelpText(
      'after',
      `
Examples:
  fn data import shop.orders orders.json       add the documents of an EJSON array
  fn data import fixtures.json --replace       { "shop.orders": [...], ... }, collections emptied first
  fn data export shop.orders                   the collection as EJSON on stdout
  fn data export dump.json                     every collection, as { "db.coll": [...] }
  fn data reset shop.orders                    remove one collection (no namespace: all of them)

Works on the embedded engine only (a data source without FN_DATA_SOURCE_<NAME>_URI); stop fn dev
first, or restart it after, as it keeps the data in memory while it runs.`,
    )
    .action(async (action: 'import' | 'export' | 'reset', args: string[], opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/data.js');
      exitCode = output(c, await m.runData(c, { ...opts, action, args }), m.renderData);
    });

  program
    .command('secrets')
    .description('set, list or remove the secrets that values with "from_secret" read: for fn dev here, or --remote for fn serve')
    .argument('<action>', 'set, list or unset', (value: string) => {
      if (value !== 'set' && value !== 'list' && value !== 'unset')
        throw new InvalidArgumentError(`the action is set, list or unset, not "${value}"`);
      return value;
    })
    .argument('[name]', 'the secret (1 to 64 letters, digits, "_" and "-")')
    .argument('[value]', 'set: the value (else --stdin, or asked for on a terminal without echo)')
    .option('--stdin', 'set: read the value from standard input (one final newline dropped)')
    .option('--remote [name]', 'the deployed app on fn serve (a remote of fn.config.json; default: local)')
    .option('--url <url>', 'with --remote: the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
    .option('--app-id <id>', 'with --remote: the app id (default: FN_APP_ID or the app here)')
    .option('--service-key <key>', 'with --remote: the service key of the server (or FN_SERVICE_KEY, or one bound by fn login)')
    .option('--timeout <ms>', 'with --remote: give up on a request after this long', parseInteger('--timeout', 1, 3_600_000))
    .addHelpText(
      'after',
      `
Examples:
  fn secrets set stripeKey                     asked for on a terminal, nothing echoed
  printf %s "$STRIPE_KEY" | fn secrets set stripeKey --stdin
  fn secrets list                              names and update times (never values)
  fn secrets unset stripeKey
  fn secrets set stripeKey --stdin --remote    for the app deployed to fn serve
  fn secrets list --remote --url http://127.0.0.1:9000 --app-id shop

Without --remote, secrets are kept in .fn/secrets.json (mode 0600) and read by fn dev and
fn invoke --local. With --remote, fn serve keeps them in its data dir (0600); fn push refuses a
value whose secret the server does not have. No command or route prints a secret's value.`,
    )
    .action(async (action: 'set' | 'list' | 'unset', name: string | undefined, value: string | undefined, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/secrets.js');
      const result = await m.runSecrets(
        c,
        { ...opts, action, ...(name !== undefined ? { name } : {}), ...(value !== undefined ? { value } : {}) },
        {
          askValue: async (secret) => (await import('./ui/prompt.js')).askHidden(c, `Value of secret ${secret}: `),
        },
      );
      exitCode = output(c, result, m.renderSecrets);
    });

  // A usage error names the command's own help.
  for (const command of program.commands) command.showHelpAfterError(`(run fn ${command.name()} --help for usage)`);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    exitCode = report(error, ctx?.ui ?? uiFor({}), jsonRequested, argv);
  } finally {
    io.signal?.removeEventListener('abort', forward);
  }
  return exitCode;
}

/** Prints a command's result: one JSON document under --json, else the command's own text. */
function output<R extends { ok: boolean }>(ctx: Context, result: R, render: (result: R, ui: Ui) => void): number {
  if (ctx.json) ctx.ui.json(result);
  else render(result, ctx.ui);
  return result.ok ? ExitCode.OK : ExitCode.NO;
}

/** `fn <command> --help` for the command named on the command line, else `fn --help`. */
function helpCommand(argv: readonly string[]): string {
  const names = [
    'validate',
    'init',
    'add',
    'remove',
    'rm',
    'types',
    'dev',
    'invoke',
    'serve',
    'push',
    'deploy',
    'pull',
    'deployments',
    'rollback',
    'logs',
    'list',
    'ls',
    'login',
    'secrets',
    'users',
    'trigger',
  ];
  const named = argv.find((a) => names.includes(a));
  return named !== undefined ? `fn ${named} --help` : 'fn --help';
}

/** The one catch site: render the error and pick the exit code. */
function report(error: unknown, ui: Ui, json: boolean, argv: readonly string[]): number {
  const verbose = argv.includes('--verbose');
  const commanderError = error as { code?: string; exitCode?: number; message?: string };
  if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
    if (
      commanderError.code === 'commander.helpDisplayed' ||
      commanderError.code === 'commander.version' ||
      commanderError.code === 'commander.help'
    )
      return ExitCode.OK;
    if (json)
      ui.json({
        ok: false,
        error: {
          code: 'USAGE',
          message: (commanderError.message ?? '').replace(/^error: /, ''),
          hint: `run ${helpCommand(argv)} for usage`,
        },
      });
    return ExitCode.USAGE;
  }
  if (error instanceof FnError) {
    if (json) ui.json({ ok: false, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
    else if (error.code !== 'INTERRUPTED') ui.error(error.message, error.hint);
    if (verbose && error.cause) ui.err(String((error.cause as Error).stack ?? error.cause));
    return error.exitCode;
  }
  const message = `internal error: ${(error as Error)?.message ?? String(error)}`;
  if (json)
    ui.json({ ok: false, error: { code: 'INTERNAL', message, hint: 'this is a bug in fn; run again with --verbose and report it' } });
  else ui.error(message, verbose ? undefined : 'this is a bug in fn; run again with --verbose for the stack and report it');
  if (verbose) ui.err(String((error as Error)?.stack ?? error));
  return ExitCode.INTERNAL;
}
