/**
 * A trial boot, live: the entry was armed as a one-time boot (the plan's `trial` change, which also
 * wrote the armed record with the boot id); reboot, wait for a new boot id, check the release it
 * runs, run the kernelfile's health check, and only then let the caller make the entry the
 * default. A trial that fails is recorded on the host (/var/lib/kernelfile/trials/<release>.json,
 * `failed`, with what was seen), so the next plan says so instead of arming it again; a host that
 * came up in the trial kernel but failed its health check is rebooted into its default (the
 * one-time entry is used up) before the failure is reported. Used by apply and rollback alike.
 */
import { writeFile } from '../apply/executor.js';
import { bootId, requestReboot, waitForReboot } from '../apply/reboot.js';
import { runOk, type Transport } from '../host/transport.js';
import { encodeTrial } from '../receipt/encode.js';
import { trialPath } from '../receipt/paths.js';
import { MAX_HEALTH_OUTPUT, type Trial } from '../receipt/types.js';
import { ApplyError } from './errors.js';
import type { Target } from './targets.js';

/** The entry under trial, as the plan rendered it. */
export interface TrialEntry {
  release: string;
  id: string;
  cmdline: string;
}

export type TrialEvent =
  | { phase: 'rebooting'; release: string }
  | { phase: 'up'; release: string; seconds: number }
  | { phase: 'health'; release: string; ok: boolean }
  | { phase: 'fallback'; release: string; to: string | null };

export interface TrialDeps {
  /** Connect anew (no facts): the probes after a reboot, the health check, the record of a failure. */
  connect(target: Target): Promise<Transport>;
  sleep(ms: number): Promise<void>;
  now(): Date;
  emit(e: TrialEvent): void;
}

export interface TrialRun {
  target: Target;
  /** The open connection to the host, as planned (closed by the caller). */
  transport: Transport;
  entry: TrialEntry;
  /** The release the host ran before (where a fallback lands). */
  previous: string | null;
  healthCheck: { command: string; timeoutSeconds: number } | null;
  timeoutMs: number;
}

const RETRY_HINT =
  'the previous default is unchanged; look at the host console, then fix the kernel or its entry (a new build or command line is a new trial), apply --retry-trial to boot it once more, or `kernelfile rollback`';

/** Run the health check on the host (as root, `sh -c`), limited by `timeout` there and here. */
export async function runHealthCheck(
  t: Transport,
  check: { command: string; timeoutSeconds: number },
): Promise<{ ok: boolean; code: number | null; output: string }> {
  const secs = check.timeoutSeconds;
  try {
    const r = await t.run(['timeout', '-k', '10', String(secs), 'sh', '-c', check.command], {
      sudo: true,
      timeoutMs: (secs + 30) * 1000,
    });
    const output = `${r.stdout}${r.stderr ? `${r.stdout && !r.stdout.endsWith('\n') ? '\n' : ''}${r.stderr}` : ''}`;
    const timedOut = r.code === 124 || r.code === 137;
    return {
      ok: r.code === 0,
      code: r.code,
      output: (timedOut ? `${output}(timed out after ${secs} s)\n` : output).slice(-MAX_HEALTH_OUTPUT),
    };
  } catch (e) {
    return { ok: false, code: null, output: `could not run: ${(e as Error).message}` };
  }
}

/** Rewrite the host's trial record as failed, with what was seen. */
async function recordFailure(
  t: Transport,
  run: TrialRun,
  armedBootId: string | null,
  seen: { release: string | null; bootId: string | null },
  reason: string,
  at: Date,
  health: Trial['health'],
): Promise<void> {
  const record = encodeTrial({
    release: run.entry.release,
    entry: run.entry.id,
    cmdline: run.entry.cmdline,
    bootId: armedBootId,
    state: 'failed',
    failedAt: at.toISOString(),
    seenRelease: seen.release,
    seenBootId: seen.bootId,
    reason,
    health,
  });
  await writeFile(t, trialPath(run.entry.release), record, 0o644);
}

/** What the failure report lists: what kernelfile saw. */
function seenDetails(
  seen: { release: string | null; bootId: string | null },
  before: string,
  health?: { command: string; code: number | null; output: string },
): string[] {
  const out = [
    `boot id before the reboot: ${before}`,
    `after: ${seen.bootId ?? 'not seen'}, running ${seen.release ?? 'unknown'}`,
  ];
  if (health) {
    out.push(`health check \`${health.command}\` exited ${health.code ?? 'without a status'}:`);
    out.push(...health.output.trimEnd().split('\n').slice(-20));
  }
  return out;
}

/**
 * Reboot into the armed entry and judge the trial. Resolves once the host runs the release and is
 * healthy (the caller then makes it the default); throws an ApplyError naming what was seen
 * otherwise, with the failure recorded on the host when it could be reached.
 */
export async function trialBoot(run: TrialRun, deps: TrialDeps): Promise<{ seconds: number }> {
  const { target, entry } = run;
  const name = run.transport.name;
  const before = await bootId(run.transport);
  deps.emit({ phase: 'rebooting', release: entry.release });
  await requestReboot(run.transport);
  const probeTarget = { ...target, hostOptions: { ...target.hostOptions, connectTimeoutMs: 10_000 } };
  const probe = async () => {
    const transport = await deps.connect(probeTarget);
    try {
      return {
        release: (await runOk(transport, ['uname', '-r'])).stdout.trim(),
        bootId: await bootId(transport),
      };
    } finally {
      await transport.close();
    }
  };
  const clock = { probe, sleep: deps.sleep, now: () => deps.now().getTime() };
  const outcome = await waitForReboot(clock, { bootId: before }, entry.release, run.timeoutMs);
  const seen = { release: outcome.release, bootId: outcome.bootId };
  if (!outcome.ok) {
    if (outcome.bootId)
      await withHost(deps, target, (t) =>
        recordFailure(t, run, before, seen, outcome.reason, deps.now(), null),
      );
    throw new ApplyError(
      `${name}: the trial boot of ${entry.release} failed: ${outcome.reason}`,
      RETRY_HINT,
      seenDetails(seen, before),
    );
  }
  deps.emit({ phase: 'up', release: entry.release, seconds: outcome.seconds });
  if (!run.healthCheck) return { seconds: outcome.seconds };
  const health = await withHost(deps, target, (t) =>
    runHealthCheck(t, run.healthCheck as NonNullable<TrialRun['healthCheck']>),
  );
  deps.emit({ phase: 'health', release: entry.release, ok: health.ok });
  if (health.ok) return { seconds: outcome.seconds };
  const check = { command: run.healthCheck.command, code: health.code, output: health.output };
  const reason = `${entry.release} came up but its health check exited ${health.code ?? 'without a status'}`;
  // Record first: if the way back fails too, the next plan still knows the trial failed.
  let back: string;
  await withHost(deps, target, async (t) => {
    await recordFailure(t, run, before, seen, reason, deps.now(), check);
    deps.emit({ phase: 'fallback', release: entry.release, to: run.previous });
    await requestReboot(t);
  });
  const returned = await waitForReboot(clock, { bootId: outcome.bootId }, run.previous ?? '', run.timeoutMs);
  if (returned.ok) back = `rebooted back into ${returned.release}`;
  else if (returned.release) back = `rebooted; it runs ${returned.release}`;
  else
    back = `rebooted into its default, which did not come back within ${Math.round(run.timeoutMs / 1000)} s`;
  throw new ApplyError(
    `${name}: the trial boot of ${entry.release} failed: ${reason}; ${back}`,
    RETRY_HINT,
    seenDetails(seen, before, check),
  );
}

/** Run `f` on a fresh connection to the host, closed afterwards. */
async function withHost<T>(
  deps: Pick<TrialDeps, 'connect'>,
  target: Target,
  f: (t: Transport) => Promise<T>,
): Promise<T> {
  const transport = await deps.connect(target);
  try {
    return await f(transport);
  } finally {
    await transport.close();
  }
}
