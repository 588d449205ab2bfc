/**
 * The lock file (`kernelfile.lock` beside `kernelfile.yaml`): what a kernelfile resolved to, so the
 * same kernelfile means the same kernel next month on another controller. Everything in it is a
 * digest of something the kernelfile names (paths as written in the kernelfile, never resolved
 * ones, so the lock is the same on every checkout) or an identity the build id depends on.
 */

/** Bump when a reader of the previous format would misread the new one. */
export const LOCK_VERSION = 1;

/** The kernel source, as resolved. Exactly one of `url`, `path` or `git`. */
export interface LockSource {
  url?: string;
  /** A tarball or a source tree given by path, as written in the kernelfile. */
  path?: string;
  git?: string;
  /** A tarball's sha256. */
  sha256?: string;
  /** A source tree's content digest (every file's path and sha256). */
  tree?: string;
  /** The git commit built. */
  commit?: string;
  /** The detached signature file's sha256 (`kernel.signature`). */
  signature?: string;
}

/** A file the kernelfile names (a patch, a fragment, a base config): as written, and its sha256. */
export interface LockFileEntry {
  path: string;
  sha256: string;
}

export interface LockPatch extends LockFileEntry {
  strip: number;
}

export interface LockModule {
  name: string;
  version: string;
  /** A module from the kernelfile's repository: its directory (or tarball) as written, and its digest. */
  path?: string;
  sha256?: string;
  /** A module the hosts already have (`installed: true`). */
  installed?: true;
  /** The sha256 of each distinct dkms.conf found for it on the hosts planned (sorted). */
  dkmsConf?: string[];
}

/** One build the kernelfile resolved to (one per architecture; more with `base: running`). */
export interface LockBuild {
  arch: string;
  buildId: string;
  release: string;
  /** sha256 of the effective configuration (its entries, in order). */
  config: string;
}

export interface LockToolchain {
  /** The first line of `CC --version`. */
  compiler: string;
  /** The first line of `ld --version`. */
  linker: string;
}

/** kernelfile.lock. */
export interface LockFile {
  lockVersion: 1;
  /** kernelfile's build recipe (BUILD_RECIPE): a new kernelfile may build the same inputs differently. */
  recipe: number;
  source: LockSource;
  patches: LockPatch[];
  config: {
    /** `tinyconfig`, `defconfig`, `running`…, or a file with its digest. */
    base: string | LockFileEntry;
    fragments: LockFileEntry[];
  };
  modules: LockModule[];
  toolchain: LockToolchain;
  /** The signing certificate's sha256 (DER), when the kernelfile has `signing:`. */
  signing?: { certificate: string };
  builds: LockBuild[];
}

/** One way what was resolved now differs from the lock. */
export interface LockDifference {
  /** What differs, in the lock's words: `source`, `patches/0001-x.patch`, `toolchain`, `build x86_64`… */
  subject: string;
  /** The difference, e.g. "patches/0001-x.patch changed: sha256 1a2b… → 3c4d…". */
  message: string;
}

/** Why a lock could not be read, at its line. */
export interface LockError {
  message: string;
  line: number;
  column: number;
}

/**
 * What became of one kernelfile's lock:
 * - `unchanged`: it holds; `written`: there was none, it is written now; `updated`: --update-lock
 *   wrote it with the differences; `differs`: it does not hold (warnings, or refused with --locked);
 * - `missing`: none, and none written (--locked, or writeMissing false); `invalid`: it cannot be read.
 */
export type LockState = 'unchanged' | 'written' | 'updated' | 'differs' | 'missing' | 'invalid';

export interface LockReport {
  /** The kernelfile, as named. */
  kernelfile: string;
  /** The lock file, relative to the working directory when below it. */
  path: string;
  state: LockState;
  differences: LockDifference[];
  /** Why the lock could not be read (`invalid`), at its line. */
  error?: LockError;
  /** --locked and the lock does not hold: the command must stop. */
  refused: boolean;
}
