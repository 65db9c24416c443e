// The secrets admin routes of fn serve, from the client side (fn secrets --remote). A value goes
// out in one PUT body and never comes back: lists carry names and update times only.
import { FnError } from '../errors.js';
import { errorOf, request, type HttpReply, type Remote } from './client.js';

export interface RemoteSecret {
  name: string;
  updatedAt: string;
}

export interface SecretsClient {
  list(): Promise<RemoteSecret[]>;
  set(name: string, value: string): Promise<{ created: boolean; updatedAt: string }>;
  /** false when the app has no secret of that name. */
  unset(name: string): Promise<boolean>;
}

export function secretsClient(remote: Remote, serviceKey: string, timeoutMs: number | undefined, signal: AbortSignal): SecretsClient {
  const opts = { token: serviceKey, timeoutMs, signal };
  const path = (name?: string) =>
    `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  const check = (reply: HttpReply, what: string, ok: number[]) => {
    if (reply.status === 401 || reply.status === 403)
      throw new FnError('REMOTE_AUTH', `the server refused the service key (${reply.status})`, {
        hint: 'pass the key fn serve printed: --service-key <key> or FN_SERVICE_KEY',
      });
    if (reply.status === 404 && errorOf(reply).code === 'NOT_FOUND')
      throw new FnError('REMOTE_ERROR', `${what}: the server has no secrets routes`, {
        hint: 'fn secrets --remote talks to fn serve; for fn dev, leave out --remote (secrets are kept in .fn/secrets.json)',
      });
    if (reply.status === 400) throw new FnError('USAGE', `${what}: ${errorOf(reply).message}`);
    if (!ok.includes(reply.status)) throw new FnError('REMOTE_ERROR', `${what}: ${reply.status} ${errorOf(reply).message}`);
  };
  return {
    async list() {
      const reply = await request(remote, 'GET', path(), opts);
      check(reply, 'listing the secrets', [200]);
      return ((reply.data as { secrets?: RemoteSecret[] }).secrets ?? []).map((s) => ({
        name: String(s.name),
        updatedAt: String(s.updatedAt),
      }));
    },
    async set(name, value) {
      const reply = await request(remote, 'PUT', path(name), { ...opts, body: JSON.stringify({ value }), contentType: 'application/json' });
      check(reply, `setting secret "${name}"`, [200]);
      const d = reply.data as { created?: boolean; updatedAt?: string };
      return { created: d.created === true, updatedAt: String(d.updatedAt ?? '') };
    },
    async unset(name) {
      const reply = await request(remote, 'DELETE', path(name), opts);
      if (reply.status === 404 && errorOf(reply).code === 'SECRET_NOT_FOUND') return false;
      check(reply, `removing secret "${name}"`, [200]);
      return true;
    },
  };
}
