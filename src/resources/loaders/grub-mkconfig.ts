/**
 * GRUB where grub-probe works: a data file per entry (/etc/kernelfile/grub/<id>.entry), turned
 * into menu entries by /etc/grub.d/41_kernelfile when update-grub/grub-mkconfig runs (after every
 * other entry, so no menu index moves and GRUB_DEFAULT=0 keeps booting what it booted). The
 * default is saved_entry in grubenv, by id, with GRUB_DEFAULT=saved; a one-time boot is next_entry
 * (what grub-reboot does). The values are quoted where 41_kernelfile prints them; grub-mkconfig
 * itself runs grub-script-check on the grub.cfg it made before it replaces the old one, so a menu
 * GRUB cannot parse stops update-grub with the old grub.cfg in place (no check of our own).
 */
import type { Step } from '../change.js';
import { entryId, GRUB_DEFAULT_CFG, GRUB_SCRIPT_PATH, grubEntryFile } from '../layout.js';
import { GRUB_SCRIPT } from '../scripts.js';
import type { LoaderDriver } from './driver.js';
import {
  grubDefaultSavedStep,
  grubMkconfigStep,
  grubNeedsExplicit,
  nextEntryStep,
  pinDefaultSteps,
  sameGrubEntry,
  savedEntryStep,
} from './grub-common.js';
import { entryArgLines } from './grub-quote.js';

export const grubMkconfig: LoaderDriver = {
  mode: 'grub-mkconfig',
  loader: 'grub',
  displayName: 'GRUB',
  limits: { oneEntryPerKernel: null, rootRequired: true, notes: [] },
  claim(ctx) {
    if (grubNeedsExplicit(ctx)) return 'not-mine';
    const t = ctx.f.boot.tools;
    if (!t['update-grub'] && !t['grub-mkconfig'] && !t['grub2-mkconfig'])
      return {
        code: 'no-grub-mkconfig',
        message: `${ctx.f.host} uses GRUB but has neither update-grub nor grub-mkconfig`,
        hint: 'install the GRUB package of the distribution (grub-pc, grub-efi-amd64, grub2-tools)',
      };
    return 'mine';
  },
  entryId: (_ctx, release, index) => entryId(release, index),
  sameEntry: sameGrubEntry,
  addSteps(ctx, entries) {
    const { sudo } = ctx;
    return [
      ...pinDefaultSteps(ctx),
      {
        kind: 'write',
        title: `write ${GRUB_SCRIPT_PATH}`,
        path: GRUB_SCRIPT_PATH,
        content: GRUB_SCRIPT,
        mode: 0o755,
        sudo,
      },
      ...entries.map(
        (e): Step => ({
          kind: 'write',
          title: `write ${grubEntryFile(e.id)}`,
          path: grubEntryFile(e.id),
          content: `id=${e.id}\ntitle=${e.title}\nlinux=${e.linux}\ninitrd=${e.initrd ?? ''}\noptions=${e.cmdline}\n${entryArgLines(e.cmdline)}`,
          mode: 0o644,
          sudo,
        }),
      ),
      grubMkconfigStep(ctx),
    ];
  },
  defaultSteps(ctx, entry, upstream) {
    const steps = [savedEntryStep(ctx, entry.id)];
    // Unless the boot entry step already switched GRUB to saved_entry (pinning the old default).
    const pinned = upstream.some((c) =>
      c.steps.some((s) => s.kind === 'write' && s.path === GRUB_DEFAULT_CFG),
    );
    if (ctx.f.boot.grub?.settings.GRUB_DEFAULT !== 'saved' && !pinned)
      steps.push(grubDefaultSavedStep(ctx), grubMkconfigStep(ctx));
    return steps;
  },
  oneshotSteps: (ctx, entry) => [nextEntryStep(ctx, entry.id)],
  // The removed kernels' files are gone: grub-mkconfig drops their entries, 41_kernelfile included.
  removeSteps: (ctx) => [grubMkconfigStep(ctx)],
};
