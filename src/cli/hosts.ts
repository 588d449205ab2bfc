/**
 * What plan, apply and status share on the command line: the host selection from the flags, and
 * planning through the engine with the views a terminal gets (a progress stage for one host, the
 * diagnostics of an invalid kernelfile once).
 */
import { resolve } from 'node:path';
import { UserError } from '../engine/errors.js';
import type { Loaded } from '../engine/kernelfile.js';
import { type FleetHost, type PlannedHost, PlanningSession } from '../engine/planning.js';
import { type Selection, selectTargets, type Target } from '../engine/targets.js';
import { runStages } from '../render/progress.js';
import type { HostFlags } from './host-options.js';
import { hostOptions } from './host-settings.js';
import type { Io } from './io.js';
import { diagnosticOptions, renderAll } from './kernelfile.js';

export interface FleetFlags extends Partial<HostFlags> {
  sudo?: boolean;
  inventory?: string;
  limit?: string;
  parallel?: string;
  /** plan, apply: the file holding the one-time MOK password (for an enrolment of the signing certificate). */
  mokPasswordFile?: string;
}

/** --mok-password-file, relative to the working directory. */
export function mokPasswordFileOf(flags: FleetFlags, io: Io): { mokPasswordFile?: string } {
  return flags.mokPasswordFile !== undefined
    ? { mokPasswordFile: resolve(io.cwd, flags.mokPasswordFile) }
    : {};
}

export function parallelism(flags: FleetFlags): number {
  const n = Number(flags.parallel ?? '20');
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new UserError(`--parallel takes a number of hosts from 1 to 1000, got \`${flags.parallel}\``);
  return n;
}

export function selection(file: string | undefined, flags: FleetFlags, io: Io): Selection {
  const host = flags.host ?? 'local';
  return {
    ...(file ? { kernelfile: file } : {}),
    host,
    ...(flags.inventory ? { inventory: flags.inventory } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
    hostOptions: hostOptions({ ...flags, host } as HostFlags, io),
    sudo: flags.sudo === true,
  };
}

export function targetsOf(file: string | undefined, flags: FleetFlags, io: Io): Target[] {
  return selectTargets(selection(file, flags, io), io, (w) => io.err(`${w}\n`));
}

/** Where a session's slow-stage progress goes: set by the view that shows it. */
export interface ProgressSink {
  update: (message: string) => void;
}

/** A session whose invalid kernelfiles print their diagnostics, once each. */
export function sessionFor(
  flags: FleetFlags,
  io: Io,
  o: { trial?: boolean; retryTrial?: boolean; sink?: ProgressSink; closeEach?: boolean } = {},
): PlanningSession {
  return new PlanningSession(io, {
    trial: o.trial === true,
    retryTrial: o.retryTrial === true,
    closeEach: o.closeEach === true,
    parallel: parallelism(flags),
    ...mokPasswordFileOf(flags, io),
    ...(o.sink ? { progress: (_t: Target, m: string) => o.sink?.update(m) } : {}),
    onInvalid: (l: Loaded) => {
      for (const block of renderAll(l.result.ok ? [] : l.result.errors, diagnosticOptions(l.kf, io)))
        io.err(`${block}\n\n`);
    },
  });
}

/**
 * One host over SSH: start its connection and the facts script now (session.prefetch), so their
 * round trips overlap reading and validating the kernelfile. This machine and root:DIR have no
 * network to wait for: they start nothing before the kernelfile is known to be valid.
 */
export function prefetchRemote(session: PlanningSession, target: Target): void {
  if (target.address.kind === 'ssh') session.prefetch(target);
}

/** Plan one host, with a progress stage on a terminal; its failure is thrown as it was raised. */
export async function planOne(
  session: PlanningSession,
  target: Target,
  tty: boolean,
  sink?: ProgressSink,
): Promise<PlannedHost> {
  let host: FleetHost | undefined;
  if (!tty) host = (await session.planAll([target]))[0];
  else
    await runStages(
      [
        {
          title: `Facts of ${target.name}, source, patches and Kconfig resolution`,
          run: async (_c, update) => {
            if (sink) sink.update = update;
            host = (await session.planAll([target]))[0];
          },
        },
      ],
      {},
      { tty },
    );
  if (!host) throw new UserError(`${target.name} was not planned`);
  if (!host.ok) throw host.cause;
  return host;
}
