/**
 * `kernelfile inventory FILE [--limit P] [--json]`: an Ansible inventory's hosts (YAML or INI, with
 * its group_vars/ and host_vars/) as kernelfile reaches them. Exit 1 when kernelfile cannot reach a
 * selected host (the rows say why).
 */
import { listInventory } from '../../engine/inventory-list.js';
import { renderInventory } from '../../render/inventory-text.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';

export interface InventoryFlags {
  limit?: string;
  json?: boolean;
}

export async function run(file: string, flags: InventoryFlags, io: Io): Promise<ExitCode> {
  const doc = listInventory(
    { inventory: file, ...(flags.limit !== undefined ? { limit: flags.limit } : {}) },
    io,
  );
  for (const w of doc.warnings) io.err(`${w}\n`);
  if (flags.json) io.out(`${JSON.stringify(doc, null, 2)}\n`);
  else io.out(renderInventory(doc, io.color ? colored : plain));
  return doc.hosts.some((h) => h.error !== null) ? 1 : 0;
}
