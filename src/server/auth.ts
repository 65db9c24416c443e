// Who is calling: anonymous, a user (an HS256 JWT signed with the server's secret) or the service
// role (the service key). Tokens and keys are compared in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { anonymousUser, freezeUser, systemUser, type FnUser } from '../runtime/types.js';

export interface Caller {
  kind: 'anonymous' | 'user' | 'service';
  user: FnUser;
}

export interface TokenClaims {
  sub: string;
  type?: 'normal' | 'server';
  data?: Record<string, unknown>;
  custom_data?: Record<string, unknown>;
  iat: number;
  exp: number;
  /** Client API (realm-web) access tokens: the app that issued it, its session, its identities. */
  app?: string;
  sid?: string;
  typ?: string;
  identities?: FnUser['identities'];
  /** The custom user data as realm-web reads it (`user.customData`). */
  user_data?: Record<string, unknown>;
  baas_device_id?: string;
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** How long a token minted by fn lives unless asked otherwise (seconds): one day. */
export const TOKEN_TTL_SECONDS = 24 * 3600;
/** The longest life a token may be asked for (seconds): 30 days. */
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** Every token fn mints carries `exp`; one without it is refused (verifyToken). */
export function signToken(
  secret: string,
  claims: Omit<TokenClaims, 'iat' | 'exp'>,
  ttlSeconds = TOKEN_TTL_SECONDS,
): { token: string; expiresAt: number } {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ttlSeconds;
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ ...claims, iat, exp }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return { token: `${head}.${body}.${sig}`, expiresAt: exp };
}

export function verifyToken(secret: string, token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [head, body, sig] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
    if (header.alg !== 'HS256') return undefined;
    const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    if (typeof claims.sub !== 'string' || claims.sub === '') return undefined;
    // A token without an expiry would be good forever: refused.
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) || claims.exp < Date.now() / 1000) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type AuthResult =
  | {
      ok: true;
      caller: Caller;
      expiresAt?: number;
      /** A client API token: the app it was issued by and its session. */
      appId?: string;
      sessionId?: string;
    }
  | { ok: false; message: string };

const ANONYMOUS: AuthResult = Object.freeze({ ok: true, caller: Object.freeze({ kind: 'anonymous', user: anonymousUser() }) } as const);
const SERVICE: AuthResult = Object.freeze({ ok: true, caller: Object.freeze({ kind: 'service', user: systemUser() }) } as const);

export function authenticate(header: string | undefined, keys: { serviceKey: string; jwtSecret: string }): AuthResult {
  if (header === undefined || header === '') return ANONYMOUS;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, message: 'the Authorization header must be "Bearer <token>"' };
  const token = match[1]!;
  if (sameSecret(token, keys.serviceKey)) return SERVICE;
  const claims = verifyToken(keys.jwtSecret, token);
  if (!claims)
    return { ok: false, message: 'the token is not valid here (wrong signature, expired, without an expiry, or from another server)' };
  const user = freezeUser({
    id: claims.sub,
    type: claims.type === 'server' ? 'server' : 'normal',
    data: claims.data ?? {},
    custom_data: claims.custom_data ?? claims.user_data ?? {},
    identities: Array.isArray(claims.identities)
      ? claims.identities.map((i) => ({ ...i }))
      : [{ id: claims.sub, provider_type: 'local-token' }],
  });
  return {
    ok: true,
    caller: Object.freeze({ kind: 'user', user }),
    expiresAt: claims.exp,
    ...(typeof claims.app === 'string' ? { appId: claims.app } : {}),
    ...(typeof claims.sid === 'string' ? { sessionId: claims.sid } : {}),
  };
}

/** How many verified user tokens an authenticator remembers. */
const KNOWN_TOKENS = 1024;

/**
 * authenticate() for a server: the caller of a user token verified before comes from memory (no
 * signature check, no new user object per call), while its expiry is still checked on every
 * call. The service key is compared every time, in constant time.
 */
export function authenticator(keys: { serviceKey: string; jwtSecret: string }): (header: string | undefined) => AuthResult {
  const known = new Map<string, AuthResult & { ok: true }>();
  return (header) => {
    if (header === undefined || header === '') return ANONYMOUS;
    const seen = known.get(header);
    if (seen) {
      if (seen.expiresAt !== undefined && seen.expiresAt >= Date.now() / 1000) return seen;
      known.delete(header);
    }
    const result = authenticate(header, keys);
    if (result.ok && result.caller.kind === 'user') {
      if (known.size >= KNOWN_TOKENS) known.delete(known.keys().next().value!);
      known.set(header, result);
    }
    return result;
  };
}
