// fn login: binds a service key to one server's URL in the user's credentials file (0600), so that
// push, pull, deployments and logs send it there, and only there, even when the URL comes from a
// repository's fn.config.json.
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { bindServiceKey } from '../project/credentials.js';
import type { Ui } from '../ui/ui.js';

export interface LoginOptions {
  url?: string;
  serviceKey?: string;
  remove?: boolean;
}

export interface LoginResult {
  ok: boolean;
  url: string;
  /** The credentials file. */
  file: string;
  removed: boolean;
  bound: boolean;
}

export function runLogin(ctx: Context, options: LoginOptions): LoginResult {
  if (!options.url)
    throw new FnError('USAGE', 'fn login needs the server: --url <url>', {
      hint: 'e.g. fn login --url https://fn.example.com --service-key <key>',
    });
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new FnError('USAGE', `${JSON.stringify(options.url)} is not an http(s) URL`, { hint: 'e.g. --url http://127.0.0.1:8787' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new FnError('USAGE', `${JSON.stringify(options.url)} is not an http(s) URL`, { hint: 'e.g. --url http://127.0.0.1:8787' });
  if (parsed.username || parsed.password)
    throw new FnError('USAGE', 'the URL holds credentials', {
      hint: 'remove them from the URL; pass the key with --service-key or FN_SERVICE_KEY',
    });
  if (options.remove) {
    const out = bindServiceKey(ctx.env, options.url, undefined);
    return { ok: true, url: out.url, file: out.path, removed: out.removed, bound: false };
  }
  const key = options.serviceKey || ctx.env.FN_SERVICE_KEY;
  if (!key)
    throw new FnError('USAGE', 'fn login needs the key: --service-key <key> or FN_SERVICE_KEY', {
      hint: 'fn serve prints the key it made, and keeps it in <data-dir>/keys.json',
    });
  const out = bindServiceKey(ctx.env, options.url, key);
  return { ok: true, url: out.url, file: out.path, removed: false, bound: true };
}

export function renderLogin(result: LoginResult, ui: Ui): void {
  const c = ui.c;
  if (result.bound) ui.out(`${c.green('✔')} the service key for ${result.url} is kept in ${result.file}; it goes to that server only`);
  else if (result.removed) ui.out(`${c.green('✔')} removed the service key for ${result.url} from ${result.file}`);
  else ui.out(`no service key was kept for ${result.url}`);
}
