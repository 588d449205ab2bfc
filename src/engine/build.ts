/**
 * `build` and `verify` as the engine offers them: prepare (source, patches, Kconfig resolution,
 * build id) and compile once per distinct build into the content-addressed cache; boot what was
 * built under QEMU with its modules and the declared DKMS modules.
 */
import { join } from 'node:path';
import { type BuildOptions, blockingDrops, type Manifest, type Prepared, prepare } from '../compile/build.js';
import { BuildError } from '../compile/errors.js';
import type { MakeEvent } from '../compile/make.js';
import { type ReproducibleResult, checkReproducible as rebuildAndCompare } from '../compile/reproducible.js';
import { discardEarlySeed } from '../compile/seed-early.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import { loadArtifacts, type VerifyResult, verifyKernel } from '../verify/verify.js';
import type { Env } from './env.js';
import { type Loaded, resolverOf, validSpec } from './kernelfile.js';
import { type BuildTarget, dropDiagnostic, prepareInput, signingDiagnostics } from './prepare.js';
import { buildWithStore, type StoreReport } from './store.js';

export type { BuildOptions, Manifest, Prepared } from '../compile/build.js';
export type { DistccCounts } from '../compile/distcc.js';
export { distccSummary } from '../compile/distcc.js';
export type { MakeEvent } from '../compile/make.js';
export type { FileDifference, ReproducibleResult } from '../compile/reproducible.js';
export { seedSummary } from '../compile/seed.js';
export type { StoreReport } from './store.js';

export interface Built {
  dir: string;
  manifest: Manifest;
  cached: boolean;
  /** What the store (cache.store) did: pulled the build, pushed it, or why it could not. */
  store?: StoreReport;
}

/**
 * Source, patches and the Kconfig resolution: the build id, never a compile. With `compileNext`
 * (the caller compiles it next), the seed's object tree is copied meanwhile: pass the result to
 * compile(), or to discardPrepared() when it will not be compiled.
 */
export async function prepareBuild(
  loaded: Loaded,
  target: BuildTarget,
  env: Env,
  progress?: (message: string) => void,
  o: { compileNext?: boolean } = {},
): Promise<Prepared> {
  return prepare({
    ...(await prepareInput(loaded, target, env)),
    progress,
    ...(o.compileNext ? { compileNext: true } : {}),
  });
}

/** Remove what prepareBuild({ compileNext }) copied ahead for a build that will not be compiled. */
export function discardPrepared(p: Prepared): Promise<void> {
  return discardEarlySeed(p);
}

/** Requested values Kconfig dropped (errors) or let go with `onDropped: warn` (warnings). */
export function buildDiagnostics(p: Prepared): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  return {
    errors: [...blockingDrops(p).map((d) => dropDiagnostic(d, 'error')), ...signingDiagnostics(p)],
    warnings: p.config.dropped.filter((d) => d.onDropped === 'warn').map((d) => dropDiagnostic(d, 'warning')),
  };
}

/** The first build (from the cache, or compiled now) and a second one compared with it bit for bit. */
export interface ReproducibleCheck extends ReproducibleResult {
  first: Built & { seconds: number };
}

/**
 * `build --check-reproducible`: the build from the cache (compiled now if it is not there), then the
 * same build again in another directory, later, with another umask, time zone and locale; every
 * artifact compared.
 */
export async function checkReproducible(
  p: Prepared,
  progress?: (e: { stage: string; compiled: number }, which: 'first' | 'second') => void,
  /** The first build, when the caller has just made or found it (else it is built or looked up here). */
  built?: Built,
): Promise<ReproducibleCheck> {
  const first = built ?? (await buildWithStore(p, (e) => progress?.(e, 'first')));
  const result = await rebuildAndCompare(p, first, (e) => progress?.(e, 'second'));
  return { ...result, first: { ...first, seconds: first.manifest.seconds } };
}

/**
 * Compile (or find in the cache, or pull from the store) the prepared build; a build compiled now,
 * or one the store does not have yet, is pushed to the store.
 */
export function compile(
  p: Prepared,
  progress?: (e: MakeEvent) => void,
  o: BuildOptions = {},
): Promise<Built> {
  return buildWithStore(p, progress ?? (() => {}), { ...o, pushCached: true });
}

export interface VerifyOptions {
  accel?: 'auto' | 'kvm' | 'tcg';
  timeoutMs?: number;
  progress?: (message: string) => void;
}

/** Build if needed, then boot it under QEMU and check the release and each module from the console. */
export async function verify(
  loaded: Loaded,
  target: BuildTarget,
  env: Env,
  o: VerifyOptions = {},
): Promise<VerifyResult> {
  const input = await prepareInput(loaded, target, env);
  const p = await prepare({ ...input, progress: o.progress });
  const { errors } = buildDiagnostics(p);
  if (errors.length)
    throw new BuildError(
      `the build cannot start (${errors.length} error(s)), e.g. ${errors[0]?.message}`,
      `run \`kernelfile build ${loaded.kf.display}\` for the full report`,
    );
  const built = await buildWithStore(p, (e) => o.progress?.(`${e.stage}: ${e.compiled} files`));
  const artifacts = await loadArtifacts(built.dir);
  const { spec } = validSpec(loaded);
  const resolve = resolverOf(loaded);
  return verifyKernel({
    artifacts,
    modules: (spec.modules ?? []).map((m) =>
      'path' in m
        ? { name: m.name, version: m.version, path: resolve(m.path) }
        : { name: m.name, version: m.version, installed: true as const },
    ),
    initramfsModules: spec.initramfs?.modules ?? [],
    workDir: join(input.dirs.root, 'verify', artifacts.buildId ?? built.manifest.release),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    accel: o.accel ?? 'tcg',
    ...(p.signing ? { signing: p.signing } : {}),
  });
}
