// Runs an app's functions inside one worker thread: each function file compiled once, in its own
// vm context, where `exports` is a writable global and `module` is undefined. Every call runs in
// its own AsyncLocalStorage frame: `context`, console output and late errors belong to the call
// whose code produced them, even after it has answered.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, isBuiltin } from 'node:module';
import { join, relative, sep } from 'node:path';
import { format } from 'node:util';
import * as vm from 'node:vm';
import { evaluateExpression } from '../expression/evaluate.js';
import { bsonGlobal, ejsonGlobal, httpClient, utilsGlobal } from './atlas.js';
import { startEndpointCall } from './endpoint-call.js';
import type { DataServices } from './data-bridge.js';
import {
  requestInfoOf,
  type AppBundle,
  type BundledFunction,
  type CallError,
  type CallOutcome,
  type CallRequest,
  type CallResult,
  type FileArg,
  type FnUser,
  type LogLine,
  type RunAs,
} from './types.js';
import { GUARD_JSON_PARSE, jsonFits } from './heap-guard.js';

const MAX_LOG_LINES = 200;
const MAX_LOG_CHARS = 4096;

export class CallFailure extends Error {
  constructor(readonly error: CallError) {
    super(error.message);
  }
}

const fail = (code: CallError['code'], message: string, status: number): never => {
  throw new CallFailure({ code, message, status });
};

/** The script a run-as script source compiles to, as stack frames name it. */
const scriptFileOf = (fn: BundledFunction): string => `${fn.file}#run_as_user_id_script_source`;

export interface Frame {
  logs: LogLine[];
  caller: FnUser;
  request: CallRequest['request'];
  /** Who the code of this frame runs as (nested calls get frames of their own). */
  runAs: RunAs;
  /** 0 for the call, 1 inside a context.functions.execute it makes, and so on. */
  depth: number;
  /** The call this frame belongs to, shared by its nested frames. */
  call: { done: boolean; fail: (code: 'UNHANDLED_REJECTION' | 'FUNCTION_ERROR', message: string, error?: unknown) => void };
}

const frames = new AsyncLocalStorage<Frame>();

/** The frame of the code running now; undefined outside any call. */
export function currentFrame(): Frame | undefined {
  return frames.getStore();
}

interface Instance {
  fn: (...args: unknown[]) => unknown;
}

export interface RunResult {
  outcome: CallOutcome;
  /** The call was ended from outside (a stray error) and may still be running: replace the worker. */
  recycle: boolean;
}

export class AppSandbox {
  private readonly instances = new Map<string, Instance>();
  private readonly scripts = new Map<string, Instance>();
  /** The files of the app's code, as its stack frames name them. */
  private readonly files = new Set<string>();

  constructor(
    private readonly bundle: AppBundle,
    private readonly data?: DataServices,
  ) {
    for (const fn of Object.values(bundle.functions)) this.files.add(fn.file).add(scriptFileOf(fn));
  }

  /** The frames of an error's stack in the app's own files. */
  stackOf(error: unknown): string[] | undefined {
    return userFrames(error, (file) => this.files.has(file));
  }

  /** Runs one call. */
  run(request: CallRequest): Promise<RunResult> {
    return new Promise((resolve) => this.start(request, resolve));
  }

  /**
   * Runs one call; `done` is called once, with its outcome. A function that returns a plain value
   * and needs no can_evaluate or run-as script is answered in the same turn, without a promise.
   */
  start(request: CallRequest, done: (result: RunResult) => void): void {
    const started = performance.now();
    let runAs: RunAs = request.caller.type === 'system' ? { system: true } : { userId: request.caller.id };
    const call: Frame['call'] = {
      done: false,
      fail: (code, message, error) =>
        finish(
          {
            ok: false,
            error: withStack({ code, message, status: 500 }, this.stackOf(error)),
            logs: frame.logs,
            durationMs: performance.now() - started,
            runAs,
          },
          true,
        ),
    };
    const frame: Frame = { logs: [], caller: request.caller, request: request.request, runAs, depth: 0, call };
    const finish = (outcome: CallOutcome, recycle: boolean) => {
      if (call.done) return;
      call.done = true;
      done({ outcome, recycle });
    };
    const failed = (error: unknown) =>
      finish(
        {
          ok: false,
          error: toCallError(error, request.name, this.stackOf(error)),
          logs: frame.logs,
          durationMs: performance.now() - started,
          runAs,
        },
        false,
      );
    const endpoint = request.endpoint ? startEndpointCall(request.endpoint, request.request) : undefined;
    const answer = (value: unknown) => {
      if (endpoint) {
        try {
          finish({ ok: true, result: endpoint.result(value), logs: frame.logs, durationMs: performance.now() - started, runAs }, false);
        } catch (error) {
          failed(error);
        }
        return;
      }
      if (value instanceof Response) {
        serializeResponse(value).then(
          (result) => finish({ ok: true, result, logs: frame.logs, durationMs: performance.now() - started, runAs }, false),
          failed,
        );
        return;
      }
      try {
        const result = request.ejson ? serializeEjson(value) : serializeJson(value);
        finish({ ok: true, result, logs: frame.logs, durationMs: performance.now() - started, runAs }, false);
      } catch (error) {
        failed(error);
      }
    };
    if (request.service !== undefined) {
      // A service call runs as its caller (the rules apply), as system only for a system caller.
      if (request.via !== 'client' && request.caller.type === 'system') runAs = frame.runAs = { system: true };
      frames.run(frame, () => {
        try {
          this.serviceCall(request, fromEjson(request.args), frame).then(answer, failed);
        } catch (error) {
          failed(error);
        }
      });
      return;
    }
    frames.run(frame, () => {
      try {
        const fn = Object.hasOwn(this.bundle.functions, request.name) ? this.bundle.functions[request.name] : undefined;
        if (!fn) return fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
        if (request.via === 'client' && fn.private) fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
        checkRunnable(this.bundle, fn);
        const args = endpoint ? endpoint.args : withFiles(request.ejson ? fromEjson(request.args) : request.args, request.files);
        const checked = request.via !== 'admin' && !alwaysAllowed(fn.canEvaluate);
        if (checked || (!request.runAs && needsScript(fn))) {
          // The slow path: an expression or a script to wait for first.
          void (async () => {
            if (checked) await this.checkCanEvaluate(fn, args, frame);
            runAs = request.runAs ?? (await this.resolveRunAs(fn, args, frame, runAs));
            return this.invoke(fn, args, frame, runAs);
          })().then(answer, failed);
          return;
        }
        runAs = request.runAs ?? this.runAsOf(fn) ?? runAs;
        const instance = this.instantiate(fn.name, fn.file, fn.source, this.instances);
        // The frame is this call's own and no code has seen its context yet: it can take the runAs.
        frame.runAs = runAs;
        // Called without a receiver: the stack names the function as the file does (`at exports`).
        const exported = instance.fn;
        const value = exported(...args);
        if (isThenable(value)) Promise.resolve(value).then(answer, failed);
        else answer(value);
      } catch (error) {
        failed(error);
      }
    });
  }

  private async checkCanEvaluate(fn: BundledFunction, args: unknown[], frame: Frame): Promise<void> {
    const expr = fn.canEvaluate;
    if (alwaysAllowed(expr)) return;
    const named = isRecord(args[0]) ? args[0] : {};
    let allowed: boolean;
    try {
      allowed = await evaluateExpression(expr, {
        user: frame.caller,
        request: requestInfoOf(frame.request),
        values: this.bundle.values,
        environment: this.bundle.environment,
        args: named,
        callFunction: (name, fnArgs) => {
          const target = Object.hasOwn(this.bundle.functions, name) ? this.bundle.functions[name] : undefined;
          if (!target) return Promise.reject(new Error(`function "${name}" not found`));
          return this.invoke(target, fnArgs, frame, { system: true }, true);
        },
      });
    } catch (error) {
      return fail('FUNCTION_INVALID', `the can_evaluate expression of "${fn.name}" cannot be evaluated: ${(error as Error).message}`, 500);
    }
    if (!allowed)
      fail('EXECUTION_DENIED', `calling "${fn.name}" is not allowed: its can_evaluate expression is false for this caller`, 403);
  }

  /** run_as_system > run_as_user_id > the user id the script returns > the inherited user. */
  private async resolveRunAs(fn: BundledFunction, args: unknown[], frame: Frame, inherited: RunAs): Promise<RunAs> {
    return this.runAsFor(fn, args, frame, inherited);
  }

  /** resolveRunAs, answered at once unless a run-as script returns a promise. */
  private runAsFor(fn: BundledFunction, args: unknown[], frame: Frame, inherited: RunAs): RunAs | Promise<RunAs> {
    const fixed = this.runAsOf(fn);
    if (fixed) return fixed;
    if (!needsScript(fn)) return inherited;
    const script = this.instantiate(fn.name, scriptFileOf(fn), fn.runAsUserIdScriptSource, this.scripts);
    const threw = (error: unknown): never => {
      throw new CallFailure(
        withStack(
          { code: 'FUNCTION_ERROR', message: `the run_as_user_id_script_source of "${fn.name}" threw: ${safeMessage(error)}`, status: 500 },
          this.stackOf(error),
        ),
      );
    };
    const userOf = (value: unknown): RunAs => {
      if (typeof value === 'string' && value !== '') return { userId: value };
      if (isRecord(value) && (value.runAsSystem === true || value.runAsSystemUser === true)) return { system: true };
      return fail(
        'FUNCTION_ERROR',
        `the run_as_user_id_script_source of "${fn.name}" returned ${JSON.stringify(value) ?? 'undefined'}, not a user id or { runAsSystem: true }`,
        500,
      );
    };
    let value: unknown;
    try {
      const run = script.fn;
      value = frames.run({ ...frame, runAs: inherited }, () => run(...args));
    } catch (error) {
      return threw(error);
    }
    return isThenable(value) ? Promise.resolve(value).then(userOf, threw) : userOf(value);
  }

  /** The user the manifest entry fixes (run_as_system, run_as_user_id), if it fixes one. */
  private runAsOf(fn: BundledFunction): RunAs | undefined {
    if (fn.runAsSystem) return { system: true };
    if (fn.runAsUserId) return { userId: fn.runAsUserId };
    return undefined;
  }

  /**
   * A service function of the client API (realm-web's mongoClient): the operation named by the
   * call, with realm-web's argument names, on the data layer functions use, as the frame's user.
   */
  private async serviceCall(request: CallRequest, args: unknown[], frame: Frame): Promise<unknown> {
    if (!this.data) return fail('FUNCTION_NOT_FOUND', `there is no service "${request.service}": the app has no data sources`, 404);
    const a = isRecord(args[0]) ? args[0] : {};
    const database = a.database;
    const collection = a.collection;
    if (typeof database !== 'string' || database === '' || typeof collection !== 'string' || collection === '')
      return fail('FUNCTION_ERROR', `${request.name}: the argument must name a "database" and a "collection"`, 400);
    const context = this.contextOf(frame) as { services: { get(name: string): unknown } };
    let source: ServiceClient;
    try {
      source = context.services.get(request.service!) as ServiceClient;
    } catch (error) {
      return fail('FUNCTION_NOT_FOUND', `there is no service "${request.service}": ${safeMessage(error)}`, 404);
    }
    const c = source.db(database).collection(collection);
    const opts = (keys: string[]): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const k of keys) if (a[k] !== undefined) out[k] = a[k];
      return out;
    };
    const query = a.query ?? {};
    try {
      switch (request.name) {
        case 'find': {
          let cursor = c.find(query, a.project);
          if (a.sort !== undefined) cursor = cursor.sort(a.sort);
          if (typeof a.limit === 'number' && a.limit > 0) cursor = cursor.limit(a.limit);
          return await cursor.toArray();
        }
        case 'findOne':
          if (a.sort === undefined) return await c.findOne(query, a.project);
          return (await c.find(query, a.project).sort(a.sort).limit(1).toArray())[0] ?? null;
        case 'aggregate':
          return await c.aggregate(a.pipeline ?? []).toArray();
        case 'count':
          return await c.count(query, opts(['limit']));
        case 'insertOne':
          return await c.insertOne(a.document);
        case 'insertMany':
          return await c.insertMany(a.documents);
        case 'updateOne':
        case 'updateMany':
        case 'deleteOne':
        case 'deleteMany':
          return request.name.startsWith('update')
            ? await c[request.name](query, a.update, opts(['upsert', 'arrayFilters']))
            : await c[request.name as 'deleteOne'](query);
        case 'findOneAndUpdate':
          return await c.findOneAndUpdate(a.filter ?? {}, a.update, opts(['sort', 'projection', 'upsert', 'returnNewDocument']));
        case 'findOneAndReplace':
          // realm-web 2.x sends findOneAndDelete as findOneAndReplace without an update.
          if (!Object.hasOwn(a, 'update')) return await c.findOneAndDelete(a.filter ?? {}, opts(['sort', 'projection']));
          return await c.findOneAndReplace(a.filter ?? {}, a.update, opts(['sort', 'projection', 'upsert', 'returnNewDocument']));
        case 'findOneAndDelete':
          return await c.findOneAndDelete(a.filter ?? {}, opts(['sort', 'projection']));
        case 'distinct':
          return await c.distinct(a.field, query);
        default:
          return fail('FUNCTION_NOT_FOUND', `the service "${request.service}" has no function "${request.name}"`, 404);
      }
    } catch (error) {
      if (error instanceof CallFailure) throw error;
      throw new CallFailure({ code: 'FUNCTION_ERROR', message: safeMessage(error), status: 400 });
    }
  }

  /** Runs a function in a frame of its own; `nested`: called by the code of `frame`. */
  private async invoke(fn: BundledFunction, args: unknown[], frame: Frame, runAs: RunAs, nested = false): Promise<unknown> {
    checkRunnable(this.bundle, fn);
    const instance = this.instantiate(fn.name, fn.file, fn.source, this.instances);
    const exported = instance.fn;
    return await frames.run({ ...frame, runAs, depth: nested ? frame.depth + 1 : frame.depth }, () => exported(...args));
  }

  /** A context.functions.execute call, noted in the call log with its console output indented under it. */
  private executeNested(name: string, target: BundledFunction, args: unknown[], frame: Frame, runAs: RunAs, calleeRunAs: RunAs): unknown {
    const started = performance.now();
    // Who it runs as, when that differs from its caller's code.
    const as =
      'system' in calleeRunAs
        ? 'system' in runAs
          ? ''
          : ' (as system)'
        : 'userId' in calleeRunAs && !('userId' in runAs && runAs.userId === calleeRunAs.userId)
          ? ` (as ${calleeRunAs.userId})`
          : '';
    noteTo(frame, { level: 'info', message: `→ ${name}${as}`, call: name });
    const done = (value: unknown) => {
      noteTo(frame, { level: 'info', message: `← ${name} ${Math.round((performance.now() - started) * 10) / 10}ms`, call: name });
      return value;
    };
    const threw = (error: unknown): never => {
      noteTo(frame, { level: 'error', message: `✖ ${name} threw: ${safeMessage(error)}`, call: name });
      throw error;
    };
    let value: unknown;
    try {
      checkRunnable(this.bundle, target);
      const exported = this.instantiate(target.name, target.file, target.source, this.instances).fn;
      value = frames.run({ ...frame, runAs: calleeRunAs, depth: frame.depth + 1 }, () => exported(...args));
    } catch (error) {
      return threw(error);
    }
    return isThenable(value) ? Promise.resolve(value).then(done, threw) : done(value);
  }

  /** `context` as the running frame sees it; built once per frame, copies made on first read. */
  private contextOf(frame: Frame): object {
    const cached = contextCache.get(frame);
    if (cached) return cached;
    const bundle = this.bundle;
    const runAs = frame.runAs;
    const once = <T>(make: () => T) => {
      let value: T | undefined;
      let made = false;
      return () => (made ? value! : ((made = true), (value = make())));
    };
    const user = once(() => structuredClone(frame.caller));
    const request = once(() => requestInfoOf(frame.request));
    const environment = once(() => structuredClone(bundle.environment));
    let http: object | undefined;
    const context = {
      get user() {
        return user();
      },
      get request() {
        return request();
      },
      get environment() {
        return environment();
      },
      values: { get: (name: string) => (Object.hasOwn(bundle.values, name) ? structuredClone(bundle.values[name]) : undefined) },
      app: { id: bundle.appId, clientAppId: bundle.appId, name: bundle.appId },
      functions: {
        // As in App Services, a synchronous callee's value comes back as it is, usable without
        // await (real exports rely on it); an async one's is its promise.
        execute: (name: string, ...args: unknown[]): unknown => {
          const target = Object.hasOwn(bundle.functions, name) ? bundle.functions[name] : undefined;
          if (!target) return Promise.reject(new Error(`function "${name}" not found`));
          const calleeRunAs = this.runAsFor(target, args, frame, runAs);
          if (isThenable(calleeRunAs))
            return Promise.resolve(calleeRunAs).then((as) => this.executeNested(name, target, args, frame, runAs, as));
          return this.executeNested(name, target, args, frame, runAs, calleeRunAs);
        },
      },
      services: {
        get: (name: string) => {
          if (!this.data) throw new Error(`context.services.get(${JSON.stringify(name)}): this runtime has no data sources`);
          const asUser =
            'userId' in runAs && runAs.userId !== frame.caller.id
              ? { id: runAs.userId, type: 'normal', data: {}, custom_data: {}, identities: [] }
              : frame.caller;
          return this.data.get(name, {
            system: 'system' in runAs,
            user: asUser,
            request: request(),
            values: bundle.values,
            environment: bundle.environment,
            // %function in a rule runs as system, like can_evaluate's.
            callFunction: (fnName, fnArgs) => {
              const target = Object.hasOwn(bundle.functions, fnName) ? bundle.functions[fnName] : undefined;
              if (!target) return Promise.reject(new Error(`function "${fnName}" not found`));
              return this.invoke(target, fnArgs, frame, { system: true });
            },
          });
        },
      },
      get http() {
        return (http ??= httpClient());
      },
      runningAsSystem: () => 'system' in runAs,
    };
    contextCache.set(frame, context);
    return context;
  }

  /**
   * Compiles a file once. The script is named by its path from the app root and starts at line 1,
   * column 1 of that file, so V8's own stack frames point at the user's line and column.
   */
  private instantiate(name: string, file: string, source: string, cache: Map<string, Instance>): Instance {
    const cached = cache.get(name);
    if (cached) return cached;
    const sandbox = this.makeGlobals();
    const context = vm.createContext(sandbox, { name: file });
    (vm.runInContext(GUARD_JSON_PARSE, context) as (fits: (text: string) => boolean) => void)(jsonFits);
    try {
      new vm.Script(source, { filename: file, lineOffset: 0, columnOffset: 0 }).runInContext(context);
    } catch (error) {
      // A syntax error's stack starts with the place: "functions/x.js:3".
      const where = typeof (error as Error)?.stack === 'string' ? /^(.+?:\d+)\n/.exec((error as Error).stack!)?.[1] : undefined;
      throw new CallFailure(
        withStack(
          {
            code: 'FUNCTION_INVALID',
            message: `${where?.startsWith(file) ? where : file} failed to load: ${(error as Error)?.message ?? String(error)}`,
            status: 500,
          },
          this.stackOf(error),
        ),
      );
    }
    const fn = sandbox.exports;
    if (typeof fn !== 'function') return fail('FUNCTION_INVALID', `${file} does not assign a function to exports`, 500);
    const instance = { fn: fn as Instance['fn'] };
    cache.set(name, instance);
    return instance;
  }

  private makeGlobals(): Record<string, unknown> {
    const log =
      (level: LogLine['level']) =>
      (...args: unknown[]) =>
        logTo(frames.getStore(), level, args);
    const globals: Record<string, unknown> = {
      exports: undefined,
      module: undefined,
      console: { log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('debug') },
      require: this.makeRequire(),
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      setImmediate,
      clearImmediate,
      queueMicrotask,
      structuredClone,
      fetch,
      Request,
      Response,
      Headers,
      FormData,
      Blob,
      File,
      URL,
      URLSearchParams,
      AbortController,
      AbortSignal,
      TextEncoder,
      TextDecoder,
      Buffer,
      atob,
      btoa,
      crypto: globalThis.crypto,
    };
    // App Services' other globals, made on first use (bson loads then).
    for (const [name, make] of [
      ['BSON', bsonGlobal],
      ['EJSON', ejsonGlobal],
      ['utils', utilsGlobal],
    ] as const) {
      let value: object | undefined;
      Object.defineProperty(globals, name, {
        enumerable: true,
        configurable: true,
        get: () => (value ??= make()),
        set: (replacement: object) => (value = replacement),
      });
    }
    // The caller's context, per call: code that runs for a call sees that call's context.
    Object.defineProperty(globals, 'context', {
      enumerable: true,
      configurable: true,
      get: () => {
        const frame = frames.getStore();
        return frame ? this.contextOf(frame) : undefined;
      },
    });
    return globals;
  }

  /** Node built-ins, and packages from functions/node_modules only, resolved at call time. */
  private makeRequire(): (id: string) => unknown {
    const modulesDir = this.bundle.modulesDir;
    const req = createRequire(join(modulesDir ?? process.cwd(), '..', '__fn_require__.js'));
    return (id: string) => {
      if (typeof id !== 'string') throw new TypeError('require() takes a module name');
      if (isBuiltin(id)) return req(id);
      if (id.startsWith('.') || id.startsWith('/'))
        throw new Error(
          `require(${JSON.stringify(id)}): functions cannot require files; share code through context.functions.execute or an npm package in functions/node_modules`,
        );
      if (!modulesDir) throw missingPackage(id);
      let resolved: string;
      try {
        resolved = req.resolve(id, { paths: [modulesDir] });
      } catch {
        throw missingPackage(id);
      }
      const rel = relative(modulesDir, resolved);
      if (rel.startsWith('..') || rel.split(sep)[0] === '..') throw missingPackage(id);
      return req(resolved);
    };
  }
}

/** A require() of a package the app does not have: names the package and what to do. */
function missingPackage(id: string): Error {
  const parts = id.split('/');
  const pkg = id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const error = new Error(
    `Cannot find module '${id}'${pkg === id ? '' : ` of package '${pkg}'`}: add it to functions/package.json and run npm install in functions/`,
  );
  (error as NodeJS.ErrnoException).code = 'MODULE_NOT_FOUND';
  return error;
}

const contextCache = new WeakMap<Frame, object>();

/** Console output of a call goes to its log; after the call has answered it goes nowhere. */
function logTo(frame: Frame | undefined, level: LogLine['level'], args: unknown[]): void {
  if (!frame) return;
  const message = format(...args);
  noteTo(frame, { level, message: message.length > MAX_LOG_CHARS ? message.slice(0, MAX_LOG_CHARS) + '…' : message });
}

/** A line of the call's log, at the depth of the frame that writes it. */
function noteTo(frame: Frame, line: LogLine): void {
  if (frame.call.done) return;
  if (frame.logs.length >= MAX_LOG_LINES) frame.logs.shift();
  if (frame.depth) line.depth = frame.depth;
  frame.logs.push(line);
}

/** The message of a thrown value; reading it may run the value's own code, which may throw. */
function safeMessage(error: unknown): string {
  try {
    return error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
      ? String((error as Error).message)
      : String(error);
  } catch {
    return 'a value that cannot be shown';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** File parameters become File objects on the first argument; JSON values are never files. */
function withFiles(args: unknown[], files: Record<string, FileArg> | undefined): unknown[] {
  if (!files || !Object.keys(files).length) return args;
  const first: Record<string, unknown> = {};
  if (isRecord(args[0]))
    for (const key of Object.keys(args[0]))
      Object.defineProperty(first, key, { value: args[0][key], enumerable: true, writable: true, configurable: true });
  for (const [key, f] of Object.entries(files))
    Object.defineProperty(first, key, {
      value: new File([f.bytes], f.name, { type: f.type }),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return [first, ...args.slice(1)];
}

function alwaysAllowed(expr: BundledFunction['canEvaluate']): boolean {
  return expr === true || (typeof expr === 'object' && Object.keys(expr).length === 0);
}

/** A run-as script decides the user (when neither run_as_system nor run_as_user_id does). */
function needsScript(fn: BundledFunction): boolean {
  return !fn.runAsSystem && !fn.runAsUserId && fn.runAsUserIdScriptSource.trim() !== '';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

async function serializeResponse(value: Response): Promise<CallResult> {
  return { kind: 'response', status: value.status, headers: [...value.headers.entries()], body: new Uint8Array(await value.arrayBuffer()) };
}

interface ServiceCursor {
  sort(spec: unknown): ServiceCursor;
  limit(n: number): ServiceCursor;
  toArray(): Promise<unknown[]>;
}
type ServiceOp = (...args: unknown[]) => Promise<unknown>;
interface ServiceClient {
  db(name: string): {
    collection(
      name: string,
    ): Record<
      | 'findOne'
      | 'count'
      | 'insertOne'
      | 'insertMany'
      | 'updateOne'
      | 'updateMany'
      | 'deleteOne'
      | 'deleteMany'
      | 'findOneAndUpdate'
      | 'findOneAndReplace'
      | 'findOneAndDelete'
      | 'distinct',
      ServiceOp
    > &
      Record<'find' | 'aggregate', (...args: unknown[]) => ServiceCursor>;
  };
}

interface Ejson {
  deserialize(value: unknown, options?: { relaxed?: boolean }): unknown;
  stringify(value: unknown, options?: { relaxed?: boolean }): string;
}

/** Canonical EJSON arguments as values: BSON types back (ObjectId, Date, Decimal128), numbers as numbers. */
function fromEjson(args: unknown[]): unknown[] {
  return (ejsonGlobal() as Ejson).deserialize(args, { relaxed: true }) as unknown[];
}

/** A result as canonical EJSON (realm-web reads it back with EJSON.deserialize). */
function serializeEjson(value: unknown): CallResult {
  let json: string;
  try {
    json = (ejsonGlobal() as Ejson).stringify(value === undefined ? null : value, { relaxed: false });
  } catch (error) {
    return fail('RESULT_NOT_SERIALIZABLE', `the result cannot be sent as EJSON: ${(error as Error).message}`, 500);
  }
  return { kind: 'json', json };
}

function serializeJson(value: unknown): CallResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    return fail('RESULT_NOT_SERIALIZABLE', `the result cannot be sent as JSON: ${(error as Error).message}`, 500);
  }
  return { kind: 'json', json: json ?? 'null' };
}

export function toCallError(error: unknown, name: string, stack?: string[]): CallError {
  if (error instanceof CallFailure) return error.error;
  return withStack({ code: 'FUNCTION_ERROR', message: `function "${name}" threw: ${safeMessage(error)}`, status: 500 }, stack);
}

function withStack(error: CallError, stack: string[] | undefined): CallError {
  if (stack?.length) error.stack = stack;
  return error;
}

/** A function (or app) that cannot run answers why: the file, the place and the problem. */
function checkRunnable(bundle: AppBundle, fn: BundledFunction): void {
  if (bundle.broken !== undefined) fail('FUNCTION_INVALID', bundle.broken, 500);
  if (fn.broken !== undefined) fail('FUNCTION_INVALID', fn.broken, 500);
}

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * The frames of an error's stack that are in the app's files (`at helper (functions/x.js:2:12)`),
 * in order; fn's own frames and Node's are cut. Undefined for a value with no stack. Reading the
 * stack of a thrown object may run its code: a failure there means no frames.
 */
export function userFrames(error: unknown, isAppFile: (file: string) => boolean): string[] | undefined {
  let stack: unknown;
  try {
    stack = typeof error === 'object' && error !== null ? (error as { stack?: unknown }).stack : undefined;
  } catch {
    return undefined;
  }
  if (typeof stack !== 'string') return undefined;
  const frames: string[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m && isAppFile(m[1]!)) frames.push(line.trim());
  }
  return frames.length ? frames : undefined;
}
