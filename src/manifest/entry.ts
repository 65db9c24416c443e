// Building entries the way real exports write them: the name plus only the fields that differ
// from their defaults (the defaults come from the schema, the one place the shape is written).
import { schemaSource, type FunctionEntry } from './schema.generated.js';

const PROPERTIES = schemaSource.definitions.FunctionEntry.properties;

export type EntryFields = Omit<FunctionEntry, 'name'>;

/** The default of a manifest field, from the schema. */
export function defaultOf(field: keyof typeof PROPERTIES): unknown {
  return (PROPERTIES[field] as { default?: unknown }).default;
}

function isDefault(field: string, value: unknown): boolean {
  if (!(field in PROPERTIES)) return false;
  const d = defaultOf(field as keyof typeof PROPERTIES);
  if (value === undefined) return true;
  if (typeof d === 'object' && d !== null)
    return (
      typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0 && Object.keys(d).length === 0
    );
  return value === d;
}

/** { name, ...fields } without the fields that hold their default; key order follows the schema. */
export function minimalEntry(name: string, fields: EntryFields = {}): FunctionEntry {
  const entry: FunctionEntry = { name };
  for (const key of Object.keys(PROPERTIES)) {
    if (key === 'name') continue;
    const value = fields[key];
    if (!isDefault(key, value)) entry[key] = value;
  }
  return entry;
}
