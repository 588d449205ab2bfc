/**
 * Booting a kernel and an initramfs under QEMU with the console on a serial port we read:
 *
 *   qemu-system-x86_64 -machine q35,accel=<kvm|tcg> -cpu max -m 256 -kernel K -initrd I \
 *     -nographic -no-reboot -append 'console=ttyS0 panic=-1'
 *
 * Raw disk images (`disks`) are attached as virtio-blk drives (/dev/vda, /dev/vdb, ...), and the
 * initramfs is optional (a kernel can mount such a disk as its root itself).
 *
 * `panic=-1` plus `-no-reboot` make both a panic and the guest's `reboot -f` end QEMU. A timeout
 * kills it; so does an exception, the caller's AbortSignal, and this process exiting (an exit hook,
 * and `setpriv --pdeathsig KILL` where util-linux has it, for a parent killed outright). QEMU is
 * never left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, createWriteStream, existsSync, openSync } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface QemuBootOptions {
  kernel: string;
  /** The initramfs (`-initrd`); none when omitted. */
  initrd?: string;
  /** Raw disk images, attached in order as virtio-blk drives: /dev/vda, /dev/vdb, ... */
  disks?: readonly string[];
  accel: Accel;
  /** Kernel command line (default `console=ttyS0 panic=-1`). */
  append?: string;
  memoryMb?: number;
  /** Kill QEMU after this long. */
  timeoutMs: number;
  /** Kill QEMU when it printed nothing on the console for this long after starting (a stuck accelerator). */
  firstOutputTimeoutMs?: number;
  /** Once a console line matches, QEMU has this long to exit on its own (default 10 s) before it is killed. */
  doneLine?: RegExp;
  doneGraceMs?: number;
  /** The console (serial) output is written here as it arrives. */
  consoleLog: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** The QEMU binary (default qemu-system-x86_64). */
  qemu?: string;
}

export interface QemuBootResult {
  accel: Accel;
  /** QEMU's exit code; null when it was killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Killed for running past timeoutMs. */
  timedOut: boolean;
  /** Killed for printing nothing within firstOutputTimeoutMs. */
  noOutput: boolean;
  /** Killed after the done line because it did not exit by itself. */
  killedAfterDone: boolean;
  aborted: boolean;
  /** The console, line by line, carriage returns removed. */
  lines: string[];
  /** What QEMU itself printed on stderr (accelerator errors and the like). */
  stderr: string;
  argv: string[];
  timeoutMs: number;
  seconds: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAll(): void {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
}

/** Whether /dev/kvm can be opened read-write (what QEMU needs for accel=kvm; it may still not work). */
export function kvmAvailable(dev = '/dev/kvm'): boolean {
  try {
    closeSync(openSync(dev, constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
}

export function qemuArgv(
  o: Pick<QemuBootOptions, 'kernel' | 'initrd' | 'disks' | 'accel' | 'append' | 'memoryMb'>,
): string[] {
  return [
    '-machine',
    `q35,accel=${o.accel}`,
    '-cpu',
    'max',
    '-m',
    String(o.memoryMb ?? 256),
    '-kernel',
    o.kernel,
    ...(o.initrd !== undefined ? ['-initrd', o.initrd] : []),
    // QEMU's -drive option list separates with commas: a comma in the path is written twice.
    ...(o.disks ?? []).flatMap((d) => ['-drive', `file=${d.replace(/,/g, ',,')},format=raw,if=virtio`]),
    '-nographic',
    '-no-reboot',
    '-append',
    o.append ?? 'console=ttyS0 panic=-1',
  ];
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Boot once; resolves when QEMU is gone (exited or killed), never leaving it behind. */
export function bootQemu(o: QemuBootOptions): Promise<QemuBootResult> {
  const t0 = Date.now();
  const qemu = o.qemu ?? 'qemu-system-x86_64';
  const args = qemuArgv(o);
  const argv = [qemu, ...args];
  if (!exitHookInstalled) {
    process.once('exit', killAll);
    exitHookInstalled = true;
  }
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new Error('verify was aborted before QEMU started'));
      return;
    }
    // With setpriv, QEMU gets SIGKILL if this process dies without running its exit hook.
    const [cmd, ...rest] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
    const child = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const log = createWriteStream(o.consoleLog);
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let sawOutput = false;
    let timedOut = false;
    let noOutput = false;
    let sawDone = false;
    let killedAfterDone = false;
    let aborted = false;
    /** An error of ours while QEMU runs (the console log, the caller's onLine): kill QEMU, then reject. */
    let failure: Error | undefined;
    const timers: NodeJS.Timeout[] = [];
    const kill = () => {
      try {
        child.kill('SIGKILL');
      } catch {}
    };
    const fail = (e: unknown) => {
      failure ??= e instanceof Error ? e : new Error(String(e));
      kill();
    };
    log.on('error', fail);
    const onLine = (raw: string) => {
      const line = raw.replace(/\r/g, '');
      lines.push(line);
      try {
        o.onLine?.(line);
      } catch (e) {
        fail(e);
      }
      if (!sawDone && o.doneLine?.test(line)) {
        sawDone = true;
        timers.push(
          setTimeout(() => {
            killedAfterDone = true;
            kill();
          }, o.doneGraceMs ?? 10_000),
        );
      }
    };
    child.stdout?.on('data', (b: Buffer) => {
      sawOutput = true;
      log.write(b);
      const parts = (partial + b.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    });
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    timers.push(
      setTimeout(() => {
        timedOut = true;
        kill();
      }, o.timeoutMs),
    );
    if (o.firstOutputTimeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          if (!sawOutput) {
            noOutput = true;
            kill();
          }
        }, o.firstOutputTimeoutMs),
      );
    const onAbort = () => {
      aborted = true;
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', onAbort);
      if (partial) onLine(partial);
      log.end((err?: Error | null) => {
        if (err) failure ??= err;
        if (spawnError)
          reject(new Error(`cannot run ${qemu}: ${spawnError.message} (install qemu-system-x86)`));
        else if (failure) reject(failure);
        else
          resolve({
            accel: o.accel,
            exitCode: code,
            signal,
            timedOut,
            noOutput,
            killedAfterDone,
            aborted,
            lines,
            stderr,
            argv,
            timeoutMs: o.timeoutMs,
            seconds: (Date.now() - t0) / 1000,
          });
      });
    });
  });
}

/** QEMU processes this module started that are still running (tests assert there are none). */
export function runningQemuCount(): number {
  return running.size;
}
