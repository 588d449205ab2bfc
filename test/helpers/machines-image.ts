/**
 * The base disk images of the VM harness (machines.ts): a Debian bookworm machine that boots through
 * a real boot loader, one image per kind, built once per recipe and cached.
 *
 *   bios   GPT disk (p1 BIOS boot, p2 ESP unused, p3 root ext4 with /boot), SeaBIOS, grub-pc,
 *          initramfs-tools (MODULES=dep)
 *   uefi   same disk, ESP mounted at /boot/efi, OVMF, systemd-boot, dracut (host-only), kernel-install:
 *          the Debian kernel's BLS entry is /boot/efi/loader/entries/<machine-id>-<release>.conf
 *
 * Both: debootstrap --variant=minbase from this machine's apt mirror (rootfs.ts's aptMirror()), fstab
 * by UUID, systemd-networkd DHCP on en*, sshd with root login by key (a test key made at build time),
 * apt/fstrim/e2scrub/dpkg-db-backup timers masked, a fixed /etc/machine-id, hostname kf-vm-KIND.
 *
 * The build (15 to 20 min on a busy 2-core machine, most of it the initramfs made under TCG; printed
 * with timings), nothing mounted on this machine:
 *  1. debootstrap and apt-get in a chroot inside a private mount/pid namespace (rootfs.ts helpers);
 *  2. the disk as a plain file: sfdisk, `mkfs.vfat -C` + dd for the ESP, `mke2fs -d ROOT -E offset=`
 *     for the root; no loop devices;
 *  3. a setup boot of that disk with -kernel/-initrd from the root's /boot: over SSH, the boot loader
 *     is installed (grub-install + update-grub; bootctl install --no-variables + kernel-install add)
 *     and the initramfs remade for this machine (MODULES=dep; dracut host-only), inside the VM,
 *     never in the chroot, then poweroff;
 *  4. a check boot through the boot loader itself (OVMF with a fresh copy of OVMF_VARS_4M.fd for uefi,
 *     which is kept: the image's firmware variables), checked over SSH, then poweroff;
 *  5. `qemu-img convert -c -O qcow2`.
 *
 * Cached in `${KERNELFILE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernelfile-tests}/vm-KIND-HASH/`
 * (HASH: the recipe: suite, mirror, packages, every script and file below), made in a temp directory
 * and renamed into place under a lock (proc.ts makeCacheEntry), so parallel test files share one
 * build. The directory holds:
 *
 *   disk.qcow2                 the base image: tests run on overlays of it, it never changes
 *   id_ed25519{,.pub}          the test key authorized for root
 *   ssh_host_ed25519_key.pub   the host key every clone has (tests pin it in a known_hosts file)
 *   OVMF_VARS_4M.fd            uefi: the firmware variables after the check boot (each VM copies it)
 *   image.json                 release, UUIDs, machine id, default entry, build timings
 *   logs/                      the consoles of the setup and check boots
 *
 * Delete the directory to rebuild it; a changed recipe builds a new one beside it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchMachine, type QemuMachine, type QemuMachineOptions, tail } from './machines-qemu.js';
import { isolated, makeCacheEntry, note, requireCommands, requireRoot, runOk, secs } from './proc.js';
import {
  APT_INSTALL_SH,
  aptMirror,
  CHROOT_MOUNTS_SH,
  IN_ROOT_SH,
  NO_DAEMONS_SH,
  SLIM_SH,
  SUITE,
  testCacheDir,
  VARIANT,
} from './rootfs.js';

export type VmKind = 'bios' | 'uefi';
export const VM_KINDS: readonly VmKind[] = ['bios', 'uefi'];

/** What every VM image adds to minbase (--no-install-recommends). */
const COMMON_PACKAGES = [
  'linux-image-amd64',
  'systemd-sysv',
  'udev',
  'kmod',
  'iproute2',
  'openssh-server',
  'e2fsprogs',
  'procps',
];

/**
 * The packages of each kind. dracut replaces initramfs-tools for uefi (they conflict); zstd and
 * busybox are what initramfs-tools recommends (its compression and its shell); dosfstools: the
 * ESP's fsck at boot.
 */
export const VM_PACKAGES: Record<VmKind, readonly string[]> = {
  bios: [...COMMON_PACKAGES, 'grub-pc', 'initramfs-tools', 'zstd', 'busybox'],
  uefi: [...COMMON_PACKAGES, 'systemd-boot', 'dracut', 'dosfstools'],
};

/** OVMF (Debian's ovmf package): the firmware code, and the variables template each VM copies. */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** The kernel command line of both kinds, after root=UUID=… ro. */
export const VM_CMDLINE = 'console=ttyS0,115200 panic=5';

/** The disk: GPT, sizes in MiB. p1 BIOS boot, p2 ESP (vfat), p3 root (ext4) to the end. */
export const DISK_MIB = 4096;
const P1 = { start: 1, size: 1 };
const P2 = { start: 2, size: 128 };
const P3_START = 130;
const BIOS_BOOT_TYPE = '21686148-6449-6E6F-744E-656564454649';
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const LINUX_FS_TYPE = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const MIB_SECTORS = 2048;

const SFDISK_SCRIPT = [
  'label: gpt',
  'unit: sectors',
  `start=${P1.start * MIB_SECTORS}, size=${P1.size * MIB_SECTORS}, type=${BIOS_BOOT_TYPE}, name="bios-boot"`,
  `start=${P2.start * MIB_SECTORS}, size=${P2.size * MIB_SECTORS}, type=${ESP_TYPE}, name="esp"`,
  `start=${P3_START * MIB_SECTORS}, type=${LINUX_FS_TYPE}, name="root"`,
  '',
].join('\n');

/** The fixed machine id of a kind: kernel-install names the BLS entries with it. */
export function vmMachineId(kind: VmKind): string {
  return createHash('sha256').update(`kernelfile-test-vm-${kind}`).digest('hex').slice(0, 32);
}

export const vmHostname = (kind: VmKind) => `kf-vm-${kind}`;

/** In the build namespace: packages, services. Args: ROOT KIND PKG... */
const CONFIGURE_SH = [
  'set -eu',
  'm=$1; kind=$2; shift 2',
  CHROOT_MOUNTS_SH,
  IN_ROOT_SH,
  NO_DAEMONS_SH,
  SLIM_SH,
  APT_INSTALL_SH,
  'in_root systemctl enable systemd-networkd.service',
  // Nothing that wakes up by itself in the middle of a test.
  'in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer e2scrub_reap.service dpkg-db-backup.timer',
  // No gettys on virtual consoles that nobody sees (-vga none): less to start on one slow vCPU.
  // The serial console keeps its getty.
  'in_root systemctl mask getty-static.service getty@tty1.service',
  `if [ "$kind" = bios ]; then echo 'grub-pc grub-pc/install_devices multiselect /dev/vda' | in_root debconf-set-selections; fi`,
  // A machine, not a chroot: services start as usual from now on.
  'rm -f "$m/usr/sbin/policy-rc.d"',
].join('\n');

/** Files of the root, by path; `ROOT-UUID` and `ESP-UUID` are filled in per build. */
function rootFiles(kind: VmKind): Record<string, string> {
  const header = '# kernelfile test VM (test/helpers/machines-image.ts)';
  const files: Record<string, string> = {
    '/etc/fstab': [
      header,
      'UUID=ROOT-UUID / ext4 errors=remount-ro 0 1',
      ...(kind === 'uefi' ? ['UUID=ESP-UUID /boot/efi vfat umask=0077 0 2'] : []),
      '',
    ].join('\n'),
    '/etc/hostname': `${vmHostname(kind)}\n`,
    '/etc/hosts': `127.0.0.1\tlocalhost\n127.0.1.1\t${vmHostname(kind)}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    '/etc/systemd/network/20-kf-en.network': [
      header,
      '[Match]',
      'Name=en*',
      '',
      '[Network]',
      'DHCP=ipv4',
      'LinkLocalAddressing=no',
      'IPv6AcceptRA=no',
      '',
    ].join('\n'),
    '/etc/ssh/sshd_config.d/kernelfile-vm.conf': [
      header,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      '',
    ].join('\n'),
  };
  if (kind === 'bios')
    files['/etc/default/grub'] = [
      header,
      'GRUB_DEFAULT=saved',
      'GRUB_TIMEOUT=1',
      'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`',
      'GRUB_DISABLE_SUBMENU=y',
      'GRUB_CMDLINE_LINUX_DEFAULT=""',
      `GRUB_CMDLINE_LINUX="${VM_CMDLINE}"`,
      'GRUB_TERMINAL=serial',
      'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"',
      '',
    ].join('\n');
  else files['/etc/kernel/cmdline'] = `root=UUID=ROOT-UUID ro ${VM_CMDLINE}\n`;
  return files;
}

/** sh: `kf_t CMD...` runs CMD and prints how long it took on a line `kf-vm-setup: N s: CMD`. */
const SETUP_TIMER_SH =
  'kf_t() { kf_s=$(date +%s); "$@"; echo "kf-vm-setup: $(( $(date +%s) - kf_s )) s: $*"; }';

/**
 * Run inside the VM on its setup boot (direct kernel boot), as root; args: RELEASE. Installs the
 * boot loader and remakes the initramfs for this machine (modules for its own disk only).
 */
const SETUP_SH: Record<VmKind, string> = {
  bios: [
    'set -eu',
    'r=$1',
    SETUP_TIMER_SH,
    'kf_t grub-install /dev/vda',
    'kf_t update-grub',
    "sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf",
    'grep -qx MODULES=dep /etc/initramfs-tools/initramfs.conf',
    'kf_t update-initramfs -u -k "$r"',
    'grub-editenv list',
  ].join('\n'),
  uefi: [
    'set -eu',
    'r=$1',
    SETUP_TIMER_SH,
    'mountpoint -q /boot/efi',
    // Host-only from now on: this initramfs, and those of kernels installed later.
    'printf \'# kernelfile test VM: an initramfs for this machine only\\nhostonly="yes"\\n\' > /etc/dracut.conf.d/50-kernelfile-vm.conf',
    'kf_t dracut --force "/boot/initrd.img-$r" "$r"',
    'kf_t bootctl install --no-variables',
    'kf_t kernel-install add "$r" "/boot/vmlinuz-$r"',
    'entry="$(cat /etc/machine-id)-$r.conf"',
    'test -s "/boot/efi/loader/entries/$entry"',
    // The default by file name, in loader.conf (no EFI variable: it would live in one VM's VARS only).
    'printf \'# kernelfile test VM\\ndefault %s\\ntimeout 1\\n\' "$entry" > /boot/efi/loader/loader.conf',
    'bootctl list --no-pager',
  ].join('\n'),
};

/**
 * Everything that decides an image's content; its hash names the cache directory. `v`: bump it when
 * the build changes in a way these strings do not show (the build steps' code).
 */
function recipe(kind: VmKind, mirror: string) {
  return {
    v: 1,
    kind,
    debootstrap: ['--variant', VARIANT, SUITE, mirror],
    packages: VM_PACKAGES[kind],
    configure: CONFIGURE_SH,
    files: rootFiles(kind),
    machineId: vmMachineId(kind),
    disk: { mib: DISK_MIB, sfdisk: SFDISK_SCRIPT },
    setup: SETUP_SH[kind],
    firmware: kind === 'uefi' ? [OVMF_CODE, OVMF_VARS] : 'seabios',
  };
}

export interface VmImage {
  kind: VmKind;
  /** The image's cache directory. */
  dir: string;
  /** The base image (qcow2): never written; VMs run on overlays of it. */
  disk: string;
  /** The private key authorized for root (ed25519, no passphrase). */
  identity: string;
  /** "ssh-ed25519 AAAA..." (no comment): the host key of every VM made from this image. */
  hostKey: string;
  /** uefi: the firmware variables each VM starts from (a copy). */
  vars?: string;
  /** The Debian kernel's release (uname -r). */
  release: string;
  rootUuid: string;
  /** The ESP's vfat volume id as fstab spells it (XXXX-XXXX); mounted at /boot/efi for uefi only. */
  espUuid: string;
  machineId: string;
  hostname: string;
  /**
   * The entry the image boots by default: bios, the title of GRUB's first menu entry (saved_entry is
   * unset, so entry 0); uefi, the BLS entry's file name (loader.conf's `default`).
   */
  defaultEntry: string;
  /** GRUB's menu entry titles (bios) or the BLS entry file names (uefi), in menu order. */
  entries: string[];
  /** How long each build step took, in ms. */
  timings: Record<string, number>;
  /** When it was built (ISO 8601). */
  built: string;
}

const pending = new Map<VmKind, Promise<string>>();

/**
 * The base image of a kind (the path of its disk.qcow2), built on first use (15 to 20 minutes under
 * TCG; two processes wanting it share one build) and cached. readVmImage() tells the rest.
 */
export function ensureVmImage(kind: VmKind): Promise<string> {
  let p = pending.get(kind);
  if (!p) {
    p = prepare(kind).catch((e) => {
      pending.delete(kind);
      throw e;
    });
    pending.set(kind, p);
  }
  return p;
}

/** What an image built by ensureVmImage() is: its files and image.json. */
export function readVmImage(disk: string): VmImage {
  const dir = disk.replace(/\/disk\.qcow2$/, '');
  const info = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as Omit<
    VmImage,
    'dir' | 'disk' | 'identity' | 'vars'
  >;
  return {
    ...info,
    dir,
    disk,
    identity: join(dir, 'id_ed25519'),
    ...(info.kind === 'uefi' ? { vars: join(dir, 'OVMF_VARS_4M.fd') } : {}),
  };
}

async function prepare(kind: VmKind): Promise<string> {
  requireRoot('a VM image');
  requireCommands('a VM image', [
    ['debootstrap', 'debootstrap'],
    ['/usr/share/keyrings/debian-archive-keyring.gpg', 'debian-archive-keyring'],
    ['unshare', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-img', 'qemu-utils'],
    ['sfdisk', 'fdisk'],
    ['mkfs.vfat', 'dosfstools'],
    ['mdir', 'mtools'],
    ['mke2fs', 'e2fsprogs'],
    ['ssh', 'openssh-client'],
    ['ssh-keygen', 'openssh-client'],
    ...(kind === 'uefi'
      ? ([
          [OVMF_CODE, 'ovmf'],
          [OVMF_VARS, 'ovmf'],
        ] as const)
      : []),
  ]);
  const mirror = aptMirror();
  const hash = createHash('sha256')
    .update(JSON.stringify(recipe(kind, mirror)))
    .digest('hex')
    .slice(0, 16);
  const cache = testCacheDir();
  const name = `vm-${kind}-${hash}`;
  const dir = join(cache, name);
  const disk = join(dir, 'disk.qcow2');
  return makeCacheEntry({
    cache,
    name,
    ready: () => (existsSync(join(dir, 'image.json')) ? disk : undefined),
    onWait: (pid) => note(`VM image ${kind}: waiting for process ${pid}, which is building ${name}`),
    // A build takes 10 to 20 min on a busy 2-core machine.
    timeoutMs: 90 * 60_000,
    make: async (tmp) => {
      await build(kind, tmp, mirror, name);
      await rename(join(tmp, 'image'), dir);
      return disk;
    },
  });
}

/** Builds the image into `${tmp}/image` (the future cache directory); scratch files stay in tmp. */
async function build(kind: VmKind, tmp: string, mirror: string, name: string): Promise<void> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const step = async <T>(what: string, key: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const r = await fn();
    timings[key] = Date.now() - t;
    note(`VM image ${kind}: ${what}: ${secs(timings[key])}`);
    return r;
  };
  note(`VM image ${kind}: building ${name} from ${mirror} (once; later runs use the cache)`);
  const root = join(tmp, 'root');
  const out = join(tmp, 'image');
  await mkdir(join(out, 'logs'), { recursive: true });
  const machineId = vmMachineId(kind);
  const rootUuid = randomUUID();
  const volId = randomBytes(4).toString('hex').toUpperCase();
  const espUuid = `${volId.slice(0, 4)}-${volId.slice(4)}`;

  await step(`debootstrap --variant=${VARIANT} ${SUITE}`, 'debootstrap', () =>
    runOk([...isolated(), 'debootstrap', '--variant', VARIANT, SUITE, root, mirror]),
  );
  // Before the packages: systemd's postinst keeps a machine id that is there.
  await writeFile(join(root, 'etc/machine-id'), `${machineId}\n`);
  await step(`apt-get install ${VM_PACKAGES[kind].join(' ')}`, 'packages', () =>
    runOk([...isolated(), 'sh', '-c', CONFIGURE_SH, 'kf-vm-configure', root, kind, ...VM_PACKAGES[kind]]),
  );
  for (const [path, text] of Object.entries(rootFiles(kind))) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text.replace(/ROOT-UUID/g, rootUuid).replace(/ESP-UUID/g, espUuid));
  }
  await runOk([
    'ssh-keygen',
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    `kernelfile-test-vm-${kind}`,
    '-f',
    join(out, 'id_ed25519'),
  ]);
  await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await chmod(join(root, 'root/.ssh'), 0o700);
  await copyFile(join(out, 'id_ed25519.pub'), join(root, 'root/.ssh/authorized_keys'));
  await chmod(join(root, 'root/.ssh/authorized_keys'), 0o600);
  const hostKey = (await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8'))
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  await writeFile(join(out, 'ssh_host_ed25519_key.pub'), `${hostKey}\n`);
  const releases = await readdir(join(root, 'lib/modules'));
  const release = releases[0];
  if (releases.length !== 1 || !release)
    throw new Error(`VM image ${kind}: expected one kernel in /lib/modules, found ${releases.join(', ')}`);

  const raw = join(tmp, 'disk.raw');
  await step('disk image (sfdisk, mkfs.vfat -C, mke2fs -d)', 'disk', () =>
    makeDisk(root, raw, tmp, rootUuid, volId),
  );

  const machine = async (what: string, extra: Partial<QemuMachineOptions>) => {
    const dir = join(tmp, what);
    await mkdir(dir);
    return launchMachine({
      name: `VM image ${kind} (${what} boot)`,
      dir,
      disk: raw,
      diskFormat: 'raw',
      restart: false,
      identity: join(out, 'id_ed25519'),
      hostKey,
      ...extra,
    });
  };
  const keepLog = (m: QemuMachine, what: string) =>
    copyFile(m.consolePath(1), join(out, 'logs', `${what}.log`));
  const sshOk = async (m: QemuMachine, argv: string[]) => {
    const r = await m.ssh(argv);
    if (r.code !== 0)
      throw new Error(
        `VM image ${kind}: \`${argv.join(' ')}\` exited with ${r.code}:\n${tail(`${r.stdout}\n${r.stderr}`)}`,
      );
    return r.stdout;
  };
  const poweroff = async (m: QemuMachine, what: string) => {
    await sshOk(m, ['sync']);
    await m.stop({ graceMs: 120_000 });
    await keepLog(m, what);
    const rec = m.records[0];
    if (rec?.signal) throw new Error(`VM image ${kind}: the ${what} boot did not power off; it was killed`);
  };
  const append = `root=UUID=${rootUuid} ro ${VM_CMDLINE}`;

  // 3. The setup boot: the root's own kernel and initramfs, straight from QEMU.
  const setup = await machine('setup', {
    direct: {
      kernel: join(root, `boot/vmlinuz-${release}`),
      initrd: join(root, `boot/initrd.img-${release}`),
      append,
    },
  });
  try {
    await step('setup boot (-kernel) to sshd', 'setupBoot', () => setup.waitUp(15 * 60_000));
    const log = await step('boot loader and initramfs, inside the VM', 'setup', () =>
      sshOk(setup, ['sh', '-c', SETUP_SH[kind], 'kf-vm-setup', release]),
    );
    await writeFile(join(out, 'logs', 'setup.out'), log);
    for (const line of log.split('\n'))
      if (line.startsWith('kf-vm-setup: ')) note(`VM image ${kind}: ${line}`);
    await poweroff(setup, 'setup');
  } catch (e) {
    await keepLog(setup, 'setup').catch(() => {});
    throw e;
  } finally {
    await setup.stop({ graceMs: 0 });
  }

  // 4. The check boot: firmware → boot loader → kernel, as every VM boots.
  const vars = join(out, 'OVMF_VARS_4M.fd');
  if (kind === 'uefi') await copyFile(OVMF_VARS, vars);
  const check = await machine('check', kind === 'uefi' ? { firmware: { code: OVMF_CODE, vars } } : {});
  let entries: string[];
  let defaultEntry: string;
  try {
    await step('check boot (through the boot loader) to sshd', 'checkBoot', () => check.waitUp(15 * 60_000));
    const cmdline = (await sshOk(check, ['cat', '/proc/cmdline'])).trim();
    if (!cmdline.includes(append)) throw new Error(`VM image ${kind}: booted with ${cmdline}, not ${append}`);
    if (kind === 'bios') {
      if (!cmdline.startsWith(`BOOT_IMAGE=/boot/vmlinuz-${release} `))
        throw new Error(`VM image ${kind}: not booted by GRUB: /proc/cmdline is ${cmdline}`);
      const cfg = await sshOk(check, ['cat', '/boot/grub/grub.cfg']);
      entries = [...cfg.matchAll(/^menuentry '([^']*)'/gm)].map((m) => m[1] as string);
      defaultEntry = entries[0] ?? '';
      if (!defaultEntry.startsWith('Debian GNU/Linux'))
        throw new Error(`VM image ${kind}: unexpected GRUB menu: ${entries.join(' | ')}`);
    } else {
      const selected = efiString(
        await sshOk(check, ['base64', '-w0', `/sys/firmware/efi/efivars/LoaderEntrySelected-${LOADER_GUID}`]),
      );
      defaultEntry = `${machineId}-${release}.conf`;
      if (selected !== defaultEntry)
        throw new Error(`VM image ${kind}: systemd-boot booted ${selected}, not ${defaultEntry}`);
      entries = (await sshOk(check, ['ls', '/boot/efi/loader/entries'])).split('\n').filter(Boolean);
    }
    await poweroff(check, 'check');
  } catch (e) {
    await keepLog(check, 'check').catch(() => {});
    throw e;
  } finally {
    await check.stop({ graceMs: 0 });
  }

  await step('qemu-img convert -c -O qcow2', 'convert', () =>
    runOk(['qemu-img', 'convert', '-c', '-O', 'qcow2', raw, join(out, 'disk.qcow2')]),
  );
  timings.total = Date.now() - t0;
  const info: Omit<VmImage, 'dir' | 'disk' | 'identity' | 'vars'> = {
    kind,
    hostKey,
    release,
    rootUuid,
    espUuid,
    machineId,
    hostname: vmHostname(kind),
    defaultEntry,
    entries,
    timings,
    built: new Date().toISOString(),
  };
  await writeFile(join(out, 'image.json'), `${JSON.stringify(info, null, 2)}\n`);
  const size = (await stat(join(out, 'disk.qcow2'))).size;
  note(
    `VM image ${kind}: ${name} (${Math.round(size / 2 ** 20)} MiB, kernel ${release}) built in ${secs(timings.total)}`,
  );
}

/** systemd-boot's vendor GUID for its EFI variables. */
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

/** An EFI variable's value (base64 of the efivarfs file: 4 bytes of attributes, then UTF-16LE, NUL-ended). */
function efiString(base64: string): string {
  return Buffer.from(base64.trim(), 'base64').subarray(4).toString('utf16le').replace(/\0.*$/s, '');
}

/** The partitioned disk as a plain file: GPT, an empty vfat ESP, the root as ext4 (mke2fs -d). */
async function makeDisk(
  root: string,
  raw: string,
  tmp: string,
  rootUuid: string,
  volId: string,
): Promise<void> {
  await runOk(['truncate', '-s', `${DISK_MIB}M`, raw]);
  await runOk(['sfdisk', '--quiet', raw], { stdin: SFDISK_SCRIPT });
  const table = JSON.parse((await runOk(['sfdisk', '--json', raw])).stdout) as {
    partitiontable: { sectorsize?: number; partitions: Array<{ start: number; size: number }> };
  };
  const sector = table.partitiontable.sectorsize ?? 512;
  const [p1, p2, p3] = table.partitiontable.partitions;
  if (!p1 || !p2 || !p3 || p2.start !== P2.start * MIB_SECTORS || p2.size !== P2.size * MIB_SECTORS)
    throw new Error(`sfdisk made an unexpected table: ${JSON.stringify(table)}`);
  const esp = join(tmp, 'esp.img');
  await runOk([
    'mkfs.vfat',
    '-C',
    '-F',
    '32',
    '-n',
    'ESP',
    '-i',
    volId,
    esp,
    String((p2.size * sector) / 1024),
  ]);
  await runOk(['mdir', '-i', esp, '::/']);
  await runOk(['dd', `if=${esp}`, `of=${raw}`, 'bs=1M', `seek=${P2.start}`, 'conv=notrunc', 'status=none']);
  await runOk([
    'mke2fs',
    '-q',
    '-F',
    '-t',
    'ext4',
    '-U',
    rootUuid,
    '-L',
    'root',
    '-d',
    root,
    '-E',
    `offset=${p3.start * sector}`,
    raw,
    `${(p3.size * sector) / 1024}k`,
  ]);
}
