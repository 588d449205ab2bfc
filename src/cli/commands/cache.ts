/**
 * `kernelfile cache prune [--dry-run] [--keep-object-trees N] [--cache-dir DIR] [--json]`: remove
 * from the controller's cache what no later run needs (engine/cache.ts), and say how much it frees.
 */
import { resolve } from 'node:path';
import { cacheRoot } from '../../compile/cache.js';
import { type PruneReport, pruneCache } from '../../engine/cache.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';

export interface CacheFlags {
  dryRun?: boolean;
  keepObjectTrees?: string;
  cacheDir?: string;
  json?: boolean;
}

export function size(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

export function renderPrune(r: PruneReport, style = plain): string {
  const lines = [`Cache ${r.root}`];
  const width = Math.max(0, ...r.groups.map((g) => g.what.length));
  for (const g of r.groups)
    lines.push(
      `  ${g.what.padEnd(width)}  ${String(g.entries.length).padStart(4)}  ${size(g.bytes).padStart(9)}`,
    );
  if (!r.groups.length) lines.push('  nothing to remove');
  const kept = `${r.kept.trees} object tree${r.kept.trees === 1 ? '' : 's'} kept to seed later builds (${size(r.kept.bytes)})`;
  lines.push(
    r.dryRun
      ? style('bold', `Would free ${size(r.bytes)}; ${kept}. Run without --dry-run to remove it.`)
      : style('bold', `Freed ${size(r.bytes)}; ${kept}.`),
  );
  return `${lines.join('\n')}\n`;
}

export async function run(action: string, flags: CacheFlags, io: Io): Promise<ExitCode> {
  if (action !== 'prune') throw new UserError(`unknown cache action \`${action}\``, 'kernelfile cache prune');
  let keep: number | undefined;
  if (flags.keepObjectTrees !== undefined) {
    if (!/^\d{1,3}$/.test(flags.keepObjectTrees) || Number(flags.keepObjectTrees) > 100)
      throw new UserError(
        `--keep-object-trees takes a number from 0 to 100, got \`${flags.keepObjectTrees}\``,
      );
    keep = Number(flags.keepObjectTrees);
  }
  const root = flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : cacheRoot(undefined, io.env);
  const report = pruneCache(root, { ...(keep !== undefined ? { keep } : {}), dryRun: flags.dryRun === true });
  if (flags.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else io.out(renderPrune(report, io.color ? colored : plain));
  return 0;
}
