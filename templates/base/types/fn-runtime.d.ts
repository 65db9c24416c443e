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

interface FnHttpRequest {
  /** The whole URL, or scheme, host, path and query apart. */
  url?: string;
  scheme?: string;
  host?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  fragment?: string;
  username?: string;
  password?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array | FnBinary | object;
  /** Send the body as (relaxed) EJSON text. */
  encodeBodyAsJSON?: boolean;
  /** Form fields, sent urlencoded. */
  form?: Record<string, string | string[]>;
  followRedirects?: boolean;
}

interface FnHttpResponse {
  /** "200 OK" */
  status: string;
  statusCode: number;
  contentLength: number;
  headers: Record<string, string[]>;
  cookies: Record<string, unknown>;
  body: FnBinary;
}

interface FnHttp {
  get(request: FnHttpRequest): Promise<FnHttpResponse>;
  post(request: FnHttpRequest): Promise<FnHttpResponse>;
  put(request: FnHttpRequest): Promise<FnHttpResponse>;
  patch(request: FnHttpRequest): Promise<FnHttpResponse>;
  delete(request: FnHttpRequest): Promise<FnHttpResponse>;
  head(request: FnHttpRequest): Promise<FnHttpResponse>;
}

interface FnContext {
  /** The caller; stays the caller even when the function runs as system or as another user. */
  user: FnUser;
  request: FnRequest;
  values: FnValues;
  functions: FnFunctions;
  /** The App Services HTTP client (fetch works too). */
  http: FnHttp;
  /** True when the function runs as the system user. */
  runningAsSystem(): boolean;
}

declare var context: FnContext;

interface FnObjectId {
  toHexString(): string;
  equals(other: unknown): boolean;
  getTimestamp(): Date;
}

interface FnObjectIdConstructor {
  new (id?: string | Uint8Array | number): FnObjectId;
  (id?: string | Uint8Array | number): FnObjectId;
  createFromHexString(hex: string): FnObjectId;
  isValid(id: unknown): boolean;
}

interface FnBinary {
  toHex(): string;
  toBase64(): string;
  /** The bytes as UTF-8 text. */
  text(): string;
  length(): number;
}

/** The BSON types (ObjectId, Binary, Decimal128, Long, Int32, Double, BSONRegExp, MinKey, MaxKey...). */
declare var BSON: {
  ObjectId: FnObjectIdConstructor;
  ObjectID: FnObjectIdConstructor;
  Binary: {
    new (data?: Uint8Array, subType?: number): FnBinary;
    fromHex(hex: string, subType?: number): FnBinary;
    fromBase64(base64: string, subType?: number): FnBinary;
    fromText(text: string): FnBinary;
  };
  [type: string]: any;
};

/** Extended JSON: BSON types as JSON text, canonical ({ relaxed: false }) or relaxed. */
declare var EJSON: {
  stringify(value: unknown, options?: { relaxed?: boolean }): string;
  parse(text: string, options?: { relaxed?: boolean }): any;
  serialize(value: unknown, options?: { relaxed?: boolean }): any;
  deserialize(value: unknown, options?: { relaxed?: boolean }): any;
};

declare var utils: {
  crypto: {
    hash(method: 'sha1' | 'sha256' | 'md5', input: string | Uint8Array | FnBinary): FnBinary;
    hmac(input: string | Uint8Array | FnBinary, secret: string, hashFunction: 'sha1' | 'sha256' | 'sha512', outputFormat: 'hex' | 'base64'): string;
  };
  jwt: {
    encode(signingMethod: 'HS256' | 'HS384' | 'HS512', payload: unknown, secret: string, customHeaderFields?: Record<string, unknown>): string;
    decode(jwt: string, key: string, returnHeader?: boolean, acceptedSigningMethods?: string[]): any;
  };
};

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
