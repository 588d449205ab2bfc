/** A host's facts (`kernelfile facts`). */
import { gather } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import { type HostAddress, parseHostAddress } from '../host/address.js';
import { type HostOptions, openHost } from '../host/open.js';

/** A host's facts, gathered in one round trip. */
export async function facts(
  host: string | HostAddress,
  o: { hostOptions?: HostOptions; sudo?: boolean } = {},
): Promise<HostFacts> {
  const t = await openHost(typeof host === 'string' ? parseHostAddress(host) : host, o.hostOptions);
  try {
    return await gather(t, { sudo: o.sudo === true });
  } finally {
    await t.close();
  }
}
