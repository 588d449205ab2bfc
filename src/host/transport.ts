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

/**
 * A command a transport ran on its host, as an observer sees it (`kernelfile -v`). Never what was
 * sent with it: standard input (the MOK password goes there) is counted, never kept, and of the
 * extra environment (KBUILD_SIGN_PIN) only the names are given.
 */
export interface HostCommand {
  /** The transport's name. */
  host: string;
  argv: readonly string[];
  sudo: boolean;
  /** The names of the extra environment variables, never their values. */
  envNames: string[];
  /** Bytes written to standard input; null when none was given. */
  stdinBytes: number | null;
  ms: number;
  /** How it ended: its result, or the error the transport raised (a lost connection, sudo refused). */
  outcome: { result: RunResult } | { error: string };
}

/** A file a transport copied to or read from its host (the path and size, never the bytes). */
export interface HostTransfer {
  host: string;
  op: 'put' | 'write' | 'get';
  path: string;
  /** Bytes written or read; null when unknown (a put of a local file, a failed read). */
  bytes: number | null;
  ms: number;
  error?: string;
}

/** Told of every command and transfer on a host, after it ends; what it throws is ignored. */
export interface TransportObserver {
  command?(c: HostCommand): void;
  transfer?(t: HostTransfer): void;
}

/** Standard input this small is a secret's size (the MOK password), not a script or a file. */
const SMALL_INPUT = 4096;

/**
 * What a command printed, as an observer gets it: a command that echoes a small standard input
 * back (a prompt that repeats what was typed) shows `********` in its place, as the executor's
 * errors do for the MOK password.
 */
function withoutInput(r: RunResult, stdin: string | Buffer | undefined): RunResult {
  if (stdin === undefined || Buffer.byteLength(stdin) > SMALL_INPUT) return r;
  const secrets = String(stdin)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
  const hide = (text: string) => secrets.reduce((t, x) => t.split(x).join('********'), text);
  return { code: r.code, stdout: hide(r.stdout), stderr: hide(r.stderr) };
}

/**
 * The transport, with every operation reported to `observer` once it ends: the one hook for all
 * host kinds (hostRegistry.open applies it when HostOptions has an observer).
 */
export function observed(t: Transport, observer: TransportObserver): Transport {
  const tell = (f: () => void) => {
    try {
      f();
    } catch {}
  };
  const transfer = async <T>(
    op: HostTransfer['op'],
    path: string,
    bytes: (r: T) => number | null,
    work: () => Promise<T>,
  ): Promise<T> => {
    const started = performance.now();
    try {
      const r = await work();
      tell(() =>
        observer.transfer?.({ host: t.name, op, path, bytes: bytes(r), ms: performance.now() - started }),
      );
      return r;
    } catch (e) {
      tell(() =>
        observer.transfer?.({
          host: t.name,
          op,
          path,
          bytes: null,
          ms: performance.now() - started,
          error: (e as Error).message,
        }),
      );
      throw e;
    }
  };
  return {
    get name() {
      return t.name;
    },
    get kind() {
      return t.kind;
    },
    get capabilities() {
      return t.capabilities;
    },
    async run(argv, opts) {
      const started = performance.now();
      const base = {
        host: t.name,
        argv: [...argv],
        sudo: opts?.sudo === true,
        envNames: Object.keys(opts?.env ?? {}),
        stdinBytes: opts?.stdin === undefined ? null : Buffer.byteLength(opts.stdin),
      };
      try {
        const result = await t.run(argv, opts);
        tell(() =>
          observer.command?.({
            ...base,
            ms: performance.now() - started,
            outcome: { result: withoutInput(result, opts?.stdin) },
          }),
        );
        return result;
      } catch (e) {
        const error = (e as Error).message;
        tell(() => observer.command?.({ ...base, ms: performance.now() - started, outcome: { error } }));
        throw e;
      }
    },
    put: (localPath, remotePath, mode) =>
      transfer(
        'put',
        remotePath,
        () => null,
        () => t.put(localPath, remotePath, mode),
      ),
    write: (remotePath, data, mode) =>
      transfer(
        'write',
        remotePath,
        () => Buffer.byteLength(data),
        () => t.write(remotePath, data, mode),
      ),
    get: (remotePath) =>
      transfer(
        'get',
        remotePath,
        (b: Buffer) => b.length,
        () => t.get(remotePath),
      ),
    close: () => t.close(),
  };
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
