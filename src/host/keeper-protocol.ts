/**
 * Kept SSH connections (`--control-persist`, like OpenSSH's ControlPersist): what a kernelfile
 * process and its user's keeper (keeper.ts, a background process holding authenticated
 * connections) say to each other over the keeper's Unix socket, where that socket lives, and what
 * decides that two requests may share one connection.
 *
 * The socket's directory is the user's alone (0700, owned by the user, not a symlink): whoever can
 * connect to the socket can run commands on the hosts as the user, as with OpenSSH's ControlPath.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from './ssh-config.js';
import type { HostErrorKind, RunResult } from './transport.js';

/** Everything that decides how a connection is made: two requests share one only when all of it is equal. */
export interface KeptConnection {
  target: SshTarget;
  /** The ProxyJump hops of the target (and theirs), resolved by the caller, by name. */
  jumps: Record<string, SshTarget>;
  knownHostsFiles: string[];
  agentSocket?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface KeptRun {
  argv: string[];
  /** Standard input, base64. */
  stdin?: string;
  sudo?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Send each line of output as it arrives (RunOptions.onLine). */
  lines?: boolean;
}

export type KeeperRequest =
  /** Make sure a live connection exists (connecting when none is kept): errors as a direct connect's. */
  | { op: 'open'; version: string; persistMs: number; conn: KeptConnection }
  | { op: 'run'; version: string; persistMs: number; conn: KeptConnection; run: KeptRun }
  | { op: 'stats'; version: string }
  | { op: 'stop'; version: string };

export interface KeeperStats {
  version: string;
  pid: number;
  /** Connections kept now. */
  connections: number;
  /** SSH logins made since the keeper started. */
  logins: number;
  /** Requests served on a connection kept from an earlier one. */
  reused: number;
}

export interface KeptHostError {
  host: string;
  kind: HostErrorKind;
  /** Without the `host: ` HostError puts before it. */
  message: string;
  hint?: string;
}

export type KeeperReply =
  | { line: string; stream: 'stdout' | 'stderr' }
  | { result: RunResult }
  | { opened: true; reused: boolean }
  | { error: KeptHostError }
  /** The keeper could not serve the request (not the host's answer): the caller connects directly. */
  | { fault: string }
  | { stats: KeeperStats }
  | { stopping: true };

/** The longest message either side reads: a reply carries a command's whole output. */
export const MAX_MESSAGE = 64 * 1024 * 1024;

/** Messages are JSON, one per line (JSON.stringify escapes every newline in a string). */
export function frame(m: KeeperRequest | KeeperReply): string {
  return `${JSON.stringify(m)}\n`;
}

/**
 * Splits a stream into messages: push() each chunk, get the complete lines parsed. A message longer
 * than MAX_MESSAGE, or a line that is not a JSON object, is an Error.
 */
export class MessageReader {
  private parts: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.parts.push(chunk.subarray(start, nl));
      const text = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      const m = JSON.parse(text) as unknown;
      if (typeof m !== 'object' || m === null || Array.isArray(m))
        throw new Error('a message is not an object');
      out.push(m);
    }
    const rest = chunk.subarray(start);
    this.size += rest.length;
    if (this.size > MAX_MESSAGE) throw new Error(`a message longer than ${MAX_MESSAGE} bytes`);
    if (rest.length) this.parts.push(rest);
    return out;
  }
}

/**
 * Why a directory may not hold the keeper's socket, or undefined when it may: it must be a
 * directory (not a symlink to one), owned by `uid`, that no one else can enter.
 */
export function unsafeDir(st: Pick<Stats, 'isDirectory' | 'isSymbolicLink' | 'uid' | 'mode'>, uid: number) {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not by you (uid ${uid})`;
  if ((st.mode & 0o077) !== 0) return `can be entered by others (mode ${(st.mode & 0o7777).toString(8)})`;
  return undefined;
}

/** An unsafe socket directory, for the caller to report with the option that asked for it. */
export class KeeperDirError extends Error {
  constructor(
    readonly dir: string,
    why: string,
  ) {
    super(`the directory for kept SSH connections, ${dir}, ${why}`);
    this.name = 'KeeperDirError';
  }
}

/** Unix socket paths are limited to 107 bytes on Linux. */
const MAX_SOCKET_PATH = 100;

/**
 * The user's directory for the keeper's socket, created 0700 when missing and checked:
 * $XDG_RUNTIME_DIR/kernelfile when that is set (and short enough), else kernelfile-UID in the
 * temporary directory. Throws KeeperDirError when it is not the user's alone.
 */
export function keeperDir(env: Record<string, string | undefined>, uid: number): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const dir =
    runtime?.startsWith('/') && runtime.length < MAX_SOCKET_PATH - 40
      ? join(runtime, 'kernelfile')
      : join(env.TMPDIR?.startsWith('/') ? env.TMPDIR : tmpdir(), `kernelfile-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new KeeperDirError(dir, `cannot be created: ${(e as Error).message}`);
  }
  const why = unsafeDir(lstatSync(dir), uid);
  if (why) throw new KeeperDirError(dir, why);
  if (dir.length > MAX_SOCKET_PATH - 30) throw new KeeperDirError(dir, 'is too long a path for a socket');
  return dir;
}

/**
 * The socket of the keeper for this kernelfile: a keeper runs the code of one version and one
 * build of it (its file's size and time) on one Node, so a rebuilt kernelfile starts its own and
 * the old one ends when idle.
 */
export function socketPath(dir: string, version: string, keeperFile: string): string {
  const st = statSync(keeperFile);
  const id = createHash('sha256')
    .update(`${version}\0${process.version}\0${st.size}\0${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  return join(dir, `keeper-${id}.sock`);
}

/** A file as a connection depends on it: changed, replaced or removed, the connection is not shared. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return '-';
  }
}

/**
 * The key a connection is kept under: every setting that decides it, and the state of every file
 * it was authenticated with (known_hosts, identity files, those of the jump hosts). A host key
 * removed from known_hosts, a key file replaced: the next request connects (and verifies) anew.
 */
export function connectionKey(c: KeptConnection): string {
  const files = [
    ...c.knownHostsFiles,
    ...c.target.identityFiles,
    ...Object.values(c.jumps).flatMap((j) => j.identityFiles),
  ];
  const h = createHash('sha256').update(JSON.stringify(c));
  for (const f of files) h.update(`\0${f}\0${fileStamp(f)}`);
  return h.digest('hex');
}
