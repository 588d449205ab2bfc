/**
 * The receipt a host keeps for each release kernelfile installed (/var/lib/kernelfile/<release>.json)
 * and the journal of an apply under way (/var/lib/kernelfile/pending/<release>.json). Plain data,
 * as written to the host and as read back (after decode.ts has checked it).
 */

/**
 * The newest receipt format this kernelfile understands; a newer one is refused when read.
 * Version 2 adds `adopted` (a kernel kernelfile did not build, recorded by `kernelfile import
 * --adopt`), whose `buildId` is null. Apply still writes version 1 for the kernels it builds (the
 * format did not change for them), so older kernelfiles keep reading those.
 */
export const RECEIPT_VERSION = 2;
/** The format apply writes for a kernel it built. */
export const BUILT_RECEIPT_VERSION = 1;
/**
 * The journal format. Version 1 carries no version field (the journal is written byte for byte as
 * before it had a number); a later format writes `journalVersion`.
 */
export const JOURNAL_VERSION = 1;

/** What the plan knows of a receipt; apply adds `files`, `installedAt`, `host` and `receiptVersion`. */
export interface ReceiptData {
  name: string;
  kernelfile: { path: string; sha256: string };
  release: string;
  version: string;
  buildId: string;
  arch: string;
  modules: { name: string; version: string }[];
  initramfs: string | null;
  initramfsModules: string[];
  entries: string[];
  loader: string | null;
}

/** An installed file that must stay as shipped: what the sidecar checks for drift. */
export interface ReceiptFile {
  path: string;
  sha256: string;
  size: number;
}

export interface Receipt extends Omit<ReceiptData, 'buildId'> {
  receiptVersion: number;
  /** The build kernelfile installed; null for an adopted kernel (no build of it exists). */
  buildId: string | null;
  /**
   * Present (true) for a kernel adopted by `kernelfile import --adopt`: the host's own kernel,
   * recorded so that plans compare with it and rollback can return to it. kernelfile did not
   * build it, never reinstalls it from a build id and never prunes it.
   */
  adopted?: true;
  /** When apply wrote it (the controller's clock, ISO 8601). */
  installedAt: string;
  /** The transport's name for the host ("ssh://root@web-1:22"). */
  host: string;
  files: ReceiptFile[];
}

/** Written before an apply changes anything on the host, removed with the receipt's write. */
export interface Journal {
  release: string;
  buildId: string;
  /** The kernelfile's name: whose apply it is. */
  name: string;
  startedAt: string;
  host: string;
}

/** The part of a build's manifest the receipt is made from (structural: no import of src/compile). */
export interface ManifestFiles {
  release: string;
  /** Paths relative to the artifacts directory: `vmlinuz`, `modules/lib/modules/<release>/…`. */
  files: readonly { path: string; sha256: string; size: number }[];
}

/** Where the shipped files are installed on a host (src/resources/layout.ts has them). */
export interface InstallLayout {
  imagePath(release: string): string;
  systemMapPath(release: string): string;
  configPath(release: string): string;
  modulesDir(release: string): string;
}

/** The health-check output a trial record keeps (the end of it). */
export const MAX_HEALTH_OUTPUT = 4096;

/** The trial record format this kernelfile writes and understands. */
export const TRIAL_VERSION = 1;

/**
 * A one-time (trial) boot of a release, /var/lib/kernelfile/trials/<release>.json: written when the
 * trial is armed (`armed`, with the boot id of the system that armed it), rewritten `failed` when
 * the host came back without running it or failed its health check, removed once the release is
 * the default. An armed trial whose host has booted since (another boot id) and does not run the
 * release failed too: the loader fell back by itself.
 */
export interface Trial {
  trialVersion: number;
  release: string;
  /** The loader's id of the entry booted once. */
  entry: string;
  /** The entry's command line when it was armed: a trial with another one is a new trial. */
  cmdline: string;
  /** `/proc/sys/kernel/random/boot_id` of the system that armed it (null: unknown). */
  bootId: string | null;
  state: 'armed' | 'failed';
  /** When it failed (the controller's clock, ISO 8601); null while armed. */
  failedAt: string | null;
  /** What was seen after the reboot: the release running and the boot id (null: nothing seen). */
  seenRelease: string | null;
  seenBootId: string | null;
  /** Why it failed, in words. */
  reason: string | null;
  /** The health check, when it ran and failed. */
  health: { command: string; code: number | null; output: string } | null;
}
