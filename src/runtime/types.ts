// What crosses between the server, the runtime host and its workers. Everything here is plain
// data (structured-clone safe).

export interface FnUser {
  id: string;
  type: 'normal' | 'server' | 'system';
  data: Record<string, unknown>;
  custom_data: Record<string, unknown>;
  identities: { id: string; provider_type: string; data?: Record<string, unknown> }[];
}

/** `context.request` as function code sees it. */
export interface RequestInfo {
  remoteIPAddress: string;
  requestHeaders: Record<string, string[]>;
  httpMethod: string;
  rawQueryString: string;
}

/**
 * The HTTP request behind a call as it travels to a worker: the header name/value pairs as
 * received (never Authorization), grouped into `requestHeaders` only if the function asks.
 */
export interface HttpInfo {
  remoteIPAddress: string;
  rawHeaders: string[];
  httpMethod: string;
  rawQueryString: string;
}

/** `context.request` of an HttpInfo: header names lower-cased, every value of a name in order. */
export function requestInfoOf(http: HttpInfo): RequestInfo {
  const headers: Record<string, string[]> = {};
  const raw = http.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'authorization') continue;
    if (Object.hasOwn(headers, name)) headers[name]!.push(raw[i + 1]!);
    else Object.defineProperty(headers, name, { value: [raw[i + 1]!], enumerable: true, writable: true, configurable: true });
  }
  return { remoteIPAddress: http.remoteIPAddress, requestHeaders: headers, httpMethod: http.httpMethod, rawQueryString: http.rawQueryString };
}

/** One function as deployed: its resolved manifest entry and its source text. */
export interface BundledFunction {
  name: string;
  private: boolean;
  canEvaluate: Record<string, unknown> | boolean;
  disableArgLogs: boolean;
  runAsSystem: boolean;
  runAsUserId: string;
  runAsUserIdScriptSource: string;
  source: string;
  /** The file as stack frames name it, relative to the app root (functions/<name>.js). */
  file: string;
  /** Set when the function cannot run (its file or entry has an error): every call answers this. */
  broken?: string;
}

/** One version of an app: all a worker needs to run any of its functions. */
export interface AppBundle {
  appId: string;
  /** Changes whenever the app changes (a counter in dev, the deployment version in serve). */
  version: string;
  functions: Record<string, BundledFunction>;
  values: Record<string, unknown>;
  environment: { tag: string; values: Record<string, unknown> };
  /** Where require() finds packages (functions/node_modules), when the app has a folder. */
  modulesDir: string | undefined;
  /** Set when no function can run (the manifest cannot be read): every call answers this. */
  broken?: string;
}

export type RunAs = { system: true } | { userId: string } | { caller: true };

/** A file argument; a File again inside the worker. */
export interface FileArg {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export interface CallRequest {
  name: string;
  /** Positional arguments; a client call passes one: the named-parameters object. */
  args: unknown[];
  /** File parameters (multipart), added to the first argument as File objects in the worker. */
  files?: Record<string, FileArg>;
  caller: FnUser;
  /** client: private functions refused, can_evaluate checked. admin: neither. */
  via: 'client' | 'admin';
  /** Admin calls may force who the function runs as. */
  runAs?: { system: true } | { userId: string };
  request: HttpInfo;
}

export interface LogLine {
  level: 'log' | 'info' | 'warn' | 'error' | 'debug';
  message: string;
  /** How deep in context.functions.execute calls the line was written (absent: the call itself). */
  depth?: number;
  /** Set on the lines fn writes when a nested call starts and ends: the function called. */
  call?: string;
}

export type CallErrorCode =
  | 'FUNCTION_NOT_FOUND'
  | 'FUNCTION_NOT_CALLABLE'
  | 'FUNCTION_ERROR'
  | 'FUNCTION_INVALID'
  | 'EXECUTION_DENIED'
  | 'EXECUTION_TIME_LIMIT'
  | 'MEMORY_LIMIT'
  | 'WORKER_EXITED'
  | 'UNHANDLED_REJECTION'
  | 'RESULT_NOT_SERIALIZABLE'
  | 'RESULT_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'SERVER_CLOSING';

export interface CallError {
  code: CallErrorCode;
  message: string;
  /** The HTTP status this maps to. */
  status: number;
  /** The stack frames in the app's own files (`at helper (functions/boom.js:2:12)`), fn's cut. */
  stack?: string[];
}

export type CallResult =
  | { kind: 'json'; json: string }
  | { kind: 'response'; status: number; headers: [string, string][]; body: Uint8Array };

export interface CallOutcome {
  ok: boolean;
  result?: CallResult;
  error?: CallError;
  logs: LogLine[];
  durationMs: number;
  /** Who the function ran as. */
  runAs: RunAs;
}

export interface RuntimeLimits {
  /** Per-call time limit. */
  timeoutMs: number;
  /** Per-worker heap limit. */
  memoryMb: number;
  /** Calls running or waiting at once; more get 429. */
  concurrency: number;
  /** Worker threads kept for the current version. */
  workers: number;
  /** Worker threads at most: more start while calls wait behind slow ones, and stop when idle. */
  maxWorkers: number;
  /** How long a worker above `workers` may stay idle before it stops. */
  workerIdleMs: number;
}

export const DEFAULT_LIMITS: RuntimeLimits = { timeoutMs: 60_000, memoryMb: 256, concurrency: 256, workers: 2, maxWorkers: 8, workerIdleMs: 30_000 };

/**
 * Calls sent ahead to a busy worker, which runs them one after another. Hides the round trip
 * between threads; a call never starts before the one ahead of it has finished, and those not
 * started come back to the host if it runs long.
 */
export const PIPELINE_DEPTH = 32;

/**
 * The header naming a call's entry in the server's call log, on every answer of the functions
 * route: GET .../logs/{id} with the service key gives its console output and stack.
 */
export const CALL_ID_HEADER = 'x-fn-call-id';

/** Request bodies above this are refused with 413 (the App Services limit). */
export const MAX_REQUEST_BYTES = 18 * 1024 * 1024;

const ANONYMOUS: FnUser = freezeUser({ id: 'anonymous', type: 'normal', data: {}, custom_data: {}, identities: [{ id: 'anonymous', provider_type: 'anon-user' }] });
const SYSTEM: FnUser = freezeUser({ id: '', type: 'system', data: {}, custom_data: {}, identities: [] });

/** The caller without a token (one frozen object: callers are read, never changed). */
export function anonymousUser(): FnUser {
  return ANONYMOUS;
}

/** The caller with the service key, and who admin calls run as by default (frozen, shared). */
export function systemUser(): FnUser {
  return SYSTEM;
}

/** Freezes a caller (its data, custom data and identities too): callers are shared between calls. */
export function freezeUser(user: FnUser): FnUser {
  Object.freeze(user.data);
  Object.freeze(user.custom_data);
  user.identities.forEach((identity) => Object.freeze(identity));
  Object.freeze(user.identities);
  return Object.freeze(user);
}
