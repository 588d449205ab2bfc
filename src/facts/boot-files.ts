/**
 * What the files in /boot are, by name, across distributions:
 *   Debian/Ubuntu  vmlinuz-REL System.map-REL config-REL initrd.img-REL
 *   Fedora/RHEL    vmlinuz-REL initramfs-REL.img initramfs-RELkdump.img (+ 0-rescue-<machine-id>)
 *   Arch           vmlinuz-<pkgbase> initramfs-<pkgbase>.img initramfs-<pkgbase>-fallback.img
 * Backups made by package managers and dkms (`.old-dkms`, `.dpkg-bak`, `.bak`, `.old`) are not kernels.
 */

export type BootFileKind = 'image' | 'vmlinux' | 'systemMap' | 'config' | 'initramfs';

export interface BootFile {
  kind: BootFileKind;
  /** The release or Arch pkgbase the name carries (`6.1.0-13-amd64`, `linux`, `linux-fallback`). */
  stem: string;
  name: string;
}

const BACKUP = /\.(old-dkms|dpkg-[a-z]+|bak|old|orig|rpmsave|rpmnew)$/;
const PATTERNS: [RegExp, BootFileKind][] = [
  [/^vmlinuz-(.+)$/, 'image'],
  [/^vmlinux-(.+)$/, 'vmlinux'],
  [/^System\.map-(.+)$/, 'systemMap'],
  [/^config-(.+)$/, 'config'],
  [/^initrd\.img-(.+)$/, 'initramfs'],
  [/^initramfs-(.+)\.img$/, 'initramfs'],
];

export function classifyBootFile(name: string): BootFile | null {
  if (BACKUP.test(name)) return null;
  for (const [re, kind] of PATTERNS) {
    const m = name.match(re);
    if (m) return { kind, stem: m[1] as string, name };
  }
  return null;
}

/** Variants of an initramfs for the same kernel: the stem they extend and how. */
export function initramfsVariant(stem: string): { base: string; variant: 'fallback' | 'kdump' } | null {
  if (stem.endsWith('-fallback')) return { base: stem.slice(0, -'-fallback'.length), variant: 'fallback' };
  if (stem.endsWith('kdump'))
    return { base: stem.slice(0, -'kdump'.length).replace(/-$/, ''), variant: 'kdump' };
  return null;
}
