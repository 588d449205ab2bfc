/**
 * One contract for every kind of host: this machine (local.ts), a root filesystem directory for
 * image builds (chroot.ts), and a remote machine over SSH (ssh.ts). Commands are argv arrays, never
 * shell strings; where a shell is unavoidable (SSH executes a command line), quote.ts builds it.
 */
import type { HostCapabilities } from './kind.js';

export interface RunOptions {
  /** Written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Run as root: `sudo -n` for a non-root SSH user; a no-op where we already are root. */
  sudo?: boolean;
  /** Kill the command after this long (default: no limit for local/chroot, the SSH command timeout for ssh). */
  timeoutMs?: number;
  /** Called with each complete line of output as it arrives (progress, logs). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
}

export interface RunResult {
  /** Exit code; 128+N when killed by signal N; -1 when the command could not be started. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface Transport {
  /** How the user addressed the host, normalised: "local", "root:/srv/rootfs", "ssh://root@web-1:22". */
  readonly name: string;
  /** The host kind's name (kinds/: local, root, ssh). For host/ internals: elsewhere, ask `capabilities`. */
  readonly kind: string;
  /** What the host can do (capabilitiesOf its address). */
  readonly capabilities: HostCapabilities;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Copy a local file to the host, atomically: a temp name next to the target, then rename. */
  put(localPath: string, remotePath: string, mode?: number): Promise<void>;
  /** Write bytes to a file on the host, atomically (as put). */
  write(remotePath: string, data: string | Buffer, mode?: number): Promise<void>;
  /** Read a file from the host. */
  get(remotePath: string): Promise<Buffer>;
  close(): Promise<void>;
}

export type HostErrorKind =
  | 'unreachable' // connection refused, no route, DNS, timeout while connecting
  | 'auth' // every authentication method was refused
  | 'host-key-unknown' // not in known_hosts (and accepting new keys was not asked for)
  | 'host-key-changed' // known_hosts holds a different key: possible man-in-the-middle
  | 'sudo-password' // sudo -n refused: the user needs a password for sudo
  | 'timeout' // a command ran past its timeout
  | 'disconnected' // the connection dropped during an operation
  | 'bad-address' // --host could not be understood
  | 'locked' // another apply holds the host lock
  | 'io'; // a file operation failed on the host

/** A failure that concerns a host: printed as one line naming the host and the cause, with a hint. */
export class HostError extends Error {
  constructor(
    readonly host: string,
    readonly kind: HostErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(`${host}: ${message}`);
    this.name = 'HostError';
  }
}

/** Run a command and insist on exit code 0; the error names the host, the command and its stderr. */
export async function runOk(t: Transport, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const r = await t.run(argv, opts);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-5).join('\n');
    throw new HostError(
      t.name,
      'io',
      `\`${argv.join(' ')}\` exited with ${r.code}${tail ? `: ${tail}` : ''}`,
    );
  }
  return r;
}
