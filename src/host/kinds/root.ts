/**
 * A root filesystem directory, for building images: `--host root:/srv/rootfs`,
 * `ansible_connection: chroot` (the directory is `ansible_host`, or the inventory name).
 */
import { AddressError, type HostCapabilities, type HostKind } from '../kind.js';

export interface RootAddress {
  kind: 'root';
  /** Absolute, without a trailing slash. */
  dir: string;
}

const PREFIX = 'root:';

function normalise(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

export function rootCapabilities(a: RootAddress): HostCapabilities {
  return {
    image: true,
    runningKernel: false,
    reboot: {
      ok: false,
      why: `--reboot needs a host reached over SSH; ${rootHost.format(a)} is a root filesystem directory`,
    },
  };
}

export const rootHost: HostKind<RootAddress> = {
  kind: 'root',
  scheme: PREFIX,
  parse(written) {
    if (!written.startsWith(PREFIX)) return undefined;
    const dir = written.slice(PREFIX.length);
    if (!dir.startsWith('/'))
      throw new AddressError(`root:${dir} must be an absolute path`, 'e.g. --host root:/srv/rootfs');
    return { kind: 'root', dir: normalise(dir) };
  },
  format: (a) => `${PREFIX}${a.dir}`,
  capabilities: rootCapabilities,
  inventory: {
    connections: ['chroot'],
    address(h) {
      const dir = h.address.host;
      if (!dir.startsWith('/'))
        return {
          error: `host \`${h.name}\` uses \`ansible_connection: chroot\`, but its directory \`${dir}\` is not an absolute path`,
          hint: 'set `ansible_host` to the root filesystem directory, e.g. `ansible_host: /srv/rootfs`',
        };
      return { kind: 'root', dir: normalise(dir) };
    },
  },
  async open(a) {
    const { ChrootTransport } = await import('../chroot.js');
    return new ChrootTransport(a.dir);
  },
};
