/** --locked and --update-lock on plan, apply and build: the options, and the lock reports on stderr. */
import { UserError } from '../engine/errors.js';
import { checkLocks, type LockOptions, type LockReport, lockRefusal } from '../engine/lock.js';
import type { FleetHost } from '../engine/planning.js';
import { renderLockReport } from '../render/lock-text.js';
import { colored, plain } from '../render/style.js';
import type { Io } from './io.js';

export interface LockFlags {
  locked?: boolean;
  updateLock?: boolean;
}

export function lockOptions(flags: LockFlags): LockOptions {
  if (flags.locked && flags.updateLock)
    throw new UserError(
      '--locked and --update-lock contradict each other',
      'CI checks with --locked; a person accepts changes with --update-lock (or `kernelfile lock`)',
    );
  return { locked: flags.locked === true, update: flags.updateLock === true };
}

/** Show each report (stderr: the plan on stdout stays as it was); true when --locked refuses. */
export function showLocks(reports: readonly LockReport[], io: Io): boolean {
  const style = io.color ? colored : plain;
  for (const r of reports) io.err(renderLockReport(r, style));
  const refusal = lockRefusal(reports);
  if (refusal) io.err('kernelfile: --locked: the lock does not hold; nothing was built or changed\n');
  return refusal !== null;
}

/** The planned hosts' locks checked (and written as the flags say), shown; true when --locked refuses. */
export async function lockGate(hosts: readonly FleetHost[], flags: LockFlags, io: Io): Promise<boolean> {
  return showLocks(await checkLocks(hosts, lockOptions(flags)), io);
}
