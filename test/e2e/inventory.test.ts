/**
 * `kernelfile inventory` as users run it (bin/kernelfile.cjs → the bundle): the fixture inventories
 * with their group_vars/ and host_vars/ (test/fixtures/inventory-dirs/), JSON valid against its
 * schema whose `ansible` part is what `ansible-inventory --list` prints (when it is installed) for
 * the variables kernelfile reads; the text view; an inventory error with its file and line. Connects
 * to nothing, builds nothing.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNELFILE_VARS } from '../../src/fleet/inventory.js';
import { ansibleInventoryList, onPath } from '../helpers/ansible-reference.js';
import { kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { canonical } from '../unit/fleet/ansible-list.js';

const DIRS = fileURLToPath(new URL('../fixtures/inventory-dirs/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));

function inventoryOf(d: string): string {
  const [f] = readdirSync(join(DIRS, d)).filter(
    (x) => x !== 'ansible.json' && statSync(join(DIRS, d, x)).isFile(),
  );
  return join(DIRS, d, f as string);
}

/** ansible-inventory --list with only the variables kernelfile reads. */
function theirs(file: string): unknown {
  const list = ansibleInventoryList(file) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
  for (const [host, vars] of Object.entries(list._meta.hostvars)) {
    for (const k of Object.keys(vars)) if (!KERNELFILE_VARS.includes(k)) delete vars[k];
    if (Object.keys(vars).length === 0) delete list._meta.hostvars[host];
  }
  return list;
}

describe('kernelfile inventory', () => {
  it.each(readdirSync(DIRS).sort())('%s --json', async (d) => {
    const file = inventoryOf(d);
    const r = await kernelfile(['inventory', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'inventory');
    expect(doc.hosts.length).toBe(doc.total);
    for (const h of doc.hosts) expect(h.error).toBeNull();
    if (onPath('ansible-inventory')) expect(canonical(doc.ansible)).toEqual(canonical(theirs(file)));
  });

  it('the text view of an INI inventory: chroot, local and SSH hosts', async () => {
    const r = await kernelfile(['inventory', join(FIXTURES, 'ini-connection.ini')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\/srv\/rootfs\s+root:\/srv\/rootfs\s/m);
    expect(r.out).toMatch(/^localhost\s+local\s/m);
    expect(r.out).toMatch(/^web1\s+ssh:\/\/deploy@10\.0\.0\.11:2222\s/m);
    expect(r.out).toContain('6 hosts in ');
  });

  it('an inventory error: its file and line, exit 1, the error document under --json', async () => {
    const r = await kernelfile(['inventory', join(FIXTURES, 'ini-values.ini'), '--limit', 'nope', '--json']);
    expect(r.code).toBe(1);
    expect(jsonOutput(r.out, 'error').error.message).toMatch(/`nope` matches no host or group/);
  });
});
