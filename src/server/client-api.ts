// The App Services client API under /api/client/v2.0, as realm-web 2.x speaks it: location, login
// with each provider of auth/providers.json, sessions (refresh, logout), the profile, email/password
// accounts, user API keys, and functions/call (functions and the MongoDB service) in canonical
// EJSON. Errors are { error, error_code, link } with Content-Type application/json (no charset:
// the realm-core SDKs parse error bodies only for exactly that type); 401 InvalidSession is kept
// for what a token refresh can cure, so the SDKs refresh and retry.
//
// Tokens: the access token is an HS256 JWT of the server's secret (30 min; the Base44 route and
// the functions' context.user take it too); the refresh token is JWT-shaped (realm-core decodes
// it) with a random signature, good only while its SHA-256 hash is in the user store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthConfig, AuthProvider } from '../app/auth-config.js';
import type { WatchHandlers } from '../runtime/runner-client.js';
import type { WatchSpec } from '../runtime/runner-wire.js';
import { systemUser, type CallOutcome, type CallRequest, type FnUser, type HttpInfo } from '../runtime/types.js';
import { hashPassword, randomToken, sameHash, tokenHash, verifyPassword } from '../store/passwords.js';
import { newId, type StoredPassword, type StoredSession, type StoredUser, type UserStore } from '../store/users.js';
import { signToken, type AuthResult, type Caller } from './auth.js';
import { checkJsonShape, headerOf, readBody } from './body.js';
import { verifyCustomJwt } from './custom-jwt.js';
import type { CallLogEntry } from './logs.js';
import type { AuthOperation } from './triggers.js';
import { AUTH_RATES, RateLimiter, type BucketRate } from './rate-limit.js';
import { ClientError } from './client-error.js';

/** Access tokens live 30 minutes, as in App Services. */
export const ACCESS_TTL_SECONDS = 30 * 60;
/** Refresh tokens: 60 days (App Services' default). */
export const REFRESH_TTL_SECONDS = 60 * 24 * 3600;
/** Confirmation and reset tokens: 30 minutes. */
const USERPASS_TOKEN_MS = 30 * 60 * 1000;
/** User API keys per user (App Services: 20). */
const MAX_USER_API_KEYS = 20;
const NO_DEVICE = '000000000000000000000000';

export { ClientError };

export interface ClientApp {
  appId: string;
  runtime: {
    call(request: CallRequest): Promise<CallOutcome>;
    /** A change stream in the app's runner (functions/call's watch). */
    watch?: (source: string, options: WatchSpec, handlers: WatchHandlers) => () => void;
  };
  auth?: () => AuthConfig;
  /** Fires the app's authentication triggers (AppTriggers.authEvent); absent: none fire. */
  authEvent?: (operationType: AuthOperation, providers: string[], user: FnUser) => void;
}

export interface ClientApiOptions {
  users: UserStore;
  jwtSecret: string;
  /** Honour X-Forwarded-Host/-Proto/-For (and Forwarded) from a reverse proxy in front. */
  trustProxy: boolean;
  appOf(appId: string): ClientApp | undefined;
  authenticate(header: string | undefined): AuthResult;
  /** Runs a call as the functions route does (counted, logged). */
  runCall(app: ClientApp, request: CallRequest, caller: Caller, bodyBytes?: number): Promise<{ outcome: CallOutcome; entry: CallLogEntry }>;
  httpInfo(req: IncomingMessage, rawQuery: string): HttpInfo;
  maxBodyBytes: number;
  /** Sessions ended in this process: their access tokens are refused at once (see revoke). */
  revoked: Set<string>;
  rates?: { perAddress: BucketRate; perAccount: BucketRate };
}

export function sendClientJson(res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

export function sendClientError(res: ServerResponse, error: ClientError, link = ''): void {
  if (res.headersSent) return void res.destroy();
  sendClientJson(res, error.status, JSON.stringify({ error: error.message, error_code: error.errorCode, link }), error.headers);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const b64 = (value: string) => Buffer.from(value).toString('base64url');
const invalidSession = (message = 'invalid session') => new ClientError(401, 'InvalidSession', message);

/** The first value of a comma-separated forwarding header, trimmed. */
function firstOf(value: string | undefined): string | undefined {
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/** The origin clients reach this server at: its Host, or a trusted proxy's forwarded host. */
export function publicOrigin(req: IncomingMessage, trustProxy: boolean): string {
  let proto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  let host = headerOf(req, 'host') ?? '127.0.0.1';
  if (trustProxy) {
    const forwarded = firstOf(headerOf(req, 'forwarded'));
    const pick = (key: string) => forwarded && new RegExp(`(?:^|;)\\s*${key}="?([^;"]+)"?`, 'i').exec(forwarded)?.[1];
    const fProto = firstOf(headerOf(req, 'x-forwarded-proto')) ?? pick('proto');
    const fHost = firstOf(headerOf(req, 'x-forwarded-host')) ?? pick('host');
    if (fProto === 'http' || fProto === 'https') proto = fProto;
    if (fHost) host = fHost;
  }
  // Only a host name or address and a port: nothing a client could be sent elsewhere with.
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(host)) host = '127.0.0.1';
  return `${proto}://${host}`;
}

/** The client's address: the socket's, or the one a trusted proxy appended last to X-Forwarded-For. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const list = headerOf(req, 'x-forwarded-for')?.split(',');
    const last = list?.[list.length - 1]?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? '';
}

let bsonLib: Promise<typeof import('bson')> | undefined;
const loadBson = () => (bsonLib ??= import('bson'));

/** The custom user data of a user (auth/custom_user_data.json), as relaxed EJSON, or {}. */
export async function customUserData(app: ClientApp, userId: string): Promise<Record<string, unknown>> {
  const config = app.auth?.().customUserData;
  if (!config) return {};
  const field = config.userIdField;
  const query: Record<string, unknown> = /^[0-9a-f]{24}$/.test(userId)
    ? { $or: [{ [field]: userId }, { [field]: { $oid: userId } }] }
    : { [field]: userId };
  const outcome = await app.runtime.call({
    name: 'find',
    service: config.serviceName,
    args: [{ database: config.databaseName, collection: config.collectionName, query, sort: { _id: { $numberInt: '1' } } }],
    caller: systemUser(),
    via: 'admin',
    ejson: true,
    request: { remoteIPAddress: '', rawHeaders: [], httpMethod: 'POST', rawQueryString: '' },
  });
  if (!outcome.ok || outcome.result.kind !== 'json') return {};
  const { EJSON } = await loadBson();
  const docs = EJSON.parse(outcome.result.json, { relaxed: false }) as Record<string, unknown>[];
  // The first inserted; a string id wins over an ObjectId one.
  const doc = docs.find((d) => typeof d[field] === 'string') ?? docs[0];
  return doc ? EJSON.serialize(doc, { relaxed: true }) : {};
}

/** A stored user as functions see it (context.user, an authentication event's user). */
export function fnUserOf(user: StoredUser, customData: Record<string, unknown>): FnUser {
  return {
    id: user.id,
    type: user.type,
    data: user.data,
    custom_data: customData,
    identities: user.identities.map((i) => ({ id: i.id, provider_type: i.provider_type, ...(i.data ? { data: i.data } : {}) })),
  };
}

/**
 * Fires the app's authentication triggers for a change already stored: LOGIN and CREATE with the
 * provider used, DELETE with every provider of the user's identities. The user's custom data is
 * read first; nothing here fails the request.
 */
export function announceAuth(app: ClientApp, operationType: AuthOperation, providers: string[], user: StoredUser): void {
  const authEvent = app.authEvent;
  if (!authEvent) return;
  const snapshot = structuredClone(user);
  void customUserData(app, snapshot.id)
    .catch(() => ({}))
    .then((customData) => authEvent(operationType, [...new Set(providers)], fnUserOf(snapshot, customData)))
    .catch(() => {});
}

/** The handler of /api/client/v2.0/...; `rest` is the path after v2.0. */
export function clientApi(options: ClientApiOptions) {
  const { users } = options;
  const perAddress = new RateLimiter(options.rates?.perAddress ?? AUTH_RATES.perAddress);
  const perAccount = new RateLimiter(options.rates?.perAccount ?? AUTH_RATES.perAccount);

  const appOf = (appId: string): ClientApp => {
    const app = options.appOf(appId);
    if (!app) throw new ClientError(404, 'AppNotFound', `cannot find app using Client App ID '${appId}'`);
    return app;
  };
  const authOf = (app: ClientApp): AuthConfig => app.auth?.() ?? { providers: {}, secrets: {}, problems: [] };
  const providerOf = (app: ClientApp, name: string, types: string[]): AuthProvider => {
    const provider = authOf(app).providers[name];
    if (!provider || !types.includes(provider.type))
      throw new ClientError(
        404,
        'AuthProviderNotFound',
        `authentication via '${name}' is unsupported: the app has no such provider in auth/providers.json`,
      );
    if (provider.disabled)
      throw new ClientError(400, 'AuthProviderNotFound', `authentication via '${name}' is disabled in auth/providers.json`);
    return provider;
  };

  const limit = (req: IncomingMessage, appId: string, account?: string): void => {
    const address = perAddress.take(`${appId}\0${clientAddress(req, options.trustProxy)}`);
    const acct = account === undefined ? ({ ok: true } as const) : perAccount.take(`${appId}\0${account}`);
    const refused = !address.ok ? address : !acct.ok ? acct : undefined;
    if (refused)
      throw new ClientError(429, 'TooManyRequests', `too many login attempts: try again in ${refused.retryAfterSeconds} s`, {
        'retry-after': String(refused.retryAfterSeconds),
      });
  };

  const readJson = async (req: IncomingMessage): Promise<{ value: Record<string, unknown>; bytes: number }> => {
    const body = await readBody(req, options.maxBodyBytes);
    const text = body.toString('utf8');
    if (text.trim() === '') return { value: {}, bytes: 0 };
    checkJsonShape(text);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ClientError(400, 'InvalidParameter', `the body is not valid JSON: ${(error as Error).message}`);
    }
    if (!isRecord(value)) throw new ClientError(400, 'InvalidParameter', 'the body must be a JSON object');
    return { value, bytes: body.byteLength };
  };
  const str = (body: Record<string, unknown>, key: string): string => {
    const v = body[key];
    if (typeof v !== 'string' || v === '') throw new ClientError(400, 'MissingParameter', `expected a string "${key}" in the body`);
    return v;
  };

  /** The bearer of an access token, for this app when it names one. */
  const accessCaller = (
    req: IncomingMessage,
    appId?: string,
    header = headerOf(req, 'authorization'),
  ): { user: FnUser; appId: string; sessionId?: string } => {
    if (!header) throw new ClientError(401, 'InvalidSession', 'must authenticate first: Authorization: Bearer <access token>');
    const auth = options.authenticate(header);
    if (!auth.ok || auth.caller.kind !== 'user' || auth.appId === undefined) throw invalidSession();
    if (appId !== undefined && auth.appId !== appId) throw invalidSession(`this token belongs to app '${auth.appId}', not '${appId}'`);
    if (auth.sessionId !== undefined && options.revoked.has(auth.sessionId)) throw invalidSession();
    return { user: auth.caller.user, appId: auth.appId, ...(auth.sessionId ? { sessionId: auth.sessionId } : {}) };
  };

  /** The session of a refresh token, or 401. */
  const refreshSession = async (req: IncomingMessage): Promise<{ appId: string; session: StoredSession; user: StoredUser }> => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(headerOf(req, 'authorization') ?? '')?.[1];
    if (!token) throw new ClientError(401, 'InvalidSession', 'must authenticate first: Authorization: Bearer <refresh token>');
    let appId: unknown;
    try {
      appId = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { app?: unknown }).app;
    } catch {}
    if (typeof appId !== 'string' || !options.appOf(appId)) throw invalidSession('failed to find refresh token');
    const hash = tokenHash(token);
    const session = await users.findSession(appId, hash);
    if (!session || !sameHash(session.tokenHash, hash) || session.expiresAt <= Date.now())
      throw invalidSession('failed to find refresh token');
    const user = await users.getUser(appId, session.userId);
    if (!user) throw invalidSession('failed to find refresh token');
    if (user.disabled) throw new ClientError(401, 'InvalidSession', 'user disabled');
    return { appId, session, user };
  };

  const customDataOf = customUserData;

  const accessToken = async (app: ClientApp, user: StoredUser, session: StoredSession): Promise<string> => {
    const customData = await customDataOf(app, user.id);
    return signToken(
      options.jwtSecret,
      {
        sub: user.id,
        typ: 'access',
        app: app.appId,
        sid: session.id,
        baas_device_id: session.deviceId,
        type: user.type,
        data: user.data,
        identities: fnUserOf(user, {}).identities,
        user_data: customData,
      },
      ACCESS_TTL_SECONDS,
    ).token;
  };

  /** A new session for the user: the login answer. */
  const openSession = async (app: ClientApp, user: StoredUser, provider: string, body: Record<string, unknown>): Promise<string> => {
    if (user.disabled) throw new ClientError(401, 'UserDisabled', 'user disabled');
    const device = isRecord(body.options) && isRecord(body.options.device) ? body.options.device : {};
    let deviceId = device.deviceId;
    if (isRecord(deviceId) && typeof deviceId.$oid === 'string') deviceId = deviceId.$oid;
    if (typeof deviceId !== 'string' || !/^[0-9a-f]{24}$/.test(deviceId) || deviceId === NO_DEVICE) deviceId = newId();
    const sid = newId();
    const iat = Math.floor(Date.now() / 1000);
    const ttl = provider === 'anon-user' ? 5 * 365 * 24 * 3600 : REFRESH_TTL_SECONDS;
    const claims = { typ: 'refresh', sub: user.id, app: app.appId, baas_id: sid, baas_device_id: deviceId, iat, exp: iat + ttl };
    const refresh = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}.${randomToken()}`;
    const session: StoredSession = {
      id: sid,
      userId: user.id,
      tokenHash: tokenHash(refresh),
      deviceId: deviceId as string,
      provider,
      createdAt: new Date().toISOString(),
      expiresAt: (iat + ttl) * 1000,
    };
    await users.putSession(app.appId, session);
    user.lastLoginAt = session.createdAt;
    await users.putUser(app.appId, user);
    announceAuth(app, 'LOGIN', [provider], user);
    const access = await accessToken(app, user, session);
    return JSON.stringify({ access_token: access, refresh_token: refresh, user_id: user.id, device_id: deviceId });
  };

  /** The user of an identity, made (and announced to on_user_creation_function_name) when new. */
  const userFor = async (
    req: IncomingMessage,
    app: ClientApp,
    identity: { id: string; provider_type: string; data?: Record<string, unknown> },
    data: Record<string, unknown>,
    type: StoredUser['type'] = 'normal',
  ): Promise<StoredUser> => {
    const known = await users.findUserByIdentity(app.appId, identity.provider_type, identity.id);
    if (known) {
      if (Object.keys(data).length) {
        known.data = { ...known.data, ...data };
        const mine = known.identities.find((i) => i.provider_type === identity.provider_type && i.id === identity.id);
        if (mine && identity.data) mine.data = identity.data;
      }
      return known;
    }
    const user: StoredUser = { id: newId(), type, disabled: false, data, identities: [identity], createdAt: new Date().toISOString() };
    const onCreate = authOf(app).customUserData?.onUserCreationFunctionName;
    if (onCreate) {
      const { outcome } = await options.runCall(
        app,
        {
          name: onCreate,
          args: [fnUserOf(user, {})],
          caller: systemUser(),
          via: 'admin',
          request: options.httpInfo(req, ''),
        },
        { kind: 'service', user: systemUser() },
      );
      if (!outcome.ok) throw new ClientError(400, 'AuthError', `user creation failed: ${outcome.error.message}`);
    }
    await users.putUser(app.appId, user);
    announceAuth(app, 'CREATE', [identity.provider_type], user);
    return user;
  };

  /** Runs one of the app's functions as system (auth functions, confirmation and reset). */
  const runSystem = async (req: IncomingMessage, app: ClientApp, name: string, args: unknown[]): Promise<unknown> => {
    const { outcome } = await options.runCall(
      app,
      { name, args, caller: systemUser(), via: 'admin', ejson: true, request: options.httpInfo(req, '') },
      { kind: 'service', user: systemUser() },
    );
    if (!outcome.ok) throw new ClientError(outcome.error.code === 'FUNCTION_NOT_FOUND' ? 500 : 401, 'AuthError', outcome.error.message);
    if (outcome.result.kind !== 'json') return undefined;
    const { EJSON } = await loadBson();
    return EJSON.parse(outcome.result.json, { relaxed: true });
  };

  // ---- providers ----

  const login = async (req: IncomingMessage, res: ServerResponse, app: ClientApp, name: string, query: URLSearchParams) => {
    if (/^oauth2-/.test(name))
      throw new ClientError(
        400,
        'AuthProviderNotFound',
        `authentication via '${name}' is not available on fn: OAuth providers need the provider's servers; use custom-token (a JWT from your identity provider) or custom-function`,
      );
    if (query.get('link') === 'true')
      throw new ClientError(400, 'InvalidParameter', 'linking identities (?link=true) is not supported by fn: log in with one provider');
    if (query.has('redirect')) throw new ClientError(400, 'InvalidParameter', 'the redirect login flow is not supported by fn');
    const provider = providerOf(app, name, ['anon-user', 'local-userpass', 'api-key', 'custom-token', 'custom-function']);
    const { value: body } = await readJson(req);
    let user: StoredUser;
    switch (provider.type) {
      case 'anon-user': {
        limit(req, app.appId);
        user = await userFor(req, app, { id: `${newId()}-anon`, provider_type: 'anon-user' }, {});
        break;
      }
      case 'local-userpass': {
        const email = str(body, 'username');
        const password = str(body, 'password');
        limit(req, app.appId, `local-userpass\0${email}`);
        const account = await users.getPassword(app.appId, email);
        const good = await verifyPassword(password, account?.hash);
        if (!account || !good) throw new ClientError(401, 'InvalidPassword', 'invalid username/password');
        if (account.status !== 'confirmed') throw new ClientError(401, 'AuthError', 'confirmation required');
        perAccount.reset(`${app.appId}\0local-userpass\0${email}`);
        user = await userFor(req, app, { id: account.id, provider_type: 'local-userpass', data: { email } }, { email });
        break;
      }
      case 'api-key': {
        const key = str(body, 'key');
        limit(req, app.appId);
        const stored = await users.findApiKey(app.appId, tokenHash(key));
        if (!stored || stored.disabled) throw new ClientError(401, 'InvalidSession', 'invalid API key');
        const owner = await users.getUser(app.appId, stored.userId);
        if (!owner) throw new ClientError(401, 'InvalidSession', 'invalid API key');
        user = owner;
        break;
      }
      case 'custom-token': {
        const token = str(body, 'token');
        limit(req, app.appId);
        const result = verifyCustomJwt(token, jwtCheckOf(provider, authOf(app).secrets));
        if (!result.ok) throw new ClientError(401, 'AuthError', `invalid custom auth token: ${result.message}`);
        user = await userFor(req, app, { id: result.sub, provider_type: 'custom-token', data: result.data }, result.data);
        await users.putUser(app.appId, user);
        break;
      }
      default: {
        // custom-function: the payload without the SDK's options.
        const fnName = provider.config.authFunctionName;
        if (typeof fnName !== 'string' || fnName === '')
          throw new ClientError(500, 'AuthError', `the custom-function provider has no config.authFunctionName in auth/providers.json`);
        limit(req, app.appId);
        const { options: _drop, ...payload } = body;
        const value = await runSystem(req, app, fnName, [payload]);
        const id = typeof value === 'string' ? value : isRecord(value) && typeof value.id === 'string' ? value.id : undefined;
        if (!id) throw new ClientError(401, 'AuthError', `the auth function "${fnName}" must return a user id string or { id, name }`);
        const data = isRecord(value) && typeof value.name === 'string' ? { name: value.name } : {};
        user = await userFor(req, app, { id, provider_type: 'custom-function' }, data);
      }
    }
    sendClientJson(res, 200, await openSession(app, user, provider.type, body));
  };

  // ---- email/password ----

  const newTokenPair = () => ({ token: randomToken(), tokenId: randomToken(12) });

  /** Runs the confirmation function: success confirms, pending waits for confirm, fail removes. */
  const runConfirmation = async (req: IncomingMessage, app: ClientApp, provider: AuthProvider, account: StoredPassword) => {
    const fnName = provider.config.confirmationFunctionName;
    if (typeof fnName !== 'string' || fnName === '')
      throw new ClientError(500, 'AuthError', 'runConfirmationFunction is set but config.confirmationFunctionName is not');
    const { token, tokenId } = newTokenPair();
    const value = await runSystem(req, app, fnName, [{ username: account.email, token, tokenId }]);
    const status = isRecord(value) ? value.status : undefined;
    if (status === 'success') {
      account.status = 'confirmed';
      delete account.confirm;
      await users.putPassword(app.appId, account);
    } else if (status === 'pending') {
      account.confirm = { tokenHash: tokenHash(token), tokenId, expiresAt: Date.now() + USERPASS_TOKEN_MS };
      await users.putPassword(app.appId, account);
    } else {
      await users.deletePassword(app.appId, account.email);
      throw new ClientError(400, 'AuthError', `failed to confirm user "${account.email}"`);
    }
  };

  const userpass = async (req: IncomingMessage, res: ServerResponse, app: ClientApp, action: string) => {
    const provider = providerOf(app, 'local-userpass', ['local-userpass']);
    const config = provider.config;
    const { value: body } = await readJson(req);
    const done = () => sendClientJson(res, 200, '{}');
    switch (action) {
      case 'register': {
        const email = str(body, 'email');
        const password = str(body, 'password');
        limit(req, app.appId, `local-userpass\0${email}`);
        checkEmail(email);
        checkPassword(password);
        if (await users.getPassword(app.appId, email)) throw new ClientError(409, 'AccountNameInUse', 'name already in use');
        const account: StoredPassword = {
          email,
          id: newId(),
          hash: await hashPassword(password),
          status: config.autoConfirm === true ? 'confirmed' : 'pending',
          createdAt: new Date().toISOString(),
        };
        // Checked again after the hash (which yields): two registrations of one email at once make one account.
        if (await users.getPassword(app.appId, email)) throw new ClientError(409, 'AccountNameInUse', 'name already in use');
        await users.putPassword(app.appId, account);
        if (account.status === 'pending' && config.runConfirmationFunction === true) await runConfirmation(req, app, provider, account);
        return done();
      }
      case 'confirm': {
        const token = str(body, 'token');
        const tokenId = str(body, 'tokenId');
        limit(req, app.appId);
        const account = await users.findPasswordByToken(app.appId, 'confirm', tokenId);
        if (!account?.confirm || account.confirm.expiresAt <= Date.now() || !sameHash(account.confirm.tokenHash, tokenHash(token)))
          throw new ClientError(400, 'UserpassTokenInvalid', 'invalid token data');
        account.status = 'confirmed';
        delete account.confirm;
        await users.putPassword(app.appId, account);
        return done();
      }
      case 'confirm/send':
      case 'confirm/call': {
        const email = str(body, 'email');
        limit(req, app.appId, `local-userpass\0${email}`);
        const account = await users.getPassword(app.appId, email);
        if (!account) throw new ClientError(404, 'UserNotFound', 'user not found');
        if (account.status === 'confirmed') throw new ClientError(409, 'UserAlreadyConfirmed', 'already confirmed');
        if (action === 'confirm/call' && config.autoConfirm === true)
          throw new ClientError(400, 'BadRequest', `cannot run confirmation for ${email}: automatic confirmation is enabled`);
        if (config.runConfirmationFunction === true || action === 'confirm/call') {
          await runConfirmation(req, app, provider, account);
          return done();
        }
        throw new ClientError(
          400,
          'BadRequest',
          'fn sends no email: confirm accounts with a confirmation function (runConfirmationFunction), autoConfirm, or fn users create',
        );
      }
      case 'reset/send':
        if (config.runResetFunction === true) throw new ClientError(400, 'BadRequest', 'please use reset password via function');
        throw new ClientError(400, 'BadRequest', 'fn sends no email: reset passwords with a reset function (runResetFunction)');
      case 'reset/call': {
        const email = str(body, 'email');
        const password = str(body, 'password');
        limit(req, app.appId, `local-userpass\0${email}`);
        if (config.runResetFunction !== true) throw new ClientError(400, 'BadRequest', 'reset function is not enabled');
        const fnName = config.resetFunctionName;
        if (typeof fnName !== 'string' || fnName === '') throw new ClientError(500, 'AuthError', 'config.resetFunctionName is not set');
        checkPassword(password);
        const account = await users.getPassword(app.appId, email);
        if (!account) throw new ClientError(404, 'UserNotFound', 'user not found');
        const { token, tokenId } = newTokenPair();
        const extra = Array.isArray(body.arguments) ? body.arguments : [];
        const value = await runSystem(req, app, fnName, [
          { username: email, password, token, tokenId, currentPasswordValid: false },
          ...extra,
        ]);
        const status = isRecord(value) ? value.status : undefined;
        if (status === 'success') {
          account.hash = await hashPassword(password);
          delete account.reset;
        } else if (status === 'pending')
          account.reset = {
            tokenHash: tokenHash(token),
            tokenId,
            hash: await hashPassword(password),
            expiresAt: Date.now() + USERPASS_TOKEN_MS,
          };
        else throw new ClientError(400, 'AuthError', `failed to reset password for user "${email}"`);
        await users.putPassword(app.appId, account);
        return done();
      }
      case 'reset': {
        const token = str(body, 'token');
        const tokenId = str(body, 'tokenId');
        const password = str(body, 'password');
        limit(req, app.appId);
        checkPassword(password);
        const account = await users.findPasswordByToken(app.appId, 'reset', tokenId);
        if (!account?.reset || account.reset.expiresAt <= Date.now() || !sameHash(account.reset.tokenHash, tokenHash(token)))
          throw new ClientError(400, 'UserpassTokenInvalid', 'invalid token data');
        account.hash = await hashPassword(password);
        delete account.reset;
        await users.putPassword(app.appId, account);
        return done();
      }
      default:
        throw new ClientError(404, 'NotFound', `no route POST .../auth/providers/local-userpass/${action}`);
    }
  };

  // ---- sessions, profile, API keys ----

  const profileOf = (user: StoredUser, customData: Record<string, unknown>) =>
    JSON.stringify({
      user_id: user.id,
      domain_id: NO_DEVICE,
      type: user.type,
      identities: user.identities.map((i) => ({ id: i.id, provider_type: i.provider_type, provider_id: i.provider_type })),
      data: user.data,
      custom_data: customData,
    });

  const revoke = (sessionId: string) => revokeSession(options.revoked, sessionId);

  const authRoutes = async (req: IncomingMessage, res: ServerResponse, method: string, rest: string[]) => {
    const [what, id, verb] = rest;
    if (what === 'session' && rest.length === 1 && method === 'POST') {
      const { appId, session, user } = await refreshSession(req);
      const app = appOf(appId);
      return sendClientJson(res, 201, JSON.stringify({ access_token: await accessToken(app, user, session) }));
    }
    if (what === 'session' && rest.length === 1 && method === 'DELETE') {
      const { appId, session } = await refreshSession(req);
      await users.deleteSession(appId, session.id);
      revoke(session.id);
      res.writeHead(204);
      return void res.end();
    }
    if (what === 'profile' && rest.length === 1 && method === 'GET') {
      const caller = accessCaller(req);
      await checkSession(caller);
      const user = await users.getUser(caller.appId, caller.user.id);
      if (!user || user.disabled) throw invalidSession();
      return sendClientJson(res, 200, profileOf(user, await customDataOf(appOf(caller.appId), user.id)));
    }
    if (what === 'delete' && rest.length === 1 && method === 'DELETE') {
      const caller = accessCaller(req);
      const gone = await users.getUser(caller.appId, caller.user.id);
      for (const sid of await users.deleteSessionsOf(caller.appId, caller.user.id)) revoke(sid);
      if (caller.sessionId) revoke(caller.sessionId);
      const app = options.appOf(caller.appId);
      if ((await users.deleteUser(caller.appId, caller.user.id)) && gone && app)
        announceAuth(
          app,
          'DELETE',
          gone.identities.map((i) => i.provider_type),
          gone,
        );
      res.writeHead(204);
      return void res.end();
    }
    if (what === 'api_keys') {
      const { appId, user } = await refreshSession(req);
      const keys = await users.listApiKeys(appId, user.id);
      const shown = (k: { id: string; name: string; disabled: boolean }) => ({ _id: k.id, name: k.name, disabled: k.disabled });
      if (id === undefined && method === 'GET') return sendClientJson(res, 200, JSON.stringify(keys.map(shown)));
      if (id === undefined && method === 'POST') {
        if (user.identities.every((i) => i.provider_type === 'anon-user'))
          throw new ClientError(403, 'AuthError', 'anonymous users cannot create API keys');
        const name = str((await readJson(req)).value, 'name');
        if (keys.some((k) => k.name === name))
          throw new ClientError(409, 'APIKeyAlreadyExists', `API key with name '${name}' already exists`);
        if (keys.length >= MAX_USER_API_KEYS)
          throw new ClientError(400, 'BadRequest', `a user has at most ${MAX_USER_API_KEYS} API keys: delete one first`);
        const key = randomToken(48);
        const stored = {
          id: newId(),
          userId: user.id,
          name,
          keyHash: tokenHash(key),
          disabled: false,
          createdAt: new Date().toISOString(),
        };
        await users.putApiKey(appId, stored);
        return sendClientJson(res, 201, JSON.stringify({ ...shown(stored), key }));
      }
      const key = keys.find((k) => k.id === id);
      if (!key) throw new ClientError(404, 'APIKeyNotFound', 'API key not found');
      if (verb === undefined && method === 'GET') return sendClientJson(res, 200, JSON.stringify(shown(key)));
      if (verb === undefined && method === 'DELETE') {
        await users.deleteApiKey(appId, key.id);
        res.writeHead(204);
        return void res.end();
      }
      if ((verb === 'enable' || verb === 'disable') && method === 'PUT') {
        key.disabled = verb === 'disable';
        await users.putApiKey(appId, key);
        res.writeHead(204);
        return void res.end();
      }
    }
    throw new ClientError(404, 'NotFound', `no route ${method} /api/client/v2.0/auth/${rest.join('/')}`);
  };

  // ---- functions/call ----

  const errorCodeOf = (outcome: CallOutcome & { ok: false }, service: boolean): [number, string] => {
    switch (outcome.error.code) {
      case 'FUNCTION_NOT_FOUND':
        return [404, service ? 'ServiceCommandNotFound' : 'FunctionNotFound'];
      case 'EXECUTION_DENIED':
        return [403, 'NotCallable'];
      case 'FUNCTION_ERROR':
        return [400, service ? 'MongoDBError' : 'FunctionExecutionError'];
      case 'EXECUTION_TIME_LIMIT':
        return [400, 'ExecutionTimeLimitExceeded'];
      case 'TOO_MANY_REQUESTS':
        return [429, 'TooManyRequests'];
      default:
        return [outcome.error.status >= 500 ? outcome.error.status : 500, 'InternalServerError'];
    }
  };

  /** A session ended in an earlier process (logout, disable) leaves tokens the revoked set never saw. */
  const checkSession = async (caller: { appId: string; sessionId?: string }) => {
    if (caller.sessionId !== undefined && !(await users.getSession(caller.appId, caller.sessionId))) {
      revoke(caller.sessionId);
      throw invalidSession();
    }
  };

  const functionsCall = async (req: IncomingMessage, res: ServerResponse, app: ClientApp, rawQuery: string) => {
    const caller = accessCaller(req, app.appId);
    await checkSession(caller);
    const { value: body, bytes } = await readJson(req);
    const name = str(body, 'name');
    const args = body.arguments === undefined ? [] : body.arguments;
    if (!Array.isArray(args)) throw new ClientError(400, 'InvalidParameter', '"arguments" must be an array');
    const service = body.service;
    if (service !== undefined && (typeof service !== 'string' || service === ''))
      throw new ClientError(400, 'InvalidParameter', '"service" must be a service name');
    const request: CallRequest = {
      name,
      args,
      caller: caller.user,
      via: 'client',
      ejson: true,
      request: options.httpInfo(req, rawQuery),
      ...(service !== undefined ? { service } : {}),
    };
    const { outcome, entry } = await options.runCall(app, request, { kind: 'user', user: caller.user }, bytes);
    const id = String(entry.id);
    if (!outcome.ok) {
      const [status, code] = errorCodeOf(outcome, service !== undefined);
      const message =
        outcome.error.code === 'FUNCTION_NOT_FOUND' && service === undefined ? `function not found: '${name}'` : outcome.error.message;
      throw new ClientError(status, code, message, { 'x-fn-call-id': id });
    }
    if (outcome.result.kind !== 'json')
      throw new ClientError(
        400,
        'FunctionExecutionError',
        `function "${name}" returned a Response: call it through an HTTPS endpoint instead`,
      );
    sendClientJson(res, 200, outcome.result.json, { 'x-fn-call-id': id });
  };

  /**
   * An endpoint request's credential headers (App Services' application authentication besides a
   * Bearer token): email + password, apiKey (or api-key), jwtTokenString, checked as the login of
   * that provider is. The user they name; with `createUser` (create_user_on_auth), credentials that
   * authenticate but have no user yet make one (CREATE triggers fire), else 401.
   */
  const credentialUser = async (req: IncomingMessage, app: ClientApp, createUser: boolean): Promise<FnUser> => {
    const email = headerOf(req, 'email');
    const password = headerOf(req, 'password');
    const apiKey = headerOf(req, 'apikey') ?? headerOf(req, 'api-key');
    const jwt = headerOf(req, 'jwttokenstring');
    const ofType = (type: string): AuthProvider => {
      const name = Object.keys(authOf(app).providers).find((n) => authOf(app).providers[n]!.type === type) ?? type;
      return providerOf(app, name, [type]);
    };
    let user: StoredUser | undefined;
    if (email !== undefined && password !== undefined) {
      ofType('local-userpass');
      limit(req, app.appId, `local-userpass\0${email}`);
      const account = await users.getPassword(app.appId, email);
      const good = await verifyPassword(password, account?.hash);
      if (!account || !good) throw new ClientError(401, 'InvalidPassword', 'invalid username/password');
      if (account.status !== 'confirmed') throw new ClientError(401, 'AuthError', 'confirmation required');
      user = await users.findUserByIdentity(app.appId, 'local-userpass', account.id);
      if (!user && createUser)
        user = await userFor(req, app, { id: account.id, provider_type: 'local-userpass', data: { email } }, { email });
    } else if (apiKey !== undefined) {
      ofType('api-key');
      limit(req, app.appId);
      const stored = await users.findApiKey(app.appId, tokenHash(apiKey));
      if (!stored || stored.disabled) throw new ClientError(401, 'InvalidSession', 'invalid API key');
      user = await users.getUser(app.appId, stored.userId);
    } else if (jwt !== undefined) {
      const provider = ofType('custom-token');
      limit(req, app.appId);
      const result = verifyCustomJwt(jwt, jwtCheckOf(provider, authOf(app).secrets));
      if (!result.ok) throw new ClientError(401, 'AuthError', `invalid custom auth token: ${result.message}`);
      user = await users.findUserByIdentity(app.appId, 'custom-token', result.sub);
      if (!user && createUser)
        user = await userFor(req, app, { id: result.sub, provider_type: 'custom-token', data: result.data }, result.data);
    } else
      throw new ClientError(
        400,
        'MissingParameter',
        'must specify some form of authentication (either email+password, api-key, or jwt) in the request header or body',
      );
    if (!user)
      throw new ClientError(
        401,
        'InvalidSession',
        'invalid session: error finding user for endpoint (set create_user_on_auth to make users from these credentials)',
      );
    if (user.disabled) throw new ClientError(401, 'UserDisabled', 'user disabled');
    return fnUserOf(user, {});
  };

  /** The open watch streams: each ends (cleanly) when the server stops (endStreams). */
  const streams = new Set<ServerResponse>();

  /**
   * GET functions/call?baas_request=<base64 JSON>: the MongoDB service's watch as server-sent
   * events, realm-web's collection.watch({ ids, filter }). The stream is opened in the app's runner
   * and read through the rules as the caller; each change event is one `data:` line of canonical
   * EJSON (with %, CR and LF percent-encoded, as the SDKs undo), an error one `event: error`.
   */
  const functionsStream = async (req: IncomingMessage, res: ServerResponse, app: ClientApp, query: URLSearchParams) => {
    const at = query.get('baas_at');
    const caller = accessCaller(req, app.appId, at ? `Bearer ${at}` : undefined);
    await checkSession(caller);
    const raw = query.get('baas_request');
    if (!raw) throw new ClientError(400, 'MissingParameter', 'expected the call as ?baas_request=<base64 of {name, arguments, service}>');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch {
      throw new ClientError(400, 'InvalidParameter', 'baas_request is not base64 of a JSON object');
    }
    if (!isRecord(body)) throw new ClientError(400, 'InvalidParameter', 'baas_request is not base64 of a JSON object');
    const service = body.service;
    if (body.name !== 'watch' || typeof service !== 'string' || service === '')
      throw new ClientError(
        400,
        'BadRequest',
        `fn streams only the MongoDB service's watch (got ${JSON.stringify(body.name)}): call other functions with POST functions/call`,
      );
    const arg = Array.isArray(body.arguments) ? (body.arguments[0] as unknown) : undefined;
    if (!isRecord(arg) || typeof arg.database !== 'string' || typeof arg.collection !== 'string' || !arg.database || !arg.collection)
      throw new ClientError(400, 'InvalidParameter', 'watch needs { database, collection } as its argument');
    if (arg.ids !== undefined && !Array.isArray(arg.ids)) throw new ClientError(400, 'InvalidParameter', 'watch: "ids" must be an array');
    if (arg.filter !== undefined && !isRecord(arg.filter))
      throw new ClientError(400, 'InvalidParameter', 'watch: "filter" must be a document (a $match on change events)');
    const watch = app.runtime.watch?.bind(app.runtime);
    if (!watch) throw new ClientError(400, 'BadRequest', 'this server cannot open change streams');
    // App Services' two shorthands: a $match on the documents' ids, then the filter as a $match.
    const pipeline = [
      ...(arg.ids ? [{ $match: { 'documentKey._id': { $in: arg.ids } } }] : []),
      ...(arg.filter ? [{ $match: arg.filter }] : []),
    ];
    // The function context's request: neither the token nor the call itself.
    const shown = new URLSearchParams(query);
    shown.delete('baas_at');
    shown.delete('baas_request');

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    streams.add(res);
    const sse = (text: string) => text.replace(/%/g, '%25').replace(/\n/g, '%0A').replace(/\r/g, '%0D');
    let token: { _data: string } | undefined;
    const handlers: WatchHandlers = {
      resumeToken: () => token,
      event: (t, ejson, next) => {
        if (res.writableEnded || res.destroyed) return;
        token = { _data: t };
        // The next event only once this one is on its way: a slow client holds up its own stream only.
        if (res.write(`data: ${sse(ejson)}\n\n`)) next();
        else res.once('drain', next);
      },
      error: (message) => {
        if (res.writableEnded || res.destroyed) return;
        res.end(`event: error\ndata: ${sse(JSON.stringify({ error: message, error_code: 'MongoDBError' }))}\n\n`);
      },
    };
    const close = watch(
      service,
      {
        db: arg.database,
        coll: arg.collection,
        client: { user: caller.user, request: options.httpInfo(req, shown.toString()), pipeline: JSON.stringify(pipeline) },
      },
      handlers,
    );
    res.once('close', () => {
      streams.delete(res);
      close();
    });
  };

  const handle = async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    rest: string[],
    query: URLSearchParams,
    rawQuery: string,
  ): Promise<void> {
    try {
      const [area, appId, ...tail] = rest;
      if (area === 'auth') return await authRoutes(req, res, method, rest.slice(1));
      if (area === 'app' && appId !== undefined) {
        const path = tail.join('/');
        if (path === 'location' && method === 'GET') {
          appOf(appId);
          const origin = publicOrigin(req, options.trustProxy);
          return sendClientJson(
            res,
            200,
            JSON.stringify({ deployment_model: 'GLOBAL', location: 'US-VA', hostname: origin, ws_hostname: origin.replace(/^http/, 'ws') }),
          );
        }
        const app = appOf(appId);
        if (path === 'functions/call' && method === 'POST') return await functionsCall(req, res, app, rawQuery);
        if (path === 'functions/call' && method === 'GET') return await functionsStream(req, res, app, query);
        if (tail[0] === 'auth' && tail[1] === 'providers' && tail[2] !== undefined && method === 'POST') {
          if (tail.length === 4 && tail[3] === 'login') return await login(req, res, app, tail[2], query);
          if (tail[2] === 'local-userpass' && tail.length >= 4) return await userpass(req, res, app, tail.slice(3).join('/'));
        }
      }
      throw new ClientError(404, 'NotFound', `no route ${method} /api/client/v2.0/${rest.join('/')}`);
    } catch (error) {
      if (error instanceof ClientError) return sendClientError(res, error);
      const status = (error as { status?: unknown }).status;
      const message = (error as Error)?.message ?? String(error);
      if (typeof status === 'number' && status < 500) return sendClientError(res, new ClientError(status, 'BadRequest', message));
      sendClientError(res, new ClientError(500, 'InternalServerError', `internal server error: ${message}`));
    }
  };
  /** Ends every open watch stream (the server is stopping): each client sees its stream end. */
  const endStreams = (): void => {
    for (const res of streams) res.end();
    streams.clear();
  };
  return Object.assign(handle, { credentialUser, endStreams });
}

/** App Services' password rule: 6 to 128 characters. */
export function checkPassword(password: string): void {
  if (password.length < 6 || password.length > 128)
    throw new ClientError(400, 'BadRequest', 'password must be between 6 and 128 characters');
}

export function checkEmail(email: string): void {
  if (email.length > 256 || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new ClientError(400, 'BadRequest', 'email invalid');
}

/** Refuses a session's access tokens from now on, in this process. */
export function revokeSession(revoked: Set<string>, sessionId: string): void {
  revoked.add(sessionId);
  // Its access tokens die within ACCESS_TTL_SECONDS anyway: the set stays bounded.
  if (revoked.size > 100_000) revoked.delete(revoked.values().next().value!);
}

function jwtCheckOf(provider: AuthProvider, secrets: Record<string, unknown>) {
  const config = provider.config;
  if (config.useJWKURI === true)
    throw new ClientError(400, 'AuthError', 'custom-token with a JWK URI (useJWKURI) is not supported by fn: give the key as a secret');
  const names = provider.secretConfig.signingKeys ?? provider.secretConfig.signingKey;
  const keys = (Array.isArray(names) ? names : [names]).flatMap((n) =>
    typeof n === 'string' && typeof secrets[n] === 'string' ? [secrets[n]] : [],
  );
  const audience = typeof config.audience === 'string' ? [config.audience] : Array.isArray(config.audience) ? config.audience : [];
  return {
    algorithm: config.signingAlgorithm === 'RS256' ? ('RS256' as const) : ('HS256' as const),
    keys,
    audience: audience.filter((a): a is string => typeof a === 'string' && a !== ''),
    requireAnyAudience: config.requireAnyAudience === true,
    metadataFields: provider.metadataFields,
  };
}
