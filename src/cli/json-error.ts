/**
 * The error document (`kind: "kernelfile-error"`, schemas/kernelfile-error.schema.json): what a
 * command asked for JSON (`--json`, `--format json`) prints on standard output when it fails, so a
 * script that parses standard output always gets a document. The text still goes to standard
 * error as without `--json`, and the exit code is the same.
 */
import type { Described } from '../engine/errors.js';
import { type Clock, stampOf } from '../engine/version.js';
import type { DiagnosticJson, ErrorJson } from '../render/json-documents.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import type { Io } from './io.js';

/** The commands whose `--json` (or `--format json`) output is a document with a schema. */
export const JSON_COMMANDS: ReadonlySet<string> = new Set([
  'validate',
  'facts',
  'build',
  'verify',
  'plan',
  'status',
  'inventory',
]);

export interface JsonFailure {
  message: string;
  hint?: string | null;
  details?: readonly string[];
  unreachable?: boolean;
  internal?: boolean;
  /** The diagnostics of an invalid kernelfile (or of dropped Kconfig values): the first error says where. */
  diagnostics?: readonly Diagnostic[];
  /** Where the diagnostics' files are shown from (relative to the working directory). */
  displayName?: (file: string) => string;
}

export function errorDocument(command: string, f: JsonFailure, clock: Clock = {}): ErrorJson {
  const show = f.displayName ?? ((x: string) => x);
  const diagnostics: DiagnosticJson[] | undefined = f.diagnostics?.map((d) => ({
    ...d,
    ...(d.file ? { file: show(d.file) } : {}),
  }));
  const first = diagnostics?.find((d) => d.severity === 'error') ?? diagnostics?.[0];
  return {
    formatVersion: 1,
    kind: 'kernelfile-error',
    ...stampOf(clock),
    command,
    error: {
      message: f.message,
      hint: f.hint ?? null,
      details: [...(f.details ?? [])],
      file: first?.file ?? null,
      line: first?.line ?? null,
      column: first?.column ?? null,
      unreachable: f.unreachable === true,
      internal: f.internal === true,
      ...(diagnostics ? { diagnostics } : {}),
    },
  };
}

/** Print the error document on standard output. */
export function printJsonError(io: Io, command: string, f: JsonFailure): void {
  io.out(`${JSON.stringify(errorDocument(command, f, io), null, 2)}\n`);
}

/** A thrown error, described, as a failure for the error document. */
export function failureOf(d: Described): JsonFailure {
  return {
    message: d.expected ? d.message : `internal error: ${d.message}`,
    hint: d.hint ?? null,
    details: d.details,
    unreachable: d.unreachable,
    internal: !d.expected,
  };
}
