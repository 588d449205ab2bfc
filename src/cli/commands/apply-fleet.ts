/**
 * `kernelfile apply --inventory FILE`: plan every selected host (in parallel), confirm once, build
 * each distinct build once, then apply in rolling batches (`--serial`), hosts of a batch in
 * parallel, stopping when the failure budget (`--max-fail`) is spent or the canary batch fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute } from '../../apply/executor.js';
import { build, type Manifest } from '../../compile/build.js';
import { buildDkmsTarball } from '../../dkms/tarball.js';
import { batches, parsePercent, parseSerial, pool, stopReason } from '../../fleet/rollout.js';
import type { DkmsTarballStep } from '../../plan/types.js';
import { hasChanges } from '../../plan/types.js';
import { renderFleetSummary, table } from '../../render/fleet-text.js';
import { renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import { closeAll, type FleetFlags, type FleetHost, parallelism, planFleet, targets } from '../fleet.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { openAndGather, type PlannedHost } from '../plan-host.js';
import { confirm, packSource, progressPrinter, rebootAndSettle, spaceCheck } from './apply.js';
import { buildsOf, rowOf } from './plan-fleet.js';

export interface FleetApplyFlags extends FleetFlags {
  yes?: boolean;
  serial?: string;
  maxFail?: string;
  reboot?: boolean;
  rebootTimeout?: string;
}

type Outcome = {
  name: string;
  result: 'converged' | 'unchanged' | 'failed' | 'unreachable' | 'skipped';
  detail: string;
};

/**
 * Connections are opened at plan time and kept; one that dropped while its host waited for its
 * batch (a NAT or firewall reset, a blip) is opened again, and the host is applied only if its
 * facts are still those it was planned from.
 */
async function reconnectIfLost(h: Extract<FleetHost, { ok: true }>, io: Io): Promise<void> {
  const p = h.planned;
  const alive = await p.transport
    .run(['true'], { timeoutMs: 15_000 })
    .then((r) => r.code === 0)
    .catch(() => false);
  if (alive) return;
  await p.transport.close().catch(() => {});
  const again = await openAndGather(h.target.flags, io);
  if (again.facts.digest !== p.plan.factsDigest) {
    await again.transport.close();
    throw new UserError(
      `${h.target.name}: reconnected, but its facts changed since the plan; nothing was changed`,
      'plan again',
    );
  }
  io.err(`${h.target.name}: the connection had dropped; reconnected (facts unchanged)\n`);
  p.transport = again.transport;
}

export async function run(file: string | undefined, flags: FleetApplyFlags, io: Io): Promise<ExitCode> {
  const serial = flags.serial ? parseSerial(flags.serial) : null;
  if (serial && 'error' in serial) throw new UserError(serial.error);
  const maxFail = flags.maxFail !== undefined ? parsePercent(flags.maxFail, '--max-fail') : null;
  if (maxFail !== null && typeof maxFail !== 'number') throw new UserError(maxFail.error);
  const rebootTimeoutMs = Number(flags.rebootTimeout ?? '600') * 1000;
  if (!Number.isFinite(rebootTimeoutMs) || rebootTimeoutMs <= 0)
    throw new UserError(
      `--reboot-timeout must be a positive number of seconds, got \`${flags.rebootTimeout}\``,
    );
  const parallel = parallelism(flags);
  const list = targets(file, { ...flags, trial: flags.trial || flags.reboot }, io);
  const hosts = await planFleet(list, io, parallel);
  const style = io.color ? colored : plain;
  const outcomes = new Map<string, Outcome>();
  try {
    io.out(renderFleetSummary(hosts.map(rowOf), buildsOf(hosts), style));
    for (const h of hosts)
      if (h.ok && hasChanges(h.planned.plan)) {
        io.out(`\n${style('bold', `── ${h.target.name} ──`)}\n`);
        io.out(renderHostPlan(h.planned.plan, { style, configDiff: 'none' }));
      }
    const todo: Extract<FleetHost, { ok: true }>[] = [];
    for (const h of hosts) {
      const name = h.target.name;
      if (!h.ok)
        outcomes.set(name, { name, result: h.unreachable ? 'unreachable' : 'failed', detail: h.error });
      else if (h.planned.plan.problems.length || h.planned.diagnostics.some((d) => d.severity === 'error'))
        outcomes.set(name, {
          name,
          result: 'failed',
          detail: `not possible: ${h.planned.plan.problems.map((p) => p.message).join('; ') || 'requested config values would be dropped'}`,
        });
      else if (!hasChanges(h.planned.plan))
        outcomes.set(name, { name, result: 'unchanged', detail: 'no changes' });
      else todo.push(h);
    }
    if (todo.length && !flags.yes) {
      if (!process.stdin.isTTY)
        throw new UserError(
          'apply changes hosts: confirm with --yes (standard input is not a terminal, so kernelfile cannot ask)',
        );
      if (!(await confirm(`${todo.length} host${todo.length === 1 ? '' : 's'}`))) {
        io.err('Not applied: the answer was not "yes".\n');
        return 1;
      }
    }
    // Every distinct build once, before the first batch.
    const artifacts = new Map<string, Promise<{ dir: string; manifest: Manifest }>>();
    const builtFor = (p: PlannedHost) => {
      let a = artifacts.get(p.prepared.buildId);
      if (!a) {
        io.err(`building ${p.prepared.buildId.slice(0, 12)} (${p.prepared.release}) once for the fleet\n`);
        a = build(p.prepared, () => {});
        artifacts.set(p.prepared.buildId, a);
      }
      return a;
    };
    for (const h of todo) if (h.planned.plan.buildIds.length) await builtFor(h.planned);
    const scratch = mkdtempSync(join(tmpdir(), 'kernelfile-apply-'));
    try {
      const groups = batches(todo, serial);
      let failed = [...outcomes.values()].filter(
        (o) => o.result === 'failed' || o.result === 'unreachable',
      ).length;
      const total = hosts.length;
      for (const [index, batch] of groups.entries()) {
        if (groups.length > 1)
          io.err(
            `batch ${index + 1}/${groups.length}${index === 0 ? ' (canary)' : ''}: ${batch.map((h) => h.target.name).join(', ')}\n`,
          );
        const results = await pool(batch, parallel, async (h) => {
          const p = h.planned;
          const controller = {
            build: async () => {
              const a = await builtFor(p);
              spaceCheck(p, a.manifest);
              return a;
            },
            packSource: (from: string) => packSource(from, scratch),
            dkmsTarball: (step: DkmsTarballStep, artifactsDir: string, onLine: (l: string) => void) =>
              buildDkmsTarball({ ...step, artifactsDir, workDir: scratch, onLine }),
            now: () => new Date().toISOString(),
          };
          await reconnectIfLost(h, io);
          await execute(p.transport, p.plan, controller, progressPrinter(io, h.target.name));
          if (flags.reboot && p.facts.system.running !== p.plan.summary.release) {
            const l = await import('../kernelfile.js').then((m) => m.loadSpec(h.target.kernelfile, io));
            await rebootAndSettle(
              l,
              h.target.flags,
              io,
              p.transport,
              p.plan.summary.release,
              rebootTimeoutMs,
            );
          }
        });
        let batchFailed = 0;
        results.forEach((r, i) => {
          const name = (batch[i] as (typeof batch)[number]).target.name;
          if (r.status === 'fulfilled')
            outcomes.set(name, {
              name,
              result: 'converged',
              detail: flags.reboot ? 'rebooted into the new kernel' : 'applied',
            });
          else {
            batchFailed++;
            const e = r.reason as Error & { kind?: string };
            const lost =
              e.name === 'HostError' && ['disconnected', 'unreachable', 'timeout'].includes(e.kind ?? '');
            outcomes.set(name, { name, result: lost ? 'unreachable' : 'failed', detail: e.message });
          }
        });
        failed += batchFailed;
        const why = stopReason(
          { total, failed, batch: { index, size: batch.length, failed: batchFailed } },
          maxFail,
          index < groups.length - 1,
        );
        if (why) {
          for (const rest of groups.slice(index + 1).flat())
            outcomes.set(rest.target.name, {
              name: rest.target.name,
              result: 'skipped',
              detail: `not applied: ${why}`,
            });
          io.err(`stopping the rollout: ${why}\n`);
          break;
        }
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } finally {
    await closeAll(hosts);
  }
  const rows = hosts.map((h) => outcomes.get(h.target.name) as Outcome);
  io.out(`\n${style('bold', 'Apply:')}\n`);
  io.out(
    `${table([
      ['HOST', 'RESULT', 'DETAIL'],
      ...rows.map((o) => [o.name, o.result, o.detail.split('\n')[0] ?? '']),
    ])
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  );
  const bad = rows.filter(
    (o) => o.result === 'failed' || o.result === 'unreachable' || o.result === 'skipped',
  );
  const ok = rows.length - bad.length;
  io.out(
    `\n${ok} of ${rows.length} host${rows.length === 1 ? '' : 's'} converged${bad.length ? `; ${bad.length} not (above)` : ''}.\n`,
  );
  return bad.length ? 1 : 0;
}
