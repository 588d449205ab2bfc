/**
 * The names shell completion offers (`kernelfile __complete`): the host aliases of an ssh client
 * configuration, and the host and group names of an inventory. Read on every Tab, so: the files
 * only (bounded, regular files), parsed, nothing run and nothing connected to (no `Match exec`, no
 * ProxyCommand: the configuration is read as text); anything unreadable gives no names.
 */
import { isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { MIB, readRegularSync } from '../compile/read-file.js';
import { parseInventory } from '../fleet/inventory.js';

/** An ssh config or inventory larger than this is not read for completion. */
const MAX_BYTES = 8 * MIB;

function text(file: string): string | undefined {
  const r = readRegularSync(file, MAX_BYTES);
  return r.ok ? r.bytes.toString('utf8') : undefined;
}

/**
 * The names of the `Host` entries of an ssh client configuration that name one host: no pattern
 * (`*`, `?`), no negation (`!`), no `Match` section. `Include`d files are not read.
 */
export function sshConfigHosts(file: string): string[] {
  const t = text(file);
  if (t === undefined) return [];
  let parsed: ReturnType<typeof SSHConfig.parse>;
  try {
    parsed = SSHConfig.parse(t);
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of parsed) {
    if (!('param' in line) || line.param.toLowerCase() !== 'host') continue;
    const values = typeof line.value === 'string' ? [line.value] : line.value.map((v) => v.val);
    for (const v of values) if (v && !/[*?!\s]/.test(v)) names.add(v);
  }
  return [...names];
}

/** The host and group names of an inventory (relative to `cwd`); none when it cannot be read. */
export function inventoryNames(file: string, cwd: string): { hosts: string[]; groups: string[] } {
  const t = text(isAbsolute(file) ? file : join(cwd, file));
  if (t === undefined) return { hosts: [], groups: [] };
  const inv = parseInventory(t, file);
  if (!inv.ok) return { hosts: [], groups: [] };
  return { hosts: inv.value.hosts.map((h) => h.name), groups: Object.keys(inv.value.groups) };
}
