/**
 * GRUB's menu as the loader shows it (grub.cfg items, with `blscfg` replaced by the sorted BLS
 * entries), flattened into BootEntries with GRUB addresses, and GRUB's way of finding an entry from
 * a `default`/`saved_entry`/`next_entry` value: `>`-separated parts, each a number (position), an
 * id, or a title. GRUB boots the first entry when the value names nothing.
 */
import { releaseFromImage } from './bls.js';
import type { GrubItem } from './grub-cfg.js';
import type { BootEntry } from './types.js';

export type MenuNode =
  | { kind: 'entry'; own: string | null; title: string; entry: BootEntry }
  | { kind: 'submenu'; own: string | null; title: string; items: MenuNode[] };

/** Build the menu: grub.cfg items (from `file`), BLS entries spliced in where `blscfg` runs. */
export function buildMenu(items: GrubItem[], file: string, bls: BootEntry[]): MenuNode[] {
  const walk = (list: GrubItem[], sub: { id: string | null; title: string; addr: string } | null) => {
    const nodes: MenuNode[] = [];
    for (const item of list) {
      if (item.kind === 'blscfg') {
        for (const e of bls)
          nodes.push({
            kind: 'entry',
            own: e.id,
            title: e.title,
            entry: { ...e, index: null, submenu: null },
          });
        continue;
      }
      const own = item.id ?? item.title;
      const addr = sub ? `${sub.addr}>${own}` : own;
      if (item.kind === 'submenu') {
        nodes.push({
          kind: 'submenu',
          own: item.id,
          title: item.title,
          items: walk(item.items, { id: item.id, title: item.title, addr }),
        });
      } else {
        nodes.push({
          kind: 'entry',
          own: item.id,
          title: item.title,
          entry: {
            id: addr,
            title: item.title,
            file,
            submenu: sub ? { id: sub.id, title: sub.title } : null,
            index: null,
            kernel: item.kernel,
            initrd: item.initrd,
            options: item.options,
            release: releaseFromImage(item.kernel),
          },
        });
      }
    }
    return nodes;
  };
  const nodes = walk(items, null);
  number(nodes, '');
  return nodes;
}

function number(nodes: MenuNode[], prefix: string): void {
  nodes.forEach((n, i) => {
    const at = `${prefix}${i}`;
    if (n.kind === 'entry') n.entry.index = at;
    else number(n.items, `${at}>`);
  });
}

/** Every entry, in menu order. */
export function flatten(nodes: MenuNode[]): BootEntry[] {
  return nodes.flatMap((n) => (n.kind === 'entry' ? [n.entry] : flatten(n.items)));
}

/** The entry a GRUB default value names, or null. */
export function findEntry(nodes: MenuNode[], value: string): BootEntry | null {
  const parts = value.split('>');
  let level = nodes;
  for (let i = 0; i < parts.length; i++) {
    const p = (parts[i] as string).trim();
    const node = /^\d+$/.test(p)
      ? level[Number(p)]
      : (level.find((n) => n.own === p) ?? level.find((n) => n.title === p));
    if (!node) return null;
    if (i === parts.length - 1) return node.kind === 'entry' ? node.entry : null;
    if (node.kind !== 'submenu') return null;
    level = node.items;
  }
  return null;
}

/** What GRUB boots for a default value: the named entry, else the first one. */
export function effectiveDefault(nodes: MenuNode[], value: string | null): BootEntry | null {
  return (value ? findEntry(nodes, value) : null) ?? findEntry(nodes, '0');
}

/** Substitute `${saved_entry}` / `$saved_entry` style references from grubenv. */
export function expandEnv(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => env[(a ?? b) as string] ?? '');
}
