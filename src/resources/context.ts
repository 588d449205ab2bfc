/**
 * What every resource reads while planning: the desired state, the host's facts, and what follows
 * from them (our receipts, the chosen loader and initramfs tool, whether commands need sudo).
 */
import type {
  HostFacts,
  InitramfsTool,
  InstalledKernel,
  JournalRecord,
  ReceiptRecord,
} from '../facts/types.js';
import {
  type Address,
  type Change,
  changeId,
  type PlannedChange,
  type PlanProblem,
  type SecureBootPlan,
} from './change.js';
import type { Desired } from './desired.js';
import type { LoaderDriver, RenderedEntry } from './loaders/driver.js';

export interface Ctx {
  d: Desired;
  f: HostFacts;
  /** Mutating commands run as root (`sudo -n` where the SSH user is not root; a no-op otherwise). */
  sudo: boolean;
  /** The receipt of the release being installed, if any. */
  receipt: ReceiptRecord | undefined;
  /** A pending journal for the release (an apply that did not finish). */
  pending: JournalRecord | undefined;
  installed: InstalledKernel | undefined;
  /** Receipts of kernels this kernelfile (same name) installed, any release. */
  owned: ReceiptRecord[];
  tool: InitramfsTool | null;
  /** The boot loader drivers to choose from (./loaders/index.ts LOADERS unless the planner is given others). */
  loaders: readonly LoaderDriver[];
  /** The driver that writes the host's boot entries (chosen by the boot-entry resource). */
  loader: LoaderDriver | null;
  /** The new release's boot entries (rendered by the boot-entry resource for the chosen loader). */
  entries: RenderedEntry[];
  /** The releases prune removes and spares, once chosen (prune.ts pruneSelection). */
  pruning: PruneSelection | null;
  problems: PlanProblem[];
  notes: string[];
  /** Warnings: the plan goes ahead, but something will not work as the user may expect. */
  warnings: string[];
  /** The host is a root filesystem directory (image build). */
  image: boolean;
  /** A one-time MOK password was given for this plan (--mok-password-file). */
  mokPassword: boolean;
  /** Set by the mok-enrollment resource when the build signs (desired.signing). */
  secureBoot: SecureBootPlan | null;
}

export interface PruneItem {
  release: string;
  reason: string;
  /** An apply that never finished: its journal names the build whose staging to remove. */
  buildId: string | null;
}

/** The releases to remove, and the ones kept against the count (with why). */
export interface PruneSelection {
  remove: PruneItem[];
  spared: { release: string; why: string }[];
}

export function problem(ctx: Ctx, code: string, message: string, hint: string): void {
  ctx.problems.push({ code, message, hint });
}

export function makeCtx(d: Desired, f: HostFacts, loaders: readonly LoaderDriver[]): Ctx {
  const receipts = f.receipts.receipts;
  const owned = receipts.filter((r) => r.data.name === d.name);
  return {
    d,
    f,
    sudo: true,
    receipt: receipts.find((r) => r.release === d.release),
    pending: (f.receipts.pending ?? []).find((r) => r.release === d.release),
    installed: f.kernels.find((k) => k.release === d.release),
    owned,
    tool: null,
    loaders,
    loader: null,
    entries: [],
    pruning: null,
    problems: [],
    notes: [],
    warnings: [],
    image: false,
    mokPassword: false,
    secureBoot: null,
  };
}

/** A planned change: its id and resource from its address; no dependencies, steps or attributes unless given. */
export function change(
  c: { address: Address } & Omit<Change, 'id' | 'resource' | 'dependsOn' | 'steps' | 'attributes'> &
    Partial<Pick<Change, 'dependsOn' | 'steps' | 'attributes'>>,
): PlannedChange {
  const { address, ...rest } = c;
  return {
    dependsOn: [],
    steps: [],
    id: changeId(address),
    resource: address.kind,
    ...rest,
    attributes: rest.attributes ?? [],
    address,
  };
}
