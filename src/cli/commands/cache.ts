/**
 * `kernelfile cache prune [--dry-run] [--keep-object-trees N] [--cache-dir DIR] [--json]`: remove
 * from the controller's cache what no later run needs (engine/cache.ts), and say how much it frees.
 */
import { resolve } from 'node:path';
import { pruneCache } from '../../engine/cache.js';
import { renderPrune } from '../../render/prune-text.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';

export interface CacheFlags {
  dryRun?: boolean;
  keepObjectTrees?: string;
  cacheDir?: string;
  json?: boolean;
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
  const report = pruneCache(flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : undefined, io.env, {
    ...(keep !== undefined ? { keep } : {}),
    dryRun: flags.dryRun === true,
  });
  if (flags.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else io.out(renderPrune(report, io.color ? colored : plain));
  return 0;
}
