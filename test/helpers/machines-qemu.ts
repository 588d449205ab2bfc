/**
 * One QEMU machine under a supervisor, reached over SSH on a loopback port: the engine of the VM
 * harness (machines.ts), used for the tests' VMs and for the boots that set up a VM image
 * (machines-image.ts).
 *
 * QEMU runs with `-no-reboot`: a guest reboot (or a panic with `panic=N`) makes it exit, and the
 * supervisor starts it again on the same disk, firmware variables and port, until stop(). A reboot
 * inside one QEMU process is slow and erratic under TCG (a warm reset makes the initrd load take
 * minutes); a fresh process is not. Each start is a boot with a console log of its own
 * (`boot-N.log` in the machine's directory, N from 1).
 *
 * No QEMU outlives the test process: each runs under `setpriv --pdeathsig KILL` (it dies with the
 * process that started it, even one killed outright), an exit hook kills those still running, and
 * stop() kills what a graceful poweroff did not end. QEMU runs in a process group of its own, so a
 * Ctrl-C meant for the test runner does not look like a guest reboot to the supervisor.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteArgv } from '../../src/host/quote.js';
import { type ProcResult, run, sleep } from './proc.js';
import { freePort, portOpen } from './sshd.js';

export interface QemuMachineOptions {
  /** For messages. */
  name: string;
  /** The machine's directory: console logs (boot-N.log) go here. */
  dir: string;
  /** The disk (/dev/vda). */
  disk: string;
  diskFormat: 'qcow2' | 'raw';
  /** The loopback port forwarded to the guest's port 22. */
  port: number;
  /** UEFI: OVMF's code (read-only) and this machine's own copy of its variables, as pflash. */
  firmware?: { code: string; vars: string };
  /** Direct kernel boot (-kernel, -initrd, -append) instead of the disk's boot loader. */
  direct?: { kernel: string; initrd?: string; append: string };
  /** Start QEMU again after each exit until stop() (default true). */
  restart?: boolean;
  memoryMb?: number;
  /** SSH: the private key authorized for root, and a known_hosts file naming the guest's host key. */
  identity: string;
  knownHosts: string;
}

export interface BootRecord {
  /** 1 for the first start. */
  n: number;
  startedAt: number;
  /** When QEMU exited; undefined while it runs. */
  endedAt?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /** What QEMU printed on stderr (its own errors, not the guest's console). */
  stderr: string;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const live = new Set<ChildProcess>();
let exitHook = false;

/** The PIDs of the QEMU processes this module started that are still running. */
export function runningQemuPids(): number[] {
  return [...live].map((c) => c.pid).filter((p): p is number => p !== undefined);
}

/** QEMU's -drive/-serial option values separate with commas: a comma in a path is written twice. */
const opt = (path: string) => path.replace(/,/g, ',,');

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A start that exits sooner than this counts as a quick exit; a few in a row end the supervision. */
const QUICK_EXIT_MS = 3000;
const MAX_QUICK_EXITS = 3;

export class QemuMachine {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  readonly identity: string;
  readonly knownHosts: string;
  readonly records: BootRecord[] = [];
  private child: ChildProcess | undefined;
  private stopping = false;
  private failure: Error | undefined;
  private quickExits = 0;
  private exitWaiters: Array<() => void> = [];
  private stopped: Promise<void> | undefined;
  /** powerCycle() killed QEMU: its exit is not a failure. */
  private cycling = false;

  constructor(private readonly o: QemuMachineOptions) {
    this.name = o.name;
    this.port = o.port;
    this.dir = o.dir;
    this.identity = o.identity;
    this.knownHosts = o.knownHosts;
  }

  /** How many times QEMU was started (the first boot is 1). */
  get boots(): number {
    return this.records.length;
  }

  /** Whether a QEMU process of this machine runs now. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** The console log of boot n (default: the latest). */
  consolePath(n = this.boots): string {
    return join(this.dir, `boot-${n}.log`);
  }

  /** What boot n (default: the latest) printed on the serial console so far; '' before it started. */
  console(n = this.boots): string {
    try {
      return readFileSync(this.consolePath(n), 'utf8').replace(/\r/g, '');
    } catch {
      return '';
    }
  }

  /** The QEMU command line (without the setpriv prefix) for the next start. */
  argv(n: number): string[] {
    const o = this.o;
    return [
      'qemu-system-x86_64',
      '-accel',
      'tcg,tb-size=256',
      '-m',
      String(o.memoryMb ?? 384),
      '-smp',
      '1',
      '-display',
      'none',
      '-vga',
      'none',
      '-monitor',
      'none',
      '-no-reboot',
      ...(o.firmware
        ? [
            '-drive',
            `if=pflash,format=raw,unit=0,readonly=on,file=${opt(o.firmware.code)}`,
            '-drive',
            `if=pflash,format=raw,unit=1,file=${opt(o.firmware.vars)}`,
          ]
        : []),
      ...(o.direct
        ? [
            '-kernel',
            o.direct.kernel,
            ...(o.direct.initrd ? ['-initrd', o.direct.initrd] : []),
            '-append',
            o.direct.append,
          ]
        : []),
      '-drive',
      `file=${opt(o.disk)},format=${o.diskFormat},if=virtio`,
      '-netdev',
      `user,id=n0,hostfwd=tcp:127.0.0.1:${o.port}-:22`,
      '-device',
      'virtio-net-pci,netdev=n0',
      '-serial',
      `file:${opt(this.consolePath(n))}`,
    ];
  }

  /** Start QEMU (the first boot); the supervisor starts it again after each exit. */
  start(): void {
    if (this.child || this.stopping) throw new Error(`${this.name}: already started`);
    this.spawnQemu();
  }

  private spawnQemu(): void {
    if (!exitHook) {
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
      exitHook = true;
    }
    const n = this.boots + 1;
    const argv = this.argv(n);
    const [cmd, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
    const rec: BootRecord = { n, startedAt: Date.now(), stderr: '' };
    this.records.push(rec);
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    live.add(child);
    child.stderr?.on('data', (b: Buffer) => {
      if (rec.stderr.length < 16_384) rec.stderr += b.toString('utf8');
    });
    child.on('error', (e) => {
      this.failure ??= new Error(`${this.name}: cannot run qemu-system-x86_64: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      this.child = undefined;
      rec.endedAt = Date.now();
      rec.exitCode = code;
      rec.signal = signal;
      const quick = rec.endedAt - rec.startedAt < QUICK_EXIT_MS;
      this.quickExits = quick ? this.quickExits + 1 : 0;
      const cycled = this.cycling;
      this.cycling = false;
      if (!this.stopping && !this.failure && !cycled) {
        if (code !== 0)
          this.failure = new Error(
            `${this.name}: QEMU (boot ${n}) exited with ${code ?? signal}: ${rec.stderr.trim() || '(nothing on stderr)'}`,
          );
        else if (this.quickExits >= MAX_QUICK_EXITS)
          this.failure = new Error(
            `${this.name}: QEMU exited within ${QUICK_EXIT_MS / 1000} s ${this.quickExits} times in a row; the console of boot ${n}:\n${tail(this.console(n))}`,
          );
      }
      const again = !this.stopping && !this.failure && (this.o.restart ?? true);
      for (const w of this.exitWaiters.splice(0)) w();
      if (again) this.spawnQemu();
    });
  }

  /**
   * Whether QEMU took its port: true once something accepts connections on it (slirp listens from
   * QEMU's start, long before the guest's sshd), false when QEMU exited first or timeoutMs passed.
   */
  async listening(timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) return false;
      if (await portOpen(this.port, 500)) return this.child !== undefined;
      await sleep(100);
    }
    return false;
  }

  /** Why the supervisor gave up, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Resolves when the QEMU process running now (if any) has exited. */
  private exited(): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Wait until the current QEMU process exits (true) or timeoutMs passes (false). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.child) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const r = await Promise.race([this.exited().then(() => true as const), timeout]);
    clearTimeout(timer);
    return r;
  }

  /** The ssh command line for a command (argv, quoted for the guest's sh) as root on the guest. */
  sshArgv(argv: readonly string[], connectTimeoutS = 10): string[] {
    return [
      'ssh',
      '-F',
      '/dev/null',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'IdentityAgent=none',
      '-i',
      this.identity,
      '-o',
      `UserKnownHostsFile=${this.knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'UpdateHostKeys=no',
      '-o',
      'CheckHostIP=no',
      '-o',
      `ConnectTimeout=${connectTimeoutS}`,
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=4',
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(this.port),
      'root@127.0.0.1',
      '--',
      quoteArgv(argv),
    ];
  }

  /** Run a command as root on the guest over SSH; never rejects on a non-zero exit (ssh's own: 255). */
  ssh(
    argv: readonly string[],
    opts: { stdin?: string | Buffer; timeoutMs?: number } = {},
  ): Promise<ProcResult> {
    return run(this.sshArgv(argv), { timeoutMs: opts.timeoutMs ?? 10 * 60_000, stdin: opts.stdin ?? '' });
  }

  /**
   * Wait until sshd answers and `cat /proc/sys/kernel/random/boot_id` works; returns the boot id.
   * `otherThan`: keep waiting while the guest still answers with this boot id (the boot before a
   * reboot). Fails at once when the supervisor gave up (QEMU failing to start), and when QEMU is
   * gone for good (a machine without restarts).
   */
  async waitUp(timeoutMs = 5 * 60_000, opts: { otherThan?: string } = {}): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.stopping) throw new Error(`${this.name}: stopped while waiting for it to come up`);
      if (!this.child && this.o.restart === false)
        throw new Error(`${this.name}: QEMU exited before sshd answered; console:\n${tail(this.console())}`);
      const r = await run(this.sshArgv(['cat', '/proc/sys/kernel/random/boot_id'], 5), { timeoutMs: 20_000 });
      const id = r.stdout.trim();
      if (r.code === 0 && BOOT_ID.test(id) && id !== opts.otherThan) return id;
      last = r.code === 0 ? `still boot ${id}` : r.stderr.trim().split('\n').pop() || `ssh exited ${r.code}`;
      if (Date.now() > deadline)
        throw new Error(
          `${this.name}: not up on 127.0.0.1:${this.port} after ${timeoutMs / 1000} s (${last}); console of boot ${this.boots}:\n${tail(this.console())}`,
        );
      await sleep(1000);
    }
  }

  /**
   * Stop the machine: no more restarts; a graceful `systemctl poweroff` over SSH, QEMU killed when it
   * has not exited within graceMs (or at once when SSH could not ask). Idempotent.
   */
  stop(opts: { graceMs?: number } = {}): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      if (!this.child) return;
      // systemctl returns once the poweroff job is queued: 0 means the guest is going down.
      const r = await run(this.sshArgv(['systemctl', 'poweroff'], 5), { timeoutMs: 15_000 });
      if (r.code !== 0 || !(await this.waitExit(opts.graceMs ?? 20_000))) this.killQemu();
      await this.exited();
    })();
    return this.stopped;
  }

  /**
   * Pull the plug: SIGKILL the running QEMU; the supervisor starts it again as after a reboot (a
   * power cycle, for a guest that hangs). Returns when the old process is gone.
   */
  async powerCycle(): Promise<void> {
    if (!this.child) return;
    this.cycling = true;
    this.killQemu();
    await this.exited();
  }

  private killQemu(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {}
  }
}

/**
 * Start a machine on a free loopback port, with a known_hosts file for it in its directory naming
 * `hostKey` ("ssh-ed25519 AAAA…"). Between freePort() and QEMU's bind another process may take the
 * port: QEMU then exits at once, and this tries again on another port (up to 5 times). Returns once
 * QEMU holds the port (the guest is still booting).
 */
export async function launchMachine(
  o: Omit<QemuMachineOptions, 'port' | 'knownHosts'> & { hostKey: string },
): Promise<QemuMachine> {
  const { hostKey, ...opts } = o;
  const knownHosts = join(o.dir, 'known_hosts');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
    const m = new QemuMachine({ ...opts, port, knownHosts });
    m.start();
    if (await m.listening()) return m;
    const why = m.error?.message ?? m.records[0]?.stderr ?? '';
    await m.stop();
    if (attempt >= 5 || !/host ?forward/i.test(why))
      throw new Error(`${o.name}: QEMU did not start: ${why.trim() || 'its port never opened'}`);
  }
}

/** The last lines of a console, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
