// The HTTP client for the runtime server: the Base44 SDK's function call, and the admin routes.
// Requests are built the way @base44/sdk builds them, so a server that serves the SDK serves this.
import { FnError } from '../errors.js';

export interface Remote {
  /** Base URL without a trailing slash. */
  url: string;
  appId: string;
  /** Set when the URL came from the default local remote (for the "is fn dev running?" hint). */
  isDefaultLocal?: boolean;
}

export interface HttpReply {
  status: number;
  statusText: string;
  headers: Headers;
  /** Parsed JSON when the reply is JSON, the text otherwise. */
  data: unknown;
  text: string;
  durationMs: number;
}

export interface FileUpload {
  name: string;
  type: string;
  bytes: Uint8Array;
}

/** The path of a function: each segment escaped, '/' kept between them. */
export function functionPath(appId: string, name: string): string {
  return `/api/apps/${encodeURIComponent(appId)}/functions/${name.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The SDK's request body: JSON of the named parameters (empty with no data); multipart when a
 * value is a file — file parts with their name and type, objects and arrays as JSON strings,
 * anything else as a string.
 */
export function buildBody(
  data: Record<string, unknown> | undefined,
  files: Record<string, FileUpload>,
): { body: string | FormData | undefined; contentType: string | undefined } {
  if (Object.keys(files).length === 0)
    return { body: data === undefined ? undefined : JSON.stringify(data), contentType: 'application/json' };
  const form = new FormData();
  for (const [key, value] of Object.entries(data ?? {})) {
    if (Object.hasOwn(files, key)) continue;
    form.append(key, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  }
  for (const [key, file] of Object.entries(files)) form.append(key, new File([file.bytes], file.name, { type: file.type }), file.name);
  // fetch sets multipart/form-data with its boundary.
  return { body: form, contentType: undefined };
}

/** How long a request may take in all when no --timeout is given: a call's own limit is 60 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** The largest reply read; a larger one is an error, not a process out of memory. */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export async function request(
  remote: Remote,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: string | FormData | Uint8Array;
    contentType?: string;
    timeoutMs?: number;
    signal?: AbortSignal;
    headers?: Record<string, string>;
    maxReplyBytes?: number;
  } = {},
): Promise<HttpReply> {
  const headers: Record<string, string> = { Accept: 'application/json', 'X-App-Id': remote.appId, ...options.headers };
  if (options.contentType) headers['Content-Type'] = options.contentType;
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // A timer of our own, held until the reply is read: AbortSignal.any() holds the signal of
  // AbortSignal.timeout() only weakly, and one collected by the GC never fires (seen under load).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no reply within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const outer = options.signal;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(remote.url + path, { method, headers, body: options.body, signal: controller.signal });
    text = await readReply(remote, response, options.maxReplyBytes ?? MAX_REPLY_BYTES);
  } catch (error) {
    if (error instanceof FnError) throw error;
    throw networkError(remote, error, timeoutMs);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
  const durationMs = performance.now() - started;
  let data: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
    try {
      data = JSON.parse(text) as unknown;
    } catch {
      data = text;
    }
  }
  return { status: response.status, statusText: response.statusText, headers: response.headers, data, text, durationMs };
}

/** The reply's text, refused once it passes `limit` bytes (declared or counted). */
async function readReply(remote: Remote, response: Response, limit: number): Promise<string> {
  const tooLarge = () =>
    new FnError('REMOTE_ERROR', `the reply from ${remote.url} is larger than ${limit} bytes`, {
      hint: 'is --url the fn server you meant?',
    });
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Text from a server, fit for a terminal: control characters (escape sequences included) shown as \u escapes. */
export function cleanText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function networkError(remote: Remote, error: unknown, timeoutMs: number | undefined): FnError {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError')
    return new FnError('REMOTE_UNREACHABLE', `no reply from ${remote.url} within ${timeoutMs} ms`, {
      hint: 'raise --timeout, or check the function for a hang',
    });
  if (e.name === 'AbortError') return new FnError('INTERRUPTED', 'interrupted');
  const code = e.cause?.code ?? e.cause?.message ?? e.message;
  return new FnError('REMOTE_UNREACHABLE', `cannot reach ${remote.url} (${code})`, {
    hint: remote.isDefaultLocal
      ? 'is fn dev running? start it with fn dev in the app folder, or pass --url'
      : 'check --url (or FN_URL, or the remote in fn.config.json)',
    cause: error,
  });
}

/** The error message a server put in its reply, in any of the shapes servers use. */
export function errorOf(reply: HttpReply): { code: string; message: string } {
  const d = reply.data as { error?: unknown; code?: unknown; message?: unknown; error_code?: unknown } | string;
  if (typeof d === 'object' && d !== null) {
    if (typeof d.error === 'object' && d.error !== null) {
      const e = d.error as { code?: unknown; message?: unknown };
      return clean(String(e.code ?? reply.status), String(e.message ?? reply.statusText));
    }
    if (typeof d.error === 'string') return clean(String(d.error_code ?? d.code ?? reply.status), d.error);
    if (typeof d.message === 'string') return clean(String(d.code ?? reply.status), d.message);
  }
  return clean(
    String(reply.status),
    typeof d === 'string' && d.trim() ? d.trim().slice(0, 500) : reply.statusText || `HTTP ${reply.status}`,
  );
}

function clean(code: string, message: string): { code: string; message: string } {
  return { code: cleanText(code.slice(0, 100)), message: cleanText(message.slice(0, 2000)) };
}

/** A user token from the server (the service key is needed), with a type and custom_data when given. */
export async function requestUserToken(
  remote: Remote,
  userId: string,
  serviceKey: string,
  timeoutMs?: number,
  claims: { type?: 'normal' | 'server'; custom_data?: Record<string, unknown> } = {},
): Promise<string> {
  const reply = await request(
    remote,
    'POST',
    `/api/admin/v1/apps/${encodeURIComponent(remote.appId)}/users/${encodeURIComponent(userId)}/token`,
    { token: serviceKey, body: JSON.stringify(claims), contentType: 'application/json', timeoutMs },
  );
  if (reply.status === 401 || reply.status === 403)
    throw new FnError('REMOTE_AUTH', `the server refused the service key (${reply.status})`, {
      hint: 'pass the key fn dev printed: --service-key <key> or FN_SERVICE_KEY',
    });
  const token = (reply.data as { token?: unknown }).token;
  if (reply.status !== 200 || typeof token !== 'string')
    throw new FnError('REMOTE_ERROR', `the server did not give a token for ${userId}: ${errorOf(reply).message}`);
  return token;
}
