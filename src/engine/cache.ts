/**
 * The controller's cache, day 2: what it holds that can go, and `kernelfile cache prune`. Only what
 * a later run never needs is removed: object trees beyond build.keepObjectTrees per source (the
 * most recent are kept to seed the next build: compile/seed.ts), object trees that cannot seed (a
 * failed or interrupted build's, or made before seeding was recorded), the dropped tree kept for
 * its files (compile/recycle.ts), logs of failed builds, the
 * second builds of `build --check-reproducible` that were kept, and staging leftovers of killed
 * runs. Sources, patched trees, Kconfig results and artifacts stay: plans and applies read them.
 * Whatever a running build holds a lock on is left alone.
 */
import { type Dirent, existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_KEEP_OBJECT_TREES } from '../compile/build.js';
import { cacheDirs, cacheRoot } from '../compile/cache.js';
import { isHeld } from '../compile/lock.js';
import { recycledTree } from '../compile/recycle.js';
import { beyondKeep, type ObjtreeRecord, readRecords, recordFile } from '../compile/seed.js';

export interface PruneGroup {
  /** What the entries are, for people. */
  what: string;
  entries: { path: string; bytes: number }[];
  bytes: number;
}

export interface PruneReport {
  root: string;
  groups: PruneGroup[];
  bytes: number;
  /** Object trees kept to seed later builds, and their size. */
  kept: { trees: number; bytes: number };
  dryRun: boolean;
}

/** Bytes a file or directory takes on disk (blocks, not lengths; symlinks not followed). */
export function diskBytes(path: string): number {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  let n = st.blocks * 512;
  if (st.isDirectory()) {
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      // unreadable: counted as its own blocks
    }
    for (const e of entries) n += diskBytes(join(path, e.name));
  }
  return n;
}

const ID = /^[0-9a-f]{64}$/;
/**
 * Names staging and discarding give entries (cache.ts, seed.ts): `<name>.tmp-PID-…`, `.seed-PID`,
 * `.bad-…`, and the marks of seed copies reading a tree (`<build id>.reading-PID-…`, recycle.ts).
 */
const LEFTOVER = /\.(tmp-\d+|seed-\d+|bad-\d+|reading-\d+)/;
const DAY_MS = 24 * 3600 * 1000;

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** What `cache prune` would remove, and the object trees it keeps (keep: per source). Removes nothing. */
function candidates(
  root: string,
  keep: number,
  now: number,
): { groups: PruneGroup[]; bytes: number; kept: ObjtreeRecord[] } {
  const dirs = cacheDirs(root);
  const records = readRecords(dirs.objects);
  const beyond = new Set<string>();
  for (const source of new Set(records.map((r) => r.source)))
    for (const r of beyondKeep(records, source, keep)) beyond.add(r.buildId);
  const seeds = new Set(records.map((r) => r.buildId));
  const busy = (id: string) => isHeld(dirs.locks, `build-${id}`);
  const group = (what: string, paths: string[]): PruneGroup => {
    const entries = paths.map((path) => ({ path, bytes: diskBytes(path) }));
    return { what, entries, bytes: entries.reduce((n, e) => n + e.bytes, 0) };
  };
  const objectIds = names(dirs.objects).filter((n) => ID.test(n));
  const old = (path: string) => {
    try {
      return now - lstatSync(path).mtimeMs > DAY_MS;
    } catch {
      return false;
    }
  };
  const leftovers = [dirs.objects, dirs.artifacts, dirs.trees, dirs.configs, dirs.sources, dirs.kconfig]
    .flatMap((d) => names(d).map((n) => join(d, n)))
    .filter((p) => LEFTOVER.test(p.slice(p.lastIndexOf('/') + 1)) && old(p));
  const groups = [
    group(
      `object trees beyond the ${keep} most recent per source`,
      objectIds.filter((id) => beyond.has(id) && !busy(id)).map((id) => join(dirs.objects, id)),
    ),
    group(
      'object trees that cannot seed a build (failed, interrupted, or made by an earlier kernelfile)',
      objectIds.filter((id) => !seeds.has(id) && !busy(id)).map((id) => join(dirs.objects, id)),
    ),
    group(
      'a dropped object tree kept for the next seeded build to write its files into',
      existsSync(recycledTree(dirs.objects)) ? [recycledTree(dirs.objects)] : [],
    ),
    group(
      'logs of failed builds',
      names(join(root, 'failed')).map((n) => join(root, 'failed', n)),
    ),
    group(
      'second builds kept by build --check-reproducible',
      names(join(root, 'reproducible')).map((n) => join(root, 'reproducible', n)),
    ),
    group('leftovers of interrupted runs (older than a day)', leftovers),
    // Made by kernelfile before patched trees were shadows of the pristine source (tree-copy.ts).
    group(
      'spare copies of sources, which kernelfile no longer makes',
      names(dirs.trees)
        .filter((n) => n.endsWith('.spare'))
        .map((n) => join(dirs.trees, n)),
    ),
  ].filter((g) => g.entries.length > 0);
  return {
    groups,
    bytes: groups.reduce((n, g) => n + g.bytes, 0),
    kept: records.filter((r) => !beyond.has(r.buildId)),
  };
}

/** Bytes `cache prune` would free (what `build` says after a compile; the kept trees are not sized). */
export function prunableBytes(root: string, keep = DEFAULT_KEEP_OBJECT_TREES, now = Date.now()): number {
  return candidates(root, keep, now).bytes;
}

/**
 * `kernelfile cache prune`: remove what no later run needs (an object tree's record first), or with
 * `dryRun` only say it. `root`: the cache (default $XDG_CACHE_HOME/kernelfile, from `env`).
 */
export function pruneCache(
  root: string | undefined,
  env: Record<string, string | undefined>,
  o: { keep?: number; dryRun?: boolean; now?: number } = {},
): PruneReport {
  const at = root ?? cacheRoot(undefined, env);
  const { groups, bytes, kept } = candidates(at, o.keep ?? DEFAULT_KEEP_OBJECT_TREES, o.now ?? Date.now());
  const objects = cacheDirs(at).objects;
  const report: PruneReport = {
    root: at,
    groups,
    bytes,
    kept: { trees: kept.length, bytes: kept.reduce((n, r) => n + diskBytes(join(objects, r.buildId)), 0) },
    dryRun: o.dryRun === true,
  };
  if (report.dryRun) return report;
  for (const g of report.groups)
    for (const e of g.entries) {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (e.path === join(objects, name) && ID.test(name)) rmSync(recordFile(objects, name), { force: true });
      rmSync(e.path, { recursive: true, force: true });
    }
  return report;
}
