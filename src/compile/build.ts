/**
 * The build pipeline, stage by stage: source → patches → Kconfig resolution (→ build id) →
 * compile → artifacts. `prepare` stops after the Kconfig resolution and never compiles: it is what
 * `build --config-only` and `plan` use. Artifacts are content-addressed by the build id, so the
 * same kernelfile on any number of hosts is built once.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { onPath, runLocal } from '../host/local.js';
import { parseConfig } from '../kconfig/config.js';
import type { Spec } from '../spec/schema.js';
import { kernelArch, srcArch } from './arch.js';
import { cachedObjtree } from './build-dir.js';
import type { CacheDirs } from './cache.js';
import { commit, staging } from './cache.js';
import {
  type ConfigInput,
  cachedConfigText,
  mergedValues,
  type Origin,
  type ResolvedConfig,
  resolveConfig,
} from './config.js';
import {
  type DistccCounts,
  type DistccRun,
  distccCleanup,
  distccConfigProblem,
  distccPreflight,
  distccSetup,
} from './distcc.js';
import type { HeadersNeed } from './elf-needs.js';
import { BuildError } from './errors.js';
import { sha256Json, sha256Text } from './hash.js';
import { type ListedFile, sourceSums } from './hash-cache.js';
import { headersNeed, headersNeedOf, installBuildHeaders, installSourceHeaders } from './headers.js';
import { withLock } from './lock.js';
import { buildSuffix, compile, compileArgs, imagePath, type MakeEvent, modulesInstall } from './make.js';
import { kconfigTree, patchedTree, patchedTreePlace, type ResolvedPatch, touchedFiles } from './patches.js';
import { PROVENANCE_FILE, provenanceStatement } from './provenance.js';
import { MAX_CONFIG_BYTES, MAX_PATCH_BYTES, readRegularTextSync } from './read-file.js';
import {
  beyondKeep,
  chooseSeed,
  compatDigest,
  dropStaged,
  OBJTREE_RECORD,
  placeSeed,
  readRecords,
  removeObjtree,
  type Seeded,
  seedConfigReader,
  seedObjtree,
  seedSummary,
  writeRecord,
} from './seed.js';
import {
  canSyncAhead,
  discardEarlySeed,
  dropCopy,
  keepEarlySeed,
  startEarlySeed,
  syncEarlySeed,
  takeEarlySeed,
} from './seed-early.js';
import {
  type BuildSigning,
  buildSigning,
  checkSignedArtifacts,
  imageSigningProblem,
  signEnv,
  signImage,
  withKeyFile,
} from './signing.js';
import { checkSignature, type FetchedSource, fetchFile, fetchSource, sourceKey, unpack } from './source.js';

/** Bump when the way kernelfile builds changes, so old artifacts are not reused. */
export const BUILD_RECIPE = 2;
/** build.keepObjectTrees when the kernelfile does not say. */
export const DEFAULT_KEEP_OBJECT_TREES = 3;
// 2: KBUILD_BUILD_VERSION=1, KBUILD_BUILD_TIMESTAMP a date (the built-in initramfs carried the
//    time of the build), debug information relative to the source tree.

export interface PrepareInput {
  spec: Spec;
  arch: string;
  dirs: CacheDirs;
  /** Resolve a path written in the kernelfile (relative to it, ~/ expanded). */
  resolvePath: (written: string) => string;
  setOrigin: (symbol: string) => Origin;
  /** The target host's running config, for `base: running`. */
  runningConfig?: string;
  /** The environment (signing.passphraseEnv is read from it when the key is used). */
  vars?: Record<string, string | undefined>;
  /** Where a `signing.*` field is written in the kernelfile (for diagnostics). */
  signingOrigin?: (field: string) => Origin;
  progress?: (message: string) => void;
  /**
   * The caller compiles the build next (`kernelfile build`): the seed's object tree is copied while
   * the configuration is resolved (seed-early.ts). Never for a plan or `--config-only`.
   */
  compileNext?: boolean;
  /** Who asked: the kernelfile (as named, and its sha256) and kernelfile's version, for provenance. */
  origin?: BuildOrigin;
  /** `cache.store` (the CA file resolved) and the environment its credentials come from: src/store. */
  store?: StoreSettings;
}

/** `cache.store`, `cache.storeCa` (an absolute path) and the environment credentials are read from. */
export interface StoreSettings {
  url: string;
  caFile?: string;
  vars: Record<string, string | undefined>;
}

export interface BuildOrigin {
  kernelfile: { path: string; sha256: string };
  builder: string;
}

export interface Prepared {
  spec: Spec;
  arch: string;
  dirs: CacheDirs;
  source: FetchedSource;
  tree: { dir: string; key: string };
  /** The unpacked source before patches (the same as `tree` without patches). */
  pristine?: { dir: string; key: string };
  /** The files the patches touch (relative to the tree), when every patch names them. */
  patched?: string[];
  patches: ResolvedPatch[];
  config: ResolvedConfig;
  toolchain: string;
  buildId: string;
  release: string;
  /** `signing:`: the key and certificate (their files, never their bytes in the build id). */
  signing?: BuildSigning;
  /** The config files read (as written in the kernelfile) and their sha256: for the lock. */
  configFiles: { base?: { path: string; sha256: string }; fragments: { path: string; sha256: string }[] };
  /** The sha256 of the source's detached signature, when `kernel.signature` is set. */
  signatureSha256?: string;
  origin?: BuildOrigin;
  store?: StoreSettings;
}

export interface Manifest {
  formatVersion: 1;
  buildId: string;
  name: string;
  version: string;
  release: string;
  arch: string;
  kernelArch: string;
  image: string;
  modules: boolean;
  toolchain: string;
  source: string;
  patches: { name: string; sha256: string; strip: number }[];
  files: { path: string; sha256: string; size: number }[];
  /** Wall time of the whole build, and of the compile (make) alone. */
  seconds: number;
  compileSeconds: number;
  /**
   * What the headers' host tools (fixdep, modpost, objtool, sign-file…) need to run on a host:
   * sonames and the highest GLIBC version, read from their ELF bytes. Absent in manifests written
   * before it was recorded (readers then work it out from the headers tree).
   */
  headersNeed?: HeadersNeed;
  /** kernelfile's build recipe (absent before recipe 2). */
  recipe?: number;
  /** The earlier build whose object tree this one started from (seed.ts), and what make recompiled. */
  seed?: { buildId: string; release: string; samePatches: boolean; differingOptions: number };
  /** Compile lines make printed (CC, LD, …): what it (re)built. */
  compiled?: number;
  /**
   * Through distcc (build.distcc): where the compiles went (per distcc host, here, and here after a
   * distcc host failed), from distcc's own log, and how long the hosts' check took before make ran.
   */
  distcc?: DistccCounts & { preflightSeconds: number };
}

/**
 * The toolchain's identity for the build id: the first lines of `CC --version` and `ld --version`.
 * Remembered in the cache by the binaries' real paths, sizes and times, so a plan with everything
 * cached runs no compiler.
 */
async function toolchainId(spec: Spec, dirs: CacheDirs): Promise<string> {
  const cc = spec.build?.makeVars?.CC ?? 'gcc';
  const ld = spec.build?.makeVars?.LD ?? 'ld';
  const words = [...cc.split(/\s+/), ld].filter(Boolean);
  const key = JSON.stringify([
    cc,
    ld,
    ...words.map((w) => {
      const p = onPath(w);
      if (!p) return [w, null];
      const real = realpathSync(p);
      const st = statSync(real);
      return [real, st.size, st.mtimeMs];
    }),
  ]);
  const memoFile = join(dirs.root, 'toolchains.json');
  let memo: Record<string, string> = {};
  try {
    memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, string>;
  } catch {
    // none yet, or unreadable: start afresh
  }
  const known = memo[key];
  if (known) return known;
  const first = async (argv: string[]) => (await runLocal(argv)).stdout.split('\n')[0]?.trim() ?? '';
  const [c, l] = await Promise.all([first([...cc.split(/\s+/), '--version']), first([ld, '--version'])]);
  if (!c)
    throw new BuildError(
      `the C compiler \`${cc}\` is not available on this machine`,
      'install gcc (build-essential), or set build.makeVars.CC',
    );
  const id = `${c} | ${l}`;
  try {
    mkdirSync(dirs.root, { recursive: true });
    const tmp = `${memoFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...memo, [key]: id }));
    renameSync(tmp, memoFile);
  } catch {
    // a cache that cannot be written only costs the two processes next time
  }
  return id;
}

/** The normalised effective config: entries only (no comments, no header lines). */
function configEntries(text: string): string[] {
  return parseConfig(text).entries.map((e) => `${e.symbol}=${e.value}`);
}

/** sha256 of the effective configuration's entries: what the build id covers of the config. */
export function configDigest(configText: string): string {
  return sha256Json(configEntries(configText));
}

export function computeBuildId(
  p: Omit<
    Prepared,
    'buildId' | 'release' | 'dirs' | 'tree' | 'configFiles' | 'signatureSha256' | 'origin' | 'config'
  > & { config: Pick<ResolvedConfig, 'text'> },
): string {
  // Only a signing build has the field: every other build id stays what it was.
  const signing = p.signing
    ? { signing: { certificate: p.signing.certificateSha256, image: p.signing.image } }
    : {};
  return sha256Json({
    ...signing,
    recipe: BUILD_RECIPE,
    source: sourceKey(p.source),
    patches: p.patches.map((x) => ({ sha256: x.sha256, strip: x.strip })),
    config: configEntries(p.config.text),
    makeVars: p.spec.build?.makeVars ?? {},
    arch: p.arch,
    toolchain: p.toolchain,
  });
}

export async function prepare(input: PrepareInput): Promise<Prepared> {
  const { spec, dirs, progress } = input;
  kernelArch(input.arch);
  const source = await fetchSource(spec, dirs, input.resolvePath, progress);
  const sig = spec.kernel.signature;
  let signatureSha256: string | undefined;
  if (sig && source.kind === 'tarball') {
    const s = await fetchFile(
      'url' in sig ? { url: sig.url } : { path: input.resolvePath(sig.path) },
      'signature',
      dirs,
      progress,
    );
    await checkSignature(source.file, s.file, input.resolvePath(sig.keyring));
    signatureSha256 = s.sha256;
  }
  const pristine = await unpack(source, spec.kernel.version, dirs, progress);
  const patches: ResolvedPatch[] = [];
  for (const p of spec.patches ?? []) {
    const name = 'path' in p ? p.path : p.url;
    const f = await fetchFile(
      'path' in p ? { path: input.resolvePath(p.path) } : { url: p.url, sha256: p.sha256 },
      `patch ${name}`,
      dirs,
      progress,
    );
    patches.push({ name, file: f.file, sha256: f.sha256, strip: p.strip ?? 1 });
  }
  const toolchain = await toolchainId(spec, input.dirs);
  const fragments = (spec.config?.fragments ?? []).map((written) => {
    const abs = input.resolvePath(written);
    return { abs, written, text: readRegularTextSync(abs, MAX_CONFIG_BYTES, `config fragment ${written}`) };
  });
  const base = spec.config?.base;
  const baseText =
    typeof base === 'object'
      ? readRegularTextSync(input.resolvePath(base.file), MAX_CONFIG_BYTES, `config.base.file ${base.file}`)
      : base === 'running'
        ? input.runningConfig
        : undefined;
  const configFiles: Prepared['configFiles'] = {
    ...(typeof base === 'object' && baseText !== undefined
      ? { base: { path: base.file, sha256: sha256Text(baseText) } }
      : {}),
    fragments: fragments.map((f) => ({ path: f.written, sha256: sha256Text(f.text) })),
  };
  // Patches that touch nothing Kconfig reads resolve as the pristine source does (its cache shared).
  const patchTexts = patches.map((p) => ({
    text: readRegularTextSync(p.file, MAX_PATCH_BYTES, `patch ${p.name}`),
    strip: p.strip,
  }));
  // Where the patched tree is or will be: made below, after the seed's copy has started.
  const treePlace = patchedTreePlace(pristine, patches, dirs);
  const patched = touchedFiles(patchTexts);
  const signing = buildSigning(spec, input.resolvePath, input.vars, input.signingOrigin);
  const configInput: ConfigInput = {
    tree: kconfigTree(pristine, treePlace, patchTexts),
    spec,
    arch: input.arch,
    fragments,
    setOrigin: input.setOrigin,
    baseText,
    toolchain,
    dirs,
    progress,
  };
  const idOf = (configText: string) =>
    computeBuildId({
      spec,
      arch: input.arch,
      source,
      patches,
      config: { text: configText },
      toolchain,
      ...(signing ? { signing } : {}),
    });
  // A build that may be pulled from the store instead of compiled copies nothing ahead.
  let early =
    input.compileNext && !input.store
      ? earlySeed(
          {
            spec,
            arch: input.arch,
            dirs,
            source,
            toolchain,
            ...(signing ? { signing } : {}),
            tree: treePlace,
          },
          configInput,
          idOf,
        )
      : undefined;
  // Resolved here, the configuration is synchronised in the early copy meanwhile (seed-early.ts).
  const copying = early;
  if (copying && canSyncAhead(spec.kernel.version, Boolean(spec.build?.distcc?.length)))
    configInput.onMerged = (text) => {
      early = syncEarlySeed(copying, text, {
        tree: treePlace.dir,
        make: (objtree) =>
          compileArgs({ spec, arch: input.arch, buildId: undefined, srctree: treePlace.dir, objtree }),
      });
    };
  let tree: Prepared['tree'];
  let config: ResolvedConfig;
  try {
    tree = await patchedTree(pristine, patches, patched, dirs, progress);
    config = await resolveConfig(configInput);
  } catch (e) {
    await dropCopy(early);
    throw e;
  }
  const buildId = idOf(config.text);
  const release = `${spec.kernel.version}${spec.kernel.localversion ?? ''}${buildSuffix(buildId)}`;
  const prepared: Prepared = {
    spec,
    arch: input.arch,
    dirs,
    source,
    tree,
    pristine,
    ...(patched ? { patched } : {}),
    patches,
    config,
    toolchain,
    buildId,
    release,
    ...(signing ? { signing } : {}),
    configFiles,
    ...(signatureSha256 ? { signatureSha256 } : {}),
    ...(input.origin ? { origin: input.origin } : {}),
    ...(input.store ? { store: input.store } : {}),
  };
  if (early) keepEarlySeed(prepared, early);
  return prepared;
}

/**
 * Start copying the seed this build will most likely use (seed-early.ts), unless the build is known
 * to be there already (its configuration cached, its artifacts or object tree present).
 */
function earlySeed(
  p: Pick<Prepared, 'spec' | 'arch' | 'dirs' | 'source' | 'toolchain' | 'signing' | 'tree'>,
  configInput: ConfigInput,
  idOf: (configText: string) => string,
) {
  const configText = cachedConfigText(configInput);
  const buildId = configText === undefined ? undefined : idOf(configText);
  if (
    buildId &&
    (readManifest(join(p.dirs.artifacts, buildId)) || existsSync(cachedObjtree(p.dirs.objects, buildId)))
  )
    return undefined;
  return startEarlySeed({
    objects: p.dirs.objects,
    source: sourceKey(p.source),
    arch: p.arch,
    compat: seedCompat(p),
    tree: p.tree,
    ...(buildId && configText !== undefined ? { known: { buildId, configText } } : {}),
    merged: mergedValues(configInput),
  });
}

/** Dropped values that stop the build (onDropped: error), before anything is compiled. */
export function blockingDrops(p: Prepared) {
  return p.config.dropped.filter((d) => d.onDropped === 'error');
}

/**
 * Every regular file under `dir` with its sha256 and size, sorted by path. The files are listed
 * with their sizes by one find, then hashed by coreutils' sha256sum, one process per core (at most
 * four) over shares of about as many bytes: a distribution build's headers and modules (tens of
 * thousands of files, hundreds of MB) hash in a fraction of the time one process takes. A file
 * whose digest `known` gives (the pristine source's, by inode: hash-cache.ts) is not read.
 */
export async function hashTree(
  dir: string,
  skip: string[],
  /** Given the regular files listed (paths relative to `dir`), run while they are hashed. */
  meanwhile?: (listed: ListedFile[]) => void,
  known?: (file: ListedFile) => string | undefined,
): Promise<Manifest['files']> {
  const listed = await runLocal(['find', dir, '-type', 'f', '-printf', '%s %m %D %i %T@ %P\\0']);
  if (listed.code !== 0) throw new BuildError(`cannot list the artifacts: ${listed.stderr.trim()}`);
  const size = new Map<string, number>();
  const all: ListedFile[] = [];
  const files: Manifest['files'] = [];
  for (const rec of listed.stdout.split('\0').filter(Boolean)) {
    const [bytes = '', mode = '', dev = '', ino = '', mtime = '', ...rest] = rec.split(' ');
    const f: ListedFile = {
      path: rest.join(' '),
      size: Number(bytes),
      mode: Number.parseInt(mode, 8),
      dev,
      ino,
      mtime,
    };
    all.push(f);
    if (skip.includes(f.path)) continue;
    const sha256 = known?.(f);
    if (sha256) files.push({ path: f.path, sha256, size: f.size });
    else size.set(f.path, f.size);
  }
  // Largest first, each to the share with the fewest bytes so far.
  const shares = Array.from({ length: Math.min(4, Math.max(1, availableParallelism())) }, () => ({
    bytes: 0,
    paths: [] as string[],
  }));
  for (const [path, n] of [...size].sort((a, b) => b[1] - a[1])) {
    const share = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    share.bytes += n;
    share.paths.push(path);
  }
  const hashing = Promise.all(
    shares
      .filter((x) => x.paths.length)
      .map((x) =>
        runLocal(['sh', '-c', 'cd "$1" && exec xargs -0 -r sha256sum -z --', 'kf-hash', dir], {
          stdin: `${x.paths.join('\0')}\0`,
        }),
      ),
  );
  let failedMeanwhile: unknown;
  try {
    meanwhile?.(all);
  } catch (e) {
    failedMeanwhile = e;
  }
  const sums = await hashing;
  if (failedMeanwhile) throw failedMeanwhile;
  const failed = sums.find((r) => r.code !== 0);
  if (failed) throw new BuildError(`cannot checksum the artifacts: ${failed.stderr.trim()}`);
  const hashed = files.length;
  for (const r of sums)
    for (const rec of r.stdout.split('\0').filter(Boolean)) {
      // sha256sum -z: 64 hex digits, a space, a space or `*`, the name as given (not escaped).
      const path = rec.slice(66);
      files.push({ path, sha256: rec.slice(0, 64), size: size.get(path) ?? 0 });
    }
  if (files.length - hashed !== size.size)
    throw new BuildError(
      `cannot checksum the artifacts: ${files.length - hashed} of ${size.size} files hashed`,
    );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A manifest's headersNeed. For a build made before it was recorded, it is read once from the
 * headers tree (thousands of files) and kept beside the manifest, so later plans do not walk it.
 */
export function manifestHeadersNeed(dir: string, manifest: Manifest): HeadersNeed | null {
  if (manifest.headersNeed !== undefined) return manifest.headersNeed;
  const kept = join(dir, 'headers-need.json');
  try {
    return JSON.parse(readFileSync(kept, 'utf8')) as HeadersNeed | null;
  } catch {
    const need = headersNeed(join(dir, 'headers'));
    try {
      writeFileSync(`${kept}.${process.pid}.tmp`, JSON.stringify(need));
      renameSync(`${kept}.${process.pid}.tmp`, kept);
    } catch {
      // a read-only cache: read again next time
    }
    return need;
  }
}

export function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/**
 * Compile the prepared build, or find it in the cache. One process compiles a build id at a time
 * (they share its object directory): a second one waits for the first, then finds its artifacts.
 */
export interface BuildOptions {
  /** A fresh object tree: never seeded from an earlier build, and this build id's own tree removed first. */
  clean?: boolean;
  /**
   * Before compiling (under the build's lock): fetch the build into `final` from elsewhere (the
   * store); its manifest when it did, undefined when it is not there (then it is compiled).
   */
  pull?: (final: string) => Promise<Manifest | undefined>;
}

export async function build(
  p: Prepared,
  onEvent?: (e: MakeEvent) => void,
  o: BuildOptions = {},
): Promise<{ dir: string; manifest: Manifest; cached: boolean; pulled?: boolean }> {
  try {
    return await buildOnce(p, onEvent, o);
  } finally {
    // A seed copied early (prepare) that the build did not place: found, pulled, or refused.
    await discardEarlySeed(p);
  }
}

async function buildOnce(
  p: Prepared,
  onEvent?: (e: MakeEvent) => void,
  o: BuildOptions = {},
): Promise<{ dir: string; manifest: Manifest; cached: boolean; pulled?: boolean }> {
  const final = join(p.dirs.artifacts, p.buildId);
  const existing = readManifest(final);
  if (existing) return { dir: final, manifest: existing, cached: true };
  const drops = blockingDrops(p);
  if (drops.length)
    throw new BuildError(
      `${drops.length} requested config value(s) did not survive Kconfig; nothing was compiled`,
    );
  const image = imageSigningProblem(p.signing, p.config.effective);
  if (image) throw new BuildError(`${image.message}; nothing was compiled`, image.hint);
  // The store (engine/store.ts): a build it has is pulled under the build's lock before anything
  // else (no distcc host is needed for a build that is not compiled here).
  /** Under this build's lock (another kernelfile building it is waited for). */
  const locked = <T>(f: () => Promise<T>) =>
    withLock(p.dirs.locks, `build-${p.buildId}`, `building ${p.release}`, f, {
      onWait: (h) =>
        onEvent?.({
          stage: `waiting for another kernelfile${h ? ` (pid ${h.pid} on ${h.host})` : ''} building ${p.release}`,
          compiled: 0,
        }),
    });
  if (o.pull) {
    const pull = o.pull;
    const got = await locked(async () => {
      const done = readManifest(final);
      if (done) return { dir: final, manifest: done, cached: true };
      const pulled = await pull(final);
      return pulled ? { dir: final, manifest: pulled, cached: true, pulled: true } : undefined;
    });
    if (got) return got;
  }
  // distcc: a build it can make as this machine would, every host reachable and compiling as this
  // machine does, before anything is compiled.
  const notDistcc = p.spec.build?.distcc?.length ? distccConfigProblem(p.config.effective) : null;
  if (notDistcc)
    throw new BuildError(
      `build.distcc cannot be used for this build: ${notDistcc}; nothing was compiled`,
      'build it without build.distcc, or without CONFIG_DEBUG_INFO',
    );
  const distcc = distccSetup(p.spec, p.dirs.root);
  try {
    const checked = distcc
      ? await distccPreflight(distcc, p.spec.build?.makeVars?.CC ?? 'gcc', (m) =>
          onEvent?.({ stage: m, compiled: 0 }),
        )
      : undefined;
    const via = distcc && checked ? { run: distcc, preflightSeconds: checked.seconds } : undefined;
    return await locked(async () => {
      const done = readManifest(final);
      return done ? { dir: final, manifest: done, cached: true } : compileLocked(p, final, onEvent, o, via);
    });
  } finally {
    distccCleanup(distcc);
  }
}

/** A build through distcc: its run (distcc.ts) and how long the preflight took. */
export interface ViaDistcc {
  run: DistccRun;
  preflightSeconds: number;
}

/** Where and how one build is made: the tree, object tree, output directory and make's surroundings. */
export interface BuildPlace {
  srctree: string;
  objtree: string;
  /** An existing, empty directory: the artifacts go here. */
  out: string;
  umask?: string;
  /** More environment for make (TZ, LC_ALL…). */
  env?: Record<string, string>;
  /** Read and hash every artifact, also the source files whose digests are kept (hash-cache.ts). */
  hashAll?: boolean;
}

/** What a seed must share with this build besides source and architecture (seed.ts). */
function seedCompat(p: Pick<Prepared, 'spec' | 'toolchain' | 'signing'>): string {
  return compatDigest({
    recipe: BUILD_RECIPE,
    toolchain: p.toolchain,
    makeVars: p.spec.build?.makeVars ?? {},
    signingCertificate: p.signing?.certificateSha256 ?? null,
    // `CC=distcc gcc` changes every Kbuild command line: a local tree would be recompiled whole (and
    // a distcc one by a local build). Only in a distcc build's compat: local builds' stay what they were.
    ...(p.spec.build?.distcc?.length ? { cc: 'distcc' } : {}),
  });
}

/**
 * Start the build's object tree from the closest earlier one (seed.ts), when there is one. A seed
 * that cannot be copied (removed meanwhile, no space) only costs the full compile.
 */
async function seedFor(
  p: Prepared,
  objtree: string,
  onEvent?: (e: MakeEvent) => void,
): Promise<Seeded | undefined> {
  if (!p.pristine) return undefined;
  const choice = chooseSeed(
    {
      buildId: p.buildId,
      source: sourceKey(p.source),
      arch: p.arch,
      compat: seedCompat(p),
      treeKey: p.tree.key,
      configText: p.config.text,
    },
    readRecords(p.dirs.objects),
    seedConfigReader(p.dirs.objects),
  );
  const early = await takeEarlySeed(p);
  const copied = early && choice && early.choice.record.buildId === choice.record.buildId;
  if (early && !copied) dropStaged(early);
  if (!choice) return undefined;
  onEvent?.({
    stage: `seeding the object tree from ${choice.record.release} (${seedSummary(choice)})`,
    compiled: 0,
  });
  const into = {
    objects: p.dirs.objects,
    objtree,
    tree: p.tree,
    pristine: p.pristine,
    ...(p.patched ? { patched: p.patched } : {}),
  };
  try {
    // The copy made while the configuration was resolved, when it is of this seed.
    return copied ? await placeSeed({ ...early, choice }, into) : await seedObjtree(choice, into);
  } catch (e) {
    onEvent?.({
      stage: `could not seed from ${choice.record.release} (${e instanceof Error ? e.message : String(e)}): compiling afresh`,
      compiled: 0,
    });
    return undefined;
  }
}

/** Remove the object trees of this build's source beyond build.keepObjectTrees (most recent kept). */
function pruneObjtrees(p: Prepared): void {
  const keep = p.spec.build?.keepObjectTrees ?? DEFAULT_KEEP_OBJECT_TREES;
  // With none kept, none is recycled either (recycle.ts).
  for (const r of beyondKeep(readRecords(p.dirs.objects), sourceKey(p.source), keep))
    removeObjtree(p.dirs.objects, r.buildId, keep > 0);
}

async function compileLocked(
  p: Prepared,
  final: string,
  onEvent?: (e: MakeEvent) => void,
  o: BuildOptions = {},
  distcc?: ViaDistcc,
): Promise<{ dir: string; manifest: Manifest; cached: boolean }> {
  const objtree = cachedObjtree(p.dirs.objects, p.buildId);
  // A tree of this build id from an interrupted or failed run is make's to resume, not to seed.
  const resume = !o.clean && existsSync(objtree);
  // Else a fresh start: a build directory without its object tree is a leftover (of an earlier
  // layout, or of a seed never placed).
  if (!resume) removeObjtree(p.dirs.objects, p.buildId);
  // --clean: a fresh tree, never seeded.
  const seeded = resume || o.clean ? undefined : await seedFor(p, objtree, onEvent);
  mkdirSync(objtree, { recursive: true });
  const tmp = staging(final);
  try {
    const manifest = await buildInto(p, { srctree: p.tree.dir, objtree, out: tmp }, onEvent, seeded, distcc);
    commit(tmp, final);
    if (p.pristine)
      writeRecord(p.dirs.objects, {
        objtreeRecord: OBJTREE_RECORD,
        buildId: p.buildId,
        release: p.release,
        recipe: BUILD_RECIPE,
        source: sourceKey(p.source),
        pristine: p.pristine,
        tree: p.tree,
        objtree,
        arch: p.arch,
        compat: seedCompat(p),
        completedAt: new Date().toISOString(),
        ...(p.patched ? { patched: p.patched } : {}),
      });
    pruneObjtrees(p);
    return { dir: final, manifest, cached: false };
  } catch (e) {
    // Keep the log of a failed build where the error message says it is.
    const log = join(tmp, 'build.log');
    const kept = join(p.dirs.root, 'failed', `${p.buildId}.log`);
    const hasLog = existsSync(log);
    if (hasLog) {
      mkdirSync(join(p.dirs.root, 'failed'), { recursive: true });
      copyFileSync(log, kept);
    }
    rmSync(tmp, { recursive: true, force: true });
    // (The temporary directory is gone now: the message names the copy.)
    if (e instanceof BuildError && hasLog)
      throw new BuildError(e.message.replace(log, kept), e.hint, e.details);
    throw e;
  }
}

/**
 * Compile the prepared build at `place` and collect its artifacts, manifest.json and provenance.json
 * into `place.out`. The cache's build (compileLocked) and `build --check-reproducible`'s second build
 * are both made here.
 */
export async function buildInto(
  p: Prepared,
  place: BuildPlace,
  onEvent?: (e: MakeEvent) => void,
  seeded?: Seeded,
  /** Through distcc (the cache's build); `build --check-reproducible`'s second build compiles here. */
  distcc?: ViaDistcc,
): Promise<Manifest> {
  const started = Date.now();
  const { objtree, out: tmp } = place;
  const logFile = join(tmp, 'build.log');
  const mk = {
    spec: p.spec,
    arch: p.arch,
    srctree: place.srctree,
    objtree,
    configText: p.config.text,
    buildId: p.buildId,
    logFile,
    onEvent,
    ...(place.umask ? { umask: place.umask } : {}),
    ...(distcc ? { distcc: distcc.run } : {}),
    ...(p.signing?.modules || place.env
      ? { env: { ...place.env, ...(p.signing?.modules ? signEnv(p.signing) : {}) } }
      : {}),
  };
  const signing = p.signing?.modules ? p.signing : undefined;
  // The key is in the object tree for make and modules_install only (withKeyFile removes it).
  const keyed = <T>(fn: () => Promise<T>) => (signing ? withKeyFile(signing, objtree, fn) : fn());
  // Meanwhile, at the lowest CPU priority: the source's part of the headers tree (headers.ts). A
  // settled promise (its error kept): waited for either way, so no process outlives the build.
  const headers = join(tmp, 'headers');
  const sourceHeaders = installSourceHeaders(place.srctree, srcArch(p.arch), headers, {
    nice: true,
    ...(p.pristine ? { pristine: p.pristine.dir } : {}),
    ...(p.patched ? { touched: p.patched } : {}),
  }).then(
    () => undefined,
    (e: unknown) => ({ error: e }),
  );
  let built: Awaited<ReturnType<typeof compile>>;
  try {
    built = await keyed(() => compile(mk));
  } finally {
    await sourceHeaders;
  }
  const compiled = Date.now();
  if (built.release !== p.release)
    throw new BuildError(
      `the build produced release ${built.release}, expected ${p.release}`,
      'is CONFIG_LOCALVERSION_AUTO forced on by the source, or the tree inside a git checkout?',
    );
  onEvent?.({ stage: 'collecting artifacts', compiled: 0 });
  const effective: Record<string, string> = {};
  for (const e of parseConfig(p.config.text).entries) effective[e.symbol] = e.value;
  // At once: the image's name (make), modules_install (make) and the build's part of the headers
  // tree (copies) read the object tree, write apart.
  const [image] = await Promise.all([
    imagePath(mk),
    built.modules ? keyed(() => modulesInstall(mk, join(tmp, 'modules'))) : undefined,
    sourceHeaders.then((failed) => {
      if (failed) throw failed.error;
      return installBuildHeaders(objtree, srcArch(p.arch), headers, effective);
    }),
  ]);
  copyFileSync(image, join(tmp, 'vmlinuz'));
  if (p.signing?.image) {
    onEvent?.({ stage: 'signing the kernel image (sbsign)', compiled: 0 });
    await signImage(p.signing, join(tmp, 'vmlinuz'));
  }
  copyFileSync(join(objtree, 'System.map'), join(tmp, 'System.map'));
  copyFileSync(join(objtree, '.config'), join(tmp, 'config'));
  // modules_install links build/ and source/ to this machine's trees: hosts get headers instead.
  if (built.modules)
    for (const l of ['build', 'source'])
      rmSync(join(tmp, 'modules/lib/modules', p.release, l), { force: true });
  if (p.signing) {
    onEvent?.({ stage: 'checking signatures', compiled: 0 });
    checkSignedArtifacts(p.signing, tmp, p.release);
  }
  // What the headers' host tools need, read from the listing hashTree makes, while it hashes.
  // The headers' source files are the pristine source's own inodes: their digests are kept.
  let needs: HeadersNeed | null = null;
  const sums = p.pristine && !place.hashAll ? sourceSums(p.pristine.dir, 'headers/') : undefined;
  let listing: ListedFile[] = [];
  const files = await hashTree(
    tmp,
    ['build.log'],
    (listed) => {
      listing = listed;
      if (!existsSync(join(tmp, 'headers'))) return;
      needs = headersNeedOf(
        listed.filter((f) => f.path.startsWith('headers/')).map((f) => ({ ...f, path: join(tmp, f.path) })),
      );
    },
    sums?.lookup,
  );
  sums?.record(listing, files);
  const manifest: Manifest = {
    formatVersion: 1,
    buildId: p.buildId,
    name: p.spec.name,
    version: p.spec.kernel.version,
    release: p.release,
    arch: p.arch,
    kernelArch: kernelArch(p.arch),
    image: 'vmlinuz',
    modules: built.modules,
    toolchain: p.toolchain,
    source: sourceKey(p.source),
    patches: p.patches.map((x) => ({ name: x.name, sha256: x.sha256, strip: x.strip })),
    files,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    compileSeconds: Math.round((compiled - started) / 100) / 10,
    ...(needs ? { headersNeed: needs } : {}),
    recipe: BUILD_RECIPE,
    ...(seeded
      ? {
          seed: {
            buildId: seeded.from.buildId,
            release: seeded.from.release,
            samePatches: seeded.samePatches,
            differingOptions: seeded.differing,
          },
        }
      : {}),
    compiled: built.compiled,
    ...(built.distcc && distcc
      ? { distcc: { ...built.distcc, preflightSeconds: distcc.preflightSeconds } }
      : {}),
  };
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const statement = await provenanceStatement({
    prepared: p,
    manifest,
    dir: tmp,
    startedOn: new Date(started),
    finishedOn: new Date(),
    builderVersion: p.origin?.builder ?? 'unknown',
    recipe: BUILD_RECIPE,
    configSha256: configDigest(p.config.text),
  });
  writeFileSync(join(tmp, PROVENANCE_FILE), `${JSON.stringify(statement, null, 2)}\n`);
  return manifest;
}
