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
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cachedObjtree } from './build-dir.js';
import { keepAtExit, removeAtExit } from './cache.js';
import { recycleTree } from './recycle.js';
import {
  chooseSeed,
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
  /** Else the requested values (`CONFIG_X` → value), to guess with. */
  requested: ReadonlyMap<string, string>;
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
  } else choice = guessSeed(wanted, w.requested, records, seedConfigReader(w.objects));
  if (!choice) return undefined;
  const dir = join(w.objects, `early.seed-${process.pid}-${randomBytes(4).toString('hex')}`);
  removeAtExit(dir);
  // With the build id known, the records name its object tree already; else the copy itself.
  const names = w.known ? cachedObjtree(w.objects, w.known.buildId) : dir;
  return stageSeed(choice, { objects: w.objects, dir, names, tree: w.tree }).catch(() => {
    keepAtExit(dir);
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
  const staged = await copy;
  if (staged) keepAtExit(staged.dir);
  return staged;
}

/** Drop a copy that will not be placed: its files are recycled (recycle.ts). */
export function removeStaged(staged: StagedSeed): void {
  recycleTree(staged.objects, staged.dir);
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
  keepAtExit(staged.dir);
  if (staged.reused) recycleTree(staged.objects, staged.dir);
  else rmSync(staged.dir, { recursive: true, force: true });
}
