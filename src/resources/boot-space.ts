/**
 * Room in /boot for the new release: what it will take there, and the problem when the host lacks it.
 */
import type { HostFacts } from '../facts/types.js';
import type { Change } from './change.js';
import type { Ctx } from './context.js';
import type { Desired } from './desired.js';

const MiB = 1024 * 1024;
/** When nothing better is known: a compressed x86 image plus a modest initramfs. */
const DEFAULT_BOOT_BYTES = 48 * MiB;

/** Bytes the new release will take in /boot, from the build (when cached) or the host's kernels. */
export function bootBytesNeeded(d: Desired, f: HostFacts): { bytes: number; estimated: boolean } {
  const existing = f.kernels.map((k) => k.bootBytes ?? 0).filter((b) => b > 0);
  const largest = existing.length ? Math.max(...existing) : 0;
  if (d.artifacts.bootBytes !== null) {
    // The image, System.map and config are known; the initramfs is estimated from the host's own.
    const initrds = f.kernels.filter((k) => k.initramfs && k.bootBytes).map((k) => k.bootBytes as number);
    const initrd =
      d.initramfs.generator === 'none' ? 0 : initrds.length ? Math.max(...initrds) / 2 : 32 * MiB;
    return { bytes: Math.ceil(d.artifacts.bootBytes + initrd), estimated: true };
  }
  return { bytes: largest || DEFAULT_BOOT_BYTES, estimated: true };
}

/** A problem when /boot has less room than the kernel change needs (with 10% to spare). */
export function spaceCheck(ctx: Ctx, kernel: Change): void {
  const { d, f } = ctx;
  if (kernel.action === 'no-op') return;
  const boot = f.space.boot;
  if (!boot) return;
  const need = bootBytesNeeded(d, f);
  const margin = Math.ceil(need.bytes * 1.1);
  if (boot.freeBytes < margin) {
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    ctx.problems.push({
      code: 'boot-too-small',
      message: `${boot.mountPoint} on ${f.host} has ${mib(boot.freeBytes)} free; ${d.release} needs about ${mib(margin)} (image, System.map, config and initramfs, with 10% to spare)`,
      hint: 'free space in /boot (remove old kernels, e.g. with a lower boot.keep once the new kernel is in), or make /boot larger',
    });
  }
}
