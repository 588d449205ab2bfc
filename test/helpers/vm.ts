/**
 * Booting a root filesystem directory as a whole machine under QEMU (TCG), for tests that check
 * what a provisioned host really boots:
 *
 *   installTestInit(root)         /sbin/kf-test-init: prints markers on the console, then reboots
 *   makeDiskImage(root, img)      an ext4 image of the directory (mke2fs -d), no partition table
 *   bootDisk({kernel, initrd, disk})
 *                                 qemu-system-x86_64 -kernel K [-initrd I] -drive file=IMG,if=virtio
 *                                 -append 'console=ttyS0 panic=-1 root=/dev/vda init=/sbin/kf-test-init'
 *
 * The disk is /dev/vda. `init=` works with or without an initramfs: the kernel reads it when it mounts
 * the root itself, initramfs-tools' /init reads it when it does. The test init prints, on the
 * serial console:
 *
 *   KF-UNAME <uname -r>
 *   KF-MODULES-BEGIN
 *   <each line of /proc/modules, as the initramfs left them: the init loads nothing itself>
 *   KF-MODULES-END
 *   KF-DONE
 *
 * then `reboot -f` (busybox's, else klibc's), which `-no-reboot` turns into QEMU exiting with 0. If
 * neither exists it exits, the kernel panics (PID 1 died) and `panic=-1` reboots: QEMU exits too.
 *
 * QEMU runs through kernelfile's own runner (src/verify/qemu.ts): a timeout, and this process dying,
 * kill it.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Accel, bootQemu } from '../../src/verify/qemu.js';
import { requireCommands, runOk } from './proc.js';

/** Where installTestInit() puts the test init in the root. */
export const TEST_INIT = '/sbin/kf-test-init';

/** The kernel command line bootDisk() uses unless told otherwise (append). */
export const DEFAULT_APPEND = `console=ttyS0 panic=-1 root=/dev/vda init=${TEST_INIT}`;

/** The test init: a POSIX sh script for the root's own /bin/sh (dash on Debian). */
export const TEST_INIT_SH = `#!/bin/sh
# kernelfile tests: PID 1 of a test VM. Prints markers on the console, then reboots, which QEMU's
# -no-reboot turns into QEMU exiting. Written by test/helpers/vm.ts.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# initramfs-tools moves its /proc and /sys into the root; without an initramfs, mount them here.
[ -r /proc/modules ] || mount -t proc -o nosuid,nodev,noexec proc /proc
[ -d /sys/kernel ] || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
echo "KF-UNAME $(uname -r)"
echo "KF-MODULES-BEGIN"
cat /proc/modules
echo "KF-MODULES-END"
echo "KF-DONE"
sync
if command -v busybox >/dev/null 2>&1; then busybox reboot -f; fi
if [ -x /usr/lib/klibc/bin/reboot ]; then /usr/lib/klibc/bin/reboot -f; fi
# Nothing could reboot: PID 1 exits, the kernel panics, and panic=-1 reboots all the same.
echo "KF-NO-REBOOT"
exit 1
`;

/** Write the test init into a root directory (TEST_INIT, mode 0755). */
export async function installTestInit(rootDir: string): Promise<void> {
  const path = join(rootDir, TEST_INIT);
  await writeFile(path, TEST_INIT_SH);
  await chmod(path, 0o755);
}

/**
 * An ext4 image of a directory, no partition table (the kernel's root=/dev/vda), with room to spare:
 * its size is what the tree uses plus a quarter plus 128 MiB, its inodes twice the tree's count plus
 * 8192. Ownership, modes, special files and symlinks come from the tree (run as root). A file
 * already at `out` is replaced. Returns the image's size.
 */
export async function makeDiskImage(rootDir: string, out: string): Promise<{ sizeMiB: number }> {
  requireCommands('a VM disk image', [
    ['mke2fs', 'e2fsprogs'],
    ['du', 'coreutils'],
  ]);
  const du = async (flag: string) =>
    Number.parseInt((await runOk(['du', '-s', '-x', flag, rootDir])).stdout.split('\t')[0] ?? '', 10);
  const usedMiB = await du('--block-size=1M');
  const inodes = await du('--inodes');
  if (!Number.isFinite(usedMiB) || !Number.isFinite(inodes))
    throw new Error(`du could not measure ${rootDir}`);
  const sizeMiB = Math.ceil(usedMiB * 1.25) + 128;
  await rm(out, { force: true });
  await runOk([
    'mke2fs',
    '-q',
    '-F',
    '-t',
    'ext4',
    '-L',
    'kf-root',
    '-N',
    String(inodes * 2 + 8192),
    '-d',
    rootDir,
    out,
    `${sizeMiB}M`,
  ]);
  return { sizeMiB };
}

export interface BootDiskOptions {
  kernel: string;
  /** The initramfs; without one the kernel mounts /dev/vda itself (it needs virtio-blk and ext4 built in). */
  initrd?: string;
  /** The raw disk image: /dev/vda in the guest. */
  disk: string;
  /** Kernel command line (default DEFAULT_APPEND). */
  append?: string;
  /** Kill QEMU after this long (default 120 s: TCG boots the tiny kernel to init in about 3 s). */
  timeoutMs?: number;
  /** Where the console is written as it arrives (default: the disk image's path + `.console.log`). */
  consoleLog?: string;
  /** Default tcg: KVM is not always usable where it exists (nested virtualisation). */
  accel?: Accel;
  memoryMb?: number;
}

export interface BootDiskResult {
  /** The serial console, carriage returns removed. */
  console: string;
  consoleLog: string;
  /** QEMU's exit code: 0 after the guest rebooted; null when it was killed. */
  code: number | null;
  /** Killed for running past timeoutMs (or for printing nothing for 60 s). */
  timedOut: boolean;
  seconds: number;
  /** What the test init printed: `uname -r`, the loaded modules' names, whether it got to the end. */
  uname: string | undefined;
  modules: string[];
  done: boolean;
}

/** Boot a disk image under QEMU and collect the console; never leaves QEMU running. */
export async function bootDisk(o: BootDiskOptions): Promise<BootDiskResult> {
  requireCommands('booting a VM', [['qemu-system-x86_64', 'qemu-system-x86']]);
  const consoleLog = o.consoleLog ?? `${o.disk}.console.log`;
  const r = await bootQemu({
    kernel: o.kernel,
    ...(o.initrd !== undefined ? { initrd: o.initrd } : {}),
    disks: [o.disk],
    accel: o.accel ?? 'tcg',
    append: o.append ?? DEFAULT_APPEND,
    memoryMb: o.memoryMb ?? 256,
    timeoutMs: o.timeoutMs ?? 120_000,
    firstOutputTimeoutMs: 60_000,
    // After KF-DONE the guest has 10 s to reboot before QEMU is killed.
    doneLine: /^KF-DONE$/,
    consoleLog,
  });
  // The file holds everything, also a last line without a newline.
  const text = (await readFile(consoleLog, 'utf8')).replace(/\r/g, '');
  return {
    console: text,
    consoleLog,
    code: r.exitCode,
    timedOut: r.timedOut || r.noOutput,
    seconds: r.seconds,
    ...parseTestInit(text),
  };
}

/** The test init's markers in a console log (kernel messages between them are skipped). */
export function parseTestInit(text: string): Pick<BootDiskResult, 'uname' | 'modules' | 'done'> {
  const lines = text.split('\n');
  const uname = lines.map((l) => /^KF-UNAME (\S+)\s*$/.exec(l)?.[1]).find((u) => u !== undefined);
  const begin = lines.indexOf('KF-MODULES-BEGIN');
  const end = lines.indexOf('KF-MODULES-END', begin + 1);
  // /proc/modules: "name size refcount deps state address [taints]"; a kernel message is not that.
  const modules =
    begin < 0 || end < 0
      ? []
      : lines
          .slice(begin + 1, end)
          .map((l) => /^(\w+) \d+ \d+ \S+ (?:Live|Loading|Unloading) /.exec(l)?.[1])
          .filter((m): m is string => m !== undefined);
  return { uname, modules, done: lines.includes('KF-DONE') };
}
