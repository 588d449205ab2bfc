/**
 * Resources `default-entry` and `trial`: which entry boots by default, and a one-time boot of the
 * new one first. Always by entry id (grubenv saved_entry/next_entry, bootctl, grubby's kernel
 * path), never by menu position: submenus and new entries make positions lie.
 *
 * With `boot.trial`, the new entry is booted once (`next_entry`, `bootctl set-oneshot`) and becomes
 * the default only once the host runs it: a kernel that does not come up falls back to the old
 * default at the next reset.
 */

import { grubEnv, loaderName, type RenderedEntry } from './boot-entry.js';
import type { Change, Step } from './change.js';
import { type Ctx, change } from './context.js';
import { GRUB_DEFAULT_CFG } from './layout.js';
import { GRUB_DEFAULT_SAVED } from './scripts.js';

export const DEFAULT_ID = 'default-entry';
export const TRIAL_ID = 'trial';

function setDefaultSteps(ctx: Ctx, e: RenderedEntry, pinned: boolean): Step[] {
  const { sudo, f } = ctx;
  switch (ctx.loader) {
    case 'grub-mkconfig':
    case 'grub-explicit': {
      const env = grubEnv(ctx);
      const steps: Step[] = [
        {
          kind: 'run',
          title: `${env.editor} set saved_entry=${e.id}`,
          argv: [env.editor, env.file, 'set', `saved_entry=${e.id}`],
          sudo,
        },
      ];
      // Unless the boot entry step already switched GRUB to saved_entry (pinning the old default).
      if (ctx.loader === 'grub-mkconfig' && f.boot.grub?.settings.GRUB_DEFAULT !== 'saved' && !pinned) {
        const mk = f.boot.tools['update-grub']
          ? ['update-grub']
          : [
              f.boot.tools['grub-mkconfig'] ? 'grub-mkconfig' : 'grub2-mkconfig',
              '-o',
              f.boot.grub?.cfg ?? '/boot/grub/grub.cfg',
            ];
        steps.push(
          {
            kind: 'write',
            title: `write ${GRUB_DEFAULT_CFG} (GRUB_DEFAULT=saved)`,
            path: GRUB_DEFAULT_CFG,
            content: GRUB_DEFAULT_SAVED,
            mode: 0o644,
            sudo,
          },
          { kind: 'run', title: mk.join(' '), argv: mk, sudo },
        );
      }
      return steps;
    }
    case 'systemd-boot':
      return [
        {
          kind: 'run',
          title: `bootctl set-default ${e.id}.conf`,
          argv: ['bootctl', 'set-default', `${e.id}.conf`],
          sudo,
        },
      ];
    case 'grubby':
      return [
        {
          kind: 'run',
          title: `grubby --set-default ${e.linux}`,
          argv: ['grubby', '--set-default', e.linux],
          sudo,
        },
      ];
    default:
      return [];
  }
}

function oneshotSteps(ctx: Ctx, e: RenderedEntry): Step[] {
  const { sudo } = ctx;
  if (ctx.loader === 'systemd-boot')
    return [
      {
        kind: 'run',
        title: `bootctl set-oneshot ${e.id}.conf`,
        argv: ['bootctl', 'set-oneshot', `${e.id}.conf`],
        sudo,
      },
    ];
  const env = grubEnv(ctx);
  // What grub-reboot does: next_entry in grubenv, consumed by grub.cfg at the next boot.
  return [
    {
      kind: 'run',
      title: `${env.editor} set next_entry=${e.id} (grub-reboot)`,
      argv: [env.editor, env.file, 'set', `next_entry=${e.id}`],
      sudo,
    },
  ];
}

export function defaultChanges(ctx: Ctx, entries: RenderedEntry[], upstream: Change[]): Change[] {
  const { d, f } = ctx;
  const target = entries.find((e) => e.default);
  if (!ctx.loader || !target) return [];
  const deps = upstream.filter((c) => c.action !== 'noop').map((c) => c.id);
  const current = f.boot.default;
  const currentTitle = f.boot.entries.find((e) => e.id === current)?.title ?? current;
  const isDefault = current === target.id;
  const out: Change[] = [];
  const running = f.system.running === d.release;
  if (d.boot.trial && !isDefault && !running) {
    const armed = f.boot.oneshot === target.id;
    if (armed)
      ctx.notes.push(
        `trial pending: ${target.id} boots once at the next reboot; it becomes the default once the host runs ${d.release}`,
      );
    out.push(
      change({
        id: TRIAL_ID,
        resource: 'trial',
        action: armed ? 'noop' : 'create',
        before: f.boot.oneshot,
        after: target.id,
        reason: armed
          ? 'armed: boots once at the next reboot'
          : `boot ${d.release} once at the next reboot; the default stays ${currentTitle ?? 'as it is'} until it comes up`,
        dependsOn: deps,
        steps: armed ? [] : oneshotSteps(ctx, target),
      }),
    );
    return out;
  }
  out.push(
    change({
      id: DEFAULT_ID,
      resource: 'default-entry',
      action: isDefault ? 'noop' : current ? 'update' : 'create',
      before: currentTitle,
      after: target.title,
      reason: isDefault
        ? 'already the default'
        : d.boot.trial
          ? `${d.release} came up in its trial boot`
          : `${loaderName(ctx.loader)} default by id ${target.id}${currentTitle ? ` (was "${currentTitle}")` : ''}`,
      dependsOn: deps,
      steps: isDefault
        ? []
        : setDefaultSteps(
            ctx,
            target,
            upstream.some((c) => c.steps.some((s) => s.kind === 'write' && s.path === GRUB_DEFAULT_CFG)),
          ),
    }),
  );
  return out;
}
