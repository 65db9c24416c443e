// The whole command grammar, the one catch site and the exit codes. Each action lazy-imports its
// command module, so --help and --version load none of them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command as CommandType } from 'commander';
import type { Context } from './context.js';
import type { Ui } from './ui/ui.js';
import { EXIT_CODE_TABLE, ExitCode, FnError } from './errors.js';

const argv = process.argv.slice(2);

// A closed pipe (fn validate | head) ends the output, not the process with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

// Fast path: `fn --version` answers before commander loads.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(version + '\n');
} else {
  await main();
}

interface GlobalOptions {
  cwd?: string;
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
}

async function main(): Promise<void> {
  const { Command, Option, InvalidArgumentError } = await import('commander');
  /** A commander argParser for a whole number in a range. */
  const parseInteger = (flag: string, min: number, max: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not "${value}"`);
    return n;
  };
  const { createUi } = await import('./ui/ui.js');
  const abort = new AbortController();
  let ctx: Context | undefined;
  const jsonRequested = argv.includes('--json') || argv.includes('--format=json') || argv.some((a, i) => a === '--format' && argv[i + 1] === 'json');
  const uiFor = (opts: GlobalOptions): Ui => createUi({ stdout: process.stdout, stderr: process.stderr }, { flag: opts.color !== false && !argv.includes('--no-color'), env: process.env });

  const program = new Command('fn')
    .description('Build, check, type and run App Services-style backend functions, callable the way the Base44 SDK calls them.')
    .version(version, '-V, --version', 'print the version')
    .option('--cwd <dir>', 'run as if started in <dir>')
    .option('--json', 'print one JSON document (errors included)')
    .option('--no-color', 'no colors (also NO_COLOR=1)')
    .option('--verbose', 'more detail, and the stack of internal errors')
    .showHelpAfterError('(run fn --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (text) => {
        if (!jsonRequested) process.stderr.write(text);
      },
    })
    .addHelpText('after', `\nExit codes:\n${EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}\n\nRun fn <command> --help for a command's options and examples.`);

  const makeContext = (cmd: CommandType): Context => {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    const ui = uiFor(opts);
    ctx = {
      cwd: resolve(opts.cwd ?? process.cwd()),
      env: process.env,
      ui,
      json: opts.json === true,
      verbose: opts.verbose === true,
      signal: abort.signal,
      stdin: process.stdin,
      interactive: process.stdin.isTTY === true && process.stderr.isTTY === true && !process.env.CI,
    };
    return ctx;
  };

  program
    .command('validate')
    .description('check functions/config.json and the function sources against the App Services rules')
    .argument('[paths...]', 'files or folders; validates the app each belongs to (default: the app around --cwd)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--strict', 'fail on warnings too')
    .option('--fix', 'add a minimal manifest entry for each source file without one')
    .option('--staged', 'validate what is staged in git (the index), not the working tree')
    .option('--watch', 'validate again on every change (NDJSON under --json)')
    .option('--no-cache', 'parse every source again (results of unchanged files are kept in .fn/cache)')
    .addHelpText('after', `
Examples:
  fn validate                          the app around the current folder
  fn validate --format github          annotations for GitHub Actions
  fn validate --staged                 in a pre-commit hook
  fn validate --fix                    add entries for source files that have none
  fn validate apps/shop/functions/x.js the app that file belongs to`)
    .action(async (paths: string[], opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/validate.js');
      const options = { ...opts, paths, format: c.json ? 'json' : opts.format };
      if (opts.watch) {
        await m.watchValidate(c, options, (result) => m.renderValidate(result, c.ui, { ...options, watch: true }, c.cwd));
        process.exitCode = ExitCode.INTERRUPTED;
        return;
      }
      const result = await m.runValidate(c, options);
      m.renderValidate(result, c.ui, options, c.cwd);
      process.exitCode = result.ok ? ExitCode.OK : ExitCode.NO;
    });

  program
    .command('init')
    .description('create an app from a template, or adopt an App Services export in place')
    .argument('[dir]', 'the folder (default: the current one)')
    .option('-t, --template <name>', 'blank or example (default: example)')
    .option('--app-id <id>', 'the app id (default: from the export, or the folder name)')
    .option('-y, --yes', 'ask nothing; use the defaults')
    .addHelpText('after', `
Examples:
  fn init my-app                       a new app with an example function
  fn init my-app --template blank      a new app with no function
  fn init                              inside an App Services export: writes fn.config.json only`)
    .action(async (dir: string | undefined, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/init.js');
      output(c, await m.runInit(c, { ...opts, dir }), m.renderInit);
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
    .addHelpText('after', `
Examples:
  fn add calculateTotal
  fn add reports/monthly --run-as-system --can-evaluate '{"%%user.type": "server"}'
  fn add internal/audit --private --disable-arg-logs`)
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/add.js');
      output(c, await m.runAdd(c, { ...opts, name }), m.renderAdd);
    });

  program
    .command('remove')
    .alias('rm')
    .description('remove a function: its manifest entry and its source file')
    .argument('<name>', 'the function name')
    .option('--keep-source', 'keep the source file')
    .addHelpText('after', `
Examples:
  fn remove calculateTotal
  fn remove reports/monthly --keep-source`)
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/remove.js');
      output(c, await m.runRemove(c, { ...opts, name }), m.renderRemove);
    });

  program
    .command('types')
    .description('write the .d.ts that types the functions for the Base44 SDK and for context.functions.execute')
    .option('-o, --out <file>', 'output file (default: types.out of fn.config.json, or types/functions.d.ts)')
    .option('--module <name>', 'the module whose FunctionNameRegistry is augmented (default: @base44/sdk)')
    .option('--check', 'exit 1 when the file is missing or stale, without writing it (for CI)')
    .option('--watch', 'write again on every change')
    .addHelpText('after', `
Examples:
  fn types                             write types/functions.d.ts
  fn types --check                     in CI: is the committed file current?
  fn types --out src/fn.d.ts --module @base44/sdk
  fn types --watch`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/types.js');
      if (opts.watch) {
        await m.watchTypes(c, opts, (result) => (c.json ? c.ui.ndjson(result) : m.renderTypes(result, c.ui)));
        process.exitCode = ExitCode.INTERRUPTED;
        return;
      }
      output(c, await m.runTypes(c, opts), m.renderTypes);
    });

  program
    .command('dev')
    .description('serve the app in this folder on a local runtime server, with hot reload')
    .option('-p, --port <port>', 'port (0 for any free port)', parseInteger('--port', 0, 65535), 8787)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--timeout <ms>', 'time limit of one call (default: 60000)', parseInteger('--timeout', 1, 3_600_000))
    .option('--memory <mb>', 'heap limit of one worker, in MB (default: 256)', parseInteger('--memory', 16, 65_536))
    .option('--concurrency <n>', 'calls at once before 429 (default: 256)', parseInteger('--concurrency', 1, 100_000))
    .option('--workers <n>', 'worker threads kept, one call at a time each (default: 2)', parseInteger('--workers', 1, 64))
    .option('--max-workers <n>', 'up to this many, started while calls wait (default: 8)', parseInteger('--max-workers', 1, 64))
    .option('--no-watch', 'do not reload on changes')
    .addHelpText('after', `
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

A function whose file or manifest entry has an error answers 500 FUNCTION_INVALID naming
the file and the problem until it is fixed; the other functions are served.`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/dev.js');
      const { eventJson } = await import('./server/logs.js');
      await m.runDev(c, opts, (event) => (c.json ? c.ui.jsonLine(eventJson(event)) : m.renderDevEvent(event, c.ui)));
      process.exitCode = ExitCode.INTERRUPTED;
    });

  program
    .command('invoke')
    .description('call a function the way the Base44 SDK does, on a server (default: fn dev) or --local')
    .argument('<name>', 'the function name')
    .option('-d, --data <json>', 'the named parameters: a JSON object, @file.json, or - for standard input')
    .option('-f, --file <param=path>', 'send a file as a parameter (multipart); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--url <url>', 'the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
    .option('--app-id <id>', 'the app id (default: FN_APP_ID or the app here)')
    .option('--remote <name>', 'a remote of fn.config.json (default: local)')
    .option('--token <jwt>', 'call as the user of this token (or FN_TOKEN)')
    .option('--user <id>', 'call as this user: asks the server for a token (needs the service key)')
    .option('--service-role', 'call with the service key: private functions, no can_evaluate')
    .option('--service-key <key>', 'the service key (or FN_SERVICE_KEY)')
    .option('--local', 'run the function here, in-process, with no server')
    .option('--timeout <ms>', 'give up after this long', parseInteger('--timeout', 1, 3_600_000))
    .addHelpText('after', `
Examples:
  fn invoke calculateTotal --data '{"items":[{"price":2.5,"quantity":2}]}'
  fn invoke calculateTotal --data @cart.json | jq .total
  echo '{"month":"2024-01"}' | fn invoke reports/monthly --data - --user u1
  fn invoke avatars/upload --file avatar=./me.png --data '{"userId":"u1"}'
  fn invoke applyDiscount --service-role --data '{"subtotal":20,"coupon":"TENOFF"}'
  fn invoke calculateTotal --local --data '{"items":[]}'

The response data goes to stdout (pretty on a terminal, compact in a pipe); status,
timing and the function's logs go to stderr, with a failing function's stack (from a
server, the logs when this command holds the service key). Exit 0 on 2xx, 1 when the
function failed or the server said no, 4 when the server cannot be reached or refuses
the token.`)
    .action(async (name: string, opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/invoke.js');
      const result = await m.runInvoke(c, { ...opts, name });
      if (c.json) c.ui.json(m.invokeEnvelope(result));
      else m.renderInvoke(result, c.ui);
      process.exitCode = result.ok ? ExitCode.OK : ExitCode.NO;
    });

  const targetOptions = (cmd: CommandType) =>
    cmd
      .option('--url <url>', 'the server (default: FN_URL, the remote of fn.config.json, or http://127.0.0.1:8787)')
      .option('--app-id <id>', 'the app id (default: FN_APP_ID or the app here)')
      .option('--remote <name>', 'a remote of fn.config.json (default: local)')
      .option('--service-key <key>', 'the service key of the server (or FN_SERVICE_KEY)')
      .option('--timeout <ms>', 'give up on a request after this long', parseInteger('--timeout', 1, 3_600_000));

  program
    .command('serve')
    .description('host apps deployed by fn push: the same runtime and routes as fn dev, plus deployments')
    .option('--data-dir <dir>', 'where deployments are kept', '.fn/server')
    .option('-p, --port <port>', 'port (0 for any free port)', parseInteger('--port', 0, 65535), 8787)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--timeout <ms>', 'time limit of one call (default: 60000)', parseInteger('--timeout', 1, 3_600_000))
    .option('--memory <mb>', 'heap limit of one worker, in MB (default: 256)', parseInteger('--memory', 16, 65_536))
    .option('--concurrency <n>', 'calls at once per app before 429 (default: 256)', parseInteger('--concurrency', 1, 100_000))
    .option('--workers <n>', 'worker threads kept per app (default: 1)', parseInteger('--workers', 1, 64))
    .option('--max-workers <n>', 'up to this many, started while calls wait (default: 4)', parseInteger('--max-workers', 1, 64))
    .addHelpText('after', `
Examples:
  fn serve                             apps in .fn/server, on http://127.0.0.1:8787
  FN_SERVICE_KEY=secret fn serve --data-dir /var/lib/fn --port 9000

Deployment routes (service key):
  GET  /api/admin/v1/apps/{appId}/deployment                         current version, manifest, hashes
  GET  /api/admin/v1/apps/{appId}/deployment/functions/{name}/source  one function's source
  GET  /api/admin/v1/apps/{appId}/deployments                        past versions
  POST /api/admin/v1/apps/{appId}/deployments        (If-Match)      deploy changes
  POST /api/admin/v1/apps/{appId}/deployments/{v}/rollback           redeploy version v`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/serve.js');
      const { eventJson } = await import('./server/logs.js');
      await m.runServe(c, opts, (event) => (c.json ? c.ui.jsonLine(eventJson(event)) : m.renderServeEvent(event, c.ui)));
      process.exitCode = ExitCode.INTERRUPTED;
    });

  targetOptions(
    program
      .command('push')
      .description('deploy this folder to fn serve: validates, shows the plan, uploads only what changed')
      .option('-y, --yes', 'deploy without asking')
      .option('--dry-run', 'show the plan; change nothing')
      .option('--force', 'deploy even when the remote moved since the last pull or push')
      .option('--only <names>', 'push the changes of these functions only (comma-separated)')
      .option('--rollback <version>', 'redeploy a past version (as a new version)', parseInteger('--rollback', 1, Number.MAX_SAFE_INTEGER)),
  )
    .addHelpText('after', `
Examples:
  fn push --dry-run                    the plan: added, changed, deleted, unchanged
  fn push --yes                        deploy (in CI: there is no terminal to ask on)
  fn push --only calculateTotal --yes
  fn push --rollback 3 --yes`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/push.js');
      const result = await m.runPush(c, opts, {
        confirm: async (r) => {
          m.renderPush(r, c.ui);
          const { confirm } = await import('./ui/prompt.js');
          return confirm(c, 'Deploy?');
        },
      });
      output(c, result, m.renderPush);
    });

  targetOptions(
    program
      .command('pull')
      .description('bring the deployed app into this folder (or into an empty folder)')
      .option('--force', 'overwrite local changes')
      .option('--dry-run', 'show the plan; change nothing'),
  )
    .addHelpText('after', `
Examples:
  fn pull                              update this app from its local remote
  fn pull --dry-run
  mkdir copy && cd copy && fn pull --url http://127.0.0.1:8787 --app-id shop`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/pull.js');
      output(c, await m.runPull(c, opts), m.renderPull);
    });

  targetOptions(program.command('deployments').description('list the deployed versions of the app'))
    .addHelpText('after', `
Examples:
  fn deployments
  fn deployments --json`)
    .action(async (opts, cmd: CommandType) => {
      const c = makeContext(cmd);
      const m = await import('./commands/deployments.js');
      output(c, await m.runDeployments(c, opts), m.renderDeployments);
    });

  const onSignal = () => {
    if (abort.signal.aborted) process.exit(ExitCode.INTERRUPTED);
    abort.abort(new FnError('INTERRUPTED', 'interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = report(error, ctx?.ui ?? uiFor({}), jsonRequested, argv.includes('--verbose'));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints a command's result: one JSON document under --json, else the command's own text. */
function output<R extends { ok: boolean }>(ctx: Context, result: R, render: (result: R, ui: Ui) => void): void {
  if (ctx.json) ctx.ui.json(result);
  else render(result, ctx.ui);
  process.exitCode = result.ok ? ExitCode.OK : ExitCode.NO;
}

/** The one catch site: render the error and pick the exit code. */
function report(error: unknown, ui: Ui, json: boolean, verbose: boolean): number {
  const commanderError = error as { code?: string; exitCode?: number; message?: string };
  if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
    if (commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version' || commanderError.code === 'commander.help') return ExitCode.OK;
    if (json) ui.json({ ok: false, error: { code: 'USAGE', message: (commanderError.message ?? '').replace(/^error: /, ''), hint: 'run fn --help for usage' } });
    return ExitCode.USAGE;
  }
  if (error instanceof FnError) {
    if (json) ui.json({ ok: false, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
    else if (error.code !== 'INTERRUPTED') ui.error(error.message, error.hint);
    if (verbose && error.cause) ui.err(String((error.cause as Error).stack ?? error.cause));
    return error.exitCode;
  }
  const message = `internal error: ${(error as Error)?.message ?? String(error)}`;
  if (json) ui.json({ ok: false, error: { code: 'INTERNAL', message, hint: 'this is a bug in fn; run again with --verbose and report it' } });
  else ui.error(message, verbose ? undefined : 'this is a bug in fn; run again with --verbose for the stack and report it');
  if (verbose) ui.err(String((error as Error)?.stack ?? error));
  return ExitCode.INTERNAL;
}
