/**
 * `apply --reboot`: reboot the host into the new kernel and wait until it is back. The new entry
 * was armed as a one-time boot (trial), so a kernel that does not come up falls back to the
 * previous default at the next reset; only a host that comes back running the new release gets
 * the new default. Connecting and the clock are injected, so the waiting is tested without a host.
 */
import { HostError, type Transport } from '../host/transport.js';

export interface RebootDeps {
  /** Connect anew and read `uname -r` and the boot id; throws while the host is down. */
  probe(): Promise<{ release: string; bootId: string }>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export type RebootOutcome =
  | { ok: true; release: string; bootId: string; seconds: number }
  | { ok: false; reason: string; release: string | null; bootId: string | null };

/** Ask the host to reboot; the command returns before the connection drops. */
export async function requestReboot(t: Transport): Promise<void> {
  const r = await t.run(
    ['sh', '-c', '(sleep 1; systemctl reboot || reboot || /sbin/reboot) </dev/null >/dev/null 2>&1 &'],
    { sudo: true },
  );
  if (r.code !== 0) throw new HostError(t.name, 'io', `cannot reboot: ${r.stderr.trim()}`);
}

/** The boot id of the running system (changes at every boot). */
export async function bootId(t: Transport): Promise<string> {
  const r = await t.run(['cat', '/proc/sys/kernel/random/boot_id']);
  return r.stdout.trim();
}

/**
 * Wait for the host to come back from a reboot (a new boot id), then check the release it runs.
 */
export async function waitForReboot(
  deps: RebootDeps,
  before: { bootId: string },
  expected: string,
  timeoutMs: number,
  intervalMs = 5000,
): Promise<RebootOutcome> {
  const start = deps.now();
  let stayedUp = false;
  while (deps.now() - start < timeoutMs) {
    await deps.sleep(intervalMs);
    let seen: { release: string; bootId: string };
    try {
      seen = await deps.probe();
    } catch {
      stayedUp = false; // it went down (or is not yet accepting connections)
      continue;
    }
    if (seen.bootId === before.bootId) {
      stayedUp = true; // not gone down yet
      continue;
    }
    stayedUp = false;
    const seconds = Math.round((deps.now() - start) / 1000);
    if (seen.release === expected) return { ok: true, release: seen.release, bootId: seen.bootId, seconds };
    return {
      ok: false,
      release: seen.release,
      bootId: seen.bootId,
      reason: `came back after ${seconds} s running ${seen.release}, not ${expected}: the trial boot of the new kernel failed and the previous default booted`,
    };
  }
  const secs = Math.round(timeoutMs / 1000);
  return {
    ok: false,
    release: null,
    bootId: null,
    reason: stayedUp
      ? `did not reboot within ${secs} s (the same boot id answered throughout; the one-time entry is still armed)`
      : `did not come back within ${secs} s (the previous default is still the default: a reset boots it)`,
  };
}
