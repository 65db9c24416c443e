// Service keys bound to the server they were given for, in a file of the user's (0600):
// $FN_CREDENTIALS, else $XDG_CONFIG_HOME/fn/credentials.json, else ~/.config/fn/credentials.json.
// Keyed by the server's URL (origin and path), the way npm scopes tokens to registries: a URL that
// a cloned repository names gets a key only when one was bound to that very URL.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FnError } from '../errors.js';
import { writeFileAtomic } from '../manifest/write.js';

interface CredentialsFile {
  serviceKeys: Record<string, string>;
}

export function credentialsPath(env: NodeJS.ProcessEnv): string {
  if (env.FN_CREDENTIALS) return env.FN_CREDENTIALS;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'fn', 'credentials.json');
}

/** The form a URL is bound under: scheme, host (lower case), port and path without trailing '/'. */
export function credentialKey(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

function read(path: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { serviceKeys: {} };
    throw new FnError(
      'PROJECT_UNREADABLE',
      `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FnError('PROJECT_UNREADABLE', `${path} is not valid JSON`, {
      hint: 'fix it, or remove it and bind the keys again with fn login',
    });
  }
  const keys = (value as { serviceKeys?: unknown } | null)?.serviceKeys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    throw new FnError('PROJECT_UNREADABLE', `${path} does not hold { "serviceKeys": { "<url>": "<key>" } }`, {
      hint: 'fix it, or remove it and bind the keys again with fn login',
    });
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [url, key] of Object.entries(keys)) if (typeof key === 'string' && key) out[url] = key;
  return { serviceKeys: out };
}

/** The service key bound to this URL, if any. */
export function boundServiceKey(env: NodeJS.ProcessEnv, url: string): string | undefined {
  let key: string;
  try {
    key = credentialKey(url);
  } catch {
    return undefined;
  }
  const keys = read(credentialsPath(env)).serviceKeys;
  return Object.hasOwn(keys, key) ? keys[key] : undefined;
}

/** Binds (or with undefined, unbinds) a service key to a URL; the file is written 0600. */
export function bindServiceKey(
  env: NodeJS.ProcessEnv,
  url: string,
  serviceKey: string | undefined,
): { path: string; url: string; removed: boolean } {
  const path = credentialsPath(env);
  const key = credentialKey(url);
  const file = read(path);
  const had = Object.hasOwn(file.serviceKeys, key);
  if (serviceKey === undefined) delete file.serviceKeys[key];
  else file.serviceKeys[key] = serviceKey;
  const sorted = Object.fromEntries(Object.entries(file.serviceKeys).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileAtomic(path, JSON.stringify({ serviceKeys: sorted }, null, 2) + '\n', { mode: 0o600 });
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch {
    // written above; a failure here is not worth failing the command
  }
  return { path, url: key, removed: serviceKey === undefined && had };
}
