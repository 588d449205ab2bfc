/**
 * The kconfig host tools (scripts/basic/fixdep, scripts/kconfig/conf with its objects and the
 * generated lexer and parser) are built by make in every fresh output directory: seconds of gcc
 * before Kconfig even runs. They are built once per tree and kept in the cache; a fresh output
 * directory is seeded with a copy (modification times kept), and the kernel's own make decides
 * whether they are up to date: Kbuild compares each tool's recorded command line (.cmd) and its
 * dependencies' times, and rebuilds whatever does not match. So a seed can make a resolution
 * faster, never different.
 *
 * Keyed by the tree (its key and its path: the .cmd files record the source tree's absolute path),
 * the make variables (HOSTCC, HOSTCFLAGS…) and the toolchain; sealed (cache.ts) so a damaged copy
 * is thrown away and harvested again from the next resolution.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commit, openSealed, seal, staging } from './cache.js';
import { sha256Json } from './hash.js';

/** The directories of an output directory that hold the kconfig host tools. */
export const KCONFIG_TOOL_DIRS = ['scripts/basic', 'scripts/kconfig'] as const;

export function kconfigToolsKey(input: {
  tree: { dir: string; key: string };
  makeVars: Record<string, string>;
  toolchain: string;
}): string {
  return sha256Json({
    kconfigTools: 1,
    tree: input.tree.key,
    treeDir: input.tree.dir,
    makeVars: input.makeVars,
    toolchain: input.toolchain,
  });
}

const copy = (from: string, to: string) =>
  cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });

/**
 * Seed the output directory `out` with the cached tools, if there is a whole entry.
 * @returns whether it was seeded (if not, make builds the tools and `harvest` keeps them)
 */
export function seedTools(entry: string, out: string): boolean {
  if (!openSealed(entry, ['scripts/kconfig/conf', 'scripts/basic/fixdep'])) return false;
  for (const d of KCONFIG_TOOL_DIRS) {
    mkdirSync(join(out, d, '..'), { recursive: true });
    copy(join(entry, d), join(out, d));
  }
  return true;
}

/** Keep the tools make built in `out` (after a successful resolution) as the entry for next time. */
export function harvestTools(entry: string, out: string): void {
  if (!KCONFIG_TOOL_DIRS.every((d) => existsSync(join(out, d)))) return;
  if (!existsSync(join(out, 'scripts/kconfig/conf'))) return;
  const tmp = staging(entry);
  try {
    for (const d of KCONFIG_TOOL_DIRS) {
      mkdirSync(join(tmp, d, '..'), { recursive: true });
      copy(join(out, d), join(tmp, d));
    }
    seal(tmp);
    commit(tmp, entry);
  } catch {
    // Not kept: it only costs building them again next time.
    rmSync(tmp, { recursive: true, force: true });
  }
}
