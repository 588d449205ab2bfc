/**
 * Resources `default-entry` and `trial`: which entry boots by default, and a one-time boot of the
 * new one first. Always by entry id (grubenv saved_entry/next_entry, bootctl, grubby's kernel
 * path), never by menu position: submenus and new entries make positions lie. How is the loader
 * driver's (./loaders/).
 *
 * With `boot.trial`, the new entry is booted once (`next_entry`, `bootctl set-oneshot`) and becomes
 * the default only once the host runs it: a kernel that does not come up falls back to the old
 * default at the next reset.
 */
import type { HostFacts, TrialRecord } from '../facts/types.js';
import { encodeTrial } from '../receipt/encode.js';
import type { Change, PlannedChange, Step } from './change.js';
import { type Ctx, change, problem } from './context.js';
import { trialPath } from './layout.js';
import type { RenderedEntry } from './loaders/driver.js';
import type { Resource } from './resource.js';

/**
 * The last trial boot of `entry` (same release, entry id and command line), when it failed: its
 * record says so, or it was armed on an earlier boot (another boot id), the one-time entry is used
 * up and the host does not run the release: the loader fell back by itself. Null when there is no
 * such trial, it is still armed, or it cannot be told (no boot id).
 */
export function failedTrial(f: HostFacts, entry: RenderedEntry): { record: TrialRecord; why: string } | null {
  const record = (f.receipts.trials ?? []).find((t) => t.release === entry.release);
  if (!record || record.data.entry !== entry.id || record.data.cmdline !== entry.cmdline) return null;
  const t = record.data;
  if (t.state === 'failed') return { record, why: t.reason ?? 'it failed' };
  const now = f.system.bootId ?? null;
  if (!t.bootId || !now || t.bootId === now || f.boot.oneshot === entry.id) return null;
  if (f.system.running === entry.release) return null;
  return {
    record,
    why: `the host booted since it was armed (boot id ${now.slice(0, 8)}, was ${t.bootId.slice(0, 8)}) and runs ${f.system.running ?? 'another kernel'}: the loader fell back to the default`,
  };
}

/** How the failure reads in a plan: "trial boot of R failed at T: why". */
export function trialFailureText(release: string, failed: { record: TrialRecord; why: string }): string {
  const at = failed.record.data.failedAt;
  return `the trial boot of ${release} failed${at ? ` at ${at}` : ''}: ${failed.why}`;
}

/** The step that records an armed trial (with the boot id it was armed in). */
export function armStep(ctx: Ctx, entry: RenderedEntry): Step {
  const path = trialPath(entry.release);
  return {
    kind: 'write',
    title: `write ${path}`,
    path,
    content: encodeTrial({
      release: entry.release,
      entry: entry.id,
      cmdline: entry.cmdline,
      bootId: ctx.f.system.bootId ?? null,
      state: 'armed',
      failedAt: null,
      seenRelease: null,
      seenBootId: null,
      reason: null,
      health: null,
    }),
    mode: 0o644,
    sudo: ctx.sudo,
  };
}

function defaultChanges(ctx: Ctx, upstream: readonly Change[]): PlannedChange[] {
  const { d, f } = ctx;
  const target = ctx.entries.find((e) => e.default);
  const loader = ctx.loader;
  if (!loader || !target) return [];
  const deps = upstream.filter((c) => c.action !== 'no-op').map((c) => c.id);
  const current = f.boot.default;
  const currentTitle = f.boot.entries.find((e) => e.id === current)?.title ?? current;
  const isDefault = current === target.id;
  const out: PlannedChange[] = [];
  const running = f.system.running === d.release;
  // A failed trial stands whether or not this plan is a trial (`apply --reboot` makes one whatever
  // boot.trial says; the next plan may not): the kernel did not come up, so it is neither armed
  // again nor made the default.
  const failed = isDefault || running ? null : failedTrial(f, target);
  if (failed && !d.boot.retryTrial) {
    const text = trialFailureText(d.release, failed);
    problem(
      ctx,
      'trial-failed',
      text,
      `kernelfile does not arm it again by itself: fix the kernel or its entry (a new build or command line is a new trial), or apply with --retry-trial to boot it once more`,
    );
    out.push(
      change({
        address: { kind: d.boot.trial ? 'trial' : 'default-entry' },
        action: 'no-op',
        before: d.boot.trial ? f.boot.oneshot : currentTitle,
        after: d.boot.trial ? target.id : target.title,
        reason: text,
        dependsOn: deps,
        steps: [],
      }),
    );
    return out;
  }
  if (d.boot.trial && !isDefault && !running) {
    const armed = f.boot.oneshot === target.id && !failed;
    if (armed)
      ctx.notes.push(
        `trial pending: ${target.id} boots once at the next reboot; it becomes the default once the host runs ${d.release}`,
      );
    out.push(
      change({
        address: { kind: 'trial' },
        action: armed ? 'no-op' : 'create',
        before: f.boot.oneshot,
        after: target.id,
        reason: armed
          ? 'armed: boots once at the next reboot'
          : `boot ${d.release} once${failed ? ' more (--retry-trial)' : ''} at the next reboot; the default stays ${currentTitle ?? 'as it is'} until it comes up`,
        attributes: armed ? [] : [{ name: 'trial', before: f.boot.oneshot ?? null, after: target.id }],
        dependsOn: deps,
        steps: armed ? [] : [...loader.oneshotSteps(ctx, target), armStep(ctx, target)],
      }),
    );
    return out;
  }
  out.push(
    change({
      address: { kind: 'default-entry' },
      action: isDefault ? 'no-op' : current ? 'update' : 'create',
      before: currentTitle,
      after: target.title,
      reason: isDefault
        ? 'already the default'
        : d.boot.trial
          ? `${d.release} came up in its trial boot`
          : `${loader.displayName} default by id ${target.id}${currentTitle ? ` (was "${currentTitle}")` : ''}`,
      attributes: isDefault ? [] : [{ name: 'default', before: current, after: target.id }],
      dependsOn: deps,
      steps: isDefault ? [] : [...loader.defaultSteps(ctx, target, upstream), ...forgetTrial(ctx, d.release)],
    }),
  );
  return out;
}

/** Once the release is the default, its trial record has served: remove it. */
export function forgetTrial(ctx: Ctx, release: string): Step[] {
  if (!(ctx.f.receipts.trials ?? []).some((t) => t.release === release)) return [];
  const path = trialPath(release);
  return [{ kind: 'run', title: `rm -f ${path}`, argv: ['rm', '-f', path], sudo: ctx.sudo }];
}

export const defaultEntry: Resource = {
  name: 'default-entry',
  order: 50,
  installs: false,
  plan: defaultChanges,
};
