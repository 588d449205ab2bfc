/**
 * `kernelfile rollback`: which kernel a rollback makes the default again, and the plan that does
 * it. Kept kernels are those this kernelfile installed (its receipts) that still have a boot entry,
 * newest first (by install time, then version);
 * a rollback chooses the newest kept one that is not the current default nor under trial, or the
 * release named with `--to` (any kernel with an entry: a distribution kernel too). The change is
 * the same as the forward one: the default by entry id through the host's loader driver, or, with
 * `--reboot`, a one-time boot first (armed and recorded like any trial). Pure.
 */
import type { BootEntry, HostFacts, ReceiptRecord } from '../facts/types.js';
import { compareVersions } from '../facts/version.js';
import { chooseLoader } from '../resources/boot-entry.js';
import { type PlanProblem, planChange } from '../resources/change.js';
import { change, makeCtx } from '../resources/context.js';
import { armStep, forgetTrial } from '../resources/default-entry.js';
import type { Desired } from '../resources/desired.js';
import { LOADERS, type LoaderDriver, type RenderedEntry } from '../resources/loaders/index.js';
import type { HostPlan } from './types.js';

export interface KeptKernel {
  release: string;
  /** When kernelfile installed it (its receipt). */
  installedAt: string;
  /** The default entry boots it. */
  default: boolean;
  running: boolean;
}

/** The release the current default entry boots (null: unknown). */
export function defaultRelease(f: HostFacts): string | null {
  return f.boot.entries.find((e) => e.id === f.boot.default)?.release ?? null;
}

/**
 * The entry that boots `release`: the default's own when it is one, else one kernelfile wrote for
 * it (its receipt's), else the first plain one. Other entries may boot it too and come first
 * (Debian's "Debian GNU/Linux" boots whichever kernel is newest, and would carry the default along
 * to the next kernel installed).
 */
function entryOf(f: HostFacts, release: string): BootEntry | undefined {
  const all = f.boot.entries.filter((e) => e.release === release);
  const ours = f.receipts.receipts.find((r) => r.release === release)?.data.entries ?? [];
  return (
    all.find((e) => e.id === f.boot.default) ??
    all.find((e) => ours.includes(e.id)) ??
    all.find((e) => !/recovery|fallback/i.test(`${e.id} ${e.title}`)) ??
    all[0]
  );
}

/** By install time, then by version, newest first. */
function newestFirst(a: ReceiptRecord, b: ReceiptRecord): number {
  const at = (x: ReceiptRecord) => x.data.installedAt;
  if (at(a) !== at(b)) return at(a) < at(b) ? 1 : -1;
  return (
    compareVersions(b.release, a.release) || (a.release < b.release ? 1 : a.release > b.release ? -1 : 0)
  );
}

/** The kernels this kernelfile installed that still have a boot entry, newest first. */
export function keptKernels(name: string, f: HostFacts): KeptKernel[] {
  const def = defaultRelease(f);
  return f.receipts.receipts
    .filter((r) => r.data.name === name && entryOf(f, r.release))
    .sort(newestFirst)
    .filter((r, i, all) => all.findIndex((o) => o.release === r.release) === i)
    .map((r) => ({
      release: r.release,
      installedAt: r.data.installedAt,
      default: r.release === def,
      running: r.release === f.system.running,
    }));
}

/**
 * The release a rollback without `--to` makes the default: the newest kept one that is not it now
 * and has no trial record (armed or failed: it has not come up as the default since it was
 * installed, so making it the default would be no rollback; after a failed trial, it is the very
 * kernel that failed).
 */
export function rollbackChoice(name: string, f: HostFacts): string | null {
  const trials = new Set((f.receipts.trials ?? []).map((t) => t.release));
  return keptKernels(name, f).find((k) => !k.default && !trials.has(k.release))?.release ?? null;
}

export type RollbackPlan = { ok: true; to: string; plan: HostPlan } | { ok: false; problem: PlanProblem };

/** The plan of a rollback on one host (`to`: the release asked for; `trial`: boot it once first). */
export function planRollback(
  d: Desired,
  f: HostFacts,
  opts: { to?: string; trial: boolean; loaders?: readonly LoaderDriver[]; base: HostPlan },
): RollbackPlan {
  const fail = (code: string, message: string, hint: string): RollbackPlan => ({
    ok: false,
    problem: { code, message, hint },
  });
  const kept = keptKernels(d.name, f);
  const to = opts.to ?? rollbackChoice(d.name, f);
  const listed = kept.map((k) => `${k.release}${k.default ? ' (default)' : ''}`).join(', ') || 'none';
  if (!to)
    return fail(
      'no-rollback',
      `${f.host} has no other kernel of ${d.name} to roll back to (kept: ${listed})`,
      'name one with --to RELEASE (any kernel with a boot entry on the host)',
    );
  const entry = entryOf(f, to);
  if (!entry) {
    const releases = [...new Set(f.boot.entries.flatMap((e) => (e.release ? [e.release] : [])))];
    return fail(
      'no-such-kernel',
      `${f.host} has no boot entry for ${to}`,
      `kernels with an entry: ${releases.join(', ') || 'none'}`,
    );
  }
  if (defaultRelease(f) === to && entry.id === f.boot.default)
    return fail('already-default', `${to} already is the default on ${f.host}`, 'nothing to roll back');
  const ctx = makeCtx(d, f, opts.loaders ?? LOADERS);
  const loader = chooseLoader(ctx);
  if (!loader)
    return fail(
      ctx.problems[0]?.code ?? 'no-loader',
      ctx.problems[0]?.message ?? `${f.host} has no boot loader kernelfile can drive`,
      ctx.problems[0]?.hint ?? 'set boot.loader in the kernelfile',
    );
  ctx.loader = loader;
  const target: RenderedEntry = {
    id: entry.id,
    release: to,
    title: entry.title,
    cmdline: entry.options ?? '',
    linux: entry.kernel ?? '',
    initrd: entry.initrd[0] ?? null,
    default: true,
  };
  const running = f.system.running === to;
  const trial = opts.trial && !running;
  const current = f.boot.entries.find((e) => e.id === f.boot.default)?.title ?? f.boot.default;
  const planned = trial
    ? change({
        address: { kind: 'trial' },
        action: 'create',
        before: f.boot.oneshot,
        after: target.id,
        reason: `roll back: boot ${to} once at the next reboot; the default stays ${current ?? 'as it is'} until it comes up`,
        attributes: [{ name: 'trial', before: f.boot.oneshot ?? null, after: target.id }],
        dependsOn: [],
        steps: [...loader.oneshotSteps(ctx, target), armStep(ctx, target)],
      })
    : change({
        address: { kind: 'default-entry' },
        action: 'update',
        before: current,
        after: target.title,
        reason: `roll back to ${to}${current ? ` (was "${current}")` : ''}`,
        attributes: [{ name: 'default', before: f.boot.default, after: target.id }],
        dependsOn: [],
        steps: [...loader.defaultSteps(ctx, target, []), ...forgetTrial(ctx, to)],
      });
  return {
    ok: true,
    to,
    plan: {
      ...opts.base,
      buildIds: [],
      changes: [planChange(planned)],
      problems: [],
      notes: ctx.notes,
      modules: [],
      entry: { id: target.id, title: target.title, cmdline: target.cmdline, default: true, trial },
    },
  };
}
