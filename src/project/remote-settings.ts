// Where a command talks to: flags, then FN_* environment variables, then the remote named by
// --remote, then the running fn dev of this app (.fn/dev.json), then the "local" remote of
// fn.config.json, then the local default. Secrets come only from flags, the environment, the
// user's credentials file and the fn dev record, never from fn.config.json.
//
// A service key goes only where it was given for:
// - --service-key: to the server of this command;
// - FN_SERVICE_KEY: to a URL the user named (--url, FN_URL) or the local default, never to one
//   that only the repository names (fn.config.json, .fn/dev.json);
// - a key bound with `fn login --url <url>`: to that URL only, whatever names it;
// - the running fn dev's key: to the URL recorded with it.
import { boundServiceKey } from './credentials.js';
import { FnError } from '../errors.js';
import { readDevServer, type DevServerRecord } from './dev-server.js';
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
  /** Where the service key came from, for messages: --service-key, FN_SERVICE_KEY, fn login or fn dev. */
  serviceKeySource?: string;
  /** Set when FN_SERVICE_KEY was not sent because only the repository names the URL. */
  serviceKeyWithheld?: string;
}

/** `dev`: the running fn dev of the project (read from its .fn/dev.json unless given). */
export function resolveRemoteSettings(
  flags: RemoteFlags,
  env: NodeJS.ProcessEnv,
  project: Project | undefined,
  dev: DevServerRecord | undefined = project?.root ? readDevServer(project.root) : undefined,
): RemoteSettings {
  const remotes = project?.config.remotes ?? {};
  if (flags.remote !== undefined && flags.remote !== DEFAULT_REMOTE && !Object.hasOwn(remotes, flags.remote)) {
    const names = Object.keys(remotes);
    throw new FnError('USAGE', `there is no remote "${flags.remote}" in fn.config.json`, {
      hint: names.length ? `its remotes: ${names.join(', ')}` : 'add one: "remotes": { "staging": { "url": "http://..." } }',
    });
  }
  const named = remotes[flags.remote ?? DEFAULT_REMOTE];
  let url: string;
  let urlSource: string;
  let fromDev = false;
  if (flags.url) [url, urlSource] = [flags.url, '--url'];
  else if (env.FN_URL) [url, urlSource] = [env.FN_URL, 'FN_URL'];
  else if (named && flags.remote !== undefined) [url, urlSource] = [named.url, `remote "${flags.remote}" of fn.config.json`];
  else if (dev) [url, urlSource, fromDev] = [dev.url, 'the running fn dev (.fn/dev.json)', true];
  else if (named) [url, urlSource] = [named.url, `remote "${flags.remote ?? DEFAULT_REMOTE}" of fn.config.json`];
  else [url, urlSource] = [DEFAULT_URL, 'the default'];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FnError('USAGE', `${JSON.stringify(url)} (from ${urlSource}) is not an http(s) URL`, {
      hint: 'e.g. --url http://127.0.0.1:8787',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new FnError('USAGE', `${JSON.stringify(url)} (from ${urlSource}) is not an http(s) URL`, {
      hint: 'e.g. --url http://127.0.0.1:8787',
    });
  // Never echo a password back; tokens go in --token or the environment, not in the URL.
  if (parsed.username || parsed.password)
    throw new FnError('USAGE', `the URL from ${urlSource} holds credentials`, {
      hint: 'remove them from the URL; pass --token or --service-key (or FN_TOKEN, FN_SERVICE_KEY)',
    });
  const appId = flags.appId || env.FN_APP_ID || (fromDev ? dev?.appId : named?.appId) || project?.appId;
  const base = url.replace(/\/+$/, '');
  // The fn dev key only ever goes to the fn dev it came from, whatever named the URL.
  const userNamed = urlSource === '--url' || urlSource === 'FN_URL' || urlSource === 'the default';
  const bound = flags.serviceKey || (env.FN_SERVICE_KEY && userNamed) ? undefined : boundServiceKey(env, base);
  const [serviceKey, serviceKeySource] = flags.serviceKey
    ? [flags.serviceKey, '--service-key']
    : env.FN_SERVICE_KEY && userNamed
      ? [env.FN_SERVICE_KEY, 'FN_SERVICE_KEY']
      : bound
        ? [bound, 'fn login']
        : dev && sameUrl(base, dev.url)
          ? [dev.serviceKey, 'fn dev']
          : [undefined, undefined];
  const withheld = !serviceKey && env.FN_SERVICE_KEY ? urlSource : undefined;
  return {
    url: base,
    appId,
    urlSource,
    isDefaultLocal: !flags.url && !env.FN_URL && (flags.remote ?? DEFAULT_REMOTE) === DEFAULT_REMOTE,
    token: flags.token || env.FN_TOKEN || undefined,
    serviceKey,
    ...(serviceKeySource ? { serviceKeySource } : {}),
    ...(withheld ? { serviceKeyWithheld: withheld } : {}),
  };
}

/** What to say when a command needs the service key and has none for this URL. */
export function missingKeyError(settings: RemoteSettings, what = 'deployments need the service key'): FnError {
  if (settings.serviceKeyWithheld)
    return new FnError('USAGE', `${what}: FN_SERVICE_KEY is not sent to ${settings.url}, which only ${settings.serviceKeyWithheld} names`, {
      hint: `bind the key to that server once: fn login --url ${settings.url} (reads FN_SERVICE_KEY or --service-key), or name it yourself: --url ${settings.url}`,
    });
  return new FnError('USAGE', what, {
    hint: `pass --service-key <key>, set FN_SERVICE_KEY with --url, or bind a key to the server: fn login --url ${settings.url} (fn serve prints the key it made, and keeps it in <data-dir>/keys.json)`,
  });
}

/** Same scheme, host, port and path (no trailing slash); the host's case does not matter. */
function sameUrl(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '') && x.search === y.search;
  } catch {
    return false;
  }
}
