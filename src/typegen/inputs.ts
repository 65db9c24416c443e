// The inputs that shape the generated file: the manifest entries (name, private), the sources
// without an entry, and the text of each source. Read once per run; hashed by hash.ts and typed by infer.ts.
import { readText } from '../manifest/text.js';
import type { Project } from '../project/load-project.js';

export interface FunctionInput {
  name: string;
  private: boolean;
  /** The source text, without a BOM; undefined when the file is missing or unreadable. */
  text: string | undefined;
}

/**
 * Every manifest entry, and every source without one (the runtime serves it with the defaults:
 * public), sorted by name (code-unit order, so the result never depends on locale).
 */
export function collectInputs(project: Project): FunctionInput[] {
  const { entries, sources } = project.manifest;
  const declared = new Set(entries.map((e) => e.name));
  return [
    ...entries.map((entry) => ({
      name: entry.name,
      private: entry.private,
      text: entry.source ? readIfThere(entry.source.path) : undefined,
    })),
    ...[...sources.values()].filter((s) => !declared.has(s.name)).map((s) => ({ name: s.name, private: false, text: readIfThere(s.path) })),
  ].sort((a, b) => compareNames(a.name, b.name) || Number(a.private) - Number(b.private));
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readIfThere(path: string): string | undefined {
  try {
    return readText(path);
  } catch {
    return undefined;
  }
}
