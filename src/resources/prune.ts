/**
 * Resource `prune`: kernels this kernelfile installed (a receipt with its name) beyond `boot.keep`,
 * the new one included, are removed: DKMS builds, files, initramfs, entries, then the receipt.
 * Never the running kernel, never the current default (the fallback) unless the host already runs
 * the new kernel and this plan makes it the default (after a trial boot that passed, the old
 * default is no fallback any more), never the entry armed to boot once (next_entry, the
 * systemd-boot one-shot), never a kernel without a valid kernelfile receipt, never an adopted kernel
 * (`kernelfile import --adopt`: the host's own, which kernelfile did not build).
 *
 * A receipt or a journal is host data (anyone with root on the host may have written it): only
 * values that validate are used, and every path a removal step names is built from them.
 * src/receipt/decode.ts refuses malformed files into the facts' errors; this checks again what a
 * removal depends on, whoever built the facts: the release is a plain name equal to the receipt's
 * file name and ends in `-kf` plus the first 8 hex digits of its 64-hex build id (how
 * src/compile names a build), and a DKMS module name and version are plain names. A journal alone
 * (an apply of this kernelfile that stopped before its receipt) never removes a kernel: only the
 * journal and the staging of its build are forgotten, and a note says the release's files stay.
 */
import { compareVersions } from '../facts/version.js';
import type { Change, PlannedChange, Step } from './change.js';
import type { PruneItem, PruneSelection } from './context.js';
import { type Ctx, change } from './context.js';
import { pendingPath, receiptPath, sidecarPath, stagingDir, statPath, trialPath } from './layout.js';
import type { Resource } from './resource.js';
import { DKMS_REMOVE, REMOVE_KERNEL, sh } from './scripts.js';

const BUILD_ID = /^[0-9a-f]{64}$/;
const PLAIN = /^[A-Za-z0-9_+][A-Za-z0-9._+~:-]{0,255}$/;

/** A release kernelfile made for `buildId`, named as its file: a plain name ending in -kf<hex8>. */
export function validRelease(release: unknown, fileRelease: string, buildId: unknown): boolean {
  return (
    typeof release === 'string' &&
    typeof buildId === 'string' &&
    BUILD_ID.test(buildId) &&
    release === fileRelease &&
    PLAIN.test(release) &&
    !release.includes('..') &&
    release.endsWith(`-kf${buildId.slice(0, 8)}`) &&
    release.length > `-kf${buildId.slice(0, 8)}`.length
  );
}

/** A DKMS module name or version that may reach dkms's command line (and its /var/lib/dkms paths). */
const plainName = (v: unknown): v is string => typeof v === 'string' && PLAIN.test(v) && !v.includes('..');

/** The releases to remove, and the ones kept against the count (with why). */
function pruneSet(ctx: Ctx): PruneSelection {
  const { d, f } = ctx;
  const remove: PruneItem[] = [];
  const spared: { release: string; why: string }[] = [];
  const owned = ctx.owned.filter((r) => {
    // An adopted kernel (`kernelfile import --adopt`) is the host's own: never removed, nor counted.
    if (r.data.adopted) return false;
    if (r.data.name === d.name && validRelease(r.data.release, r.release, r.data.buildId)) return true;
    if (r.release !== d.release)
      spared.push({
        release: r.release,
        why: 'its receipt does not validate (the release must be its file name and end in -kf and its build id)',
      });
    return false;
  });
  const others = owned
    .filter((r) => r.release !== d.release)
    .sort((a, b) => {
      const ta = a.data.installedAt;
      const tb = b.data.installedAt;
      return ta === tb ? compareVersions(b.release, a.release) : ta < tb ? 1 : -1;
    });
  const budget = Math.max(0, d.boot.keep - 1);
  const releaseOf = (id: string | null) =>
    id === null ? null : (f.boot.entries.find((e) => e.id === id)?.release ?? null);
  // The new kernel runs and this plan makes it the default (a trial that passed, or a host booted
  // into it by hand): the old default stops being the fallback in this very plan.
  const replacesDefault = f.system.running === d.release && d.boot.entries.some((e) => e.default);
  const defaultRelease = replacesDefault ? null : releaseOf(f.boot.default);
  const oneshotRelease = releaseOf(f.boot.oneshot ?? null);
  const guard = (release: string) =>
    release === f.system.running
      ? 'it is the running kernel'
      : release === defaultRelease
        ? 'it is the current default (the fallback)'
        : release === oneshotRelease
          ? 'it is armed to boot once, next time'
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
  // since): nobody else will ever complete them. Their journal and staging are forgotten; the
  // release's files (if the apply got that far) stay, as for any kernel without a receipt.
  const receipted = new Set(f.receipts.receipts.map((r) => r.release));
  for (const p of f.receipts.pending ?? []) {
    if (p.release === d.release || receipted.has(p.release) || p.data.name !== d.name) continue;
    if (!validRelease(p.data.release, p.release, p.data.buildId)) continue;
    const why = guard(p.release);
    if (why) spared.push({ release: p.release, why });
    else
      remove.push({
        release: p.release,
        reason: `an interrupted apply (started ${p.data.startedAt}) that the kernelfile no longer wants: its journal and staging are forgotten; the release's files, if any, stay (no receipt)`,
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
  for (const r of ctx.owned.filter((x) => x.data.adopted && x.release !== ctx.d.release))
    ctx.notes.push(
      `${r.release} was adopted (kernelfile import --adopt): kernelfile did not build it and never removes it; remove it by hand when it is no longer wanted`,
    );
  return selection;
}

function pruneChanges(ctx: Ctx, items: readonly PruneItem[], upstream: readonly Change[]): PlannedChange[] {
  const { f, sudo } = ctx;
  const deps = upstream.filter((c) => c.action !== 'no-op').map((c) => c.id);
  const out: PlannedChange[] = [];
  // Kernels (a valid receipt) are removed; journals alone are only forgotten.
  const kernels = items.filter((x) => x.buildId === null).map((x) => x.release);
  for (const item of items) {
    const r = item.release;
    const steps: Step[] = [];
    if (item.buildId === null) {
      for (const m of f.dkms.modules.filter((e) => e.kernel === r)) {
        if (!plainName(m.name) || !plainName(m.version)) {
          ctx.notes.push(
            `dkms lists a module for ${r} whose name or version is not a plain name: left to dkms`,
          );
          continue;
        }
        steps.push({
          kind: 'run',
          title: `dkms remove ${m.name}/${m.version} from ${r}`,
          argv: sh(DKMS_REMOVE, m.name, m.version, r),
          sudo,
        });
      }
      steps.push({
        kind: 'run',
        title: `remove ${r}: /boot files, modules, headers`,
        argv: sh(REMOVE_KERNEL, r, ctx.tool ?? ''),
        sudo,
      });
      // The entries and the menu once, after the last removal (the loader driver's).
      if (r === kernels.at(-1) && ctx.loader)
        steps.push(...ctx.loader.removeSteps(ctx, kernels, ctx.entries));
      steps.push({
        kind: 'run',
        title: `forget ${r} (its receipt)`,
        argv: [
          'rm',
          '-rf',
          receiptPath(r),
          sidecarPath(r),
          statPath(r),
          pendingPath(r),
          ...((ctx.f.receipts.trials ?? []).some((t) => t.release === r) ? [trialPath(r)] : []),
        ],
        sudo,
      });
    } else {
      ctx.notes.push(
        `${r}: an interrupted apply of this kernelfile left it without a receipt; its journal is forgotten, its files (if any) stay: remove them by hand`,
      );
      steps.push({
        kind: 'run',
        title: `forget the interrupted apply of ${r} (its journal and staging)`,
        argv: ['rm', '-rf', pendingPath(r), stagingDir(item.buildId)],
        sudo,
      });
    }
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
  }
  return out;
}

export const prune: Resource = {
  name: 'prune',
  order: 60,
  installs: false,
  plan: (ctx, upstream) => pruneChanges(ctx, pruneSelection(ctx).remove, upstream),
};
