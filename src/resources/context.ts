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
import type { Desired } from '../plan/desired.js';
import type { Change, PlanProblem } from '../plan/types.js';

export type LoaderMode = 'grub-mkconfig' | 'grub-explicit' | 'systemd-boot' | 'grubby';

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
  loader: LoaderMode | null;
  problems: PlanProblem[];
  notes: string[];
  /** The host is a root filesystem directory (image build). */
  image: boolean;
}

export function problem(ctx: Ctx, code: string, message: string, hint: string): void {
  ctx.problems.push({ code, message, hint });
}

export function makeCtx(d: Desired, f: HostFacts): Ctx {
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
