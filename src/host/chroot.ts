/**
 * A root filesystem directory (`--host root:DIR`), for building images. Commands run under
 * `chroot DIR` with /proc, /sys and /dev mounted, inside a private mount namespace of their own
 * (`unshare --mount`): the mounts exist only while the command runs and the kernel removes them
 * when it ends, on success, error, Ctrl-C or kill alike. Nothing is ever mounted on this machine.
 *
 * Files are read and written from inside the chroot too, so symlinks in the image resolve within
 * the image (an absolute symlink never leads out to this machine's files).
 */
import { statSync } from 'node:fs';
import type { HostCapabilities } from './kind.js';
import { rootHost } from './kinds/root.js';
import { execBytes, runLocal } from './local.js';
import { HostError, type RunOptions, type RunResult, type Transport } from './transport.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Mount what a chroot needs (where the image has the directory), then exec the command. */
const ENTER = [
  'r=$1; shift',
  '[ -d "$r/proc" ] && mount -t proc proc "$r/proc"',
  '[ -d "$r/sys" ] && mount -t sysfs -o ro sysfs "$r/sys"',
  '[ -d "$r/dev" ] && mount --rbind /dev "$r/dev"',
  'exec chroot "$r" "$@"',
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
      '--',
      'sh',
      '-c',
      ENTER,
      'kf-chroot',
      this.dir,
      'env',
      ...vars,
      ...argv,
    ];
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    // Already root: sudo is a no-op here.
    const { sudo: _sudo, env, ...rest } = opts;
    return runLocal(this.argv(argv, env), rest);
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
