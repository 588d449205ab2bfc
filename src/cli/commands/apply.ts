/**
 * `kernelfile apply [FILE]`: plan (or read a saved plan and refuse it when stale), show it, ask,
 * then converge through the engine's one apply path: one host (`--host`) is a rollout of one, an
 * inventory's hosts go in batches. Nothing on a host changes before every check that can run first
 * has passed: the plan's problems, dropped Kconfig values, the build, /boot's room.
 */
import type { ApplyEvent, ApplyOptions, Outcome, StepEvent } from '../../engine/apply.js';
import type { Diagnostic, HostOptions, SavedPlan } from '../../engine/index.js';
import { blocked, closeAll, type FleetHost, needsApply, type PlannedHost } from '../../engine/planning.js';
import {
  adoptSavedPlan,
  checkSavedSelection,
  isPlanned,
  planSaved,
  readSavedPlan,
  type SavedTarget,
  savedTargets,
  shown,
} from '../../engine/saved-plan.js';
import { checkCapabilities, type Target } from '../../engine/targets.js';
import { renderFleetSummary, table } from '../../render/fleet-text.js';
import { type ConfigDiffMode, renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import { type HostFlags, requireInventory } from '../host-options.js';
import { hostOptions } from '../host-settings.js';
import {
  type FleetFlags,
  mokPasswordFileOf,
  type ProgressSink,
  planOne,
  prefetchRemote,
  sessionFor,
  targetsOf,
} from '../hosts.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { reporter } from '../kernelfile.js';
import { type LockFlags, lockGate } from '../lock.js';
import { buildsOf, rowOf } from './plan.js';

export interface ApplyFlags extends FleetFlags, LockFlags {
  yes?: boolean;
  /** How much of the Kconfig difference the printed plan shows (default summary; a rollback none). */
  configDiff?: ConfigDiffMode;
  reboot?: boolean;
  rebootTimeout?: string;
  lockTimeout?: string;
  serial?: string;
  maxFail?: string;
  /** Boot the new default entry once before making it the default, whatever boot.trial says. */
  trial?: boolean;
  /** Arm the trial again although the last one of this release and entry failed. */
  retryTrial?: boolean;
  /** `kernelfile rollback`: make a kept kernel the default again instead of applying the kernelfile. */
  rollback?: { to?: string };
  /** The options given on the command line (not defaults): they decide what a saved plan yields to. */
  given?: string[];
}

/** A rollback changes no kernel: its plan shows no Kconfig difference. */
function configDiffOf(flags: ApplyFlags): ConfigDiffMode {
  return flags.rollback ? 'none' : (flags.configDiff ?? 'summary');
}

/** Ask on a terminal; without one, --yes is required (kernelfile never waits on a pipe). */
async function confirmed(io: Io, flags: ApplyFlags, what: string, hosts: number): Promise<boolean> {
  if (flags.yes) return true;
  if (!io.stdinIsTTY)
    throw new UserError(
      `apply changes ${hosts === 1 ? 'a host' : 'hosts'}: confirm with --yes (standard input is not a terminal, so kernelfile cannot ask)`,
    );
  const answer = await io.ask(`\nApply these changes to ${what}? Only "yes" is accepted: `);
  return answer.trim() === 'yes';
}

function stepLine(io: Io, host: string, e: StepEvent): void {
  if (e.kind === 'change')
    io.err(`${host}: ${e.change.id} (${e.index + 1}/${e.total}): ${e.change.reason}\n`);
  else if (e.kind === 'step' && e.state === 'start' && (e.step.kind === 'build' || e.step.kind === 'ship'))
    io.err(`${host}:   … ${e.step.title}\n`);
  else if (e.kind === 'step' && e.state === 'done')
    io.err(
      `${host}:   ✓ ${e.step.title}${e.detail ? `: ${e.detail}` : ''} (${((e.ms ?? 0) / 1000).toFixed(1)} s)\n`,
    );
}

/** Plain progress lines (CI logs, pipes, fleets). */
function eventLine(io: Io, fleet: boolean): (e: ApplyEvent) => void {
  return (e) => {
    if (e.type === 'step') stepLine(io, e.host, e.event);
    else if (e.type === 'build' && e.state === 'start')
      io.err(`building ${e.buildId.slice(0, 12)} (${e.release})${fleet ? ' once for the fleet' : ''}\n`);
    else if (e.type === 'build' && e.state === 'done' && e.message) io.err(`${e.message}\n`);
    else if (e.type === 'batch')
      io.err(`batch ${e.index + 1}/${e.total}${e.index === 0 ? ' (canary)' : ''}: ${e.hosts.join(', ')}\n`);
    else if (e.type === 'reconnected')
      io.err(`${e.host}: the connection had dropped; reconnected (facts unchanged)\n`);
    else if (e.type === 'stop') io.err(`stopping the rollout: ${e.reason}\n`);
    else if (e.type === 'reboot' && e.phase === 'rebooting')
      io.err(
        `${e.host}: rebooting into ${e.release} (one-time boot; the default is unchanged until it is up)\n`,
      );
    else if (e.type === 'reboot' && e.phase === 'up')
      io.err(`${e.host}: up again in ${e.seconds} s, running ${e.release}\n`);
    else if (e.type === 'reboot' && e.phase === 'healthy') io.err(`${e.host}: health check passed\n`);
    else if (e.type === 'reboot' && e.phase === 'unhealthy') io.err(`${e.host}: health check FAILED\n`);
    else if (e.type === 'reboot' && e.phase === 'fallback')
      io.err(`${e.host}: rebooting back into its default${e.to ? ` (${e.to})` : ''}\n`);
    else if (e.type === 'reboot' && e.phase === 'default')
      io.out(`${e.host} runs ${e.release}, now its default boot entry.\n`);
  };
}

function rolloutOptions(flags: ApplyFlags, io: Io, onEvent: (e: ApplyEvent) => void): ApplyOptions {
  const rebootTimeoutMs = Number(flags.rebootTimeout ?? '600') * 1000;
  if (!Number.isFinite(rebootTimeoutMs) || rebootTimeoutMs <= 0)
    throw new UserError(
      `--reboot-timeout must be a positive number of seconds, got \`${flags.rebootTimeout}\``,
    );
  const lockTimeoutMs = Number(flags.lockTimeout ?? '0') * 1000;
  if (!Number.isFinite(lockTimeoutMs) || lockTimeoutMs < 0)
    throw new UserError(
      `--lock-timeout must be a number of seconds (0 or more), got \`${flags.lockTimeout}\``,
    );
  return {
    yes: true,
    lockTimeoutMs,
    ...(flags.serial ? { serial: flags.serial } : {}),
    ...(flags.maxFail !== undefined ? { maxFail: flags.maxFail } : {}),
    reboot: flags.reboot === true,
    rebootTimeoutMs,
    ...mokPasswordFileOf(flags, io),
    onEvent,
  };
}

/** The apply half of the engine, loaded once there is something to apply (a converged host needs none of it). */
const applyEngine = () => import('../../engine/apply.js');
const rollbackEngine = () => import('../../engine/rollback.js');

/** A saved plan being applied: the plan and its hosts, reached as it says. */
interface FromPlan {
  file: string;
  saved: SavedPlan;
  chosen: SavedTarget[];
}

/** One host: its plan, the question, live progress on a terminal, and its failure as raised. */
async function applyHost(
  file: string | undefined,
  flags: ApplyFlags,
  io: Io,
  from?: FromPlan,
): Promise<ExitCode> {
  const [target]: (Target | undefined)[] = from
    ? from.chosen.map((c) => c.target)
    : targetsOf(file, flags, io);
  if (!target) throw new UserError('no host to apply to');
  const sink: ProgressSink = { update: () => {} };
  const session = sessionFor(flags, io, {
    trial: flags.trial || flags.reboot,
    retryTrial: flags.retryTrial,
    sink,
  });
  try {
    checkCapabilities([target], flags);
    prefetchRemote(session, target); // not for a host refused below (--reboot of root:DIR)
  } catch {}
  let forward: PlannedHost;
  let show: (ds: Diagnostic[]) => void;
  const tty = io.stderrIsTTY;
  const lines = eventLine(io, false);
  let options: ReturnType<typeof rolloutOptions>;
  try {
    const loaded = await session.load(target.kernelfile);
    const r = reporter(loaded, io);
    show = r.show;
    if (r.rejectInvalid()) return 1;
    checkCapabilities([target], flags);
    options = rolloutOptions(flags, io, lines);
    forward = await planOne(session, target, tty, sink);
  } finally {
    session.dropPrefetched(); // what planning did not take: an invalid kernelfile, an error
  }
  const planned = flags.rollback
    ? (await rollbackEngine()).rollbackPlan(forward, { to: flags.rollback.to, trial: flags.reboot === true })
    : forward;
  try {
    show(planned.diagnostics);
    if (planned.diagnostics.some((d) => d.severity === 'error')) {
      io.err('kernelfile: requested config values would not survive Kconfig: nothing was changed\n');
      return 1;
    }
    if (from) adoptSavedPlan(planned, from.saved, from.file);
    if (!flags.rollback && (await lockGate([{ ok: true, ...planned }], flags, io))) return 1;
    const plan = planned.plan;
    io.out(renderHostPlan(plan, { style: io.color ? colored : plain, configDiff: configDiffOf(flags) }));
    if (plan.problems.length) return 1;
    if (!needsApply(plan, options)) return 0;
    if (!(await confirmed(io, flags, planned.transport.name, 1))) {
      io.err('Not applied: the answer was not "yes".\n');
      return 1;
    }
    const { Rollout } = await applyEngine();
    const started = Date.now();
    const host = { ok: true as const, ...planned };
    let outcome: Outcome | undefined;
    if (tty) {
      const { runSequence } = await import('../../render/progress.js');
      const changes = plan.changes.filter((c) => c.action !== 'no-op' && c.steps.length > 0);
      outcome = await runSequence(
        changes.map((c) => `${c.id}: ${c.reason}`),
        async (report) => {
          const r = await new Rollout(session, {
            ...options,
            onEvent: (e) => {
              if (e.type === 'build' && e.state !== 'done') {
                report.start(0);
                report.output(e.message ?? `building ${e.release}`);
              } else if (e.type === 'step') {
                const s = e.event;
                if (s.kind === 'change') report.start(s.index);
                else if (s.kind === 'step' && s.state === 'start') report.output(s.step.title);
                else if (s.kind === 'line') report.output(`${s.step.title}: ${s.line}`);
              } else if (e.type === 'reboot') lines(e);
            },
          }).run([host]);
          const o = r.outcomes[0];
          if (o && o.result !== 'converged') throw o.cause ?? new UserError(o.detail, o.hint);
          return o;
        },
      );
    } else {
      const o = (await new Rollout(session, options).run([host])).outcomes[0];
      if (o && o.result !== 'converged') throw o.cause ?? new UserError(o.detail, o.hint);
      outcome = o;
    }
    const done = outcome?.executed;
    io.out(
      `\n${flags.rollback ? 'Rollback' : 'Apply'} complete: ${done?.changes ?? 0} change${done?.changes === 1 ? '' : 's'} on ${planned.transport.name} (${done?.steps ?? 0} steps) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
    );
    return 0;
  } finally {
    await planned.transport.close();
  }
}

/** An inventory's hosts (or a saved plan's): the fleet table, each changed host's plan, batches, the outcome table. */
async function applyFleet(
  file: string | undefined,
  flags: ApplyFlags,
  io: Io,
  from?: FromPlan,
): Promise<ExitCode> {
  const options = rolloutOptions(flags, io, eventLine(io, true));
  const session = sessionFor(flags, io, { trial: flags.trial || flags.reboot, retryTrial: flags.retryTrial });
  let hosts: FleetHost[];
  if (from) hosts = await planSaved(session, from.saved, from.file, from.chosen);
  else {
    const targets = targetsOf(file, flags, io);
    checkCapabilities(targets, flags);
    const forward = await session.planAll(targets);
    hosts = flags.rollback
      ? (await rollbackEngine()).rollbackPlans(forward, {
          to: flags.rollback.to,
          trial: flags.reboot === true,
        })
      : forward;
  }
  const style = io.color ? colored : plain;
  let outcomes: Outcome[];
  try {
    if (!flags.rollback && (await lockGate(hosts, flags, io))) return 1;
    if (from)
      io.out(
        `${style('bold', `Saved plan ${from.file}:`)} ${hosts.length} host${hosts.length === 1 ? '' : 's'}${from.saved.inventory !== null ? ` from ${shown(from.saved.inventory)}${from.saved.limit !== null ? ` (limit ${shown(from.saved.limit)})` : ''}` : ''}, each checked against a fresh plan\n\n`,
      );
    io.out(renderFleetSummary(hosts.map(rowOf), buildsOf(hosts), style));
    for (const h of hosts)
      if (h.ok && needsApply(h.plan, options)) {
        io.out(`\n${style('bold', `── ${h.target.name} ──`)}\n`);
        io.out(renderHostPlan(h.plan, { style, configDiff: configDiffOf(flags) }));
      }
    const todo = hosts.filter((h) => h.ok && !blocked(h) && needsApply(h.plan, options)).length;
    if (todo && !(await confirmed(io, flags, `${todo} host${todo === 1 ? '' : 's'}`, hosts.length))) {
      io.err('Not applied: the answer was not "yes".\n');
      return 1;
    }
    const { Rollout } = await applyEngine();
    outcomes = (await new Rollout(session, options).run(hosts)).outcomes;
  } finally {
    await closeAll(hosts);
  }
  io.out(`\n${style('bold', 'Apply:')}\n`);
  io.out(
    `${table([
      ['HOST', 'RESULT', 'DETAIL'],
      ...outcomes.map((o) => [o.name, o.result, o.detail.split('\n')[0] ?? '']),
    ])
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  );
  const bad = outcomes.filter(
    (o) => o.result === 'failed' || o.result === 'unreachable' || o.result === 'skipped',
  );
  for (const o of bad.filter((x) => x.hint)) io.err(`${o.name}: hint: ${o.hint}\n`);
  const ok = outcomes.length - bad.length;
  io.out(
    `\n${ok} of ${outcomes.length} host${outcomes.length === 1 ? '' : 's'} converged${bad.length ? `; ${bad.length} not (above)` : ''}.\n`,
  );
  return bad.length ? 1 : 0;
}

/** The SSH settings given on the command line: each replaces the saved plan's. */
function givenHostOptions(flags: ApplyFlags, io: Io): HostOptions {
  const all = hostOptions({ ...flags, host: flags.host ?? 'local' } as HostFlags, io);
  const given = new Set(flags.given ?? []);
  return {
    env: io.env,
    ...(given.has('sshConfig') ? { sshConfig: all.sshConfig } : {}),
    ...(given.has('knownHosts') ? { knownHosts: all.knownHosts } : {}),
    ...(given.has('identity') ? { identities: all.identities } : {}),
    ...(given.has('connectTimeout') ? { connectTimeoutMs: all.connectTimeoutMs } : {}),
    ...(given.has('commandTimeout') ? { commandTimeoutMs: all.commandTimeoutMs } : {}),
    ...(all.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
    ...(all.observer ? { observer: all.observer } : {}),
  };
}

/**
 * `apply PLAN`: the hosts come from the plan, reached as it says (SSH settings given now replace
 * its own); a `--host` or `--inventory` must name the same hosts. A one-host plan gets the one-host
 * view, any other the fleet's.
 */
function applySaved(file: string, saved: SavedPlan, flags: ApplyFlags, io: Io): Promise<ExitCode> {
  if (flags.rollback)
    throw new UserError(
      `${file} is a saved plan: rollback takes a kernelfile`,
      'kernelfile rollback KERNELFILE --host HOST (or --inventory FILE)',
    );
  const given = new Set(flags.given ?? []);
  checkSavedSelection(
    saved,
    file,
    {
      ...(given.has('host') && flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags.inventory ? { inventory: flags.inventory } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
    },
    io,
    (w) => io.err(`${w}\n`),
  );
  const chosen = savedTargets(saved, file, io, {
    hostOptions: givenHostOptions(flags, io),
    sudo: flags.sudo === true,
  });
  checkCapabilities(
    chosen.map((c) => c.target),
    flags,
  );
  const from = { file, saved, chosen };
  const [only] = chosen;
  return saved.inventory === null && chosen.length === 1 && only && isPlanned(only.entry)
    ? applyHost(file, flags, io, from)
    : applyFleet(file, flags, io, from);
}

export function run(file: string | undefined, flags: ApplyFlags, io: Io): Promise<ExitCode> {
  const saved = file !== undefined ? readSavedPlan(file, io) : undefined;
  if (saved && file !== undefined) return applySaved(file, saved, flags, io);
  requireInventory(flags);
  return flags.inventory ? applyFleet(file, flags, io) : applyHost(file ?? 'kernelfile.yaml', flags, io);
}
