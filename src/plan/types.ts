/**
 * What a plan is made of. Pure data (JSON-safe): a plan is printed, saved to a file, read back and
 * executed by `apply`, which decides from `action` and `steps` alone (`reason` only explains).
 */
import type { ReceiptData } from '../receipt/types.js';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'noop';

/** The kinds of resource, in the order apply converges them. */
export const RESOURCE_ORDER = [
  'kernel',
  'dkms-module',
  'initramfs',
  'boot-entry',
  'trial',
  'default-entry',
  'prune',
] as const;
export type ResourceKind = (typeof RESOURCE_ORDER)[number];

/**
 * One thing apply does on a host, fully concrete except where it needs the controller:
 * - run: a command (argv, never a shell string) on the host; `sudo` for a non-root SSH user.
 * - write: a file written atomically (temp name + rename) with this content.
 * - build: make sure the build with this id is in the controller's cache (compile if not).
 * - ship: upload the build's artifacts to a staging directory on the host (files already there with
 *   the same sha256 are skipped).
 * - upload: a directory or tarball on the controller, packed and uploaded to `to` as a tarball.
 * - dkms-tarball: a DKMS module built on the controller against the build's headers (for hosts
 *   without a compiler), packed with `dkms mktarball` and uploaded to `to` for `dkms ldtarball`.
 * - receipt: write the receipt of a release: `data` from the plan, plus the installed files with
 *   their sha256 (from the build's manifest) and the time; then drop the journal and the staging.
 */
export type Step =
  | { kind: 'run'; title: string; argv: string[]; sudo: boolean }
  | { kind: 'write'; title: string; path: string; content: string; mode: number; sudo: boolean }
  | { kind: 'build'; title: string; buildId: string }
  | { kind: 'ship'; title: string; buildId: string; to: string; sudo: boolean }
  | { kind: 'upload'; title: string; from: string; to: string; sudo: boolean }
  | {
      kind: 'dkms-tarball';
      title: string;
      name: string;
      version: string;
      /** The module source on the controller. */
      from: string;
      buildId: string;
      release: string;
      /** Where the `dkms mktarball` archive goes on the host. */
      to: string;
      sudo: boolean;
    }
  | { kind: 'receipt'; title: string; release: string; buildId: string; data: ReceiptData; sudo: boolean };

export interface Change {
  /** Stable and unique within a plan: `kernel[6.1.192-tiny-kf0123abcd]`, `dkms-module[hello/1.0@REL]`. */
  id: string;
  resource: ResourceKind;
  action: Action;
  /** What the host has now, and what it will have: short human values (a release, an entry id). */
  before: string | null;
  after: string | null;
  /** Why, in words (never decides anything). */
  reason: string;
  /** Ids of changes that must have completed first. */
  dependsOn: string[];
  steps: Step[];
}

/** A problem that makes the plan impossible: apply refuses to start. */
export interface PlanProblem {
  /** Stable identifier: `no-dkms`, `boot-too-small`, `module-excluded`, … */
  code: string;
  message: string;
  hint: string;
}

/** The Kconfig difference between the host's running config and the new kernel's effective config. */
export interface ConfigDiff {
  /** Where the running config came from (null: the host has none readable: no diff). */
  from: string | null;
  added: { symbol: string; value: string; requested: boolean }[];
  removed: { symbol: string; value: string; requested: boolean }[];
  changed: { symbol: string; before: string; after: string; requested: boolean }[];
}

/** The boot entry the plan gives the new kernel (for the text output). */
export interface PlannedEntry {
  id: string;
  title: string;
  cmdline: string;
  default: boolean;
  trial: boolean;
}

export interface HostPlan {
  host: string;
  factsDigest: string;
  /** sha256 of each fact family, so a stale plan can say which facts changed. */
  factsFamilies: Record<string, string>;
  /** The header of the text output. */
  summary: {
    /** The kernelfile's `name`. */
    name: string;
    distro: string | null;
    arch: string | null;
    running: string | null;
    loader: string | null;
    loaderMode: string | null;
    initramfs: string | null;
    release: string;
    buildId: string;
  };
  buildIds: string[];
  changes: Change[];
  problems: PlanProblem[];
  /** Notes that do not block: a pending trial boot, an estimate, a resumed apply. */
  notes: string[];
  config: ConfigDiff;
  modules: { name: string; version: string; kernel: string; action: Action }[];
  entry: PlannedEntry | null;
}

export const PLAN_FORMAT_VERSION = 1;

/** A saved plan (`plan --out FILE`; `apply FILE`). */
export interface PlanFile {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  kind: 'kernelfile-plan';
  /** The kernelfile the plan was made from, and the sha256 of its bytes. */
  kernelfile: { path: string; sha256: string; name: string };
  hosts: HostPlan[];
}

/** Counts for `Plan: X to add, Y to change, Z to destroy.` */
export function counts(changes: readonly Change[]): { add: number; change: number; destroy: number } {
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const c of changes) {
    if (c.action === 'create') add++;
    else if (c.action === 'update') change++;
    else if (c.action === 'delete') destroy++;
    else if (c.action === 'replace') {
      add++;
      destroy++;
    }
  }
  return { add, change, destroy };
}

export function hasChanges(p: HostPlan): boolean {
  return p.changes.some((c) => c.action !== 'noop');
}

export type DkmsTarballStep = Extract<Step, { kind: 'dkms-tarball' }>;
