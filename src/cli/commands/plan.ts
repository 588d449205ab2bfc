import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hasChanges } from '../../plan/types.js';
import { planFile, planJson } from '../../render/plan-json.js';
import { type ConfigDiffMode, renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { loadSpec, reporter } from '../kernelfile.js';
import { type PlanFlags, type PlannedHost, planHost } from '../plan-host.js';

export interface PlanCommandFlags extends PlanFlags {
  json?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  configDiff?: ConfigDiffMode;
}

/** Plan with progress on a terminal's stderr (the Kconfig resolution can take seconds when cold). */
export async function planWithProgress(
  loaded: Awaited<ReturnType<typeof loadSpec>>,
  flags: PlanFlags,
  io: Io,
  tty: boolean,
): Promise<PlannedHost> {
  if (!tty) return planHost(loaded, flags, io);
  const { runStages } = await import('../../render/progress.js');
  const ctx: { planned?: PlannedHost } = {};
  await runStages(
    [
      {
        title: `Facts of ${flags.host ?? 'local'}, source, patches and Kconfig resolution`,
        run: async (c, update) => {
          c.planned = await planHost(loaded, flags, io, update);
        },
      },
    ],
    ctx,
    { tty },
  );
  return ctx.planned as PlannedHost;
}

export async function run(file: string | undefined, flags: PlanCommandFlags, io: Io): Promise<ExitCode> {
  const loaded = await loadSpec(file, io);
  const { kf } = loaded;
  const { show, rejectInvalid } = reporter(loaded, io);
  if (rejectInvalid()) return 1;
  const tty = Boolean(process.stderr.isTTY) && !flags.json;
  const planned = await planWithProgress(loaded, flags, io, tty);
  await planned.transport.close();
  const errors = planned.diagnostics.filter((d) => d.severity === 'error');
  show(planned.diagnostics);
  if (errors.length) {
    io.err(`kernelfile: ${errors.length} requested config value(s) would not survive Kconfig: no plan\n`);
    return 1;
  }
  const file_ = planFile(
    { path: kf.display, sha256: planned.desired.kernelfile.sha256, name: planned.desired.name },
    [planned.plan],
  );
  if (flags.out) {
    const out = resolve(io.cwd, flags.out);
    try {
      writeFileSync(out, `${JSON.stringify(planJson(file_), null, 2)}\n`);
    } catch (e) {
      throw new UserError(`cannot write the plan to ${flags.out}: ${(e as Error).message}`);
    }
  }
  if (flags.json) io.out(`${JSON.stringify(planJson(file_), null, 2)}\n`);
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
