// fn users: the client API's users of an app on fn dev or fn serve (the admin users routes, with
// the service key): list, create an email/password user or a server API key, disable (its
// sessions end at once), enable, delete.
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { findAppRoot } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { missingKeyError, resolveRemoteSettings } from '../project/remote-settings.js';
import { errorOf, request, type Remote } from '../remote/client.js';
import type { Ui } from '../ui/ui.js';

export type UsersAction = 'list' | 'create' | 'disable' | 'enable' | 'delete';

export interface UsersOptions {
  action: UsersAction;
  /** The user id (disable, enable, delete). */
  id?: string;
  email?: string;
  password?: string;
  /** create: a server API key of this name instead of an email/password user. */
  apiKey?: string;
  url?: string;
  appId?: string;
  remote?: string;
  serviceKey?: string;
  timeout?: number;
}

export interface ShownUser {
  id: string;
  type: string;
  disabled: boolean;
  createdAt: string;
  lastLoginAt?: string;
  data: Record<string, unknown>;
  identities: { id: string; provider_type: string }[];
}

export type UsersResult =
  | { ok: true; action: 'list'; url: string; appId: string; users: ShownUser[] }
  | { ok: true; action: 'create'; appId: string; user: ShownUser; apiKey?: { id: string; name: string; key: string } }
  | { ok: true; action: 'disable' | 'enable'; appId: string; user: ShownUser; sessionsEnded: number }
  | { ok: true; action: 'delete'; appId: string; deleted: string };

export async function runUsers(ctx: Context, options: UsersOptions): Promise<UsersResult> {
  const { action } = options;
  if ((action === 'disable' || action === 'enable' || action === 'delete') && !options.id)
    throw new FnError('USAGE', `fn users ${action} needs the user's id`, { hint: 'fn users list shows the ids' });
  if (action === 'create' && !options.apiKey && !(options.email && options.password !== undefined))
    throw new FnError('USAGE', 'fn users create needs --email and --password (or FN_USER_PASSWORD), or --api-key <name>', {
      hint: "fn users create --email ann@example.com --password 'at least 6 characters'",
    });
  if (action === 'create' && options.apiKey && options.email)
    throw new FnError('USAGE', '--api-key creates a server key of its own: give it without --email');

  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const settings = resolveRemoteSettings(
    { url: options.url, appId: options.appId, remote: options.remote, serviceKey: options.serviceKey },
    ctx.env,
    project,
  );
  if (!settings.appId)
    throw new FnError('USAGE', 'no app id: there is no app here to take it from', {
      hint: 'run inside an app, or pass --app-id <id> (or FN_APP_ID)',
    });
  if (!settings.serviceKey) throw missingKeyError(settings, 'managing users needs the service key');
  const remote: Remote = { url: settings.url, appId: settings.appId, isDefaultLocal: settings.isDefaultLocal };
  const base = `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/users`;
  const send = async (method: string, path: string, body?: unknown) => {
    const reply = await request(remote, method, `${base}${path}`, {
      token: settings.serviceKey,
      timeoutMs: options.timeout,
      signal: ctx.signal,
      ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
    });
    if (reply.status === 401 || reply.status === 403)
      throw new FnError('REMOTE_AUTH', `the server refused the service key (${reply.status})`, {
        hint: 'pass the key fn dev or fn serve printed: --service-key <key> or FN_SERVICE_KEY',
      });
    const e = errorOf(reply);
    if (reply.status === 404 && e.code === 'APP_NOT_FOUND')
      throw new FnError('NOT_FOUND', `there is no app "${remote.appId}" at ${remote.url}`, {
        hint: 'pass --app-id, or --url for the server that serves it',
      });
    if (reply.status === 404 && e.code === 'USER_NOT_FOUND')
      throw new FnError('NOT_FOUND', e.message, { hint: 'fn users list shows the ids' });
    if (reply.status === 404 && e.code === 'NOT_FOUND')
      throw new FnError('REMOTE_ERROR', `${remote.url} has no users routes`, {
        hint: 'users are served by fn dev and fn serve of this version',
      });
    if (reply.status === 409) throw new FnError('ALREADY_EXISTS', e.message);
    if (reply.status === 400) throw new FnError('CHECK_FAILED', e.message);
    if (reply.status >= 300) throw new FnError('REMOTE_ERROR', `${reply.status} ${e.message}`);
    return reply.data as Record<string, unknown>;
  };
  switch (action) {
    case 'list': {
      const data = await send('GET', '');
      return { ok: true, action, url: remote.url, appId: remote.appId, users: (data.users as ShownUser[]) ?? [] };
    }
    case 'create': {
      const data = await send(
        'POST',
        '',
        options.apiKey ? { apiKey: options.apiKey } : { email: options.email, password: options.password },
      );
      return {
        ok: true,
        action,
        appId: remote.appId,
        user: data.user as ShownUser,
        ...(data.apiKey ? { apiKey: data.apiKey as { id: string; name: string; key: string } } : {}),
      };
    }
    case 'disable':
    case 'enable': {
      const data = await send('PUT', `/${encodeURIComponent(options.id!)}/${action}`);
      return { ok: true, action, appId: remote.appId, user: data.user as ShownUser, sessionsEnded: Number(data.sessionsEnded ?? 0) };
    }
    case 'delete': {
      await send('DELETE', `/${encodeURIComponent(options.id!)}`);
      return { ok: true, action, appId: remote.appId, deleted: options.id! };
    }
  }
}

const providersOf = (u: ShownUser) => [...new Set(u.identities.map((i) => i.provider_type))].join(',') || '-';
const nameOf = (u: ShownUser) => String(u.data.email ?? u.data.name ?? '');

export function renderUsers(result: UsersResult, ui: Ui): void {
  const { c } = ui;
  switch (result.action) {
    case 'list': {
      if (!result.users.length) return ui.out(`no users yet in ${result.appId} at ${result.url}`);
      const row = (id: string, type: string, providers: string, state: string, name: string) =>
        `${id.padEnd(24)}  ${type.padEnd(6)}  ${providers.padEnd(16)}  ${state.padEnd(8)}  ${name}`;
      ui.out(c.dim(row('ID', 'TYPE', 'PROVIDERS', 'STATE', 'EMAIL / NAME')));
      for (const u of result.users) ui.out(row(u.id, u.type, providersOf(u), u.disabled ? 'disabled' : 'enabled', nameOf(u)));
      return;
    }
    case 'create':
      ui.out(`${c.green('✔')} created user ${c.cyan(result.user.id)}${nameOf(result.user) ? ` (${nameOf(result.user)})` : ''}`);
      if (result.apiKey) {
        ui.out(`  API key ${result.apiKey.name}: ${result.apiKey.key}`);
        ui.err(c.dim('the key is shown once: keep it now (log in with Realm.Credentials.apiKey(key))'));
      }
      return;
    case 'disable':
    case 'enable':
      ui.out(
        `${c.green('✔')} ${result.action}d user ${c.cyan(result.user.id)}` +
          (result.action === 'disable' ? ` (${result.sessionsEnded} session${result.sessionsEnded === 1 ? '' : 's'} ended)` : ''),
      );
      return;
    case 'delete':
      ui.out(`${c.green('✔')} deleted user ${c.cyan(result.deleted)}`);
  }
}
