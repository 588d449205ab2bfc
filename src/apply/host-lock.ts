/**
 * The host lock: one apply at a time per host, held from before the first step that changes the
 * host to after the last (install, receipt, default, prune).
 *
 * How: a keeper, a small shell process on the host started through the transport like any step,
 * takes `flock` on /var/lib/kernelfile/apply.lock, writes who holds it (controller host, pid, start
 * time, kernelfile) next to it, prints `locked` and stays alive writing a dot a second to its
 * standard output. It ends when the controller releases it (removes the token file it waits on),
 * or when its output goes nowhere: the SSH channel closed, or the local controller process died (a
 * write to the closed pipe fails and the keeper exits). The kernel drops the flock with the
 * process, so a lock is never left behind by a dropped connection or a killed controller; a
 * connection that hangs without closing keeps it until sshd gives the channel up (its
 * ClientAlive settings). Hosts without flock fall back to a directory made atomically with mkdir,
 * holding the keeper's pid; a directory whose keeper is no longer alive is stale and taken over.
 *
 * A second apply's keeper finds the lock taken and, unless given a wait (`--lock-timeout`), ends
 * at once printing the holder, which is refused by name. The per-command lock (executor `locked`)
 * stays: it makes a step left running by a killed apply finish before the next apply's steps.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { HostError, type Transport } from '../host/transport.js';
import { STATE_DIR } from '../receipt/paths.js';

export const HOST_LOCK = `${STATE_DIR}/apply.lock`;
/** argv[3] of the keeper: how the host (and a test's fake) tells it from a step. */
export const KEEPER_NAME = 'kernelfile-lock';
const BUSY = 75;
/** The keeper is not a step: it lives as long as the apply (the transport's command limit must not end it). */
const KEEPER_LIMIT_MS = 7 * 24 * 3600 * 1000;

export const KEEPER = `set -u
lock=$1 token=$2 wait=$3 holder=$4
mkdir -p "\${lock%/*}" || exit 70
trap '' PIPE
busy() { echo busy; head -c 4096 "$lock.holder" 2>/dev/null; exit ${BUSY}; }
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$lock" || exit 70
  if [ "$wait" -gt 0 ]; then flock -w "$wait" 9 || busy; else flock -n 9 || busy; fi
  cleanup() { rm -f "$lock.t-$token" "$lock.holder"; }
else
  end=$(( $(date +%s) + wait ))
  until mkdir "$lock.d" 2>/dev/null; do
    p=$(cat "$lock.d/pid" 2>/dev/null || true)
    if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then rm -rf "$lock.d"; continue; fi
    [ "$(date +%s)" -lt "$end" ] || busy
    sleep 1
  done
  echo $$ > "$lock.d/pid"
  cleanup() { rm -f "$lock.t-$token" "$lock.holder"; rm -rf "$lock.d"; }
fi
rm -f "$lock".t-*
printf '%s\\n' "$holder" > "$lock.holder"
: > "$lock.t-$token"
trap 'cleanup; exit 0' HUP INT TERM
echo locked
while [ -e "$lock.t-$token" ]; do echo . || break; sleep 1 9>&-; done
cleanup
`;

/** Who holds the lock: written by the holder, shown to the one who waits. */
export interface LockHolder {
  controller: string;
  pid: number;
  startedAt: string;
  kernelfile: string | null;
}

export function thisController(startedAt: string, kernelfile: string | null): LockHolder {
  return { controller: hostname(), pid: process.pid, startedAt, kernelfile };
}

export const keeperArgv = (token: string, waitSeconds: number, holder: LockHolder): string[] => [
  'sh',
  '-c',
  KEEPER,
  KEEPER_NAME,
  HOST_LOCK,
  token,
  String(waitSeconds),
  JSON.stringify(holder),
];

export const releaseArgv = (token: string): string[] => ['rm', '-f', `${HOST_LOCK}.t-${token}`];

/** A value another controller wrote, shown in a message: escaped, cut at 80. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The holder as the busy keeper printed it (host data: checked, escaped), in words. */
export function describeHolder(text: string): string {
  let h: Partial<Record<keyof LockHolder, unknown>> | null = null;
  try {
    const v = JSON.parse(text.trim().split('\n')[0] ?? '');
    if (v && typeof v === 'object' && !Array.isArray(v)) h = v;
  } catch {
    h = null;
  }
  if (!h || typeof h.controller !== 'string')
    return 'another kernelfile apply (its holder file is missing or unreadable)';
  const pid = typeof h.pid === 'number' && Number.isSafeInteger(h.pid) ? ` (pid ${h.pid})` : '';
  const since = typeof h.startedAt === 'string' ? ` since ${show(h.startedAt)}` : '';
  const kf = typeof h.kernelfile === 'string' ? `, kernelfile ${show(h.kernelfile)}` : '';
  return `controller ${show(h.controller)}${pid}${since}${kf}`;
}

export interface HostLock {
  release(): Promise<void>;
}

/**
 * Take the host lock, waiting up to `waitMs` for another apply to finish (0: not at all). Throws
 * HostError 'locked' naming the holder when it is taken.
 */
export async function acquireHostLock(t: Transport, holder: LockHolder, waitMs = 0): Promise<HostLock> {
  const token = randomBytes(12).toString('hex');
  const waitSeconds = Math.max(0, Math.ceil(waitMs / 1000));
  let signal: () => void = () => {};
  const locked = new Promise<'locked'>((resolve) => {
    signal = () => resolve('locked');
  });
  const keeper = t.run(keeperArgv(token, waitSeconds, holder), {
    sudo: true,
    timeoutMs: KEEPER_LIMIT_MS + waitMs,
    onLine: (line, stream) => {
      if (stream === 'stdout' && line === 'locked') signal();
    },
  });
  // After the lock is taken, the keeper's end (or a dropped connection) is seen by the steps.
  keeper.catch(() => {});
  const first = await Promise.race([locked, keeper]);
  if (first !== 'locked') {
    if (first.code === BUSY) {
      const who = describeHolder(first.stdout.replace(/^busy\n?/, ''));
      throw new HostError(
        t.name,
        'locked',
        `is being applied by ${who}${waitSeconds ? `, still after waiting ${waitSeconds} s` : ''}; nothing was changed`,
        'wait for that apply to finish, or pass --lock-timeout SECONDS to wait for it',
      );
    }
    throw new HostError(
      t.name,
      'io',
      `cannot take the host lock ${HOST_LOCK} (exit ${first.code}): ${first.stderr.trim().split('\n').slice(-3).join(' ')}`,
      'check that /var/lib/kernelfile can be written as root',
    );
  }
  return {
    async release() {
      await t.run(releaseArgv(token), { sudo: true, timeoutMs: 30_000 });
      // The keeper sees its token gone within a second.
      await Promise.race([keeper.catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref?.())]);
    },
  };
}
