// What crosses between the server, the runtime host and its workers. Everything here is plain
// data (structured-clone safe).
import type { EndpointSpec } from '../app/endpoints.js';

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
  return {
    remoteIPAddress: http.remoteIPAddress,
    requestHeaders: headers,
    httpMethod: http.httpMethod,
    rawQueryString: http.rawQueryString,
  };
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
  /** The app's HTTPS endpoints and webhooks: the server matches requests against them. */
  endpoints?: EndpointSpec[];
}

/**
 * What an HTTPS endpoint call adds to a CallRequest: the function gets App Services' `request`
 * and `response` objects made of it (endpoint-call.ts) instead of `args`.
 */
export interface EndpointCall {
  /** The body's bytes; null when the request has none. */
  body: Uint8Array | null;
  /** The query's parameters, the first value of each name. */
  query: Record<string, string>;
  /** How a return value becomes the body: JSON, or EJSON (canonical). */
  format: 'JSON' | 'EJSON';
  /** false: 204 and no body, whatever the function did. */
  respondResult: boolean;
  /** A legacy webhook: once the function touches `response`, its return value is not the body. */
  webhook: boolean;
}

export type RunAs = { system: true } | { userId: string };

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
  /** client: private functions refused, can_evaluate checked. admin: neither. endpoint: can_evaluate checked. */
  via: 'client' | 'admin' | 'endpoint';
  /** Admin calls may force who the function runs as. */
  runAs?: { system: true } | { userId: string };
  request: HttpInfo;
  /** An HTTPS endpoint's call (it crosses to workers as an object, never on the plain path). */
  endpoint?: EndpointCall;
  /**
   * The App Services client API's encoding (realm-web's functions/call): the arguments are
   * canonical EJSON values, read back into BSON types, and the result leaves as canonical EJSON.
   * Such calls cross as objects (encodeCall), never in the string form. A trigger's change event
   * crosses this way too.
   */
  ejson?: true;
  /**
   * A service function (realm-web's mongoClient): `service` names the data source, `name` the
   * operation, `args[0]` its argument object ({ database, collection, query, ... }). Runs as the
   * caller under the rules; as system only for a system caller on an admin call.
   */
  service?: string;
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
  | 'FUNCTION_ERROR'
  | 'FUNCTION_INVALID'
  | 'EXECUTION_DENIED'
  | 'EXECUTION_TIME_LIMIT'
  | 'MEMORY_LIMIT'
  | 'WORKER_EXITED'
  | 'UNHANDLED_REJECTION'
  | 'RESULT_NOT_SERIALIZABLE'
  | 'CALL_ENCODING_FAILED'
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
  { kind: 'json'; json: string } | { kind: 'response'; status: number; headers: [string, string][]; body: Uint8Array };

/** How a call ended: its result, or its error. */
export type CallOutcome = ({ ok: true; result: CallResult; error?: undefined } | { ok: false; error: CallError; result?: undefined }) & {
  logs: LogLine[];
  durationMs: number;
  /** Who the function ran as. */
  runAs: RunAs;
};

/**
 * The header naming a call's entry in the server's call log, on every answer of the functions
 * route: GET .../logs/{id} with the service key gives its console output and stack.
 */
export const CALL_ID_HEADER = 'x-fn-call-id';

export { DEFAULT_LIMITS, MAX_REQUEST_BYTES, PIPELINE_DEPTH, type RuntimeLimits } from './limits.js';
export { anonymousUser, freezeUser, systemUser } from './callers.js';
