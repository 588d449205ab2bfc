/**
 * GRUB where grub-probe cannot see the root device (a chroot, a root filesystem directory being
 * built into an image): grub-mkconfig cannot run, so kernelfile writes grub.cfg itself, listing the
 * kernels it installed, each with the kernelfile's `root`. Default and one-time boot as with
 * grub-mkconfig: saved_entry and next_entry in grubenv, by id.
 */
import type { PlanProblem, Step } from '../change.js';
import { entryId } from '../layout.js';
import type { LoaderCtx, LoaderDriver } from './driver.js';
import {
  explicitCfgSteps,
  grubCfgPath,
  grubEnv,
  grubNeedsExplicit,
  nextEntryStep,
  sameGrubEntry,
  savedEntryStep,
} from './grub-common.js';

/** Create grubenv ($1) with its editor ($2), its directory first. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
const CREATE_GRUBENV = 'mkdir -p "${1%/*}" && "$2" "$1" create';

function whyExplicit(ctx: LoaderCtx): string {
  return ctx.image
    ? `${ctx.f.host} is a root filesystem directory, where grub-mkconfig would probe the controller's disk`
    : `grub-probe cannot see the root device on ${ctx.f.host} (${ctx.f.boot.grub?.probe?.error ?? 'it failed'})`;
}

export const grubExplicit: LoaderDriver = {
  mode: 'grub-explicit',
  loader: 'grub',
  displayName: 'GRUB (explicit grub.cfg)',
  limits: { oneEntryPerKernel: null, rootRequired: true, notes: [] },
  claim: (ctx) => (grubNeedsExplicit(ctx) ? 'mine' : 'not-mine'),
  entryId: (_ctx, release, index) => entryId(release, index),
  sameEntry: sameGrubEntry,
  addSteps(ctx, entries, pruned) {
    const env = grubEnv(ctx);
    const cfg = grubCfgPath(ctx);
    const steps: Step[] = [];
    if (!ctx.f.boot.grub?.envFile)
      steps.push({
        kind: 'run',
        title: `${env.editor} ${env.file} create`,
        argv: ['sh', '-c', CREATE_GRUBENV, 'kernelfile', env.file, env.editor],
        sudo: ctx.sudo,
      });
    steps.push(
      ...explicitCfgSteps(
        ctx,
        entries,
        pruned,
        `write ${cfg}.kf-check (explicit entries: grub-mkconfig cannot run here)`,
      ),
    );
    return steps;
  },
  defaultSteps: (ctx, entry) => [savedEntryStep(ctx, entry.id)],
  oneshotSteps: (ctx, entry) => [nextEntryStep(ctx, entry.id)],
  removeSteps: (ctx, releases, entries) =>
    explicitCfgSteps(ctx, entries, new Set(releases), `write ${grubCfgPath(ctx)}.kf-check`),
  noRootProblem: (ctx) => ({
    message: `${whyExplicit(ctx)}, so each entry needs the root device, and the kernelfile does not name it`,
    hint: 'set `root:` on each entry in boot.entries (e.g. root: /dev/vda1 or UUID=…)',
  }),
  problems(ctx): PlanProblem[] {
    const foreign = ctx.f.boot.entries.filter((e) => !e.id.startsWith('kernelfile-'));
    if (!foreign.length) return [];
    return [
      {
        code: 'grub-cfg-foreign',
        message: `${grubCfgPath(ctx)} has entries kernelfile did not write (${foreign[0]?.title}…), and ${whyExplicit(ctx)}`,
        hint: 'run kernelfile where grub-probe can see the root device (the booted system), or remove that grub.cfg',
      },
    ];
  },
};
