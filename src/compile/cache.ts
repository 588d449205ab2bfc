/**
 * The controller's cache (default `$XDG_CACHE_HOME/kernelfile`, else `~/.cache/kernelfile`;
 * `build.cacheDir` in the kernelfile overrides it). Everything in it is content-addressed:
 *
 *   sources/<sha256>.<ext>     downloaded tarballs, by their checksum
 *   trees/src-<key>/           the unpacked (pristine) source
 *   trees/<treeKey>/           the source with the patches applied (treeKey: source + patches), a shadow
 *                              of the pristine tree: links to it but for the patched files (tree-copy.ts)
 *   trees/src-<key>.sums       the pristine source's file digests, by inode (hash-cache.ts)
 *   trees/src-<key>.links      the pristine source's own symbolic links (tree-copy.ts)
 *   configs/<configKey>/       Kconfig resolution results (.config, dropped-value reports), what `plan` uses
 *   kconfig/base-<key>/        a base target's .config (`make tinyconfig`…) per tree, arch, make variables, toolchain
 *   kconfig/tools-<key>/       the kconfig host tools (scripts/basic, scripts/kconfig) built for a tree
 *   kconfig/db-<key>.v8        the Kconfig database of a tree (src/kconfig), serialised
 *   objects/<buildId>/         a build's directory (build-dir.ts): the object tree (O=) in obj/,
 *                              beside links to the source tree's top-level entries
 *   objects/<buildId>.json     its record: what it was built from, so it can seed later builds (seed.ts)
 *   objects/recycled/          the last object tree dropped, whose files the next seed copy reuses (recycle.ts)
 *   artifacts/<buildId>/       what hosts receive: image, System.map, config, modules, headers, manifest
 *   locks/<name>.lock          who resolves a configuration or compiles a build right now (lock.ts)
 *
 * Entries are created under a temporary name and renamed into place when complete, so an
 * interrupted build never leaves a half-entry that a later run would trust. Small entries are
 * sealed (`seal.json`: every file's sha256 and size, checked on each use): one that was damaged
 * later is thrown away and made again, never used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CacheDirs {
  root: string;
  sources: string;
  trees: string;
  configs: string;
  objects: string;
  artifacts: string;
  kconfig: string;
  locks: string;
}

export function cacheRoot(configured: string | undefined, env: Record<string, string | undefined>): string {
  const home = env.HOME ?? homedir();
  if (configured) return configured.replace(/^~(?=\/|$)/, home);
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kernelfile');
}

export function cacheDirs(root: string): CacheDirs {
  const dirs = {
    root,
    sources: join(root, 'sources'),
    trees: join(root, 'trees'),
    configs: join(root, 'configs'),
    objects: join(root, 'objects'),
    artifacts: join(root, 'artifacts'),
    kconfig: join(root, 'kconfig'),
    locks: join(root, 'locks'),
  };
  // Created 0700 (and every missing parent with it): sources, trees and builds are the user's, and
  // nobody else may plant or swap an entry in a cache that is trusted by key. An existing
  // directory keeps its mode.
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  return dirs;
}

/** A fresh temporary directory beside `final`, to be committed with `commit`. */
export function staging(final: string): string {
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Directories being made outside staging (an early seed copy): removed at exit. */
const removedAtExit = new Set<string>();
let exitHook = false;

/** Remove `dir` if the process exits before `keepAtExit(dir)`: a copy still being made, or never placed. */
export function removeAtExit(dir: string): void {
  removedAtExit.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of removedAtExit) rmSync(d, { recursive: true, force: true });
  });
}

/** `dir` is placed, or already removed: no longer removed at exit. */
export function keepAtExit(dir: string): void {
  removedAtExit.delete(dir);
}

/** Move a completed staging directory into place (an existing entry wins: it is identical by key). */
export function commit(tmp: string, final: string): void {
  try {
    renameSync(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Remove an entry that must not be used: renamed away first (atomic), then deleted. */
export function discard(entry: string): void {
  const away = `${entry}.bad-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(entry, away);
  } catch {
    return; // gone already (another process discarded or replaced it)
  }
  rmSync(away, { recursive: true, force: true });
}

/** What `seal.json` holds: every file of the entry (relative path) with its sha256 and size. */
export interface Seal {
  seal: 1;
  files: Record<string, { sha256: string; size: number }>;
}

export const SEAL_FILE = 'seal.json';

/** Every regular file under dir (relative paths, sorted), without seal.json. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (d.isFile() && rel !== SEAL_FILE) out.push(rel);
  }
  return out.sort();
}

function digest(bytes: Buffer): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** Write seal.json over every file in a staging directory (just before it is committed). */
export function seal(dir: string): void {
  const files: Seal['files'] = {};
  for (const f of filesUnder(dir)) files[f] = digest(readFileSync(join(dir, f)));
  const s: Seal = { seal: 1, files };
  writeFileSync(join(dir, SEAL_FILE), `${JSON.stringify(s)}\n`);
}

/**
 * The problem with a sealed entry, or undefined when every file it lists (and `required`) is there
 * with its sha256 and size. Pure: `read` returns a file's bytes, undefined if it is missing.
 */
export function sealProblem(
  sealText: string | undefined,
  read: (path: string) => Buffer | undefined,
  required: readonly string[] = [],
): string | undefined {
  if (sealText === undefined) return 'no seal.json';
  let s: Seal;
  try {
    s = JSON.parse(sealText) as Seal;
  } catch {
    return 'seal.json is not JSON';
  }
  if (s?.seal !== 1 || typeof s.files !== 'object' || s.files === null) return 'seal.json is not a seal';
  for (const r of required) if (!(r in s.files)) return `${r} is not in the seal`;
  for (const [path, want] of Object.entries(s.files)) {
    const bytes = read(path);
    if (bytes === undefined) return `${path} is missing`;
    const got = digest(bytes);
    if (got.size !== want?.size || got.sha256 !== want.sha256) return `${path} does not match its seal`;
  }
  return undefined;
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A sealed entry, checked: true when it is there and whole. One that is there but damaged (a file
 * missing, changed or truncated, no seal) is discarded, so the caller makes it again.
 */
export function openSealed(entry: string, required: readonly string[] = []): boolean {
  const sealText = readOrUndefined(join(entry, SEAL_FILE))?.toString('utf8');
  if (sealText === undefined) {
    try {
      readdirSync(entry);
    } catch {
      return false; // no entry
    }
  }
  const problem = sealProblem(sealText, (p) => readOrUndefined(join(entry, p)), required);
  if (problem === undefined) return true;
  discard(entry);
  return false;
}

/** Write a file atomically (a temporary name beside it, then renamed over it), created with `mode`. */
export function writeAtomic(path: string, data: string | Buffer, mode?: number): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, data, mode === undefined ? {} : { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
