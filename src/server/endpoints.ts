// The HTTPS endpoints route, /app/{appId}/endpoint/{route...} (and a legacy webhook's own URL,
// /api/client/v2.0/app/{appId}/service/{svc}/incoming_webhook/{name}): which endpoint a request
// is for, its validation (the secret as ?secret=, or the body's HMAC-SHA256 in a signature
// header, compared in constant time), who it runs as (App Services' endpoint authentication over
// fn's callers), and the CallRequest made of it. Errors answer App Services' body shape,
// { error, error_code }, never fn's { error: { code, message } }.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchEndpoint, normalizeRoute, type EndpointSpec } from '../app/endpoints.js';
import { readSecrets } from '../runtime/bundle.js';
import { freezeUser, systemUser, type AppBundle, type CallError, type CallRequest, type HttpInfo } from '../runtime/types.js';
import type { Caller } from './auth.js';
import { headerOf } from './body.js';
import { ClientError } from './client-error.js';

export function sendEndpointError(
  res: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: message, error_code: errorCode, ...extra });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const ERROR_CODES: Partial<Record<CallError['code'], string>> = {
  FUNCTION_ERROR: 'FunctionExecutionError',
  UNHANDLED_REJECTION: 'FunctionExecutionError',
  RESULT_NOT_SERIALIZABLE: 'FunctionExecutionError',
  FUNCTION_INVALID: 'FunctionExecutionError',
  FUNCTION_NOT_FOUND: 'FunctionNotFound',
  EXECUTION_DENIED: 'FunctionExecutionDenied',
  EXECUTION_TIME_LIMIT: 'ExecutionTimeLimitExceeded',
  TOO_MANY_REQUESTS: 'TooManyRequests',
};

/** App Services' error_code for a failed call (FunctionExecutionError for what the function did). */
export function endpointErrorCode(code: CallError['code']): string {
  return ERROR_CODES[code] ?? code.toLowerCase().replace(/(^|_)([a-z])/g, (_, __: string, c: string) => c.toUpperCase());
}

/** The endpoint of a request's route and method; 404 or 405 (with Allow) when there is none. */
export function findEndpoint(bundle: AppBundle | undefined, routeSegments: string[], method: string, webhookOnly = false): EndpointSpec {
  const route = normalizeRoute(routeSegments.join('/'));
  const endpoints = (bundle?.endpoints ?? []).filter((e) => !webhookOnly || e.webhook);
  const found = matchEndpoint(endpoints, route, method);
  if (!found) throw new ClientError(404, 'EndpointNotFound', `no endpoint for route ${route}`);
  if ('methods' in found)
    throw new ClientError(405, 'MethodNotAllowed', `the endpoint ${route} takes ${found.methods.join(', ')}, not ${method}`, {
      allow: found.methods.join(', '),
    });
  if (found.endpoint.disabled) throw new ClientError(404, 'EndpointDisabled', `the endpoint ${method} ${route} is disabled`);
  return found.endpoint;
}

const sameText = (given: string, expected: string): boolean => {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Compared in constant time; a length that differs fails after the same work.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
};

/**
 * The secret value a validation checks against: a webhook's own, or the app secret named by
 * secret_name, looked up by `secret` (the served app's one lookup, `ServedApp.secret`).
 */
export function validationSecret(endpoint: EndpointSpec, secret: ((name: string) => string | undefined) | undefined): string {
  if (endpoint.webhook) return endpoint.webhook.secret;
  const value = secret?.(endpoint.secretName);
  if (value === undefined || value === '')
    throw new ClientError(
      500,
      'InternalServerError',
      `the endpoint's secret "${endpoint.secretName}" is not set on this server (fn dev: .fn/secrets.json), so no request can pass its ${endpoint.validation}`,
    );
  return value;
}

/** SECRET_AS_QUERY_PARAM and VERIFY_PAYLOAD: 401 unless the request carries the secret or the body's signature. */
export function checkValidation(
  endpoint: EndpointSpec,
  req: IncomingMessage,
  query: URLSearchParams,
  body: Buffer,
  secret: ((name: string) => string | undefined) | undefined,
): void {
  if (endpoint.validation === 'NO_VALIDATION') return;
  const value = validationSecret(endpoint, secret);
  if (endpoint.validation === 'SECRET_AS_QUERY_PARAM') {
    const given = query.get('secret');
    if (given === null || !sameText(given, value))
      throw new ClientError(401, 'InvalidSecret', "the request does not carry the endpoint's secret: add ?secret=<value> to the URL");
    return;
  }
  const header = endpoint.webhook ? 'x-hook-signature' : 'endpoint-signature';
  const given = headerOf(req, header) ?? '';
  const expected = `sha256=${createHmac('sha256', value).update(body).digest('hex')}`;
  if (!sameText(given.trim().toLowerCase(), expected))
    throw new ClientError(
      401,
      'InvalidSignature',
      `the ${endpoint.webhook ? 'X-Hook-Signature' : 'Endpoint-Signature'} header is not sha256=<hex HMAC-SHA256 of the body with the secret>`,
    );
}

/** Credential headers App Services takes besides a Bearer token: the client API checks them (credentialUser); a server without users refuses them. */
const CREDENTIAL_HEADERS = ['email', 'password', 'apikey', 'api-key', 'jwttokenstring'];

/** Whether the request signs in with credential headers: application authentication, no token, some of them. */
export function usesCredentialHeaders(endpoint: EndpointSpec, bundle: AppBundle, caller: Caller, req: IncomingMessage): boolean {
  const fn = Object.hasOwn(bundle.functions, endpoint.functionName) ? bundle.functions[endpoint.functionName] : undefined;
  const applicationAuth = fn !== undefined && !fn.runAsSystem && !fn.runAsUserId && fn.runAsUserIdScriptSource.trim() === '';
  return applicationAuth && caller.kind === 'anonymous' && CREDENTIAL_HEADERS.some((h) => headerOf(req, h) !== undefined);
}

/**
 * Who the call runs as (App Services' endpoint authentication, from the function's run-as): a
 * function with run_as_system runs as the system user; with run_as_user_id or a script as that
 * user (the sandbox resolves it, with the caller as the script's context.user); with none of
 * them (application authentication) as the caller, who must send a token. `caller` is fn's
 * caller of the Authorization header. custom_data is kept only with fetch_custom_user_data.
 */
export function endpointCaller(endpoint: EndpointSpec, bundle: AppBundle, caller: Caller, req: IncomingMessage): CallRequest['caller'] {
  const fn = Object.hasOwn(bundle.functions, endpoint.functionName) ? bundle.functions[endpoint.functionName] : undefined;
  const applicationAuth = fn !== undefined && !fn.runAsSystem && !fn.runAsUserId && fn.runAsUserIdScriptSource.trim() === '';
  if (fn?.runAsSystem || caller.kind === 'service') return systemUser();
  if (applicationAuth && caller.kind === 'anonymous') {
    if (CREDENTIAL_HEADERS.some((h) => headerOf(req, h) !== undefined))
      throw new ClientError(
        400,
        'InvalidParameter',
        'fn signs no one in with credential headers (email/password, apiKey, jwtTokenString): send Authorization: Bearer <access token>',
      );
    throw new ClientError(
      400,
      'MissingParameter',
      `must specify some form of authentication: "${endpoint.functionName}" runs as the caller (application authentication), so send Authorization: Bearer <access token>`,
    );
  }
  const user = caller.user;
  if (caller.kind === 'anonymous' || endpoint.fetchCustomUserData || Object.keys(user.custom_data).length === 0) return user;
  return freezeUser({ ...user, data: { ...user.data }, custom_data: {}, identities: user.identities.map((i) => ({ ...i })) });
}

/** The body format of a return value: from Accept, else the endpoint's return_type. */
export function responseFormat(endpoint: EndpointSpec, accept: string | undefined): 'JSON' | 'EJSON' {
  const a = accept?.toLowerCase() ?? '';
  if (a.includes('application/ejson')) return 'EJSON';
  if (a.includes('application/json')) return 'JSON';
  return endpoint.returnType;
}

/** The CallRequest of an endpoint's request (its body read, validation passed, caller decided). */
export function endpointRequest(
  endpoint: EndpointSpec,
  req: IncomingMessage,
  http: HttpInfo,
  query: URLSearchParams,
  body: Buffer,
  caller: CallRequest['caller'],
): CallRequest {
  const first: Record<string, string> = {};
  for (const [k, v] of query) {
    // The secret is a credential: out of the query as it is out of context.request.rawQueryString.
    if (k === 'secret' || Object.hasOwn(first, k)) continue;
    Object.defineProperty(first, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return {
    name: endpoint.functionName,
    // What the call log shows as its arguments (the function gets request and response instead).
    args: [{ method: http.httpMethod, route: endpoint.route, query: first, bodyBytes: body.byteLength }],
    caller,
    via: 'endpoint',
    request: http,
    endpoint: {
      body: body.byteLength ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : null,
      query: first,
      format: responseFormat(endpoint, headerOf(req, 'accept')),
      respondResult: endpoint.respondResult,
      webhook: endpoint.webhook !== undefined,
    },
  };
}

/**
 * The one secret lookup of a folder's app (fn dev): .fn/secrets.json, through the bundle's
 * readSecrets, read at each use so an edit applies at once. A secret that is not a string is none.
 */
export function folderSecrets(root: string): (name: string) => string | undefined {
  return (name) => {
    const secrets = readSecrets(root);
    const value = Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
}
