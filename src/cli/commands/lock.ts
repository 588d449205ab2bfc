/**
 * `kernelfile lock [FILE]`: resolve the kernelfile (source, patches, Kconfig: never a compile) and
 * write what it resolved to in the lock file beside it. With --host or --inventory the hosts are
 * planned too (`base: running`, and the dkms.conf of `installed: true` modules on them).
 */
import { prepareBuild } from '../../engine/build.js';
import { checkLock, checkLocks, type LockReport } from '../../engine/lock.js';
import { closeAll } from '../../engine/planning.js';
import { renderLockReport } from '../../render/lock-text.js';
import { colored, plain } from '../../render/style.js';
import type { HostFlags } from '../host-options.js';
import { type FleetFlags, sessionFor, targetsOf } from '../hosts.js';
import type { ExitCode, Io } from '../io.js';
import { loadSpec, reporter } from '../kernelfile.js';
import { buildTarget } from './build.js';

export interface LockCommandFlags extends FleetFlags {
  arch?: string;
}

export async function run(file: string | undefined, flags: LockCommandFlags, io: Io): Promise<ExitCode> {
  let reports: LockReport[];
  if (flags.inventory || flags.host) {
    const hosts = await sessionFor(flags, io, { closeEach: true }).planAll(targetsOf(file, flags, io));
    await closeAll(hosts);
    for (const h of hosts)
      if (!h.ok) io.err(`kernelfile: ${h.target.name}: ${h.error}${h.hint ? `\n  hint: ${h.hint}` : ''}\n`);
    reports = await checkLocks(hosts, { update: true });
    if (hosts.some((h) => !h.ok)) {
      for (const r of reports) io.err(renderLockReport(r, io.color ? colored : plain));
      io.err('kernelfile: some hosts could not be planned: the lock records the others\n');
      return 1;
    }
  } else {
    const loaded = await loadSpec(file ?? 'kernelfile.yaml', io);
    if (reporter(loaded, io).rejectInvalid() || !loaded.result.ok) return 1;
    const prepared = await prepareBuild(loaded, buildTarget(flags as Partial<HostFlags>, io), io);
    reports = [await checkLock(loaded, [prepared], [], { update: true })];
  }
  const style = io.color ? colored : plain;
  for (const r of reports)
    io.out(r.state === 'unchanged' ? `${r.path} is up to date.\n` : renderLockReport(r, style));
  return 0;
}
