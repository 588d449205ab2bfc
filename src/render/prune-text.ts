/** `kernelfile cache prune`: what was (or would be) removed, per kind, and what stays to seed builds. */
import type { PruneReport } from '../engine/cache.js';
import { bytes } from './bytes.js';
import { plain } from './style.js';

export function renderPrune(r: PruneReport, style = plain): string {
  const lines = [`Cache ${r.root}`];
  const width = Math.max(0, ...r.groups.map((g) => g.what.length));
  for (const g of r.groups)
    lines.push(
      `  ${g.what.padEnd(width)}  ${String(g.entries.length).padStart(4)}  ${bytes(g.bytes).padStart(9)}`,
    );
  if (!r.groups.length) lines.push('  nothing to remove');
  const kept = `${r.kept.trees} object tree${r.kept.trees === 1 ? '' : 's'} kept to seed later builds (${bytes(r.kept.bytes)})`;
  lines.push(
    r.dryRun
      ? style('bold', `Would free ${bytes(r.bytes)}; ${kept}. Run without --dry-run to remove it.`)
      : style('bold', `Freed ${bytes(r.bytes)}; ${kept}.`),
  );
  return `${lines.join('\n')}\n`;
}
