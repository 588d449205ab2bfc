/**
 * Applying: one path for one host and for a fleet (a host is a rollout of one). Every distinct
 * build is made once before the first batch; hosts are applied in batches (`serial`), hosts of a
 * batch in parallel, each with the same checks: a connection lost while it waited is reopened and
 * used only if the facts are unchanged, the build id the plan wants is the one the kernelfile
 * resolves to, /boot has room for the built files, and a failed step leaves the previous default
 * in place with the hint that the next apply resumes. With `reboot`, a host boots the new kernel
 * once and gets it as its default only when it came up running it. Reports progress as events;
 * never prints, never reads standard input.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Controller,
  type ExecuteResult,
  execute,
  StepError,
  type StepEvent,
} from '../apply/executor.js';
import { thisController } from '../apply/host-lock.js';
import { packSource } from '../apply/pack-source.js';
import { type Manifest, manifestHeadersNeed, type Prepared } from '../compile/build.js';
import { buildDkmsTarball } from '../dkms/tarball.js';
import { batches, parsePercent, parseSerial, pool, stopReason } from '../fleet/rollout.js';
import { bootBytesNeeded } from '../plan/planner.js';
import { needsApply } from '../plan/types.js';
import { describeGap, gapHint, headersGap } from '../resources/host-libs.js';
import { ApplyError, describe, UserError } from './errors.js';
import { MOK_PASSWORD_OPTION, readMokPassword } from './mok-password.js';
import { blocked, type FleetHost, type PlannedHost, type PlanningSession } from './planning.js';
import { rollbackPlan } from './rollback.js';
import { BASIC_STAYS, buildWithStore, type StoreReport, StoreSession, storeSummary } from './store.js';
import { type TrialDeps, trialBoot } from './trial.js';

export type { StepEvent } from '../apply/executor.js';

export interface ApplyOptions {
  /** Apply without asking. Without it, `confirm` is asked once; with neither, apply refuses. */
  yes?: boolean;
  confirm?: (what: string) => Promise<boolean>;
  /** Batches: a number of hosts (`1`, `5`) or a percentage (`25%`); the first batch is the canary. */
  serial?: string;
  /** Stop once more than this share of the hosts failed (`10%`). */
  maxFail?: string;
  /** Reboot into the new kernel (one-time boot), wait, and only then make it the default. */
  reboot?: boolean;
  rebootTimeoutMs?: number;
  /**
   * How long to wait for another apply to the same host to release the host lock (default 0: a
   * host being applied by someone else fails at once, naming the holder).
   */
  lockTimeoutMs?: number;
  /** Hosts of a batch worked on at once (default 20). */
  parallel?: number;
  /** The file holding the one-time MOK password, for plans that enrol the signing certificate. */
  mokPasswordFile?: string;
  onEvent?: (e: ApplyEvent) => void;
}

export type ApplyEvent =
  | {
      type: 'build';
      buildId: string;
      release: string;
      state: 'start' | 'progress' | 'done';
      message?: string;
    }
  | { type: 'batch'; index: number; total: number; hosts: string[] }
  | { type: 'step'; host: string; event: StepEvent }
  | { type: 'reconnected'; host: string }
  | {
      type: 'reboot';
      host: string;
      release: string;
      phase: 'rebooting' | 'up' | 'healthy' | 'unhealthy' | 'fallback' | 'default';
      seconds?: number;
      /** fallback: the release the host goes back to. */
      to?: string | null;
    }
  | { type: 'stop'; reason: string };

export type OutcomeResult = 'converged' | 'unchanged' | 'failed' | 'unreachable' | 'skipped';

export interface Outcome {
  name: string;
  result: OutcomeResult;
  detail: string;
  hint?: string;
  /** What failed, as raised (a face showing one host rethrows it). */
  cause?: unknown;
  executed?: ExecuteResult;
  seconds?: number;
}

export interface ApplyResult {
  outcomes: Outcome[];
  /** Hosts that failed, were unreachable or were skipped. */
  failed: number;
}

const RESUME_HINT =
  'the previous default boot entry is unchanged; fix the cause and run apply again: it resumes where this one stopped';

function reportedFailure(name: string, e: unknown): Outcome {
  const d = describe(e);
  return {
    name,
    result: d.unreachable ? 'unreachable' : 'failed',
    detail: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
    cause: e,
  };
}

/** /boot must hold the built files (known exactly once built) with 10% to spare. */
function spaceCheck(p: PlannedHost, manifest: Manifest): void {
  const boot = p.facts.space.boot;
  if (!boot) return;
  const files = manifest.files.filter((f) => ['vmlinuz', 'System.map', 'config'].includes(f.path));
  const need = bootBytesNeeded(
    { ...p.desired, artifacts: { cached: true, bootBytes: files.reduce((n, f) => n + f.size, 0) } },
    p.facts,
  );
  if (boot.freeBytes < need.bytes * 1.1)
    throw new UserError(
      `${boot.mountPoint} on ${p.facts.host} has ${(boot.freeBytes / 1048576).toFixed(1)} MiB free; the new kernel needs about ${((need.bytes * 1.1) / 1048576).toFixed(1)} MiB. Nothing was changed on the host`,
      'free space in /boot, or make it larger',
    );
}

/**
 * The headers' host tools must run on a host whose dkms builds modules with them. The plan checks
 * it when the build was cached; otherwise it is known only now, before anything on the host changes.
 */
function headersCheck(p: PlannedHost, dir: string, manifest: Manifest): void {
  const gap = headersGap(manifestHeadersNeed(dir, manifest), p.facts.libs);
  if (!gap) return;
  const onHost = p.plan.changes.filter(
    (c) =>
      c.resource === 'dkms-module' &&
      (c.action === 'create' || c.action === 'update') &&
      c.steps.length > 0 &&
      !c.steps.some((s) => s.kind === 'dkms-tarball'),
  );
  if (onHost.length === 0) return;
  const names = onHost.map((c) => c.after ?? c.id);
  const modules = p.desired.modules.filter((m) => names.includes(`${m.name} ${m.version}`));
  const controllerCan =
    p.desired.buildOn === 'controller' && modules.length === onHost.length && modules.every((m) => m.path);
  throw new UserError(
    `the headers of ${manifest.release} cannot build ${names.join(', ')} on ${p.facts.host}: their host tools (objtool, modpost…) ${describeGap(gap, p.facts.host)}. Nothing was changed on the host`,
    controllerCan
      ? `plan again: the build is in the cache now, and the plan builds ${names.join(', ')} on the controller`
      : `${gapHint(gap, p.facts.system.distro)}, then apply again`,
  );
}

/**
 * A plan that enrols a MOK needs the one-time password: read it (bounded, validated) before any
 * host changes, or refuse naming the option.
 */
function mokPasswordFor(todo: readonly PlannedHost[], file: string | undefined): string | undefined {
  const enrolling = todo.filter((h) =>
    h.plan.changes.some((c) => c.action !== 'no-op' && c.steps.some((s) => s.kind === 'mok-import')),
  );
  if (enrolling.length === 0) return undefined;
  if (file === undefined)
    throw new UserError(
      `the plan enrols the signing certificate as a Machine Owner Key on ${enrolling.map((h) => h.target.name).join(', ')}, which needs a one-time password (the MOK manager asks for it on the console at the next boot). Nothing was changed`,
      `give it with ${MOK_PASSWORD_OPTION} FILE (the password on the file's first line)`,
    );
  return readMokPassword(file);
}

function parseRollout(o: ApplyOptions) {
  const serial = o.serial ? parseSerial(o.serial) : null;
  if (serial && 'error' in serial) throw new UserError(serial.error);
  const maxFail = o.maxFail !== undefined ? parsePercent(o.maxFail, '--max-fail') : null;
  if (maxFail !== null && typeof maxFail !== 'number') throw new UserError(maxFail.error);
  const rebootTimeoutMs = o.rebootTimeoutMs ?? 600_000;
  if (!Number.isFinite(rebootTimeoutMs) || rebootTimeoutMs <= 0)
    throw new UserError('the reboot timeout must be a positive number of seconds');
  if (o.lockTimeoutMs !== undefined && !(Number.isFinite(o.lockTimeoutMs) && o.lockTimeoutMs >= 0))
    throw new UserError('the lock timeout (--lock-timeout) must be a number of seconds, 0 or more');
  return { serial, maxFail, rebootTimeoutMs };
}

/** What a rollout does on the controller and with the clock: the real ones, or a test's. */
export interface RolloutDeps {
  build(
    p: Prepared,
    progress: (e: { stage: string; compiled: number }) => void,
  ): Promise<{ dir: string; manifest: Manifest }>;
  packSource(from: string, scratch: string): Promise<string>;
  dkmsTarball: typeof buildDkmsTarball;
  sleep(ms: number): Promise<void>;
}

const REAL: RolloutDeps = {
  build: buildWithStore,
  packSource,
  dkmsTarball: buildDkmsTarball,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** What a rollout needs of the planning session: reconnecting, and planning again after a reboot. */
export type RolloutSession = Pick<PlanningSession, 'connect' | 'gather' | 'planTarget'>;

export class Rollout {
  private readonly builds = new Map<string, Promise<{ dir: string; manifest: Manifest }>>();
  private readonly stores = new StoreSession();
  private readonly emit: (e: ApplyEvent) => void;
  private readonly deps: RolloutDeps;
  /** The one-time MOK password, read once when a plan enrols a certificate. */
  private mokPassword: string | undefined;

  constructor(
    private readonly session: RolloutSession,
    private readonly options: ApplyOptions,
    deps: Partial<RolloutDeps> = {},
  ) {
    this.emit = options.onEvent ?? (() => {});
    this.deps = { ...REAL, ...deps };
  }

  /** Each distinct build once, whichever host asks first. */
  private buildOf(p: PlannedHost): Promise<{ dir: string; manifest: Manifest }> {
    const { buildId, release } = p.prepared;
    let b = this.builds.get(buildId);
    if (!b) {
      this.emit({ type: 'build', buildId, release, state: 'start' });
      b = this.deps
        .build(p.prepared, (e) =>
          this.emit({
            type: 'build',
            buildId,
            release,
            state: 'progress',
            message: `${e.stage}: ${e.compiled} files`,
          }),
        )
        .then((a) => {
          const message = storeSummary(buildId, (a as { store?: StoreReport }).store);
          this.emit({ type: 'build', buildId, release, state: 'done', ...(message ? { message } : {}) });
          return a;
        });
      this.builds.set(buildId, b);
    }
    return b;
  }

  /**
   * Hosts that fetch from the store: does the store have the build (one HEAD per build and
   * rollout, after the build was made and pushed), and the pull token hosts use when the registry
   * issues short-lived ones (asked per host: a token lives minutes, a rollout may last longer).
   */
  private async storeAccess(p: PlannedHost, buildId: string): Promise<{ token?: string } | { why: string }> {
    const settings = p.prepared.store;
    if (!settings) return { why: 'no store' };
    try {
      const client = await this.stores.client(settings);
      if (!(await this.stores.has(settings, buildId)))
        return { why: `the store ${client.display} does not have build ${buildId.slice(0, 12)}` };
      const auth = await client.hostAuth();
      if (auth.kind === 'basic') return { why: BASIC_STAYS };
      return auth.kind === 'bearer' ? { token: auth.token } : {};
    } catch (e) {
      return { why: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Who holds a host's lock while this rollout applies it, and how long to wait for another. */
  private lock(p: PlannedHost): Controller['lock'] {
    return {
      holder: thisController(new Date().toISOString(), p.desired.kernelfile.path),
      waitMs: this.options.lockTimeoutMs ?? 0,
    };
  }

  private controller(p: PlannedHost, scratch: string): Controller {
    return {
      lock: this.lock(p),
      build: async (buildId) => {
        if (buildId !== p.prepared.buildId)
          throw new UserError(
            `the plan wants build ${buildId.slice(0, 12)}, the kernelfile now resolves to ${p.prepared.buildId.slice(0, 12)}`,
            'make a new plan',
          );
        const a = await this.buildOf(p);
        spaceCheck(p, a.manifest);
        headersCheck(p, a.dir, a.manifest);
        return a;
      },
      packSource: (from) => this.deps.packSource(from, scratch),
      dkmsTarball: (step, artifactsDir, onLine) =>
        this.deps.dkmsTarball({
          ...step,
          artifactsDir,
          workDir: scratch,
          onLine,
          ...(p.prepared.signing ? { signing: p.prepared.signing } : {}),
        }),
      now: () => new Date().toISOString(),
      ...(p.prepared.store ? { storeAccess: (buildId: string) => this.storeAccess(p, buildId) } : {}),
      ...(this.mokPassword !== undefined ? { mokPassword: this.mokPassword } : {}),
    };
  }

  /**
   * Connections are opened at plan time and kept; one that dropped while its host waited for its
   * batch is opened again, and the host is applied only if its facts are those it was planned from.
   */
  private async reconnectIfLost(p: PlannedHost): Promise<void> {
    const alive = await p.transport
      .run(['true'], { timeoutMs: 15_000 })
      .then((r) => r.code === 0)
      .catch(() => false);
    if (alive) return;
    await p.transport.close().catch(() => {});
    const again = await this.session.gather(p.target);
    if (again.facts.digest !== p.plan.factsDigest) {
      await again.transport.close();
      throw new UserError(
        `${p.target.name}: reconnected, but its facts changed since the plan; nothing was changed`,
        'plan again',
      );
    }
    this.emit({ type: 'reconnected', host: p.target.name });
    p.transport = again.transport;
  }

  /** One host: execute its plan, then reboot into the new kernel when asked. */
  private async applyHost(p: PlannedHost, scratch: string, rebootTimeoutMs: number): Promise<Outcome> {
    const started = Date.now();
    await this.reconnectIfLost(p);
    let executed: ExecuteResult;
    try {
      executed = await execute(p.transport, p.plan, this.controller(p, scratch), (event) =>
        this.emit({ type: 'step', host: p.target.name, event }),
      );
    } catch (e) {
      if (e instanceof StepError) throw new ApplyError(e.message, RESUME_HINT, e.details);
      throw e;
    }
    const release = p.rollback?.to ?? p.desired.release;
    const reboot = this.options.reboot === true && p.facts.system.running !== release;
    if (reboot) await this.rebootAndSettle(p, release, rebootTimeoutMs);
    const what = p.rollback ? `rolled back to ${release}` : 'applied';
    return {
      name: p.target.name,
      result: 'converged',
      detail: reboot
        ? `rebooted into ${release}, now the default${p.rollback ? ' (rolled back)' : ''}`
        : what,
      executed,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /** Reboot into the armed one-time entry, judge the trial, and make it the default once it passed. */
  private async rebootAndSettle(p: PlannedHost, release: string, timeoutMs: number): Promise<void> {
    const host = p.target.name;
    const entry = p.plan.entry;
    if (!entry) throw new UserError(`${host}: the plan has no boot entry to reboot into`);
    await trialBoot(
      {
        target: p.target,
        transport: p.transport,
        entry: { release, id: entry.id, cmdline: entry.cmdline },
        previous: p.facts.system.running,
        healthCheck: p.desired.boot.healthCheck,
        timeoutMs,
      },
      this.trialDeps(host, release),
    );
    const again = p.rollback
      ? await this.replanRollback(p, p.rollback.to)
      : await this.session.planTarget(p.target, true);
    await this.settle(p, again, host);
    this.emit({ type: 'reboot', host, release, phase: 'default' });
  }

  /** After a rollback's trial boot: the plan that makes it the default (no second trial). */
  private async replanRollback(p: PlannedHost, to: string): Promise<PlannedHost> {
    const { transport, facts } = await this.session.gather(p.target);
    const fresh = rollbackPlan({ ...p, transport, facts }, { to, trial: false });
    if (fresh.plan.problems.length) {
      await transport.close();
      throw new UserError(
        `${p.target.name}: ${to} came up, but cannot be made the default: ${fresh.plan.problems.map((x) => x.message).join('; ')}`,
      );
    }
    return fresh;
  }

  /** The trial's connection, clock and events, as this rollout reports them. */
  trialDeps(host: string, release: string): TrialDeps {
    return {
      connect: (t) => this.session.connect(t),
      sleep: this.deps.sleep,
      now: () => new Date(),
      emit: (e) => {
        if (e.phase === 'rebooting') this.emit({ type: 'reboot', host, release, phase: 'rebooting' });
        else if (e.phase === 'up')
          this.emit({ type: 'reboot', host, release, phase: 'up', seconds: e.seconds });
        else if (e.phase === 'health')
          this.emit({ type: 'reboot', host, release, phase: e.ok ? 'healthy' : 'unhealthy' });
        else this.emit({ type: 'reboot', host, release, phase: 'fallback', to: e.to });
      },
    };
  }

  /** Execute a plan made after the reboot: only the default (and prune) are left to do. */
  private async settle(p: PlannedHost, again: PlannedHost, host: string): Promise<void> {
    const refuse = async (): Promise<never> => {
      throw new UserError('nothing should need building or uploading after the reboot');
    };
    try {
      await execute(
        again.transport,
        again.plan,
        {
          build: refuse,
          packSource: refuse,
          dkmsTarball: refuse,
          now: () => new Date().toISOString(),
          lock: this.lock(p),
        },
        (event) => this.emit({ type: 'step', host, event }),
      );
    } finally {
      await again.transport.close();
    }
  }

  /**
   * Apply the planned hosts: those that cannot be applied (unreachable, not possible) are reported,
   * converged ones are unchanged, the rest go in batches until done or the failure budget is spent.
   */
  async run(hosts: readonly FleetHost[]): Promise<ApplyResult> {
    const { serial, maxFail, rebootTimeoutMs } = parseRollout(this.options);
    const outcomes = new Map<string, Outcome>();
    const todo: PlannedHost[] = [];
    for (const h of hosts) {
      const name = h.target.name;
      if (!h.ok)
        outcomes.set(name, {
          name,
          result: h.unreachable ? 'unreachable' : 'failed',
          detail: h.error,
          ...(h.hint ? { hint: h.hint } : {}),
          cause: h.cause,
        });
      else if (blocked(h))
        outcomes.set(name, {
          name,
          result: 'failed',
          detail: `not possible: ${h.plan.problems.map((p) => p.message).join('; ') || 'requested config values would be dropped'}`,
        });
      else if (!needsApply(h.plan, this.options))
        outcomes.set(name, { name, result: 'unchanged', detail: 'no changes' });
      else todo.push(h);
    }
    // Refused before asking and before any build: a MOK enrolment without its password.
    this.mokPassword = mokPasswordFor(todo, this.options.mokPasswordFile);
    if (todo.length && !this.options.yes) {
      const what =
        todo.length === 1 && hosts.length === 1
          ? todo[0]?.transport.name
          : `${todo.length} host${todo.length === 1 ? '' : 's'}`;
      if (!this.options.confirm)
        throw new UserError(
          `apply changes ${hosts.length === 1 ? 'a host' : 'hosts'}: confirm with --yes (standard input is not a terminal, so kernelfile cannot ask)`,
        );
      if (!(await this.options.confirm(what as string))) return { outcomes: [], failed: -1 };
    }
    // Every distinct build once, before the first batch: no host waits mid-batch on a compile.
    for (const h of todo) if (h.plan.buildIds.length) await this.buildOf(h);
    const scratch = mkdtempSync(join(tmpdir(), 'kernelfile-apply-'));
    try {
      const groups = batches(todo, serial);
      let failed = [...outcomes.values()].filter(
        (o) => o.result === 'failed' || o.result === 'unreachable',
      ).length;
      for (const [index, batch] of groups.entries()) {
        if (groups.length > 1)
          this.emit({ type: 'batch', index, total: groups.length, hosts: batch.map((h) => h.target.name) });
        const results = await pool(batch, this.options.parallel ?? 20, (h) =>
          this.applyHost(h, scratch, rebootTimeoutMs),
        );
        let batchFailed = 0;
        results.forEach((r, i) => {
          const name = (batch[i] as PlannedHost).target.name;
          if (r.status === 'fulfilled') outcomes.set(name, r.value);
          else {
            batchFailed++;
            outcomes.set(name, reportedFailure(name, r.reason));
          }
        });
        failed += batchFailed;
        const why = stopReason(
          { total: hosts.length, failed, batch: { index, size: batch.length, failed: batchFailed } },
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
          this.emit({ type: 'stop', reason: why });
          break;
        }
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const list = hosts.map((h) => outcomes.get(h.target.name) as Outcome);
    return {
      outcomes: list,
      failed: list.filter(
        (o) => o.result === 'failed' || o.result === 'unreachable' || o.result === 'skipped',
      ).length,
    };
  }
}
