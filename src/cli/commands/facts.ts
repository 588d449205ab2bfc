/** `kernelfile facts [--host H] [--json]`: what kernelfile knows about a host, in one round trip. */
import { gather } from '../../facts/gather.js';
import { openHost } from '../../host/open.js';
import { renderFacts } from '../../render/facts-text.js';
import { colored, plain } from '../../render/style.js';
import { type HostFlags, hostOptions } from '../host-options.js';
import type { ExitCode, Io } from '../io.js';

export async function run(flags: HostFlags & { json?: boolean; sudo?: boolean }, io: Io): Promise<ExitCode> {
  const t = await openHost(flags.host, hostOptions(flags, io));
  try {
    const facts = await gather(t, { sudo: flags.sudo === true });
    io.out(
      flags.json ? `${JSON.stringify(facts, null, 2)}\n` : renderFacts(facts, io.color ? colored : plain),
    );
    return 0;
  } finally {
    await t.close();
  }
}
