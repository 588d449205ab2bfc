/** `kernelfile facts [--host H] [--json]`: what kernelfile knows about a host, in one round trip. */
import { facts } from '../../engine/facts.js';
import { stampOf } from '../../engine/version.js';
import { renderFacts } from '../../render/facts-text.js';
import type { FactsJson } from '../../render/json-documents.js';
import { colored, plain } from '../../render/style.js';
import type { HostFlags } from '../host-options.js';
import { hostOptions } from '../host-settings.js';
import type { ExitCode, Io } from '../io.js';

export async function run(flags: HostFlags & { json?: boolean; sudo?: boolean }, io: Io): Promise<ExitCode> {
  const f = await facts(flags.host, { hostOptions: hostOptions(flags, io), sudo: flags.sudo === true });
  if (flags.json) {
    const { factsVersion, ...rest } = f;
    const doc: FactsJson = { factsVersion, kind: 'kernelfile-facts', ...stampOf(io), ...rest };
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
  } else io.out(renderFacts(f, io.color ? colored : plain));
  return 0;
}
