/**
 * The kernelfile engine: the one API the command line and scripts use alike.
 *
 *   const planned = await planHosts({ kernelfile: 'kernelfile.yaml', host: 'ssh://root@web-1' });
 *   const result = await applyPlanned(planned, { yes: true });
 *
 * `plan`, `apply` and `status` are the same in one call each. Everything reports through return
 * values and events; nothing here prints or reads standard input.
 */
import { type ApplyOptions, type ApplyResult, Rollout } from './apply.js';
import { type Env, processEnv } from './env.js';
import { UserError } from './errors.js';
import { closeAll, type FleetHost, PlanningSession, type PlanOptions } from './planning.js';
import { checkSavedSelection, planSaved, readSavedPlan, savedTargets } from './saved-plan.js';
import { type StatusRow, statusRows } from './status.js';
import { checkCapabilities, type Selection, selectTargets, type Target } from './targets.js';

export type { ExecuteResult, StepEvent } from '../apply/executor.js';
export type { HostFacts } from '../facts/types.js';
export type { HostCapabilities } from '../host/kind.js';
export type { HostOptions } from '../host/open.js';
export type { HostCommand, HostTransfer, TransportObserver } from '../host/transport.js';
export type {
  AttributeChange,
  Change,
  HostPlan,
  PlanFile,
  SavedConnection,
  SavedHost,
  SavedHostPlan,
  SavedPlan,
  SavedUnplanned,
  Step,
} from '../plan/types.js';
export type {
  BuildJson,
  ErrorJson,
  FactsJson,
  FleetPlanJson,
  InventoryJson,
  OutputDocuments,
  PlanJson,
  SavedPlanJson,
  Stamp,
  StatusJson,
  ValidateJson,
  VerifyJson,
} from '../render/json-documents.js';
export type { Diagnostic } from '../spec/diagnostic.js';
export type { ApplyEvent, ApplyOptions, ApplyResult, Outcome, OutcomeResult } from './apply.js';
export { Rollout } from './apply.js';
export {
  type Built,
  buildDiagnostics,
  checkReproducible,
  compile,
  discardPrepared,
  type FileDifference,
  type Manifest,
  type Prepared,
  prepareBuild,
  type ReproducibleCheck,
  type ReproducibleResult,
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
  type ImportDocument,
  type ImportOptions,
  type ImportResult,
  type ImportTodo,
  importHost,
} from './import.js';
export { diagnosticLine, type LoadedInventory, loadInventory } from './inventory.js';
export { type InventorySelection, listInventory } from './inventory-list.js';
export {
  type KernelfileBytes,
  type Loaded,
  loadKernelfile,
  type ValidSpec,
  validSpec,
} from './kernelfile.js';
export { type KeygenOptions, type KeygenResult, keygen } from './keygen.js';
export {
  checkLock,
  checkLocks,
  type LockDifference,
  type LockFile,
  type LockOptions,
  type LockReport,
  type LockState,
  lockPathOf,
  lockRefusal,
  resolvedLock,
} from './lock.js';
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
export {
  adoptSavedPlan,
  checkSavedSelection,
  planDocument,
  planSaved,
  readSavedPlan,
  replanCommand,
  type SavedTarget,
  type SavedTargetOptions,
  savedPlanDocument,
  savedTargets,
  targetsForSaving,
  writePlanDocument,
} from './saved-plan.js';
export { type HostState, STATE_TEXT, type StatusRow, statusRows } from './status.js';
export {
  checkCapabilities,
  DEFAULT_KERNELFILE,
  type Selection,
  selectTargets,
  type Target,
} from './targets.js';
export { KERNELFILE_VERSION } from './version.js';

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
  const planned = await planHosts(sel, { ...o, closeEach: true }, env);
  await planned.close();
  return planned.hosts;
}

/**
 * Converge the selected hosts (`yes` or `confirm` decides whether to go ahead). With `plan`, the
 * saved plan file is applied instead: its hosts, reached as it says (the selection's SSH settings
 * over its own; a `host` or `inventory` must name the same hosts), each refused by name when its
 * facts or kernelfile changed or its fresh plan differs, the others applied.
 */
export async function apply(
  sel: Selection & { plan?: string },
  o: ApplyOptions & PlanHostsOptions = {},
  env: Env = processEnv(),
): Promise<ApplyResult> {
  if (sel.plan) {
    const file = sel.plan;
    const saved = readSavedPlan(file, env);
    if (!saved) throw new UserError(`${file} is not a plan saved with \`kernelfile plan --out\``);
    checkSavedSelection(saved, file, sel, env, o.warn);
    const chosen = savedTargets(saved, file, env, {
      ...(sel.hostOptions ? { hostOptions: sel.hostOptions } : {}),
      sudo: sel.sudo === true,
    });
    checkCapabilities(
      chosen.map((c) => c.target),
      o,
    );
    const session = new PlanningSession(env, { ...o, trial: o.trial || o.reboot });
    const hosts = await planSaved(session, saved, file, chosen);
    try {
      return await applyPlanned({ hosts, session, close: () => closeAll(hosts) }, o);
    } finally {
      await closeAll(hosts);
    }
  }
  const targets = selectTargets(sel, env, o.warn);
  checkCapabilities(targets, o);
  const planned = await planTargets(targets, { ...o, trial: o.trial || o.reboot }, env);
  try {
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
