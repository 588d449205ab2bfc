/**
 * The keeper: a background process of the user's that holds authenticated SSH connections
 * between kernelfile commands (`--control-persist SECONDS`, like OpenSSH's ControlPersist), so a
 * command that finds one skips the login. kept.ts starts it and talks to it over a Unix socket
 * (keeper-protocol.ts). It runs nothing on this machine: each request runs one command on one host,
 * on the connection kept for exactly that request's settings and files (connectionKey), made as a
 * direct connection is (ssh.ts). A connection unused for its persist time is closed; with none left,
 * the keeper ends.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import {
  connectionKey,
  frame,
  type KeeperReply,
  type KeeperRequest,
  type KeptConnection,
  type KeptRun,
  MessageReader,
} from './keeper-protocol.js';
import { type SshSettings, SshTransport } from './ssh.js';
import type { SshTarget } from './ssh-config.js';
import { HostError, type RunOptions } from './transport.js';

/** What the keeper needs of a connection (SshTransport; a test's fake). */
export type KeptLink = Pick<SshTransport, 'isLost' | 'run' | 'close'>;

interface Kept {
  transport: Promise<KeptLink>;
  /** Requests running on it now: it is not closed while any runs. */
  busy: number;
  persistMs: number;
  timer?: NodeJS.Timeout;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** A connection's first keepalive after this long unused, and every this long after (the client's default is 10 s). */
const KEEPALIVE_MS = 5_000;

export class Keeper {
  private readonly kept = new Map<string, Kept>();
  private logins = 0;
  private reused = 0;
  private clients = 0;
  private idle?: NodeJS.Timeout;

  constructor(
    private readonly version: string,
    private readonly onEmpty: () => void,
    private readonly connect: (t: SshTarget, s: SshSettings) => Promise<KeptLink> = (t, s) =>
      SshTransport.connect(t, s),
  ) {}

  /** The connection for `c`, and whether it was kept from an earlier request; connecting when none is live. */
  private async acquire(
    c: KeptConnection,
    persistMs: number,
  ): Promise<{ t: KeptLink; key: string; k: Kept; reused: boolean }> {
    const key = connectionKey(c);
    const k = this.kept.get(key);
    if (k) {
      const t = await k.transport.catch(() => undefined);
      if (t && !t.isLost) {
        k.busy++;
        k.persistMs = Math.max(k.persistMs, persistMs);
        if (k.timer) clearTimeout(k.timer);
        return { t, key, k, reused: true };
      }
      this.drop(key, k);
    }
    const jumps = c.jumps;
    const transport = this.connect(c.target, {
      knownHostsFiles: c.knownHostsFiles,
      acceptNewHostKeys: false,
      ...(c.agentSocket ? { agentSocket: c.agentSocket } : {}),
      ...(c.connectTimeoutMs !== undefined ? { connectTimeoutMs: c.connectTimeoutMs } : {}),
      ...(c.commandTimeoutMs !== undefined ? { commandTimeoutMs: c.commandTimeoutMs } : {}),
      keepaliveIntervalMs: KEEPALIVE_MS,
      resolveJump: (name) => {
        const hop = Object.hasOwn(jumps, name) ? jumps[name] : undefined;
        if (!hop) throw new HostError(name, 'unreachable', 'the jump host was not resolved by the caller');
        return hop;
      },
    });
    const made: Kept = { transport, busy: 1, persistMs };
    this.kept.set(key, made);
    this.logins++;
    try {
      return { t: await transport, key, k: made, reused: false };
    } catch (e) {
      this.drop(key, made);
      throw e;
    }
  }

  /** A request is done with `k` (which another request may have replaced under its key meanwhile). */
  private release(key: string, k: Kept): void {
    if (this.kept.get(key) !== k) {
      this.checkEmpty();
      return;
    }
    k.busy--;
    if (k.busy > 0) return;
    // A timer holds at most 2^31 - 1 ms (24.8 days); a longer one would fire at once.
    k.timer = setTimeout(() => this.drop(key, k), Math.min(k.persistMs, MAX_TIMER_MS));
    k.timer.unref();
  }

  private drop(key: string, k: Kept): void {
    if (k.timer) clearTimeout(k.timer);
    if (this.kept.get(key) === k) this.kept.delete(key);
    k.transport.then((t) => t.close()).catch(() => {});
    this.checkEmpty();
  }

  /** Listening: a keeper that is never asked ends too. */
  start(): void {
    this.checkEmpty();
  }

  /** Nothing kept and no one asking: the keeper is done (after a moment, for a request on its way). */
  private checkEmpty(): void {
    if (this.idle) clearTimeout(this.idle);
    if (this.kept.size > 0 || this.clients > 0) return;
    this.idle = setTimeout(() => {
      if (this.kept.size === 0 && this.clients === 0) this.onEmpty();
    }, 1_000);
  }

  /** Serve one socket connection: one request, its replies, then the end. */
  serve(sock: Socket): void {
    this.clients++;
    if (this.idle) clearTimeout(this.idle);
    const reader = new MessageReader();
    let done = false;
    const send = (m: KeeperReply) => {
      if (!sock.destroyed) sock.write(frame(m));
    };
    const finish = () => {
      if (done) return;
      done = true;
      this.clients--;
      sock.end();
      this.checkEmpty();
    };
    sock.on('error', () => {});
    sock.on('close', finish);
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch (e) {
        send({ fault: `unreadable request: ${(e as Error).message}` });
        return finish();
      }
      const m = messages[0] as KeeperRequest | undefined;
      if (!m) return;
      sock.pause();
      this.handle(m, send, () => sock.destroyed).then(finish, (e) => {
        send({ fault: (e as Error).message });
        finish();
      });
    });
  }

  /** One request: its replies go to `send`; `gone` says the asker left (output lines are not sent then). */
  async handle(m: KeeperRequest, send: (r: KeeperReply) => void, gone: () => boolean): Promise<void> {
    if (m.version !== this.version) {
      send({ fault: `this keeper runs kernelfile ${this.version}, not ${String(m.version)}` });
      return;
    }
    if (m.op === 'stats') {
      send({
        stats: {
          version: this.version,
          pid: process.pid,
          connections: this.kept.size,
          logins: this.logins,
          reused: this.reused,
        },
      });
      return;
    }
    if (m.op === 'stop') {
      send({ stopping: true });
      for (const [key, k] of [...this.kept]) this.drop(key, k);
      setImmediate(this.onEmpty);
      return;
    }
    if (m.op !== 'open' && m.op !== 'run')
      throw new Error(`unknown request ${JSON.stringify((m as { op: unknown }).op)}`);
    if (!Number.isFinite(m.persistMs) || m.persistMs <= 0) throw new Error('no persist time');
    const forward = (e: unknown) => {
      if (!(e instanceof HostError)) throw e;
      send({
        error: {
          host: e.host,
          kind: e.kind,
          message: e.message.startsWith(`${e.host}: `) ? e.message.slice(e.host.length + 2) : e.message,
          ...(e.hint ? { hint: e.hint } : {}),
        },
      });
    };
    let got: Awaited<ReturnType<Keeper['acquire']>>;
    try {
      got = await this.acquire(m.conn, m.persistMs);
    } catch (e) {
      return forward(e);
    }
    if (got.reused) this.reused++;
    try {
      if (m.op === 'open') {
        send({ opened: true, reused: got.reused });
        return;
      }
      try {
        send({ result: await got.t.run(m.run.argv, runOptions(m.run, send, gone)) });
      } catch (e) {
        // A kept connection found dead once the command was sent (the host went away while it was
        // kept, or as the command ran): it runs once more on a new connection. Kept connections
        // serve the commands that only read (HostOptions.controlPersistMs), for which that is safe.
        if (!(got.reused && e instanceof HostError && e.kind === 'disconnected' && got.t.isLost)) throw e;
        this.release(got.key, got.k);
        got = await this.acquire(m.conn, m.persistMs);
        send({ result: await got.t.run(m.run.argv, runOptions(m.run, send, gone)) });
      }
    } catch (e) {
      forward(e);
    } finally {
      this.release(got.key, got.k);
    }
  }
}

function runOptions(r: KeptRun, send: (m: KeeperReply) => void, gone: () => boolean): RunOptions {
  return {
    ...(r.stdin !== undefined ? { stdin: Buffer.from(r.stdin, 'base64') } : {}),
    ...(r.sudo ? { sudo: true } : {}),
    ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}),
    ...(r.env ? { env: r.env } : {}),
    ...(r.lines ? { onLine: (line, stream) => gone() || send({ line, stream }) } : {}),
  };
}

/**
 * Serve on `socketPath` until nothing is kept. When another keeper already answers there, this one
 * ends at once; a socket file no one answers on (a keeper that was killed) is replaced.
 */
export function runKeeper(socketPath: string, version: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const end = () => {
      server.close();
      rmSync(socketPath, { force: true });
      resolve();
    };
    const keeper = new Keeper(version, end);
    server.on('connection', (s) => keeper.serve(s));
    let retried = false;
    server.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EADDRINUSE' || retried) return reject(e);
      retried = true;
      const probe = createConnection(socketPath);
      probe.once('connect', () => {
        probe.destroy();
        resolve();
      });
      probe.once('error', () => {
        rmSync(socketPath, { force: true });
        server.listen(socketPath);
      });
    });
    server.on('listening', () => {
      chmodSync(socketPath, 0o600);
      keeper.start();
    });
    server.listen(socketPath);
  });
}
