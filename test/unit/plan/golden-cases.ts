/**
 * The inputs of the planner golden cases (test/fixtures/plan/<case>/facts.json and build.json):
 * each a host from the fact fixtures, edited into the state the case is about, and what the
 * controller resolved for the case's kernelfile. `UPDATE_PLAN_INPUTS=1 npx vitest run
 * test/unit/plan/golden.test.ts` writes them; the kernelfiles (and the files they name) are
 * written by hand.
 */

import type { ModuleCheck } from '../../../src/dkms/module-check.js';
import type { HostFacts } from '../../../src/facts/types.js';
import {
  addDkmsSource,
  BUILD_BOOT_BYTES,
  type BuildJson,
  baseFacts,
  DEBIAN_OPTIONS,
  DEBIAN_TITLE,
  fakeId,
  fsSpace,
  type Install,
  installRelease,
  kfEntryId,
  pendingJournal,
  releaseOf,
  runDebian,
  setGrubDefault,
  withDigest,
} from '../../helpers/plan-fixtures.js';

type Facts = Omit<HostFacts, 'digest'>;

// ── the web servers' kernelfile (Debian 12, GRUB) ────────────────────────────────────────────

const HELLO = { name: 'kernelfile-hello', version: '1.0' };
const ACPI_CALL = { name: 'acpi-call', version: '1.2.2' };
const ACPI_CALL_NEW = { name: 'acpi-call', version: '1.2.3' };
/** /usr/src/acpi-call-1.2.2/dkms.conf as Debian's acpi-call-dkms installs it. */
export const ACPI_CALL_CONF = `PACKAGE_NAME="acpi-call"
PACKAGE_VERSION="1.2.2"
BUILT_MODULE_NAME[0]="acpi_call"
DEST_MODULE_LOCATION[0]="/updates/dkms"
MAKE[0]="make KDIR=\${kernel_source_dir}"
CLEAN="make clean"
AUTOINSTALL="yes"
BUILD_EXCLUSIVE_CONFIG="CONFIG_ACPI"
`;
const WMI_EXTRA = { name: 'wmi-extra', version: '0.4' };
/**
 * /usr/src/wmi-extra-0.4/dkms.conf in the shape some distribution -dkms packages use: it sources the
 * kernel's .config and, without the option it needs, sets BUILD_EXCLUSIVE_KERNEL to a message.
 */
export const WMI_EXTRA_CONF = `PACKAGE_NAME="wmi-extra"
PACKAGE_VERSION="0.4"
BUILT_MODULE_NAME[0]="wmi_extra"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
if [ -r "\${kernel_source_dir}/.config" ]; then
  . "\${kernel_source_dir}/.config"
fi
if [ "\${CONFIG_ACPI_WMI}" != "y" ] && [ "\${CONFIG_ACPI_WMI}" != "m" ]; then
  BUILD_EXCLUSIVE_KERNEL="needs CONFIG_ACPI_WMI"
fi
`;
/** examples/qemu-tiny/modules/hello/dkms.conf, the module the cases declare. */
const HELLO_CONF = `PACKAGE_NAME="kernelfile-hello"
PACKAGE_VERSION="1.0"
`;

const id = {
  web117: fakeId('web 6.1.117'),
  web118: fakeId('web 6.1.118'),
  web119: fakeId('web 6.1.119'),
  web119mq: fakeId('web 6.1.119, POSIX_MQUEUE off'),
  web119patch: fakeId('web 6.1.119, swappiness patch'),
  web120: fakeId('web 6.1.120'),
  db: fakeId('db 6.6.8'),
  desk: fakeId('desk 6.6.8'),
  image: fakeId('image 6.1.119'),
};
const web = (version: string, buildId: string) => releaseOf(version, '-web', buildId);
const R = {
  r117: web('6.1.117', id.web117),
  r118: web('6.1.118', id.web118),
  r119: web('6.1.119', id.web119),
  r119mq: web('6.1.119', id.web119mq),
  r119patch: web('6.1.119', id.web119patch),
  r120: web('6.1.120', id.web120),
};

const debianRunning = () => baseFacts('debian12-grub').config.options;
/** The web kernel's effective config: Debian's (config.base: running) with config.set applied. */
const webEffective = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...debianRunning(),
  CONFIG_LOCALVERSION: '"-web"',
  CONFIG_KERNEL_XZ: 'n',
  CONFIG_KERNEL_ZSTD: 'y',
  CONFIG_WATCH_QUEUE: 'y',
  CONFIG_AUDIT: 'n',
  CONFIG_AUDITSYSCALL: 'n',
  ...extra,
});
const WEB_REQUESTED = ['CONFIG_AUDIT', 'CONFIG_KERNEL_ZSTD', 'CONFIG_WATCH_QUEUE'];

function check(name: string, version: string, confFile: string, unmet: string[] = []): ModuleCheck {
  return {
    name,
    version,
    confFile,
    unmet,
    error: null,
    builtModules: [name === HELLO.name ? 'kernelfile_hello' : name.replace(/-/g, '_')],
  };
}
const helloCheck = () => check(HELLO.name, HELLO.version, 'examples/qemu-tiny/modules/hello/dkms.conf');
const acpiCheck = (unmet: string[] = [], version = ACPI_CALL.version) =>
  check(ACPI_CALL.name, version, `ssh://root@web-1:22:/usr/src/acpi-call-${version}/dkms.conf`, unmet);

function build(
  release: string,
  buildId: string,
  effective: Record<string, string>,
  requested: string[],
  moduleChecks: ModuleCheck[],
  cached = true,
): BuildJson {
  return {
    release,
    buildId,
    arch: 'x86_64',
    effective,
    requested: [...requested].sort(),
    artifacts: { cached, bootBytes: cached ? BUILD_BOOT_BYTES : null },
    moduleChecks,
  };
}

const web119 = (checks = [helloCheck()]) => build(R.r119, id.web119, webEffective(), WEB_REQUESTED, checks);
/** One more config.set: POSIX_MQUEUE off (and what depends on it). */
const web119mq = () =>
  build(
    R.r119mq,
    id.web119mq,
    webEffective({ CONFIG_POSIX_MQUEUE: 'n', CONFIG_POSIX_MQUEUE_SYSCTL: 'n' }),
    [...WEB_REQUESTED, 'CONFIG_POSIX_MQUEUE'],
    [helloCheck()],
  );
const web120 = () => build(R.r120, id.web120, webEffective(), WEB_REQUESTED, [helloCheck()]);

/** A web kernel as apply installed it: hello built for it, our GRUB entry, the receipt. */
function installWeb(
  f: Facts,
  release: string,
  buildId: string,
  installedAt: string,
  more: Partial<Install> = {},
): void {
  const version = release.split('-')[0] as string;
  addDkmsSource(f, HELLO.name, HELLO.version, HELLO_CONF);
  installRelease(f, {
    release,
    buildId,
    version,
    name: 'web',
    installedAt,
    modules: [HELLO],
    initramfsModules: ['kernelfile_hello'],
    entry: { title: DEBIAN_TITLE(release), cmdline: DEBIAN_OPTIONS },
    config: webEffective(),
    ...more,
  });
}

/** Debian 12 with the web kernel 6.1.119 installed by kernelfile, running and the default. */
function webConverged(): Facts {
  const f: Facts = baseFacts('debian12-grub');
  installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z');
  runDebian(f, R.r119, webEffective());
  setGrubDefault(f, kfEntryId(R.r119));
  return f;
}

// ── the cases ────────────────────────────────────────────────────────────────────────────────

export interface CaseInputs {
  facts: HostFacts;
  build: BuildJson;
}

export const CASES: Record<string, () => CaseInputs> = {
  /** Nothing of kernelfile's yet; GRUB_DEFAULT=0 (Debian's shipped default), built but not cached. */
  'fresh-grub': () => ({
    facts: baseFacts('debian12-grub-default0'),
    build: build(R.r119, id.web119, webEffective(), WEB_REQUESTED, [helloCheck()], false),
  }),

  converged: () => ({ facts: withDigest(webConverged()), build: web119() }),

  /** 6.1.119 → 6.1.120; keep: 2 keeps 6.1.119 (the fallback). */
  'version-bump': () => ({ facts: withDigest(webConverged()), build: web120() }),

  /** The same with 6.1.118 installed before 6.1.119: beyond keep, pruned. */
  'version-bump-prune': () => {
    const f = webConverged();
    installWeb(f, R.r118, id.web118, '2024-12-09T08:02:13Z');
    return { facts: withDigest(f), build: web120() };
  },

  /** Same version, one more config.set: another build id, so another release beside the first. */
  'config-only-change': () => ({ facts: withDigest(webConverged()), build: web119mq() }),

  /**
   * The web kernel 6.1.119 was applied but the host has not rebooted into it (it still runs
   * Debian's 6.1.0-18-amd64); the kernelfile now turns POSIX_MQUEUE off. The Kconfig difference
   * is against the installed build (what changed since the last apply), not the running kernel.
   */
  'changed-since-apply': () => {
    const f: Facts = baseFacts('debian12-grub');
    installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z');
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web119mq() };
  },

  /** Same version and config, one patch more: another build id. */
  'patch-added': () => ({
    facts: withDigest(webConverged()),
    build: build(R.r119patch, id.web119patch, webEffective(), WEB_REQUESTED, [helloCheck()]),
  }),

  /** Converged, and the kernelfile now also wants acpi-call (added on the host by its -dkms package). */
  'dkms-added': () => {
    const f = webConverged();
    addDkmsSource(f, ACPI_CALL.name, ACPI_CALL.version, ACPI_CALL_CONF);
    return { facts: withDigest(f), build: web119([helloCheck(), acpiCheck()]) };
  },

  /** acpi-call 1.2.2 was in the kernelfile (and the receipt); it now declares 1.2.3, whose source is on the host. */
  'dkms-upgraded': () => {
    const f: Facts = baseFacts('debian12-grub');
    addDkmsSource(f, ACPI_CALL.name, ACPI_CALL.version, ACPI_CALL_CONF);
    addDkmsSource(f, ACPI_CALL_NEW.name, ACPI_CALL_NEW.version, ACPI_CALL_CONF.replace('1.2.2', '1.2.3'));
    installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z', {
      modules: [HELLO, ACPI_CALL],
      initramfsModules: ['kernelfile_hello'],
    });
    runDebian(f, R.r119, webEffective());
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web119([helloCheck(), acpiCheck([], ACPI_CALL_NEW.version)]) };
  },

  /** Converged; the kernelfile gives the entry another title, command line and root, and the initramfs a module more. */
  'entry-changed': () => ({ facts: withDigest(webConverged()), build: web119() }),

  /** acpi-call was in the kernelfile (and the receipt) and is no longer. */
  'dkms-removed': () => {
    const f: Facts = baseFacts('debian12-grub');
    addDkmsSource(f, ACPI_CALL.name, ACPI_CALL.version, ACPI_CALL_CONF);
    installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z', {
      modules: [HELLO, ACPI_CALL],
      initramfsModules: ['kernelfile_hello'],
    });
    runDebian(f, R.r119, webEffective());
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web119() };
  },

  /**
   * Three web kernels installed in turn, 6.1.117, 6.1.118, 6.1.119 (the default); the host runs
   * 6.1.118 (booted by hand from the menu). With 6.1.120, keep: 2 would remove both older ones.
   */
  'prune-running': () => {
    const f: Facts = baseFacts('debian12-grub');
    installWeb(f, R.r117, id.web117, '2024-11-04T14:30:00Z');
    installWeb(f, R.r118, id.web118, '2024-12-09T08:02:13Z');
    installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z');
    runDebian(f, R.r118, webEffective());
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web120() };
  },

  /** A separate 243 MiB /boot with 30 MiB free. */
  'boot-too-small': () => {
    const f: Facts = baseFacts('debian12-grub');
    f.space = { ...f.space, boot: fsSpace('/boot', '/dev/vda1', '/boot', 254967808, 218103808, 31457280) };
    return { facts: withDigest(f), build: web119() };
  },

  /** Converged, but the image no longer matches the receipt's sidecar. */
  drifted: () => {
    const f: Facts = baseFacts('debian12-grub');
    installWeb(f, R.r119, id.web119, '2025-01-20T10:16:41Z', { drift: [`/boot/vmlinuz-${R.r119}`] });
    runDebian(f, R.r119, webEffective());
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web119() };
  },

  /** The kernelfile has a DKMS module; the host has no dkms. */
  'no-dkms': () => {
    const f: Facts = baseFacts('debian12-grub');
    f.dkms = { version: null, from: 'tree', modules: [], sources: [] };
    f.tools = { ...f.tools, dkms: null };
    return { facts: withDigest(f), build: web119() };
  },

  /** acpi-call's BUILD_EXCLUSIVE_CONFIG wants CONFIG_ACPI, which the kernelfile turns off. */
  'module-excluded': () => {
    const f: Facts = baseFacts('debian12-grub');
    addDkmsSource(f, ACPI_CALL.name, ACPI_CALL.version, ACPI_CALL_CONF);
    const buildId = fakeId('web 6.1.119, ACPI off');
    return {
      facts: withDigest(f),
      build: build(
        releaseOf('6.1.119', '-web', buildId),
        buildId,
        webEffective({ CONFIG_ACPI: 'n' }),
        [...WEB_REQUESTED, 'CONFIG_ACPI'],
        [acpiCheck(['requires CONFIG_ACPI, which is not set'])],
      ),
    };
  },

  /**
   * wmi-extra's dkms.conf (from its -dkms package) sources the kernel's .config and sets
   * BUILD_EXCLUSIVE_KERNEL to "needs CONFIG_ACPI_WMI" without it; the web kernel has no ACPI_WMI.
   * The preflight evaluated it again with CONFIG_ACPI_WMI=y: that lifts it. The plan names the
   * option instead of asking for another kernel version.
   */
  'module-excluded-message': () => {
    const f: Facts = baseFacts('debian12-grub');
    addDkmsSource(f, WMI_EXTRA.name, WMI_EXTRA.version, WMI_EXTRA_CONF);
    const c: ModuleCheck = {
      ...check(WMI_EXTRA.name, WMI_EXTRA.version, 'ssh://root@web-1:22:/usr/src/wmi-extra-0.4/dkms.conf', [
        `requires a kernel matching needs CONFIG_ACPI_WMI (this kernel is ${R.r119})`,
      ]),
      kernelExclusion: {
        pattern: 'needs CONFIG_ACPI_WMI',
        versionPattern: false,
        tried: ['CONFIG_ACPI_WMI'],
        liftedBy: [{ symbol: 'CONFIG_ACPI_WMI', value: 'y' }],
      },
    };
    return { facts: withDigest(f), build: build(R.r119, id.web119, webEffective(), WEB_REQUESTED, [c]) };
  },

  /** boot.trial: 6.1.120 installed and armed with grub-reboot; the host still runs 6.1.119. */
  'trial-pending': () => {
    const f = webConverged();
    installWeb(f, R.r120, id.web120, '2025-02-03T09:00:12Z');
    setGrubDefault(f, kfEntryId(R.r119), kfEntryId(R.r120));
    return { facts: withDigest(f), build: web120() };
  },

  /** The trial boot worked: the host runs 6.1.120 (next_entry consumed); the default is still 6.1.119. */
  'trial-booted': () => {
    const f = webConverged();
    installWeb(f, R.r120, id.web120, '2025-02-03T09:00:12Z');
    runDebian(f, R.r120, webEffective());
    setGrubDefault(f, kfEntryId(R.r119));
    return { facts: withDigest(f), build: web120() };
  },

  /** An apply that stopped after installing the kernel: its journal, files present, no receipt. */
  resumed: () => {
    const f: Facts = baseFacts('debian12-grub');
    installRelease(f, {
      release: R.r119,
      buildId: id.web119,
      version: '6.1.119',
      name: null,
      installedAt: '',
      initramfs: false,
    });
    pendingJournal(f, R.r119, id.web119, '2025-01-20T10:14:05Z');
    return { facts: withDigest(f), build: web119() };
  },

  // ── other loaders ──────────────────────────────────────────────────────────────────────────

  /** A root filesystem being built in a chroot: grub-probe cannot see the device, no grub.cfg yet. */
  'grub-explicit': () => ({ facts: baseFacts('debian12-chroot'), build: imageBuild() }),
  /** A container reached over SSH, its root an overlay: grub-probe fails there too; no `root:`. */
  'grub-explicit-no-root': () => {
    const f: Facts = baseFacts('debian12-chroot');
    f.host = 'ssh://root@build-1:22';
    f.system = { ...f.system, hostname: 'build-1' };
    return { facts: withDigest(f), build: imageBuild() };
  },

  /** Arch with systemd-boot (loader.conf, kernel-install, bootctl) and mkinitcpio. */
  'bls-host': () => {
    const facts = baseFacts('arch');
    return {
      facts,
      build: build(
        releaseOf('6.6.8', '-desk', id.desk),
        id.desk,
        { ...facts.config.options, CONFIG_LOCALVERSION: '"-desk"', CONFIG_KVM: 'y', CONFIG_EXT4_FS: 'y' },
        ['CONFIG_EXT4_FS', 'CONFIG_KVM'],
        [],
      ),
    };
  },

  /** Fedora 39: GRUB with BLS entries managed by grubby, dracut. */
  'grubby-host': () => ({ facts: baseFacts('fedora39'), build: dbBuild() }),

  /** The same host after apply: grubby named the entry <machine-id>-<release>; it is the default. */
  'grubby-converged': () => {
    const f: Facts = baseFacts('fedora39');
    const release = releaseOf('6.6.8', '-db', id.db);
    installRelease(f, {
      release,
      buildId: id.db,
      version: '6.6.8',
      name: 'db',
      installedAt: '2025-01-21T16:40:09Z',
      entry: {
        title: `Fedora Linux 39 (Server Edition), with Linux ${release}`,
        cmdline: 'root=UUID=b7e9a1d3-52c4-4f86-9e0a-7c3d5f1b2e98 ro rhgb quiet',
      },
      config: dbBuild().effective,
    });
    setGrubDefault(f, `${f.system.machineId}-${release}`);
    f.system = { ...f.system, running: release };
    f.config = { ...f.config, source: `/boot/config-${release}`, options: dbBuild().effective };
    return { facts: withDigest(f), build: dbBuild() };
  },
};

function imageBuild(): BuildJson {
  const release = releaseOf('6.1.119', '-image', id.image);
  return build(
    release,
    id.image,
    { ...debianRunning(), CONFIG_LOCALVERSION: '"-image"', CONFIG_VIRTIO_BLK: 'y', CONFIG_VIRTIO_PCI: 'y' },
    ['CONFIG_VIRTIO_BLK', 'CONFIG_VIRTIO_PCI'],
    [],
  );
}

function dbBuild(): BuildJson {
  const facts = baseFacts('fedora39');
  return build(
    releaseOf('6.6.8', '-db', id.db),
    id.db,
    { ...facts.config.options, CONFIG_LOCALVERSION: '"-db"', CONFIG_DEBUG_INFO_BTF: 'n', CONFIG_XFS_FS: 'y' },
    ['CONFIG_DEBUG_INFO_BTF', 'CONFIG_XFS_FS'],
    [],
  );
}
