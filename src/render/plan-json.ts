/**
 * The plan as JSON: `plan --json` (one host), `plan --inventory --json` (a fleet) and the host
 * plans of the saved plan (`plan --out FILE`). Their types (and so their schemas in schemas/) are
 * in json-documents.ts; documented in docs/json.md. Actions are lists, as in Terraform's JSON plan,
 * so a CI job finds deletions with one test (`.actions | index("delete")`): a replace is
 * ["delete", "create"]. A `write` step shows its file's sha256 and size in `plan --json`; only the
 * saved plan carries the content, which apply compares with a fresh plan's.
 */
import { createHash } from 'node:crypto';
import {
  type Action,
  counts,
  type HostPlan,
  hasChanges,
  PLAN_FORMAT_VERSION,
  type PlanFile,
  type Step,
} from '../plan/types.js';
import type { FleetBuild } from './fleet-text.js';
import type {
  ActionWord,
  Counts,
  FleetPlanJson,
  FleetPlannedHostJson,
  FleetUnplannedHostJson,
  HostPlanJson,
  PlanJson,
  SavedHostPlanJson,
  Stamp,
  StepJson,
  Totals,
} from './json-documents.js';

export const ACTIONS: Record<Action, ActionWord[]> = {
  create: ['create'],
  update: ['update'],
  replace: ['delete', 'create'],
  delete: ['delete'],
  'no-op': ['no-op'],
};

export function planFile(kernelfile: PlanFile['kernelfile'], hosts: HostPlan[]): PlanFile {
  return { formatVersion: PLAN_FORMAT_VERSION, kind: 'kernelfile-plan', kernelfile, hosts };
}

/** A step as `plan --json` shows it: a file written by its sha256 and size, not its content. */
export function stepJson(s: Step): StepJson {
  if (s.kind !== 'write') return s;
  const bytes = Buffer.from(s.content, 'utf8');
  return {
    kind: 'write',
    title: s.title,
    path: s.path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    mode: s.mode,
    sudo: s.sudo,
  };
}

/**
 * One host's plan as `plan --json` shows it, with what a CI job asks first: each change's actions,
 * the counts, changed, possible.
 */
export function hostPlanJson(h: HostPlan, possible = h.problems.length === 0): HostPlanJson {
  return {
    ...h,
    changes: h.changes.map((c) => ({ ...c, actions: ACTIONS[c.action], steps: c.steps.map(stepJson) })),
    counts: counts(h.changes),
    changed: hasChanges(h),
    possible,
  };
}

/** One host's plan as the saved plan holds it: the same, with every step whole (for apply). */
export function savedHostPlanJson(h: HostPlan, possible = h.problems.length === 0): SavedHostPlanJson {
  return {
    ...h,
    changes: h.changes.map((c) => ({ ...c, actions: ACTIONS[c.action] })),
    counts: counts(h.changes),
    changed: hasChanges(h),
    possible,
  };
}

/** The totals over host plans. */
export function totalsOf(hosts: readonly Totals[]): Totals {
  const total: Counts = { add: 0, change: 0, destroy: 0 };
  for (const h of hosts) {
    total.add += h.counts.add;
    total.change += h.counts.change;
    total.destroy += h.counts.destroy;
  }
  return {
    counts: total,
    changed: hosts.some((h) => h.changed),
    possible: hosts.every((h) => h.possible),
  };
}

/** `plan --json` of one kernelfile's hosts: the plan file plus, per host and in total, what a CI job asks first. */
export function planJson(file: PlanFile, stamp: Stamp): PlanJson {
  const hosts = file.hosts.map((h) => hostPlanJson(h));
  return {
    formatVersion: file.formatVersion,
    kind: file.kind,
    ...stamp,
    kernelfile: file.kernelfile,
    hosts,
    ...totalsOf(hosts),
  };
}

/** A host of a fleet plan: planned (its plan and whether it can be applied), or why not. */
export type FleetHostInput =
  | (Omit<FleetPlannedHostJson, 'plan'> & { plan: HostPlan; possible: boolean })
  | FleetUnplannedHostJson;

/** `plan --inventory --json`: every host's plan or why there is none, the builds, the totals. */
export function fleetPlanJson(
  selection: { inventory: string | null; limit: string | null },
  hosts: readonly FleetHostInput[],
  builds: FleetBuild[],
  stamp: Stamp,
): FleetPlanJson {
  const entries = hosts.map((h): FleetPlannedHostJson | FleetUnplannedHostJson =>
    'plan' in h
      ? { name: h.name, state: h.state, kernelfile: h.kernelfile, plan: hostPlanJson(h.plan, h.possible) }
      : h,
  );
  const planned = entries.flatMap((h) => ('plan' in h ? [h.plan] : []));
  const t = totalsOf(planned);
  return {
    formatVersion: 1,
    kind: 'kernelfile-fleet-plan',
    ...stamp,
    inventory: selection.inventory,
    limit: selection.limit,
    hosts: entries,
    builds,
    counts: t.counts,
    changed: t.changed,
    possible: t.possible && planned.length === entries.length,
  };
}
