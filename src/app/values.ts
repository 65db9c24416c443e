// Values and environments as App Services keeps them: values/<name>.json ({ name, value,
// from_secret }), environments/<tag>.json ({ values }) with the tag of root_config.json, and the
// secrets a value may name. One reading for fn dev, invoke --local, push and fn serve, so that
// context.values.get(name) answers the same everywhere.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, type Diagnostic } from '../manifest/diagnostics.js';
import { readJson, stripBom } from '../manifest/text.js';

export interface Environment {
  tag: string;
  values: Record<string, unknown>;
}

/** One values/<file>.json, read: its name and value, or the secret it names. */
export interface ValueEntry {
  file: string;
  name: string;
  /** The value as written (for a secret value: undefined). */
  value: unknown;
  /** The secret a from_secret value names. */
  secret?: string;
}

/** values/*.json of a folder as texts by file name, sorted (what push deploys). */
export function readValueFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  let files: string[];
  try {
    files = readdirSync(join(root, 'values'))
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return out;
  }
  for (const file of files) {
    try {
      out[file] = readFileSync(join(root, 'values', file), 'utf8');
    } catch {
      // a folder named *.json, or a file gone since: not a value
    }
  }
  return out;
}

/** One value file's text, read; a text that is not a JSON object gives the reason instead. */
export function parseValueFile(file: string, text: string): ValueEntry | { file: string; problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(stripBom(text));
  } catch (error) {
    return { file, problem: `is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { file, problem: 'must be a JSON object: { "name", "value" }' };
  const o = v as { name?: unknown; value?: unknown; from_secret?: unknown };
  const name = typeof o.name === 'string' && o.name !== '' ? o.name : file.replace(/\.json$/, '');
  if (o.from_secret === true) {
    if (typeof o.value !== 'string' || o.value === '')
      return { file, problem: `is a secret value ("from_secret": true): its "value" must name the secret` };
    return { file, name, value: undefined, secret: o.value };
  }
  return { file, name, value: o.value };
}

/** Every readable value of a set of files (the broken ones are left out: validate reports them). */
export function valueEntries(files: Record<string, string>): ValueEntry[] {
  const out: ValueEntry[] = [];
  for (const [file, text] of Object.entries(files)) {
    const entry = parseValueFile(file, text);
    if (!('problem' in entry)) out.push(entry);
  }
  return out;
}

/** The secret values whose secret is not among `known`: [{ value, secret, file }]. */
export function missingSecrets(files: Record<string, string>, known: Iterable<string>): { value: string; secret: string; file: string }[] {
  const have = new Set(known);
  return valueEntries(files)
    .filter((e) => e.secret !== undefined && !have.has(e.secret))
    .map((e) => ({ value: e.name, secret: e.secret!, file: e.file }));
}

const EXPANSION = /%\((%%environment\.(?:tag|values\.[^)\s]+))\)/g;

/**
 * App Services' template operator in a string value: "%(%%environment.values.X)" and
 * "%(%%environment.tag)". A string that is one expansion alone takes the environment's value as
 * it is; expansions inside a longer string are replaced by their text. One that names nothing is
 * left as written.
 */
export function expandEnvironment(value: unknown, environment: Environment): unknown {
  if (typeof value === 'string') {
    const lookup = (path: string): { found: boolean; value?: unknown } => {
      if (path === '%%environment.tag') return { found: true, value: environment.tag };
      const name = path.slice('%%environment.values.'.length);
      return Object.hasOwn(environment.values, name) ? { found: true, value: environment.values[name] } : { found: false };
    };
    const whole = /^%\((%%environment\.(?:tag|values\.[^)\s]+))\)$/.exec(value);
    if (whole) {
      const hit = lookup(whole[1]!);
      return hit.found ? hit.value : value;
    }
    return value.replace(EXPANSION, (text, path: string) => {
      const hit = lookup(path);
      if (!hit.found) return text;
      return typeof hit.value === 'string' ? hit.value : JSON.stringify(hit.value);
    });
  }
  if (Array.isArray(value)) return value.map((v) => expandEnvironment(v, environment));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: expandEnvironment(v, environment), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * The values of a set of values files: plain values with the environment's expansions applied, a
 * secret value the text of its secret (undefined while the secret is not set).
 */
export function resolveValues(
  files: Record<string, string>,
  secrets: Record<string, unknown>,
  environment: Environment,
): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const entry of valueEntries(files)) {
    values[entry.name] =
      entry.secret !== undefined
        ? Object.hasOwn(secrets, entry.secret)
          ? secrets[entry.secret]
          : undefined
        : expandEnvironment(entry.value, environment);
  }
  return values;
}

/** root_config.json's environment tag and environments/<tag or no-environment>.json values. */
export function readEnvironment(root: string): Environment {
  let tag = '';
  for (const file of ['root_config.json', 'realm_config.json']) {
    try {
      const v = readJson(join(root, file)) as { environment?: unknown };
      if (typeof v.environment === 'string') tag = v.environment;
      break;
    } catch {
      // not there
    }
  }
  try {
    const env = readJson(join(root, 'environments', `${tag || 'no-environment'}.json`)) as { values?: Record<string, unknown> };
    const values = env.values;
    return { tag, values: typeof values === 'object' && values !== null && !Array.isArray(values) ? values : {} };
  } catch {
    return { tag, values: {} };
  }
}

/**
 * validate's rules for values: a values file that cannot be read as a value is an error
 * (value-invalid); a secret value whose secret is not among `secrets` a warning (missing-secret).
 */
export function checkValues(root: string, secretNames: Iterable<string>): Diagnostic[] {
  const files = readValueFiles(root);
  const out: Diagnostic[] = [];
  for (const [file, text] of Object.entries(files)) {
    const entry = parseValueFile(file, text);
    if ('problem' in entry)
      out.push(diagnostic('value-invalid', `values/${file} ${entry.problem}`, { file: `values/${file}`, line: 1, column: 1 }));
  }
  for (const m of missingSecrets(files, secretNames))
    out.push(
      diagnostic(
        'missing-secret',
        `value "${m.value}" reads secret "${m.secret}", which is not set here: context.values.get("${m.value}") gives undefined`,
        { file: `values/${m.file}`, line: 1, column: 1 },
        `fn secrets set ${m.secret} (and fn secrets set ${m.secret} --remote before fn push)`,
      ),
    );
  return out;
}
