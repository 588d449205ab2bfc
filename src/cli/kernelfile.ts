/**
 * What every command that takes a kernelfile does first: read it (bounded), validate it, and show
 * diagnostics against the files they point into (names relative to the working directory).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { type KernelfileBytes, type Loaded, loadKernelfile } from '../engine/kernelfile.js';
import { type RenderOptions, renderDiagnostic } from '../render/diagnostics.js';
import { colored, plain } from '../render/style.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import type { Io } from './io.js';

export function loadSpec(file: string | undefined, io: Io): Promise<Loaded> {
  return loadKernelfile(file, io);
}

/** How diagnostics about this kernelfile (and the files it names) are rendered on this terminal. */
export function diagnosticOptions(kf: KernelfileBytes, io: Io): RenderOptions {
  const text = new TextDecoder().decode(kf.bytes);
  return {
    style: io.color ? colored : plain,
    displayName: (f) => {
      if (f === kf.display || !isAbsolute(f)) return f;
      const rel = relative(io.cwd, f);
      return rel.startsWith('../../') ? f : rel;
    },
    sourceOf: (f) => {
      if (f === kf.display) return text;
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export function renderAll(ds: Diagnostic[], o: RenderOptions): string[] {
  return ds.map((d) => renderDiagnostic(d, o));
}

/**
 * How a command reports on the kernelfile it loaded: `show` prints diagnostics on stderr against
 * the files they point into; `rejectInvalid` prints an invalid file's errors and says so (true).
 */
export function reporter(loaded: Loaded, io: Io) {
  const { kf, result } = loaded;
  const render = diagnosticOptions(kf, io);
  const show = (ds: Diagnostic[]) => {
    for (const block of renderAll(ds, render)) io.err(`${block}\n\n`);
  };
  const rejectInvalid = (): boolean => {
    if (result.ok) return false;
    show(result.errors);
    io.err(`${kf.display} is not valid: fix it first (kernelfile validate ${kf.display}).\n`);
    return true;
  };
  return { render, show, rejectInvalid };
}
