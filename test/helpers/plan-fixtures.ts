/**
 * Planner golden cases, test/fixtures/plan/<case>/: a kernelfile, the controller's side of it
 * (build.json: release, build id, effective config, DKMS preflight), the host (facts.json), and
 * what the planner makes of them (plan.txt, plan.json).
 *
 * The facts are not written by hand: every case starts from a host put together from the fact
 * fixtures (test/fixtures/facts/<family>/<case>, parsed by the real parsers) and is edited by the
 * builders below (install a release the way apply would have, write a receipt, arm a trial boot…).
 * test/unit/plan/golden-cases.ts holds each case's edits; `UPDATE_PLAN_INPUTS=1` rewrites
 * facts.json and build.json from them, `UPDATE_GOLDEN=1` rewrites plan.txt and plan.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModuleCheck } from '../../src/dkms/module-check.js';
import { nodeFileView } from '../../src/engine/fsview.js';
import { INSTALLED_CONFIGS } from '../../src/facts/config.js';
import { FAMILIES } from '../../src/facts/families.js';
import { factsDigest, familyDigests } from '../../src/facts/gather.js';
import { linkBootReleases } from '../../src/facts/link.js';
import type {
  BootEntry,
  DkmsEntry,
  DkmsFacts,
  FsSpace,
  HostFacts,
  InitramfsTool,
  InstalledKernel,
  ReceiptRecord,
  RunningConfig,
  ToolFacts,
} from '../../src/facts/types.js';
import { compareVersions } from '../../src/facts/version.js';
import { type PlanOptions, plan } from '../../src/plan/planner.js';
import type { HostPlan } from '../../src/plan/types.js';
import type { Journal, Receipt } from '../../src/receipt/types.js';
import { planFile, planJson } from '../../src/render/plan-json.js';
import { renderHostPlan } from '../../src/render/plan-text.js';
import { plain } from '../../src/render/style.js';
import { type BuildFacts, type Desired, desiredFrom } from '../../src/resources/desired.js';
import type { Spec } from '../../src/spec/schema.js';
import { validate } from '../../src/spec/validate.js';
import { fixtureSections } from '../unit/facts/fixtures.js';
import { TEST_STAMP, validDocument } from './json-schemas.js';

export const PLAN_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/plan/', import.meta.url));
/** How plans name files of a case (module sources): relative to the repository, never this machine. */
export const PLAN_FIXTURE_REL = 'test/fixtures/plan';

/** build.json: what the controller worked out for the kernelfile (never compiled in a test). */
export interface BuildJson extends BuildFacts {
  moduleChecks: ModuleCheck[];
}

export const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
/** A stable, realistic-looking 64-hex id for a label (build ids, file hashes). */
export const fakeId = (label: string) => sha256(`kernelfile plan fixture: ${label}`);
export const releaseOf = (version: string, localversion: string, buildId: string) =>
  `${version}${localversion}-kf${buildId.slice(0, 8)}`;

// ── hosts from the fact fixtures ─────────────────────────────────────────────────────────────

export type BaseHost = 'debian12-grub' | 'debian12-grub-default0' | 'debian12-chroot' | 'fedora39' | 'arch';

export const DEBIAN_UUID = '8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71';
export const MiB = 1024 * 1024;

function tools(present: Partial<Record<keyof ToolFacts, string>>): ToolFacts {
  const none: ToolFacts = {
    make: null,
    gcc: null,
    cc: null,
    dkms: null,
    depmod: null,
    dracut: null,
    'update-initramfs': null,
    mkinitcpio: null,
    'grub-mkconfig': null,
    'grub2-mkconfig': null,
    'update-grub': null,
    'grub-reboot': null,
    'grub2-reboot': null,
    grubby: null,
    bootctl: null,
    'kernel-install': null,
    sudo: null,
  };
  return { ...none, ...present };
}

const DEBIAN_TOOLS = tools({
  make: '/usr/bin/make',
  gcc: '/usr/bin/gcc',
  cc: '/usr/bin/cc',
  dkms: '/usr/sbin/dkms',
  depmod: '/usr/sbin/depmod',
  'update-initramfs': '/usr/sbin/update-initramfs',
  'grub-mkconfig': '/usr/sbin/grub-mkconfig',
  'update-grub': '/usr/sbin/update-grub',
  'grub-reboot': '/usr/sbin/grub-reboot',
  'kernel-install': '/usr/bin/kernel-install',
  sudo: '/usr/bin/sudo',
});

const FEDORA_TOOLS = tools({
  depmod: '/usr/sbin/depmod',
  dracut: '/usr/bin/dracut',
  'grub2-mkconfig': '/usr/sbin/grub2-mkconfig',
  'grub2-reboot': '/usr/sbin/grub2-reboot',
  grubby: '/usr/sbin/grubby',
  bootctl: '/usr/bin/bootctl',
  'kernel-install': '/usr/bin/kernel-install',
  sudo: '/usr/bin/sudo',
});

const ARCH_TOOLS = tools({
  make: '/usr/bin/make',
  gcc: '/usr/bin/gcc',
  cc: '/usr/bin/cc',
  depmod: '/usr/bin/depmod',
  dracut: '/usr/bin/dracut',
  mkinitcpio: '/usr/bin/mkinitcpio',
  bootctl: '/usr/bin/bootctl',
  'kernel-install': '/usr/bin/kernel-install',
  sudo: '/usr/bin/sudo',
});

export function fsSpace(
  path: string,
  filesystem: string,
  mountPoint: string,
  totalBytes: number,
  usedBytes: number,
  freeBytes: number,
): FsSpace {
  return { path, filesystem, mountPoint, totalBytes, usedBytes, freeBytes };
}

/** /boot on the root filesystem: a 30 GiB virtual disk, as a cloud image installs Debian. */
export const DEBIAN_SPACE = {
  boot: fsSpace('/boot', '/dev/vda1', '/', 31526391808, 9183592448, 20712501248),
  modules: fsSpace('/lib/modules', '/dev/vda1', '/', 31526391808, 9183592448, 20712501248),
};

const NO_DKMS: DkmsFacts = { version: null, from: 'tree', modules: [], sources: [] };

/** A short running config for the hosts whose fixtures have none (tens of options, as Kconfig writes them). */
const FEDORA_CONFIG: RunningConfig = {
  source: '/boot/config-6.5.6-300.fc39.x86_64',
  installed: [],
  options: {
    CONFIG_CC_VERSION_TEXT: '"gcc (GCC) 13.2.1 20230918 (Red Hat 13.2.1-3)"',
    CONFIG_CC_IS_GCC: 'y',
    CONFIG_GCC_VERSION: '130201',
    CONFIG_LOCALVERSION: '""',
    CONFIG_LOCALVERSION_AUTO: 'n',
    CONFIG_KERNEL_ZSTD: 'y',
    CONFIG_DEFAULT_HOSTNAME: '"(none)"',
    CONFIG_SYSVIPC: 'y',
    CONFIG_POSIX_MQUEUE: 'y',
    CONFIG_AUDIT: 'y',
    CONFIG_AUDITSYSCALL: 'y',
    CONFIG_BPF_SYSCALL: 'y',
    CONFIG_PREEMPT_DYNAMIC: 'y',
    CONFIG_CGROUPS: 'y',
    CONFIG_MODULES: 'y',
    CONFIG_MODULE_SIG: 'y',
    CONFIG_BTRFS_FS: 'y',
    CONFIG_XFS_FS: 'm',
    CONFIG_EXT4_FS: 'y',
    CONFIG_KVM: 'm',
    CONFIG_ACPI: 'y',
    CONFIG_DEBUG_INFO_BTF: 'y',
  },
};

const ARCH_CONFIG: RunningConfig = {
  source: '/proc/config.gz',
  installed: [],
  options: {
    CONFIG_CC_VERSION_TEXT: '"gcc (GCC) 13.2.1 20230801"',
    CONFIG_CC_IS_GCC: 'y',
    CONFIG_GCC_VERSION: '130201',
    CONFIG_LOCALVERSION: '""',
    CONFIG_LOCALVERSION_AUTO: 'n',
    CONFIG_KERNEL_ZSTD: 'y',
    CONFIG_DEFAULT_HOSTNAME: '"archlinux"',
    CONFIG_SYSVIPC: 'y',
    CONFIG_POSIX_MQUEUE: 'y',
    CONFIG_AUDIT: 'y',
    CONFIG_BPF_SYSCALL: 'y',
    CONFIG_PREEMPT_DYNAMIC: 'y',
    CONFIG_MODULES: 'y',
    CONFIG_EXT4_FS: 'm',
    CONFIG_BTRFS_FS: 'm',
    CONFIG_VFAT_FS: 'm',
    CONFIG_EFI_STUB: 'y',
    CONFIG_KVM: 'm',
    CONFIG_ACPI: 'y',
  },
};

/**
 * Debian's running config: the fixture (the first lines of Debian's amd64 config) and a few options
 * from further down the same file that the cases turn on and off.
 */
function debianConfig(): RunningConfig {
  const c = parsed('config', 'debian12-grub');
  return {
    source: c.source,
    installed: c.installed ?? [],
    options: {
      ...c.options,
      CONFIG_MODULES: 'y',
      CONFIG_BLK_DEV_INITRD: 'y',
      CONFIG_ACPI: 'y',
      CONFIG_KVM: 'm',
      CONFIG_EXT4_FS: 'y',
    },
  };
}

type Parsed<F extends keyof typeof FAMILIES> = ReturnType<(typeof FAMILIES)[F]['parse']>;
const parsed = <F extends keyof typeof FAMILIES>(family: F, fixture: string): Parsed<F> =>
  (FAMILIES[family].parse as (s: Record<string, string>) => Parsed<F>)(fixtureSections(family, fixture));

/**
 * A host as the fact fixtures describe it. The Debian hosts are settled first: the fixture's
 * grubenv has a pending grub-reboot (next_entry) and a saved_entry for the older kernel; here the
 * host boots what it runs, and nothing is armed.
 */
export function baseFacts(kind: BaseHost): HostFacts {
  let f: Omit<HostFacts, 'digest'>;
  if (kind === 'fedora39') {
    const kernels = parsed('kernels', 'fedora39');
    f = {
      factsVersion: 1,
      host: 'ssh://root@db-1.example.org:22',
      system: parsed('system', 'fedora39'),
      kernels,
      config: FEDORA_CONFIG,
      dkms: NO_DKMS,
      initramfs: parsed('initramfs', 'fedora39'),
      boot: linkBootReleases(parsed('boot', 'fedora39'), kernels),
      space: parsed('space', 'fedora39'),
      receipts: { receipts: [], pending: [], trials: [], errors: [] },
      tools: FEDORA_TOOLS,
      unreadable: [],
    };
  } else if (kind === 'arch') {
    const kernels = parsed('kernels', 'arch');
    const boot = linkBootReleases(parsed('boot', 'arch'), kernels);
    f = {
      factsVersion: 1,
      host: 'ssh://root@archbox:22',
      system: parsed('system', 'arch'),
      kernels,
      config: ARCH_CONFIG,
      dkms: NO_DKMS,
      initramfs: parsed('initramfs', 'arch-with-dracut'),
      // The fixture's loader has a one-shot armed (`bootctl set-oneshot arch-fallback.conf`): settled.
      boot: {
        ...boot,
        oneshot: null,
        systemdBoot: boot.systemdBoot && { ...boot.systemdBoot, efiOneShot: null },
      },
      space: {
        boot: fsSpace('/boot', '/dev/nvme0n1p1', '/boot', 1071624192, 151232512, 920391680),
        modules: fsSpace('/lib/modules', '/dev/nvme0n1p2', '/', 510027366400, 31457280000, 452658675712),
      },
      receipts: { receipts: [], pending: [], trials: [], errors: [] },
      tools: ARCH_TOOLS,
      unreadable: [],
    };
  } else {
    const kernels = parsed('kernels', 'debian12-grub');
    const bootFixture =
      kind === 'debian12-grub-default0'
        ? 'debian12-grub-default0'
        : kind === 'debian12-chroot'
          ? 'debian12-overlay-chroot-real'
          : 'debian12-grub';
    const system = parsed('system', 'debian12-grub');
    f = {
      factsVersion: 1,
      host: kind === 'debian12-chroot' ? 'chroot:/srv/rootfs' : 'ssh://root@web-1:22',
      system,
      kernels,
      config: debianConfig(),
      dkms: parsed('dkms', 'debian12-grub'),
      initramfs: parsed('initramfs', 'debian12-grub'),
      boot: linkBootReleases(parsed('boot', bootFixture), kernels),
      space: DEBIAN_SPACE,
      receipts: { receipts: [], pending: [], trials: [], errors: [] },
      tools: kind === 'debian12-chroot' ? { ...DEBIAN_TOOLS, 'update-grub': null } : DEBIAN_TOOLS,
      unreadable: [],
    };
    if (kind === 'debian12-grub') setGrubDefault(f, advancedId(system.running ?? ''));
  }
  return withDigest(f);
}

/** The facts with their digest recomputed (after edits). */
export function withDigest(f: Omit<HostFacts, 'digest'> & { digest?: string }): HostFacts {
  const { digest: _old, ...rest } = f;
  return { ...rest, digest: factsDigest(rest) };
}

// ── edits: what apply (or the distribution) would have left on a host ─────────────────────────

export const advancedId = (release: string) =>
  `gnulinux-advanced-${DEBIAN_UUID}>gnulinux-${release}-advanced-${DEBIAN_UUID}`;
export const kfEntryId = (release: string) => `kernelfile-${release}`;
export const DEBIAN_OPTIONS = `root=UUID=${DEBIAN_UUID} ro quiet`;
export const DEBIAN_TITLE = (release: string) => `Debian GNU/Linux 12 (bookworm), with Linux ${release}`;

/**
 * Debian's grub.cfg after update-grub: 10_linux's "Debian GNU/Linux" (the newest kernel by version)
 * and its "Advanced options" submenu (each kernel, newest first, and its recovery entry), then the
 * entries /etc/grub.d/41_kernelfile adds (kept from `f.boot.entries`).
 */
export function rebuildDebianMenu(f: Omit<HostFacts, 'digest'>): void {
  const file = '/boot/grub/grub.cfg';
  const releases = f.kernels
    .filter((k) => k.image)
    .map((k) => k.release)
    .sort((a, b) => compareVersions(b, a));
  const sub = { id: `gnulinux-advanced-${DEBIAN_UUID}`, title: 'Advanced options for Debian GNU/Linux' };
  const entry = (r: string, recovery: boolean, index: string, submenu: BootEntry['submenu']): BootEntry => ({
    id: submenu
      ? `${sub.id}>gnulinux-${r}-${recovery ? 'recovery' : 'advanced'}-${DEBIAN_UUID}`
      : `gnulinux-simple-${DEBIAN_UUID}`,
    title: submenu
      ? `Debian GNU/Linux, with Linux ${r}${recovery ? ' (recovery mode)' : ''}`
      : 'Debian GNU/Linux',
    file,
    submenu,
    index,
    kernel: `/boot/vmlinuz-${r}`,
    initrd: [`/boot/initrd.img-${r}`],
    options: `root=UUID=${DEBIAN_UUID} ro ${recovery ? 'single' : 'quiet'}`,
    release: r,
  });
  const entries: BootEntry[] = [];
  const [newest] = releases;
  if (newest) entries.push(entry(newest, false, '0', null));
  releases.forEach((r, i) => {
    entries.push(entry(r, false, `1>${2 * i}`, sub), entry(r, true, `1>${2 * i + 1}`, sub));
  });
  // 41_kernelfile reads /etc/kernelfile/grub/*.entry in the shell's glob order.
  const ours = f.boot.entries
    .filter((e) => e.id.startsWith('kernelfile-'))
    .sort((a, b) => byteOrder(a.id, b.id));
  ours.forEach((e, i) => {
    entries.push({ ...e, index: String(2 + i) });
  });
  f.boot = { ...f.boot, entries };
}

/** GRUB: the default by id (grubenv saved_entry), as grub-set-default leaves it. */
export function setGrubDefault(f: Omit<HostFacts, 'digest'>, id: string, next: string | null = null): void {
  const grub = f.boot.grub;
  if (!grub) throw new Error('setGrubDefault: not a GRUB host');
  const { next_entry: _consumed, ...kept } = grub.env;
  const env: Record<string, string> = { ...kept, saved_entry: id };
  if (next) env.next_entry = next;
  f.boot = { ...f.boot, default: id, oneshot: next, grub: { ...grub, env } };
}

export interface Install {
  release: string;
  buildId: string;
  version: string;
  /** The kernelfile's name in the receipt (null: no receipt, e.g. an apply that did not finish). */
  name: string | null;
  installedAt: string;
  modules?: { name: string; version: string }[];
  initramfsModules?: string[];
  /** The loader entry apply wrote (null: none). */
  entry?: { title: string; cmdline: string } | null;
  /** The sidecar check: [] all files match; the paths that do not. */
  drift?: string[];
  /** The initramfs was made (false: an apply stopped before it). */
  initramfs?: boolean;
  /** The build's config (/boot/config-REL), as the config facts read it for the newest receipts. */
  config?: Record<string, string>;
}

const BOOT_SIZES = { vmlinuz: 8421568, 'System.map': 4731904, config: 257318, initrd: 37102411 };
/** The /boot files of a kernelfile build (image, System.map, config), as its manifest lists them. */
export const BUILD_BOOT_BYTES = BOOT_SIZES.vmlinuz + BOOT_SIZES['System.map'] + BOOT_SIZES.config;

function initrdPath(tool: InitramfsTool | null, release: string): string | null {
  if (!tool) return null;
  return tool === 'initramfs-tools' ? `/boot/initrd.img-${release}` : `/boot/initramfs-${release}.img`;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A module source in /usr/src with its dkms.conf (what `dkms add` reads). */
export function addDkmsSource(
  f: Omit<HostFacts, 'digest'>,
  name: string,
  version: string,
  conf: string,
): void {
  const dir = `/usr/src/${name}-${version}`;
  if (f.dkms.sources.some((s) => s.dir === dir)) return;
  f.dkms = {
    ...f.dkms,
    sources: [...f.dkms.sources, { dir, name, version, conf }].sort((a, b) => byteOrder(a.dir, b.dir)),
  };
}

export function addDkmsEntry(
  f: Omit<HostFacts, 'digest'>,
  e: Omit<DkmsEntry, 'rawState' | 'note' | 'arch'>,
): void {
  const entry: DkmsEntry = {
    name: e.name,
    version: e.version,
    kernel: e.kernel,
    arch: e.kernel ? 'x86_64' : null,
    state: e.state,
    rawState: null,
    note: null,
  };
  const key = (x: DkmsEntry) => `${x.name}/${x.version}/${x.kernel ?? ''}`;
  f.dkms = {
    ...f.dkms,
    modules: [...f.dkms.modules.filter((x) => key(x) !== key(entry)), entry].sort((a, b) =>
      byteOrder(key(a), key(b)),
    ),
  };
}

/**
 * A release installed the way apply installs it: /boot files, modules tree, DKMS modules built for
 * it, its initramfs, the loader entry, and the receipt with its sidecar check.
 */
export function installRelease(f: Omit<HostFacts, 'digest'>, o: Install): void {
  const r = o.release;
  const initramfs = o.initramfs === false ? null : initrdPath(f.initramfs.tool, r);
  const kernel: InstalledKernel = {
    release: r,
    pkgbase: null,
    image: `/boot/vmlinuz-${r}`,
    vmlinux: null,
    systemMap: `/boot/System.map-${r}`,
    config: `/boot/config-${r}`,
    initramfs,
    initramfsExtra: [],
    modules: { dir: `/lib/modules/${r}`, build: 'present', modulesDep: true, image: null },
    bootBytes: BUILD_BOOT_BYTES + (initramfs ? BOOT_SIZES.initrd : 0),
  };
  f.kernels = [...f.kernels.filter((k) => k.release !== r), kernel].sort((a, b) =>
    byteOrder(a.release, b.release),
  );
  if (initramfs)
    f.initramfs = {
      ...f.initramfs,
      images: [...new Set([...f.initramfs.images, initramfs])].sort(byteOrder),
    };
  for (const m of o.modules ?? [])
    addDkmsEntry(f, { name: m.name, version: m.version, kernel: r, state: 'installed' });
  const entries: string[] = [];
  if (o.entry) {
    const loader = f.boot.loader;
    if (loader === 'grub') {
      const id = kfEntryId(r);
      entries.push(id);
      f.boot = {
        ...f.boot,
        entries: [
          ...f.boot.entries.filter((e) => e.id !== id),
          {
            id,
            title: o.entry.title,
            file: '/boot/grub/grub.cfg',
            submenu: null,
            index: null,
            kernel: `/boot/vmlinuz-${r}`,
            initrd: initramfs ? [initramfs] : [],
            options: o.entry.cmdline,
            release: r,
          },
        ],
      };
      rebuildDebianMenu(f);
    } else if (loader === 'grubby') {
      // grubby --add-kernel writes /boot/loader/entries/<machine-id>-<release>.conf (grubby-bls).
      const id = `${f.system.machineId}-${r}`;
      entries.push(id);
      const bls: BootEntry = {
        id,
        title: o.entry.title,
        file: `/boot/loader/entries/${id}.conf`,
        submenu: null,
        index: null,
        kernel: `/vmlinuz-${r}`,
        initrd: initramfs ? [initramfs.replace(/^\/boot/, '')] : [],
        options: o.entry.cmdline,
        release: r,
      };
      // blscfg lists BLS entries newest version first, then grub.cfg's own entries.
      const blsEntries = [
        ...f.boot.entries.filter((e) => e.file.startsWith('/boot/loader/') && e.id !== id),
        bls,
      ]
        .sort((a, b) => compareVersions(b.release ?? '', a.release ?? ''))
        .map((e, i) => ({ ...e, index: String(i) }));
      const rest = f.boot.entries
        .filter((e) => !e.file.startsWith('/boot/loader/'))
        .map((e, i) => ({ ...e, index: String(blsEntries.length + i) }));
      f.boot = { ...f.boot, entries: [...blsEntries, ...rest] };
    } else throw new Error(`installRelease: no entry builder for loader ${loader}`);
  }
  if (o.name === null) return;
  const files = [
    { path: `/boot/System.map-${r}`, size: BOOT_SIZES['System.map'] },
    { path: `/boot/config-${r}`, size: BOOT_SIZES.config },
    { path: `/boot/vmlinuz-${r}`, size: BOOT_SIZES.vmlinuz },
    { path: `/lib/modules/${r}/kernel/fs/btrfs/btrfs.ko`, size: 3018472 },
  ].map((x) => ({ path: x.path, sha256: fakeId(`${o.buildId} ${x.path}`), size: x.size }));
  const data: Receipt = {
    receiptVersion: 1,
    name: o.name,
    kernelfile: { path: 'kernelfile.yaml', sha256: fakeId(`kernelfile.yaml of ${o.name} for ${r}`) },
    release: r,
    version: o.version,
    buildId: o.buildId,
    arch: 'x86_64',
    modules: o.modules ?? [],
    initramfs,
    initramfsModules: o.initramfsModules ?? [],
    entries,
    loader: f.boot.loader === 'grub' ? 'grub-mkconfig' : f.boot.loader,
    installedAt: o.installedAt,
    host: f.host,
    files,
  };
  const receipt: ReceiptRecord = {
    file: `/var/lib/kernelfile/${r}.json`,
    release: r,
    data,
    drift: o.drift ?? [],
  };
  f.receipts = {
    ...f.receipts,
    receipts: [...f.receipts.receipts.filter((x) => x.release !== r), receipt].sort((a, b) =>
      byteOrder(a.release, b.release),
    ),
  };
  if (o.config) installedConfig(f, r, o.config);
}

/**
 * /boot/config-REL of an installed release as the config facts read it: only for the
 * INSTALLED_CONFIGS newest receipts (by install time, as apply writes them), newest first.
 */
export function installedConfig(
  f: Omit<HostFacts, 'digest'>,
  release: string,
  options: Record<string, string>,
): void {
  const at = (r: string) => f.receipts.receipts.find((x) => x.release === r)?.data.installedAt ?? '';
  const all = [
    ...(f.config.installed ?? []).filter((c) => c.release !== release),
    { release, path: `/boot/config-${release}`, options, error: null },
  ].sort((a, b) => byteOrder(at(b.release), at(a.release)));
  f.config = { ...f.config, installed: all.slice(0, INSTALLED_CONFIGS) };
}

/** The journal of an apply that stopped before its receipt (/var/lib/kernelfile/pending/<release>.json). */
export function pendingJournal(
  f: Omit<HostFacts, 'digest'>,
  release: string,
  buildId: string,
  startedAt: string,
): void {
  // Without the kernelfile's name, as the checked-in facts.json of the golden cases have it (their
  // digests are in the golden plans); decodeJournal requires it of a journal read from a host.
  const data = { release, buildId, startedAt, host: f.host } as Journal;
  f.receipts = {
    ...f.receipts,
    pending: [
      ...f.receipts.pending,
      { file: `/var/lib/kernelfile/pending/${release}.json`, release, data, drift: null },
    ],
  };
}

/** The Debian host runs `release` (after a reboot into it): uname -r, /proc/cmdline and its config. */
export function runDebian(
  f: Omit<HostFacts, 'digest'>,
  release: string,
  options: Record<string, string>,
): void {
  f.system = {
    ...f.system,
    running: release,
    kernelVersion: '#1 SMP PREEMPT_DYNAMIC Wed Jan 15 09:12:44 UTC 2025',
    cmdline: `BOOT_IMAGE=/boot/vmlinuz-${release} ${DEBIAN_OPTIONS}`,
  };
  f.config = { ...f.config, source: `/boot/config-${release}`, options };
}

// ── cases on disk ────────────────────────────────────────────────────────────────────────────

export function planCases(): string[] {
  if (!existsSync(PLAN_FIXTURE_DIR)) return [];
  return readdirSync(PLAN_FIXTURE_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(PLAN_FIXTURE_DIR, d.name, 'kernelfile.yaml')))
    .map((d) => d.name)
    .sort();
}

export const caseDir = (name: string) => join(PLAN_FIXTURE_DIR, name);

export function readJson<T>(name: string, file: string): T {
  return JSON.parse(readFileSync(join(caseDir(name), file), 'utf8')) as T;
}

export function writeJson(name: string, file: string, value: unknown): void {
  writeFileSync(join(caseDir(name), file), `${JSON.stringify(value, null, 2)}\n`);
}

export interface LoadedCase {
  name: string;
  bytes: Uint8Array;
  spec: Spec;
  warnings: string[];
  kernelfile: { path: string; sha256: string };
  build: BuildJson;
  facts: HostFacts;
  desired: Desired;
}

/** Module paths as plans show them: relative to the repository (`test/fixtures/plan/<case>/…`). */
export function caseResolver(name: string): (written: string) => string {
  return (w) => (w.startsWith('/') ? posix.normalize(w) : posix.join(PLAN_FIXTURE_REL, name, w));
}

/** Validate the case's kernelfile with the real validator and build Desired from it and build.json. */
export function loadCase(name: string): LoadedCase {
  const dir = caseDir(name);
  const bytes = readFileSync(join(dir, 'kernelfile.yaml'));
  const r = validate(bytes, 'kernelfile.yaml', {
    fs: nodeFileView,
    kernelfile: join(dir, 'kernelfile.yaml'),
    home: '/root',
  });
  if (!r.ok)
    throw new Error(
      `${name}/kernelfile.yaml is not valid:\n${r.errors.map((e) => `  ${e.line}:${e.column} ${e.message}`).join('\n')}`,
    );
  const build = readJson<BuildJson>(name, 'build.json');
  const facts = readJson<HostFacts>(name, 'facts.json');
  const kernelfile = { path: 'kernelfile.yaml', sha256: sha256(bytes) };
  const { moduleChecks, ...buildFacts } = build;
  const desired = desiredFrom(r.value.spec, kernelfile, caseResolver(name), buildFacts, moduleChecks);
  return {
    name,
    bytes,
    spec: r.value.spec,
    warnings: r.warnings.map((w) => w.message),
    kernelfile,
    build,
    facts,
    desired,
  };
}

/** What the CLI passes the planner for a host: the family digests, and whether it is a root filesystem (chroot). */
export function planOptions(facts: HostFacts): PlanOptions {
  return { factsFamilies: familyDigests(facts), image: facts.host.startsWith('chroot:') };
}

export interface PlannedCase extends LoadedCase {
  plan: HostPlan;
  text: string;
  json: string;
}

export function planCase(name: string): PlannedCase {
  const c = loadCase(name);
  const p = plan(c.desired, c.facts, planOptions(c.facts));
  const text = renderHostPlan(p, { style: plain, configDiff: 'summary' });
  // The golden plan.json is a valid `plan --json` document, stamped with a fixed version and time.
  const doc = validDocument(
    'plan',
    planJson(planFile({ ...c.kernelfile, name: c.spec.name }, [p]), TEST_STAMP),
  );
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  return { ...c, plan: p, text, json };
}
