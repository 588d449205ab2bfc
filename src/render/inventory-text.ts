/**
 * `kernelfile inventory FILE` as text: one row per host (the address it maps to, key file, sudo, its
 * kernelfile, its groups), then what stops kernelfile from reaching a host, and the count. Names and
 * values come from the inventory: shown escaped.
 */
import { printable } from './escape.js';
import { table } from './fleet-text.js';
import type { InventoryJson } from './json-documents.js';
import type { Style } from './style.js';

export function renderInventory(doc: InventoryJson, style: Style): string {
  const rows = doc.hosts.map((h) => [
    printable(h.name),
    h.address === null ? '-' : printable(h.address),
    h.identity === null ? '-' : printable(h.identity),
    h.become ? 'yes' : '-',
    h.kernelfile === null ? '-' : printable(h.kernelfile),
    h.groups
      .filter((g) => g !== 'all')
      .map(printable)
      .join(', ') || '-',
  ]);
  const lines = table([['HOST', 'ADDRESS', 'KEY', 'SUDO', 'KERNELFILE', 'GROUPS'], ...rows]);
  const out = [
    style('bold', lines[0] ?? ''),
    ...lines.slice(1).map((l, i) => (doc.hosts[i]?.error ? style('error', l) : l)),
  ];
  const failing = doc.hosts.filter((h) => h.error);
  if (failing.length) {
    out.push('');
    for (const h of failing)
      out.push(
        `${style('error', 'error:')} ${printable(h.error?.message ?? '')}${h.error?.hint ? `\n  hint: ${printable(h.error.hint)}` : ''}`,
      );
  }
  const none = doc.hosts.filter((h) => h.kernelfile === null).length;
  out.push(
    '',
    `${doc.hosts.length} host${doc.hosts.length === 1 ? '' : 's'}${doc.limit !== null ? ` (of ${doc.total})` : ''} in ${printable(doc.file)}${
      none
        ? `; ${none} without a \`kernelfile\` var (plan and apply need the FILE argument for ${none === 1 ? 'it' : 'them'})`
        : ''
    }`,
  );
  return `${out.join('\n')}\n`;
}
