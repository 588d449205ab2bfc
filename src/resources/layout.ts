/**
 * Where kernelfile puts things on a host. One place, so plan, apply and facts agree.
 */
import type { InitramfsTool } from '../facts/types.js';
import { STATE_DIR } from '../receipt/paths.js';

/** The receipts, their sidecars, the journals and the staging: src/receipt/paths.ts. */
export {
  pendingPath,
  receiptPath,
  STATE_DIR,
  sidecarPath,
  stagingDir,
  statPath,
  trialPath,
} from '../receipt/paths.js';

/** A DKMS module's source tarball, uploaded before it is unpacked into /usr/src. */
export const moduleUpload = (name: string, version: string) =>
  `${STATE_DIR}/staging/src-${name}-${version}.tar`;

/** A DKMS module built on the controller, as `dkms mktarball` packs it, waiting for `dkms ldtarball`. */
export const moduleBinaryTarball = (name: string, version: string, release: string) =>
  `${STATE_DIR}/staging/${name}-${version}-${release}.dkms.tar.gz`;

export const imagePath = (release: string) => `/boot/vmlinuz-${release}`;
export const systemMapPath = (release: string) => `/boot/System.map-${release}`;
export const configPath = (release: string) => `/boot/config-${release}`;
export const modulesDir = (release: string) => `/lib/modules/${release}`;
export const headersDir = (release: string) => `/usr/src/linux-headers-${release}`;
export const moduleSourceDir = (name: string, version: string) => `/usr/src/${name}-${version}`;

/** The files shipped for a build, by name in the staging directory. */
export const SHIPPED = ['vmlinuz', 'System.map', 'config', 'modules.tar', 'headers.tar'] as const;

export function initramfsPath(tool: InitramfsTool, release: string): string {
  return tool === 'initramfs-tools' ? `/boot/initrd.img-${release}` : `/boot/initramfs-${release}.img`;
}

/** initramfs-tools: the modules to force into one release's image (read by INITRAMFS_HOOK). */
export const initramfsModulesFile = (release: string) => `/etc/kernelfile/initramfs/${release}.modules`;
export const INITRAMFS_HOOK_PATH = '/etc/initramfs-tools/hooks/kernelfile';
/** mkinitcpio: a config per release that adds the modules to the host's own. */
export const mkinitcpioConf = (release: string) => `/etc/kernelfile/mkinitcpio-${release}.conf`;

/** GRUB through grub-mkconfig: one data file per entry, turned into menu entries by GRUB_SCRIPT_PATH. */
export const GRUB_ENTRY_DIR = '/etc/kernelfile/grub';
export const grubEntryFile = (id: string) => `${GRUB_ENTRY_DIR}/${id}.entry`;
export const GRUB_SCRIPT_PATH = '/etc/grub.d/41_kernelfile';
export const GRUB_DEFAULT_CFG = '/etc/default/grub.d/kernelfile.cfg';
/** systemd-boot: the Boot Loader Specification entry kernelfile writes. */
export const blsEntryName = (id: string) => `${id}.conf`;

/** The id of the n-th (0-based) boot entry of a release, the same on every loader. */
export function entryId(release: string, index: number): string {
  return index === 0 ? `kernelfile-${release}` : `kernelfile-${release}-${index + 1}`;
}
