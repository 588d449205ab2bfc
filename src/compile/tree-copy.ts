/**
 * Hard-link copies of the pristine source tree: each patch set's tree starts as one (patches.ts),
 * and one spare copy per source is made ahead, while make compiles a patched build, so that the
 * next patch set's tree starts from it instead of waiting for a copy.
 *
 * A copy is some 80,000 links and 5,000 directories for a kernel tree: 0.4 s on a quiet machine,
 * 1.3–2 s where the file system's metadata is slow; iterating on a patch of a small kernel, that
 * is a fifth of the rebuild. The spare is made at the lowest CPU priority (`nice -n 19`) in the
 * idle moments of make (the single-threaded link and compression at its end), and the build waits
 * for it before it returns, so no process outlives the command. One spare at most per source:
 * trees/src-<key>.spare; claimed by renaming it (atomic: two claims never get the same copy), made
 * under a temporary name and renamed into place when complete; unpacking the source again drops it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { keepAtExit, removeAtExit } from './cache.js';
import { BuildError } from './errors.js';

/**
 * Hard-link copy of the tree `from` into the empty directory `into` (`cp -al`): drivers/ alone is
 * some 40 % of a kernel tree's links, so drivers/ and the rest are linked by two cp at once
 * (0.57 s → 0.36 s for Debian's 6.1 on 2 cores). `nice`: at the lowest CPU priority.
 */
export async function linkTree(from: string, into: string, o: { nice?: boolean } = {}): Promise<void> {
  const entries = readdirSync(from).sort();
  const big = entries.filter((e) => e === 'drivers');
  const rest = entries.filter((e) => e !== 'drivers');
  const cp = (names: string[]) =>
    names.length
      ? runLocal([
          ...(o.nice ? ['nice', '-n', '19'] : []),
          'cp',
          '-al',
          '--',
          ...names.map((n) => join(from, n)),
          into,
        ])
      : null;
  const runs = await Promise.all([cp(big), cp(rest)]);
  const failed = runs.find((r) => r !== null && r.code !== 0);
  if (failed) throw new BuildError(`cannot copy the source tree: ${failed.stderr.trim()}`);
  chmodSync(into, statSync(from).mode & 0o7777);
}

/** Where the spare copy of the pristine tree at `pristineDir` is kept. */
export function spareOf(pristineDir: string): string {
  return `${pristineDir}.spare`;
}

/**
 * Take the spare copy of `pristineDir` as the empty directory `into` (renamed over it): true when
 * there was one, false when `into` is left as it was.
 */
export function claimSpare(pristineDir: string, into: string): boolean {
  try {
    renameSync(spareOf(pristineDir), into);
    return true;
  } catch {
    // none (or another build took it first, or `into` is not empty): a copy is made instead
    return false;
  }
}

/**
 * Start making the spare copy of `pristineDir`, unless there is one: a promise that settles when
 * it is in place (or failed: a spare is never needed, so a failure is not an error); undefined when
 * there is nothing to make.
 */
export function startSpare(pristineDir: string): Promise<void> | undefined {
  const spare = spareOf(pristineDir);
  if (existsSync(spare) || !existsSync(pristineDir)) return undefined;
  // `.tmp-<pid>`: `cache prune` removes what a killed run left (engine/cache.ts).
  const tmp = `${spare}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // Removed when the process exits before it is complete.
  removeAtExit(tmp);
  const done = async () => {
    try {
      mkdirSync(tmp, { mode: 0o700 });
      await linkTree(pristineDir, tmp, { nice: true });
      renameSync(tmp, spare);
    } catch {
      // made by another build meanwhile (the rename found it), or the copy failed: none kept
    } finally {
      keepAtExit(tmp);
      rmSync(tmp, { recursive: true, force: true });
    }
  };
  return done();
}

/** Forget the spare of a pristine tree (it is being unpacked again: the spare links the old files). */
export function dropSpare(pristineDir: string): void {
  rmSync(spareOf(pristineDir), { recursive: true, force: true });
}
