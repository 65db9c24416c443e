// The call log of a served app (fn dev, fn serve), from the client side: GET .../logs, service key.
import { FnError } from '../errors.js';
import { errorOf, request, type Remote } from './client.js';

/** One call as the logs route returns it (server/logs.ts CallLogEntry). */
export interface RemoteCallEntry {
  id: number;
  time: string;
  appId: string;
  function: string;
  via: 'client' | 'admin' | 'trigger';
  /** The trigger that ran it, when via is trigger. */
  trigger?: string;
  user: string;
  runAs: { system: true } | { userId: string };
  status: number;
  durationMs: number;
  arguments?: unknown[];
  logs: { level: string; message: string }[];
  error?: { code: string; message: string };
}

/** The newest calls (up to `limit`), oldest first. */
export async function fetchCallLog(
  remote: Remote,
  serviceKey: string,
  filter: { function?: string; limit: number },
  options: { timeoutMs?: number; signal?: AbortSignal },
): Promise<RemoteCallEntry[]> {
  const query = new URLSearchParams({
    limit: String(filter.limit),
    ...(filter.function !== undefined ? { function: filter.function } : {}),
  });
  const reply = await request(remote, 'GET', `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/logs?${query}`, {
    token: serviceKey,
    ...options,
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
  const logs = (reply.data as { logs?: unknown } | undefined)?.logs;
  if (reply.status !== 200 || !Array.isArray(logs))
    throw new FnError('REMOTE_ERROR', `reading the logs: ${reply.status} ${e.message}`, {
      hint: 'the logs route is served by fn dev and fn serve',
    });
  return (logs as RemoteCallEntry[]).slice().reverse();
}
