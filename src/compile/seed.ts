/**
 * Seeded object trees: a build id not in the cache starts its object tree (O=) from the closest
 * earlier one of the same source, toolchain, architecture, make variables and signing key (same
 * patches first, then the fewest differing options), and make rebuilds what changed, as it does for
 * a kernel developer. The artifacts stay those of the build id: Kbuild decides what to rebuild from
 * each target's command line and dependencies (its .cmd files), and this module makes both say what
 * they would say had the seed been built here:
 *
 *  - the copy's .cmd and .d files name this build's source and object trees instead of the seed's
 *    (the trees are at other paths; the kernel maps both out of what it builds: see make.ts), so an
 *    unchanged command line stays unchanged;
 *  - a source file whose content differs between the seed's patched tree and this one is made newer
 *    than every object (a fresh copy in this tree, its hard link to the pristine source broken), so
 *    make rebuilds what depends on it, as after an edit;
 *  - a changed option reaches its dependents through include/config/ (Kbuild's own syncconfig).
 *
 * Seeds are only complete builds (a record, objects/<build id>.json, written after the build), and
 * never where Kbuild is known not to rebuild correctly or the output would name the seed's directory:
 * another compiler, other make variables (KCFLAGS…), another architecture, recipe or signing key, a
 * CONFIG_DEBUG_INFO build (its objects keep the object directory in DW_AT_comp_dir).
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fchmodSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../kconfig/config.js';
import { cachedObjtree } from './build-dir.js';
import { BuildError } from './errors.js';
import { sha256Json } from './hash.js';
import { KIB, MAX_CONFIG_BYTES, readRegularSync, readRegularTextSync } from './read-file.js';
import {
  claimRecycled,
  LISTING,
  type Listed,
  markReading,
  parseListing,
  recycleTree,
  staleEntries,
  unchanged,
} from './recycle.js';
import { materialize } from './tree-copy.js';

/**
 * The records' version: 2 since the object tree is `obj/` of its build directory (build-dir.ts).
 * Trees recorded otherwise are not seeds (`cache prune` removes them).
 */
export const OBJTREE_RECORD = 2;

/** What a complete object tree was built from: objects/<build id>.json, beside its build directory. */
export interface ObjtreeRecord {
  objtreeRecord: typeof OBJTREE_RECORD;
  buildId: string;
  release: string;
  recipe: number;
  /** The pristine source (source.ts sourceKey) and the patched tree it was built from. */
  source: string;
  pristine: { key: string; dir: string };
  tree: { key: string; dir: string };
  objtree: string;
  arch: string;
  /** sha256 of what must be equal for a seed: toolchain, make variables, signing certificate. */
  compat: string;
  completedAt: string;
  /** The files its patches touch (relative to the tree), when every patch names them. */
  patched?: string[];
}

/** The inputs a seed must share with the build (besides the source and architecture). */
export interface SeedCompat {
  recipe: number;
  toolchain: string;
  makeVars: Record<string, string>;
  signingCertificate: string | null;
  /** `distcc` for a build through build.distcc (its make CC differs); absent for a local build. */
  cc?: 'distcc';
}

export function compatDigest(c: SeedCompat): string {
  return sha256Json({ seedCompat: 1, ...c });
}

/** What a new build looks for in a seed. */
export interface SeedWanted {
  buildId: string;
  source: string;
  arch: string;
  compat: string;
  treeKey: string;
  configText: string;
}

export interface SeedChoice {
  record: ObjtreeRecord;
  samePatches: boolean;
  /** Options whose value differs between the seed's .config and the build's. */
  differing: number;
}

/** How a seed relates to the build, for people: "same patches, 1 option differs". */
export function seedSummary(s: { samePatches: boolean; differing: number }): string {
  const n = s.differing;
  return `${s.samePatches ? 'same patches' : 'other patches'}, ${n} option${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''}`;
}

/** Symbols whose value differs between two .config texts (set in one only counts too). */
export function differingOptions(a: string, b: string): number {
  const map = (t: string) => new Map(parseConfig(t).entries.map((e) => [e.symbol, e.value]));
  const x = map(a);
  const y = map(b);
  let n = 0;
  for (const [k, v] of x) if (y.get(k) !== v) n++;
  for (const k of y.keys()) if (!x.has(k)) n++;
  return n;
}

/** Does the build's configuration keep paths of the object directory in what it builds? */
export function keepsObjectPaths(configText: string): boolean {
  return /^CONFIG_DEBUG_INFO=y$/m.test(configText);
}

/**
 * The closest seed among complete object trees: same source, architecture and compatibility; the
 * same patches before other patches, then the fewest differing options, then the most recent.
 * `configOf` reads a seed's .config (undefined when its tree is gone). Pure.
 */
export function chooseSeed(
  wanted: SeedWanted,
  records: readonly ObjtreeRecord[],
  configOf: (r: ObjtreeRecord) => string | undefined,
): SeedChoice | undefined {
  if (keepsObjectPaths(wanted.configText)) return undefined;
  return closest(wanted, records, configOf, (config) => differingOptions(config, wanted.configText));
}

/**
 * The seed chooseSeed will most likely choose, before the build's configuration is resolved: the
 * values the merge sets (`CONFIG_X` → value as in a .config, kernelfile's own such as
 * CONFIG_LOCALVERSION included) stand for the .config, and `differing` counts those a seed does not
 * have. A guess only: the seed copied early (stageSeed) is used only when chooseSeed, given the
 * resolved configuration, chooses the same one. Pure.
 */
export function guessSeed(
  wanted: Omit<SeedWanted, 'configText' | 'buildId'>,
  merged: ReadonlyMap<string, string>,
  records: readonly ObjtreeRecord[],
  configOf: (r: ObjtreeRecord) => string | undefined,
): SeedChoice | undefined {
  if (merged.get('CONFIG_DEBUG_INFO') === 'y') return undefined;
  return closest(wanted, records, configOf, (config) => {
    const has = new Map(parseConfig(config).entries.map((e) => [e.symbol, e.value]));
    let n = 0;
    for (const [symbol, value] of merged) if ((has.get(symbol) ?? 'n') !== value) n++;
    return n;
  });
}

function closest(
  wanted: Omit<SeedWanted, 'configText' | 'buildId'> & { buildId?: string },
  records: readonly ObjtreeRecord[],
  configOf: (r: ObjtreeRecord) => string | undefined,
  distance: (seedConfig: string) => number,
): SeedChoice | undefined {
  let best: SeedChoice | undefined;
  for (const record of records) {
    if (
      record.buildId === wanted.buildId ||
      record.source !== wanted.source ||
      record.arch !== wanted.arch ||
      record.compat !== wanted.compat
    )
      continue;
    const config = configOf(record);
    if (config === undefined || keepsObjectPaths(config)) continue;
    const c: SeedChoice = {
      record,
      samePatches: record.tree.key === wanted.treeKey,
      differing: distance(config),
    };
    if (
      !best ||
      (c.samePatches && !best.samePatches) ||
      (c.samePatches === best.samePatches &&
        (c.differing < best.differing ||
          (c.differing === best.differing && c.record.completedAt > best.record.completedAt)))
    )
      best = c;
  }
  return best;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A record as read back; writeRecord leaves out a patched-file list that would not fit. */
const MAX_RECORD_BYTES = 64 * KIB;

/** A path inside a tree: relative, no `..` or empty components. */
function safeRelative(x: unknown): boolean {
  return (
    typeof x === 'string' &&
    x.length > 0 &&
    x.length < 4096 &&
    !x.startsWith('/') &&
    x.split('/').every((c) => c !== '' && c !== '.' && c !== '..')
  );
}

/** A record read back: every field checked (the cache is the user's, but a damaged file is possible). */
export function parseRecord(text: string): ObjtreeRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = v as Partial<ObjtreeRecord> | null;
  const str = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length < 4096;
  const pair = (x: unknown) => {
    const o = x as { key?: unknown; dir?: unknown } | null;
    return typeof o === 'object' && o !== null && str(o.key) && str(o.dir);
  };
  if (
    r?.objtreeRecord !== OBJTREE_RECORD ||
    !str(r.buildId) ||
    !HEX64.test(r.buildId as string) ||
    !str(r.release) ||
    typeof r.recipe !== 'number' ||
    !str(r.source) ||
    !pair(r.pristine) ||
    !pair(r.tree) ||
    !str(r.objtree) ||
    !str(r.arch) ||
    !str(r.compat) ||
    !str(r.completedAt) ||
    (r.patched !== undefined &&
      (!Array.isArray(r.patched) || r.patched.length > 100_000 || !r.patched.every((x) => safeRelative(x))))
  )
    return undefined;
  return r as ObjtreeRecord;
}

export const recordFile = (objects: string, buildId: string) => join(objects, `${buildId}.json`);

/** The records of complete object trees in the cache (trees whose directory is gone are left out). */
export function readRecords(objects: string): ObjtreeRecord[] {
  let names: string[];
  try {
    names = readdirSync(objects);
  } catch {
    return [];
  }
  const out: ObjtreeRecord[] = [];
  for (const n of names) {
    const m = /^([0-9a-f]{64})\.json$/.exec(n);
    if (!m) continue;
    const read = readRegularSync(join(objects, n), MAX_RECORD_BYTES);
    if (!read.ok) continue;
    const r = parseRecord(read.bytes.toString('utf8'));
    if (r && r.buildId === m[1] && existsSync(join(cachedObjtree(objects, r.buildId), '.config')))
      out.push(r);
  }
  return out;
}

/** What chooseSeed and guessSeed read a seed's .config with: undefined when it is gone or unreadable. */
export function seedConfigReader(objects: string): (r: ObjtreeRecord) => string | undefined {
  return (r) => {
    try {
      return readRegularTextSync(
        join(cachedObjtree(objects, r.buildId), '.config'),
        MAX_CONFIG_BYTES,
        'a seed .config',
      );
    } catch {
      return undefined;
    }
  };
}

/** Write the record of a complete build (after its artifacts are committed). */
export function writeRecord(objects: string, r: ObjtreeRecord): void {
  const file = recordFile(objects, r.buildId);
  const tmp = `${file}.tmp-${process.pid}`;
  let text = `${JSON.stringify(r, null, 2)}\n`;
  // A long patch series' file list would not be read back (MAX_RECORD_BYTES): without it, seeding
  // across patch sets finds the files from the trees instead.
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES) {
    const { patched: _patched, ...rest } = r;
    text = `${JSON.stringify(rest, null, 2)}\n`;
  }
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Remove a build's record first (the tree is no longer a seed), then its build directory; its object
 * tree is kept as the recycled tree for the next seed copy's files (recycle.ts) unless `recycle` is
 * false.
 */
export function removeObjtree(objects: string, buildId: string, recycle = true): void {
  rmSync(recordFile(objects, buildId), { force: true });
  if (recycle) recycleTree(objects, cachedObjtree(objects, buildId), buildId);
  rmSync(join(objects, buildId), { recursive: true, force: true });
}

/**
 * What replaces every occurrence of each `from` with its `to` (longest first), on bytes: paths as
 * the file system has them (UTF-8), whatever else a record holds. The pairs are ordered and encoded
 * once, for every record of a tree. Pure.
 */
export function pathRewriter(pairs: readonly (readonly [string, string])[]): (bytes: Buffer) => Buffer {
  const encoded = pairs
    .filter(([from, to]) => from !== to && from.length > 0)
    .map(([from, to]) => [Buffer.from(from), Buffer.from(to)] as const)
    .sort((x, y) => y[0].length - x[0].length);
  return (bytes) => {
    let out = bytes;
    for (const [from, to] of encoded) {
      let at = out.indexOf(from);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let start = 0;
      while (at >= 0) {
        parts.push(out.subarray(start, at), to);
        start = at + from.length;
        at = out.indexOf(from, start);
      }
      parts.push(out.subarray(start));
      out = Buffer.concat(parts);
    }
    return out;
  };
}

/**
 * A command record copied from `src` to `dst` with its paths rewritten, its mode and times kept;
 * what was written.
 */
function rewriteRecord(src: string, dst: string, rewrite: (bytes: Buffer) => Buffer): Buffer {
  const st = lstatSync(src);
  const out = rewrite(readFileSync(src));
  const fd = openSync(dst, 'wx', st.mode & 0o7777);
  try {
    writeFileSync(fd, out);
    fchmodSync(fd, st.mode & 0o7777); // the umask may have narrowed it
    // With their times: make compares the dependency files of tools/ (objtool) with their targets.
    futimesSync(fd, st.atime, st.mtime);
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Copy the object tree `at` into `tmp` (which must not exist) with its command records' paths
 * rewritten (`pairs`), everything with its mode and times. Kbuild names the source `..`
 * (build-dir.ts), so only the few records that name an absolute path (host tools, objtool) hold one
 * of the pairs: `grep` finds them, they are read, rewritten and written once, here, while one cp
 * copies the rest (reflinked where the file system can). `source`, the link make makes to the
 * source tree on every run, is left out: made again, never trusted from the seed.
 * The copy is written into the recycled tree of `objects` when there is one (recycle.ts): its
 * entries the seed does not have are removed first, its files that already are the seed's are
 * kept (a record's bytes compared too), and cp writes every other file into the one there.
 * Returns the records (relative paths) that name `naming` once rewritten, and whether the copy
 * was written into the recycled tree.
 */
async function copySeed(
  objects: string,
  at: string,
  tmp: string,
  pairs: [string, string][],
  naming: string,
): Promise<{ named: string[]; reused: boolean }> {
  mkdirSync(dirname(tmp), { recursive: true });
  const reused = claimRecycled(objects, tmp);
  const big = { maxBuffer: 512 * 1024 * 1024 };
  const naming0 = recordsNaming(at, [
    ...pairs.filter(([from, to]) => from !== to && from.length > 0).map(([from]) => from),
    naming,
  ]);
  // Settled at once: its error is taken below, once the listings are in.
  naming0.catch(() => {});
  const [listed, had] = await Promise.all([
    run('find', [at, '-mindepth', '1', '-printf', LISTING], big),
    reused ? run('find', [tmp, '-mindepth', '1', '-printf', LISTING], big) : undefined,
  ]);
  const before = had ? parseListing(had.stdout) : new Map<string, Listed>();
  const wanted = parseListing(listed.stdout);
  for (const [rel, e] of wanted)
    if (rel === 'source' || (e.kind === 'f' && relinkedAnyway(rel))) wanted.delete(rel);
  // Records the recycled tree has with the same size, time and mode: kept if their bytes are equal
  // too. A record renamed to other paths keeps its time (rewriteRecord), so its time says nothing.
  // Compared while grep reads (a record it finds is written anew whatever it holds).
  const candidates = [...wanted]
    .filter(([rel, e]) => isRecord(rel) && unchanged(before, rel, e))
    .map(([rel]) => rel);
  const equal = sameFiles(at, tmp, candidates);
  const named0 = await naming0;
  const dirs: string[] = [];
  const records: string[] = [];
  const rest: string[] = [];
  for (const [rel, e] of wanted) {
    if (e.kind === 'd') dirs.push(rel);
    else if (e.kind === 'f' && named0.has(rel)) records.push(rel);
    else if (!unchanged(before, rel, e) || (isRecord(rel) && !equal.has(rel))) rest.push(rel);
  }
  if (had) {
    for (const rel of staleEntries(before, wanted)) rmSync(join(tmp, rel), { recursive: true, force: true });
    // Written anew below (rewriteRecord creates its file).
    for (const rel of records) rmSync(join(tmp, rel), { force: true });
  } else mkdirSync(tmp);
  // find lists a directory before what it holds.
  for (const d of dirs) mkdirSync(join(tmp, d), { recursive: true });
  const rewrite = pathRewriter(pairs);
  const named: string[] = [];
  const list = `${tmp}.list`;
  try {
    writeFileSync(list, rest.length ? `${rest.join('\0')}\0` : '');
    // -f: a file of the recycled tree that cannot be opened for writing is removed and made again.
    const copied = run(
      'sh',
      [
        '-c',
        'cd "$1" && exec xargs -0 -r -a "$2" cp -af --reflink=auto --parents -t "$3" --',
        'kf-seed',
        at,
        list,
        tmp,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    // Meanwhile, in this thread: the copy runs in its own process. It is waited for either way,
    // so a failure here never leaves it writing into a directory being removed.
    let failed: unknown;
    const name = Buffer.from(naming);
    try {
      for (const [i, rel] of records.entries()) {
        if (rewriteRecord(join(at, rel), join(tmp, rel), rewrite).includes(name)) named.push(rel);
        // Now and then the event loop runs: a copy made early (seed-early.ts) leaves the
        // configuration's resolution free to start its processes meanwhile.
        if (i % 32 === 31) await new Promise((r) => setImmediate(r));
      }
    } catch (e) {
      failed = e;
    }
    await copied;
    if (failed) throw failed;
  } finally {
    rmSync(list, { force: true });
  }
  // The directories' modes and times, as cp -a keeps them: set once everything is in them.
  for (const d of [...dirs, '']) {
    const st = lstatSync(join(at, d));
    chmodSync(join(tmp, d), st.mode & 0o7777);
    utimesSync(join(tmp, d), st.atime, st.mtime);
  }
  return { named, reused };
}

/**
 * The images make links from every object: `vmlinux`, `vmlinux.o`, `vmlinux.bin` and its
 * compressed forms, the kallsyms passes' `.tmp_vmlinux*` (38 of the example's 88 MB). Not copied:
 * a seeded build always links them again (its release, `-kf<build id>`, is not the seed's, and
 * init/version.o holds it), and make makes a missing target as it makes an outdated one.
 */
export function relinkedAnyway(rel: string): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return (
    name === 'vmlinux' ||
    name === 'vmlinux.o' ||
    name === 'vmlinux.bin' ||
    name.startsWith('vmlinux.bin.') ||
    name.startsWith('.tmp_vmlinux')
  );
}

/** Kbuild's command records: `.cmd` and `.d` files, the only files a seed copy renames paths in. */
const RECORD_SUFFIXES = ['.cmd', '.d'] as const;

function isRecord(rel: string): boolean {
  return RECORD_SUFFIXES.some((x) => rel.endsWith(x));
}

/**
 * The command records (relative paths) under `dir` that hold any of `strings`: one `grep` over
 * them (a few dozen of 1,500 in the example; the rest name nothing absolute).
 */
async function recordsNaming(dir: string, strings: readonly string[]): Promise<Set<string>> {
  const wanted = strings.filter((x) => x.length > 0);
  if (wanted.length === 0) return new Set();
  try {
    const { stdout } = await run(
      'grep',
      [
        '-rlZF',
        ...RECORD_SUFFIXES.map((x) => `--include=*${x}`),
        ...wanted.flatMap((x) => ['-e', x]),
        '--',
        '.',
      ],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
    );
    return new Set(
      stdout
        .split('\0')
        .filter(Boolean)
        .map((f) => f.replace(/^\.\//, '')),
    );
  } catch (e) {
    // 1: none holds any (grep found nothing); anything else is an error.
    if ((e as { code?: unknown }).code === 1) return new Set();
    throw e;
  }
}

const run = promisify(execFile);

/** Every regular file of a tree with its inode: `find -printf`, one process for tens of thousands. */
async function inodes(dir: string): Promise<Map<string, string>> {
  const { stdout } = await run('find', [dir, '-type', 'f', '-printf', '%i %P\\0'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const m = new Map<string, string>();
  for (const rec of stdout.split('\0')) {
    const sp = rec.indexOf(' ');
    if (sp > 0) m.set(rec.slice(sp + 1), rec.slice(0, sp));
  }
  return m;
}

/** Files a patched tree changed, added or removed against its pristine source (by inode: the rest are hard links). */
function patchedFiles(tree: Map<string, string>, pristine: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [f, ino] of tree) if (pristine.get(f) !== ino) out.add(f);
  for (const f of pristine.keys()) if (!tree.has(f)) out.add(f);
  return out;
}

function sameBytes(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    if (x.size !== y.size) return false;
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * The files of `rels` whose bytes are the same under `a` and under `b`. Command records are small:
 * read into two buffers kept for the whole comparison (a tenth of the time of reading each into a
 * new one: 40 ms for the example's 1,600 pairs), larger files whole.
 */
function sameFiles(a: string, b: string, rels: readonly string[]): Set<string> {
  const out = new Set<string>();
  const x = Buffer.allocUnsafe(64 * KIB);
  const y = Buffer.allocUnsafe(64 * KIB);
  const readInto = (path: string, buf: Buffer): number => {
    const fd = openSync(path, 'r');
    try {
      return readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
  };
  for (const rel of rels) {
    try {
      const n = readInto(join(a, rel), x);
      if (n === x.length) {
        if (sameBytes(join(a, rel), join(b, rel))) out.add(rel);
      } else if (readInto(join(b, rel), y) === n && x.subarray(0, n).equals(y.subarray(0, n))) out.add(rel);
    } catch {
      // unreadable or gone: written anew
    }
  }
  return out;
}

export interface Seeded {
  from: ObjtreeRecord;
  samePatches: boolean;
  differing: number;
  /** Source files made newer because they differ between the seed's patches and these. */
  touched: number;
}

/** What a seeded object tree is placed for: the build's object tree, its trees and patched files. */
export interface SeedInto {
  /** The cache's objects directory, where the seed is. */
  objects: string;
  /** The build's object tree (build-dir.ts: `obj/` of its build directory). */
  objtree: string;
  tree: { key: string; dir: string };
  pristine: { key: string; dir: string };
  /** The files this build's patches touch (relative to the tree), when every patch names them. */
  patched?: readonly string[];
}

/**
 * Make `objtree` (which must not exist) a copy of the seed's object tree, ready for make: paths
 * rewritten, differing source files refreshed in `tree`. A copy shares nothing with the seed
 * (reflinked where the file system can, else copied).
 */
export async function seedObjtree(choice: SeedChoice, into: SeedInto): Promise<Seeded> {
  const staged = await stageSeed(choice, {
    objects: into.objects,
    dir: `${into.objtree}.seed-${process.pid}`,
    names: into.objtree,
    tree: into.tree,
  });
  return placeSeed(staged, into);
}

/** A seed's object tree copied (stageSeed), not yet placed as a build's (placeSeed). */
export interface StagedSeed {
  choice: SeedChoice;
  /** The copy: beside the seed's tree, in the same objects directory. */
  dir: string;
  /** That objects directory (where a copy not placed is recycled: recycle.ts). */
  objects: string;
  /** Written into the recycled tree (which a copy given up is then again). */
  reused: boolean;
  /** The object tree its command records name. */
  names: string;
  /** Those records (relative paths): named again when the copy becomes another object tree. */
  naming: string[];
  /**
   * The build directory made for the copy (build-dir.ts: the copy is its `obj/`), where make can
   * run in it before the copy is placed (seed-early.ts); removed once the copy is placed or dropped.
   */
  home?: string;
}

/**
 * Copy the seed's object tree (in `to.objects`) to `to.dir` (replaced if there), its command
 * records naming `to.names` as their object tree and `to.tree` as their source tree.
 * The source tree need not exist yet: this only writes into the copy. A build that knows its object
 * tree only later (its configuration is still being resolved) has the copy name itself, and
 * placeSeed names the object tree in the few records that name it.
 */
export async function stageSeed(
  choice: SeedChoice,
  to: { objects: string; dir: string; names: string; tree: { dir: string }; home?: string },
): Promise<StagedSeed> {
  const from = choice.record;
  rmSync(to.dir, { recursive: true, force: true });
  // Read only while marked: a tree being read is never recycled (recycle.ts).
  const reading = markReading(to.objects, from.buildId);
  try {
    // From where the tree is now: the record's paths are what its .cmd files name.
    const { named: naming, reused } = await copySeed(
      to.objects,
      cachedObjtree(to.objects, from.buildId),
      to.dir,
      [
        [from.objtree, to.names],
        [from.tree.dir, to.tree.dir],
      ],
      to.names,
    );
    return {
      choice,
      dir: to.dir,
      objects: to.objects,
      names: to.names,
      naming,
      reused,
      ...(to.home ? { home: to.home } : {}),
    };
  } catch (e) {
    // A copy that failed midway may hold a file with another's time: removed, never recycled.
    rmSync(to.dir, { recursive: true, force: true });
    throw new BuildError(
      `cannot copy the object tree of ${from.release} to seed this build: ${(e as { stderr?: string }).stderr?.trim() || String(e)}`,
      'free space in the cache, or build with --clean',
    );
  } finally {
    reading();
  }
}

/**
 * Make the staged copy the build's object tree `into.objtree` (which must not exist): its records
 * name it, and the source files that differ between the seed's patches and these are made newer
 * than every object (as after an edit). `into.tree` must exist now. The copy is removed on failure.
 */
export async function placeSeed(staged: StagedSeed, into: SeedInto): Promise<Seeded> {
  const { choice } = staged;
  const from = choice.record;
  let touched = 0;
  try {
    if (staged.names !== into.objtree) {
      const rename = pathRewriter([[staged.names, into.objtree]]);
      const dirs = new Map<string, Stats>();
      for (const rel of staged.naming) {
        const file = join(staged.dir, rel);
        const dir = dirname(file);
        if (!dirs.has(dir)) dirs.set(dir, lstatSync(dir));
        const next = `${file}.kf-place`;
        rewriteRecord(file, next, rename);
        renameSync(next, file);
      }
      // The directories keep the times the copy gave them.
      for (const [dir, st] of dirs) utimesSync(dir, st.atime, st.mtime);
    }
    touched = await refreshChanged(from, into);
    mkdirSync(dirname(into.objtree), { recursive: true });
    renameSync(staged.dir, into.objtree);
  } catch (e) {
    recycleTree(staged.objects, staged.dir);
    throw e;
  } finally {
    if (staged.home) rmSync(staged.home, { recursive: true, force: true });
  }
  return { from, samePatches: choice.samePatches, differing: choice.differing, touched };
}
/**
 * Drop a staged copy that will not be placed: its files recycled (recycle.ts), its build directory
 * (the links to a source tree) removed.
 */
export function dropStaged(staged: StagedSeed): void {
  recycleTree(staged.objects, staged.dir);
  if (staged.home) rmSync(staged.home, { recursive: true, force: true });
}

/**
 * Make the source files that differ between the seed's patched tree and the build's newer than
 * every object: a fresh copy in the build's tree, as after an edit. How many.
 */
async function refreshChanged(from: ObjtreeRecord, into: SeedInto): Promise<number> {
  if (from.tree.key === into.tree.key) return 0;
  // The files either patch set touches: each from its patches when they are known (the seed's
  // record keeps what its patches name), else from its tree (what is not a hard link to the
  // pristine source: a tree made without that list is a hard-link copy, never a shadow of the
  // pristine one, tree-copy.ts). The pristine tree is listed once, if at all.
  let pristine: Promise<Map<string, string>> | undefined;
  const touchedIn = async (tree: { dir: string }, patched: readonly string[] | undefined) => {
    if (patched) return patched;
    if (tree.dir === from.pristine.dir) return [];
    pristine ??= inodes(from.pristine.dir);
    const [all, mine] = await Promise.all([pristine, inodes(tree.dir)]);
    return [...patchedFiles(mine, all)];
  };
  const [a, b] = await Promise.all([touchedIn(from.tree, from.patched), touchedIn(into.tree, into.patched)]);
  const changed = new Set([...a, ...b]);
  const now = new Date();
  let touched = 0;
  for (const f of changed) {
    const mine = join(into.tree.dir, f);
    if (!existsSync(mine) || sameBytes(join(from.tree.dir, f), mine)) continue;
    // A fresh copy (its own inode, this moment's time): make sees the file as just edited, and
    // the pristine source and the other trees it was linked to keep their times. In a shadow
    // tree, the way to it is made real first: never written through a link into the pristine tree.
    materialize(into.tree.dir, into.pristine.dir, f);
    const fresh = `${mine}.kf-seed-${process.pid}`;
    copyFileSync(mine, fresh);
    utimesSync(fresh, now, now);
    renameSync(fresh, mine);
    touched++;
  }
  return touched;
}

/**
 * The object trees to remove after a build: those of `source` beyond the `keep` most recent
 * complete ones. Pure.
 */
export function beyondKeep(records: readonly ObjtreeRecord[], source: string, keep: number): ObjtreeRecord[] {
  return records
    .filter((r) => r.source === source)
    .sort((a, b) => (a.completedAt < b.completedAt ? 1 : a.completedAt > b.completedAt ? -1 : 0))
    .slice(keep);
}
