// The runtime server's routes. The Base44 SDK route, the admin routes (service key, a table in
// admin-routes.ts), CORS for local and allowed pages, and the guards in front of them: the Host
// check (DNS rebinding), cross-origin simple requests refused, a connection cap and timeouts for
// slow senders. Shared by fn dev (one app from a folder) and fn serve (deployed apps).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FnError } from '../errors.js';
import type { AppRuntime } from '../runtime/runner-client.js';
import {
  CALL_ID_HEADER,
  freezeUser,
  MAX_REQUEST_BYTES,
  systemUser,
  type CallOutcome,
  type CallRequest,
  type FnUser,
  type HttpInfo,
} from '../runtime/types.js';
import { authenticator, MAX_TOKEN_TTL_SECONDS, signToken, TOKEN_TTL_SECONDS, type Caller } from './auth.js';
import { adminRouter, type AdminRoute } from './admin-routes.js';
import { BodyError, checkJsonShape, headerOf, NO_FILES, onBody, parseParams, readBody, type Params } from './body.js';
import { setLoggedArguments, type CallLog, type CallLogEntry } from './logs.js';
import {
  checkValidation,
  endpointCaller,
  usesCredentialHeaders,
  endpointErrorCode,
  endpointRequest,
  findEndpoint,
  sendEndpointError,
} from './endpoints.js';
import type { AuthConfig } from '../app/auth-config.js';
import type { UserStore } from '../store/users.js';
import { announceAuth, clientApi, ClientError, customUserData } from './client-api.js';
import type { AuthOperation } from './triggers.js';
import { userRoutes } from './user-routes.js';

export interface ServedApp {
  appId: string;
  runtime: AppRuntime;
  /** The app's secret of a name, for its endpoints' validation (fn dev: .fn/secrets.json). */
  secret?: (name: string) => string | undefined;
  /** The app's auth/ config (providers, custom user data), for the client API. */
  auth?: () => AuthConfig;
  /** Fires the app's authentication triggers (its AppTriggers.authEvent). */
  authEvent?: (operationType: AuthOperation, providers: string[], user: FnUser) => void;
}

export type { AdminRequest, AdminRoute } from './admin-routes.js';

export interface ServerOptions {
  serviceKey: string;
  jwtSecret: string;
  apps: (appId: string) => ServedApp | undefined;
  log: CallLog;
  /**
   * Each call's log entry, just before its answer is sent. `busy`: other calls are still running
   * (so more lines will follow).
   */
  onCall?: (entry: CallLogEntry, busy: boolean) => void;
  maxBodyBytes?: number;
  /**
   * Who sees a failing call's stack in its answer: every caller (fn dev, one's own folder) or only
   * the service key (fn serve, the default). The call log always has it.
   */
  details?: 'all' | 'service';
  /** More admin routes (fn serve's deployments), after the built-in ones. */
  adminRoutes?: AdminRoute[];
  /**
   * Origins of web pages allowed to call, besides local pages (localhost, 127.0.0.1, [::1], any
   * port): "https://app.example.com", or "*" for any. --allow-origin.
   */
  allowOrigins?: string[];
  /** The users of the apps: with a store, the App Services client API (/api/client/v2.0) is served. */
  users?: UserStore;
  /** A reverse proxy in front: its X-Forwarded-Host/-Proto/-For are believed (--trust-proxy). */
  trustProxy?: boolean;
  /**
   * Origins an app allows besides allowOrigins (its allowed_request_origins); with no app id (the
   * client API's auth/ routes, which name none), those of every app served.
   */
  appOrigins?: (appId: string | undefined) => string[];
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  stack?: string[],
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: stack?.length ? { code, message, stack } : { code, message } }, headers);
}

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;
const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, X-App-Id, X-Origin-URL, X-Base44-Anonymous-Id, Base44-Functions-Version, Base44-State, X-Data-Env';

/** Whether pages of `origin` may call: local pages, and those given (--allow-origin). */
export function originAllowed(origin: string, allowed: ReadonlySet<string>): boolean {
  return LOCAL_ORIGIN.test(origin) || allowed.has('*') || allowed.has(origin.toLowerCase().replace(/\/+$/, ''));
}

/** The content types a page may send without a preflight (the CORS-safelisted ones), or none. */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

function isSimpleContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const semi = contentType.indexOf(';');
  return SIMPLE_TYPES.has((semi >= 0 ? contentType.slice(0, semi) : contentType).trim().toLowerCase());
}

function cors(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): void {
  const origin = headerOf(req, 'origin');
  if (origin && originAllowed(origin, allowed)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
  }
}

/** A request's path in decoded segments, and its query, parsed when first read. */
export class RequestPath {
  private parsed: URLSearchParams | undefined;
  constructor(
    readonly segments: string[],
    readonly rawQuery: string,
  ) {}

  get query(): URLSearchParams {
    return (this.parsed ??= new URLSearchParams(this.rawQuery));
  }
}

/** The path split into decoded segments; repeated slashes (a serverUrl ending in '/') collapse. */
export function splitPath(rawUrl: string): RequestPath {
  const q = rawUrl.indexOf('?');
  const end = q >= 0 ? q : rawUrl.length;
  const percent = rawUrl.indexOf('%');
  const escaped = percent >= 0 && percent < end;
  const segments: string[] = [];
  for (let from = 0; from < end;) {
    let slash = rawUrl.indexOf('/', from);
    if (slash < 0 || slash > end) slash = end;
    if (slash > from) {
      const s = rawUrl.slice(from, slash);
      if (!escaped) segments.push(s);
      else {
        try {
          segments.push(decodeURIComponent(s));
        } catch {
          throw new HttpError(400, 'BAD_REQUEST', `the URL path has a malformed escape: ${s}`);
        }
      }
    }
    from = slash + 1;
  }
  return new RequestPath(segments, q >= 0 ? rawUrl.slice(q + 1) : '');
}

export function httpInfo(req: IncomingMessage, rawQuery: string): HttpInfo {
  const raw = req.rawHeaders;
  let rawHeaders = raw;
  for (let i = 0; i < raw.length; i += 2) {
    // The caller's token (or the service key) never reaches a worker.
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') {
      rawHeaders = raw.filter((_, j) => raw[j - (j % 2)]!.toLowerCase() !== 'authorization');
      break;
    }
  }
  let rawQueryString = '';
  if (rawQuery !== '') {
    const query = new URLSearchParams(rawQuery);
    query.delete('secret');
    rawQueryString = query.toString();
  }
  return { remoteIPAddress: req.socket.remoteAddress ?? '', rawHeaders, httpMethod: req.method ?? 'POST', rawQueryString };
}

let isoMs = 0;
let isoText = '';
/** The time now as ISO text; calls of one millisecond share it. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** Outcomes of calls refused before their function ran. */
const REFUSED_BEFORE_RUN = new Set(['FUNCTION_NOT_FOUND', 'TOO_MANY_REQUESTS', 'SERVER_CLOSING', 'FUNCTION_INVALID']);

/** The arguments as logged: files by name, type and size, never their bytes. */
function loggedArgs(request: CallRequest): unknown[] {
  if (!request.files) return request.args;
  const first: Record<string, unknown> =
    typeof request.args[0] === 'object' && request.args[0] !== null ? { ...(request.args[0] as Record<string, unknown>) } : {};
  for (const [key, f] of Object.entries(request.files)) first[key] = { file: f.name, type: f.type, size: f.bytes.byteLength };
  return [first, ...request.args.slice(1)];
}

export function createHandler(options: ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BYTES;
  const allowOrigins: ReadonlySet<string> = new Set((options.allowOrigins ?? []).map((o) => o.toLowerCase().replace(/\/+$/, '')));
  const authenticateHeader = authenticator({ serviceKey: options.serviceKey, jwtSecret: options.jwtSecret });

  const appOf = (appId: string): ServedApp => {
    const app = options.apps(appId);
    if (!app) throw new HttpError(404, 'APP_NOT_FOUND', `there is no app "${appId}" on this server`);
    return app;
  };
  /** Sessions of the client API ended in this process: their access tokens are refused. */
  const revoked = new Set<string>();
  const callerOf = (req: IncomingMessage, appId?: string): Caller => {
    const auth = authenticateHeader(headerOf(req, 'authorization'));
    if (!auth.ok) throw new HttpError(401, 'INVALID_TOKEN', auth.message);
    // A client API token is good for the app that issued it, while its session lasts.
    if (auth.appId !== undefined && appId !== undefined && auth.appId !== appId)
      throw new HttpError(401, 'INVALID_TOKEN', `the token was issued by app "${auth.appId}", not "${appId}"`);
    if (auth.sessionId !== undefined && revoked.has(auth.sessionId))
      throw new HttpError(401, 'INVALID_TOKEN', "the token's session has ended (logged out or disabled): log in again");
    return auth.caller;
  };
  const requireService = (req: IncomingMessage): void => {
    const caller = callerOf(req);
    if (caller.kind === 'anonymous')
      throw new HttpError(401, 'UNAUTHORIZED', 'this route needs the service key: Authorization: Bearer <service key>');
    if (caller.kind !== 'service') throw new HttpError(403, 'FORBIDDEN', 'this route needs the service key, not a user token');
  };

  /** Calls sent to a runtime and not answered yet. */
  let running = 0;
  let logFailed = false;

  /** Logs the call and gives onCall its entry (before the answer is sent); returns the entry. */
  const logCall = (
    app: ServedApp,
    request: CallRequest,
    caller: Caller,
    outcome: CallOutcome,
    status: number,
    bodyBytes?: number,
  ): CallLogEntry => {
    const functions = app.runtime.app?.functions;
    const fn = functions && Object.hasOwn(functions, request.name) ? functions[request.name] : undefined;
    const entry: Omit<CallLogEntry, 'id'> = {
      time: isoNow(),
      appId: app.appId,
      function: request.name,
      via: request.via,
      user: caller.kind === 'service' ? 'service' : caller.user.id,
      runAs: outcome.runAs,
      status,
      durationMs: Math.round(outcome.durationMs * 10) / 10,
      logs: outcome.logs,
    };
    // A call refused before its function ran keeps no arguments: anyone can send those.
    const ran = outcome.ok || !REFUSED_BEFORE_RUN.has(outcome.error.code);
    const argumentBytes =
      ran && !fn?.disableArgLogs ? setLoggedArguments(entry, loggedArgs(request), request.files ? undefined : bodyBytes) : 0;
    if (outcome.error)
      entry.error = outcome.error.stack
        ? { code: outcome.error.code, message: outcome.error.message, stack: outcome.error.stack }
        : { code: outcome.error.code, message: outcome.error.message };
    const logged = options.log.add(entry, argumentBytes);
    if (options.onCall) {
      try {
        options.onCall(logged, running > 0);
      } catch (error) {
        // The log's own failure: the call has its answer all the same (and the warning is given once).
        if (!logFailed) process.emitWarning(`call log lines could not be written: ${(error as Error)?.message ?? String(error)}`);
        logFailed = true;
      }
    }
    return logged;
  };

  /**
   * The SDK's route. Callbacks rather than awaits all the way (body, worker, answer): this is the
   * path every call takes, and each of them is caught here, so nothing escapes to the event loop.
   */
  function clientCall(req: IncomingMessage, res: ServerResponse, appId: string, name: string, rawQuery: string): void {
    const app = appOf(appId);
    const caller = callerOf(req, appId);
    let bodyBytes = 0;
    const callWith = ({ params, files }: Params) => {
      const request: CallRequest = {
        name,
        args: [params],
        caller: caller.user,
        via: caller.kind === 'service' ? 'admin' : 'client',
        request: httpInfo(req, rawQuery),
      };
      if (files !== NO_FILES) request.files = files;
      running++;
      let settled = false;
      const onOutcome = (outcome: CallOutcome) => {
        settled = true;
        running--;
        try {
          const status = outcome.ok ? (outcome.result.kind === 'response' ? outcome.result.status : 200) : outcome.error.status;
          const entry = logCall(app, request, caller, outcome, status, bodyBytes);
          sendOutcome(res, outcome, status, entry, options.details === 'all' || caller.kind === 'service');
        } catch (error) {
          refuse(res, error);
        }
      };
      try {
        app.runtime.submit(request, onOutcome);
      } catch (error) {
        if (!settled) running--;
        throw error;
      }
    };
    onBody(req, limit, (error, body) => {
      try {
        if (error) throw error;
        bodyBytes = body!.byteLength;
        const parsed = parseParams(body!, headerOf(req, 'content-type'));
        if (parsed instanceof Promise) parsed.then(callWith).catch((failed: unknown) => refuse(res, failed));
        else callWith(parsed);
      } catch (failed) {
        refuse(res, failed);
      }
    });
  }

  function sendOutcome(res: ServerResponse, outcome: CallOutcome, status: number, entry: CallLogEntry, details: boolean): void {
    const id = String(entry.id);
    if (!outcome.ok)
      return sendError(res, status, outcome.error.code, outcome.error.message, details ? outcome.error.stack : undefined, {
        [CALL_ID_HEADER]: id,
      });
    const result = outcome.result;
    if (result.kind === 'json') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(result.json),
        [CALL_ID_HEADER]: id,
      });
      res.end(result.json);
    } else {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of result.headers) {
        if (k === 'content-length' || k === 'transfer-encoding' || k === 'content-encoding') continue;
        const prev = headers[k];
        headers[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
      }
      res.writeHead(result.status, { ...headers, 'content-length': result.body.byteLength, [CALL_ID_HEADER]: id });
      res.end(Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength));
    }
  }

  /**
   * An HTTPS endpoint's request (server/endpoints.ts): matched, authenticated, its body read
   * within the size limit, validated, then run like any call; every refusal and failure answers
   * App Services' { error, error_code }.
   */
  function endpointCall(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    appId: string,
    routeSegments: string[],
    path: RequestPath,
    webhookOnly: boolean,
  ): void {
    const app = options.apps(appId);
    if (!app) throw new ClientError(404, 'AppNotFound', `there is no app "${appId}" on this server`);
    const bundle = app.runtime.app;
    const endpoint = findEndpoint(bundle, routeSegments, method, webhookOnly);
    const auth = authenticateHeader(headerOf(req, 'authorization'));
    if (!auth.ok) throw new ClientError(401, 'InvalidSession', `invalid session: ${auth.message}`);
    const answerAs = (who: Caller): void => {
      const caller = endpointCaller(endpoint, bundle!, who, req);
      // fetch_custom_user_data: the caller's custom user data as it is now (read as the client API
      // reads it), while the body comes.
      const customData =
        endpoint.fetchCustomUserData && who.kind === 'user' && caller.type !== 'system' && app.auth?.().customUserData
          ? customUserData(app, caller.id)
          : undefined;
      customData?.catch(() => {});
      const answerEndpoint = (error: Error | undefined, body: Buffer | undefined, runAs: CallRequest['caller']): void => {
        try {
          if (error) throw error;
          checkValidation(endpoint, req, path.query, body!, app.secret);
          const request = endpointRequest(endpoint, req, httpInfo(req, path.rawQuery), path.query, body!, runAs);
          running++;
          let settled = false;
          const onOutcome = (outcome: CallOutcome) => {
            settled = true;
            running--;
            try {
              const status = outcome.ok ? (outcome.result.kind === 'response' ? outcome.result.status : 200) : outcome.error.status;
              const entry = logCall(app, request, who, outcome, status);
              if (outcome.ok) return sendOutcome(res, outcome, status, entry, false);
              const details = options.details === 'all' || who.kind === 'service';
              sendEndpointError(
                res,
                status,
                endpointErrorCode(outcome.error.code),
                outcome.error.message,
                details && outcome.error.stack ? { stack: outcome.error.stack } : {},
                { [CALL_ID_HEADER]: String(entry.id) },
              );
            } catch (failed) {
              refuseEndpoint(res, failed);
            }
          };
          try {
            app.runtime.submit(request, onOutcome);
          } catch (failed) {
            if (!settled) running--;
            throw failed;
          }
        } catch (failed) {
          refuseEndpoint(res, failed);
        }
      };
      onBody(req, limit, (error, body) => {
        if (!customData || error) return answerEndpoint(error, body, caller);
        customData.then(
          (custom_data) =>
            answerEndpoint(
              undefined,
              body,
              freezeUser({ ...caller, data: { ...caller.data }, custom_data, identities: caller.identities.map((i) => ({ ...i })) }),
            ),
          (failed: unknown) => refuseEndpoint(res, failed),
        );
      });
    };
    if (clientRoutes && usesCredentialHeaders(endpoint, bundle!, auth.caller, req)) {
      // App Services' credential headers: checked as the client API's logins are.
      clientRoutes.credentialUser(req, app, endpoint.createUserOnAuth).then(
        (user) => guardEndpoint(res, () => answerAs({ kind: 'user', user })),
        (error: unknown) => refuseEndpoint(res, error),
      );
      return;
    }
    answerAs(auth.caller);
  }

  const refuseEndpoint = (res: ServerResponse, error: unknown): void => {
    if (error instanceof ClientError) return sendEndpointError(res, error.status, error.errorCode, error.message, {}, error.headers);
    if (error instanceof HttpError || error instanceof BodyError)
      return sendEndpointError(res, error.status, error.status === 413 ? 'RequestTooLarge' : 'InvalidParameter', error.message);
    sendEndpointError(res, 500, 'InternalServerError', `internal server error: ${(error as Error)?.message ?? String(error)}`);
  };

  /** Reads an admin route's JSON body, with the limits of the call route (size, depth, values). */
  const readJsonOf = (req: IncomingMessage) => async (): Promise<unknown> => {
    const body = await readBody(req, limit);
    const text = body.toString('utf8');
    if (text.trim() === '') return {};
    checkJsonShape(text);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new HttpError(400, 'BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`);
    }
  };

  const adminTable: AdminRoute[] = [
    {
      method: 'POST',
      path: 'users/*/token',
      handler: async ({ res, appId, readJson }, [userId]) => {
        appOf(appId);
        const body = (await readJson()) as { data?: unknown; custom_data?: unknown; type?: unknown; expiresIn?: unknown };
        const obj = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
        const ttl = body.expiresIn === undefined ? TOKEN_TTL_SECONDS : body.expiresIn;
        if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
          throw new HttpError(
            400,
            'BAD_REQUEST',
            `"expiresIn" must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS} (30 days); without it a token lives ${TOKEN_TTL_SECONDS} s (one day)`,
          );
        }
        const { token, expiresAt } = signToken(
          options.jwtSecret,
          {
            sub: userId!,
            type: body.type === 'server' ? 'server' : 'normal',
            data: obj(body.data) ?? {},
            custom_data: obj(body.custom_data) ?? {},
          },
          ttl,
        );
        sendJson(res, 200, { token, userId, expiresAt: new Date(expiresAt * 1000).toISOString() });
      },
    },
    {
      method: 'GET',
      path: 'logs/*',
      handler: ({ res, appId }, [id]) => {
        const app = appOf(appId);
        const entry = /^[1-9]\d{0,15}$/.test(id!) ? options.log.get(Number(id)) : undefined;
        if (!entry || entry.appId !== app.appId) throw new HttpError(404, 'NOT_FOUND', `no call ${id} in the recent log of "${app.appId}"`);
        sendJson(res, 200, entry);
      },
    },
    {
      method: 'GET',
      path: 'logs',
      handler: ({ res, appId, query }) => {
        const app = appOf(appId);
        const limitParam = Number(query.get('limit') ?? '100');
        const fn = query.get('function') ?? undefined;
        sendJson(res, 200, {
          logs: options.log.list({
            appId: app.appId,
            ...(fn ? { function: fn } : {}),
            limit: Number.isFinite(limitParam) && limitParam > 0 ? Math.min(limitParam, 1000) : 100,
          }),
        });
      },
    },
    {
      method: 'POST',
      path: 'functions/**/execute',
      handler: async ({ req, res, appId, rawQuery, readJson }, [name]) => {
        const app = appOf(appId);
        const body = (await readJson()) as { args?: unknown; runAs?: { system?: unknown; userId?: unknown } };
        if (body.args !== undefined && !Array.isArray(body.args))
          throw new HttpError(400, 'BAD_REQUEST', '"args" must be an array of positional arguments');
        const userId = body.runAs?.userId;
        const asUser = body.runAs?.system !== true && typeof userId === 'string' && userId !== '' ? userId : undefined;
        const runAs: CallRequest['runAs'] =
          asUser !== undefined ? { userId: asUser } : body.runAs?.system === true ? { system: true } : undefined;
        const caller: FnUser =
          asUser !== undefined ? { id: asUser, type: 'normal', data: {}, custom_data: {}, identities: [] } : systemUser();
        const request: CallRequest = {
          name: name!,
          args: (body.args as unknown[] | undefined) ?? [],
          caller,
          via: 'admin',
          request: httpInfo(req, rawQuery),
          ...(runAs ? { runAs } : {}),
        };
        running++;
        const outcome = await app.runtime.call(request).finally(() => running--);
        const status = outcome.ok ? 200 : outcome.error.status;
        logCall(app, request, { kind: 'service', user: caller }, outcome, status);
        if (!outcome.ok && outcome.error.code === 'FUNCTION_NOT_FOUND')
          return sendError(res, 404, outcome.error.code, outcome.error.message);
        const result =
          outcome.result?.kind === 'json'
            ? (JSON.parse(outcome.result.json) as unknown)
            : outcome.result
              ? {
                  status: outcome.result.status,
                  headers: Object.fromEntries(outcome.result.headers),
                  body: Buffer.from(outcome.result.body).toString('utf8'),
                }
              : null;
        sendJson(res, 200, {
          result,
          logs: outcome.logs,
          error: outcome.error
            ? outcome.error.stack
              ? { code: outcome.error.code, message: outcome.error.message, stack: outcome.error.stack }
              : { code: outcome.error.code, message: outcome.error.message }
            : null,
          durationMs: Math.round(outcome.durationMs * 10) / 10,
          runAs: outcome.runAs,
        });
      },
    },
    // The client API's users.
    ...(options.users
      ? userRoutes(options.users, revoked, appOf, (appId, operation, providers, user) => {
          const app = options.apps(appId);
          if (app) announceAuth(app, operation, providers, user);
        })
      : []),
    // fn serve's deployments.
    ...(options.adminRoutes ?? []),
  ];
  const matchAdmin = adminRouter(adminTable);

  /** A call from another route (the client API): counted and logged as the functions route does. */
  const runCall = async (app: ServedApp, request: CallRequest, caller: Caller, bodyBytes?: number) => {
    running++;
    let outcome: CallOutcome;
    try {
      outcome = await app.runtime.call(request);
    } finally {
      running--;
    }
    const status = outcome.ok ? 200 : outcome.error.status;
    return { outcome, entry: logCall(app, request, caller, outcome, status, bodyBytes) };
  };
  const clientRoutes = options.users
    ? clientApi({
        users: options.users,
        jwtSecret: options.jwtSecret,
        trustProxy: options.trustProxy === true,
        appOf: (id) => options.apps(id),
        authenticate: authenticateHeader,
        runCall: (app, request, caller, bodyBytes) => runCall(app as ServedApp, request, caller, bodyBytes),
        httpInfo,
        maxBodyBytes: limit,
        revoked,
      })
    : undefined;

  async function admin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    appId: string,
    rest: string[],
    query: URLSearchParams,
    rawQuery: string,
  ): Promise<void> {
    requireService(req);
    const match = matchAdmin(method, rest);
    if (!match) {
      appOf(appId);
      throw new HttpError(404, 'NOT_FOUND', `no admin route ${method} /api/admin/v1/apps/${appId}/${rest.join('/')}`);
    }
    await match.route.handler({ req, res, method, appId, rest, query, rawQuery, readJson: readJsonOf(req) }, match.params);
  }

  const normalOrigin = (o: string) => o.toLowerCase().replace(/\/+$/, '');
  /** The origins allowed for this request: the server's, and the app's when it allows more. */
  const originsFor = (req: IncomingMessage): ReadonlySet<string> => {
    if (!options.appOrigins) return allowOrigins;
    const origin = headerOf(req, 'origin');
    if (origin === undefined || originAllowed(origin, allowOrigins)) return allowOrigins;
    const url = req.url ?? '';
    const appId = /^\/api\/(?:apps|client\/v2\.0\/app)\/([^/?]+)/.exec(url)?.[1];
    let extra: string[];
    try {
      extra = options.appOrigins(appId === undefined ? undefined : decodeURIComponent(appId));
    } catch {
      return allowOrigins;
    }
    return extra.length ? new Set([...allowOrigins, ...extra.map(normalOrigin)]) : allowOrigins;
  };

  /** Answers at once, or returns the promise of the answer; throws HttpError to refuse. */
  function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const allowOrigins = originsFor(req);
    cors(req, res, allowOrigins);
    // The parser accepts only upper-case method names.
    const method = req.method ?? 'GET';
    // A page of another origin can send a simple request (form or text/plain, no preflight)
    // without being allowed to read the answer: it would still run the function. Refused.
    if (method !== 'OPTIONS') {
      const origin = headerOf(req, 'origin');
      if (origin !== undefined && !originAllowed(origin, allowOrigins) && isSimpleContentType(headerOf(req, 'content-type'))) {
        throw new HttpError(
          403,
          'ORIGIN_NOT_ALLOWED',
          `pages of ${origin} may not call this server; allow them with --allow-origin ${origin}`,
        );
      }
    }
    const path = splitPath(req.url ?? '/');
    const { segments, rawQuery } = path;
    if (method === 'OPTIONS') {
      res.writeHead(204);
      return void res.end();
    }
    const [a, b, c, d] = segments;
    // The app's HTTPS endpoints, and a legacy webhook's own URL.
    if (a === 'app' && b !== undefined && c === 'endpoint')
      return guardEndpoint(res, () => endpointCall(req, res, method, b, segments.slice(3), path, false));
    if (
      a === 'api' &&
      b === 'client' &&
      c === 'v2.0' &&
      d === 'app' &&
      segments[5] === 'service' &&
      segments[7] === 'incoming_webhook' &&
      segments.length === 9
    )
      return guardEndpoint(res, () => endpointCall(req, res, method, segments[4]!, [segments[6]!, segments[8]!], path, true));
    if (a !== 'api') throw new HttpError(404, 'NOT_FOUND', `no route ${method} /${segments.join('/')}`);
    if (b === 'health' && segments.length === 2) return sendJson(res, 200, { ok: true });
    if (b === 'apps' && c !== undefined && d === 'functions') {
      const name = segments.length === 5 ? segments[4]! : segments.slice(4).join('/');
      if (method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'call functions with POST');
      if (!name) throw new HttpError(404, 'FUNCTION_NOT_FOUND', 'no function name in the URL');
      return clientCall(req, res, c, name, rawQuery);
    }
    if (b === 'apps' && c !== undefined && d === 'analytics') {
      res.writeHead(204);
      return void res.end();
    }
    if (b === 'client' && c === 'v2.0' && clientRoutes) return clientRoutes(req, res, method, segments.slice(3), path.query, rawQuery);
    if (b === 'admin' && c === 'v1' && d === 'apps' && segments[4] !== undefined)
      return admin(req, res, method, segments[4], segments.slice(5), path.query, rawQuery);
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} /${segments.join('/')}`);
  }

  const guardEndpoint = (res: ServerResponse, run: () => void): void => {
    try {
      run();
    } catch (error) {
      refuseEndpoint(res, error);
    }
  };

  const refuse = (res: ServerResponse, error: unknown): void => {
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
    if (error instanceof BodyError) return sendError(res, error.status, error.code, error.message);
    sendError(res, 500, 'INTERNAL', `internal server error: ${(error as Error)?.message ?? String(error)}`);
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res)?.catch((error: unknown) => refuse(res, error));
    } catch (error) {
      refuse(res, error);
    }
  };
  // listen()'s close ends the client API's watch streams first, so their clients see a clean end.
  return Object.assign(handler, { endStreams: () => clientRoutes?.endStreams() });
}

/** Connections: how many at once, and how long a client may take to send a request. */
export interface ConnectionLimits {
  /** Open connections at once; more are closed as they arrive. */
  maxConnections: number;
  /** Time to receive a request's headers (ms); then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (ms); a function's own run is not counted. */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open (ms). */
  keepAliveTimeoutMs: number;
  /** More names a loopback-bound server answers to (a reverse proxy's), or "*" (hostAllowed). */
  allowHosts?: string[];
}

export const CONNECTION_DEFAULTS: ConnectionLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};

/** The flags of fn dev and fn serve for ConnectionLimits. */
export interface ConnectionFlags {
  maxConnections?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  allowHost?: string[];
  /** Believe a reverse proxy's X-Forwarded-* headers (--trust-proxy). */
  trustProxy?: boolean;
}

export function connectionLimitsFrom(flags: ConnectionFlags): ConnectionLimits {
  const limits = {
    maxConnections: flags.maxConnections ?? CONNECTION_DEFAULTS.maxConnections,
    headersTimeoutMs: flags.headersTimeout ?? CONNECTION_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs: flags.requestTimeout ?? CONNECTION_DEFAULTS.requestTimeoutMs,
    keepAliveTimeoutMs: flags.keepAliveTimeout ?? CONNECTION_DEFAULTS.keepAliveTimeoutMs,
    ...(flags.allowHost?.length ? { allowHosts: flags.allowHost } : {}),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    // Only the headers' own default gives way to a shorter --request-timeout.
    if (flags.headersTimeout === undefined) limits.headersTimeoutMs = limits.requestTimeoutMs;
    else
      throw new FnError(
        'USAGE',
        `--headers-timeout ${limits.headersTimeoutMs} is longer than --request-timeout ${limits.requestTimeoutMs}`,
        { hint: 'the headers are part of the request: give --headers-timeout at most the request timeout' },
      );
  }
  return limits;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Whether a request's Host header names this server. Bound to a loopback address, only the names
 * localhost, 127.0.0.1 and [::1] (and the bound address, and those given with --allow-host) are,
 * on any port (a tunnel or a port mapping changes the port, never the name): a page of another
 * name that resolves to 127.0.0.1 (DNS rebinding) is refused. Bound to 0.0.0.0, :: or a name,
 * any Host is accepted. No Host (HTTP/1.0) is accepted.
 */
export function hostAllowed(host: string | undefined, boundHost: string, allowHosts: ReadonlySet<string> = new Set()): boolean {
  if (host === undefined) return true;
  const bound = boundHost.toLowerCase();
  if (!(LOOPBACK_HOSTS.has(bound) || /^127\.\d+\.\d+\.\d+$/.test(bound))) return true;
  if (allowHosts.has('*')) return true;
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const name = match[1]!;
  return LOOPBACK_HOSTS.has(name) || name === bound || name === `[${bound}]` || allowHosts.has(name);
}

export interface Listening {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** listen(), with the usual failures explained (exit 2): a port in use, an address not here. */
export async function listenOrExplain(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  port: number,
  limits: ConnectionLimits = CONNECTION_DEFAULTS,
): Promise<Listening> {
  try {
    return await listen(handler, host, port, limits);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new FnError('USAGE', `port ${port} on ${host} is in use`, {
        hint: 'is another fn dev or fn serve running? pass --port <n> (or --port 0 for any free port)',
      });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
      throw new FnError('USAGE', `cannot listen on ${host}:${port} (${code})`, { hint: 'pass --host 127.0.0.1, or a port above 1023' });
    throw error;
  }
}

/**
 * Serves `handler` on host:port with the connection limits, answering 403 to a request whose
 * Host header does not name this server (hostAllowed).
 */
export function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  port: number,
  limits: ConnectionLimits = CONNECTION_DEFAULTS,
): Promise<Listening> {
  const allowHosts = new Set((limits.allowHosts ?? []).map((h) => h.toLowerCase()));
  /** The last Host found good: a client sends the same one on every call. */
  let goodHost: string | undefined;
  const guarded = (req: IncomingMessage, res: ServerResponse): void => {
    const given = headerOf(req, 'host');
    if (given === goodHost) return handler(req, res);
    if (hostAllowed(given, host, allowHosts)) goodHost = given;
    else {
      return sendError(
        res,
        403,
        'HOST_NOT_ALLOWED',
        `the Host header ${JSON.stringify(given)} does not name this server: bound to ${host}, it answers to localhost, 127.0.0.1 and [::1] (a proxy that sends another name: --allow-host <name>)`,
      );
    }
    handler(req, res);
  };
  const server = createServer(
    {
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often the timeouts above are checked (Node's default, 30 s, would let them run late).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    guarded,
  );
  // Over the cap, a new connection is closed at once; the ones open are served as before.
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        port: address.port,
        url: `http://${shownHost}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            (handler as { endStreams?: () => void }).endStreams?.();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
