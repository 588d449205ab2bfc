/** From a --host value (or an address) and the SSH options to a connected Transport. */
import { type HostAddress, hosts } from './address.js';
import type { HostOptions } from './kind.js';
import type { Transport } from './transport.js';

export type { HostOptions } from './kind.js';
export { sshSettings, sshTargetResolver } from './kinds/ssh.js';

export async function openHost(address: string | HostAddress, opts: HostOptions = {}): Promise<Transport> {
  return hosts.open(address, opts);
}
