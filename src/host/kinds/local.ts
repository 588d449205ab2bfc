/** This machine: `--host local` (the default), `ansible_connection: local`. */
import type { HostCapabilities, HostKind } from '../kind.js';

export interface LocalAddress {
  kind: 'local';
}

export const LOCAL_CAPABILITIES: HostCapabilities = {
  image: false,
  runningKernel: true,
  reboot: {
    ok: false,
    why: '--reboot would reboot this machine, and kernelfile could not wait for it',
    hint: 'apply to this machine without --reboot, then reboot it yourself',
  },
};

export const localHost: HostKind<LocalAddress> = {
  kind: 'local',
  parse: (written) => (written === 'local' ? { kind: 'local' } : undefined),
  format: () => 'local',
  capabilities: () => LOCAL_CAPABILITIES,
  inventory: { connections: ['local'], address: () => ({ kind: 'local' }) },
  async open() {
    const { LocalTransport } = await import('../local.js');
    return new LocalTransport();
  },
};
