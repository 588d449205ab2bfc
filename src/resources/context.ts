/**
 * What every resource reads while planning: the desired state, the host's facts, and what follows
 * from them (our receipts, the chosen loader and initramfs tool, whether commands need sudo).
 */
import type { HostFacts, InitramfsTool, InstalledKernel, Receipt } from '../facts/types.js';
import type { Change, PlanProblem } from './change.js';
import type { Desired } from './desired.js';
import type { LoaderDriver } from './loaders/driver.js';

export interface Ctx {
  d: Desired;
  f: HostFacts;
  /** Mutating commands run as root (`sudo -n` where the SSH user is not root; a no-op otherwise). */
  sudo: boolean;
  /** The receipt of the release being installed, if any. */
  receipt: Receipt | undefined;
  /** A pending journal for the release (an apply that did not finish). */
  pending: Receipt | undefined;
  installed: InstalledKernel | undefined;
  /** Receipts of kernels this kernelfile (same name) installed, any release. */
  owned: Receipt[];
  tool: InitramfsTool | null;
  /** The boot loader drivers to choose from (./loaders/index.ts LOADERS unless the planner is given others). */
  loaders: readonly LoaderDriver[];
  /** The driver that writes the host's boot entries (chosen by the boot-entry resource). */
  loader: LoaderDriver | null;
  problems: PlanProblem[];
  notes: string[];
  /** The host is a root filesystem directory (image build). */
  image: boolean;
}

export function problem(ctx: Ctx, code: string, message: string, hint: string): void {
  ctx.problems.push({ code, message, hint });
}

/** A field of a receipt's JSON, as a string (receipts are host data: never trust their shape). */
export function receiptField(r: Receipt | undefined, key: string): string | null {
  const data = r?.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  const v = (data as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : null;
}

export function receiptList(r: Receipt | undefined, key: string): unknown[] {
  const data = r?.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const v = (data as Record<string, unknown>)[key];
  return Array.isArray(v) ? v : [];
}

export function makeCtx(d: Desired, f: HostFacts, loaders: readonly LoaderDriver[]): Ctx {
  const receipts = f.receipts.receipts;
  const owned = receipts.filter((r) => receiptField(r, 'name') === d.name);
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
    problems: [],
    notes: [],
    image: false,
  };
}

export function change(
  c: Omit<Change, 'dependsOn' | 'steps'> & Partial<Pick<Change, 'dependsOn' | 'steps'>>,
): Change {
  return { dependsOn: [], steps: [], ...c };
}
