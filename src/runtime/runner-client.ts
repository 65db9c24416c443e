// The server's side of an app's runner: one app's functions run in a process of their own
// (runner.ts), which holds that app's bundle, values and data-source connections and nothing of
// the server (no service key, no token secret, no other app, an empty environment), restricted
// by Node's permission model to reading fn's own code and the app's packages and to writing only
// the app's embedded data. The server keeps HTTP, auth and the store. A runner that exits, runs
// over its memory limit or stops answering is replaced: the calls it held fail, the next ones run
// on a new runner. Same interface as RuntimeHost for the server (`app`, `submit`, `call`).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataPlan, uriVariable, type BackendInfo, type DataHubOptions } from '../data/hub.js';
import type { RuntimeHost } from './host.js';
import type { Readable, Writable } from 'node:stream';
import {
  capResult,
  frame,
  FrameReader,
  MAX_RESULT_BYTES,
  PIPE_FD,
  readPlainAnswer,
  type FromRunner,
  type RunnerData,
  type ToRunner,
  type WatchSpec,
} from './runner-wire.js';
import { DEFAULT_LIMITS, type AppBundle, type CallError, type CallOutcome, type CallRequest, type RuntimeLimits } from './types.js';
import { encodeCall, readDone, type CallMessage, type DoneBatch } from './wire.js';

/** What the server uses of an app's runtime: a RuntimeHost in this process, or a runner. */
export type AppRuntime = Pick<RuntimeHost, 'app' | 'submit' | 'call'>;

const RUNNER_PATH = fileURLToPath(new URL('./runner.js', import.meta.url));
/** fn's own folder (dist/runtime/ → the package root): the runner reads its code from there. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The heap of the runner's main thread (calls and answers pass through it; functions run in workers). */
const RUNNER_HEAP_MB = 512;
/** A runner with calls to answer that has said nothing for this long is replaced. */
const HANG_MS = 10_000;
const HEARTBEAT_MS = 1_000;
/** After a runner failed to start, calls fail at once with its error for this long. */
const RETRY_MS = 1_000;

/**
 * The resident memory a runner may use, in MB: RUNNER_HEAP_MB, plus the heap limit of each worker
 * it may run and one more. Over it, the runner is replaced (its calls fail with MEMORY_LIMIT).
 */
export function runnerMemoryMb(limits: Partial<RuntimeLimits>): number {
  const merged = { ...DEFAULT_LIMITS, ...limits };
  return RUNNER_HEAP_MB + merged.memoryMb * (Math.max(merged.workers, merged.maxWorkers) + 1);
}

export interface RunnerOptions {
  limits: Partial<RuntimeLimits>;
  /** Where the app's embedded engine keeps its files: <dataRoot>/.fn/data (the one place a runner writes). */
  dataRoot: string;
  /** The time zone functions see (TZ), the one variable a runner gets. */
  tz?: string | undefined;
  /**
   * Folders of the app's packages the runner may also read, whichever version it serves: fn
   * serve's per-app dependency store, fn dev's .fn/deps (unpacked archives).
   */
  packageDirs?: string[];
}

/** What a database trigger gives RunnerClient.watch: where to resume, and what to do with each event. */
export interface WatchHandlers {
  /** Where a (re)opened stream starts: after the last event handled; undefined = from now. */
  resumeToken(): { _data: string } | undefined;
  /** One event (canonical EJSON text); `next()` lets the next one come. */
  event(token: string, ejson: string, next: () => void): void;
  /** The stream ended with an error (`lost`: its resume point fell off the change log). */
  error(message: string, lost: boolean): void;
}

interface Watch {
  source: string;
  options: WatchSpec;
  handlers: WatchHandlers;
}

interface Waiting {
  done: (outcome: CallOutcome) => void;
  userId: string;
}

interface Runner {
  child: ChildProcess;
  /** The plain pipe beside the IPC channel (runner-wire.ts). */
  pipe: Readable & Writable;
  ready: boolean;
  /** Messages sent before it was ready, in order. */
  queue: ToRunner[];
  pending: Map<number, Waiting>;
  lastHeard: number;
  startedAt: number;
  /** Set when it reported its memory over the limit, just before exiting. */
  memoryMb?: number;
  /** Set when the server ended it for not answering. */
  hung?: boolean;
  /** The last few KB of its stderr, for the message of a runner that cannot start. */
  stderr: string;
}

export class RunnerClient implements AppRuntime {
  private bundle: AppBundle | undefined;
  private plan: DataPlan | undefined;
  private data: RunnerData | undefined;
  private runner: Runner | undefined;
  private outbox: CallMessage[] = [];
  private nextId = 1;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Why the last runner could not start, and until when calls fail with it. */
  private startFailure: { message: string; until: number } | undefined;
  private readonly rssLimitMb: number;
  /** The change streams of database triggers, opened again on each new runner. */
  private readonly watches = new Map<number, Watch>();
  private nextWatchId = 1;

  constructor(private readonly options: RunnerOptions) {
    this.rssLimitMb = runnerMemoryMb(options.limits);
  }

  get app(): AppBundle | undefined {
    return this.bundle;
  }

  /** Serve this version from the next call on (in the runner, as RuntimeHost.setApp). */
  setApp(bundle: AppBundle): void {
    this.bundle = bundle;
    if (this.closed) return;
    if (this.runner) this.send(this.runner, { t: 'app', bundle });
    else this.start();
  }

  /**
   * The app's data sources, opened in the runner. Which backend each gets is decided here (and an
   * error thrown here) so the caller knows at once; the runner gets the connection strings of
   * these sources and nothing else of `options.env`.
   */
  setData(options: Omit<DataHubOptions, 'root'>): BackendInfo[] {
    const root = this.options.dataRoot;
    this.plan ??= new DataPlan({ ...options, root });
    this.plan.add(options.sources);
    const uris: Record<string, string> = {};
    for (const s of options.sources) {
      const variable = uriVariable(s.name);
      const uri = options.env[variable];
      if (uri) uris[variable] = uri;
    }
    this.data = { root, sources: options.sources, uris, embedded: options.embedded, ...(options.memory ? { memory: true } : {}) };
    // The embedded engine's folder, made here: the runner may write only inside it.
    if (options.embedded && !options.memory && this.plan.infos.some((b) => b.kind === 'embedded')) {
      try {
        mkdirSync(join(root, '.fn', 'data'), { recursive: true });
      } catch {
        // A read-only place: the engine says so when it writes.
      }
    }
    if (this.runner) this.send(this.runner, { t: 'data', data: this.data });
    return this.plan.infos;
  }

  /**
   * A change stream of one of the app's data sources, in the runner: each event goes to
   * `handlers.event`, the next only after its `next()`. A new runner opens it again from
   * `handlers.resumeToken()`. Returns the function that closes it.
   */
  watch(source: string, options: WatchSpec, handlers: WatchHandlers): () => void {
    const id = this.nextWatchId++;
    const watch: Watch = { source, options, handlers };
    this.watches.set(id, watch);
    if (this.runner) this.send(this.runner, this.watchMessage(id, watch));
    else this.start();
    return () => {
      if (!this.watches.delete(id)) return;
      if (this.runner) this.send(this.runner, { t: 'unwatch', id });
    };
  }

  private watchMessage(id: number, watch: Watch): ToRunner {
    const token = watch.handlers.resumeToken();
    return { t: 'watch', id, source: watch.source, options: token ? { ...watch.options, resumeAfter: token } : watch.options };
  }

  call(request: CallRequest): Promise<CallOutcome> {
    return new Promise((done) => this.submit(request, done));
  }

  submit(request: CallRequest, done: (outcome: CallOutcome) => void): void {
    if (this.closed) return refused(request, done, { code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 });
    if (!this.bundle)
      return refused(request, done, { code: 'FUNCTION_NOT_FOUND', message: `function "${request.name}" not found`, status: 404 });
    const runner = this.runner ?? this.start();
    if (!runner) return refused(request, done, { code: 'WORKER_EXITED', message: this.startFailure!.message, status: 500 });
    const id = this.nextId++;
    runner.pending.set(id, { done, userId: request.caller.id });
    if (this.outbox.push(encodeCall(id, request)) === 1) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const calls = this.outbox;
    this.outbox = [];
    if (calls.length && this.runner) this.send(this.runner, { t: 'calls', calls });
  };

  /** Calls as text and the app's own messages over the pipe, in order; the rest over IPC. */
  private send(runner: Runner, message: ToRunner): void {
    if (!runner.ready) return void runner.queue.push(message);
    if (message.t === 'calls') {
      let text = '';
      const objects: CallMessage[] = [];
      for (const call of message.calls) {
        if (typeof call === 'string') text += frame('c' + call);
        else objects.push(call);
      }
      if (text) runner.pipe.write(text);
      if (objects.length && runner.child.connected) runner.child.send({ t: 'calls', calls: objects } satisfies ToRunner);
    } else if (message.t === 'init' || message.t === 'data' || message.t === 'app') runner.pipe.write(frame('j' + JSON.stringify(message)));
    else if (runner.child.connected) runner.child.send(message);
  }

  /** A new runner for the current bundle and data (undefined while the last one's start failure holds). */
  private start(): Runner | undefined {
    if (this.closed || !this.bundle) return undefined;
    if (this.startFailure && performance.now() < this.startFailure.until) return undefined;
    const child = fork(RUNNER_PATH, [], {
      execArgv: runnerFlags(this.bundle, this.options.dataRoot, this.options.packageDirs),
      env: this.options.tz ? { TZ: this.options.tz } : {},
      cwd: PACKAGE_ROOT,
      serialization: 'advanced',
      // fd 3 the IPC channel, fd 4 (PIPE_FD) the plain pipe.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'],
    });
    const pipe = child.stdio[PIPE_FD] as Readable & Writable;
    const runner: Runner = {
      child,
      pipe,
      ready: false,
      queue: [],
      pending: new Map(),
      lastHeard: performance.now(),
      startedAt: performance.now(),
      stderr: '',
    };
    this.runner = runner;
    runner.queue.push({ t: 'init', limits: this.options.limits, rssLimitMb: this.rssLimitMb });
    if (this.data) runner.queue.push({ t: 'data', data: this.data });
    runner.queue.push({ t: 'app', bundle: this.bundle });
    for (const [id, watch] of this.watches) runner.queue.push(this.watchMessage(id, watch));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      runner.stderr = (runner.stderr + chunk).slice(-4096);
    });
    // A channel that closes while a message is on its way: the exit that follows fails the calls.
    child.on('error', () => undefined);
    pipe.on('error', () => undefined);
    pipe.setEncoding('utf8');
    const reader = new FrameReader((text) => {
      const batch: DoneBatch = [];
      readPlainAnswer(text, batch);
      this.heard(runner, { t: 'done', done: batch });
      // An answer is its JSON text (at most MAX_RESULT_BYTES characters) and a few short fields.
    }, MAX_RESULT_BYTES + 4096);
    pipe.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch {
        // Out of step: a runner that says what it should not is replaced.
        this.fail(runner, { code: 'WORKER_EXITED', message: "the app's runner sent a malformed answer; it was replaced", status: 500 });
        runner.child.kill('SIGKILL');
      }
    });
    child.on('message', (m: FromRunner) => this.heard(runner, m));
    child.on('exit', (code, signal) => this.exited(runner, code, signal));
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.heartbeat ??= setInterval(this.check, HEARTBEAT_MS);
    this.heartbeat.unref();
    return runner;
  }

  private heard(runner: Runner, m: FromRunner): void {
    runner.lastHeard = performance.now();
    switch (m.t) {
      case 'done':
        readDone(m.done, (id, outcome) => {
          const waiting = runner.pending.get(id);
          if (!waiting) return;
          runner.pending.delete(id);
          settle(waiting, capResult(outcome));
        });
        return;
      case 'ready': {
        runner.ready = true;
        this.startFailure = undefined;
        const queued = runner.queue.splice(0);
        for (const message of queued) this.send(runner, message);
        return;
      }
      case 'memory':
        runner.memoryMb = m.rssMb;
        return;
      case 'change': {
        const watch = this.watches.get(m.id);
        if (!watch) return;
        watch.handlers.event(m.token, m.event, () => {
          if (this.runner === runner && this.watches.get(m.id) === watch) this.send(runner, { t: 'ack', id: m.id });
        });
        return;
      }
      case 'watch-error': {
        const watch = this.watches.get(m.id);
        if (!watch) return;
        this.watches.delete(m.id);
        watch.handlers.error(m.message, m.lost);
        return;
      }
      default:
        return;
    }
  }

  /** Every second: a runner with calls to answer that has been silent too long is replaced. */
  private readonly check = (): void => {
    const runner = this.runner;
    if (!runner || !runner.ready || !runner.pending.size) return;
    if (performance.now() - runner.lastHeard > HANG_MS) {
      runner.hung = true;
      this.fail(runner, {
        code: 'EXECUTION_TIME_LIMIT',
        message: `the app's runner stopped answering for ${HANG_MS / 1000} s; it was replaced`,
        status: 504,
      });
      runner.child.kill('SIGKILL');
    } else this.send(runner, { t: 'ping' });
  };

  private exited(runner: Runner, code: number | null, signal: NodeJS.Signals | null): void {
    const said = runner.stderr.trim().split('\n').slice(0, 3).join(' ').slice(0, 500);
    const how = `${signal ? `signal ${signal}` : `exit code ${code}`}${said ? `: ${said}` : ''}`;
    let error: CallError;
    if (runner.memoryMb !== undefined)
      error = {
        code: 'MEMORY_LIMIT',
        message: `the app's runner used ${runner.memoryMb} MB, over its limit of ${this.rssLimitMb} MB; it was replaced`,
        status: 500,
      };
    else if (/heap out of memory|Allocation failed/i.test(runner.stderr))
      error = { code: 'MEMORY_LIMIT', message: `the app's runner ran out of memory; it was replaced`, status: 500 };
    else if (this.closed) error = { code: 'SERVER_CLOSING', message: 'the server is shutting down', status: 503 };
    else if (!runner.ready) {
      error = { code: 'WORKER_EXITED', message: `the app's runner could not start (${how})`, status: 500 };
      this.startFailure = { message: error.message, until: performance.now() + RETRY_MS };
    } else error = { code: 'WORKER_EXITED', message: `the app's runner ended (${how}); it was replaced`, status: 500 };
    this.fail(runner, error);
    // Change streams go on in a new runner, from where their triggers got to.
    if (!this.closed && this.watches.size && !this.runner)
      setTimeout(() => {
        if (!this.closed && this.watches.size && !this.runner) this.start();
      }, RETRY_MS).unref();
  }

  /** The runner is gone or must go: its calls fail with `error`, the next calls start a new one. */
  private fail(runner: Runner, error: CallError): void {
    if (this.runner === runner) {
      this.runner = undefined;
      // Calls of this turn not sent yet go to the next runner.
      const unsent = this.outbox.splice(0);
      const moved: [number, Waiting][] = [];
      for (const message of unsent) {
        const id = typeof message === 'string' ? Number(message.slice(0, message.indexOf('\0'))) : message.id;
        const waiting = runner.pending.get(id);
        if (waiting) {
          runner.pending.delete(id);
          moved.push([id, waiting]);
        }
      }
      if (moved.length) {
        const next = this.start();
        if (next) {
          for (const [id, waiting] of moved) next.pending.set(id, waiting);
          this.outbox.push(...unsent);
          setImmediate(this.flush);
        } else
          for (const [, waiting] of moved)
            settle(waiting, failed(waiting, { code: 'WORKER_EXITED', message: this.startFailure?.message ?? error.message, status: 500 }));
        // One that ran a while is replaced at once; one that ends as it starts, at the next call.
      } else if (!this.closed && runner.ready && performance.now() - runner.startedAt > RETRY_MS) this.start();
    }
    const pending = [...runner.pending.values()];
    runner.pending.clear();
    for (const waiting of pending) settle(waiting, failed(waiting, error));
  }

  /** Ends the runner; what its embedded engine holds is written first. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    const runner = this.runner;
    if (!runner) return;
    if (runner.child.exitCode !== null || runner.child.signalCode !== null) return;
    await new Promise<void>((resolveExit) => {
      const timer = setTimeout(() => runner.child.kill('SIGKILL'), 10_000);
      runner.child.once('exit', () => {
        clearTimeout(timer);
        resolveExit();
      });
      if (runner.ready && runner.child.connected) runner.child.send({ t: 'close' } satisfies ToRunner);
      else runner.child.kill('SIGKILL');
    });
  }
}

function settle(waiting: Waiting, outcome: CallOutcome): void {
  try {
    waiting.done(outcome);
  } catch (error) {
    process.emitWarning(`an answer handler failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

function failed(waiting: Waiting, error: CallError): CallOutcome {
  return { ok: false, error, logs: [], durationMs: 0, runAs: { userId: waiting.userId } };
}

function refused(request: CallRequest, done: (outcome: CallOutcome) => void, error: CallError): void {
  done({ ok: false, error, logs: [], durationMs: 0, runAs: { userId: request.caller.id } });
}

/** Node's permission-model flag on this Node: --permission (22+) or --experimental-permission (20). */
function permissionFlag(): string {
  const flags = process.allowedNodeEnvironmentFlags;
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  throw new Error(`this Node (${process.version}) has no permission model: fn needs Node 20.19 or later`);
}

/** Where fn's dependencies are installed (the node_modules folder that holds bson, mingo, mongodb). */
let dependencyDirs: string[] | undefined;
function dependencies(): string[] {
  if (dependencyDirs) return dependencyDirs;
  const require = createRequire(import.meta.url);
  const dirs: string[] = [];
  for (const name of ['bson', 'mingo', 'mongodb']) {
    try {
      const file = require.resolve(name);
      const at = file.lastIndexOf(`${sep}node_modules${sep}`);
      if (at >= 0) dirs.push(file.slice(0, at + `${sep}node_modules`.length));
    } catch {
      // Not installed: the code that needs it says so when it runs.
    }
  }
  return (dependencyDirs = dirs);
}

/** A path and, when it exists and differs, the path its links lead to. */
function bothForms(path: string): string[] {
  const full = resolve(path);
  try {
    if (existsSync(full)) {
      const real = realpathSync(full);
      if (real !== full) return [full, real];
    }
  } catch {
    // Unreadable: the path as given.
  }
  return [full];
}

/** The folders, without any that lies inside another (Node 20 refuses overlapping grants). */
function outermost(dirs: string[]): string[] {
  const sorted = [...new Set(dirs.map((d) => d.replace(/[\\/]+$/, '')))].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const d of sorted) if (!kept.some((k) => d === k || d.startsWith(k + sep))) kept.push(d);
  return kept;
}

/**
 * The runner's Node flags: the permission model, reading fn's own folder and dependencies, the
 * app's packages and its embedded data; writing only the embedded data; worker threads (the
 * functions run in them); no child processes, addons, WASI or inspector; a bounded heap.
 */
export function runnerFlags(bundle: AppBundle, dataRoot: string, packageDirs: string[] = []): string[] {
  const dataDir = join(dataRoot, '.fn', 'data');
  const reads = outermost([
    ...bothForms(PACKAGE_ROOT),
    ...dependencies().flatMap(bothForms),
    ...(bundle.modulesDir ? bothForms(bundle.modulesDir) : []),
    ...packageDirs.flatMap(bothForms),
    ...bothForms(dataDir),
  ]);
  const writes = outermost(bothForms(dataDir));
  const flags = [
    permissionFlag(),
    ...reads.map((d) => `--allow-fs-read=${d}${sep}*`),
    ...writes.map((d) => `--allow-fs-write=${d}${sep}*`),
    '--allow-worker',
    `--max-old-space-size=${RUNNER_HEAP_MB}`,
    '--no-warnings',
  ];
  // Where Node restricts the network too (--allow-net), functions and the driver still need it.
  if (process.allowedNodeEnvironmentFlags.has('--allow-net')) flags.push('--allow-net');
  return flags;
}
