// Where a command talks to: flags, then FN_* environment variables, then fn.config.json (a named
// remote; default "local"), then the local default. Secrets come only from flags and the
// environment, never from fn.config.json.
import { FnError } from '../errors.js';
import type { Project } from './load-project.js';

export const DEFAULT_URL = 'http://127.0.0.1:8787';
export const DEFAULT_REMOTE = 'local';

export interface RemoteFlags {
  url?: string;
  appId?: string;
  remote?: string;
  token?: string;
  serviceKey?: string;
}

export interface RemoteSettings {
  url: string;
  appId: string | undefined;
  /** Where the URL came from, for messages. */
  urlSource: string;
  isDefaultLocal: boolean;
  token: string | undefined;
  serviceKey: string | undefined;
}

export function resolveRemoteSettings(flags: RemoteFlags, env: NodeJS.ProcessEnv, project: Project | undefined): RemoteSettings {
  const remotes = project?.config.remotes ?? {};
  if (flags.remote !== undefined && flags.remote !== DEFAULT_REMOTE && !Object.hasOwn(remotes, flags.remote)) {
    const names = Object.keys(remotes);
    throw new FnError('USAGE', `there is no remote "${flags.remote}" in fn.config.json`, { hint: names.length ? `its remotes: ${names.join(', ')}` : 'add one: "remotes": { "staging": { "url": "http://..." } }' });
  }
  const named = remotes[flags.remote ?? DEFAULT_REMOTE];
  let url: string;
  let urlSource: string;
  if (flags.url) [url, urlSource] = [flags.url, '--url'];
  else if (env.FN_URL) [url, urlSource] = [env.FN_URL, 'FN_URL'];
  else if (named) [url, urlSource] = [named.url, `remote "${flags.remote ?? DEFAULT_REMOTE}" of fn.config.json`];
  else [url, urlSource] = [DEFAULT_URL, 'the default'];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FnError('USAGE', `${JSON.stringify(url)} (from ${urlSource}) is not an http(s) URL`, { hint: 'e.g. --url http://127.0.0.1:8787' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new FnError('USAGE', `${JSON.stringify(url)} (from ${urlSource}) is not an http(s) URL`, { hint: 'e.g. --url http://127.0.0.1:8787' });
  // Never echo a password back; tokens go in --token or the environment, not in the URL.
  if (parsed.username || parsed.password) throw new FnError('USAGE', `the URL from ${urlSource} holds credentials`, { hint: 'remove them from the URL; pass --token or --service-key (or FN_TOKEN, FN_SERVICE_KEY)' });
  const appId = flags.appId || env.FN_APP_ID || named?.appId || project?.appId;
  return {
    url: url.replace(/\/+$/, ''),
    appId,
    urlSource,
    isDefaultLocal: !flags.url && !env.FN_URL && (flags.remote ?? DEFAULT_REMOTE) === DEFAULT_REMOTE,
    token: flags.token || env.FN_TOKEN || undefined,
    serviceKey: flags.serviceKey || env.FN_SERVICE_KEY || undefined,
  };
}
