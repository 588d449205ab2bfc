/**
 * grubby (Fedora, RHEL: GRUB 2 reading Boot Loader Specification entries with blscfg):
 * `grubby --add-kernel` writes /boot/loader/entries/<machine-id>-<release>.conf (one entry per
 * kernel), `grubby --set-default` makes it the default (saved_entry in grubenv), and
 * `grubby --remove-kernel` takes it away.
 *
 * A one-time boot is GRUB's: what `grub2-reboot ID` does, `grub2-editenv GRUBENV set
 * next_entry=ID`, with ID the BLS entry id (blscfg gives each menu entry its BLS file name) and
 * GRUBENV the host's own (/boot/grub2/grubenv, which on EFI hosts links to the ESP's). Fedora's
 * grub.cfg boots next_entry once, clears it and falls back to saved_entry, the default grubby set.
 * grubby has no one-time option of its own.
 */
import { imagePath } from '../layout.js';
import { blsEntryId, sameBlsEntry } from './bls.js';
import type { LoaderCtx, LoaderDriver } from './driver.js';

/** The grubby host's grubenv and its editor: grub2-editenv, as Fedora names it (grub-editenv only where that is all there is). */
function grubbyEnv(ctx: LoaderCtx): { file: string; editor: string } {
  const t = ctx.f.boot.tools;
  return {
    file: ctx.f.boot.grub?.envFile ?? '/boot/grub2/grubenv',
    editor: !t['grub2-editenv'] && t['grub-editenv'] ? 'grub-editenv' : 'grub2-editenv',
  };
}

export const grubby: LoaderDriver = {
  mode: 'grubby',
  loader: 'grubby',
  displayName: 'grubby',
  limits: { oneEntryPerKernel: 'grubby', rootRequired: true, notes: [] },
  claim: (ctx) =>
    ctx.f.boot.tools.grubby
      ? 'mine'
      : {
          code: 'no-grubby',
          message: `boot.loader is grubby but ${ctx.f.host} has no grubby`,
          hint: 'install grubby, or set boot.loader: auto',
        },
  entryId: blsEntryId,
  sameEntry: sameBlsEntry,
  addSteps: (ctx, entries) =>
    entries.map((e) => ({
      kind: 'run' as const,
      title: `grubby --add-kernel ${e.linux}`,
      argv: [
        'grubby',
        '--add-kernel',
        e.linux,
        ...(e.initrd ? ['--initrd', e.initrd] : []),
        '--title',
        e.title,
        '--args',
        e.cmdline,
      ],
      sudo: ctx.sudo,
    })),
  defaultSteps: (ctx, entry) => [
    {
      kind: 'run',
      title: `grubby --set-default ${entry.linux}`,
      argv: ['grubby', '--set-default', entry.linux],
      sudo: ctx.sudo,
    },
  ],
  oneshotSteps(ctx, entry) {
    const env = grubbyEnv(ctx);
    return [
      {
        kind: 'run',
        title: `${env.editor} set next_entry=${entry.id} (grub2-reboot)`,
        argv: [env.editor, env.file, 'set', `next_entry=${entry.id}`],
        sudo: ctx.sudo,
      },
    ];
  },
  // Fedora's GRUB (blscfg) expands $NAME in a BLS entry's options ($kernelopts, $tuned_params).
  problems: (_ctx, entries) =>
    entries
      .filter((e) => e.cmdline.includes('$'))
      .slice(0, 1)
      .map((e) => ({
        code: 'entry-text',
        message: `the command line of ${e.id} has a $, which GRUB's blscfg expands as a variable in a BLS entry's options`,
        hint: 'remove the $ from cmdline in boot.entries',
      })),
  removeSteps: (ctx, releases) =>
    releases.map((r) => ({
      kind: 'run' as const,
      title: `grubby --remove-kernel ${imagePath(r)}`,
      argv: ['grubby', '--remove-kernel', imagePath(r)],
      sudo: ctx.sudo,
    })),
};
