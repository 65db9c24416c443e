// fn validate's rules for triggers/*.json: the schema (schemas/trigger.schema.json), the schedule,
// the function and the data source each names, the database and collection names, the operation
// types a collection-level trigger can see, and what fn cannot run (AWS EventBridge).
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { locate, type JsonFile, type JsonPath } from '../manifest/json-file.js';
import { suggest } from '../manifest/suggest.js';
import { pathOf, pointerOf } from './check-data-sources.js';
import { CronError, parseCron } from './cron.js';
import { validateTriggerSchema } from './trigger-schema.generated.js';
import { loadTriggers } from './triggers.js';

const COLLECTION_OPERATIONS = new Set(['INSERT', 'UPDATE', 'REPLACE', 'DELETE']);

function at(file: JsonFile, path: JsonPath): { file: string; line: number; column: number; pointer: string } {
  return { file: file.relPath, ...locate(file, path), pointer: pointerOf(path) };
}

function schemaDiagnostics(file: JsonFile): Diagnostic[] {
  if (validateTriggerSchema(file.value)) return [];
  return (validateTriggerSchema.errors ?? []).map((e) => {
    const path = pathOf(e.instancePath);
    const where = e.instancePath || 'the file';
    const message =
      e.keyword === 'required'
        ? `${where} needs "${String(e.params.missingProperty)}"`
        : e.keyword === 'enum'
          ? `${where} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
          : `${where} ${e.message ?? 'is invalid'}`;
    return diagnostic('trigger-invalid', message, at(file, path), 'see schemas/trigger.schema.json');
  });
}

/** A database name App Services accepts: no / \ . space " $, at most 64 bytes. */
function badDatabaseName(name: string): string | undefined {
  if (/[/\\. "$\0]/.test(name)) return 'may not hold / \\ . space " or $';
  if (Buffer.byteLength(name) > 64) return 'is longer than 64 bytes';
  return undefined;
}

function badCollectionName(name: string): string | undefined {
  if (name.includes('$') || name.includes('\0')) return 'may not hold $';
  if (name.startsWith('system.')) return 'may not start with "system."';
  return undefined;
}

/**
 * Every trigger finding of the app at `root`. `functions`: the names the app has; `dataSources`:
 * its data source names.
 */
export function checkTriggers(root: string, functions: ReadonlySet<string>, dataSources: readonly string[]): Diagnostic[] {
  const loaded = loadTriggers(root);
  const out: Diagnostic[] = [...loaded.diagnostics];
  const byFile = new Map(loaded.triggers.map((t) => [t.file, t]));
  for (const file of loaded.files) {
    const schema = schemaDiagnostics(file);
    out.push(...schema);
    const spec = byFile.get(file.relPath);
    if (!spec) continue;
    const value = file.value as { event_processors?: Record<string, unknown>; function_name?: unknown };
    if (value.event_processors && 'AWS_EVENTBRIDGE' in value.event_processors)
      out.push(
        diagnostic(
          'trigger-invalid',
          `trigger "${spec.name}" sends its events to AWS EventBridge, which fn cannot reach`,
          at(file, ['event_processors', 'AWS_EVENTBRIDGE']),
          'use a FUNCTION event processor: "event_processors": { "FUNCTION": { "config": { "function_name": "<name>" } } }',
        ),
      );
    else if (spec.functionName === '' && !schema.length)
      out.push(
        diagnostic(
          'trigger-invalid',
          `trigger "${spec.name}" names no function`,
          at(file, []),
          'add "event_processors": { "FUNCTION": { "config": { "function_name": "<name>" } } }',
        ),
      );
    else if (spec.functionName !== '' && !functions.has(spec.functionName)) {
      const near = suggest(spec.functionName, functions);
      const path =
        typeof value.function_name === 'string' && !value.event_processors
          ? ['function_name']
          : ['event_processors', 'FUNCTION', 'config', 'function_name'];
      out.push(
        diagnostic(
          'trigger-unknown-function',
          `trigger "${spec.name}" runs "${spec.functionName}", which is no function of this app`,
          at(file, path),
          near.length ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : 'add it with fn add, or name an existing function',
        ),
      );
    }
    if (spec.type === 'SCHEDULED' && typeof spec.schedule === 'string' && spec.schedule !== '') {
      try {
        parseCron(spec.schedule);
      } catch (error) {
        if (!(error instanceof CronError)) throw error;
        out.push(
          diagnostic(
            'trigger-invalid',
            `the schedule of "${spec.name}": ${error.message}`,
            at(file, ['config', 'schedule']),
            'five fields in UTC: minute hour day-of-month month weekday, e.g. "0 7 * * *" (07:00 every day)',
          ),
        );
      }
    } else if (spec.type === 'SCHEDULED' && !schema.length)
      out.push(
        diagnostic(
          'trigger-invalid',
          `scheduled trigger "${spec.name}" has no schedule`,
          at(file, ['config']),
          'add "schedule": "*/5 * * * *"',
        ),
      );
    const db = spec.database;
    if (db) {
      if (db.service === '' && !schema.length)
        out.push(
          diagnostic(
            'trigger-invalid',
            `database trigger "${spec.name}" names no data source`,
            at(file, ['config']),
            'add "service_name": "mongodb-atlas"',
          ),
        );
      else if (db.service !== '' && !dataSources.includes(db.service)) {
        const known = dataSources.map((n) => `"${n}"`).join(', ');
        out.push(
          diagnostic(
            'trigger-unknown-data-source',
            `trigger "${spec.name}" watches data source "${db.service}", which this app does not have${known ? ` (it has ${known})` : ''}`,
            at(file, ['config', 'service_name']),
            known ? `use one of ${known}` : `add data_sources/${db.service}/config.json`,
          ),
        );
      }
      const badDb = db.database === '' ? undefined : badDatabaseName(db.database);
      if (badDb) out.push(diagnostic('trigger-invalid', `database name "${db.database}" ${badDb}`, at(file, ['config', 'database'])));
      const badColl = db.collection === '' ? undefined : badCollectionName(db.collection);
      if (badColl)
        out.push(diagnostic('trigger-invalid', `collection name "${db.collection}" ${badColl}`, at(file, ['config', 'collection'])));
      if (db.database === '' && db.collection !== '')
        out.push(
          diagnostic(
            'trigger-invalid',
            `trigger "${spec.name}" names a collection but no database`,
            at(file, ['config', 'database']),
            'set "database" to the collection\'s database',
          ),
        );
      if (db.collection !== '')
        db.operationTypes.forEach((t, i) => {
          if (!COLLECTION_OPERATIONS.has(t) && /^[A-Z_]+$/.test(t) && !schema.length)
            out.push(
              diagnostic(
                'trigger-invalid',
                `operation type ${t} happens to a database, not to one collection`,
                at(file, ['config', 'operation_types', i]),
                'a collection trigger sees INSERT, UPDATE, REPLACE and DELETE; set "collection": "" to watch the database',
              ),
            );
        });
    }
  }
  return out;
}
