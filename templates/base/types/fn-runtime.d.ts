// The globals a function sees at run time, for editors: add `// @ts-check` at the top of a
// function file for completion and errors. Shipped by fn; safe to commit; do not edit.

/** Who called the function, or the user it runs as. */
interface FnUser {
  id: string;
  type: 'normal' | 'server' | 'system';
  data: Record<string, unknown>;
  custom_data: Record<string, unknown>;
  identities: { id: string; provider_type: string; data?: Record<string, unknown> }[];
}

/** The HTTP request that started the call. */
interface FnRequest {
  remoteIPAddress: string;
  /** Header names as sent; each maps to all its values. */
  requestHeaders: Record<string, string[]>;
  httpMethod: string;
  rawQueryString: string;
}

interface FnValues {
  /** A value from values/<name>.json; undefined when there is none. */
  get(name: string): any;
}

/**
 * Filled by `fn types`: each function's argument and result types, so that
 * context.functions.execute(name, ...) type-checks. Empty until then: any name is accepted.
 */
interface FnFunctionRegistry {}

type FnFunctionName = keyof FnFunctionRegistry extends never ? string : keyof FnFunctionRegistry;
type FnRegistryArgs<N> = N extends keyof FnFunctionRegistry ? (FnFunctionRegistry[N] extends { args: infer A extends unknown[] } ? A : unknown[]) : unknown[];
type FnRegistryResult<N> = N extends keyof FnFunctionRegistry ? (FnFunctionRegistry[N] extends { result: infer R } ? R : unknown) : any;

interface FnFunctions {
  /** Calls another function of this app (private ones too), as the same user unless it runs as another. */
  execute<N extends FnFunctionName>(name: N, ...args: FnRegistryArgs<N>): Promise<FnRegistryResult<N>>;
}

interface FnContext {
  /** The caller; stays the caller even when the function runs as system or as another user. */
  user: FnUser;
  request: FnRequest;
  values: FnValues;
  functions: FnFunctions;
  /** True when the function runs as the system user. */
  runningAsSystem(): boolean;
}

declare var context: FnContext;

/** Assign the function here: exports = function (args) { ... }. */
declare var exports: (...args: any[]) => unknown;

/** App Services provides no `module`: use exports = function (...) {...}. */
declare var module: undefined;

/** Node built-ins and packages from functions/node_modules; call it inside the function. */
declare function require(id: string): any;

declare var Buffer: {
  from(data: string | ArrayBuffer | ArrayLike<number>, encoding?: string): Uint8Array & { toString(encoding?: string): string };
  byteLength(data: string, encoding?: string): number;
  isBuffer(value: unknown): boolean;
};
