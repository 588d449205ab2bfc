/** `kernelfile facts [--host H] [--json]`: what kernelfile knows about a host, in one round trip. */
import { facts } from '../../engine/facts.js';
import { renderFacts } from '../../render/facts-text.js';
import { colored, plain } from '../../render/style.js';
import { type HostFlags, hostOptions } from '../host-options.js';
import type { ExitCode, Io } from '../io.js';

export async function run(flags: HostFlags & { json?: boolean; sudo?: boolean }, io: Io): Promise<ExitCode> {
  const f = await facts(flags.host, { hostOptions: hostOptions(flags, io), sudo: flags.sudo === true });
  io.out(flags.json ? `${JSON.stringify(f, null, 2)}\n` : renderFacts(f, io.color ? colored : plain));
  return 0;
}
