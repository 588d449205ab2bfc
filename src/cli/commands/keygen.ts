/** `kernelfile keygen [--out DIR] [--cn NAME] [--days N] [--bits N]`: a key pair for MOK. */
import { keygen } from '../../engine/keygen.js';
import { renderKeygen } from '../../render/keygen-text.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';

export interface KeygenFlags {
  out?: string;
  cn?: string;
  days?: string;
  bits?: string;
  passphraseEnv?: string;
}

function whole(v: string | undefined, option: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UserError(`${option} ${v} must be a whole number`);
  return Number(v);
}

export async function run(flags: KeygenFlags, io: Io): Promise<ExitCode> {
  const days = whole(flags.days, '--days');
  const bits = whole(flags.bits, '--bits');
  const r = await keygen({
    cwd: io.cwd,
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(flags.cn !== undefined ? { cn: flags.cn } : {}),
    ...(days !== undefined ? { days } : {}),
    ...(bits !== undefined ? { bits } : {}),
    ...(flags.passphraseEnv !== undefined ? { passphraseEnv: flags.passphraseEnv, env: io.env } : {}),
  });
  io.out(renderKeygen(r, io.cwd, io.color ? colored : plain));
  return 0;
}
