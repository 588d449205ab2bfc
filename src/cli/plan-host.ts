/**
 * Planning one host, shared by `plan` and `apply`: gather the host's facts, resolve the Kconfig
 * (cached, never compiled), run the DKMS preflight, and hand (Desired, HostFacts) to the pure
 * planner. Nothing here writes to the host.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { blockingDrops, type Prepared, prepare, readManifest } from '../compile/build.js';
import { cacheDirs, cacheRoot } from '../compile/cache.js';
import { evaluateDkmsConf, readModuleConf } from '../dkms/conf.js';
import type { ModuleCheck } from '../dkms/module-check.js';
import { familyDigests, gather } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import { openHost } from '../host/open.js';
import type { Transport } from '../host/transport.js';
import { plan } from '../plan/planner.js';
import type { HostPlan } from '../plan/types.js';
import { type Desired, desiredFrom } from '../resources/desired.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import { resolvePath } from '../spec/paths.js';
import { locate } from '../spec/source.js';
import { dropDiagnostic, localArch, runningConfigText } from './commands/build.js';
import { type HostFlags, hostOptions } from './host-options.js';
import { type Io, UserError } from './io.js';
import type { loadSpec } from './kernelfile.js';

export type Loaded = Awaited<ReturnType<typeof loadSpec>>;

export interface PlanFlags extends Partial<HostFlags> {
  sudo?: boolean;
  /** Boot the new default entry once before making it the default, whatever boot.trial says. */
  trial?: boolean;
}

export interface PlannedHost {
  transport: Transport;
  facts: HostFacts;
  prepared: Prepared;
  desired: Desired;
  plan: HostPlan;
  /** Dropped Kconfig values and the like: errors stop the plan. */
  diagnostics: Diagnostic[];
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Kconfig differences shared by the hosts of a fleet (same running config, same build). */
const configDiffs = new Map<string, import('../plan/types.js').ConfigDiff>();

/**
 * A dkms.conf evaluation for one build, kept in the cache: the result depends only on the conf's
 * text, the release, the arch and the effective config, which the key and the build id cover.
 */
async function cachedEvaluation(file: string, input: Parameters<typeof evaluateDkmsConf>[0]) {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Awaited<ReturnType<typeof evaluateDkmsConf>>;
  } catch {
    const r = await evaluateDkmsConf(input);
    if (r.vars) {
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(r));
        renameSync(`${file}.${process.pid}.tmp`, file);
      } catch {
        // not cached: evaluated again next time
      }
    }
    return r;
  }
}

/**
 * What a plan needs of a build's manifest (about 1 MB of JSON: the build's file list), read once per
 * build and process: a fleet's hosts share their builds. Only found manifests are kept (a build
 * made later in this process is seen).
 */
const builtSummaries = new Map<string, { cached: true; bootBytes: number }>();

function builtArtifacts(dir: string): { cached: boolean; bootBytes: number | null } {
  const hit = builtSummaries.get(dir);
  if (hit) return hit;
  const manifest = readManifest(dir);
  if (!manifest) return { cached: false, bootBytes: null };
  const boot = manifest.files.filter((f) => ['vmlinuz', 'System.map', 'config'].includes(f.path));
  const summary = { cached: true as const, bootBytes: boot.reduce((n, f) => n + f.size, 0) };
  builtSummaries.set(dir, summary);
  return summary;
}

const confEvaluations = new Map<string, ReturnType<typeof evaluateDkmsConf>>();

async function moduleChecks(
  spec: NonNullable<Extract<Loaded['result'], { ok: true }>['value']['spec']>,
  resolve: (w: string) => string,
  facts: HostFacts,
  p: Prepared,
): Promise<ModuleCheck[]> {
  const checks: ModuleCheck[] = [];
  for (const m of spec.modules ?? []) {
    let conf: { conf: string; file: string } | null = null;
    if ('path' in m) conf = await readModuleConf(resolve(m.path));
    else {
      const src = facts.dkms.sources.find((s) => s.name === m.name && s.version === m.version);
      if (src?.conf) conf = { conf: src.conf, file: `${facts.host}:${src.dir}/dkms.conf` };
    }
    if (!conf) {
      checks.push({
        name: m.name,
        version: m.version,
        confFile: null,
        unmet: [],
        error: null,
        builtModules: [],
      });
      continue;
    }
    // The same module on many hosts of a fleet: one evaluation per (conf, build).
    const key = `${p.buildId}\0${conf.file.replace(/^[^:]*:/, '')}\0${sha256(new TextEncoder().encode(conf.conf))}`;
    let pending = confEvaluations.get(key);
    if (!pending) {
      const input = {
        conf: conf.conf,
        confFile: conf.file,
        kernelver: p.release,
        arch: p.arch,
        configText: p.config.text,
      };
      pending = cachedEvaluation(
        join(p.dirs.root, 'dkms-conf', `${sha256(new TextEncoder().encode(key))}.json`),
        input,
      );
      confEvaluations.set(key, pending);
    }
    const r = await pending;
    checks.push({
      name: m.name,
      version: m.version,
      confFile: conf.file,
      unmet: r.unmet,
      error: r.error,
      builtModules: r.vars?.builtModules ?? [],
    });
  }
  return checks;
}

export async function openAndGather(
  flags: PlanFlags,
  io: Io,
): Promise<{ transport: Transport; facts: HostFacts }> {
  const host = flags.host ?? 'local';
  const transport = await openHost(host, hostOptions({ ...flags, host } as HostFlags, io));
  try {
    const facts = await gather(transport, { sudo: flags.sudo === true });
    return { transport, facts };
  } catch (e) {
    await transport.close();
    throw e;
  }
}

/**
 * What the controller works out once per distinct (kernelfile, arch, running config): a fleet of
 * hosts on one kernelfile resolves its Kconfig once. Keyed promises, shared by concurrent hosts.
 */
export type PrepareCache = Map<string, Promise<Prepared>>;

/**
 * Plan one host whose facts are gathered. The transport stays open for the caller (apply runs
 * over it); the caller closes it.
 */
export async function planGathered(
  loaded: Loaded,
  gathered: { transport: Transport; facts: HostFacts },
  flags: PlanFlags,
  io: Io,
  progress?: (m: string) => void,
  cache: PrepareCache = new Map(),
): Promise<PlannedHost> {
  const { kf, home, result } = loaded;
  if (!result.ok)
    throw new UserError(
      `${kf.display} is not valid`,
      `run \`kernelfile validate ${kf.display}\` and fix what it reports`,
    );
  const { spec, source } = result.value;
  const { transport, facts } = gathered;
  const resolve = (w: string) => resolvePath(w, { kernelfile: kf.abs, home });
  const arch = spec.kernel.arch ?? facts.system.arch ?? localArch();
  const dirs = cacheDirs(cacheRoot(spec.build?.cacheDir, io.env));
  const runningConfig = spec.config?.base === 'running' ? runningConfigText(facts, kf.display) : undefined;
  const key = sha256(
    new TextEncoder().encode(JSON.stringify([kf.abs, sha256(kf.bytes), arch, runningConfig ?? null])),
  );
  let pending = cache.get(key);
  if (!pending) {
    pending = prepare({
      spec,
      arch,
      dirs,
      resolvePath: resolve,
      runningConfig,
      setOrigin: (symbol) => {
        const at = locate(source, ['config', 'set', symbol], { key: true });
        return { file: kf.display, line: at.line, column: at.column };
      },
      progress,
    });
    cache.set(key, pending);
  }
  const prepared = await pending;
  const diagnostics = [
    ...blockingDrops(prepared).map((d) => dropDiagnostic(d, 'error')),
    ...prepared.config.dropped.filter((d) => d.onDropped === 'warn').map((d) => dropDiagnostic(d, 'warning')),
  ];
  const artifacts = builtArtifacts(join(dirs.artifacts, prepared.buildId));
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
    await moduleChecks(spec, resolve, facts, prepared),
  );
  if (flags.trial) desired.boot.trial = true;
  return {
    transport,
    facts,
    prepared,
    desired,
    plan: plan(desired, facts, {
      factsFamilies: familyDigests(facts),
      image: transport.kind === 'root',
      configDiffs,
    }),
    diagnostics,
  };
}

/** Plan one host: gather its facts, then planGathered. The caller closes the transport. */
export async function planHost(
  loaded: Loaded,
  flags: PlanFlags,
  io: Io,
  progress?: (m: string) => void,
): Promise<PlannedHost> {
  const gathered = await openAndGather(flags, io);
  try {
    return await planGathered(loaded, gathered, flags, io, progress);
  } catch (e) {
    await gathered.transport.close();
    throw e;
  }
}
