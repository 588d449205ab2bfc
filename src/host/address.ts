/**
 * Host addresses, over the registry of host kinds (one file each in kinds/): `--host` values
 * (`local`, the default; `root:/srv/rootfs`; `ssh://[user@]name[:port]` or a bare `[user@]NAME`),
 * their display names, inventory hosts, and what each host can do. Pure: no lookups, no connecting.
 */
import type { InventoryHost } from '../fleet/inventory.js';
import {
  AddressError,
  type AddressOf,
  type HostCapabilities,
  hostRegistry,
  type InventoryAddressError,
} from './kind.js';
import { localHost } from './kinds/local.js';
import { rootHost } from './kinds/root.js';
import { sshHost } from './kinds/ssh.js';

export { AddressError, type HostCapabilities, type InventoryAddressError } from './kind.js';
export type { LocalAddress } from './kinds/local.js';
export type { RootAddress } from './kinds/root.js';
export type { SshAddress } from './kinds/ssh.js';

/** Every host kind, in the order their `--host` syntaxes are tried (SSH last: it takes any name). */
export const HOST_KINDS = [localHost, rootHost, sshHost] as const;

export const hosts = hostRegistry(HOST_KINDS);

export type HostAddress = AddressOf<(typeof HOST_KINDS)[number]>;

/** Read a `--host` value; throws AddressError (a message and a hint) when it cannot. */
export function parseHostAddress(written: string): HostAddress {
  return hosts.parse(written);
}

/** The normalised display name: "local", "root:/srv/rootfs", "ssh://root@web-1:22". */
export function formatHostAddress(a: HostAddress): string {
  return hosts.format(a);
}

/** What the host can do, known before connecting. */
export function capabilitiesOf(address: HostAddress): HostCapabilities {
  return hosts.capabilities(address);
}

/** The address of an inventory host, by its `ansible_connection`; an error naming it when kernelfile cannot reach it. */
export function inventoryAddress(h: InventoryHost): HostAddress | InventoryAddressError {
  return hosts.inventoryAddress(h);
}

/** An address as a saved plan keeps it: its normalised `--host` form, and what an inventory adds to it. */
export interface SavedAddress {
  host: string;
  identity?: string;
  become?: boolean;
}

export function saveAddress(a: HostAddress): SavedAddress {
  const host = formatHostAddress(a);
  if (a.kind !== 'ssh') return { host };
  return { host, ...(a.identity ? { identity: a.identity } : {}), ...(a.become ? { become: true } : {}) };
}

/**
 * The address a saved plan names, read as `--host` reads it; throws AddressError when it is not
 * one (or not in the normal form kernelfile writes, or carries SSH settings for another kind).
 */
export function restoreAddress(s: SavedAddress): HostAddress {
  const a = parseHostAddress(s.host);
  const normal = formatHostAddress(a);
  if (normal !== s.host)
    throw new AddressError(
      `host ${JSON.stringify(s.host)} is not written as kernelfile writes it (${JSON.stringify(normal)})`,
      'make the plan again with `kernelfile plan … --out FILE`',
    );
  if (s.identity === undefined && !s.become) return a;
  if (a.kind !== 'ssh')
    throw new AddressError(
      `host ${s.host} has an identity file or become, which only SSH hosts have`,
      'make the plan again with `kernelfile plan … --out FILE`',
    );
  return {
    ...a,
    written: s.host,
    ...(s.identity !== undefined ? { identity: s.identity } : {}),
    ...(s.become ? { become: true } : {}),
  };
}
