/**
 * Each patch set's source tree, made from the pristine tree without copying it.
 *
 * A patched tree is a **shadow** of the pristine tree (shadowTree): only the directories on the way
 * to a file the patches name are real directories (and tools/: WHOLE); in them every file is a hard
 * link to the pristine file (GNU patch writes a file it changes anew, so the pristine one stays as
 * it was) and every other directory is a symbolic link to the pristine directory (absolute). For a
 * patch to init/main.c that is the top directory, init/ and tools/, against 80,000 links and 5,000
 * directories for a hard-link copy of the whole tree (0.4 s on a quiet machine, 1.3–2 s where the
 * file system's metadata is slow, a fifth of a patch rebuild of a small kernel, and as many inodes
 * in the cache per patch set).
 *
 * What reads the tree sees the pristine files through the links, as the kernel's own build does
 * through its build directory's links (build-dir.ts). Three rules keep what resolves through a link
 * the tree's own:
 *  - a link of the pristine tree's own whose target holds a patched file (a relative link,
 *    `scripts/dtc/include-prefixes/arm -> ../../../arch/arm/boot/dts`) is in a real directory, so
 *    it resolves in the patched tree (linksToward); the others reach pristine files either way;
 *  - tools/ is a hard-link copy (WHOLE): make enters it by its physical path;
 *  - nothing writes through a shadow link: GNU patch refuses a path through a symbolic link (a
 *    patch naming a file the shadow did not expect then fails, and the tree is made again as a
 *    hard-link copy: patches.ts), and a file written later is made real first (materialize).
 *
 * A full hard-link copy (linkTree) remains for patches whose files cannot be read from their text.
 */
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { runLocal } from '../host/local.js';
import { BuildError } from './errors.js';

/**
 * Hard-link copy of the tree `from` into the empty directory `into` (`cp -al`): drivers/ alone is
 * some 40 % of a kernel tree's links, so drivers/ and the rest are linked by two cp at once
 * (0.57 s → 0.36 s for Debian's 6.1 on 2 cores).
 */
export async function linkTree(from: string, into: string): Promise<void> {
  const entries = readdirSync(from).sort();
  const big = entries.filter((e) => e === 'drivers');
  const rest = entries.filter((e) => e !== 'drivers');
  // Both waited for before a failure is said: none still writes into a directory being removed.
  const runs = await Promise.allSettled(
    [big, rest].map((names) =>
      linkInto(
        names.map((n) => join(from, n)),
        into,
      ),
    ),
  );
  const failed = runs.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  chmodSync(into, statSync(from).mode & 0o7777);
}

/** Hard-link copies of `paths` (files or whole directories) into the directory `into` (`cp -al`). */
async function linkInto(paths: readonly string[], into: string): Promise<void> {
  if (paths.length === 0) return;
  const r = await runLocal(['cp', '-al', '--', ...paths, into]);
  if (r.code !== 0) throw new BuildError(`cannot copy the source tree: ${r.stderr.trim()}`);
}

/**
 * The directories of a patched tree that are always real all the way down: the kernel's build
 * enters tools/ by its own path (`make -C …/tools/objtool`, resolve_btfids, libsubcmd), and make
 * names the directory it enters by its physical path, which the records of what it builds there
 * (objtool, which every object depends on) then name. Real, they name the patched tree, as in a
 * hard-link copy of it, so an object tree seeds a build of another patch set, shadow or copy, as
 * before (some 6,800 entries: `cp -al`, 0.17 s, once per patch set).
 */
const WHOLE: readonly string[] = ['tools'];

/** Where the list of the pristine tree's symbolic links is kept (beside it, made once). */
export function linksListOf(pristineDir: string): string {
  return `${pristineDir}.links`;
}

/**
 * The pristine tree's symbolic links, as paths relative to it (56 in Debian's 6.1): listed once
 * (`find`, 0.1 s) and kept beside the tree, which never changes once unpacked.
 */
export async function pristineLinks(pristineDir: string): Promise<string[]> {
  const file = linksListOf(pristineDir);
  try {
    const text = readFileSync(file, 'utf8');
    if (text.endsWith('\0') || text === '') return text.split('\0').filter(Boolean);
  } catch {
    // not listed yet
  }
  const r = await runLocal(['find', pristineDir, '-mindepth', '1', '-type', 'l', '-printf', '%P\\0']);
  if (r.code !== 0) throw new BuildError(`cannot list the source tree ${pristineDir}: ${r.stderr.trim()}`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, r.stdout);
  renameSync(tmp, file);
  return r.stdout.split('\0').filter(Boolean);
}

/** The directories above the relative path `p`, outermost first (`a/b/c` → `a`, `a/b`). */
function ancestors(p: string): string[] {
  const parts = p.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Every directory on the way to each of `paths` (relative; the paths themselves excluded), and ''. */
export function dirsToward(paths: readonly string[]): Set<string> {
  return new Set(['', ...paths.flatMap(ancestors)]);
}

/**
 * Make the directory `rel` of the pristine tree real at `at`: its files and links hard-linked, its
 * directories in `real` made real the same way, the others linked to the pristine directory, but
 * for `skip` (left out). `at` may be there, empty. Modes and times as the pristine directories have.
 */
function shadowDir(
  pristineDir: string,
  rel: string,
  at: string,
  real: ReadonlySet<string>,
  skip: ReadonlySet<string> = new Set(),
): void {
  const from = join(pristineDir, rel);
  mkdirSync(at, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (skip.has(child)) continue;
    if (!e.isDirectory()) linkSync(join(from, e.name), join(at, e.name));
    else if (real.has(child)) shadowDir(pristineDir, child, join(at, e.name), real);
    else symlinkSync(join(from, e.name), join(at, e.name));
  }
  const st = statSync(from);
  chmodSync(at, st.mode & 0o7777);
  utimesSync(at, st.atime, st.mtime);
}

/** Is the path `p` (relative to the tree) `dir` or inside it (`.`: the whole tree)? */
const within = (p: string, dir: string) => dir === '.' || p === dir || p.startsWith(`${dir}/`);

/**
 * The pristine tree's links that must resolve in the patched tree: those whose target (a relative
 * link, within the tree) holds a path in `paths` or such a link. The others resolve alike through
 * either tree: what they reach is the pristine files either way.
 */
export function linksToward(
  pristineDir: string,
  links: readonly string[],
  paths: readonly string[],
): string[] {
  const targets: { link: string; to: string }[] = [];
  for (const link of links) {
    const target = readlinkSync(join(pristineDir, link));
    if (isAbsolute(target)) continue;
    const to = posix.normalize(posix.join(posix.dirname(link), target));
    if (to !== '..' && !to.startsWith('../')) targets.push({ link, to });
  }
  const reached = [...paths];
  const taken = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of targets)
      if (!taken.has(t.link) && reached.some((p) => within(p, t.to))) {
        taken.add(t.link);
        reached.push(t.link);
        grew = true;
      }
  }
  return [...taken];
}

/**
 * Make `into` (empty, or not there) a shadow of the pristine tree where each of `paths` (relative,
 * as patches name them) can be written: every directory toward them is real, and toward the
 * pristine tree's own links that lead to them (linksToward); tools/ is a hard-link copy (WHOLE).
 */
export async function shadowTree(pristineDir: string, into: string, paths: readonly string[]): Promise<void> {
  const links = linksToward(pristineDir, await pristineLinks(pristineDir), paths);
  const whole = WHOLE.filter((d) => existsSync(join(pristineDir, d)));
  shadowDir(pristineDir, '', into, dirsToward([...paths, ...links]), new Set(whole));
  // A process of its own (`cp -al`: a third of the time of linking file by file from here).
  await linkInto(
    whole.map((d) => join(pristineDir, d)),
    into,
  );
}

/**
 * Make the way to `rel` in the tree `treeDir` real where it goes through a shadow link to
 * `pristineDir` (shadowTree), so that the file can be replaced without writing into the pristine
 * tree. A tree without shadow links (a hard-link copy, or the pristine tree) is left as it is.
 */
export function materialize(treeDir: string, pristineDir: string, rel: string): void {
  if (treeDir === pristineDir) return;
  for (const dirRel of ancestors(rel)) {
    const at = join(treeDir, dirRel);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(at);
    } catch {
      return; // not there: nothing below it to replace
    }
    if (!st.isSymbolicLink()) continue;
    if (readlinkSync(at) !== join(pristineDir, dirRel)) return; // the source's own link: not ours
    const tmp = join(dirname(at), `.kf-shadow-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    shadowDir(pristineDir, dirRel, tmp, new Set());
    unlinkSync(at);
    renameSync(tmp, at);
  }
}
