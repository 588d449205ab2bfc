/**
 * What a plan is made of. Pure data (JSON-safe): a plan is printed, saved to a file, read back and
 * executed by `apply`, which decides from `action` and `steps` alone (`reason` only explains).
 */

export type {
  Action,
  AttributeChange,
  AttributeValue,
  Change,
  DkmsTarballStep,
  PlanProblem,
  ReceiptData,
  ResourceKind,
  SecureBootPlan,
  Step,
} from '../resources/change.js';

import type { Action, Change, PlanProblem, SecureBootPlan } from '../resources/change.js';

/**
 * The Kconfig difference between the config of the kernelfile's build installed on the host (or,
 * without one, the running kernel's) and the new kernel's effective config.
 */
export interface ConfigDiff {
  /**
   * What was compared with, for display: `/boot/config-REL (installed by kernelfile, build ID…)`,
   * or where the running config came from (`/proc/config.gz`, `/boot/config-REL`); null: the
   * host has none readable: no diff.
   */
  from: string | null;
  /** `installed`: this kernelfile's build on the host (its receipt); `running`: the running kernel. */
  base: 'installed' | 'running' | null;
  /** The release whose config was compared with (null: unknown). */
  release: string | null;
  /** The installed build's id, for `installed`. */
  buildId: string | null;
  /** Why the installed build's config was not used although the host has one (null: it was, or none). */
  fallback: string | null;
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
  /**
   * What will not work as expected although the plan goes ahead (modules that will not load with
   * Secure Boot on). Absent when there is none.
   */
  warnings?: string[];
  /** Secure Boot and the build's signing certificate on this host; absent when the build does not sign. */
  secureBoot?: SecureBootPlan;
  config: ConfigDiff;
  modules: { name: string; version: string; kernel: string; action: Action }[];
  entry: PlannedEntry | null;
  /** The kernels this kernelfile installed that still boot (newest first), and what a rollback would choose. */
  kept: { release: string; installedAt: string; default: boolean; running: boolean }[];
  rollback: string | null;
}

/** The format of `plan --json` for one host (and of saved plans before format 2). */
export const PLAN_FORMAT_VERSION = 1;

/** The `plan --json` document of one host's plan (and what `plan --out` saved before format 2). */
export interface PlanFile {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  kind: 'kernelfile-plan';
  /** The kernelfile the plan was made from, and the sha256 of its bytes. */
  kernelfile: { path: string; sha256: string; name: string };
  hosts: HostPlan[];
}

/**
 * The format of saved plans (`plan --out FILE`, `apply FILE`). Format 2 names each host with how to
 * reach it, so `apply FILE` needs no host options; format 1 files (which did not) are refused.
 */
export const SAVED_PLAN_FORMAT_VERSION = 2;

/**
 * How a saved plan reaches a host again: its address as `--host` takes it (normalised), what an
 * inventory adds to it, and the SSH settings the plan was made with. Never the environment, and
 * never `--accept-new-host-keys`: weakening host-key checks is for the apply command line only.
 */
export interface SavedConnection {
  /** `local`, `root:/srv/rootfs` or `ssh://user@name:port` (as `formatHostAddress` writes it). */
  host: string;
  /** An inventory's `ansible_ssh_private_key_file` (a path on the controller). */
  identity?: string;
  /** An inventory's `ansible_become`. */
  become?: boolean;
  /** Facts gathered with `sudo -n`. */
  sudo: boolean;
  sshConfig?: string;
  knownHosts?: string[];
  identities?: string[];
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

/** The kernelfile a saved host plan was made from: its path relative to the working directory. */
export interface SavedKernelfile {
  path: string;
  sha256: string;
  name: string;
}

/** A host of a saved plan that was planned. */
export interface SavedHostPlan {
  name: string;
  state: string;
  connection: SavedConnection;
  kernelfile: SavedKernelfile;
  plan: HostPlan;
}

/** A host of a saved plan that could not be planned, and why (apply leaves it alone). */
export interface SavedUnplanned {
  name: string;
  state: 'unreachable' | 'error';
  connection: SavedConnection;
  error: string;
  hint: string | null;
}

export type SavedHost = SavedHostPlan | SavedUnplanned;

/** A saved plan (`plan --out FILE`, one host or an inventory's; `apply FILE`). */
export interface SavedPlan {
  formatVersion: typeof SAVED_PLAN_FORMAT_VERSION;
  kind: 'kernelfile-plan';
  /** How the hosts were selected: an inventory (and `--limit`), or null for one `--host`. */
  inventory: string | null;
  limit: string | null;
  /** In the order they were selected. */
  hosts: SavedHost[];
}

export function isPlanned(h: SavedHost): h is SavedHostPlan {
  return 'plan' in h;
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
  return p.changes.some((c) => c.action !== 'no-op');
}

/**
 * A trial boot is armed (an earlier apply set the one-time entry, and the host has not rebooted into
 * it yet): nothing is left to change, but `apply --reboot` still has the reboot to do.
 */
export function trialArmed(p: HostPlan): boolean {
  return !p.problems.length && p.changes.some((c) => c.resource === 'trial' && c.action === 'no-op');
}

/** Whether apply has anything to do on a host: a change, or with --reboot an armed trial to boot. */
export function needsApply(p: HostPlan, o: { reboot?: boolean }): boolean {
  return hasChanges(p) || (o.reboot === true && trialArmed(p));
}
