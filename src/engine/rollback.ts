/**
 * `rollback`: the planned hosts' plans replaced by the plan of a rollback (src/plan/rollback.ts),
 * so the same rollout applies them: confirmation, batches, the failure budget and, with `reboot`,
 * the same trial boot as apply (engine/trial.ts). A host with nothing to roll back to keeps a plan
 * whose problem says why; one whose choice already is the default has nothing to do.
 */
import { planRollback } from '../plan/rollback.js';
import type { FleetHost, PlannedHost } from './planning.js';

export interface RollbackRequest {
  /** The release to make the default again; default: the newest kept kernel that is not the default. */
  to?: string;
  /** Boot it once first (`--reboot`): a trial, like apply's. */
  trial: boolean;
}

/** One planned host's rollback plan (the forward plan's problems and diagnostics no longer apply). */
export function rollbackPlan(h: PlannedHost, r: RollbackRequest): PlannedHost {
  const rb = planRollback(h.desired, h.facts, { to: r.to, trial: r.trial, base: h.plan });
  const base = { ...h.plan, buildIds: [], changes: [], modules: [], notes: [] as string[] };
  if (rb.ok) return { ...h, diagnostics: [], plan: rb.plan, rollback: { to: rb.to, requested: r.to } };
  if (rb.problem.code === 'already-default')
    return { ...h, diagnostics: [], plan: { ...base, problems: [], notes: [rb.problem.message] } };
  return { ...h, diagnostics: [], plan: { ...base, problems: [rb.problem] } };
}

export function rollbackPlans(hosts: readonly FleetHost[], r: RollbackRequest): FleetHost[] {
  return hosts.map((h) => (h.ok ? { ok: true as const, ...rollbackPlan(h, r) } : h));
}
