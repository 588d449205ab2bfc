/**
 * `kernelfile status`: the state of a host against its kernelfile, from its plan and facts. Pure.
 * Each state has its own exit code (docs/cli.md); a fleet exits with the worst.
 */
import type { HostFacts } from '../facts/types.js';
import type { HostPlan } from '../plan/types.js';

export const STATES = [
  'converged',
  'changes-pending',
  'installed-not-booted',
  'booted-not-default',
  'drifted',
  'unreachable',
  'trial-failed',
] as const;
export type HostState = (typeof STATES)[number] | 'error';

/** One host's line of `kernelfile status` (and of `status --json`). */
export interface StatusRow {
  /** The inventory name, or `--host` as written. */
  name: string;
  state: HostState;
  /** Why, in words. */
  detail: string;
  /** The host's running release; null for a host in `error` or `unreachable` (or an image). */
  running: string | null;
  /** The kernelfile's release; null for a host in `error` or `unreachable`. */
  target: string | null;
}

/**
 * Exit codes, worst last: 0 converged … 7 unreachable, 8 a trial boot failed (the host needs a new
 * kernel, `--retry-trial` or a rollback); 1 stays "kernelfile itself failed".
 */
export const STATE_EXIT: Record<HostState, number> = {
  converged: 0,
  'changes-pending': 2,
  'installed-not-booted': 3,
  'booted-not-default': 4,
  drifted: 5,
  error: 6,
  unreachable: 7,
  'trial-failed': 8,
};

export const STATE_TEXT: Record<HostState, string> = {
  converged: 'converged',
  'changes-pending': 'changes pending',
  'installed-not-booted': 'installed, not booted',
  'booted-not-default': 'booted, not the default',
  drifted: 'drifted',
  error: 'error',
  unreachable: 'unreachable',
  'trial-failed': 'trial failed',
};

/**
 * `opts.image`: the host is a root filesystem directory. It runs no kernel, so "booted" means
 * nothing there: an image whose kernel is installed and the default, with nothing pending, is
 * converged.
 */
export function hostState(
  plan: HostPlan,
  facts: HostFacts,
  opts: { image?: boolean } = {},
): { state: HostState; detail: string } {
  const release = plan.summary.release;
  const kernel = plan.changes.find((c) => c.resource === 'kernel');
  if (kernel?.action === 'update' && /drifted/.test(kernel.reason))
    return { state: 'drifted', detail: kernel.reason };
  const pending = plan.changes.filter((c) => c.action !== 'no-op');
  const installed = kernel?.action === 'no-op';
  const running = facts.system.running === release;
  const trial = plan.problems.find((p) => p.code === 'trial-failed');
  if (trial) return { state: 'trial-failed', detail: trial.message };
  if (plan.problems.length) return { state: 'error', detail: plan.problems.map((p) => p.message).join('; ') };
  if (opts.image) {
    if (pending.length)
      return {
        state: 'changes-pending',
        detail: `${pending.length} change${pending.length === 1 ? '' : 's'} pending`,
      };
    return { state: 'converged', detail: `${release} installed and default (an image: no kernel runs)` };
  }
  if (
    installed &&
    running &&
    pending.every((c) => c.resource === 'default-entry' || c.resource === 'prune')
  ) {
    if (pending.some((c) => c.resource === 'default-entry'))
      return { state: 'booted-not-default', detail: `runs ${release}, but the default entry is another` };
  }
  // Installed but another kernel is the default (a rollback, or a default changed by hand) or its
  // trial is not armed: apply would change that, so it is pending, not waiting for a reboot.
  if (pending.length) {
    return {
      state: 'changes-pending',
      detail: `${pending.length} change${pending.length === 1 ? '' : 's'} pending`,
    };
  }
  if (!running)
    return {
      state: 'installed-not-booted',
      detail: `${release} installed and default, ${facts.system.running} running`,
    };
  return { state: 'converged', detail: `runs ${release}` };
}

export function worstExit(states: readonly HostState[]): number {
  return Math.max(0, ...states.map((s) => STATE_EXIT[s]));
}
