/**
 * Diagnostics as text (`file:line:column: error: message`, the source line with a caret, the JSON
 * path and a hint) and as versioned JSON.
 */
import type { Diagnostic } from '../spec/diagnostic.js';
import type { Stamp, ValidateJson } from './json-documents.js';
import type { Style } from './style.js';

export interface RenderOptions {
  style: Style;
  /** Text of a file named in a diagnostic, for the code frame; undefined to skip it. */
  sourceOf: (file: string) => string | undefined;
  /** How to show a file name (e.g. relative to the working directory). */
  displayName: (file: string) => string;
}

export function renderDiagnostic(d: Diagnostic, o: RenderOptions): string {
  const where = d.file
    ? `${o.displayName(d.file)}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: `
    : '';
  const lines = [
    `${o.style('bold', where)}${o.style(d.severity, d.severity)}: ${o.style('bold', d.message)}`,
  ];
  const text = d.file && d.line ? o.sourceOf(d.file) : undefined;
  const src = text?.split('\n')[d.line ? d.line - 1 : -1];
  if (src !== undefined && d.line) {
    const gutter = String(d.line);
    const col = Math.max(1, d.column ?? 1);
    const end = d.endLine === d.line && d.endColumn && d.endColumn > col ? d.endColumn : col + 1;
    const shown = src.replace(/\t/g, ' ').replace(/\r$/, '');
    lines.push(`${o.style('dim', ` ${gutter} |`)} ${shown}`);
    lines.push(
      `${o.style('dim', ` ${' '.repeat(gutter.length)} |`)} ${' '.repeat(col - 1)}${o.style('caret', '^'.repeat(Math.min(end - col, Math.max(1, shown.length - col + 1))))}`,
    );
  }
  if (d.path) lines.push(o.style('dim', `  at ${d.path}`));
  if (d.hint) lines.push(`  ${o.style('dim', 'hint:')} ${d.hint}`);
  return lines.join('\n');
}

export function summary(file: string, errors: number, warnings: number, style: Style): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (errors === 0)
    return `${style('ok', `${file} is valid`)}${warnings ? ` (${plural(warnings, 'warning')})` : ''}.`;
  return `${style('error', `${file} is not valid`)}: ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}.`;
}

/** The `--json` form of a validation; `formatVersion` changes only when a field changes meaning. */
export function diagnosticsJson(
  file: string,
  diagnostics: Diagnostic[],
  displayName: (f: string) => string,
  stamp: Stamp,
): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const doc: ValidateJson = {
    formatVersion: 1,
    kind: 'kernelfile-validation',
    ...stamp,
    file,
    valid: errors === 0,
    errors,
    warnings: diagnostics.length - errors,
    diagnostics: diagnostics.map((d) => ({ ...d, ...(d.file ? { file: displayName(d.file) } : {}) })),
  };
  return JSON.stringify(doc, null, 2);
}
