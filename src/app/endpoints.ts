// The app's HTTPS endpoints: http_endpoints/config.json (the 20210101 layout) and
// https_endpoints/config.json (the current one), both read when both exist; and the legacy
// incoming webhooks, services/<svc>/incoming_webhooks/<name>/{config.json,source.js} (also under
// http_endpoints/<svc>/), each served at the route its conversion to an endpoint gets:
// /<svc>/<name>. Loading never throws on bad user data: an entry that cannot be used is left out
// and reported (check-endpoints.ts turns the rest into validate's findings).
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, parseJsonFile, type JsonFile } from '../manifest/json-file.js';
import { stripBom } from '../manifest/text.js';
import { diskTree, memoryTree, type Tree } from './data-sources.js';

export type ValidationMethod = 'NO_VALIDATION' | 'SECRET_AS_QUERY_PARAM' | 'VERIFY_PAYLOAD';

/** One endpoint as served: plain data (it travels in the AppBundle). */
export interface EndpointSpec {
  /** Starts with '/'; the path after /app/<appId>/endpoint. */
  route: string;
  /** GET, POST, PUT, PATCH, DELETE (HEAD for a webhook), or '*' for any method. */
  method: string;
  /** The function it runs (a webhook's own source: WEBHOOK_PREFIX + <svc>/<name>). */
  functionName: string;
  validation: ValidationMethod;
  /** The app secret the validation checks against (endpoints). */
  secretName: string;
  respondResult: boolean;
  returnType: 'JSON' | 'EJSON';
  fetchCustomUserData: boolean;
  /** Credential headers that check out but name no user make one (the client API's credentialUser). */
  createUserOnAuth: boolean;
  disabled: boolean;
  /** Where it is declared: the file and the JSON pointer of the entry. */
  file: string;
  pointer: string;
  /** A legacy webhook: called as fn(payload, response); its secret is the value itself. */
  webhook?: { service: string; name: string; secret: string };
}

/** A legacy webhook's own function (its source.js), with the run-as of its config. */
export interface WebhookFunction {
  name: string;
  file: string;
  source: string;
  canEvaluate: Record<string, unknown> | boolean;
  runAsSystem: boolean;
  runAsUserId: string;
  runAsUserIdScriptSource: string;
  disableArgLogs: boolean;
}

/** The function name a webhook's source gets: no function file can have it (':' is not in a file name fn makes). */
export const WEBHOOK_PREFIX = 'webhook:';

export const ENDPOINT_FILES = ['http_endpoints/config.json', 'https_endpoints/config.json'] as const;
export const ENDPOINT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', '*'] as const;
const VALIDATIONS = new Set<string>(['NO_VALIDATION', 'SECRET_AS_QUERY_PARAM', 'VERIFY_PAYLOAD']);

export interface LoadedEndpoints {
  endpoints: EndpointSpec[];
  webhooks: WebhookFunction[];
  /** Every JSON file read, for schema checks with positions. */
  files: { kind: 'endpoints' | 'webhook'; file: JsonFile }[];
  /** Every file of endpoints and webhooks, path → text: what fn push deploys. */
  texts: Record<string, string>;
  diagnostics: Diagnostic[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The endpoints of an app folder, or of the files a deployment carries (`files`: path → text). */
export function loadEndpoints(root: string, files?: Record<string, string>): LoadedEndpoints {
  const tree: Tree = files ? memoryTree(files) : diskTree(root);
  const out: LoadedEndpoints = { endpoints: [], webhooks: [], files: [], texts: {}, diagnostics: [] };
  const read = (rel: string, kind: 'endpoints' | 'webhook'): JsonFile | undefined => {
    const raw = tree.read(rel);
    if (raw === undefined) return undefined;
    out.texts[rel] = raw;
    if (raw.trim() === '') return undefined;
    const file = parseJsonFile(`${root}/${rel}`, rel, raw);
    for (const e of file.syntaxErrors)
      out.diagnostics.push(diagnostic('json-syntax', e.message, { file: rel, line: e.line, column: e.column }));
    if (file.syntaxErrors.length) return undefined;
    out.files.push({ kind, file });
    return file;
  };

  for (const rel of ENDPOINT_FILES) {
    const file = read(rel, 'endpoints');
    // One real export's file is the literal null: no endpoints.
    if (!file || !Array.isArray(file.value)) continue;
    file.value.forEach((item: unknown, index) => {
      if (!isRecord(item)) return;
      const route = str(item.route);
      const method = str(item.http_method).toUpperCase();
      const functionName = str(item.function_name);
      // The schema check reports what is missing; an entry without these three cannot be served.
      if (!route.startsWith('/') || !functionName || !(ENDPOINT_METHODS as readonly string[]).includes(method)) return;
      const validation = VALIDATIONS.has(str(item.validation_method)) ? (str(item.validation_method) as ValidationMethod) : 'NO_VALIDATION';
      out.endpoints.push({
        route: normalizeRoute(route),
        method,
        functionName,
        validation,
        secretName: str(item.secret_name),
        respondResult: item.respond_result === true,
        returnType: item.return_type === 'EJSON' ? 'EJSON' : 'JSON',
        fetchCustomUserData: item.fetch_custom_user_data === true,
        createUserOnAuth: item.create_user_on_auth === true,
        disabled: item.disabled === true,
        file: rel,
        pointer: `/${index}`,
      });
    });
  }

  for (const base of ['services', 'http_endpoints']) {
    for (const service of tree.dirs(base)) {
      const hooks = `${base}/${service}/incoming_webhooks`;
      for (const dir of tree.dirs(hooks)) {
        const rel = `${hooks}/${dir}`;
        const config = read(`${rel}/config.json`, 'webhook');
        const sourceRel = `${rel}/source.js`;
        const source = tree.read(sourceRel);
        if (source !== undefined) out.texts[sourceRel] = source;
        if (!config || !isRecord(config.value)) continue;
        if (source === undefined) {
          out.diagnostics.push(
            diagnostic(
              'endpoint-invalid',
              `the webhook ${service}/${dir} has no source.js`,
              { file: config.relPath, line: 1, column: 1 },
              `add ${sourceRel} (exports = function (payload, response) { ... })`,
            ),
          );
          continue;
        }
        const v = config.value;
        const name = str(v.name) || dir;
        const options = isRecord(v.options) ? v.options : {};
        const httpMethod = str(options.httpMethod).toUpperCase() || 'ANY';
        const validation = VALIDATIONS.has(str(options.validationMethod))
          ? (str(options.validationMethod) as ValidationMethod)
          : 'NO_VALIDATION';
        const runAsUserId = str(v.run_as_user_id);
        const script = str(v.run_as_user_id_script_source);
        const functionName = `${WEBHOOK_PREFIX}${service}/${name}`;
        out.webhooks.push({
          name: functionName,
          file: sourceRel,
          source: stripBom(source),
          canEvaluate: isRecord(v.can_evaluate) || typeof v.can_evaluate === 'boolean' ? v.can_evaluate : {},
          // All three empty: the system user; run_as_authed_user: the caller (application authentication).
          runAsSystem: v.run_as_authed_user !== true && runAsUserId === '' && script.trim() === '',
          runAsUserId,
          runAsUserIdScriptSource: script,
          disableArgLogs: v.disable_arg_logs === true,
        });
        out.endpoints.push({
          route: normalizeRoute(`/${service}/${name}`),
          method: httpMethod === 'ANY' ? '*' : httpMethod,
          functionName,
          validation,
          secretName: '',
          respondResult: v.respond_result === true,
          returnType: 'JSON',
          fetchCustomUserData: v.fetch_custom_user_data === true,
          createUserOnAuth: v.create_user_on_auth === true,
          disabled: false,
          file: config.relPath,
          pointer: '',
          webhook: { service, name, secret: str(options.secret) },
        });
      }
    }
  }
  out.texts = Object.fromEntries(Object.entries(out.texts).sort(([a], [b]) => (a < b ? -1 : 1)));
  return out;
}

/** The endpoint files of an app folder, path → text (sorted): what fn push deploys. */
export function endpointFiles(root: string): Record<string, string> {
  return loadEndpoints(root).texts;
}

/** A route as the server matches it: one '/' between segments, none at the end. */
export function normalizeRoute(route: string): string {
  const segments = route.split('/').filter((s) => s !== '');
  return `/${segments.join('/')}`;
}

/** The endpoint for a request: the one of its route and method, else one of its route for any method. */
export function matchEndpoint(
  endpoints: readonly EndpointSpec[],
  route: string,
  method: string,
): { endpoint: EndpointSpec } | { methods: string[] } | undefined {
  let any: EndpointSpec | undefined;
  const methods: string[] = [];
  for (const e of endpoints) {
    if (e.route !== route) continue;
    if (e.method === method) return { endpoint: e };
    if (e.method === '*') any ??= e;
    methods.push(e.method);
  }
  if (any) return { endpoint: any };
  return methods.length ? { methods } : undefined;
}

/** Where an endpoint entry is, for a diagnostic about it. */
export function endpointLocation(
  file: JsonFile,
  pointer: string,
  key?: string,
): { file: string; line: number; column: number; pointer: string } {
  const index = Number(pointer.slice(1));
  const path = pointer === '' ? (key ? [key] : []) : key ? [index, key] : [index];
  return { file: file.relPath, ...locate(file, path), pointer: `${pointer}${key ? `/${key}` : ''}` };
}
