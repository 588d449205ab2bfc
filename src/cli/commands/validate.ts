/** `kernelfile validate [FILE]`: schema and semantic checks, each problem at file:line:column. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { diagnosticsJson, renderDiagnostic, summary } from '../../render/diagnostics.js';
import { colored, plain } from '../../render/style.js';
import { type Diagnostic, sortDiagnostics } from '../../spec/diagnostic.js';
import { validate } from '../../spec/validate.js';
import { nodeFileView } from '../fsview.js';
import type { ExitCode, Io } from '../io.js';
import { readKernelfile } from '../read-kernelfile.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

export async function run(file: string | undefined, opts: ValidateOptions, io: Io): Promise<ExitCode> {
  const kf = await readKernelfile(file, io);
  const result = validate(
    kf.bytes,
    kf.display,
    { fs: nodeFileView, kernelfile: kf.abs, home: io.env.HOME ?? homedir() },
    kf.size,
  );
  const diagnostics: Diagnostic[] = sortDiagnostics(
    result.ok ? result.warnings : [...result.errors, ...result.warnings],
  );
  const failed = !result.ok || (opts.strict === true && diagnostics.length > 0);

  const displayName = (f: string) => {
    if (f === kf.display || !isAbsolute(f)) return f;
    const rel = relative(io.cwd, f);
    return rel.startsWith('../../') ? f : rel;
  };
  if (opts.json) {
    io.out(`${diagnosticsJson(kf.display, diagnostics, displayName)}\n`);
    return failed ? 1 : 0;
  }
  const style = io.color ? colored : plain;
  const text = new TextDecoder().decode(kf.bytes);
  const sourceOf = (f: string) => {
    if (f === kf.display) return text;
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  const blocks = diagnostics.map((d) => renderDiagnostic(d, { style, sourceOf, displayName }));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const report = [...blocks, summary(kf.display, errors, diagnostics.length - errors, style)].join('\n\n');
  io.out(`${report}\n`);
  return failed ? 1 : 0;
}
