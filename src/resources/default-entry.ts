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
import type { Change, PlannedChange } from './change.js';
import { type Ctx, change } from './context.js';
import type { Resource } from './resource.js';

function defaultChanges(ctx: Ctx, upstream: readonly Change[]): PlannedChange[] {
  const { d, f } = ctx;
  const target = ctx.entries.find((e) => e.default);
  const loader = ctx.loader;
  if (!loader || !target) return [];
  const deps = upstream.filter((c) => c.action !== 'noop').map((c) => c.id);
  const current = f.boot.default;
  const currentTitle = f.boot.entries.find((e) => e.id === current)?.title ?? current;
  const isDefault = current === target.id;
  const out: PlannedChange[] = [];
  const running = f.system.running === d.release;
  if (d.boot.trial && !isDefault && !running) {
    const armed = f.boot.oneshot === target.id;
    if (armed)
      ctx.notes.push(
        `trial pending: ${target.id} boots once at the next reboot; it becomes the default once the host runs ${d.release}`,
      );
    out.push(
      change({
        address: { kind: 'trial' },
        action: armed ? 'noop' : 'create',
        before: f.boot.oneshot,
        after: target.id,
        reason: armed
          ? 'armed: boots once at the next reboot'
          : `boot ${d.release} once at the next reboot; the default stays ${currentTitle ?? 'as it is'} until it comes up`,
        dependsOn: deps,
        steps: armed ? [] : loader.oneshotSteps(ctx, target),
      }),
    );
    return out;
  }
  out.push(
    change({
      address: { kind: 'default-entry' },
      action: isDefault ? 'noop' : current ? 'update' : 'create',
      before: currentTitle,
      after: target.title,
      reason: isDefault
        ? 'already the default'
        : d.boot.trial
          ? `${d.release} came up in its trial boot`
          : `${loader.displayName} default by id ${target.id}${currentTitle ? ` (was "${currentTitle}")` : ''}`,
      dependsOn: deps,
      steps: isDefault ? [] : loader.defaultSteps(ctx, target, upstream),
    }),
  );
  return out;
}

export const defaultEntry: Resource = {
  name: 'default-entry',
  order: 50,
  installs: false,
  plan: defaultChanges,
};
