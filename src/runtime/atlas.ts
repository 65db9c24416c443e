// The globals App Services gives functions besides `context`: BSON, EJSON and utils (crypto
// hashes and HMACs, HS256/384/512 JWTs), and context.http. Exported apps use them; fn provides
// them so their functions run unchanged. bson is loaded on first use, so a worker whose functions
// never touch these pays nothing.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

type Bson = typeof import('bson');

let bson: Bson | undefined;

/** The bson package, with the Binary helpers App Services adds (fromHex, toHex, toBase64, text...). */
export function loadBson(): Bson {
  if (bson) return bson;
  const loaded = createRequire(import.meta.url)('bson') as Bson;
  const { Binary } = loaded;
  const proto = Binary.prototype as unknown as Record<string, unknown>;
  const add = (target: object, name: string, value: unknown) => {
    if (!(name in target)) Object.defineProperty(target, name, { value, writable: true, configurable: true });
  };
  const bytes = (b: InstanceType<typeof Binary>) => Buffer.from(b.buffer.buffer, b.buffer.byteOffset, b.position);
  add(proto, 'toHex', function (this: InstanceType<typeof Binary>) {
    return bytes(this).toString('hex');
  });
  add(proto, 'toBase64', function (this: InstanceType<typeof Binary>) {
    return bytes(this).toString('base64');
  });
  add(proto, 'text', function (this: InstanceType<typeof Binary>) {
    return bytes(this).toString('utf8');
  });
  add(Binary, 'fromHex', (hex: string, subType?: number) => new Binary(Buffer.from(hex, 'hex'), subType));
  add(Binary, 'fromBase64', (base64: string, subType?: number) => new Binary(Buffer.from(base64, 'base64'), subType));
  add(Binary, 'fromText', (text: string) => new Binary(Buffer.from(text, 'utf8')));
  bson = loaded;
  return loaded;
}

/** The `BSON` global: the constructors App Services lists, and the rest of the bson package. */
export function bsonGlobal(): object {
  const b = loadBson();
  // App Services code calls BSON.ObjectId(id) with and without new.
  const ObjectId = new Proxy(b.ObjectId, { apply: (target, _this, args: ConstructorParameters<typeof b.ObjectId>) => new target(...args) });
  return Object.freeze({
    ...b.BSON,
    ObjectId,
    ObjectID: ObjectId,
    BSONRegExp: b.BSONRegExp,
    Binary: b.Binary,
    MaxKey: b.MaxKey,
    MinKey: b.MinKey,
    Int32: b.Int32,
    Long: b.Long,
    Double: b.Double,
    Decimal128: b.Decimal128,
    Timestamp: b.Timestamp,
    UUID: b.UUID,
    Code: b.Code,
    DBRef: b.DBRef,
  });
}

export function ejsonGlobal(): object {
  return loadBson().EJSON;
}

const unavailable = (what: string) => () => {
  throw new Error(`${what} is not available in fn's runtime`);
};

function toBuffer(input: unknown, what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const b = loadBson();
  if (input instanceof b.Binary) return Buffer.from(input.buffer.buffer, input.buffer.byteOffset, input.position);
  throw new TypeError(`${what}: expected a string or binary data, got ${input === null ? 'null' : typeof input}`);
}

const HASHES = new Set(['sha1', 'sha256', 'md5']);
const HMACS = new Set(['sha1', 'sha256', 'sha512']);
const JWT_ALGS: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function jwtEncode(signingMethod: string, payload: unknown, secret: string, customHeaderFields: Record<string, unknown> = {}): string {
  const alg = JWT_ALGS[signingMethod];
  if (!alg)
    throw new Error(
      `utils.jwt.encode: signing method ${JSON.stringify(signingMethod)} is not available in fn's runtime (HS256, HS384, HS512 are)`,
    );
  const head = base64url(JSON.stringify({ ...customHeaderFields, alg: signingMethod, typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  return `${head}.${body}.${base64url(createHmac(alg, secret).update(`${head}.${body}`).digest())}`;
}

function jwtDecode(jwt: string, key: string, returnHeader = false, acceptedSigningMethods?: string[]): unknown {
  const parts = typeof jwt === 'string' ? jwt.split('.') : [];
  if (parts.length !== 3) throw new Error('utils.jwt.decode: not a JWT');
  const [head, body, signature] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new Error('utils.jwt.decode: not a JWT');
  }
  const method = header.alg ?? '';
  if (acceptedSigningMethods && !acceptedSigningMethods.includes(method))
    throw new Error(`utils.jwt.decode: signing method ${method} is not accepted`);
  const alg = JWT_ALGS[method];
  if (!alg)
    throw new Error(
      `utils.jwt.decode: signing method ${JSON.stringify(method)} is not available in fn's runtime (HS256, HS384, HS512 are)`,
    );
  const expected = createHmac(alg, key).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('utils.jwt.decode: signature is invalid');
  return returnHeader ? { header, payload } : payload;
}

/** The `utils` global. */
export function utilsGlobal(): object {
  return Object.freeze({
    crypto: Object.freeze({
      hash: (method: string, input: unknown) => {
        if (!HASHES.has(method))
          throw new Error(`utils.crypto.hash: hash function must be one of sha1, sha256, md5, not ${JSON.stringify(method)}`);
        return new (loadBson().Binary)(createHash(method).update(toBuffer(input, 'utils.crypto.hash')).digest());
      },
      hmac: (input: unknown, secret: string, hashFunction: string, outputFormat: string) => {
        if (!HMACS.has(hashFunction))
          throw new Error(`utils.crypto.hmac: hash function must be one of sha1, sha256, sha512, not ${JSON.stringify(hashFunction)}`);
        if (outputFormat !== 'hex' && outputFormat !== 'base64')
          throw new Error(`utils.crypto.hmac: output format must be hex or base64, not ${JSON.stringify(outputFormat)}`);
        return createHmac(hashFunction, secret).update(toBuffer(input, 'utils.crypto.hmac')).digest(outputFormat);
      },
      encrypt: unavailable('utils.crypto.encrypt'),
      decrypt: unavailable('utils.crypto.decrypt'),
      sign: unavailable('utils.crypto.sign'),
      verify: unavailable('utils.crypto.verify'),
    }),
    jwt: Object.freeze({ encode: jwtEncode, decode: jwtDecode }),
  });
}

interface HttpOptions {
  url?: string;
  scheme?: string;
  host?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  fragment?: string;
  username?: string;
  password?: string;
  headers?: Record<string, string | string[]>;
  body?: unknown;
  form?: Record<string, string | string[]>;
  encodeBodyAsJSON?: boolean;
  followRedirects?: boolean;
  /** Answer the server's HTTP Digest challenge with username and password (else Basic). */
  digestAuth?: boolean;
}

function urlOf(options: HttpOptions): string {
  if (options.url) return options.url;
  if (!options.host) throw new Error('context.http: give url, or scheme, host and path');
  const url = new URL(`${options.scheme ?? 'https'}://${options.host}`);
  url.pathname = options.path ?? '/';
  for (const [name, values] of Object.entries(options.query ?? {}))
    for (const value of ([] as string[]).concat(values)) url.searchParams.append(name, value);
  if (options.fragment) url.hash = options.fragment;
  return url.toString();
}

/**
 * The URL without credentials (fetch refuses a URL that carries them), and the credentials to
 * send: username and password given as options, else those written into the URL.
 */
function splitCredentials(raw: string, options: HttpOptions): { url: string; user?: string; password?: string } {
  const url = new URL(raw);
  const user = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  return { url: url.toString(), ...(user !== undefined || password !== undefined ? { user: user ?? '', password: password ?? '' } : {}) };
}

/** The Authorization header answering an HTTP Digest challenge (RFC 7616: MD5, SHA-256, their -sess forms; qop auth or none). */
export function digestAuthorization(
  challenge: string,
  method: string,
  url: string,
  user: string,
  password: string,
  cnonce = randomBytes(8).toString('hex'),
): string | undefined {
  if (!/^\s*digest\s/i.test(challenge)) return undefined;
  const params: Record<string, string> = {};
  for (const m of challenge.replace(/^\s*digest\s+/i, '').matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/gi))
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : algorithm.startsWith('MD5') ? 'md5' : undefined;
  if (!hashName || params.nonce === undefined) return undefined;
  const h = (text: string) => createHash(hashName).update(text).digest('hex');
  const qop = params.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const nc = '00000001';
  const target = new URL(url);
  const uri = target.pathname + target.search;
  let ha1 = h(`${user}:${params.realm ?? ''}:${password}`);
  if (algorithm.endsWith('-SESS')) ha1 = h(`${ha1}:${params.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const response = qop ? h(`${ha1}:${params.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${params.nonce}:${ha2}`);
  const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const fields = [
    `username=${quote(user)}`,
    `realm=${quote(params.realm ?? '')}`,
    `nonce=${quote(params.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${params.algorithm ?? 'MD5'}`,
    `response=${quote(response)}`,
  ];
  if (params.opaque !== undefined) fields.push(`opaque=${quote(params.opaque)}`);
  if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${fields.join(', ')}`;
}

/** context.http: the App Services HTTP client, over fetch. The body of an answer is a BSON.Binary. */
export function httpClient(): object {
  const send =
    (method: string) =>
    async (options: HttpOptions = {}) => {
      const headers = new Headers();
      for (const [name, values] of Object.entries(options.headers ?? {}))
        for (const value of ([] as string[]).concat(values)) headers.append(name, value);
      let body: string | Uint8Array | URLSearchParams | undefined;
      if (options.form) {
        body = new URLSearchParams();
        for (const [name, values] of Object.entries(options.form))
          for (const value of ([] as string[]).concat(values)) body.append(name, value);
      } else if (options.body !== undefined && options.body !== null) {
        if (options.encodeBodyAsJSON) {
          body = loadBson().EJSON.stringify(options.body, { relaxed: true });
          if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        } else
          body = typeof options.body === 'string' ? options.body : toBuffer(options.body, `context.http.${method.toLowerCase()}: body`);
      }
      const { url, user, password } = splitCredentials(urlOf(options), options);
      if (user !== undefined && !options.digestAuth && !headers.has('authorization'))
        headers.set('authorization', `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`);
      const init = { method, headers, body, redirect: options.followRedirects ? ('follow' as const) : ('manual' as const) };
      let response = await fetch(url, init);
      if (options.digestAuth && user !== undefined && response.status === 401) {
        const answer = digestAuthorization(response.headers.get('www-authenticate') ?? '', method, url, user, password ?? '');
        if (answer) {
          await response.body?.cancel();
          headers.set('authorization', answer);
          response = await fetch(url, init);
        }
      }
      const answerHeaders: Record<string, string[]> = {};
      response.headers.forEach((value, name) => {
        (answerHeaders[name] ??= []).push(value);
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        status: `${response.status} ${response.statusText}`.trim(),
        statusCode: response.status,
        contentLength: bytes.byteLength,
        headers: answerHeaders,
        cookies: {},
        body: new (loadBson().Binary)(bytes),
      };
    };
  return Object.freeze({
    get: send('GET'),
    post: send('POST'),
    put: send('PUT'),
    patch: send('PATCH'),
    delete: send('DELETE'),
    head: send('HEAD'),
  });
}
