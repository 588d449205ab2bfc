/**
 * `kernelfile inventory FILE`: an inventory's hosts (those `--limit` selects) as kernelfile reaches
 * them: the address each maps to, its key file, sudo, its kernelfile, and the variables kernelfile
 * reads with where each was set; with the selected hosts in the shape of `ansible-inventory --list`.
 *
 * Only the variables kernelfile reads are shown (KERNELFILE_VARS): the output goes to terminals, CI
 * logs and pull requests, and inventories hold secrets (become passwords, tokens, vault values)
 * kernelfile never needs. Every variable is what `ansible-inventory --list` prints.
 */
import { relative } from 'node:path';
import { hostKernelfile, type Inventory, KERNELFILE_VARS } from '../fleet/inventory.js';
import { selectHosts } from '../fleet/limit.js';
import { formatHostAddress } from '../host/address.js';
import type {
  AnsibleListJson,
  AnsibleMetaJson,
  InventoryHostJson,
  InventoryJson,
} from '../render/json-documents.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';
import { diagnosticLine, loadInventory } from './inventory.js';
import { inventoryTarget } from './targets.js';
import { type Clock, stampOf } from './version.js';

export interface InventorySelection {
  /** The inventory file, relative to the working directory. */
  inventory: string;
  /** Ansible host pattern (default: every host). */
  limit?: string;
}

/**
 * The groups as ansible-inventory --list shows them: each with its own hosts (those selected) and its
 * child groups, when it has any (`all` lists only its children).
 */
function ansibleList(
  inv: Inventory,
  selected: ReadonlySet<string>,
  hostvars: AnsibleMetaJson['hostvars'],
): AnsibleListJson {
  const out: AnsibleListJson = { _meta: { hostvars } };
  for (const [name, g] of Object.entries(inv.groups)) {
    const hosts = name === 'all' ? [] : g.hosts.filter((h) => selected.has(h));
    if (hosts.length || g.children.length)
      out[name] = {
        ...(hosts.length ? { hosts } : {}),
        ...(g.children.length ? { children: g.children } : {}),
      };
  }
  return out;
}

/** The inventory document (`kernelfile inventory --json`; the text view renders it too). */
export function listInventory(sel: InventorySelection, env: Env & Clock): InventoryJson {
  const { inventory, warnings, path } = loadInventory(sel.inventory, env);
  const picked = selectHosts(inventory, sel.limit ?? 'all');
  if (!picked.ok) throw new UserError(picked.error, picked.hint);
  const hostvars: AnsibleMetaJson['hostvars'] = {};
  const hosts: InventoryHostJson[] = picked.hosts.map((h) => {
    const vars: InventoryHostJson['vars'] = {};
    const plain: Record<string, unknown> = {};
    for (const name of KERNELFILE_VARS) {
      if (!(name in h.vars)) continue;
      const origin = h.origins[name] ?? { file: sel.inventory, line: 1 };
      vars[name] = { value: h.vars[name], file: origin.file, line: origin.line };
      plain[name] = h.vars[name];
    }
    if (Object.keys(plain).length) hostvars[h.name] = plain;
    const a = inventoryTarget(h, env);
    const kernelfile = hostKernelfile(h, path);
    const ok = !('error' in a);
    return {
      name: h.name,
      groups: h.groups,
      address: ok ? formatHostAddress(a) : null,
      identity: ok && a.kind === 'ssh' && a.identity ? a.identity : null,
      become: h.address.become,
      kernelfile: kernelfile === null ? null : relative(env.cwd, kernelfile) || '.',
      vars,
      error: ok ? null : { message: a.error, hint: a.hint ?? null },
    };
  });
  return {
    formatVersion: 1,
    kind: 'kernelfile-inventory',
    ...stampOf(env),
    file: sel.inventory,
    limit: sel.limit ?? null,
    total: inventory.hosts.length,
    hosts,
    ansible: ansibleList(inventory, new Set(picked.hosts.map((h) => h.name)), hostvars),
    warnings: warnings.map(diagnosticLine),
  };
}
