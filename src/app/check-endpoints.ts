// fn validate's rules for HTTPS endpoints and legacy webhooks: the files against their schemas
// (schemas/http-endpoints.schema.json, schemas/incoming-webhook.schema.json), two endpoints of one
// route and method, a function_name naming no function, a secret_name naming no secret, a
// validation method without its secret, and the webhook sources (as function sources).
import { checkExpression } from '../expression/check.js';
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, type JsonFile, type JsonPath } from '../manifest/json-file.js';
import { suggest } from '../manifest/suggest.js';
import { checkSource } from '../source/check-source.js';
import { validateEndpointsSchema } from './endpoints-schema.generated.js';
import { endpointLocation, loadEndpoints } from './endpoints.js';
import { validateWebhookSchema } from './webhook-schema.generated.js';

function pathOf(instancePath: string): JsonPath {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => {
      const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(key) ? Number(key) : key;
    });
}

function pointerOf(path: JsonPath): string {
  return path.length ? `/${path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : '';
}

function schemaDiagnostics(file: JsonFile, kind: 'endpoints' | 'webhook'): Diagnostic[] {
  // The literal null (seen in a real export) declares no endpoints.
  if (kind === 'endpoints' && file.value === null) return [];
  const validate = kind === 'endpoints' ? validateEndpointsSchema : validateWebhookSchema;
  if (validate(file.value)) return [];
  const hint = kind === 'endpoints' ? 'see schemas/http-endpoints.schema.json' : 'see schemas/incoming-webhook.schema.json';
  return (validate.errors ?? []).map((e) => {
    const path = pathOf(e.instancePath);
    const where = e.instancePath || 'the file';
    const message =
      e.keyword === 'required'
        ? `${where} needs "${String(e.params.missingProperty)}"`
        : e.keyword === 'enum'
          ? `${where} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
          : e.keyword === 'pattern' && path[path.length - 1] === 'route'
            ? `${where} must start with "/"`
            : `${where} ${e.message ?? 'is invalid'}`;
    return diagnostic('endpoint-invalid', message, { file: file.relPath, ...locate(file, path), pointer: pointerOf(path) }, hint);
  });
}

export interface EndpointCheckInput {
  /** The app's function names (entries with a source, and sources). */
  functions: ReadonlySet<string>;
  /** The secrets this folder knows (.fn/secrets.json), or undefined when it cannot tell. */
  secrets: ReadonlySet<string> | undefined;
}

/** Every endpoint finding of the app at `root`. */
export function checkEndpoints(root: string, input: EndpointCheckInput): Diagnostic[] {
  const loaded = loadEndpoints(root);
  const out: Diagnostic[] = [...loaded.diagnostics];
  const files = new Map(loaded.files.map(({ file }) => [file.relPath, file]));
  for (const { kind, file } of loaded.files) {
    out.push(...schemaDiagnostics(file, kind));
    if (kind === 'webhook') {
      const expr = (file.value as { can_evaluate?: unknown }).can_evaluate;
      if (typeof expr === 'object' && expr !== null && !Array.isArray(expr))
        for (const p of checkExpression(expr)) {
          const at = ['can_evaluate', ...p.path];
          out.push(
            diagnostic(
              'invalid-expression',
              p.message,
              { file: file.relPath, ...locate(file, at, { key: p.key === true }), pointer: pointerOf(at) },
              p.hint,
            ),
          );
        }
    }
  }
  for (const w of loaded.webhooks)
    for (const p of checkSource(w.source))
      out.push(diagnostic(p.rule, p.message, { file: w.file, line: p.line, column: p.column }, p.hint));

  const seen = new Map<string, string>();
  for (const e of loaded.endpoints) {
    const file = files.get(e.file)!;
    const where = (key?: string) => endpointLocation(file, e.pointer, key);
    const key = `${e.method} ${e.route}`;
    const first = seen.get(key);
    if (first !== undefined)
      out.push(
        diagnostic(
          'duplicate-endpoint',
          `a second endpoint for ${e.method === '*' ? 'any method' : e.method} ${e.route} (the first is ${first}); only the first is served`,
          where(e.webhook ? undefined : 'route'),
          'give each route and method one endpoint, or remove one',
        ),
      );
    else seen.set(key, `${e.file}${e.pointer ? ` at ${e.pointer}` : ''}`);
    if (e.webhook) {
      if (e.validation !== 'NO_VALIDATION' && e.webhook.secret === '')
        out.push(
          diagnostic(
            'endpoint-invalid',
            `options.validationMethod ${e.validation} needs options.secret (the secret's value)`,
            where('options'),
            'set "secret" in "options", or "validationMethod": "NO_VALIDATION"',
          ),
        );
      continue;
    }
    if (!input.functions.has(e.functionName)) {
      const near = suggest(e.functionName, new Set(input.functions));
      out.push(
        diagnostic(
          'unknown-endpoint-function',
          `the endpoint ${e.method} ${e.route} runs "${e.functionName}", which is no function of this app`,
          where('function_name'),
          near.length
            ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}?`
            : `add functions/${e.functionName}.js (exports = function (request, response) { ... })`,
        ),
      );
    }
    if (e.validation !== 'NO_VALIDATION' && e.secretName === '')
      out.push(
        diagnostic(
          'endpoint-invalid',
          `validation_method ${e.validation} needs "secret_name" (the secret to check against)`,
          where('validation_method'),
          'name a secret in "secret_name", or set "validation_method": "NO_VALIDATION"',
        ),
      );
    else if (e.validation !== 'NO_VALIDATION' && input.secrets && !input.secrets.has(e.secretName))
      out.push(
        diagnostic(
          'unknown-secret',
          `secret_name "${e.secretName}" names no secret of this folder (.fn/secrets.json): every call of ${e.method} ${e.route} would be refused`,
          where('secret_name'),
          `fn secrets set ${e.secretName} (and fn secrets set ${e.secretName} --remote on each server the app is pushed to)`,
        ),
      );
  }
  return out;
}
