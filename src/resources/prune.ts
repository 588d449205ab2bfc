/**
 * Resource `prune`: kernels this kernelfile installed (a receipt with its name) beyond `boot.keep`,
 * the new one included, are removed: DKMS builds, files, initramfs, entries, then the receipt.
 * Never the running kernel, never the current default (the fallback), never a kernel without a
 * kernelfile receipt.
 */
import { compareVersions } from '../facts/version.js';
import type { Change, PlannedChange, Step } from './change.js';
import type { PruneItem, PruneSelection } from './context.js';
import { type Ctx, change } from './context.js';
import { pendingPath, receiptPath, sidecarPath, stagingDir } from './layout.js';
import type { Resource } from './resource.js';
import { DKMS_REMOVE, REMOVE_KERNEL, sh } from './scripts.js';

/** The releases to remove, and the ones kept against the count (with why). */
function pruneSet(ctx: Ctx): PruneSelection {
  const { d, f } = ctx;
  const others = ctx.owned
    .filter((r) => r.release !== d.release)
    .sort((a, b) => {
      const ta = a.data.installedAt;
      const tb = b.data.installedAt;
      return ta === tb ? compareVersions(b.release, a.release) : ta < tb ? 1 : -1;
    });
  const budget = Math.max(0, d.boot.keep - 1);
  const defaultRelease = f.boot.entries.find((e) => e.id === f.boot.default)?.release ?? null;
  const remove: PruneItem[] = [];
  const spared: { release: string; why: string }[] = [];
  const guard = (release: string) =>
    release === f.system.running
      ? 'it is the running kernel'
      : release === defaultRelease
        ? 'it is the current default (the fallback)'
        : null;
  for (const r of others.slice(budget)) {
    const why = guard(r.release);
    if (why) spared.push({ release: r.release, why });
    else
      remove.push({
        release: r.release,
        reason: `beyond boot.keep: ${d.boot.keep} (installed by kernelfile ${d.name})`,
        buildId: null,
      });
  }
  // Applies of this kernelfile that never finished, for another release (the kernelfile changed
  // since): nobody else will ever complete or remove them.
  const receipted = new Set(f.receipts.receipts.map((r) => r.release));
  for (const p of f.receipts.pending ?? []) {
    if (p.release === d.release || receipted.has(p.release) || p.data.name !== d.name) continue;
    const why = guard(p.release);
    if (why) spared.push({ release: p.release, why });
    else
      remove.push({
        release: p.release,
        reason: `an interrupted apply (started ${p.data.startedAt}) that the kernelfile no longer wants`,
        buildId: p.data.buildId,
      });
  }
  return { remove, spared };
}

/**
 * The releases to remove and the ones spared (with a note why), chosen once per plan: by the first
 * resource that asks (boot-entry, which leaves them out of a grub.cfg written in full).
 */
export function pruneSelection(ctx: Ctx): PruneSelection {
  if (ctx.pruning) return ctx.pruning;
  const selection = pruneSet(ctx);
  ctx.pruning = selection;
  for (const s of selection.spared) ctx.notes.push(`${s.release} is beyond boot.keep but stays: ${s.why}`);
  return selection;
}

function pruneChanges(ctx: Ctx, items: readonly PruneItem[], upstream: readonly Change[]): PlannedChange[] {
  const { f, sudo } = ctx;
  const deps = upstream.filter((c) => c.action !== 'noop').map((c) => c.id);
  const out: PlannedChange[] = [];
  const remove = items.map((x) => x.release);
  remove.forEach((r, i) => {
    const steps: Step[] = [];
    for (const m of f.dkms.modules.filter((e) => e.kernel === r))
      steps.push({
        kind: 'run',
        title: `dkms remove ${m.name}/${m.version} from ${r}`,
        argv: sh(DKMS_REMOVE, m.name, m.version, r),
        sudo,
      });
    steps.push({
      kind: 'run',
      title: `remove ${r}: /boot files, modules, headers`,
      argv: sh(REMOVE_KERNEL, r, ctx.tool ?? ''),
      sudo,
    });
    // The entries and the menu once, after the last removal (the loader driver's).
    if (i === remove.length - 1 && ctx.loader)
      steps.push(...ctx.loader.removeSteps(ctx, remove, ctx.entries));
    const item = items[i] as PruneItem;
    steps.push({
      kind: 'run',
      title: `forget ${r} (its receipt${item.buildId ? ', journal and staging' : ''})`,
      argv: [
        'rm',
        '-rf',
        receiptPath(r),
        sidecarPath(r),
        pendingPath(r),
        ...(item.buildId ? [stagingDir(item.buildId)] : []),
      ],
      sudo,
    });
    out.push(
      change({
        address: { kind: 'prune', release: r },
        action: 'delete',
        before: r,
        after: null,
        reason: item.reason,
        dependsOn: deps,
        steps,
      }),
    );
  });
  return out;
}

export const prune: Resource = {
  name: 'prune',
  order: 60,
  installs: false,
  plan: (ctx, upstream) => pruneChanges(ctx, pruneSelection(ctx).remove, upstream),
};
