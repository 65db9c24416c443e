// Password hashes: scrypt (node:crypto), memory-hard. N = 2^15, r = 8, p = 1 takes 32 MiB and
// about 50-100 ms of one core per hash (OWASP's minimum for scrypt is N = 2^17 with r = 8, p = 1,
// or an equivalent cost; 2^15 is RFC 7914's interactive-login figure and keeps a 2-core host
// answering logins while it is being guessed at: logins are rate-limited besides). The stored
// form names its parameters, so they can be raised later and old hashes still check:
//   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
// Tokens (refresh tokens, API keys, confirmation tokens) are random strings of 32 bytes: SHA-256
// is enough for them, and lets a token be found by its hash.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT = { log2N: 15, r: 8, p: 1, keyLength: 32, saltBytes: 16 } as const;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

const optionsOf = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  // 128 * N * r bytes, plus room.
  maxmem: 256 * 2 ** log2N * r,
});

export async function hashPassword(password: string, params: { log2N: number; r: number; p: number } = SCRYPT): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = await scryptAsync(password.normalize('NFC'), salt, SCRYPT.keyLength, optionsOf(params.log2N, params.r, params.p));
  return `scrypt$${params.log2N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of a random password: what a login for an unknown account is checked against. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored`, compared in constant time. With no stored hash (an
 * unknown account) the same work is done against a decoy, so the answer takes as long.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const against = stored ?? (await (decoy ??= hashPassword(randomBytes(16).toString('hex'))));
  const parts = against.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 22) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scryptAsync(password.normalize('NFC'), salt, expected.length, optionsOf(log2N, r, p));
  return timingSafeEqual(key, expected) && stored !== undefined;
}

/** A new random token: 32 bytes, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** The hash a token is stored (and looked up) by. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Two token hashes compared in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
