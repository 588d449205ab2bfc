/**
 * Facts that need two families: a boot entry boots the installed kernel whose image it names.
 * Arch's entries say `/vmlinuz-linux`; only `kernels` (via pkgbase) knows that is 6.6.1-arch1-1.
 */
import type { BootFacts, InstalledKernel } from './types.js';

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export function linkBootReleases(boot: BootFacts, kernels: InstalledKernel[]): BootFacts {
  const byImage = new Map<string, string>();
  for (const k of kernels) if (k.image) byImage.set(base(k.image), k.release);
  return {
    ...boot,
    entries: boot.entries.map((e) => {
      const release = e.kernel ? byImage.get(base(e.kernel)) : undefined;
      return release && release !== e.release ? { ...e, release } : e;
    }),
  };
}
