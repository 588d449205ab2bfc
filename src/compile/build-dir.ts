/**
 * A build's directory: the object tree (O=) in `obj/`, beside one symbolic link per top-level entry
 * of the build's source tree (`arch -> …/trees/<key>/arch`, `Makefile -> …`). make runs from the
 * build's directory, so Kbuild finds the object tree in a subdirectory of its source tree and names
 * the source `..` (the kernel's own "building in a subdirectory of the source tree"):
 *
 *  - the command records (.cmd) name `../include/…`, not the cache's absolute path, 129 bytes on
 *    each of their 360,000 mentions in the example: a third of the bytes to copy and for make to
 *    read;
 *  - a record stays true when the object tree is copied to seed a build of another patch set
 *    (seed.ts): only the few that name an absolute path (host tools, objtool) are rewritten.
 *
 * The source trees themselves stay as they are (shared, never written). What resolves `..` through
 * the links and what does not is the kernel's: its sub-makes that change directory (`-C ../tools`)
 * land in the real tree, and their records name it, as before.
 */
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuildError } from './errors.js';

/** The object tree's name in its build directory: no kernel tree has a top-level entry of that name. */
export const OBJTREE_NAME = 'obj';

/** The object tree of the build directory `dir`. */
export const objtreeIn = (dir: string): string => join(dir, OBJTREE_NAME);

/** The object tree of a build in the cache's objects directory: objects/<build id>/obj. */
export const cachedObjtree = (objects: string, buildId: string): string => objtreeIn(join(objects, buildId));

/** The build directory an object tree is in (where make runs). */
export const buildDirOf = (objtree: string): string => dirname(objtree);

/**
 * Link every top-level entry of `srctree` into the build directory of `objtree` (made if missing):
 * links to another tree are replaced, links to entries the tree no longer has removed. Nothing but
 * links and the object tree is expected there; anything else is refused, not removed.
 */
export function linkSource(srctree: string, objtree: string): void {
  const dir = buildDirOf(objtree);
  if (objtree !== objtreeIn(dir))
    throw new BuildError(
      `internal: the object tree ${objtree} is not ${OBJTREE_NAME}/ of its build directory`,
    );
  mkdirSync(dir, { recursive: true });
  const wanted = new Map<string, string>();
  for (const name of readdirSync(srctree)) {
    if (name === OBJTREE_NAME)
      throw new BuildError(
        `the source tree ${srctree} has a top-level entry named ${OBJTREE_NAME}, which kernelfile's build directory uses for the object tree`,
        'remove or rename it with a patch',
      );
    wanted.set(name, join(srctree, name));
  }
  for (const name of readdirSync(dir)) {
    if (name === OBJTREE_NAME || name.startsWith(`${OBJTREE_NAME}.`)) continue; // the tree, a seed being placed
    const at = join(dir, name);
    if (!lstatSync(at).isSymbolicLink())
      throw new BuildError(
        `${at} is not a link kernelfile made: the build directory ${dir} is not one of kernelfile's`,
        'build with --clean',
      );
    if (readlinkSync(at) === wanted.get(name)) wanted.delete(name);
    else rmSync(at);
  }
  for (const [name, target] of wanted) symlinkSync(target, join(dir, name));
}
