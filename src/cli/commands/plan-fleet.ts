/** `kernelfile plan --inventory FILE [--limit PATTERN]`: every selected host, planned in parallel. */
import { counts, hasChanges } from '../../plan/types.js';
import { type FleetBuild, type FleetRow, fleetTotals, renderFleetSummary } from '../../render/fleet-text.js';
import { ACTIONS } from '../../render/plan-json.js';
import { type ConfigDiffMode, renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import { closeAll, type FleetFlags, type FleetHost, parallelism, planFleet, targets } from '../fleet.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';

export interface FleetPlanFlags extends FleetFlags {
  json?: boolean;
  detailedExitcode?: boolean;
  configDiff?: ConfigDiffMode;
  out?: string;
}

export function rowOf(h: FleetHost): FleetRow {
  if (!h.ok)
    return {
      name: h.target.name,
      running: null,
      target: null,
      counts: null,
      state: `${h.unreachable ? 'unreachable' : 'error'}: ${h.error}`,
      kind: 'error',
    };
  const p = h.planned.plan;
  const blocked = p.problems.length > 0 || h.planned.diagnostics.some((d) => d.severity === 'error');
  return {
    name: h.target.name,
    running: p.summary.running,
    target: p.summary.release,
    counts: counts(p.changes),
    state: blocked
      ? `not possible: ${p.problems.map((x) => x.code).join(', ') || 'config values dropped'}`
      : hasChanges(p)
        ? 'changes pending'
        : 'converged',
    kind: blocked ? 'error' : hasChanges(p) ? 'change' : 'ok',
  };
}

export function buildsOf(hosts: FleetHost[]): FleetBuild[] {
  const byId = new Map<string, FleetBuild>();
  for (const h of hosts) {
    if (!h.ok || h.planned.plan.buildIds.length === 0) continue;
    const d = h.planned.desired;
    const b = byId.get(d.buildId) ?? {
      buildId: d.buildId,
      release: d.release,
      kernelfile: d.kernelfile.path,
      hosts: [],
      cached: d.artifacts.cached,
    };
    b.hosts.push(h.target.name);
    byId.set(d.buildId, b);
  }
  return [...byId.values()];
}

export async function run(file: string | undefined, flags: FleetPlanFlags, io: Io): Promise<ExitCode> {
  if (flags.out)
    throw new UserError('--out saves the plan of one host; with --inventory it is not supported yet');
  const list = targets(file, flags, io);
  const hosts = await planFleet(list, io, parallelism(flags));
  await closeAll(hosts);
  const style = io.color ? colored : plain;
  const builds = buildsOf(hosts);
  const failed = hosts.filter(
    (h) =>
      !h.ok || h.planned.plan.problems.length || h.planned.diagnostics.some((d) => d.severity === 'error'),
  );
  const planned = hosts.flatMap((h) => (h.ok ? [h.planned] : []));
  if (flags.json) {
    io.out(
      `${JSON.stringify(
        {
          formatVersion: 1,
          kind: 'kernelfile-fleet-plan',
          inventory: flags.inventory ?? null,
          limit: flags.limit ?? null,
          hosts: hosts.map((h) =>
            h.ok
              ? {
                  name: h.target.name,
                  state: rowOf(h).state,
                  kernelfile: {
                    path: h.planned.desired.kernelfile.path,
                    sha256: h.planned.desired.kernelfile.sha256,
                    name: h.planned.desired.name,
                  },
                  plan: {
                    ...h.planned.plan,
                    changes: h.planned.plan.changes.map((c) => ({ ...c, actions: ACTIONS[c.action] })),
                    counts: counts(h.planned.plan.changes),
                    changed: hasChanges(h.planned.plan),
                    possible: h.planned.plan.problems.length === 0,
                  },
                }
              : {
                  name: h.target.name,
                  state: h.unreachable ? 'unreachable' : 'error',
                  error: h.error,
                  hint: h.hint ?? null,
                },
          ),
          builds,
          counts: fleetTotals(planned.map((p) => p.plan)),
          changed: planned.some((p) => hasChanges(p.plan)),
          possible: failed.length === 0,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.out(
      `${style('bold', `Fleet: ${hosts.length} host${hosts.length === 1 ? '' : 's'}`)}${flags.inventory ? ` from ${flags.inventory}${flags.limit ? ` (limit ${flags.limit})` : ''}` : ''}, ${builds.length} build${builds.length === 1 ? '' : 's'} needed\n\n`,
    );
    io.out(renderFleetSummary(hosts.map(rowOf), builds, style));
    for (const h of hosts) {
      io.out(`\n${style('bold', `── ${h.target.name} ──`)}\n`);
      if (!h.ok)
        io.out(
          `  ${style('error', h.unreachable ? 'unreachable:' : 'error:')} ${h.error}\n${h.hint ? `    hint: ${h.hint}\n` : ''}`,
        );
      else io.out(renderHostPlan(h.planned.plan, { style, configDiff: flags.configDiff ?? 'summary' }));
    }
    const t = fleetTotals(planned.map((p) => p.plan));
    const changed = planned.filter((p) => hasChanges(p.plan)).length;
    io.out(
      `\n${style('bold', 'Fleet plan:')} ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy on ${changed} of ${hosts.length} host${hosts.length === 1 ? '' : 's'}${failed.length ? `; ${failed.length} cannot be planned (above)` : ''}.\n`,
    );
  }
  if (failed.length) return 1;
  return flags.detailedExitcode && planned.some((p) => hasChanges(p.plan)) ? 2 : 0;
}
