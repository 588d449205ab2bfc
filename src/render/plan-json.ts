/**
 * The plan as JSON (`plan --json`, and the saved plan of `plan --out FILE`): one versioned format,
 * documented in docs/json.md. Actions are arrays, as in Terraform's JSON plan, so a CI job finds
 * deletions with one test (`.actions | index("delete")`): a replace is ["delete", "create"].
 */
import {
  type Action,
  counts,
  type HostPlan,
  hasChanges,
  PLAN_FORMAT_VERSION,
  type PlanFile,
} from '../plan/types.js';

export const ACTIONS: Record<Action, string[]> = {
  create: ['create'],
  update: ['update'],
  replace: ['delete', 'create'],
  delete: ['delete'],
  noop: ['no-op'],
};

export function planFile(kernelfile: PlanFile['kernelfile'], hosts: HostPlan[]): PlanFile {
  return { formatVersion: PLAN_FORMAT_VERSION, kind: 'kernelfile-plan', kernelfile, hosts };
}

/** One host's plan with what a CI job asks first: each change's actions, the counts, changed, possible. */
export function hostPlanJson(h: HostPlan, possible = h.problems.length === 0) {
  return {
    ...h,
    changes: h.changes.map((c) => ({ ...c, actions: ACTIONS[c.action] })),
    counts: counts(h.changes),
    changed: hasChanges(h),
    possible,
  };
}

/** The JSON document: the plan file plus, per host and in total, what a CI job asks first. */
export function planJson(file: PlanFile): unknown {
  const total = { add: 0, change: 0, destroy: 0 };
  const hosts = file.hosts.map((h) => {
    const j = hostPlanJson(h);
    total.add += j.counts.add;
    total.change += j.counts.change;
    total.destroy += j.counts.destroy;
    return j;
  });
  return {
    ...file,
    hosts,
    counts: total,
    changed: hosts.some((h) => h.changed),
    possible: hosts.every((h) => h.possible),
  };
}
