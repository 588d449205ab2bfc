/** Diagnostics: what every check in kernelfile reports, with where and what to do about it. */

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** A stable identifier for the kind of problem, e.g. `unknown-key`; for scripts and tests. */
  code: string;
  message: string;
  /** The file the problem is in, as the user named it (or relative to the kernelfile). */
  file?: string;
  /** 1-based line and column of the start, and of the end when known. */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** JSON path of the value in the kernelfile, e.g. `$.patches[0].path`. */
  path?: string;
  /** What to do about it. */
  hint?: string;
}

export type Result<T> =
  | { ok: true; value: T; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

export type PathSegment = string | number;

/** `['patches', 0, 'path']` → `$.patches[0].path` */
export function jsonPath(segments: readonly PathSegment[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export function isError(d: Diagnostic): boolean {
  return d.severity === 'error';
}

/** Sort by file, then position, errors before warnings at the same place. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
