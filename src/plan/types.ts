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
  Step,
} from '../resources/change.js';

import type { Action, Change, PlanProblem } from '../resources/change.js';

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
  config: ConfigDiff;
  modules: { name: string; version: string; kernel: string; action: Action }[];
  entry: PlannedEntry | null;
  /** The kernels this kernelfile installed that still boot (newest first), and what a rollback would choose. */
  kept: { release: string; installedAt: string; default: boolean; running: boolean }[];
  rollback: string | null;
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

/**
 * A trial boot is armed (an earlier apply set the one-time entry, and the host has not rebooted into
 * it yet): nothing is left to change, but `apply --reboot` still has the reboot to do.
 */
export function trialArmed(p: HostPlan): boolean {
  return !p.problems.length && p.changes.some((c) => c.resource === 'trial' && c.action === 'noop');
}

/** Whether apply has anything to do on a host: a change, or with --reboot an armed trial to boot. */
export function needsApply(p: HostPlan, o: { reboot?: boolean }): boolean {
  return hasChanges(p) || (o.reboot === true && trialArmed(p));
}
