/**
 * What kernelfile knows about a host, as gathered in one round trip (gather.ts). Plain data only
 * (no Maps, no classes, no undefined: an absent scalar is `null`), so it prints as JSON and
 * hashes canonically. One interface per fact family; `HostFacts` composes them.
 */
import type { Journal, Receipt, Trial } from '../receipt/types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `system`: uname, /etc/os-release, /proc/cmdline. */
export interface SystemFacts {
  /** `uname -m`: x86_64, aarch64, … */
  arch: string | null;
  /** The running kernel release, `uname -r`. */
  running: string | null;
  /** `uname -v`: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)". */
  kernelVersion: string | null;
  hostname: string | null;
  distro: Distro;
  /** /proc/cmdline, without the trailing newline. */
  cmdline: string | null;
  /** /etc/machine-id (names BLS entries on Fedora and systemd-boot hosts). */
  machineId: string | null;
  /** /proc/sys/kernel/random/boot_id: changes at every boot (null on an image, or unreadable). */
  bootId: string | null;
  /** `id -u` of the gathering shell: facts read as non-root may lack unreadable files (see HostFacts.unreadable). */
  uid: number | null;
}

export interface Distro {
  id: string | null; // "debian", "fedora", "arch"
  idLike: string[]; // ["rhel", "centos", "fedora"]
  versionId: string | null; // "12", "39"; Arch has none
  prettyName: string | null;
}

/** Does `/lib/modules/REL/build` lead to kernel headers (what DKMS builds against)? */
export type BuildLink = 'present' | 'dangling' | 'absent';

/** `kernels`: one installed kernel release, with the files found for it. */
export interface InstalledKernel {
  release: string;
  /** Arch: the package (`linux`, `linux-lts`) whose /boot/vmlinuz-<pkgbase> is this release. */
  pkgbase: string | null;
  image: string | null; // /boot/vmlinuz-REL (Arch: /boot/vmlinuz-<pkgbase>)
  vmlinux: string | null; // /boot/vmlinux-REL (uncompressed images on some arches)
  systemMap: string | null; // /boot/System.map-REL
  config: string | null; // /boot/config-REL
  initramfs: string | null; // /boot/initrd.img-REL | /boot/initramfs-REL.img | /boot/initramfs-<pkgbase>.img
  /** Further images for the same release: Arch's -fallback, RHEL's kdump. */
  initramfsExtra: string[];
  modules: KernelModulesDir | null;
  /**
   * Total size in bytes of this release's files in /boot (image, vmlinux, System.map, config,
   * initramfs and initramfsExtra; a symlink counts as what it points to): what a kernel like it
   * takes in /boot. null when no /boot file belongs to it, or when the size of one of them could
   * not be read (no `stat` on the host).
   */
  bootBytes: number | null;
}

export interface KernelModulesDir {
  dir: string; // /lib/modules/REL
  build: BuildLink;
  /** modules.dep exists: depmod has run for this release. */
  modulesDep: boolean;
  /** The image kept in the modules tree by Fedora/RHEL and Arch packages (/lib/modules/REL/vmlinuz). */
  image: string | null;
}

/** `config`: the running kernel's configuration, and those of the builds kernelfile installed last. */
export interface RunningConfig {
  /** Where it was read: "/proc/config.gz" or "/boot/config-REL"; null when neither could be read. */
  source: string | null;
  /** CONFIG_X → value as written (`"string"` keeps its quotes); `# CONFIG_X is not set` → 'n'. */
  options: Record<string, string>;
  /**
   * /boot/config-REL of the releases of the newest receipts in /var/lib/kernelfile (at most
   * INSTALLED_CONFIGS of them, newest first): what a plan compares the new configuration with
   * ("what changed since the last apply"). Absent in facts gathered before the field existed.
   */
  installed?: InstalledConfig[];
}

/** The configuration file of a release kernelfile installed (a receipt names the release). */
export interface InstalledConfig {
  release: string;
  /** `/boot/config-REL` */
  path: string;
  /** Its options; null when it could not be read (then `error` says why). */
  options: Record<string, string> | null;
  /** Why it could not be read: missing, not readable by the gathering user, too large; null: read. */
  error: string | null;
}

export type DkmsState = 'added' | 'built' | 'installed' | 'installed-weak' | 'broken' | 'unknown';

/** One line of `dkms status`, or what the tree under /var/lib/dkms says. */
export interface DkmsEntry {
  name: string;
  version: string;
  /** null for `added` (not built for any kernel). */
  kernel: string | null;
  /** null when dkms 2.x's old format left it out, or for `added`. */
  arch: string | null;
  state: DkmsState;
  /** The state word as printed, when it is not one of the known states. */
  rawState: string | null;
  /** Trailing remarks, e.g. "(Original modules exist)", "(WARNING! Diff between built and installed module!)". */
  note: string | null;
}

/** A source tree /usr/src/<name>-<version>/dkms.conf: a module dkms could add. */
export interface DkmsSource {
  dir: string;
  name: string | null; // PACKAGE_NAME
  version: string | null; // PACKAGE_VERSION
  /**
   * The dkms.conf itself, exactly as read (a shell fragment dkms sources: BUILD_EXCLUSIVE_KERNEL,
   * BUILD_EXCLUSIVE_ARCH, …). null when it is larger than 64 KiB: not kept rather than cut short.
   */
  conf: string | null;
}

/** `dkms`: the command, and the modules it knows. */
export interface DkmsFacts {
  /** `dkms --version`: "3.0.10"; null when dkms is not installed. */
  version: string | null;
  /** Where `modules` came from: `dkms status` when it ran, else the tree under /var/lib/dkms. */
  from: 'status' | 'tree';
  modules: DkmsEntry[];
  sources: DkmsSource[];
}

export type InitramfsTool = 'initramfs-tools' | 'dracut' | 'mkinitcpio';

/** `initramfs`: the generator this host uses, and the images in /boot. */
export interface InitramfsFacts {
  tool: InitramfsTool | null;
  /** Every generator found, with its path (a host may have several installed). */
  available: { tool: InitramfsTool; path: string }[];
  images: string[];
}

export type BootLoader = 'grub' | 'systemd-boot' | 'grubby';

/** One menu entry, from grub.cfg or from a Boot Loader Specification (BLS) file. */
export interface BootEntry {
  /**
   * How the loader addresses it. GRUB: the entry's --id, prefixed by its submenu's as GRUB defaults
   * want it (`gnulinux-advanced-UUID>gnulinux-6.1.0-18-amd64-advanced-UUID`); the title where
   * there is no id. BLS: the file name without `.conf`.
   */
  id: string;
  title: string;
  /** The file the entry was read from. */
  file: string;
  /** The GRUB submenu holding the entry. */
  submenu: { id: string | null; title: string } | null;
  /** GRUB's numeric address ("0", "1>2"), within the menu as the loader shows it. */
  index: string | null;
  kernel: string | null; // as written on the `linux` line
  initrd: string[];
  options: string | null; // the kernel command line as written
  /** The kernel release it boots: BLS `version`, else the image name, else matched with `kernels`. */
  release: string | null;
}

export interface GrubFacts {
  /** The grub.cfg that was read (null: none found or not readable). */
  cfg: string | null;
  /** grub.cfg runs `blscfg`: its menu includes the BLS entries (Fedora, RHEL). */
  blscfg: boolean;
  /** What grub.cfg sets `default` to on a normal boot: "0", "${saved_entry}", … */
  cfgDefault: string | null;
  /** grubenv: saved_entry, next_entry, … */
  env: Record<string, string>;
  envFile: string | null;
  /** /etc/default/grub (and /etc/default/grub.d/*.cfg after it): GRUB_DEFAULT, GRUB_CMDLINE_LINUX, … */
  settings: Record<string, string>;
  /**
   * `grub-probe --target=device /` (grub2-probe where there is no grub-probe): can GRUB find the
   * device of /? It cannot in a container or chroot (an overlay root, a disk GRUB does not see),
   * and then grub-mkconfig fails too. null when neither grub-probe nor grub2-probe is installed.
   */
  probe: GrubProbe | null;
}

export interface GrubProbe {
  /** The probe exited 0 and printed a device. */
  ok: boolean;
  /** The device of / as grub-probe printed it (`/dev/vda1`); null unless ok. */
  device: string | null;
  /**
   * The first line of its standard error (LC_ALL=C) when it failed, e.g.
   * "grub-probe: error: failed to get canonical path of `overlay'."; "exit status N" when it
   * printed none ("printed no device" when it exited 0 without one). null when ok.
   */
  error: string | null;
}

export interface SystemdBootFacts {
  /** The loader.conf that was read (null: entries found without one). */
  loaderConf: string | null;
  /** `default` from loader.conf: a glob over entry ids, or "@saved". */
  default: string | null;
  timeout: string | null;
  /** EFI variables, when readable: LoaderEntryDefault overrides `default`. */
  efiDefault: string | null;
  efiOneShot: string | null;
}

export type BootTool =
  | 'grubby'
  | 'bootctl'
  | 'grub-mkconfig'
  | 'grub2-mkconfig'
  | 'update-grub'
  | 'grub-reboot'
  | 'grub2-reboot'
  | 'grub-set-default'
  | 'grub2-set-default'
  | 'grub-editenv'
  | 'grub2-editenv'
  | 'grub-probe'
  | 'grub2-probe'
  | 'kernel-install';

/** `boot`: the loader, its menu, and which entry boots by default and next time. */
export interface BootFacts {
  loader: BootLoader | null;
  /** /sys/firmware/efi exists: booted through UEFI. */
  efi: boolean;
  /** The menu in the loader's order. */
  entries: BootEntry[];
  /** The id of the entry that boots by default (resolved through saved_entry, indexes, titles). */
  default: string | null;
  /** The entry booted once, next time (GRUB next_entry, systemd-boot LoaderEntryOneShot). */
  oneshot: string | null;
  grub: GrubFacts | null;
  systemdBoot: SystemdBootFacts | null;
  tools: Record<BootTool, string | null>;
}

export interface FsSpace {
  /** The path asked about (/boot, /lib/modules). */
  path: string;
  filesystem: string;
  mountPoint: string;
  totalBytes: number;
  usedBytes: number;
  /** Available to unprivileged users (df's "Available"). */
  freeBytes: number;
}

/** `space`: the filesystems kernels are installed onto. Not part of the digest (it changes by the minute). */
export interface SpaceFacts {
  boot: FsSpace | null;
  modules: FsSpace | null;
}

/** A kernelfile receipt, /var/lib/kernelfile/<release>.json (written by apply), as decoded (src/receipt). */
export interface ReceiptRecord {
  file: string; // /var/lib/kernelfile/<release>.json
  release: string; // the file name without .json (the receipt's own release field: decode checks they agree)
  data: Receipt;
  /**
   * The installed files that no longer match the receipt's sidecar `/var/lib/kernelfile/<release>.sha256`
   * (`sha256sum` format, `<sha256>  /absolute/path` per line, written by apply): changed, missing
   * or unreadable, as `sha256sum -c` found them, in the sidecar's order. [] when every file
   * matches. null when there is no sidecar, it could not be read, or the host has no sha256sum.
   * A file the gathering user cannot read is listed here and in HostFacts.unreadable.
   */
  drift: string[] | null;
}

/** The journal of an apply that has not finished, /var/lib/kernelfile/pending/<release>.json, as decoded. */
export interface JournalRecord {
  file: string; // /var/lib/kernelfile/pending/<release>.json
  release: string;
  data: Journal;
  /** Always null: a journal has no sidecar (kept so receipts and journals read alike). */
  drift: null;
}

/** A trial boot record, /var/lib/kernelfile/trials/<release>.json, as decoded. */
export interface TrialRecord {
  file: string;
  release: string;
  data: Trial;
}

export interface ReceiptFacts {
  receipts: ReceiptRecord[];
  /** The journals of applies that have not finished. */
  pending: JournalRecord[];
  /** Trial boots armed or failed (one per release). */
  trials: TrialRecord[];
  /**
   * Receipts and journals that could not be read or were refused by the decoder (truncated, not
   * JSON, a newer format, a field of the wrong type, a release that is not the file name…):
   * reported, never fatal, and never taken for a receipt or an apply under way.
   */
  errors: { file: string; error: string }[];
}

export const TOOL_NAMES = [
  'make',
  'gcc',
  'cc',
  'dkms',
  'depmod',
  'dracut',
  'update-initramfs',
  'mkinitcpio',
  'grub-mkconfig',
  'grub2-mkconfig',
  'update-grub',
  'grub-reboot',
  'grub2-reboot',
  'grubby',
  'bootctl',
  'kernel-install',
  'sudo',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** `tools`: absolute path of each tool, null when absent (PATH, then /usr/local/sbin, /usr/sbin, /sbin, …). */
export type ToolFacts = Record<ToolName, string | null>;

/** `libs`: the shared libraries the host's dynamic loader finds, and its glibc. */
export interface LibFacts {
  /** The library directories that were listed, sorted. */
  dirs: string[];
  /** Every lib*.so.* and ld-*.so.* name in them that resolves to a file (sorted, once each). */
  sonames: string[];
  /** The glibc version ("2.36"); null when not glibc, or not found out. */
  glibc: string | null;
}

/**
 * Secure Boot as the host's firmware reports it:
 *   enabled     SecureBoot = 1 and SetupMode = 0: only signed code boots, and (with the kernel's
 *               lockdown) only modules signed by a trusted key load
 *   disabled    SecureBoot = 0, or no SecureBoot variable (firmware without Secure Boot)
 *   setup-mode  SetupMode = 1: no platform key; nothing is enforced
 *   not-efi     no /sys/firmware/efi: booted through BIOS (or a VM without UEFI)
 *   unknown     an image (root:DIR: its firmware is that of the machine that boots it), or the
 *               variables could not be read and mokutil did not say
 */
export type SecureBootState = 'enabled' | 'disabled' | 'setup-mode' | 'not-efi' | 'unknown';

/** A MOK certificate list (`mokutil --list-enrolled`, `--list-new`). */
export interface MokList {
  /** SHA-1 fingerprints of the X.509 certificates, lower-case hex without colons, as listed. */
  sha1: string[];
  /** Entries that are hashes, not certificates (counted only). */
  hashes: number;
}

/** The host's own dkms signing configuration (dkms signs the modules it builds on the host). */
export interface DkmsSigningFacts {
  /**
   * `mok_signing_key` / `mok_certificate` from /etc/dkms/framework.conf and then
   * framework.conf.d/*.conf (the last one wins, as dkms reads them); `default` when neither sets
   * them and dkms's defaults (/var/lib/dkms/mok.key, mok.pub) exist; null when nothing is set.
   */
  from: string | null;
  /** The key's path (or a pkcs11: URI) as configured: its content is never read. */
  key: string | null;
  certificate: string | null;
  /** The files exist (null: not a plain absolute path, or not checked). */
  keyExists: boolean | null;
  certificateExists: boolean | null;
  /** SHA-1 of the certificate (DER, or PEM decoded), when it could be read; null otherwise. */
  certificateSha1: string | null;
}

/** `secureboot`: Secure Boot state, the enrolled and pending Machine Owner Keys, dkms's signing setup. */
export interface SecureBootFacts {
  state: SecureBootState;
  /** Where the state came from: the EFI variables, `mokutil --sb-state`; null when unknown. */
  source: 'efivars' | 'mokutil' | null;
  /** shim's MokSBStateRT is set: shim does not verify (`mokutil --disable-validation`). */
  shimValidationDisabled: boolean;
  /** The path of mokutil; null when absent (or not looked for: an image). */
  mokutil: string | null;
  /** Enrolled MOKs (`mokutil --list-enrolled`); null when unknown (no mokutil, it failed, an image). */
  enrolled: MokList | null;
  /** Enrolments requested for the next boot (`mokutil --list-new`); null when unknown. */
  pending: MokList | null;
  dkms: DkmsSigningFacts;
}

export interface HostFacts {
  factsVersion: 1;
  /** The transport's name for the host ("local", "ssh://root@web-1:22"). */
  host: string;
  /** sha256 over the facts a plan depends on (see gather.ts). */
  digest: string;
  system: SystemFacts;
  kernels: InstalledKernel[];
  config: RunningConfig;
  dkms: DkmsFacts;
  initramfs: InitramfsFacts;
  boot: BootFacts;
  space: SpaceFacts;
  receipts: ReceiptFacts;
  tools: ToolFacts;
  /**
   * null when no library directory could be listed; absent in facts gathered before the family
   * existed (saved plans, test fixtures). Either way: unknown, and nothing is checked against it.
   */
  libs?: LibFacts | null;
  /** Absent in facts gathered before the family existed (saved plans, test fixtures): unknown. */
  secureboot?: SecureBootFacts;
  /** Paths that exist but could not be read by the gathering user: facts about them are missing. */
  unreadable: string[];
}
