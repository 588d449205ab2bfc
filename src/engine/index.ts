/**
 * The kernelfile engine: the one API the command line and scripts use alike.
 *
 *   const planned = await planHosts({ kernelfile: 'kernelfile.yaml', host: 'ssh://root@web-1' });
 *   const result = await applyPlanned(planned, { yes: true });
 *
 * `plan`, `apply` and `status` are the same in one call each. Everything reports through return
 * values and events; nothing here prints or reads standard input.
 */
import { type ApplyOptions, type ApplyResult, adoptSavedPlan, Rollout } from './apply.js';
import { type Env, processEnv } from './env.js';
import { describe, UserError } from './errors.js';
import { closeAll, type FleetHost, PlanningSession, type PlanOptions } from './planning.js';
import { readSavedPlan } from './saved-plan.js';
import { type StatusRow, statusRows } from './status.js';
import { checkCapabilities, type Selection, selectTargets, type Target } from './targets.js';

export type { ExecuteResult, StepEvent } from '../apply/executor.js';
export type { HostFacts } from '../facts/types.js';
export type { HostCapabilities } from '../host/kind.js';
export type { HostOptions } from '../host/open.js';
export type { AttributeChange, Change, HostPlan, PlanFile, Step } from '../plan/types.js';
export type { Diagnostic } from '../spec/diagnostic.js';
export type { ApplyEvent, ApplyOptions, ApplyResult, Outcome, OutcomeResult } from './apply.js';
export { adoptSavedPlan, Rollout } from './apply.js';
export {
  type Built,
  buildDiagnostics,
  compile,
  type Manifest,
  type Prepared,
  prepareBuild,
  verify,
} from './build.js';
export type { Env } from './env.js';
export { processEnv } from './env.js';
export {
  ApplyError,
  type Described,
  describe,
  PlanMismatchError,
  StalePlanError,
  UserError,
} from './errors.js';
export { facts } from './facts.js';
export {
  type KernelfileBytes,
  type Loaded,
  loadKernelfile,
  type ValidSpec,
  validSpec,
} from './kernelfile.js';
export {
  blocked,
  closeAll,
  counts,
  type FleetHost,
  hasChanges,
  type PlannedHost,
  PlanningSession,
  type PlanOptions,
  type UnplannedHost,
} from './planning.js';
export { type BuildTarget, localArch } from './prepare.js';
export { planDocument, readSavedPlan, writePlanDocument } from './saved-plan.js';
export { type HostState, STATE_TEXT, type StatusRow, statusRows } from './status.js';
export {
  checkCapabilities,
  DEFAULT_KERNELFILE,
  type Selection,
  selectTargets,
  type Target,
} from './targets.js';

/** Planned hosts with their connections open (for apply); `close()` when done. */
export interface Planned {
  hosts: FleetHost[];
  session: PlanningSession;
  close(): Promise<void>;
}

export interface PlanHostsOptions extends PlanOptions {
  /** Inventory warnings (a face shows them). */
  warn?: (message: string) => void;
}

/**
 * Plan the selected hosts: one host (`host`, default this machine) or an inventory's (`inventory`,
 * `limit`). Hosts that cannot be planned are in the result with why, never thrown.
 */
export async function planHosts(
  sel: Selection,
  o: PlanHostsOptions = {},
  env: Env = processEnv(),
): Promise<Planned> {
  return planTargets(selectTargets(sel, env, o.warn), o, env);
}

/** Plan hosts already selected (see selectTargets). */
export async function planTargets(
  targets: Target[],
  o: PlanOptions = {},
  env: Env = processEnv(),
): Promise<Planned> {
  const session = new PlanningSession(env, o);
  const hosts = await session.planAll(targets);
  return { hosts, session, close: () => closeAll(hosts) };
}

/** Apply planned hosts (a saved plan's, when given: each host's is checked against a fresh one). */
export async function applyPlanned(planned: Planned, o: ApplyOptions = {}): Promise<ApplyResult> {
  return new Rollout(planned.session, o).run(planned.hosts);
}

/** Plan, then return the plans; connections are closed. */
export async function plan(
  sel: Selection,
  o: PlanHostsOptions = {},
  env: Env = processEnv(),
): Promise<FleetHost[]> {
  const planned = await planHosts(sel, o, env);
  await planned.close();
  return planned.hosts;
}

/**
 * Converge the selected hosts (`yes` or `confirm` decides whether to go ahead). With `plan`, the
 * saved plan file is applied instead, refused for a host whose facts or kernelfile changed.
 */
export async function apply(
  sel: Selection & { plan?: string },
  o: ApplyOptions & PlanHostsOptions = {},
  env: Env = processEnv(),
): Promise<ApplyResult> {
  const saved = sel.plan ? readSavedPlan(sel.plan, env) : undefined;
  if (sel.plan && !saved)
    throw new UserError(`${sel.plan} is not a plan saved with \`kernelfile plan --out\``);
  const selection = saved ? { ...sel, kernelfile: saved.kernelfile.path } : sel;
  const targets = selectTargets(selection, env, o.warn);
  checkCapabilities(targets, o);
  const planned = await planTargets(targets, { ...o, trial: o.trial || o.reboot }, env);
  try {
    if (saved && sel.plan)
      planned.hosts = planned.hosts.map((h) => {
        if (!h.ok) return h;
        try {
          adoptSavedPlan(h, saved, sel.plan as string);
          return h;
        } catch (e) {
          const d = describe(e);
          return {
            ok: false as const,
            target: h.target,
            unreachable: false,
            error: d.message,
            ...(d.hint ? { hint: d.hint } : {}),
            cause: e,
          };
        }
      });
    return await applyPlanned(planned, o);
  } finally {
    await planned.close();
  }
}

/** Where each selected host stands: converged, changes pending, installed-not-booted, …, with an exit code. */
export async function status(
  sel: Selection,
  o: PlanHostsOptions = {},
  env: Env = processEnv(),
): Promise<{ rows: StatusRow[]; exitCode: number }> {
  return statusRows(await plan(sel, o, env));
}
