/**
 * Real SSH hosts for tests: Debian's OpenSSH sshd (the one inside the Debian test root, rootfs.ts)
 * serving a fresh writable overlay of that root on 127.0.0.1, with host and user keys of its own.
 *
 * Each host is one namespace tree, started as
 *   setpriv --pdeathsig KILL --bounding-set -sys_module,... \
 *     unshare --mount --uts --ipc --pid --fork --kill-child --propagation private sh -c SETUP
 * SETUP mounts, inside that private mount namespace only, an overlayfs (lower: the shared root;
 * upper/work: the host's temp dir), a proc of the new PID namespace (/proc/sys read-only), a read-only
 * sysfs and a /dev of its own (no disks of this machine), sets the hostname, then chroots and becomes
 * the namespace's init: a shell that reaps orphans. sshd runs beside it, entered with nsenter.
 * Killing that init (kill(), stop()) makes the kernel kill every process of the host and drop every
 * mount: nothing is ever mounted on this machine, and nothing outlives the test process.
 *
 * Several hosts run at once (each with its own port, hostname, files and keys); they share this
 * machine's network namespace and kernel.
 *
 * With `{ netns: true }` a host also gets a network namespace of its own (see "Network namespaces"
 * below): its own address (10.x.y.2 on a /30, this machine is 10.x.y.1 on a veth pair), sshd on
 * ADDRESS:22, and cutNetwork()/restoreNetwork() to take it off the network and back while it runs.
 * That namespace is named in /run/netns (`ip netns add`: iproute2's bind mount of the namespace there,
 * the one thing such a host mounts on this machine; `ip netns exec NAME …` works for debugging);
 * stop() deletes it, and what a killed test run left is removed by the next run's sweep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHost } from '../../src/host/open.js';
import type { Transport } from '../../src/host/transport.js';
import { createNetns, deleteNetns, ip, ipQuiet, KF_PROTO, type NetnsInfo, NOWHERE_MAC } from './netns.js';
import {
  childPids,
  isolated,
  PATH_ENV,
  type ProcResult,
  pidAlive,
  requireCommands,
  requireRoot,
  run,
  runOk,
  sleep,
  sweepStale,
} from './proc.js';
import { BOB_PASSWORD, DROPPED_CAPS, ensureDebianRoot, MOUNT_DEV_SH } from './rootfs.js';

export { type NetnsInfo, sweepStaleNetns } from './netns.js';

export type SshUser = 'root' | 'alice' | 'bob' | 'stranger';

export interface KeyPair {
  /** A private key file without a passphrase (mode 0600). */
  privateKeyPath: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicKey: string;
}

export interface SshHost {
  /** The address sshd listens on: 127.0.0.1, or the host's own address with { netns: true }. */
  host: string;
  /** The same: 127.0.0.1, or 10.x.y.2 (the host's side of its veth pair) with { netns: true }. */
  address: string;
  port: number;
  /** `ssh://USER@ADDRESS:PORT` (default root), for --host. */
  url(user?: SshUser): string;
  /** The hostname set inside the host (`uname -n`). */
  hostname: string;
  /**
   * The host's filesystem as seen from this machine: `/proc/PID/root` of the host's init, i.e. the
   * overlay's merged directory, readable and writable by root while the host runs (not after kill()
   * or stop()). Careful: an ABSOLUTE symlink inside the host resolves against this machine's root when
   * followed from here; for anything but plain files and directories, use exec().
   */
  root: string;
  /** "ssh-ed25519 AAAA..." (no comment); changes with restartWithNewHostKey(). */
  readonly hostKeyPublic: string;
  /**
   * "[127.0.0.1]:PORT ssh-ed25519 AAAA...", for a known_hosts file: `ADDRESS ssh-ed25519 …` on port
   * 22 (how OpenSSH names a host on its standard port), `[ADDRESS]:PORT …` on any other.
   */
  knownHostsLine(): string;
  /** ed25519 keys; root, alice and bob are authorized for themselves, stranger nowhere. */
  keys: Record<SshUser, KeyPair>;
  /** An RSA key (3072 bits) authorized for root, alice and bob, when startSshHost({ rsaKey: true }). */
  rsaKey?: KeyPair;
  /**
   * "ecdsa-sha2-nistp256 AAAA..." (no comment): the host's second host key, when
   * startSshHost({ ecdsaHostKey: true }); sshd offers both it and the ed25519 one.
   */
  ecdsaHostKeyPublic?: string;
  bobPassword: string;
  /** Run a command INSIDE the host (in its namespaces and chroot, as root), out of band. */
  exec(argv: readonly string[], opts?: { stdin?: string | Buffer }): Promise<ProcResult>;
  /** Restart sshd on the same port with a new host key (sessions already open stay up). */
  restartWithNewHostKey(): Promise<void>;
  /**
   * SIGKILL every process of the host at once (open connections drop); stop() still cleans up. With
   * { netns: true } the namespace and its address stay until stop(): connections are refused there.
   */
  kill(): void;
  /**
   * Kill the host, wait until it is gone, remove its temp dir; with { netns: true }, also kill what
   * `ip netns pids` lists, delete the veth pair, the namespace and the routes of cutNetwork().
   * Idempotent.
   */
  stop(): Promise<void>;
  /** { netns: true } only: the network namespace and the veth pair (for debugging). */
  netns?: NetnsInfo;
  /**
   * { netns: true } only: take the host off the network while it keeps running (exec() still works).
   * `reject` (default): a route `unreachable ADDRESS/32` on this machine, so a new connection fails
   * at once with "No route to host" (EHOSTUNREACH). `drop`: every packet to the host is lost (a
   * permanent neighbour entry with a MAC nobody has), so a new connection times out.
   * Either way, connections already open stall (as when a cable is pulled: the client's keepalives
   * find out), unless `dropOpen`, which aborts this machine's TCP connections to the host at once
   * (`ss -K`, needs CONFIG_INET_DIAG_DESTROY): the client sees its connection reset.
   */
  cutNetwork(opts?: { mode?: 'reject' | 'drop'; dropOpen?: boolean }): Promise<void>;
  /** { netns: true } only: undo cutNetwork(); new connections work again at once. */
  restoreNetwork(): Promise<void>;
  /** What sshd printed (-e), for failure messages. */
  log(): string;
  /** The host's temp dir on this machine (keys/, upper/, work/, merged/). */
  tmpDir: string;
}

export interface SshHostOptions {
  /** The root to overlay (default: ensureDebianRoot()). */
  base?: string;
  /** Hostname inside the host (default kf-host-N). */
  hostname?: string;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Also generate an RSA key (about 0.5 s of CPU) authorized for root, alice and bob. */
  rsaKey?: boolean;
  /** A second host key, ECDSA (nistp256), offered besides the ed25519 one. */
  ecdsaHostKey?: boolean;
  /** Extra sshd_config lines, placed first (in sshd_config the first value of an option wins). */
  sshdConfig?: string[];
  /**
   * A network namespace of its own: sshd listens on the host's own address (10.x.y.2, a free /30
   * per host) on `port` (default 22) instead of 127.0.0.1. See SshHost.cutNetwork().
   */
  netns?: boolean;
}

/** Where the harness puts its files inside a host. */
const KF = '/etc/ssh/kernelfile';

const SETUP_SH = [
  'set -eu',
  'base=$1; d=$2; hn=$3',
  'm=$d/merged',
  'mount -t overlay -o "lowerdir=$base,upperdir=$d/upper,workdir=$d/work" kf-overlay "$m"',
  'mount -t proc -o nosuid,nodev,noexec kf-proc "$m/proc"',
  'for f in sys sysrq-trigger; do [ -e "$m/proc/$f" ] || continue; mount --bind "$m/proc/$f" "$m/proc/$f"; mount -o remount,bind,ro "$m/proc/$f"; done',
  'mount -t sysfs -o ro,nosuid,nodev,noexec kf-sys "$m/sys"',
  MOUNT_DEV_SH,
  'hostname "$hn"',
  // /proc here is still this machine's: /proc/self/stat gives our PID as seen from outside. "ready"
  // is printed from inside the chroot, so that /proc/PID/root is the host's root once it is read.
  'read -r self _ < /proc/self/stat',
  // The init of the host: reaps orphans (dash's wait reaps any child) until it is killed.
  'exec chroot "$m" /bin/sh -c \'echo "ready $1"; exec >/dev/null; trap "exit 0" TERM; while :; do sleep 2147483647 & wait $! || :; done\' kf-init "$self"',
].join('\n');

/** Enters a running host (args: INIT_PID MERGED CMD...), runs CMD chrooted with a clean environment. */
function enter(pid: number, merged: string, argv: readonly string[], net = false): string[] {
  return [
    'setpriv',
    '--pdeathsig',
    'KILL',
    '--bounding-set',
    DROPPED_CAPS,
    '--',
    'nsenter',
    '-t',
    String(pid),
    '--mount',
    '--uts',
    '--ipc',
    ...(net ? ['--net'] : []),
    '--pid',
    '--',
    'chroot',
    merged,
    '/usr/bin/env',
    '-i',
    `PATH=${PATH_ENV}`,
    'HOME=/root',
    'LC_ALL=C',
    ...argv,
  ];
}

function sshdConfig(port: number, extra: string[], listen: string): string {
  return `${[
    '# kernelfile test host (test/helpers/sshd.ts)',
    ...extra,
    `Port ${port}`,
    `ListenAddress ${listen}`,
    `HostKey ${KF}/host_ed25519_key`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${KF}/authorized_keys/%u .ssh/authorized_keys`,
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'PidFile none',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_*',
    // Benchmarks open many connections at once: never drop unauthenticated ones early.
    'MaxStartups 200',
    'MaxSessions 200',
  ].join('\n')}\n`;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice; free when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port (or host:port). */
export function portOpen(port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, host);
  });
}

async function keygen(path: string, type: 'ed25519' | 'rsa' | 'ecdsa', comment: string): Promise<KeyPair> {
  await runOk([
    'ssh-keygen',
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '3072'] : []),
    '-N',
    '',
    '-C',
    comment,
    '-f',
    path,
  ]);
  return { privateKeyPath: path, publicKey: (await readFile(`${path}.pub`, 'utf8')).trim() };
}

const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve();
    else p.once('exit', () => resolve());
  });

let counter = 0;
let swept = false;

function checkPrerequisites(): void {
  requireRoot('startSshHost');
  requireCommands('startSshHost', [
    ['unshare', 'util-linux'],
    ['nsenter', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['ssh-keygen', 'openssh-client'],
  ]);
  if (!readFileSyncSafe('/proc/filesystems').includes('\toverlay'))
    throw new Error('startSshHost needs overlayfs in the kernel: modprobe overlay');
}

function readFileSyncSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Start a real sshd serving a fresh overlay of the Debian test root; see SshHost. */
export async function startSshHost(opts: SshHostOptions = {}): Promise<SshHost> {
  checkPrerequisites();
  const base = opts.base ?? (await ensureDebianRoot());
  if (/[,:\\]/.test(base)) throw new Error(`overlayfs cannot take ${base} as a lower dir (",", ":" or "\\")`);
  if (!swept) {
    swept = true;
    await sweepStale('kernelfile-sshd');
  }
  counter += 1;
  const number = counter;
  const hostname = opts.hostname ?? `kf-host-${number}`;
  const dir = await mkdtemp(join(tmpdir(), `kernelfile-sshd-${process.pid}-`));
  const keysDir = join(dir, 'keys');
  const merged = join(dir, 'merged');
  await Promise.all(['keys', 'upper', 'work', 'merged'].map((d) => mkdir(join(dir, d), { mode: 0o700 })));
  // The overlay's / takes the upper dir's owner and mode: those of the base's / (0755), or users cannot
  // reach anything.
  const top = await stat(base);
  await chmod(join(dir, 'upper'), top.mode & 0o7777);
  await chown(join(dir, 'upper'), top.uid, top.gid);

  let ns: ChildProcess | undefined;
  let sshd: ChildProcess | undefined;
  let initPid = 0;
  let logText = '';
  let stopping: Promise<void> | undefined;
  let net: { info: NetnsInfo; address: string } | undefined;
  let netPending: Promise<unknown> | undefined;

  const killAll = () => {
    if (initPid && pidAlive(initPid)) process.kill(initPid, 'SIGKILL');
    else if (ns && ns.exitCode === null && ns.signalCode === null) ns.kill('SIGKILL');
  };
  const stop = () => {
    stopping ??= (async () => {
      killAll();
      if (ns) {
        const gone = exited(ns);
        if ((await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])) === false) {
          ns.kill('SIGKILL');
          await gone;
        }
      }
      // unshare has reaped the init, and the kernel kills every process of a PID namespace before
      // its init is reaped: the host's processes and mounts are gone. The sshd entry's own nsenter
      // parent (outside the namespace) follows its child.
      if (sshd) await exited(sshd);
      // The network namespace last: nothing of the host is left in it but nsenter parents on their
      // way out (killed here too). Waits for a createNetns() still under way (stop() after a failure).
      await netPending?.catch(() => {});
      if (net) await deleteNetns(net.info, net.address);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const gen = [
      keygen(join(keysDir, 'host_ed25519_key'), 'ed25519', `${hostname} host key`),
      ...(['root', 'alice', 'bob', 'stranger'] as const).map((u) =>
        keygen(join(keysDir, `${u}_ed25519`), 'ed25519', `${u}@kernelfile-test`),
      ),
    ];
    const rsa = opts.rsaKey ? keygen(join(keysDir, 'rsa'), 'rsa', 'rsa@kernelfile-test') : undefined;
    const ecdsa = opts.ecdsaHostKey
      ? keygen(join(keysDir, 'host_ecdsa_key'), 'ecdsa', `${hostname} host key`)
      : undefined;
    // Awaited below, after the namespace is up: until then a failure must not count as unhandled.
    const keysReady = Promise.all([Promise.all(gen), rsa, ecdsa]);
    keysReady.catch(() => {});

    if (opts.netns) {
      const p = createNetns();
      netPending = p;
      net = await p;
    }
    const address = net?.address ?? '127.0.0.1';

    // The namespace, overlay and mounts; with { netns: true }, inside the network namespace.
    const [setpriv, ...prefix] = isolated({ namespaces: ['--uts', '--ipc'], dropCaps: DROPPED_CAPS });
    if (net)
      prefix.splice(prefix.indexOf('unshare'), 0, 'nsenter', `--net=/run/netns/${net.info.name}`, '--');
    ns = spawn(setpriv as string, [...prefix, 'sh', '-c', SETUP_SH, 'kf-host', base, dir, hostname], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    initPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      const proc = ns as ChildProcess;
      proc.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /^ready (\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.stderr?.on('data', (b: Buffer) => {
        err += b.toString();
      });
      proc.on('error', (e) => reject(new Error(`cannot start the host namespace: ${e.message}`)));
      proc.on('exit', (code) =>
        reject(new Error(`the host namespace setup failed (exit ${code}):\n${err.trim() || out.trim()}`)),
      );
    });
    const root = `/proc/${initPid}/root`;
    // Never write through a /proc/PID/root that is not the host's own (that would be this machine's).
    const seen = await readlink(root).catch(() => '');
    if (seen !== merged)
      throw new Error(`${root} leads to ${seen || 'nothing'}, not the host root ${merged}`);

    // Keys and configuration, written into the running overlay.
    const [[hostKey, rootKey, aliceKey, bobKey, strangerKey], rsaKey, ecdsaKey] = await keysReady;
    if (!hostKey || !rootKey || !aliceKey || !bobKey || !strangerKey) throw new Error('ssh-keygen failed');
    const passwd = await readFile(`${root}/etc/passwd`, 'utf8');
    const ids = (user: string): [number, number] => {
      const f = passwd
        .split('\n')
        .find((l) => l.startsWith(`${user}:`))
        ?.split(':');
      if (!f) throw new Error(`user ${user} is missing from ${base}/etc/passwd`);
      return [Number(f[2]), Number(f[3])];
    };
    await mkdir(`${root}${KF}/authorized_keys`, { recursive: true, mode: 0o755 });
    const authorized: Record<'root' | 'alice' | 'bob', KeyPair> = {
      root: rootKey,
      alice: aliceKey,
      bob: bobKey,
    };
    await Promise.all([
      writeFile(`${root}/etc/hostname`, `${hostname}\n`),
      writeFile(
        `${root}/etc/hosts`,
        `127.0.0.1\tlocalhost\n${net ? address : '127.0.1.1'}\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
      ),
      ...Object.entries(authorized).map(async ([user, k]) => {
        const p = `${root}${KF}/authorized_keys/${user}`;
        await writeFile(p, `${k.publicKey}\n${rsaKey ? `${rsaKey.publicKey}\n` : ''}`, { mode: 0o644 });
        await chown(p, ...ids(user));
      }),
    ]);
    let hostKeyPublic = '';
    // In a network namespace of its own, the host has its address to itself: port 22 by default.
    const fixedPort = opts.port ?? (net ? 22 : undefined);
    let port = fixedPort ?? (await freePort());
    let generation = 0;

    const installHostKey = async (k: KeyPair) => {
      await writeFile(`${root}${KF}/host_ed25519_key`, await readFile(k.privateKeyPath), { mode: 0o600 });
      await chmod(`${root}${KF}/host_ed25519_key`, 0o600);
      await writeFile(`${root}${KF}/host_ed25519_key.pub`, `${k.publicKey}\n`);
      hostKeyPublic = k.publicKey.split(' ').slice(0, 2).join(' ');
    };

    /** Start sshd and wait until it listens: its "Server listening" line, then a TCP connect. */
    const startSshd = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        const extra = [...(opts.sshdConfig ?? []), ...(ecdsaKey ? [`HostKey ${KF}/host_ecdsa_key`] : [])];
        await writeFile(`${root}${KF}/sshd_config`, sshdConfig(port, extra, address));
        const [cmd, ...args] = enter(
          initPid,
          merged,
          ['/usr/sbin/sshd', '-D', '-e', '-f', `${KF}/sshd_config`],
          !!net,
        );
        const p = spawn(cmd as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        sshd = p;
        let mine = '';
        const listening = new Promise<boolean>((resolve) => {
          p.stderr?.on('data', (b: Buffer) => {
            const s = b.toString();
            mine += s;
            logText = (logText + s).slice(-65536);
            if (mine.includes(`Server listening on ${address} port`)) resolve(true);
          });
          p.on('exit', () => resolve(false));
          p.on('error', () => resolve(false));
        });
        const ok = await Promise.race([listening, sleep(15_000).then(() => null)]);
        if (ok && (await portOpen(port, 1000, address))) return;
        if (ok === null) p.kill('SIGKILL');
        await exited(p);
        if (
          fixedPort === undefined &&
          attempt < 5 &&
          /Address already in use|Cannot bind any address/.test(mine)
        ) {
          port = await freePort(); // someone took the port between freePort() and sshd's bind
          continue;
        }
        throw new Error(`sshd did not start on ${address}:${port}:\n${mine.trim()}`);
      }
    };

    await installHostKey(hostKey);
    if (ecdsaKey) {
      await writeFile(`${root}${KF}/host_ecdsa_key`, await readFile(ecdsaKey.privateKeyPath), {
        mode: 0o600,
      });
      await chmod(`${root}${KF}/host_ecdsa_key`, 0o600);
    }
    await startSshd();

    let cut = false;
    const requireNetns = (what: string): { info: NetnsInfo; address: string } => {
      if (!net) throw new Error(`${hostname}: ${what} needs startSshHost({ netns: true })`);
      if (stopping) throw new Error(`${hostname}: ${what} after stop()`);
      return net;
    };

    const host: SshHost = {
      host: address,
      address,
      get port() {
        return port;
      },
      url: (user = 'root') => `ssh://${user}@${address}:${port}`,
      hostname,
      root,
      get hostKeyPublic() {
        return hostKeyPublic;
      },
      knownHostsLine: () => `${port === 22 ? address : `[${address}]:${port}`} ${hostKeyPublic}`,
      keys: { root: rootKey, alice: aliceKey, bob: bobKey, stranger: strangerKey },
      ...(rsaKey ? { rsaKey } : {}),
      ...(ecdsaKey ? { ecdsaHostKeyPublic: ecdsaKey.publicKey.split(' ').slice(0, 2).join(' ') } : {}),
      bobPassword: BOB_PASSWORD,
      exec: async (argv, o = {}) => {
        if (stopping || !pidAlive(initPid))
          throw new Error(`${hostname}: the host is not running (kill() or stop())`);
        const [cmd, ...args] = enter(initPid, merged, argv, !!net);
        return run([cmd as string, ...args], o.stdin === undefined ? {} : { stdin: o.stdin });
      },
      async restartWithNewHostKey() {
        generation += 1;
        const k = await keygen(
          join(keysDir, `host_ed25519_key.${generation}`),
          'ed25519',
          `${hostname} host key`,
        );
        const old = sshd;
        // The listener only (open sessions stay): it is the child of our nsenter process.
        if (old?.pid && old.exitCode === null && old.signalCode === null) {
          for (const pid of childPids(old.pid)) process.kill(pid, 'SIGTERM');
          await exited(old);
        }
        await installHostKey(k);
        await startSshd();
      },
      kill: killAll,
      stop,
      ...(net ? { netns: net.info } : {}),
      async cutNetwork(o = {}) {
        const n = requireNetns('cutNetwork()');
        if (cut) await host.restoreNetwork();
        cut = true;
        if ((o.mode ?? 'reject') === 'reject')
          await ip('route', 'replace', 'unreachable', `${n.address}/32`, 'proto', KF_PROTO);
        else
          await ip(
            'neigh',
            'replace',
            n.address,
            'lladdr',
            NOWHERE_MAC,
            'dev',
            n.info.veth,
            'nud',
            'permanent',
          );
        if (o.dropOpen) {
          await runOk(['ss', '-K', '-t', 'dst', n.address]);
          const left = await runOk(['ss', '-H', '-t', 'dst', n.address]);
          if (left.stdout.trim())
            throw new Error(
              `${hostname}: ss -K left connections to ${n.address} open (a kernel without CONFIG_INET_DIAG_DESTROY?):\n${left.stdout}`,
            );
        }
      },
      async restoreNetwork() {
        const n = requireNetns('restoreNetwork()');
        cut = false;
        await ipQuiet('route', 'del', 'unreachable', `${n.address}/32`, 'proto', KF_PROTO);
        await ipQuiet('neigh', 'del', n.address, 'dev', n.info.veth);
      },
      log: () => logText,
      tmpDir: dir,
    };
    return host;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** An ssh-agent holding the given keys, on a socket in a temp dir (SSH_AUTH_SOCK / IdentityAgent). */
export async function startSshAgent(
  keys: ReadonlyArray<string | KeyPair>,
): Promise<{ socket: string; stop(): Promise<void> }> {
  requireCommands('startSshAgent', [
    ['ssh-agent', 'openssh-client'],
    ['ssh-add', 'openssh-client'],
  ]);
  await sweepStale('kernelfile-agent');
  const dir = await mkdtemp(join(tmpdir(), `kernelfile-agent-${process.pid}-`));
  const socket = join(dir, 'agent.sock');
  const agent = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ssh-agent', '-D', '-a', socket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      agent.kill('SIGKILL');
      await exited(agent);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    let err = '';
    agent.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    // ssh-agent -D prints its environment once the socket listens.
    await new Promise<void>((resolve, reject) => {
      agent.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('SSH_AUTH_SOCK')) resolve();
      });
      agent.on('exit', (code) => reject(new Error(`ssh-agent exited (${code}): ${err.trim()}`)));
    });
    const paths = keys.map((k) => (typeof k === 'string' ? k : k.privateKeyPath));
    if (paths.length > 0)
      await runOk(['ssh-add', '-q', ...paths], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    return { socket, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * kernelfile's own SSH transport to the host as root: its host key pinned in `dir`/known_hosts, no
 * ssh config, HOME in `dir` (so nothing of this machine's ~/.ssh is read).
 */
export async function openRoot(h: SshHost, dir: string): Promise<Transport> {
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `${h.knownHostsLine()}\n`);
  return openHost(`ssh://root@127.0.0.1:${h.port}`, {
    sshConfig: 'none',
    knownHosts: [knownHosts],
    identities: [h.keys.root.privateKeyPath],
    connectTimeoutMs: 5000,
    env: { HOME: dir, USER: 'kf-test' },
  });
}
