/**
 * Planning: gather each host's facts (one connection each, kept open for apply), prepare each
 * distinct build once (source, patches, Kconfig resolution; never a compile), run the DKMS
 * preflight, and hand (Desired, HostFacts) to the pure planner. One host is a fleet of one.
 * Nothing here writes to a host. The caches are the session's own: two sessions share nothing.
 */

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  blockingDrops,
  manifestHeadersNeed,
  type Prepared,
  prepare,
  readManifest,
  type StoreSettings,
} from '../compile/build.js';
import { type CacheDirs, cacheDirs, cacheRoot } from '../compile/cache.js';
import { DkmsPreflight } from '../dkms/preflight.js';
import { familyDigests, gather } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import { pool } from '../fleet/rollout.js';
import { openHost } from '../host/open.js';
import type { Transport } from '../host/transport.js';
import { plan } from '../plan/planner.js';
import type { ConfigDiff, HostPlan } from '../plan/types.js';
import { KeptPerBoot } from './kept-per-boot.js';
import { readMokPassword } from './mok-password.js';

/** What a face asks of a plan. */
export { counts, hasChanges, needsApply } from '../plan/types.js';

import type { StoreFetch } from '../resources/change.js';
import { type Artifacts, type Desired, desiredFrom } from '../resources/desired.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import { locate } from '../spec/source.js';
import { parseProbe, probeArgv } from '../store/host-fetch.js';
import type { Env } from './env.js';
import { describe, UserError } from './errors.js';
import { type Loaded, loadKernelfile, resolverOf, validSpec } from './kernelfile.js';
import {
  dropDiagnostic,
  localArch,
  originOf,
  runningConfigText,
  setOriginOf,
  signingDiagnostics,
  signingFactsOf,
  signingOriginOf,
} from './prepare.js';
import { BASIC_STAYS, StoreSession, storeSettings } from './store.js';
import type { Target } from './targets.js';

export interface PlannedHost {
  target: Target;
  loaded: Loaded;
  transport: Transport;
  facts: HostFacts;
  prepared: Prepared;
  desired: Desired;
  plan: HostPlan;
  /** Dropped Kconfig values and the like: errors make the host's plan impossible. */
  diagnostics: Diagnostic[];
  /** The plan is a rollback (engine/rollback.ts) to this release, not the kernelfile's. */
  rollback?: { to: string; requested: string | undefined };
}

/** A host that could not be planned: unreachable, or an error (its kernelfile, its facts). */
export interface UnplannedHost {
  target: Target;
  unreachable: boolean;
  error: string;
  hint?: string;
  /** The error as raised, for a face that shows one host's failure as it is. */
  cause: unknown;
}

export type FleetHost = ({ ok: true } & PlannedHost) | ({ ok: false } & UnplannedHost);

export interface PlanOptions {
  /** Boot the new default entry once before making it the default, whatever boot.trial says. */
  trial?: boolean;
  /** Arm a trial boot again although the last trial of the same release and entry failed. */
  retryTrial?: boolean;
  /** Hosts planned at once, one connection each (default 20). */
  parallel?: number;
  /** Progress of the slow parts (the Kconfig resolution when it is not cached). */
  progress?: (target: Target, message: string) => void;
  /** A kernelfile that failed validation (its diagnostics), once per file. */
  onInvalid?: (loaded: Loaded) => void;
  /**
   * Close each host's connection as soon as it is planned (plan and status: nothing follows), so a
   * fleet holds at most `parallel` connections at once; apply keeps them open for the rollout.
   */
  closeEach?: boolean;
  /**
   * A file holding the one-time MOK password (first line), for plans that enrol the signing
   * certificate: checked when planning, read again by apply. Without it such a plan says it needs one.
   */
  mokPasswordFile?: string;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Hosts whose plan cannot be applied: planner problems, or requested values Kconfig drops. */
export function blocked(p: PlannedHost): boolean {
  return p.plan.problems.length > 0 || p.diagnostics.some((d) => d.severity === 'error');
}

export class PlanningSession {
  private readonly loads = new Map<string, Promise<Loaded>>();
  /** One Kconfig resolution per (kernelfile, arch, running config): keyed promises, shared by hosts. */
  private readonly prepares = new Map<string, Promise<Prepared>>();
  /** One Kconfig difference per (config compared with, build). */
  private readonly configDiffs = new Map<string, ConfigDiff>();
  /** What a plan needs of a build's manifest (about 1 MB of JSON), read once per build. */
  private readonly built = new Map<string, Artifacts>();
  private readonly storeWarnings = new Map<string, string>();
  /** The session's stores (cache.store): one client each, one HEAD per build. */
  private readonly stores = new StoreSession({ timeoutMs: 10_000 });
  private readonly hostStores = new Map<
    string,
    Promise<Omit<StoreFetch, 'tool'> | { url: string; shipped: string }>
  >();
  private readonly preflight = new DkmsPreflight();
  /** Running configs read before, per host and boot: not sent again in the same boot. */
  private readonly kept: KeptPerBoot;
  /** Gathers started ahead of planning (prefetch), each taken by the next gather of its target. */
  private readonly prefetched = new Map<Target, Promise<{ transport: Transport; facts: HostFacts }>>();

  constructor(
    readonly env: Env,
    private readonly options: PlanOptions = {},
  ) {
    this.kept = new KeptPerBoot(env.env);
  }

  private mokChecked = false;
  /** --mok-password-file was given and holds a usable password (checked once; its value is not kept). */
  private mokPasswordGiven(): boolean {
    const file = this.options.mokPasswordFile;
    if (file === undefined) return false;
    if (!this.mokChecked) {
      readMokPassword(file);
      this.mokChecked = true;
    }
    return true;
  }

  /** False when --mok-password-file is unusable: planTarget then reports it for every host. */
  private mokPasswordOk(): boolean {
    try {
      this.mokPasswordGiven();
      return true;
    } catch {
      return false;
    }
  }

  /** Each kernelfile read and validated once per session. */
  load(file: string): Promise<Loaded> {
    let p = this.loads.get(file);
    if (!p) {
      p = loadKernelfile(file, this.env).then((l) => {
        if (!l.result.ok) this.options.onInvalid?.(l);
        return l;
      });
      this.loads.set(file, p);
    }
    return p;
  }

  /** A connection to the host, without facts (the trial boot's probes and health check). */
  connect(target: Target): Promise<Transport> {
    return openHost(target.address, target.hostOptions);
  }

  /**
   * Start connecting to the target and gathering its facts now, so that the connection and the
   * facts script (network and host time) overlap what a face does before planning: reading and
   * validating the kernelfile. The next gather of the target (planTarget's) takes the result;
   * dropPrefetched() closes what nobody took. Nothing is written to the host either way.
   */
  prefetch(target: Target): void {
    if (this.prefetched.has(target)) return;
    const gathering = this.gatherNow(target);
    gathering.catch(() => {}); // reported by the gather that takes it
    this.prefetched.set(target, gathering);
  }

  /**
   * Close the prefetched connections that no gather took (the kernelfile did not validate), as they
   * open: not waited for, so an unreachable host does not hold up the error that matters.
   */
  dropPrefetched(): void {
    for (const gathering of this.prefetched.values())
      gathering.then(
        (g) => g.transport.close().catch(() => {}),
        () => {},
      );
    this.prefetched.clear();
  }

  /** Close the target's prefetched connection, if nobody took it (its kernelfile failed to load). */
  private dropPrefetch(target: Target): void {
    const gathering = this.prefetched.get(target);
    if (!gathering) return;
    this.prefetched.delete(target);
    gathering.then(
      (g) => g.transport.close().catch(() => {}),
      () => {},
    );
  }

  /** Open the target and gather its facts; the connection stays open (closed on failure). */
  gather(target: Target): Promise<{ transport: Transport; facts: HostFacts }> {
    const early = this.prefetched.get(target);
    if (!early) return this.gatherNow(target);
    this.prefetched.delete(target);
    return early;
  }

  private async gatherNow(target: Target): Promise<{ transport: Transport; facts: HostFacts }> {
    const transport = await this.connect(target);
    try {
      return {
        transport,
        facts: await gather(transport, { sudo: target.sudo, kept: this.kept }),
      };
    } catch (e) {
      await transport.close();
      throw e;
    }
  }

  /**
   * The plan of a host with a store: a host that needs the kernel (its plan ships the build) is
   * probed (one more round trip, only then) for curl or wget and whether it reaches the store; it
   * fetches the files from the store when it does, and the plan is made again to say so. A store
   * that wants Basic credentials (they never leave the controller) or that the controller cannot
   * reach is shipped from. A converged host is never probed.
   */
  private async planWithStore(
    desired: Desired,
    facts: HostFacts,
    transport: Transport,
    p: Prepared,
    opts: Parameters<typeof plan>[2],
  ): Promise<HostPlan> {
    const first = plan(desired, facts, opts);
    const ships = first.changes.some((c) => c.steps.some((s) => s.kind === 'ship'));
    if (!p.store || !ships) return first;
    const store = await this.storeForHosts(p.store);
    if ('shipped' in store) desired.hostStore = store;
    else {
      const r = await transport
        .run(probeArgv(store.base, store.ca !== undefined), { timeoutMs: 30_000 })
        .catch((e: unknown) => ({
          code: -1,
          stdout: '',
          stderr: e instanceof Error ? e.message : String(e),
        }));
      const probe =
        r.code === -1 ? { why: `the probe of the host failed (${r.stderr})` } : parseProbe(r.stdout);
      desired.hostStore =
        'tool' in probe ? { fetch: { ...store, tool: probe.tool } } : { url: store.url, shipped: probe.why };
    }
    return plan(desired, facts, opts);
  }

  /** What hosts need of the store (once per store and session): where it is, or why they are shipped to. */
  private storeForHosts(
    s: StoreSettings,
  ): Promise<Omit<StoreFetch, 'tool'> | { url: string; shipped: string }> {
    let pending = this.hostStores.get(s.url);
    if (!pending) {
      pending = (async () => {
        try {
          const client = await this.stores.client(s);
          const auth = await client.hostAuth();
          if (auth.kind === 'basic') return { url: client.display, shipped: BASIC_STAYS };
          const ref = client.o.ref;
          return {
            url: ref.display,
            base: ref.base,
            repository: ref.repository,
            ...(client.o.ca !== undefined ? { ca: client.o.ca } : {}),
          };
        } catch (e) {
          return {
            url: s.url,
            shipped: `the controller cannot use the store (${e instanceof Error ? e.message : String(e)})`,
          };
        }
      })();
      this.hostStores.set(s.url, pending);
    }
    return pending;
  }

  /**
   * A build not in the local cache: is it in the store (`cache.store`)? One HEAD of its manifest,
   * read-only; a store that cannot be reached is a warning, not a failure.
   */
  private async withStore(a: Artifacts, p: Prepared): Promise<Artifacts> {
    if (a.cached || !p.store) return a;
    const settings = p.store;
    try {
      const client = await this.stores.client(settings);
      return { ...a, store: { url: client.display, has: await this.stores.has(settings, p.buildId) } };
    } catch (e) {
      this.storeWarnings.set(
        p.buildId,
        `the store ${settings.url} was not asked whether it has build ${p.buildId.slice(0, 12)}: ${e instanceof Error ? e.message : String(e)}`,
      );
      return a;
    }
  }

  private artifactsOf(dir: string): Artifacts {
    const hit = this.built.get(dir);
    if (hit) return hit;
    const manifest = readManifest(dir);
    if (!manifest) return { cached: false, bootBytes: null };
    const boot = manifest.files.filter((f) => ['vmlinuz', 'System.map', 'config'].includes(f.path));
    const summary: Artifacts = {
      cached: true,
      bootBytes: boot.reduce((n, f) => n + f.size, 0),
      headersNeed: manifestHeadersNeed(dir, manifest),
    };
    this.built.set(dir, summary);
    return summary;
  }

  /** The cache's directories, made (if missing) once per session and cache, not once per host. */
  private readonly dirs = new Map<string, CacheDirs>();
  private cacheDirsOf(root: string): CacheDirs {
    let d = this.dirs.get(root);
    if (!d) {
      d = cacheDirs(root);
      this.dirs.set(root, d);
    }
    return d;
  }

  /** Plan one host whose facts are gathered (the transport is the caller's to close). */
  async planGathered(
    target: Target,
    loaded: Loaded,
    gathered: { transport: Transport; facts: HostFacts },
    trial = this.options.trial === true,
  ): Promise<PlannedHost> {
    const { kf } = loaded;
    const { spec } = validSpec(loaded);
    const { transport, facts } = gathered;
    const resolve = resolverOf(loaded);
    const arch = spec.kernel.arch ?? facts.system.arch ?? localArch();
    const dirs = this.cacheDirsOf(cacheRoot(spec.build?.cacheDir, this.env.env));
    const runningConfig = spec.config?.base === 'running' ? runningConfigText(facts, kf.display) : undefined;
    const store = storeSettings(spec, resolve, this.env.env);
    const key = sha256(JSON.stringify([kf.abs, sha256(kf.bytes), arch, runningConfig ?? null]));
    let pending = this.prepares.get(key);
    if (!pending) {
      pending = prepare({
        spec,
        arch,
        dirs,
        resolvePath: resolve,
        runningConfig,
        setOrigin: setOriginOf(loaded),
        vars: this.env.env,
        signingOrigin: signingOriginOf(loaded),
        origin: originOf(loaded),
        ...(store ? { store } : {}),
        progress: this.options.progress ? (m) => this.options.progress?.(target, m) : undefined,
      });
      this.prepares.set(key, pending);
    }
    const prepared = await pending;
    const diagnostics = [
      ...blockingDrops(prepared).map((d) => dropDiagnostic(d, 'error')),
      ...signingDiagnostics(prepared),
      ...prepared.config.dropped
        .filter((d) => d.onDropped === 'warn')
        .map((d) => dropDiagnostic(d, 'warning')),
    ];
    const artifacts = await this.withStore(
      this.artifactsOf(join(dirs.artifacts, prepared.buildId)),
      prepared,
    );
    const storeWarning = this.storeWarnings.get(prepared.buildId);
    if (storeWarning && prepared.store)
      diagnostics.push({
        severity: 'warning',
        code: 'store-unreachable',
        message: storeWarning,
        hint: 'apply compiles the build here (and pushes it if the store can be reached then)',
        file: kf.display,
        ...locate(validSpec(loaded).source, ['cache', 'store']),
      });
    const desired = desiredFrom(
      spec,
      { path: kf.display, sha256: sha256(kf.bytes) },
      resolve,
      {
        release: prepared.release,
        buildId: prepared.buildId,
        arch,
        effective: prepared.config.effective,
        requested: prepared.config.requestedSymbols,
        artifacts,
      },
      await this.preflight.check(spec, resolve, facts, prepared, transport),
    );
    const signing = signingFactsOf(prepared);
    if (signing) desired.signing = signing;
    if (trial) desired.boot.trial = true;
    if (this.options.retryTrial) desired.boot.retryTrial = true;
    return {
      target,
      loaded,
      transport,
      facts,
      prepared,
      desired,
      plan: await this.planWithStore(desired, facts, transport, prepared, {
        factsFamilies: familyDigests(facts),
        image: transport.capabilities.image,
        configDiffs: this.configDiffs,
        mokPassword: this.mokPasswordGiven(),
      }),
      diagnostics,
    };
  }

  /** Load, gather and plan one target; its connection stays open on success. */
  async planTarget(target: Target, trial?: boolean): Promise<PlannedHost> {
    let loaded: Loaded;
    try {
      this.mokPasswordGiven(); // a bad --mok-password-file fails before any work
      loaded = await this.load(target.kernelfile);
      if (!loaded.result.ok)
        throw new UserError(
          `${loaded.kf.display} is not valid`,
          `run \`kernelfile validate ${loaded.kf.display}\``,
        );
    } catch (e) {
      this.dropPrefetch(target);
      throw e;
    }
    const gathered = await this.gather(target);
    try {
      return await this.planGathered(target, loaded, gathered, trial);
    } catch (e) {
      await gathered.transport.close();
      throw e;
    }
  }

  /** Every target planned, in parallel; a host that cannot be planned is reported, not thrown. */
  async planAll(targets: Target[]): Promise<FleetHost[]> {
    const parallel = this.options.parallel ?? 20;
    // The hosts planned first start connecting and gathering now, while their kernelfiles are read
    // and validated (as one host's plan does: see prefetch): SSH hosts only, and only as many as
    // the pool plans at once, so no more connections are open than `parallel`.
    if (this.mokPasswordOk())
      for (const t of targets.slice(0, parallel)) if (t.address.kind === 'ssh') this.prefetch(t);
    const settled = await pool(targets, parallel, async (t) => {
      const planned = await this.planTarget(t);
      if (this.options.closeEach) await planned.transport.close();
      return planned;
    });
    return settled.map((r, i) => {
      const target = targets[i] as Target;
      if (r.status === 'fulfilled') return { ok: true as const, ...r.value };
      const d = describe(r.reason);
      return {
        ok: false as const,
        target,
        unreachable: d.unreachable,
        error: d.message,
        ...(d.hint ? { hint: d.hint } : {}),
        cause: r.reason,
      };
    });
  }
}

export async function closeAll(hosts: readonly FleetHost[]): Promise<void> {
  await Promise.all(hosts.map((h) => (h.ok ? h.transport.close().catch(() => {}) : undefined)));
}
