/** `kernelfile validate [FILE]`: schema and semantic checks, each problem at file:line:column. */
import { stampOf } from '../../engine/version.js';
import { diagnosticsJson, summary } from '../../render/diagnostics.js';
import { type Diagnostic, sortDiagnostics } from '../../spec/diagnostic.js';
import type { ExitCode, Io } from '../io.js';
import { diagnosticOptions, loadSpec, renderAll } from '../kernelfile.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

export async function run(file: string | undefined, opts: ValidateOptions, io: Io): Promise<ExitCode> {
  const { kf, result } = await loadSpec(file, io);
  const diagnostics: Diagnostic[] = sortDiagnostics(
    result.ok ? result.warnings : [...result.errors, ...result.warnings],
  );
  const failed = !result.ok || (opts.strict === true && diagnostics.length > 0);

  const render = diagnosticOptions(kf, io);
  if (opts.json) {
    io.out(`${diagnosticsJson(kf.display, diagnostics, render.displayName, stampOf(io))}\n`);
    return failed ? 1 : 0;
  }
  const blocks = renderAll(diagnostics, render);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const report = [...blocks, summary(kf.display, errors, diagnostics.length - errors, render.style)].join(
    '\n\n',
  );
  io.out(`${report}\n`);
  return failed ? 1 : 0;
}
