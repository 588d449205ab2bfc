/**
 * Loading a kernelfile: read it (bounded), validate it against the schema and the files it names,
 * and keep what later stages need (its bytes, path, the home directory `~/` expands to).
 */
import { homedir } from 'node:os';
import { resolvePath } from '../spec/paths.js';
import { validate } from '../spec/validate.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';
import { nodeFileView } from './fsview.js';
import { type KernelfileBytes, readKernelfile } from './read-kernelfile.js';

export type { KernelfileBytes } from './read-kernelfile.js';

export type Validation = ReturnType<typeof validate>;
export type ValidSpec = Extract<Validation, { ok: true }>['value'];

export interface Loaded {
  kf: KernelfileBytes;
  home: string;
  result: Validation;
}

/** Read and validate a kernelfile (`-`: standard input); never throws for an invalid file. */
export async function loadKernelfile(file: string | undefined, env: Env): Promise<Loaded> {
  const kf = await readKernelfile(file, env);
  const home = env.env.HOME ?? homedir();
  const result = validate(
    kf.bytes,
    kf.display,
    { fs: nodeFileView, kernelfile: kf.abs, home, vars: env.env },
    kf.size,
  );
  return { kf, home, result };
}

/** The validated spec, or the refusal every command gives an invalid kernelfile. */
export function validSpec(loaded: Loaded): ValidSpec {
  const { kf, result } = loaded;
  if (!result.ok)
    throw new UserError(
      `${kf.display} is not valid`,
      `run \`kernelfile validate ${kf.display}\` and fix what it reports`,
    );
  return result.value;
}

/** A path written in the kernelfile, resolved against it (`~/` expanded). */
export function resolverOf(loaded: Loaded): (written: string) => string {
  return (w) => resolvePath(w, { kernelfile: loaded.kf.abs, home: loaded.home });
}
