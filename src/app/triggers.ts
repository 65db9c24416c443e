// The app's triggers: triggers/<name>.json, each a SCHEDULED, DATABASE or AUTHENTICATION trigger
// whose FUNCTION event processor names the function it runs (as the system user). Loading never
// throws on bad user data: a trigger that cannot run is kept with `broken` saying why (it never
// fires; fn validate reports it with its position).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { parseJsonFile, type JsonFile } from '../manifest/json-file.js';
import { CronError, parseCron } from './cron.js';
import { validateTriggerSchema } from './trigger-schema.generated.js';

export type TriggerType = 'SCHEDULED' | 'DATABASE' | 'AUTHENTICATION';

/** A database trigger's change stream: which collection, which events, what each carries. */
export interface DatabaseTriggerSpec {
  /** The data source name (service_name). */
  service: string;
  /** "" = every database of the source. */
  database: string;
  /** "" = every collection of the database. */
  collection: string;
  /** The configured types (INSERT, UPDATE, ...); empty = all. */
  operationTypes: string[];
  match: Record<string, unknown> | undefined;
  project: Record<string, unknown> | undefined;
  fullDocument: boolean;
  fullDocumentBeforeChange: boolean;
  unordered: boolean;
  tolerateResumeErrors: boolean;
}

export interface TriggerSpec {
  name: string;
  /** triggers/<file>.json, from the app root. */
  file: string;
  type: TriggerType;
  disabled: boolean;
  /** The function it runs (event_processors.FUNCTION.config.function_name). */
  functionName: string;
  /** Set when it cannot run: why (it never fires). */
  broken?: string;
  skipCatchup: boolean;
  /** SCHEDULED: the 5-field cron text. */
  schedule?: string;
  database?: DatabaseTriggerSpec;
  auth?: { operationType: string; providers: string[] };
}

export interface LoadedTriggers {
  triggers: TriggerSpec[];
  /** Every file read, for the checks with positions. */
  files: JsonFile[];
  diagnostics: Diagnostic[];
}

/** The config's operation type → the change event's operationType. */
export const OPERATION_TYPES: Record<string, string> = {
  INSERT: 'insert',
  UPDATE: 'update',
  REPLACE: 'replace',
  DELETE: 'delete',
  CREATE_COLLECTION: 'create',
  MODIFY_COLLECTION: 'modify',
  RENAME_COLLECTION: 'rename',
  SHARD_COLLECTION: 'shardCollection',
  DROP_COLLECTION: 'drop',
  RESHARD_COLLECTION: 'reshardCollection',
  REFINE_COLLECTION_SHARD_KEY: 'refineCollectionShardKey',
  CREATE_INDEXES: 'createIndexes',
  DROP_INDEXES: 'dropIndexes',
  DROP_DATABASE: 'dropDatabase',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listJson(root: string): string[] {
  try {
    return readdirSync(join(root, 'triggers'))
      .filter((f) => f.endsWith('.json') && statSync(join(root, 'triggers', f)).isFile())
      .sort();
  } catch {
    return [];
  }
}

/** The trigger files of an app folder, path → text: what fn push deploys. */
export function triggerFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listJson(root)) {
    try {
      out[`triggers/${f}`] = readFileSync(join(root, 'triggers', f), 'utf8');
    } catch {
      // Unreadable: fn validate says so.
    }
  }
  return out;
}

/** The triggers of an app folder, or of the files a deployment carries (`files`: path → text). */
export function loadTriggers(root: string, files?: Record<string, string>): LoadedTriggers {
  const texts = files ?? triggerFiles(root);
  const out: LoadedTriggers = { triggers: [], files: [], diagnostics: [] };
  const names = new Set<string>();
  for (const rel of Object.keys(texts).sort()) {
    if (!/^triggers\/[^/]+\.json$/.test(rel)) continue;
    const raw = texts[rel]!;
    if (raw.trim() === '') continue;
    const file = parseJsonFile(join(root, rel), rel, raw);
    for (const e of file.syntaxErrors)
      out.diagnostics.push(diagnostic('json-syntax', e.message, { file: rel, line: e.line, column: e.column }));
    if (file.syntaxErrors.length) continue;
    out.files.push(file);
    const spec = specOf(file, rel);
    if (!spec) continue;
    if (names.has(spec.name)) {
      out.diagnostics.push(
        diagnostic(
          'trigger-invalid',
          `a second trigger is named "${spec.name}"`,
          { file: rel, line: 1, column: 1, pointer: '/name' },
          'give each trigger its own name',
        ),
      );
      continue;
    }
    names.add(spec.name);
    out.triggers.push(spec);
  }
  return out;
}

function specOf(file: JsonFile, rel: string): TriggerSpec | undefined {
  const v = file.value;
  if (!isRecord(v)) return undefined;
  const base = rel.slice('triggers/'.length, -'.json'.length);
  const name = typeof v.name === 'string' && v.name !== '' ? v.name : base;
  const type = (['SCHEDULED', 'DATABASE', 'AUTHENTICATION'] as const).find((t) => t === v.type);
  const config = isRecord(v.config) ? v.config : {};
  const processors = isRecord(v.event_processors) ? v.event_processors : {};
  const fnConfig = isRecord(processors.FUNCTION) && isRecord(processors.FUNCTION.config) ? processors.FUNCTION.config : {};
  const functionName =
    typeof fnConfig.function_name === 'string' ? fnConfig.function_name : typeof v.function_name === 'string' ? v.function_name : '';
  const spec: TriggerSpec = {
    name,
    file: rel,
    type: type ?? 'SCHEDULED',
    disabled: v.disabled === true,
    functionName,
    skipCatchup: config.skip_catchup_events === true || config.skip_catchup_event === true,
  };
  const broken = (why: string) => (spec.broken ??= why);
  if (!validateTriggerSchema(v)) {
    const e = validateTriggerSchema.errors?.[0];
    broken(`${e?.instancePath || 'the file'} ${e?.message ?? 'does not match schemas/trigger.schema.json'} (schemas/trigger.schema.json)`);
  }
  if (!type) broken(`"type" must be SCHEDULED, DATABASE or AUTHENTICATION`);
  if (isRecord(processors.AWS_EVENTBRIDGE))
    broken('it sends its events to AWS EventBridge, which fn cannot reach; only FUNCTION event processors run here');
  else if (functionName === '') broken('it names no function (event_processors.FUNCTION.config.function_name)');
  if (type === 'SCHEDULED') {
    spec.schedule = typeof config.schedule === 'string' ? config.schedule : '';
    try {
      parseCron(spec.schedule);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      broken(`its schedule ${error.message}`);
    }
  } else if (type === 'DATABASE') {
    const str = (k: string) => (typeof config[k] === 'string' ? config[k] : '');
    spec.database = {
      service: str('service_name'),
      database: str('database'),
      collection: str('collection'),
      operationTypes: Array.isArray(config.operation_types) ? config.operation_types.filter((t): t is string => typeof t === 'string') : [],
      match: isRecord(config.match) && Object.keys(config.match).length ? config.match : undefined,
      project: isRecord(config.project) && Object.keys(config.project).length ? config.project : undefined,
      fullDocument: config.full_document === true,
      fullDocumentBeforeChange: config.full_document_before_change === true,
      unordered: config.unordered === true,
      tolerateResumeErrors: config.tolerate_resume_errors === true,
    };
    if (spec.database.service === '') broken('it names no data source (config.service_name)');
    for (const t of spec.database.operationTypes)
      if (!Object.hasOwn(OPERATION_TYPES, t)) broken(`operation type "${t}" is not one App Services has`);
  } else if (type === 'AUTHENTICATION') {
    spec.auth = {
      operationType: typeof config.operation_type === 'string' ? config.operation_type : '',
      providers: Array.isArray(config.providers) ? config.providers.filter((p): p is string => typeof p === 'string') : [],
    };
  }
  return spec;
}

export interface TriggerSummary {
  name: string;
  type: TriggerType;
  function: string;
  /** What it fires on: the schedule, or <source>/<db>/<coll>. */
  on: string;
  /** fires, disabled, or why it cannot fire. */
  status: string;
}

export function summarizeTrigger(t: TriggerSpec): TriggerSummary {
  const on =
    t.type === 'SCHEDULED'
      ? (t.schedule ?? '')
      : t.database
        ? [t.database.service, t.database.database || '*', t.database.collection || '*'].join('/')
        : `${t.auth?.operationType ?? ''} ${t.auth?.providers.join(',') ?? ''}`.trim();
  const status = t.broken !== undefined ? `cannot run: ${t.broken}` : t.disabled ? 'disabled' : 'fires';
  return { name: t.name, type: t.type, function: t.functionName, on, status };
}
