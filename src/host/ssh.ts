/**
 * A remote host over SSH (ssh2): one connection per host, reused for every command and transfer.
 * Host keys are verified against known_hosts (unknown and changed keys are refused unless new
 * keys are explicitly accepted); authentication by ssh-agent and key files; ProxyJump; `sudo -n`
 * for non-root users (a host that wants a password is an error, never a hang); connect and
 * command timeouts, keepalives; SFTP uploads to a temp name, then an atomic rename.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import type { ConnectConfig, ParsedKey, ServerHostKeyAlgorithm, SFTPWrapper } from 'ssh2';
// ssh2's client and key parser, not its index, which loads node:http, https and tls too
// (ssh2-modules.d.ts). ssh2 is CommonJS: a module's exports are its default export under ESM.
import ssh2Client from 'ssh2/lib/client.js';
import keyParser from 'ssh2/lib/protocol/keyParser.js';

const Client = ssh2Client;
type Client = InstanceType<typeof Client>;
const { parseKey } = keyParser;

import { FileMemo } from './file-memo.js';
import { SSH_CAPABILITIES } from './kinds/ssh.js';
import {
  fingerprint,
  hostKeyAlgorithms,
  type KnownHostLine,
  knownHostsEntry,
  parseKnownHosts,
  verifyHostKey,
} from './known-hosts.js';
import { LineCollector } from './lines.js';
import { quoteArgv, withEnv } from './quote.js';
import { jumpHost, type SshTarget, sshName } from './ssh-config.js';
import { HostError, type RunOptions, type RunResult, type Transport } from './transport.js';

export interface SshSettings {
  /** known_hosts files: all are read; new keys (with acceptNewHostKeys) go to the first. */
  knownHostsFiles: string[];
  acceptNewHostKeys?: boolean;
  /** ssh-agent socket (SSH_AUTH_SOCK); none to skip the agent. */
  agentSocket?: string;
  connectTimeoutMs?: number;
  /** Default limit for each command; RunOptions.timeoutMs overrides it. */
  commandTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** Resolves a ProxyJump hop name the way the target itself was resolved (~/.ssh/config). */
  resolveJump?: (name: string) => SshTarget;
}

const SUDO_PASSWORD = /sudo: (a password is required|a terminal is required|no tty present)/;

/**
 * The controller files read for every connection (identity files, known_hosts), read and parsed
 * once per process while each stays the same file (host/file-memo.ts): a fleet's hosts share them.
 * A file that is gone, or not a regular file, is as if absent.
 */
const identities = new FileMemo<{ parsed: ReturnType<typeof parseKey> | undefined; signer?: ParsedKey }>();

/** The keys signer() made: streamlineLogin signs with them without asking the host first. */
const signers = new WeakSet<object>();

/**
 * The parsed identity, signing with a key object made once. ssh2's parsed key signs from its PEM
 * text, which Node parses again for every signature: 0.39 ms against 0.04 ms for an ed25519 key
 * here, once per connection. The same signature either way: crypto.sign with the hash ssh2 asks
 * for (none for ed25519, that of rsa-sha2-256/512 or ssh-rsa for RSA); a call without one (an ECDSA
 * key, whose hash goes with its curve) is the parsed key's own sign, as before. Everything else is
 * the parsed key's.
 */
function signer(parsed: ParsedKey): ParsedKey {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(parsed.getPrivatePEM());
  } catch {
    return parsed;
  }
  const ed25519 = parsed.type === 'ssh-ed25519';
  const fast: ParsedKey = Object.create(parsed);
  signers.add(fast);
  // As ssh2's own sign: a failure is returned (the client reports it), not thrown.
  fast.sign = (data: string | Buffer, algo?: string) => {
    if (!ed25519 && !algo) return parsed.sign(data, algo);
    try {
      return sign(ed25519 ? null : (algo as string), Buffer.from(data), key);
    } catch (e) {
      return e as Buffer;
    }
  };
  return fast;
}
const knownHostsFiles = new FileMemo<KnownHostLine[]>();

/** An absent known_hosts file's lines. */
const NO_LINES: KnownHostLine[] = [];
let joined: { parts: KnownHostLine[][]; lines: KnownHostLine[] } | undefined;

/**
 * The known_hosts files' lines as one list: the same list while each file is the same (a fleet's
 * connections then share the index known-hosts.ts makes of it). A key accepted by a connection is
 * appended to it, as to the file.
 */
function knownLines(files: readonly string[]): KnownHostLine[] {
  const parts = files.map(
    (f) => knownHostsFiles.get(f, () => parseKnownHosts(readFileSync(f, 'utf8'), f)) ?? NO_LINES,
  );
  if (joined?.parts.length === parts.length && joined.parts.every((p, i) => p === parts[i]))
    return joined.lines;
  joined = { parts, lines: parts.flat() };
  return joined.lines;
}

/** Authentication methods to offer, in order, and a description of them for error messages. */
function authMethods(
  t: SshTarget,
  s: SshSettings,
): { methods: NonNullable<ConnectConfig['authHandler']>; tried: string[] } {
  const methods: Array<Record<string, unknown>> = [];
  const tried: string[] = [];
  if (s.agentSocket && !t.identitiesOnly) {
    methods.push({ type: 'agent', username: t.user, agent: s.agentSocket });
    tried.push('ssh-agent');
  }
  for (const file of t.identityFiles) {
    const read = identities.get(file, () => {
      // undefined for an OpenSSH key file that holds no key (ssh2 then throws on it)
      const parsed = parseKey(readFileSync(file)) as ReturnType<typeof parseKey> | undefined;
      return !parsed || parsed instanceof Error ? { parsed } : { parsed, signer: signer(parsed) };
    });
    if (!read) continue;
    const { parsed, signer: key } = read;
    if (!key) {
      const message = parsed instanceof Error ? parsed.message : 'no key in it';
      tried.push(
        `${file} (unusable: ${/passphrase/i.test(message) ? 'passphrase-protected; load it into ssh-agent' : message})`,
      );
      continue;
    }
    methods.push({ type: 'publickey', username: t.user, key });
    tried.push(file);
  }
  return { methods: methods as unknown as NonNullable<ConnectConfig['authHandler']>, tried };
}

/** Open an authenticated connection (through ProxyJump hops if configured). */
export async function connectSsh(t: SshTarget, s: SshSettings, depth = 0): Promise<Client> {
  const name = sshName(t);
  if (depth > 8) throw new HostError(name, 'unreachable', 'ProxyJump chain is longer than 8 hops (a loop?)');
  let sock: ConnectConfig['sock'];
  let jump: Client | undefined;
  if (t.proxyJump.length > 0) {
    const hops = [...t.proxyJump];
    const last = hops.pop() as string;
    const hop = { ...jumpHost(t, s, last), proxyJump: hops };
    jump = await connectSsh(hop, s, depth + 1);
    sock = await new Promise((res, rej) =>
      (jump as Client).forwardOut('127.0.0.1', 0, t.host, t.port, (err, stream) =>
        err
          ? rej(
              new HostError(
                name,
                'unreachable',
                `cannot reach ${t.host}:${t.port} through ${sshName(hop)}: ${err.message}`,
              ),
            )
          : res(stream),
      ),
    );
  }

  const lines = knownLines(s.knownHostsFiles);
  let refusal: HostError | undefined;
  const { methods, tried } = authMethods(t, s);
  const client = new Client();
  // A socket error after the handshake (a reset when the host goes away) must never become an
  // uncaught exception: SshTransport turns it into `disconnected`; for a jump host, the target's
  // connection through it fails and reports it.
  client.on('error', () => {});
  jump?.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (e: Error & { level?: string; code?: string }) =>
        reject(refusal ?? mapConnectError(name, t, e, tried)),
      );
      client.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        ...(sock ? { sock } : {}),
        readyTimeout: s.connectTimeoutMs ?? 10_000,
        keepaliveInterval: s.keepaliveIntervalMs ?? 10_000,
        keepaliveCountMax: 3,
        authHandler: methods,
        // The key types known_hosts holds for the host first (OpenSSH's order_hostkeyalgs): a host
        // with ed25519 and ecdsa keys, known by its ecdsa key, presents that one.
        algorithms: { serverHostKey: hostKeyAlgorithms(lines, t.host, t.port) as ServerHostKeyAlgorithm[] },
        hostVerifier: (key: Buffer) => {
          const v = verifyHostKey(lines, t.host, t.port, key);
          if (v.status === 'known') return true;
          const fp = fingerprint(key);
          if (v.status === 'unknown' && s.acceptNewHostKeys && s.knownHostsFiles[0]) {
            const file = s.knownHostsFiles[0];
            mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
            const entry = knownHostsEntry(t.host, t.port, key);
            appendFileSync(file, `${entry}\n`, { mode: 0o600 });
            lines.push(...parseKnownHosts(entry, file)); // verified again on re-key: known now
            return true;
          }
          refusal =
            v.status === 'unknown'
              ? new HostError(
                  name,
                  'host-key-unknown',
                  `host key ${fp} is not in known_hosts (${s.knownHostsFiles.join(', ')})${
                    v.others.length
                      ? `; it records only keys of other types for this host (${[...new Set(v.others.map((l) => l.keyType))].join(', ')}), which the host no longer offers`
                      : ''
                  }`,
                  "check the fingerprint with the host's owner, then connect once with --accept-new-host-keys (or add it with ssh-keyscan)",
                )
              : v.status === 'revoked'
                ? new HostError(
                    name,
                    'host-key-changed',
                    `host key ${fp} is marked @revoked in ${v.line.file}:${v.line.line}`,
                  )
                : new HostError(
                    name,
                    'host-key-changed',
                    `HOST KEY CHANGED: the host presented ${fp}, but ${v.line.file}:${v.line.line} records a different key; someone may be intercepting the connection`,
                    `if the host was reinstalled, remove the old key (ssh-keygen -R '${v.line.hosts}') and connect again`,
                  );
          return false;
        },
      });
      streamlineLogin(client, signers);
    });
  } catch (e) {
    client.end();
    jump?.end();
    throw e;
  }
  if (jump) client.once('close', () => jump?.end());
  return client;
}

/**
 * Two exchanges ssh2 makes on every connection that cost the host (sshd's privileged monitor) and
 * a round trip, for nothing kernelfile uses; ssh2 has no option for either, so its per-connection
 * protocol object (made in connect()) is adjusted. Were its internals to change, a connection goes
 * as before. Together they spared the hosts about 2 ms of CPU per connection in the bench's
 * 50-host runs, and a round trip of each login. Besides, no packet of a login waits for a delayed
 * TCP acknowledgement (two such waits cost a one-host plan 80 ms): see the comments below.
 *  - Host key proofs. After every login, OpenSSH's sshd announces all its host keys
 *    (hostkeys-00@openssh.com); ssh2 asks the host to prove each (one signature per host key on
 *    the host, an RSA key costing milliseconds; one verification here), to learn keys that
 *    kernelfile never uses: known_hosts is only given the key a connection was verified with
 *    (OpenSSH's UpdateHostKeys, which would use them, asks only about keys it does not know). The
 *    announcement is acknowledged and dropped.
 *  - The public key query. For each key, ssh2 first asks whether the host would accept it, and
 *    signs only then: sshd checks authorized_keys twice and answers twice. RFC 4252 (7) lets a
 *    client send the signed request at once; OpenSSH's client asks first for keys in an agent or on
 *    a token, where signing is a prompt or a PIN. kernelfile's own key files (`keys`: the objects
 *    authMethods offers) sign at once, as if the host had accepted them; a host that does not
 *    answers the signed request with a failure, and the next key or algorithm is tried as before.
 */
function streamlineLogin(client: Client, keys: WeakSet<object>): void {
  // Each packet goes out when it is written (TCP_NODELAY). Else the kernel holds a small packet while
  // the one before is unacknowledged, and sshd acknowledges late (40 ms): the service request that
  // follows the key exchange's last packet waited that long on every connection.
  client.setNoDelay(true);
  const internals = client as unknown as {
    _callbacks?: unknown[];
    _protocol?: {
      _handlers?: Record<string, unknown>;
      requestSuccess?: () => void;
      ping?: () => void;
      authPK?: (...args: unknown[]) => void;
    };
  };
  const proto = internals._protocol;
  const handlers = proto?._handlers;
  if (!proto || !handlers) return;
  const global = handlers.GLOBAL_REQUEST;
  const { requestSuccess, ping } = proto;
  const replies = internals._callbacks;
  if (
    typeof global === 'function' &&
    typeof requestSuccess === 'function' &&
    typeof ping === 'function' &&
    Array.isArray(replies)
  )
    handlers.GLOBAL_REQUEST = (p: unknown, name: unknown, wantReply: unknown, ...rest: unknown[]) => {
      if (name !== HOSTKEYS_ANNOUNCEMENT) return global(p, name, wantReply, ...rest);
      if (wantReply) requestSuccess.call(proto);
      // Answered with a keepalive (as ssh2's own, with a callback that takes its reply): sshd's
      // socket, unlike ours, holds a small packet while the one before is unacknowledged, and this
      // one would be acknowledged late (40 ms) with nothing sent back: the confirmation of the
      // session channel, which sshd sends next, would wait that long.
      else {
        replies.push(() => {});
        ping.call(proto);
      }
    };
  const authPK = proto.authPK;
  const accepted = handlers.USERAUTH_PK_OK;
  if (typeof authPK === 'function' && typeof accepted === 'function')
    proto.authPK = (user: unknown, key: unknown, keyAlgo: unknown, cbSign?: unknown) => {
      const query = cbSign === undefined && typeof keyAlgo !== 'function';
      if (query && typeof key === 'object' && key !== null && keys.has(key)) return accepted(proto);
      return authPK.call(proto, user, key, keyAlgo, cbSign);
    };
}

const HOSTKEYS_ANNOUNCEMENT = 'hostkeys-00@openssh.com';

function mapConnectError(
  name: string,
  t: SshTarget,
  e: Error & { level?: string; code?: string },
  tried: string[],
): HostError {
  if (e.level === 'client-authentication')
    return new HostError(
      name,
      'auth',
      `authentication refused for user ${t.user} (offered: ${tried.length ? tried.join(', ') : 'nothing: no agent and no key file'})`,
      "add your public key to the user's ~/.ssh/authorized_keys, or pass --identity FILE",
    );
  if (e.level === 'client-timeout')
    return new HostError(
      name,
      'unreachable',
      `no SSH handshake within the connect timeout`,
      'is the host up and is sshd listening on that port?',
    );
  const why =
    e.code === 'ECONNREFUSED'
      ? `connection refused on ${t.host}:${t.port}`
      : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
        ? `cannot resolve host name ${t.host}`
        : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH'
          ? `no route to ${t.host}`
          : e.code === 'ETIMEDOUT'
            ? `connection to ${t.host}:${t.port} timed out`
            : e.message;
  return new HostError(name, 'unreachable', why, 'check the address, the port, and that sshd runs there');
}

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly capabilities = SSH_CAPABILITIES;
  readonly name: string;
  private sftpSession?: Promise<SFTPWrapper>;
  private closed = false;
  private lost?: HostError;
  /** Rejects when the connection drops: every pending operation races against it. */
  private readonly whenLost: Promise<never>;

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    private readonly settings: SshSettings,
  ) {
    this.name = sshName(target);
    this.whenLost = new Promise<never>((_, reject) => {
      client.on('error', (e) => {
        this.lost ??= new HostError(this.name, 'disconnected', `connection lost: ${e.message}`);
        reject(this.lost);
      });
      client.on('close', () => {
        this.lost ??= new HostError(this.name, 'disconnected', 'connection closed by the host');
        reject(this.lost);
      });
    });
    this.whenLost.catch(() => {}); // observed through guard(); never an unhandled rejection
  }

  /** The connection dropped (the host went away, a keepalive timed out): a new one is needed. */
  get isLost(): boolean {
    return this.lost !== undefined;
  }

  /** An operation that fails as soon as the connection is lost, instead of waiting forever. */
  private guard<T>(op: Promise<T>): Promise<T> {
    return Promise.race([op, this.whenLost]);
  }

  static async connect(target: SshTarget, settings: SshSettings): Promise<SshTransport> {
    return new SshTransport(await connectSsh(target, settings), target, settings);
  }

  private check(): void {
    if (this.closed) throw new HostError(this.name, 'disconnected', 'the connection was closed');
    if (this.lost) throw this.lost;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.check();
    const sudo = opts.sudo && this.target.user !== 'root' ? ['sudo', '-n', '--'] : [];
    const timeoutMs = opts.timeoutMs ?? this.settings.commandTimeoutMs;
    // The host enforces the limit (coreutils/busybox timeout: exit 124, KILL 5 s after TERM): closing
    // our end of a channel does not stop a remote process. Our own timer below is only a backstop.
    const limit = timeoutMs === undefined ? [] : ['timeout', '-k', '5', (timeoutMs / 1000).toFixed(3)];
    const command = quoteArgv([...sudo, ...limit, ...withEnv(argv, opts.env)]);
    const out = new LineCollector(opts.onLine && ((l) => opts.onLine?.(l, 'stdout')));
    const err = new LineCollector(opts.onLine && ((l) => opts.onLine?.(l, 'stderr')));
    // Listeners go on inside exec's callback, in the same tick: a fast command's output, exit status
    // and close can arrive in the same packet batch as the channel confirmation (e.g. via ProxyJump).
    const result = await this.guard(
      new Promise<RunResult>((resolve, reject) =>
        this.client.exec(command, (e, stream) => {
          if (e) {
            reject(
              this.lost ?? new HostError(this.name, 'disconnected', `cannot start a command: ${e.message}`),
            );
            return;
          }
          let code: number | undefined;
          let timedOut = false;
          const timer =
            timeoutMs === undefined
              ? undefined
              : setTimeout(() => {
                  timedOut = true;
                  stream.close();
                }, timeoutMs + 10_000);
          stream.on('data', (c: Buffer) => out.push(c));
          stream.stderr.on('data', (c: Buffer) => err.push(c));
          stream.on('exit', (c: number | null, signal?: string) => {
            {
              // ssh2 names the signal as the protocol does ("KILL"); some servers send "SIGKILL".
              const sig = signal?.replace(/^SIG/, '');
              code =
                c ??
                128 + (sig === 'KILL' ? 9 : sig === 'TERM' ? 15 : sig === 'INT' ? 2 : sig === 'HUP' ? 1 : 0);
            }
          });
          stream.on('close', () => {
            if (timer) clearTimeout(timer);
            const stdout = out.end();
            let stderr = err.end();
            if (timedOut || (limit.length && code === 124)) {
              stderr += `kernelfile: timed out after ${timeoutMs} ms\n`;
              resolve({ code: 124, stdout, stderr });
            } else if (code === undefined)
              reject(
                this.lost ??
                  new HostError(
                    this.name,
                    'disconnected',
                    `connection lost while running \`${argv.join(' ')}\``,
                  ),
              );
            else resolve({ code, stdout, stderr });
          });
          if (opts.stdin !== undefined) stream.end(opts.stdin);
          else stream.end();
        }),
      ),
    );
    if (sudo.length && result.code !== 0 && SUDO_PASSWORD.test(result.stderr))
      throw new HostError(
        this.name,
        'sudo-password',
        `sudo wants a password for ${this.target.user}`,
        `allow passwordless sudo for ${this.target.user} (a NOPASSWD rule in /etc/sudoers.d) or connect as root`,
      );
    return result;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((res, rej) =>
      this.client.sftp((e, s) =>
        e
          ? rej(
              new HostError(
                this.name,
                'io',
                `cannot start SFTP: ${e.message}`,
                "does the host's sshd have `Subsystem sftp`?",
              ),
            )
          : res(s),
      ),
    );
    return this.sftpSession;
  }

  /** Upload to a temp name beside the target, set the mode, then rename over the target. */
  /** Upload to a temp name beside the target (written by `upload`), set the mode, rename over the target. */
  private async atomicUpload(
    remotePath: string,
    mode: number | undefined,
    verb: string,
    upload: (sftp: SFTPWrapper, tmp: string, cb: (e?: Error | null) => void) => void,
  ) {
    this.check();
    const sftp = await this.guard(this.sftp());
    const tmp = posix.join(
      posix.dirname(remotePath),
      `.${posix.basename(remotePath)}.kf-${randomBytes(6).toString('hex')}`,
    );
    const op = (what: string, f: (cb: (e?: Error | null) => void) => void) =>
      this.guard(
        new Promise<void>((res, rej) =>
          f((e) =>
            e
              ? rej(this.lost ?? new HostError(this.name, 'io', `${what} ${remotePath}: ${e.message}`))
              : res(),
          ),
        ),
      );
    try {
      await op(verb, (cb) => upload(sftp, tmp, cb));
      if (mode !== undefined) await op('cannot set the mode of', (cb) => sftp.chmod(tmp, mode, cb));
      await op('cannot rename into', (cb) => sftp.ext_openssh_rename(tmp, remotePath, cb));
    } catch (e) {
      if (!this.lost) await new Promise((res) => sftp.unlink(tmp, () => res(undefined)));
      throw this.lost ?? e;
    }
  }

  async put(localPath: string, remotePath: string, mode?: number): Promise<void> {
    await this.atomicUpload(remotePath, mode, 'cannot upload', (sftp, tmp, cb) =>
      // Larger writes than ssh2's 32 KiB default (OpenSSH's sftp-server takes up to 256 KiB): about
      // scp's throughput for the artifacts' tens of megabytes.
      sftp.fastPut(localPath, tmp, { mode: 0o600, chunkSize: 255 * 1024, concurrency: 16 }, (e) => cb(e)),
    );
  }

  async write(remotePath: string, data: string | Buffer, mode?: number): Promise<void> {
    await this.atomicUpload(remotePath, mode, 'cannot write', (sftp, tmp, cb) =>
      sftp.writeFile(tmp, data, { mode: 0o600 }, (e) => cb(e)),
    );
  }

  async get(remotePath: string): Promise<Buffer> {
    this.check();
    const sftp = await this.guard(this.sftp());
    return this.guard(
      new Promise((res, rej) =>
        sftp.readFile(remotePath, (e: Error | undefined, b: Buffer) =>
          e
            ? rej(this.lost ?? new HostError(this.name, 'io', `cannot read ${remotePath}: ${e.message}`))
            : res(b),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A connection already lost has emitted its close event: there is nothing to wait for.
    if (this.lost) return;
    await new Promise<void>((res) => {
      // Not unref'd: a process with nothing else to do must still reach the end of close().
      const timer = setTimeout(res, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        res();
      });
      this.client.end();
    });
  }
}
