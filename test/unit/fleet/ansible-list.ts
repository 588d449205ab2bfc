/** An Inventory shown as `ansible-inventory -i FILE --list` shows one (JSON, before key sorting). */
import type { Inventory } from '../../../src/fleet/inventory.js';

export interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList['_meta'];
}

export function ansibleList(inv: Inventory): AnsibleList {
  const out: Record<string, unknown> = {};
  for (const [name, g] of Object.entries(inv.groups)) {
    const entry: { hosts?: string[]; children?: string[] } = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = g.hosts;
    if (g.children.length) entry.children = g.children;
    if (Object.keys(entry).length) out[name] = entry;
  }
  const hostvars: Record<string, Record<string, unknown>> = {};
  for (const h of inv.hosts) if (Object.keys(h.vars).length) hostvars[h.name] = h.vars;
  out._meta = { hostvars };
  return JSON.parse(JSON.stringify(out)) as AnsibleList;
}

/** Objects compared with sorted keys (ansible-inventory sorts them), arrays in order. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}
