/**
 * A root filesystem directory (`--host root:DIR`), for building images. An image is data, not
 * this machine: its binaries run as root, but boxed in (issue 12):
 * - namespaces of their own (`unshare`): mount (the mounts exist only while the command runs; the
 *   kernel removes them when it ends, on success, error, Ctrl-C or kill alike, and nothing is ever
 *   mounted on this machine), pid (they see only their own processes, a fresh /proc, and all of
 *   them die with the command), net (a loopback that is down: no way to this machine's services
 *   or the network), ipc and uts (the hostname is `kernelfile-image`, never this machine's);
 * - a minimal /dev: a small tmpfs holding null, zero, full, random, urandom and tty (each
 *   bind-mounted alone), a private /dev/shm and a new devpts instance: no disk, no memory device;
 * - /sys, /proc/sys and /proc/sysrq-trigger read-only (core_pattern would run a program here);
 * - a capability bounding set without what leaves a chroot or reaches the kernel (capsh drops
 *   sys_chroot, sys_admin, mknod, sys_module, sys_rawio, sys_ptrace, dac_read_search, net_admin,
 *   sys_boot, sys_time and the others not in KEPT_CAPS before the image's first binary runs).
 * Files are read and written from inside the chroot too, so symlinks in the image resolve within
 * the image (an absolute symlink never leads out to this machine's files). A mount point that is
 * a symlink in the image (`dev -> /dev`) is left unmounted rather than followed here.
 */
import { statSync } from 'node:fs';
import type { HostCapabilities } from './kind.js';
import { rootHost } from './kinds/root.js';
import { execBytes, runLocal } from './local.js';
import { HostError, type RunOptions, type RunResult, type Transport } from './transport.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The hostname inside the image's uts namespace. */
export const IMAGE_HOSTNAME = 'kernelfile-image';

/** The devices an image gets, each bind-mounted from this machine's /dev. */
export const IMAGE_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

/** What root inside an image keeps: file ownership and modes, users, signals to its own processes. */
export const KEPT_CAPS = [
  'cap_chown',
  'cap_dac_override',
  'cap_fowner',
  'cap_fsetid',
  'cap_kill',
  'cap_setgid',
  'cap_setuid',
  'cap_setpcap',
  'cap_setfcap',
  'cap_net_bind_service',
  'cap_audit_write',
] as const;

/** Every capability of Linux 6.x (capsh --decode), in order. */
const ALL_CAPS = [
  'cap_chown',
  'cap_dac_override',
  'cap_dac_read_search',
  'cap_fowner',
  'cap_fsetid',
  'cap_kill',
  'cap_setgid',
  'cap_setuid',
  'cap_setpcap',
  'cap_linux_immutable',
  'cap_net_bind_service',
  'cap_net_broadcast',
  'cap_net_admin',
  'cap_net_raw',
  'cap_ipc_lock',
  'cap_ipc_owner',
  'cap_sys_module',
  'cap_sys_rawio',
  'cap_sys_chroot',
  'cap_sys_ptrace',
  'cap_sys_pacct',
  'cap_sys_admin',
  'cap_sys_boot',
  'cap_sys_nice',
  'cap_sys_resource',
  'cap_sys_time',
  'cap_sys_tty_config',
  'cap_mknod',
  'cap_lease',
  'cap_audit_write',
  'cap_audit_control',
  'cap_setfcap',
  'cap_mac_override',
  'cap_mac_admin',
  'cap_syslog',
  'cap_wake_alarm',
  'cap_block_suspend',
  'cap_audit_read',
  'cap_perfmon',
  'cap_bpf',
  'cap_checkpoint_restore',
] as const;

const DROPPED_CAPS = ALL_CAPS.filter((c) => !(KEPT_CAPS as readonly string[]).includes(c));

/**
 * Runs as pid 1 of the new namespaces, with this machine's tools: mount what a chroot needs where
 * the image has a real directory, then capsh (this machine's) enters the image, drops the
 * capabilities and execs the image's env with the command. Nothing of the image runs before.
 */
const ENTER = [
  'set -e',
  'r=$1; shift',
  'command -v capsh >/dev/null || { echo "kernelfile: capsh is needed to enter a root filesystem: install libcap2-bin (Debian, Ubuntu) or libcap (Fedora, Arch)" >&2; exit 127; }',
  `printf %s ${IMAGE_HOSTNAME} > /proc/sys/kernel/hostname`,
  'dir() { [ -d "$r/$1" ] && [ ! -L "$r/$1" ]; }',
  'ro() { mount --bind "$1" "$1" && mount -o remount,bind,ro,nosuid,nodev,noexec "$1"; }',
  'if dir proc; then',
  '  mount -t proc -o nosuid,nodev,noexec proc "$r/proc"',
  '  for p in sys sysrq-trigger; do if [ -e "$r/proc/$p" ]; then ro "$r/proc/$p"; fi; done',
  'fi',
  'if dir sys; then mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"; fi',
  'if dir dev; then',
  '  mount -t tmpfs -o nosuid,nodev,noexec,mode=0755,size=1m kf-dev "$r/dev"',
  `  for d in ${IMAGE_DEVICES.join(' ')}; do`,
  '    if [ -c "/dev/$d" ]; then : > "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; fi',
  '  done',
  '  mkdir "$r/dev/shm" "$r/dev/pts"',
  '  mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=64m kf-shm "$r/dev/shm"',
  '  mount -t devpts -o newinstance,nosuid,noexec,ptmxmode=0666,mode=0620 kf-pts "$r/dev/pts"',
  '  ln -s pts/ptmx "$r/dev/ptmx"; ln -s /proc/self/fd "$r/dev/fd"',
  '  ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"',
  'fi',
  `exec capsh --chroot="$r" --drop=${DROPPED_CAPS.join(',')} --shell=/usr/bin/env -- "$@"`,
].join('\n');

/** Atomic write inside the image: temp name beside the target, then rename. */
const WRITE = [
  'set -e',
  't=$1; m=$2',
  'tmp="$(dirname -- "$t")/.$(basename -- "$t").kf-$$"',
  'trap \'rm -f -- "$tmp"\' EXIT',
  'cat > "$tmp"',
  'if [ -n "$m" ]; then chmod "$m" "$tmp"; fi',
  'mv -f -- "$tmp" "$t"',
  'trap - EXIT',
].join('\n');

export class ChrootTransport implements Transport {
  readonly kind = 'root' as const;
  readonly name: string;
  readonly capabilities: HostCapabilities;

  constructor(readonly dir: string) {
    this.name = rootHost.format({ kind: 'root', dir });
    this.capabilities = rootHost.capabilities({ kind: 'root', dir });
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {}
    if (!isDir)
      throw new HostError(
        this.name,
        'bad-address',
        `${dir} is not a directory`,
        'root:DIR names an existing root filesystem directory',
      );
    if (process.getuid?.() !== 0)
      throw new HostError(
        this.name,
        'auth',
        'a root filesystem can only be entered as root (chroot and mount need it)',
        'run kernelfile as root, e.g. with sudo',
      );
  }

  private argv(argv: readonly string[], env?: Record<string, string>): string[] {
    const vars = Object.entries({ PATH, ...env }).map(([k, v]) => `${k}=${v}`);
    return [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      '--net',
      '--ipc',
      '--uts',
      '--',
      'sh',
      '-c',
      ENTER,
      'kf-chroot',
      this.dir,
      ...vars,
      ...argv,
    ];
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    // Already root: sudo is a no-op here.
    const { sudo: _sudo, env, ...rest } = opts;
    // A timeout kills `unshare` itself (its --fork parent ignores SIGTERM); --kill-child then
    // kills the namespace's pid 1, and with it every process the command started.
    return runLocal(this.argv(argv, env), rest, 'SIGKILL');
  }

  async put(localPath: string, remotePath: string, mode?: number): Promise<void> {
    await this.writeWith(remotePath, mode, { file: localPath });
  }

  async write(remotePath: string, data: string | Buffer, mode?: number): Promise<void> {
    await this.writeWith(remotePath, mode, { data });
  }

  async get(remotePath: string): Promise<Buffer> {
    const r = await execBytes(this.argv(['cat', '--', remotePath]));
    if (r.code !== 0) throw new HostError(this.name, 'io', `cannot read ${remotePath}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async close(): Promise<void> {}

  private async writeWith(
    remotePath: string,
    mode: number | undefined,
    input: { file?: string; data?: string | Buffer },
  ) {
    const m = mode === undefined ? '' : mode.toString(8);
    const r = await execBytes(this.argv(['sh', '-c', WRITE, 'kf-write', remotePath, m]), input);
    if (r.code !== 0) throw new HostError(this.name, 'io', `cannot write ${remotePath}: ${r.stderr.trim()}`);
  }
}
