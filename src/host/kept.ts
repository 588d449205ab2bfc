/**
 * A host over SSH reached through the user's keeper (keeper.ts), which keeps the authenticated
 * connection for `persistMs` after its last use, so the next kernelfile command within that time
 * skips the login (`--control-persist SECONDS`, like OpenSSH's ControlPersist). The keeper is
 * started here when none answers, detached, from its bundle (dist/bundle/keeper.cjs).
 *
 * Commands run through the keeper; files are copied on a direct connection of this process, made
 * when first needed. When there is no keeper to be had (no bundle, it cannot start, it fails a
 * request before the host was asked), the host is reached directly, as without the option. What
 * the host answers (a refused key, a changed host key, an unreachable host) is the same error as a
 * direct connection's.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { KERNELFILE_VERSION } from '../engine/version.js';
import {
  frame,
  KeeperDirError,
  type KeeperReply,
  type KeeperRequest,
  type KeeperStats,
  type KeptConnection,
  keeperDir,
  MessageReader,
  socketPath,
} from './keeper-protocol.js';
import { SSH_CAPABILITIES } from './kinds/ssh.js';
import type { SshSettings, SshTransport } from './ssh.js';
import { jumpHost, type SshTarget, sshName } from './ssh-config.js';
import { HostError, type RunOptions, type RunResult, type Transport } from './transport.js';

/** The keeper's bundle: src/ and dist/ sit two levels below the package root, as the CLI bundle does. */
export const KEEPER_FILE = fileURLToPath(new URL('../../dist/bundle/keeper.cjs', import.meta.url));

/** How long to wait for a keeper just started to answer. */
const START_MS = 5_000;

/** The socket of this kernelfile's keeper for the user; throws KeeperDirError when its directory is not the user's alone. */
export function keeperSocket(env: Record<string, string | undefined>): string {
  return socketPath(keeperDir(env, process.getuid?.() ?? 0), KERNELFILE_VERSION, KEEPER_FILE);
}

/** Why a request did not reach the keeper (nothing was asked of a host). */
class NoKeeper extends Error {}

/**
 * Send one request and hand each reply to `onReply` as it arrives; resolves when the keeper closes
 * the connection. Rejects with NoKeeper when it cannot connect.
 */
export function askKeeper(
  sock: string,
  req: KeeperRequest,
  onReply: (r: KeeperReply) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection(sock);
    const reader = new MessageReader();
    let connected = false;
    s.once('connect', () => {
      connected = true;
      s.write(frame(req));
    });
    s.on('data', (chunk: Buffer) => {
      try {
        for (const m of reader.push(chunk)) onReply(m as KeeperReply);
      } catch (e) {
        s.destroy(e as Error);
      }
    });
    s.once('error', (e) => reject(connected ? e : new NoKeeper(e.message)));
    s.once('close', () => resolve());
  });
}

/** The first reply to `req` that `pick` takes, or undefined (also when no keeper answers on `sock`). */
async function firstReply<T>(
  sock: string,
  req: KeeperRequest,
  pick: (r: KeeperReply) => T | undefined,
): Promise<T | undefined> {
  let got: T | undefined;
  await askKeeper(sock, req, (r) => {
    got ??= pick(r);
  }).catch(() => {});
  return got;
}

/** The keeper's counters (or undefined when none answers on `sock`). */
export function keeperStats(sock: string): Promise<KeeperStats | undefined> {
  return firstReply(sock, { op: 'stats', version: KERNELFILE_VERSION }, (r) =>
    'stats' in r ? r.stats : undefined,
  );
}

/** Ask the keeper on `sock` to close its connections and end; false when none answered. */
export async function stopKeeper(sock: string): Promise<boolean> {
  return (
    (await firstReply(sock, { op: 'stop', version: KERNELFILE_VERSION }, (r) =>
      'stopping' in r ? true : undefined,
    )) ?? false
  );
}

/** The keeper's socket by the directories it is found from (XDG_RUNTIME_DIR, TMPDIR). */
const sockets = new Map<string, string>();

/** One start of a keeper per socket per process: a fleet's hosts ask at once. */
const starting = new Map<string, Promise<boolean>>();

/** Start a keeper on `sock` and wait until it answers; false when it did not. */
function startKeeper(sock: string): Promise<boolean> {
  let p = starting.get(sock);
  if (p) return p;
  p = new Promise<boolean>((resolve) => {
    // Its errors (it has no terminal) go to a log beside its socket.
    let log: number | 'ignore' = 'ignore';
    try {
      log = openSync(`${sock}.log`, 'a', 0o600);
    } catch {}
    // Nothing of this command's: not its directory (which it would hold busy), not its environment
    // (every setting a connection needs is in each request), not its terminal.
    const child = spawn(process.execPath, [KEEPER_FILE, sock, KERNELFILE_VERSION], {
      detached: true,
      cwd: '/',
      env: {},
      stdio: ['ignore', 'ignore', log],
    });
    if (typeof log === 'number') closeSync(log);
    let exited = false;
    child.once('error', () => {
      exited = true;
    });
    child.once('exit', () => {
      exited = true;
    });
    child.unref();
    const started = Date.now();
    const poll = () =>
      askKeeper(sock, { op: 'stats', version: KERNELFILE_VERSION }, () => {}).then(
        () => resolve(true),
        () => {
          if (exited || Date.now() - started > START_MS) resolve(false);
          else setTimeout(poll, 10);
        },
      );
    poll();
  });
  starting.set(sock, p);
  p.finally(() => starting.delete(sock));
  return p;
}

function hostError(e: { host: string; kind: HostError['kind']; message: string; hint?: string }): HostError {
  return new HostError(e.host, e.kind, e.message, e.hint);
}

/**
 * A transport whose commands run on the keeper's connection to the host; undefined when no keeper
 * could be had (the caller connects directly). Throws the host's error when the keeper could not
 * connect to it, and KeeperDirError (as a HostError) when the socket's directory is not the user's.
 */
export async function openKept(
  target: SshTarget,
  settings: SshSettings,
  persistMs: number,
  env: Record<string, string | undefined>,
): Promise<Transport | undefined> {
  if (!existsSync(KEEPER_FILE)) return undefined;
  let sock: string;
  try {
    // Once per process (and directory): a fleet's hosts share it.
    const dirKey = `${env.XDG_RUNTIME_DIR}\0${env.TMPDIR}`;
    sock = sockets.get(dirKey) ?? keeperSocket(env);
    sockets.set(dirKey, sock);
  } catch (e) {
    if (!(e instanceof KeeperDirError)) throw e;
    throw new HostError(
      sshName(target),
      'io',
      e.message,
      `make it yours alone (chmod 700 ${e.dir}) or remove it; or set XDG_RUNTIME_DIR (else TMPDIR) to a directory of yours; or leave out --control-persist`,
    );
  }
  const conn: KeptConnection = {
    target,
    jumps: Object.fromEntries(target.proxyJump.map((n) => [n, jumpHost(target, settings, n)])),
    knownHostsFiles: settings.knownHostsFiles,
    ...(settings.agentSocket ? { agentSocket: settings.agentSocket } : {}),
    ...(settings.connectTimeoutMs !== undefined ? { connectTimeoutMs: settings.connectTimeoutMs } : {}),
    ...(settings.commandTimeoutMs !== undefined ? { commandTimeoutMs: settings.commandTimeoutMs } : {}),
  };
  const req: KeeperRequest = { op: 'open', version: KERNELFILE_VERSION, persistMs, conn };
  for (let attempt = 0; attempt < 2; attempt++) {
    let reply: KeeperReply | undefined;
    try {
      await askKeeper(sock, req, (r) => {
        reply ??= r;
      });
    } catch (e) {
      if (!(e instanceof NoKeeper) || attempt > 0 || !(await startKeeper(sock))) return undefined;
      continue;
    }
    if (reply && 'opened' in reply) return new KeptTransport(sock, conn, persistMs, settings);
    if (reply && 'error' in reply) throw hostError(reply.error);
    return undefined;
  }
  return undefined;
}

export class KeptTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly capabilities = SSH_CAPABILITIES;
  readonly name: string;
  private direct?: Promise<SshTransport>;
  private closed = false;

  constructor(
    private readonly sock: string,
    private readonly conn: KeptConnection,
    private readonly persistMs: number,
    private readonly settings: SshSettings,
  ) {
    this.name = sshName(conn.target);
  }

  /** This process's own connection to the host (for copying files, or when the keeper fails a request). */
  private own(): Promise<SshTransport> {
    if (this.closed) throw new HostError(this.name, 'disconnected', 'the connection was closed');
    this.direct ??= import('./ssh.js').then(({ SshTransport }) =>
      SshTransport.connect(this.conn.target, this.settings),
    );
    return this.direct;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new HostError(this.name, 'disconnected', 'the connection was closed');
    let result: RunResult | undefined;
    let error: HostError | undefined;
    let heard = false;
    try {
      await askKeeper(
        this.sock,
        {
          op: 'run',
          version: KERNELFILE_VERSION,
          persistMs: this.persistMs,
          conn: this.conn,
          run: {
            argv: [...argv],
            ...(opts.stdin !== undefined ? { stdin: Buffer.from(opts.stdin).toString('base64') } : {}),
            ...(opts.sudo ? { sudo: true } : {}),
            ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
            ...(opts.env ? { env: opts.env } : {}),
            ...(opts.onLine ? { lines: true } : {}),
          },
        },
        (r) => {
          if ('line' in r) {
            heard = true;
            opts.onLine?.(r.line, r.stream);
          } else if ('result' in r) result = r.result;
          else if ('error' in r) error = hostError(r.error);
        },
      );
    } catch {}
    if (result) return result;
    if (error) throw error;
    if (heard)
      throw new HostError(
        this.name,
        'disconnected',
        `the connection keeper ended while running \`${argv.join(' ')}\``,
      );
    // No answer from the keeper (it was stopped or killed, or failed the request: a fault) and no
    // output: the command runs on this process's own connection, as without the keeper. Commands
    // that only read are what kept connections serve (HostOptions.controlPersistMs).
    return (await this.own()).run(argv, opts);
  }

  async put(localPath: string, remotePath: string, mode?: number): Promise<void> {
    return (await this.own()).put(localPath, remotePath, mode);
  }

  async write(remotePath: string, data: string | Buffer, mode?: number): Promise<void> {
    return (await this.own()).write(remotePath, data, mode);
  }

  async get(remotePath: string): Promise<Buffer> {
    return (await this.own()).get(remotePath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const d = this.direct;
    if (d) await d.then((t) => t.close()).catch(() => {});
  }
}
