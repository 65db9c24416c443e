// Diagnostics as text (with a code frame and the hint), as GitHub workflow annotations, or JSON.
import type { Diagnostic } from '../manifest/diagnostics.js';
import type { Ui } from './ui.js';

export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  ui: Ui,
  format: 'text' | 'github' | 'json',
  read: (file: string) => string | undefined,
): void {
  if (format === 'json') {
    ui.json(diagnostics);
    return;
  }
  if (format === 'github') {
    for (const d of diagnostics) ui.out(githubAnnotation(d));
    return;
  }
  const cache = new Map<string, string[] | undefined>();
  const lines = (file: string) => {
    if (!cache.has(file)) cache.set(file, read(file)?.split(/\r\n|\r|\n/));
    return cache.get(file);
  };
  for (const d of diagnostics) {
    ui.out(formatDiagnosticLine(d, ui));
    const text = lines(d.file)?.[d.line - 1];
    if (text !== undefined) ui.out(codeFrame(text, d.line, d.column, ui));
    if (d.hint) ui.out(`  ${ui.c.dim('hint:')} ${d.hint}`);
    ui.out('');
  }
}

export function formatDiagnosticLine(d: Diagnostic, ui: Ui): string {
  const severity = d.severity === 'error' ? ui.c.red('error') : ui.c.yellow('warning');
  return `${ui.c.cyan(`${d.file}:${d.line}:${d.column}`)}  ${severity}  ${ui.c.dim(d.rule)}  ${d.message}`;
}

const FRAME_WIDTH = 100;

/** One line of source with a caret under the column; long lines are cut around the column. */
export function codeFrame(text: string, line: number, column: number, ui: Ui): string {
  const expanded = text.replace(/\t/g, ' ');
  let start = 0;
  if (expanded.length > FRAME_WIDTH && column > FRAME_WIDTH - 20) start = Math.max(0, column - 40);
  let shown = expanded.slice(start, start + FRAME_WIDTH);
  if (start > 0) shown = '…' + shown;
  if (start + FRAME_WIDTH < expanded.length) shown += '…';
  const gutter = String(line).padStart(5);
  const caretAt = column - 1 - start + (start > 0 ? 1 : 0);
  return `${ui.c.dim(`${gutter} |`)} ${shown}\n${ui.c.dim(`${' '.repeat(gutter.length)} |`)} ${' '.repeat(Math.max(0, caretAt))}${ui.c.red('^')}`;
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubAnnotation(d: Diagnostic): string {
  const level = d.severity === 'error' ? 'error' : 'warning';
  const message = d.hint ? `${d.message}\n${d.hint}` : d.message;
  return `::${level} file=${escapeProperty(d.file)},line=${d.line},col=${d.column},title=${escapeProperty(`fn ${d.rule}`)}::${escapeData(message)}`;
}
