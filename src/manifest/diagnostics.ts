// A finding about an app: where, what, and what to do. Shared by validate and every command that
// checks before it writes.

export type Severity = 'error' | 'warning';

export const RULES = {
  'json-syntax': 'error',
  'manifest-missing': 'error',
  schema: 'error',
  'duplicate-name': 'error',
  'invalid-name': 'error',
  'missing-source': 'error',
  'run-as-conflict': 'error',
  'invalid-expression': 'error',
  'script-syntax': 'error',
  'source-syntax': 'error',
  'no-exports': 'error',
  'config-invalid': 'error',
  'unknown-access-field': 'error',
  'data-source-invalid': 'error',
  'rules-invalid': 'error',
  'trigger-invalid': 'error',
  'trigger-unknown-function': 'error',
  'trigger-unknown-data-source': 'error',
  'source-outside-app': 'error',
  'endpoint-invalid': 'error',
  'duplicate-endpoint': 'error',
  'unknown-endpoint-function': 'error',
  'value-invalid': 'error',
  'orphan-source': 'warning',
  'unknown-field': 'warning',
  'run-as-system-override': 'warning',
  'name-not-portable': 'warning',
  'top-level-require': 'warning',
  'unknown-data-source': 'warning',
  'unknown-secret': 'warning',
  'missing-secret': 'warning',
} as const satisfies Record<string, Severity>;

export type RuleId = keyof typeof RULES;

export interface Diagnostic {
  severity: Severity;
  rule: RuleId;
  message: string;
  /** Path relative to the app root, always with '/'. */
  file: string;
  line: number;
  column: number;
  /** JSON pointer of the value in the file, for JSON files. */
  pointer?: string;
  hint?: string;
}

export function diagnostic(
  rule: RuleId,
  message: string,
  where: { file: string; line: number; column: number; pointer?: string },
  hint?: string,
): Diagnostic {
  const d: Diagnostic = { severity: RULES[rule], rule, message, file: where.file, line: where.line, column: where.column };
  if (where.pointer !== undefined) d.pointer = where.pointer;
  if (hint !== undefined) d.hint = hint;
  return d;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) {
    // The manifest first, then sources in path order.
    const am = a.file.endsWith('config.json') ? 0 : 1;
    const bm = b.file.endsWith('config.json') ? 0 : 1;
    if (am !== bm) return am - bm;
    return a.file < b.file ? -1 : 1;
  }
  return a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule);
}

export function toPointer(path: readonly (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export interface Summary {
  errors: number;
  warnings: number;
}

export function summarize(diagnostics: readonly Diagnostic[]): Summary {
  let errors = 0;
  for (const d of diagnostics) if (d.severity === 'error') errors++;
  return { errors, warnings: diagnostics.length - errors };
}
