/**
 * One dropped object tree kept for its files: `objects/recycled/`. The next seed copy (seed.ts)
 * takes it and writes the seed's files into it, instead of creating some 4,000 files anew.
 *
 * Why: creating a file is the costly part of a seed copy where a file system allocates inodes
 * slowly. The ext4 of the machines this was measured on skips inodes deleted in the last minutes
 * one by one (as ext4 does without a journal): right after a build dropped a tree
 * (build.keepObjectTrees), the next copy of the example's tree took 1.8–3.7 s creating its files,
 * against 0.3–0.8 s writing the same bytes into the files of a dropped tree. Dropping then reusing
 * one tree per build creates and deletes almost nothing.
 *
 * The copy removes every entry the seed does not have as the same kind (and every file with other
 * hard links), keeps the files that already are the seed's (same size, time to the nanosecond and
 * mode: `unchanged`; a command record also the same bytes), and writes every other file the seed
 * has, with its mode and times.
 * At most one is kept: another dropped tree is removed. Claimed by renaming (atomic: two builds never
 * take the same one). `cache prune` removes it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepAtExit, removeAtExit } from './cache.js';

/** The recycled tree's name in the objects directory (not a build id, nor a leftover's name). */
const RECYCLED = 'recycled';

export function recycledTree(objects: string): string {
  return join(objects, RECYCLED);
}

/** The mark a seed copy leaves while it reads build `buildId`'s tree: `<build id>.reading-PID-…`. */
const READING = '.reading-';

/**
 * Mark the object tree of `buildId` as being read (a seed copy), until the returned function is
 * called (or the process exits). A tree being read is removed, not recycled: a file written in
 * place could change under the copy's open file; removed, it stays what it was for the reader.
 */
export function markReading(objects: string, buildId: string): () => void {
  const mark = join(objects, `${buildId}${READING}${process.pid}-${randomBytes(4).toString('hex')}`);
  removeAtExit(mark);
  writeFileSync(mark, '');
  return () => {
    rmSync(mark, { force: true });
    keepAtExit(mark);
  };
}

function beingRead(objects: string, buildId: string): boolean {
  try {
    return readdirSync(objects).some((n) => n.startsWith(`${buildId}${READING}`));
  } catch {
    return false;
  }
}

/**
 * Drop the object tree `dir` (in the objects directory `objects`): kept as the recycled tree when
 * there is none, else removed. `of`: the build whose tree it is, when a seed copy may be reading it
 * (markReading). The tree is first moved aside, so a copy that marks it later finds it gone, and
 * then kept only when no copy had marked it.
 */
export function recycleTree(objects: string, dir: string, of?: string): void {
  const keep = recycledTree(objects);
  if (!existsSync(keep)) {
    // `.tmp-PID`: `cache prune` removes what a killed run left (engine/cache.ts).
    const aside = `${keep}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(dir, aside);
    } catch {
      return; // gone already
    }
    dir = aside;
    if (of === undefined || !beingRead(objects, of)) {
      try {
        renameSync(aside, keep);
        return;
      } catch {
        // another build kept one meanwhile: removed below
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Take the recycled tree as `into` (which must not exist): true when there was one. */
export function claimRecycled(objects: string, into: string): boolean {
  try {
    renameSync(recycledTree(objects), into);
    return true;
  } catch {
    // none, or another build took it first
    return false;
  }
}

/**
 * What `find -printf` says of each entry, for a copy into a recycled tree: LISTING's fields, the
 * path last (it may hold spaces and newlines).
 */
export const LISTING = '%y %n %s %T@ %m %P\\0';

/** An entry of a LISTING: its kind (find's %y), hard links, and size, time and mode as one key. */
export interface Listed {
  kind: string;
  links: number;
  /** Size, modification time (to the nanosecond) and mode, as find printed them. */
  meta: string;
}

/** A LISTING's output, relative path → entry. Pure. */
export function parseListing(out: string): Map<string, Listed> {
  const m = new Map<string, Listed>();
  for (const entry of out.split('\0')) {
    const f = entry.split(' ', 5);
    if (f.length < 5) continue;
    const head = f.join(' ').length + 1;
    const rel = entry.slice(head);
    if (rel === '' || f[0] === undefined) continue;
    m.set(rel, { kind: f[0], links: Number(f[1]), meta: `${f[2]} ${f[3]} ${f[4]}` });
  }
  return m;
}

/**
 * The entries of a recycled tree (`had`) that a copy of a seed (`wanted`) must remove first: each
 * one the seed does not have as the same kind, every entry other than a directory or a regular file
 * (a link is made again, never written through), and every file with other hard links (written in
 * place, it would change them too). Pure.
 */
export function staleEntries(
  had: ReadonlyMap<string, Listed>,
  wanted: ReadonlyMap<string, Listed>,
): string[] {
  const stale: string[] = [];
  for (const [rel, e] of had) {
    const keep = (e.kind === 'd' || (e.kind === 'f' && e.links === 1)) && wanted.get(rel)?.kind === e.kind;
    if (!keep) stale.push(rel);
  }
  return stale;
}

/**
 * Whether the recycled tree's file at `rel` already is the seed's: a single-link regular file of the
 * same size, modification time (to the nanosecond) and mode. Every tree in the cache got each file
 * either from make, which wrote it at that time, or from a complete copy that kept the seed's time
 * (cp -a sets it last); a copy that failed midway is removed, never recycled. So an equal time
 * and size mean the same file (rsync's quick check), and its bytes need not be written again.
 * Except a command record renamed to another tree's paths (seed.ts), which keeps its time: the
 * caller compares a record's bytes too.
 */
export function unchanged(had: ReadonlyMap<string, Listed>, rel: string, seed: Listed): boolean {
  const e = had.get(rel);
  return e !== undefined && e.kind === 'f' && e.links === 1 && seed.kind === 'f' && e.meta === seed.meta;
}
