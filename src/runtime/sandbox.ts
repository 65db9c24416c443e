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
import type { DataServices } from './data-bridge.js';
import { requestInfoOf, type AppBundle, type BundledFunction, type CallError, type CallOutcome, type CallRequest, type CallResult, type FileArg, type FnUser, type LogLine, type RunAs } from './types.js';

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

export interface Frame {
  logs: LogLine[];
  caller: FnUser;
  request: CallRequest['request'];
  /** Who the code of this frame runs as (nested calls get frames of their own). */
  runAs: RunAs;
  /** The call this frame belongs to, shared by its nested frames. */
  call: { done: boolean; fail: (code: 'UNHANDLED_REJECTION' | 'FUNCTION_ERROR', message: string) => void };
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

  constructor(
    private readonly bundle: AppBundle,
    private readonly data?: DataServices,
  ) {}

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
      fail: (code, message) => finish({ ok: false, error: { code, message, status: 500 }, logs: frame.logs, durationMs: performance.now() - started, runAs }, true),
    };
    const frame: Frame = { logs: [], caller: request.caller, request: request.request, runAs, call };
    const finish = (outcome: CallOutcome, recycle: boolean) => {
      if (call.done) return;
      call.done = true;
      done({ outcome, recycle });
    };
    const failed = (error: unknown) => finish({ ok: false, error: toCallError(error, request.name), logs: frame.logs, durationMs: performance.now() - started, runAs }, false);
    const answer = (value: unknown) => {
      if (value instanceof Response) {
        serializeResponse(value).then((result) => finish({ ok: true, result, logs: frame.logs, durationMs: performance.now() - started, runAs }, false), failed);
        return;
      }
      try {
        finish({ ok: true, result: serializeJson(value), logs: frame.logs, durationMs: performance.now() - started, runAs }, false);
      } catch (error) {
        failed(error);
      }
    };
    frames.run(frame, () => {
      try {
        const fn = Object.hasOwn(this.bundle.functions, request.name) ? this.bundle.functions[request.name] : undefined;
        if (!fn) return fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
        if (request.via === 'client' && fn.private) fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
        const args = withFiles(request.args, request.files);
        const checked = request.via === 'client' && !alwaysAllowed(fn.canEvaluate);
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
        const instance = this.instantiate(fn.name, fn.source, this.instances);
        // The frame is this call's own and no code has seen its context yet: it can take the runAs.
        frame.runAs = runAs;
        const value = instance.fn(...args);
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
          return this.invoke(target, fnArgs, frame, { system: true });
        },
      });
    } catch (error) {
      return fail('FUNCTION_INVALID', `the can_evaluate expression of "${fn.name}" cannot be evaluated: ${(error as Error).message}`, 500);
    }
    if (!allowed) fail('EXECUTION_DENIED', `calling "${fn.name}" is not allowed: its can_evaluate expression is false for this caller`, 403);
  }

  /** run_as_system > run_as_user_id > the user id the script returns > the inherited user. */
  private async resolveRunAs(fn: BundledFunction, args: unknown[], frame: Frame, inherited: RunAs): Promise<RunAs> {
    const fixed = this.runAsOf(fn);
    if (fixed) return fixed;
    if (needsScript(fn)) {
      const script = this.instantiate(`${fn.name}#run_as_user_id_script_source`, fn.runAsUserIdScriptSource, this.scripts);
      let value: unknown;
      try {
        value = await frames.run({ ...frame, runAs: inherited }, () => script.fn(...args));
      } catch (error) {
        return fail('FUNCTION_ERROR', `the run_as_user_id_script_source of "${fn.name}" threw: ${(error as Error)?.message ?? String(error)}`, 500);
      }
      if (typeof value === 'string' && value !== '') return { userId: value };
      if (isRecord(value) && (value.runAsSystem === true || value.runAsSystemUser === true)) return { system: true };
      return fail('FUNCTION_ERROR', `the run_as_user_id_script_source of "${fn.name}" returned ${JSON.stringify(value) ?? 'undefined'}, not a user id or { runAsSystem: true }`, 500);
    }
    return inherited;
  }

  /** The user the manifest entry fixes (run_as_system, run_as_user_id), if it fixes one. */
  private runAsOf(fn: BundledFunction): RunAs | undefined {
    if (fn.runAsSystem) return { system: true };
    if (fn.runAsUserId) return { userId: fn.runAsUserId };
    return undefined;
  }

  private async invoke(fn: BundledFunction, args: unknown[], frame: Frame, runAs: RunAs): Promise<unknown> {
    const instance = this.instantiate(fn.name, fn.source, this.instances);
    return await frames.run({ ...frame, runAs }, () => instance.fn(...args));
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
        execute: async (name: string, ...args: unknown[]) => {
          const target = Object.hasOwn(bundle.functions, name) ? bundle.functions[name] : undefined;
          if (!target) throw new Error(`function "${name}" not found`);
          const calleeRunAs = await this.resolveRunAs(target, args, frame, runAs);
          return this.invoke(target, args, frame, calleeRunAs);
        },
      },
      services: {
        get: (name: string) => {
          if (!this.data) throw new Error(`context.services.get(${JSON.stringify(name)}): this runtime has no data sources`);
          const asUser = 'userId' in runAs && runAs.userId !== frame.caller.id ? { id: runAs.userId, type: 'normal', data: {}, custom_data: {}, identities: [] } : frame.caller;
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

  private instantiate(name: string, source: string, cache: Map<string, Instance>): Instance {
    const cached = cache.get(name);
    if (cached) return cached;
    const sandbox = this.makeGlobals();
    const context = vm.createContext(sandbox, { name: `functions/${name}.js` });
    try {
      new vm.Script(source, { filename: `functions/${name}.js` }).runInContext(context);
    } catch (error) {
      return fail('FUNCTION_INVALID', `functions/${name}.js failed to load: ${(error as Error)?.message ?? String(error)}`, 500);
    }
    const fn = sandbox.exports;
    if (typeof fn !== 'function') return fail('FUNCTION_INVALID', `functions/${name}.js does not assign a function to exports`, 500);
    const instance = { fn: fn as Instance['fn'] };
    cache.set(name, instance);
    return instance;
  }

  private makeGlobals(): Record<string, unknown> {
    const log = (level: LogLine['level']) => (...args: unknown[]) => logTo(frames.getStore(), level, args);
    const globals: Record<string, unknown> = {
      exports: undefined,
      module: undefined,
      console: { log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('debug') },
      require: this.makeRequire(),
      setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, queueMicrotask, structuredClone,
      fetch, Request, Response, Headers, FormData, Blob, File, URL, URLSearchParams, AbortController, AbortSignal,
      TextEncoder, TextDecoder, Buffer, atob, btoa, crypto: globalThis.crypto,
    };
    // App Services' other globals, made on first use (bson loads then).
    for (const [name, make] of [['BSON', bsonGlobal], ['EJSON', ejsonGlobal], ['utils', utilsGlobal]] as const) {
      let value: object | undefined;
      Object.defineProperty(globals, name, {
        enumerable: true,
        configurable: true,
        get: () => (value ??= make()),
        set: (replacement: object) => (value = replacement),
      });
    }
    // The caller's context, per call: code that runs for a call sees that call's context.
    const self = this;
    Object.defineProperty(globals, 'context', {
      enumerable: true,
      configurable: true,
      get() {
        const frame = frames.getStore();
        return frame ? self.contextOf(frame) : undefined;
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
      if (id.startsWith('.') || id.startsWith('/')) throw new Error(`require(${JSON.stringify(id)}): functions cannot require files; share code through context.functions.execute or an npm package in functions/node_modules`);
      if (!modulesDir) throw new Error(`Cannot find module '${id}': this app has no functions/node_modules`);
      let resolved: string;
      try {
        resolved = req.resolve(id, { paths: [modulesDir] });
      } catch {
        throw new Error(`Cannot find module '${id}' in functions/node_modules`);
      }
      const rel = relative(modulesDir, resolved);
      if (rel.startsWith('..') || rel.split(sep)[0] === '..') throw new Error(`Cannot find module '${id}' in functions/node_modules`);
      return req(resolved);
    };
  }
}

const contextCache = new WeakMap<Frame, object>();

/** Console output of a call goes to its log; after the call has answered it goes nowhere. */
function logTo(frame: Frame | undefined, level: LogLine['level'], args: unknown[]): void {
  if (!frame || frame.call.done) return;
  if (frame.logs.length >= MAX_LOG_LINES) frame.logs.shift();
  const message = format(...args);
  frame.logs.push({ level, message: message.length > MAX_LOG_CHARS ? message.slice(0, MAX_LOG_CHARS) + '…' : message });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** File parameters become File objects on the first argument; JSON values are never files. */
function withFiles(args: unknown[], files: Record<string, FileArg> | undefined): unknown[] {
  if (!files || !Object.keys(files).length) return args;
  const first: Record<string, unknown> = {};
  if (isRecord(args[0])) for (const key of Object.keys(args[0])) Object.defineProperty(first, key, { value: args[0][key], enumerable: true, writable: true, configurable: true });
  for (const [key, f] of Object.entries(files)) Object.defineProperty(first, key, { value: new File([f.bytes], f.name, { type: f.type }), enumerable: true, writable: true, configurable: true });
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
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

async function serializeResponse(value: Response): Promise<CallResult> {
  return { kind: 'response', status: value.status, headers: [...value.headers.entries()], body: new Uint8Array(await value.arrayBuffer()) };
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

export function toCallError(error: unknown, name: string): CallError {
  if (error instanceof CallFailure) return error.error;
  const message = error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error) ? String((error as Error).message) : String(error);
  return { code: 'FUNCTION_ERROR', message: `function "${name}" threw: ${message}`, status: 500 };
}
