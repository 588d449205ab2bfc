/**
 * The hosts a command works on: one host (`--host`, default this machine), or the hosts of an
 * Ansible inventory that a `--limit` pattern selects, each with its kernelfile and connection.
 * Inventory hosts become structured addresses here, once; nothing downstream parses them again.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostKernelfile, type InventoryHost } from '../fleet/inventory.js';
import { selectHosts } from '../fleet/limit.js';
import {
  capabilitiesOf,
  type HostAddress,
  type InventoryAddressError,
  inventoryAddress,
  parseHostAddress,
} from '../host/address.js';
import type { HostOptions } from '../host/open.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';
import { diagnosticLine, loadInventory } from './inventory.js';

export const DEFAULT_KERNELFILE = 'kernelfile.yaml';

export interface Target {
  /** The inventory name, or the host as the user wrote it. */
  name: string;
  address: HostAddress;
  hostOptions: HostOptions;
  /** Gather facts with `sudo -n` (a non-root SSH user; changes always run as root). */
  sudo: boolean;
  /** The kernelfile for this host, as given (relative to the working directory). */
  kernelfile: string;
}

export interface Selection {
  /** The kernelfile (default ./kernelfile.yaml; with an inventory, for hosts without a `kernelfile` var). */
  kernelfile?: string;
  /** One host: `local`, `root:/dir`, `ssh://user@host:port` or an ~/.ssh/config alias. */
  host?: string;
  /** An Ansible inventory (YAML or INI, with its group_vars/ and host_vars/), instead of one host. */
  inventory?: string;
  /** Ansible host pattern over the inventory (default `all`). */
  limit?: string;
  hostOptions?: HostOptions;
  sudo?: boolean;
}

/**
 * An inventory's key file as ssh reads `-i FILE` (and Ansible's ssh plugin expands it): `~/` is the
 * home directory, a relative path is relative to the working directory.
 */
export function identityPath(identity: string, env: Env): string {
  const home = env.env.HOME ?? homedir();
  if (identity === '~') return home;
  if (identity.startsWith('~/')) return join(home, identity.slice(2));
  return resolve(env.cwd, identity);
}

/** The inventory host's connection, or why kernelfile cannot reach it. */
export function inventoryTarget(h: InventoryHost, env: Env): HostAddress | InventoryAddressError {
  const a = inventoryAddress(h);
  if ('error' in a) return a;
  return a.kind === 'ssh' && a.identity ? { ...a, identity: identityPath(a.identity, env) } : a;
}

function addressOf(h: InventoryHost, env: Env): HostAddress {
  const a = inventoryTarget(h, env);
  if ('error' in a) throw new UserError(a.error, a.hint);
  return a;
}

/** The hosts to work on; inventory warnings go to `warn`. */
export function selectTargets(
  sel: Selection,
  env: Env,
  warn: (message: string) => void = () => {},
): Target[] {
  const hostOptions = sel.hostOptions ?? {};
  if (!sel.inventory) {
    const host = sel.host ?? 'local';
    return [
      {
        name: host,
        address: parseHostAddress(host),
        hostOptions,
        sudo: sel.sudo === true,
        kernelfile: sel.kernelfile ?? DEFAULT_KERNELFILE,
      },
    ];
  }
  if (sel.host && sel.host !== 'local')
    throw new UserError(
      '--host and --inventory cannot be used together',
      'select hosts of the inventory with --limit',
    );
  const { inventory, warnings, path } = loadInventory(sel.inventory, env);
  for (const w of warnings) warn(diagnosticLine(w));
  const picked = selectHosts(inventory, sel.limit ?? 'all');
  if (!picked.ok) throw new UserError(picked.error, picked.hint);
  const missing = picked.hosts.filter((h) => !h.kernelfile && !sel.kernelfile);
  if (missing.length)
    throw new UserError(
      `no kernelfile for ${missing.map((h) => h.name).join(', ')}: the inventory sets no \`kernelfile\` var for ${missing.length === 1 ? 'it' : 'them'} and none was given`,
      'set `kernelfile: path/to/kernelfile.yaml` in the host or group vars (relative to the inventory), or name one on the command line',
    );
  return picked.hosts.map((h) => ({
    name: h.name,
    address: addressOf(h, env),
    kernelfile: hostKernelfile(h, path) ?? (sel.kernelfile as string),
    hostOptions,
    sudo: sel.sudo === true || h.address.become,
  }));
}

/** Refuse options a host kind cannot honour before anything connects (e.g. reboot an image). */
export function checkCapabilities(targets: readonly Target[], o: { reboot?: boolean }): void {
  if (!o.reboot) return;
  for (const t of targets) {
    const c = capabilitiesOf(t.address);
    if (!c.reboot.ok) throw new UserError(c.reboot.why, c.reboot.hint);
  }
}
