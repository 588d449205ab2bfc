/**
 * The seed copied early: a build that will be compiled next (`kernelfile build`) starts copying
 * the object tree it will most likely seed from (seed.ts) while its patched tree is made and its
 * configuration resolved, instead of after. Both are waits on other processes (cp -l, patch, the
 * kernel's Kconfig and its compiler probes) that leave the other core idle.
 *
 * The copy is a guess until the build id is known: compileLocked (build.ts) places it only when
 * chooseSeed, given the resolved configuration, chooses the same seed, and discards it otherwise
 * (the build then seeds as before). A build whose configuration is cached knows its build id
 * first: nothing is copied when its artifacts or its object tree are already there. Every copy is
 * placed or removed: by the build, by discardEarlySeed, or when the process exits.
 *
 * Its configuration is synchronised there too (syncEarlySeed), while the build's own resolution
 * runs Kconfig in a fresh directory: make, given the copy, then has nothing to synchronise.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { cachedObjtree, linkSource, objtreeIn } from './build-dir.js';
import { keepAtExit, removeAtExit } from './cache.js';
import { recycleTree } from './recycle.js';
import {
  chooseSeed,
  dropStaged,
  guessSeed,
  readRecords,
  type SeedChoice,
  type StagedSeed,
  seedConfigReader,
  stageSeed,
} from './seed.js';

/** What the build knows of itself before its configuration is resolved. */
export interface EarlyWanted {
  /** The cache's objects directory. */
  objects: string;
  source: string;
  arch: string;
  compat: string;
  /** The patched tree: its key, and where it is or will be. */
  tree: { key: string; dir: string };
  /** The configuration and build id, when the configuration is cached: the choice is then exact. */
  known?: { buildId: string; configText: string };
  /** Else the values the merge sets (`CONFIG_X` → value: mergedValues, config.ts), to guess with. */
  merged: ReadonlyMap<string, string>;
}

/** Copies neither placed nor removed yet are removed when the process exits (removeAtExit). */
const copies = new WeakMap<object, Promise<StagedSeed | undefined>>();

/**
 * Start copying the likely seed: the copy's promise (resolving to undefined when the copy failed),
 * or undefined when there is no seed to copy. Keep it with keepEarlySeed, or drop it (dropCopy).
 */
export function startEarlySeed(w: EarlyWanted): Promise<StagedSeed | undefined> | undefined {
  const records = readRecords(w.objects);
  const wanted = { source: w.source, arch: w.arch, compat: w.compat, treeKey: w.tree.key };
  let choice: SeedChoice | undefined;
  if (w.known) {
    choice = chooseSeed(
      { ...wanted, buildId: w.known.buildId, configText: w.known.configText },
      records,
      seedConfigReader(w.objects),
    );
  } else choice = guessSeed(wanted, w.merged, records, seedConfigReader(w.objects));
  if (!choice) return undefined;
  // The copy is `obj/` of a build directory of its own (build-dir.ts): make can synchronise its
  // configuration there before the build id is known (syncEarlySeed).
  const home = join(w.objects, `early.seed-${process.pid}-${randomBytes(4).toString('hex')}`);
  removeAtExit(home);
  const dir = objtreeIn(home);
  // With the build id known, the records name its object tree already; else the copy itself.
  const names = w.known ? cachedObjtree(w.objects, w.known.buildId) : dir;
  return stageSeed(choice, { objects: w.objects, dir, names, tree: w.tree, home }).catch(() => {
    rmSync(home, { recursive: true, force: true });
    keepAtExit(home);
    return undefined;
  });
}

/**
 * Whether a build's early copy can have its configuration synchronised ahead: `make syncconfig`
 * exists from Linux 4.17 on (before, silentoldconfig), and a build through distcc compiles Kconfig's
 * probes as its make does only through distcc (not ahead: its hosts are checked later).
 */
export function canSyncAhead(version: string, distcc: boolean): boolean {
  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
  return !distcc && (major > 4 || (major === 4 && minor >= 17));
}

/** How make runs in the build: the source tree it builds and its make variables and environment. */
export interface SyncMake {
  tree: string;
  /** compileArgs (make.ts) without a build id, for `srctree: tree, objtree:` the copy. */
  make: (objtree: string) => { args: string[]; env: Record<string, string> };
}

/**
 * The copy, once made, with its configuration synchronised for the build: `merged` (the kernelfile's
 * configuration before Kconfig resolves it) as its .config, then the kernel's own `make syncconfig`,
 * which resolves it as `make olddefconfig` does (new symbols take their defaults: no answer comes on
 * stdin) and writes include/config/ for what changed since the seed. It runs while the build
 * resolves the same configuration in a fresh directory (config.ts), on the other core, instead of
 * after it, in make's own first step.
 *
 * A guess like the copy: when the resolved configuration is not the .config this left, compile()
 * writes it and make synchronises again, from what this wrote (Kbuild compares with auto.conf and
 * marks every option that differs: marks made here stay, so nothing is missed). A run that fails
 * drops the copy (the build seeds anew).
 */
export function syncEarlySeed(
  copy: Promise<StagedSeed | undefined>,
  merged: string,
  how: SyncMake,
): Promise<StagedSeed | undefined> {
  return copy.then(async (staged) => {
    if (!staged?.home) return staged;
    try {
      linkSource(how.tree, staged.dir);
      writeFileSync(join(staged.dir, '.config'), merged);
      const { args, env } = how.make(staged.dir);
      const r = await runLocal(['make', '-s', '-C', staged.home, `O=${staged.dir}`, ...args, 'syncconfig'], {
        env,
        stdin: '',
      });
      if (r.code === 0) return staged;
    } catch {
      // below
    }
    dropStaged(staged);
    keepAtExit(staged.home);
    return undefined;
  });
}

/** Keep the copy for `owner` (the prepared build). */
export function keepEarlySeed(owner: object, copy: Promise<StagedSeed | undefined>): void {
  copies.set(owner, copy);
}

/**
 * The copy kept for `owner`, once complete, handed over (the caller places or removes it), or
 * undefined when there is none.
 */
export async function takeEarlySeed(owner: object): Promise<StagedSeed | undefined> {
  const copy = copies.get(owner);
  if (!copy) return undefined;
  copies.delete(owner);
  // Still removed at exit until the caller places or drops it (its build directory goes then).
  return copy;
}

/** Remove the copy kept for `owner`, if any (once its copy has stopped). */
export async function discardEarlySeed(owner: object): Promise<void> {
  const copy = copies.get(owner);
  copies.delete(owner);
  await dropCopy(copy);
}

/**
 * Wait for a copy and give it up (a prepare that failed after starting one), leaving the cache as it
 * was: the recycled tree again when the copy took it, else removed.
 */
export async function dropCopy(copy: Promise<StagedSeed | undefined> | undefined): Promise<void> {
  const staged = await copy;
  if (!staged) return;
  if (staged.reused) recycleTree(staged.objects, staged.dir);
  else rmSync(staged.dir, { recursive: true, force: true });
  if (staged.home) rmSync(staged.home, { recursive: true, force: true });
  keepAtExit(staged.home ?? staged.dir);
}
