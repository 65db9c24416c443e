// Runs an app's functions inside one worker thread: each function file compiled once, in its own
// vm context, where `exports` is a writable global and `module` is undefined. One top-level call
// at a time per worker (the host guarantees it), so the `context` global of a file is safe to set
// per invocation.
import { createRequire, isBuiltin } from 'node:module';
import { join, relative, sep } from 'node:path';
import { format } from 'node:util';
import * as vm from 'node:vm';
import { evaluateExpression } from '../expression/evaluate.js';
import type { AppBundle, BundledFunction, CallError, CallOutcome, CallRequest, CallResult, FileArg, FnUser, LogLine, RunAs } from './types.js';

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

interface Frame {
  logs: LogLine[];
  caller: FnUser;
  request: CallRequest['request'];
}

interface Instance {
  sandbox: Record<string, unknown>;
  fn: (...args: unknown[]) => unknown;
}

export class AppSandbox {
  private readonly instances = new Map<string, Instance>();
  private readonly scripts = new Map<string, Instance>();
  /** The call this worker is running; console output and stray errors belong to it. */
  current: Frame | undefined;

  constructor(private readonly bundle: AppBundle) {}

  async run(request: CallRequest): Promise<CallOutcome> {
    const started = performance.now();
    const frame: Frame = { logs: [], caller: request.caller, request: request.request };
    this.current = frame;
    let runAs: RunAs = request.caller.type === 'system' ? { system: true } : { userId: request.caller.id };
    try {
      const fn = this.bundle.functions[request.name];
      if (!fn || !Object.hasOwn(this.bundle.functions, request.name)) return fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
      const args = request.args.map(revive);
      if (request.via === 'client') {
        if (fn.private) fail('FUNCTION_NOT_FOUND', `function "${request.name}" not found`, 404);
        await this.checkCanEvaluate(fn, args, frame);
      }
      runAs = request.runAs ?? (await this.resolveRunAs(fn, args, frame, runAs));
      const value = await this.invoke(fn, args, frame, runAs);
      const result = await serialize(value);
      return { ok: true, result, logs: frame.logs, durationMs: performance.now() - started, runAs };
    } catch (error) {
      return { ok: false, error: toCallError(error, request.name), logs: frame.logs, durationMs: performance.now() - started, runAs };
    } finally {
      this.current = undefined;
    }
  }

  private async checkCanEvaluate(fn: BundledFunction, args: unknown[], frame: Frame): Promise<void> {
    const expr = fn.canEvaluate;
    if (expr === true || (typeof expr === 'object' && Object.keys(expr).length === 0)) return;
    const named = isRecord(args[0]) ? args[0] : {};
    let allowed: boolean;
    try {
      allowed = await evaluateExpression(expr, {
        user: frame.caller,
        request: frame.request,
        values: this.bundle.values,
        environment: this.bundle.environment,
        args: named,
        callFunction: (name, fnArgs) => {
          const target = this.bundle.functions[name];
          if (!target || !Object.hasOwn(this.bundle.functions, name)) return Promise.reject(new Error(`function "${name}" not found`));
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
    if (fn.runAsSystem) return { system: true };
    if (fn.runAsUserId) return { userId: fn.runAsUserId };
    if (fn.runAsUserIdScriptSource.trim()) {
      const script = this.instantiate(`${fn.name}#run_as_user_id_script_source`, fn.runAsUserIdScriptSource, this.scripts);
      script.sandbox.context = this.makeContext(frame, inherited);
      let value: unknown;
      try {
        value = await script.fn(...args);
      } catch (error) {
        return fail('FUNCTION_ERROR', `the run_as_user_id_script_source of "${fn.name}" threw: ${(error as Error)?.message ?? String(error)}`, 500);
      }
      if (typeof value === 'string' && value !== '') return { userId: value };
      if (isRecord(value) && (value.runAsSystem === true || value.runAsSystemUser === true)) return { system: true };
      return fail('FUNCTION_ERROR', `the run_as_user_id_script_source of "${fn.name}" returned ${JSON.stringify(value) ?? 'undefined'}, not a user id or { runAsSystem: true }`, 500);
    }
    return inherited;
  }

  private async invoke(fn: BundledFunction, args: unknown[], frame: Frame, runAs: RunAs): Promise<unknown> {
    const instance = this.instantiate(fn.name, fn.source, this.instances);
    instance.sandbox.context = this.makeContext(frame, runAs);
    return await instance.fn(...args);
  }

  private makeContext(frame: Frame, runAs: RunAs) {
    const bundle = this.bundle;
    return {
      user: structuredClone(frame.caller),
      request: structuredClone(frame.request),
      values: { get: (name: string) => (Object.hasOwn(bundle.values, name) ? structuredClone(bundle.values[name]) : undefined) },
      environment: structuredClone(bundle.environment),
      app: { id: bundle.appId, clientAppId: bundle.appId, name: bundle.appId },
      functions: {
        execute: async (name: string, ...args: unknown[]) => {
          const target = bundle.functions[name];
          if (!target || !Object.hasOwn(bundle.functions, name)) throw new Error(`function "${name}" not found`);
          const calleeRunAs = await this.resolveRunAs(target, args, frame, runAs);
          return this.invoke(target, args, frame, calleeRunAs);
        },
      },
      services: {
        get: (name: string) => {
          throw new Error(`context.services.get(${JSON.stringify(name)}): services (MongoDB Atlas and others) are not available in fn's runtime`);
        },
      },
      runningAsSystem: () => 'system' in runAs,
    };
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
    const instance = { sandbox, fn: fn as Instance['fn'] };
    cache.set(name, instance);
    return instance;
  }

  private makeGlobals(): Record<string, unknown> {
    const log = (level: LogLine['level']) => (...args: unknown[]) => this.log(level, args);
    return {
      exports: undefined,
      module: undefined,
      context: undefined,
      console: { log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('debug') },
      require: this.makeRequire(),
      setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, queueMicrotask, structuredClone,
      fetch, Request, Response, Headers, FormData, Blob, File, URL, URLSearchParams, AbortController, AbortSignal,
      TextEncoder, TextDecoder, Buffer, atob, btoa, crypto: globalThis.crypto,
    };
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

  log(level: LogLine['level'], args: unknown[]): void {
    const frame = this.current;
    if (!frame) return;
    if (frame.logs.length >= MAX_LOG_LINES) frame.logs.shift();
    const message = format(...args);
    frame.logs.push({ level, message: message.length > MAX_LOG_CHARS ? message.slice(0, MAX_LOG_CHARS) + '…' : message });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** File arguments cross the thread boundary as plain data and become File objects again here. */
function revive(value: unknown): unknown {
  if (!isRecord(value)) return value;
  if ((value as Partial<FileArg>).__fnFile === true) {
    const f = value as unknown as FileArg;
    return new File([f.bytes], f.name, { type: f.type });
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    const r = revive(v);
    if (r !== v) changed = true;
    Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
  }
  return changed ? out : value;
}

async function serialize(value: unknown): Promise<CallResult> {
  if (value instanceof Response) {
    return { kind: 'response', status: value.status, headers: [...value.headers.entries()], body: new Uint8Array(await value.arrayBuffer()) };
  }
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
