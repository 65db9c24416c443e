// The custom-token provider's check of a JWT: the signature with one of the configured keys
// (HS256 with a shared secret, RS256 with a PEM public key), `exp` required and not past, `nbf`
// and `iat` not in the future, the audience when one is configured, and the metadata fields
// (a path into the payload, dots escaped with a backslash) copied into the user's data.
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';

export interface JwtCheck {
  algorithm: 'HS256' | 'RS256';
  keys: string[];
  /** One or more audiences; with requireAnyAudience any one of them is enough, else every one. */
  audience?: string[];
  requireAnyAudience?: boolean;
  metadataFields: { required: boolean; name: string; fieldName?: string }[];
  /** Seconds now (a test clock). */
  now?: number;
}

export type JwtResult = { ok: true; sub: string; data: Record<string, unknown> } | { ok: false; message: string };

/** App Services' bound on a custom JWT's length. */
export const MAX_JWT_CHARS = 1_000_000;
/** Clock skew allowed on exp, nbf and iat (seconds). */
const LEEWAY = 60;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A metadata field's path split on unescaped dots: "a.b\\.c" -> ["a", "b.c"]. */
export function metadataPath(name: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === '\\' && name[i + 1] === '.') {
      current += '.';
      i++;
    } else if (ch === '.') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

export function verifyCustomJwt(token: string, check: JwtCheck): JwtResult {
  if (token.length > MAX_JWT_CHARS) return { ok: false, message: `the token is longer than ${MAX_JWT_CHARS} characters` };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, message: 'the token is not a JWT (three dot-separated parts)' };
  const [head, body, sig] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, message: 'the token is not a JWT: its header or payload is not base64url JSON' };
  }
  if (!isRecord(header) || !isRecord(payload)) return { ok: false, message: 'the token is not a JWT' };
  if (header.alg !== check.algorithm)
    return { ok: false, message: `the token is signed with ${String(header.alg)}, and this provider expects ${check.algorithm}` };
  if (!check.keys.length) return { ok: false, message: 'the custom-token provider has no signing key (secret_config.signingKeys)' };
  const signed = Buffer.from(`${head}.${body}`);
  const signature = Buffer.from(sig, 'base64url');
  const good = check.keys.some((key) => {
    try {
      if (check.algorithm === 'HS256') {
        const expected = createHmac('sha256', key).update(signed).digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      }
      return verify('sha256', signed, createPublicKey(key), signature);
    } catch {
      return false;
    }
  });
  if (!good) return { ok: false, message: 'the token signature is invalid' };
  const now = check.now ?? Date.now() / 1000;
  if (typeof payload.exp !== 'number') return { ok: false, message: 'the token has no "exp" claim' };
  if (payload.exp + LEEWAY < now) return { ok: false, message: 'the token has expired' };
  if (typeof payload.nbf === 'number' && payload.nbf - LEEWAY > now) return { ok: false, message: 'the token is not valid yet (nbf)' };
  if (typeof payload.iat === 'number' && payload.iat - LEEWAY > now)
    return { ok: false, message: 'the token was issued in the future (iat)' };
  if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, message: 'the token has no "sub" claim' };
  if (check.audience?.length) {
    const given =
      typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.filter((a) => typeof a === 'string') : [];
    const ok = check.requireAnyAudience ? check.audience.some((a) => given.includes(a)) : check.audience.every((a) => given.includes(a));
    if (!ok) return { ok: false, message: `the token's audience is not ${check.audience.join(', ')}` };
  }
  const data: Record<string, unknown> = {};
  for (const field of check.metadataFields) {
    let value: unknown = payload;
    for (const key of metadataPath(field.name)) value = isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    if (value === undefined) {
      if (field.required) return { ok: false, message: `the token lacks the required metadata field "${field.name}"` };
      continue;
    }
    if (typeof value === 'string' && value.length > 4096)
      return { ok: false, message: `the metadata field "${field.name}" is longer than 4096 characters` };
    data[field.fieldName ?? metadataPath(field.name).at(-1)!] = value;
  }
  return { ok: true, sub: payload.sub, data };
}
