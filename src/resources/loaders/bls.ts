/**
 * Boot Loader Specification entries as kernel-install and grubby name them:
 * /boot/loader/entries/<machine-id>-<release>.conf. Both write one entry per kernel, with the title
 * and command line they choose: an entry with the right id is the entry.
 */
import { entryId } from '../layout.js';
import type { LoaderCtx } from './driver.js';

/** `<machine-id>-<release>` (without a machine id: kernelfile's own id, and a problem elsewhere). */
export function blsEntryId(ctx: LoaderCtx, release: string, index: number): string {
  const machineId = ctx.f.system.machineId;
  return machineId ? `${machineId}-${release}${index === 0 ? '' : `-${index + 1}`}` : entryId(release, index);
}

/** The tool named the entry, so an entry with its id is the one it would write. */
export const sameBlsEntry = (): boolean => true;
