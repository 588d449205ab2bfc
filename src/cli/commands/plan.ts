/**
 * `kernelfile plan [FILE]` for one host (`--host`) or an inventory's hosts: what apply would change,
 * never changing anything. One host gets its plan; a fleet gets a summary table, the builds it
 * needs and each host's plan. `--format text|json|markdown` (`--json` is `--format json`):
 * Markdown is for a pull-request comment (render/plan-markdown.ts).
 */

import type { Diagnostic } from '../../engine/index.js';
import {
  blocked,
  closeAll,
  counts,
  type FleetHost,
  hasChanges,
  type PlannedHost,
} from '../../engine/planning.js';
import {
  planDocument,
  savedPlanDocument,
  targetsForSaving,
  writePlanDocument,
} from '../../engine/saved-plan.js';
import { stampOf } from '../../engine/version.js';
import { type FleetBuild, type FleetRow, fleetTotals, renderFleetSummary } from '../../render/fleet-text.js';
import { type FleetHostInput, fleetPlanJson } from '../../render/plan-json.js';
import { type MarkdownHost, renderPlanMarkdown } from '../../render/plan-markdown.js';
import { type ConfigDiffMode, renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import {
  type FleetFlags,
  type ProgressSink,
  planOne,
  prefetchRemote,
  sessionFor,
  targetsOf,
} from '../hosts.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { printJsonError } from '../json-error.js';
import { reporter } from '../kernelfile.js';
import { type LockFlags, lockGate } from '../lock.js';

export type PlanFormat = 'text' | 'json' | 'markdown';

export interface PlanCommandFlags extends FleetFlags, LockFlags {
  json?: boolean;
  format?: PlanFormat;
  out?: string;
  detailedExitcode?: boolean;
  configDiff?: ConfigDiffMode;
}

/** The output format: `--format`, or `--json` (its alias for json); both only when they agree. */
export function formatOf(flags: Pick<PlanCommandFlags, 'json' | 'format'>): PlanFormat {
  if (flags.json && flags.format !== undefined && flags.format !== 'json')
    throw new UserError(
      `--json is short for --format json and cannot be combined with --format ${flags.format}: give one of them`,
    );
  return flags.json ? 'json' : (flags.format ?? 'text');
}

/** Requested Kconfig values that would be dropped, as the problems of a Markdown plan. */
function diagnosticProblems(
  diagnostics: readonly Diagnostic[],
): { code: string; message: string; hint: string }[] {
  return diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => ({
      code: d.code,
      message: `${d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: ` : ''}${d.message}`,
      hint: d.hint ?? '',
    }));
}

/** A fleet host as the Markdown plan shows it. */
export function markdownHost(h: FleetHost): MarkdownHost {
  if (!h.ok)
    return {
      name: h.target.name,
      plan: null,
      error: { message: h.error, hint: h.hint ?? null, unreachable: h.unreachable },
    };
  return { name: h.target.name, plan: h.plan, problems: diagnosticProblems(h.diagnostics) };
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
  const p = h.plan;
  const no = blocked(h);
  return {
    name: h.target.name,
    running: p.summary.running,
    target: p.summary.release,
    counts: counts(p.changes),
    state: no
      ? `not possible: ${p.problems.map((x) => x.code).join(', ') || 'config values dropped'}`
      : hasChanges(p)
        ? 'changes pending'
        : 'converged',
    kind: no ? 'error' : hasChanges(p) ? 'change' : 'ok',
  };
}

export function buildsOf(hosts: readonly FleetHost[]): FleetBuild[] {
  const byId = new Map<string, FleetBuild>();
  for (const h of hosts) {
    if (!h.ok || h.plan.buildIds.length === 0) continue;
    const d = h.desired;
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

async function planHost(file: string | undefined, flags: PlanCommandFlags, io: Io): Promise<ExitCode> {
  const format = formatOf(flags);
  const selected = targetsOf(file ?? 'kernelfile.yaml', flags, io);
  // A saved plan is made with the kernelfile path apply will read it from.
  const [target] = flags.out ? targetsForSaving(selected, io) : selected;
  if (!target) throw new UserError('no host to plan');
  const sink: ProgressSink = { update: () => {} };
  const session = sessionFor(flags, io, { sink });
  prefetchRemote(session, target);
  let planned: PlannedHost;
  let show: (ds: Diagnostic[]) => void;
  let render: ReturnType<typeof reporter>['render'];
  try {
    const loaded = await session.load(target.kernelfile);
    const r = reporter(loaded, io);
    show = r.show;
    render = r.render;
    if (r.rejectInvalid()) {
      if (format === 'json' && !loaded.result.ok)
        printJsonError(io, 'plan', {
          message: `${loaded.kf.display} is not valid`,
          hint: `fix it first (kernelfile validate ${loaded.kf.display})`,
          diagnostics: loaded.result.errors,
          displayName: render.displayName,
        });
      return 1;
    }
    planned = await planOne(session, target, io.stderrIsTTY && format === 'text', sink);
  } finally {
    session.dropPrefetched(); // what planning did not take: an invalid kernelfile, an error
  }
  await planned.transport.close();
  const errors = planned.diagnostics.filter((d) => d.severity === 'error');
  show(planned.diagnostics);
  if (errors.length) {
    const message = `${errors.length} requested config value(s) would not survive Kconfig: no plan`;
    if (format === 'markdown') io.out(renderPlanMarkdown([markdownHost({ ok: true, ...planned })]));
    if (format === 'json')
      printJsonError(io, 'plan', {
        message,
        diagnostics: planned.diagnostics,
        displayName: render.displayName,
      });
    io.err(`kernelfile: ${message}\n`);
    return 1;
  }
  if (await lockGate([{ ok: true, ...planned }], flags, io)) return 1;
  if (flags.out) writePlanDocument(flags.out, savedPlanDocument([{ ok: true, ...planned }], {}, io), io);
  if (format === 'json') io.out(`${JSON.stringify(planDocument([planned], io), null, 2)}\n`);
  else if (format === 'markdown')
    io.out(renderPlanMarkdown([markdownHost({ ok: true, ...planned })], { artifact: flags.out ?? null }));
  else {
    io.out(
      renderHostPlan(planned.plan, {
        style: io.color ? colored : plain,
        configDiff: flags.configDiff ?? 'summary',
      }),
    );
    if (flags.out && !planned.plan.problems.length)
      io.out(
        `\nSaved the plan to ${flags.out}. Apply exactly this plan with: kernelfile apply ${flags.out}\n`,
      );
  }
  if (planned.plan.problems.length) return 1;
  return flags.detailedExitcode && hasChanges(planned.plan) ? 2 : 0;
}

async function planFleet(file: string | undefined, flags: PlanCommandFlags, io: Io): Promise<ExitCode> {
  const format = formatOf(flags);
  const selected = targetsOf(file, flags, io);
  const hosts = await sessionFor(flags, io, { closeEach: true }).planAll(
    flags.out ? targetsForSaving(selected, io) : selected,
  );
  await closeAll(hosts);
  if (await lockGate(hosts, flags, io)) return 1;
  if (flags.out)
    writePlanDocument(
      flags.out,
      savedPlanDocument(
        hosts,
        {
          ...(flags.inventory ? { inventory: flags.inventory } : {}),
          ...(flags.limit ? { limit: flags.limit } : {}),
        },
        io,
      ),
      io,
    );
  const style = io.color ? colored : plain;
  const builds = buildsOf(hosts);
  const failed = hosts.filter((h) => !h.ok || blocked(h));
  const planned = hosts.flatMap((h) => (h.ok ? [h] : []));
  if (format === 'markdown') {
    const source = flags.inventory
      ? `${flags.inventory}${flags.limit ? ` --limit ${flags.limit}` : ''}`
      : null;
    io.out(renderPlanMarkdown(hosts.map(markdownHost), { source, artifact: flags.out ?? null }));
  } else if (format === 'json') {
    const doc = fleetPlanJson(
      { inventory: flags.inventory ?? null, limit: flags.limit ?? null },
      hosts.map(
        (h): FleetHostInput =>
          h.ok
            ? {
                name: h.target.name,
                state: rowOf(h).state,
                kernelfile: {
                  path: h.desired.kernelfile.path,
                  sha256: h.desired.kernelfile.sha256,
                  name: h.desired.name,
                },
                plan: h.plan,
                possible: !blocked(h),
              }
            : {
                name: h.target.name,
                state: h.unreachable ? 'unreachable' : 'error',
                error: h.error,
                hint: h.hint ?? null,
              },
      ),
      builds,
      stampOf(io),
    );
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
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
      else io.out(renderHostPlan(h.plan, { style, configDiff: flags.configDiff ?? 'summary' }));
    }
    const t = fleetTotals(planned.map((p) => p.plan));
    const changed = planned.filter((p) => hasChanges(p.plan)).length;
    io.out(
      `\n${style('bold', 'Fleet plan:')} ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy on ${changed} of ${hosts.length} host${hosts.length === 1 ? '' : 's'}${failed.length ? `; ${failed.length} cannot be planned (above)` : ''}.\n`,
    );
    if (flags.out) {
      const unplanned = hosts.length - planned.length;
      io.out(
        `\nSaved the plan of ${planned.length} host${planned.length === 1 ? '' : 's'} to ${flags.out}${unplanned ? ` (with the ${unplanned} that could not be planned, and why)` : ''}. Apply exactly this plan with: kernelfile apply ${flags.out}\n`,
      );
    }
  }
  if (failed.length) return 1;
  return flags.detailedExitcode && planned.some((p) => hasChanges(p.plan)) ? 2 : 0;
}

export function run(file: string | undefined, flags: PlanCommandFlags, io: Io): Promise<ExitCode> {
  return flags.inventory ? planFleet(file, flags, io) : planHost(file, flags, io);
}
