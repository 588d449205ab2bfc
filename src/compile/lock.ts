/**
 * Locks in the controller's cache, so two kernelfile processes never work on the same entry at
 * once (one resolves a configuration or compiles a build id; the other waits, then finds it done).
 *
 * A lock is a file `locks/<name>.lock` created with O_EXCL, holding who took it: pid, host, boot
 * id and the process's start time (from /proc), so a lock left by a killed process is recognised
 * as stale (its process is gone, or the pid now belongs to another process, or the machine
 * rebooted) and taken over at once. A lock taken on another host (a cache on a shared file
 * system) is never judged from here: the waiter says who holds it and where the file is.
 *
 * Breaking a stale lock happens under a second, short-lived lock (`<name>.lock.break`), so two
 * waiters never both remove it and the later one never removes the lock the earlier one has just
 * taken. Cache entries are still written under temporary names and renamed into place: the lock
 * saves duplicate work, the renames keep a half-written entry from ever being used.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds a lock, as written in its file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id; empty where there is none. */
  boot: string;
  /** Field 22 of /proc/PID/stat (clock ticks after boot); empty where there is none. */
  start: string;
  /** A random token: releasing removes the file only while it still holds this one. */
  token: string;
  /** What the lock is for, for the waiting message. */
  what: string;
}

/** What the process table says about a pid on this machine. */
export type ProcessProbe = (pid: number) => { alive: false } | { alive: true; start: string };

/** The start time (field 22) from the text of /proc/PID/stat; the command name may hold spaces and ')'. */
export function startTimeOf(stat: string): string {
  const close = stat.lastIndexOf(')');
  if (close < 0) return '';
  // After ") " come field 3 (state) onwards: field 22 is the 20th.
  return stat.slice(close + 2).split(' ')[19] ?? '';
}

/** A lock file's content, or undefined when it is not one kernelfile wrote (then it is never stale). */
export function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof h.pid === 'number' &&
      Number.isInteger(h.pid) &&
      h.pid > 0 &&
      typeof h.host === 'string' &&
      typeof h.boot === 'string' &&
      typeof h.start === 'string' &&
      typeof h.token === 'string' &&
      typeof h.what === 'string'
    )
      return h as LockHolder;
  } catch {
    // not JSON: a lock file being written right now, or not ours
  }
  return undefined;
}

/**
 * Is the holder's process gone? Only decided for a lock taken on this host: after a reboot (another
 * boot id), when its pid is not running, or when the pid is running but started at another time (reused).
 */
export function isStale(
  holder: LockHolder,
  me: { host: string; boot: string },
  probe: ProcessProbe,
): boolean {
  if (holder.host !== me.host) return false;
  if (holder.boot && me.boot && holder.boot !== me.boot) return true;
  const p = probe(holder.pid);
  if (!p.alive) return true;
  return holder.start !== '' && p.start !== '' && holder.start !== p.start;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const BOOT = readText('/proc/sys/kernel/random/boot_id')?.trim() ?? '';

/** This machine's process table: /proc where there is one, else a signal 0. */
export const localProbe: ProcessProbe = (pid) => {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat !== undefined) return { alive: true, start: startTimeOf(stat) };
  if (BOOT) return { alive: false }; // Linux: no /proc/PID, no process
  try {
    process.kill(pid, 0);
    return { alive: true, start: '' };
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? { alive: true, start: '' } : { alive: false };
  }
};

function me(what: string): LockHolder {
  const stat = readText(`/proc/${process.pid}/stat`);
  return {
    pid: process.pid,
    host: hostname(),
    boot: BOOT,
    start: stat ? startTimeOf(stat) : '',
    token: randomBytes(8).toString('hex'),
    what,
  };
}

/** Create `path` holding `content` if it does not exist; false if it does. */
function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A break lock older than this is left over from a process killed in the middle of breaking. */
const BREAK_STALE_MS = 10_000;

/** Remove the lock at `path` if it still holds exactly `seen` (a stale lock), under the break lock. */
function breakStale(path: string, seen: string): void {
  const breaker = `${path}.break`;
  if (!createExclusive(breaker, String(process.pid))) {
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_STALE_MS) unlinkSync(breaker);
    } catch {
      // gone meanwhile
    }
    return; // someone else is breaking it: try again on the next round
  }
  try {
    // Nobody can replace the file while it exists (O_EXCL), and only a breaker removes a stale one.
    if (readText(path) === seen) unlinkSync(path);
  } catch {
    // gone meanwhile: the next round sees what is there now
  } finally {
    try {
      unlinkSync(breaker);
    } catch {
      // already gone
    }
  }
}

export interface LockOptions {
  /** Called once when the lock is held by another live process, with who holds it. */
  onWait?: (holder: LockHolder | undefined, file: string) => void;
  /** Give up after this long (default: wait as long as the holder lives). */
  timeoutMs?: number;
  /** How often to look again (default 200 ms). */
  pollMs?: number;
  /** The process table (tests pass their own). */
  probe?: ProcessProbe;
}

export class LockTimeout extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      `timed out waiting for ${file}${holder ? ` (held by pid ${holder.pid} on ${holder.host}: ${holder.what})` : ''}`,
    );
  }
}

/**
 * Run `fn` holding the lock `locksDir/<name>.lock`. `what` says what for, to whoever waits.
 * The lock is released when `fn` settles; a process killed while holding it leaves a stale lock,
 * taken over by the next process that wants it.
 */
export async function withLock<T>(
  locksDir: string,
  name: string,
  what: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  mkdirSync(locksDir, { recursive: true, mode: 0o700 });
  const path = join(locksDir, `${name}.lock`);
  const mine = me(what);
  const content = `${JSON.stringify(mine)}\n`;
  const probe = opts.probe ?? localProbe;
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    if (createExclusive(path, content)) break;
    const seen = readText(path);
    if (seen === undefined) continue; // released meanwhile
    const holder = parseHolder(seen);
    if (holder && isStale(holder, mine, probe)) {
      breakStale(path, seen);
      continue;
    }
    if (!told) {
      opts.onWait?.(holder, path);
      told = true;
    }
    if (Date.now() > deadline) throw new LockTimeout(path, holder);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  try {
    return await fn();
  } finally {
    // Only our own lock: if it was (wrongly) broken and taken by another, that one stays.
    if (parseHolder(readText(path) ?? '')?.token === mine.token) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Is `locksDir/<name>.lock` held by a live process (or by another host: never judged from here)?
 * For `cache prune`, which leaves alone whatever a running build works on.
 */
export function isHeld(locksDir: string, name: string, probe: ProcessProbe = localProbe): boolean {
  const text = readText(join(locksDir, `${name}.lock`));
  if (text === undefined) return false;
  const holder = parseHolder(text);
  if (!holder) return true; // being written right now
  return !isStale(holder, { host: hostname(), boot: BOOT }, probe);
}
