/**
 * The Kconfig truth: base + fragments in order + inline `set`, merged with the kernel's own
 * `scripts/kconfig/merge_config.sh -m`, then `make olddefconfig`; then every requested value is
 * compared with the effective .config, and each one that did not survive is explained (the
 * definition's `depends on` with current values, or "not defined in this source").
 * Results are cached by everything that decides them, so `plan` resolves a config once.
 *
 * A configuration not seen before costs about one `make olddefconfig`, the kernel's own floor:
 *  - it is resolved in a fresh output directory (O=) over the cached, read-only tree (the patched
 *    one, or the pristine source when no patch touches what Kconfig reads: patches.ts kconfigTree);
 *  - the output directory is seeded with the kconfig host tools built for this tree before
 *    (kconfig-tools.ts; make still decides whether they are up to date);
 *  - a base target's result (`make tinyconfig`, `make defconfig`…) is kept per tree, arch, make
 *    variables and toolchain: the same base under other fragments is not made again;
 *  - the Kconfig database is read only when a requested value is not in the .config as written
 *    (to explain why it was dropped), and then from the cache (kconfig-db-cache.ts).
 * One process resolves a configuration at a time (a lock per config key); every entry is written
 * under a temporary name, sealed, and renamed into place, and checked against its seal when used.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { configValues, formatSetValue, parseConfig } from '../kconfig/config.js';
import {
  type Dropped,
  findDropped,
  findRedefinitions,
  type Origin,
  type Redefinition,
  type Requested,
  requestedFromFragments,
} from '../kconfig/dropped.js';
import type { Spec } from '../spec/schema.js';
import { kernelArch, srcArch } from './arch.js';
import type { CacheDirs } from './cache.js';
import { commit, openSealed, seal, staging, writeAtomic } from './cache.js';
import { BuildError } from './errors.js';
import { sha256Json, sha256Text } from './hash.js';
import { treeKconfigDb } from './kconfig-db-cache.js';
import { harvestTools, kconfigToolsKey, seedTools } from './kconfig-tools.js';
import { withLock } from './lock.js';
import { signingOptions, signingRequests } from './signing.js';

export type { Origin };

export interface ConfigInput {
  tree: { dir: string; key: string };
  spec: Spec;
  /** `uname -m` name of the target. */
  arch: string;
  /** Fragment files in order: absolute path, as written in the kernelfile, and content. */
  fragments: { abs: string; written: string; text: string }[];
  /** Where `config.set.CONFIG_X` is written in the kernelfile. */
  setOrigin: (symbol: string) => Origin;
  /** Content of a `{file}` base, or the target host's running config for `base: running`. */
  baseText?: string;
  /** First lines of `<cc> --version` and `ld --version`: Kconfig tests the compiler. */
  toolchain: string;
  dirs: CacheDirs;
  progress?: (m: string) => void;
  /**
   * Given the merged configuration (base, fragments, kernelfile's own) when this process resolves
   * it, before `make olddefconfig` does: a build synchronises its seed's copy from it meanwhile
   * (seed-early.ts). Not part of the key.
   */
  onMerged?: (text: string) => void;
}

export interface ResolvedConfig {
  key: string;
  /** The effective .config as Kconfig wrote it. */
  text: string;
  file: string;
  effective: Record<string, string>;
  dropped: Dropped[];
  /** Requested values set twice, differently (warnings). */
  redefinitions: Redefinition[];
  requestedCount: number;
  /** The symbols the kernelfile asks for (fragments and `set`), sorted. */
  requestedSymbols: string[];
  cached: boolean;
}

/** A named base: a make target whose result depends on the tree, not on the kernelfile's fragments. */
function baseTarget(input: ConfigInput): string | undefined {
  const base = input.spec.config?.base ?? 'defconfig';
  return typeof base === 'string' && base !== 'running' ? base : undefined;
}

/** Make variables Kconfig sees (a cross compiler changes what it can enable). */
export function makeArgs(spec: Spec, arch: string): string[] {
  return [
    `ARCH=${kernelArch(arch)}`,
    ...Object.entries(spec.build?.makeVars ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
}

/** The fragment kernelfile adds last: its own options, module signing (`signing:`), then `config.set`. */
export function generatedFragment(spec: Spec, userSymbols: readonly string[] = []): string {
  const lines = [
    '# Written by kernelfile: the release suffix and config.set from the kernelfile.',
    `CONFIG_LOCALVERSION=${formatSetValue(spec.kernel.localversion ?? '')}`,
    '# CONFIG_LOCALVERSION_AUTO is not set',
  ];
  const signing = signingOptions(spec, userSymbols);
  if (signing.length > 0) {
    lines.push('# signing.modules: the certificate embedded, every module signed at modules_install');
    for (const o of signing) lines.push(`${o.symbol}=${o.value}`);
  }
  for (const [symbol, v] of Object.entries(spec.config?.set ?? {})) {
    const value = typeof v === 'object' ? v.value : v;
    lines.push(value === 'n' ? `# ${symbol} is not set` : `${symbol}=${formatSetValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The symbols the kernelfile's fragments and `config.set` name. */
export function userSymbols(input: Pick<ConfigInput, 'fragments' | 'spec'>): string[] {
  return [
    ...input.fragments.flatMap((f) => parseConfig(f.text).entries.map((e) => e.symbol)),
    ...Object.keys(input.spec.config?.set ?? {}),
  ];
}

/**
 * Every requested value in merge order (fragments, then what `signing:` asks for, then `set`), with
 * where it was asked for.
 */
export function requestedValues(input: ConfigInput): Requested[] {
  const fragments = input.fragments.map((f) => ({ file: f.abs, entries: parseConfig(f.text).entries }));
  const user = requestedFromFragments(
    fragments,
    input.spec.config?.set ?? {},
    input.setOrigin,
    input.spec.config?.onDropped ?? 'error',
  );
  const signing = signingRequests(input.spec, userSymbols(input), input.setOrigin);
  // In the generated fragment, signing's values come before config.set's.
  const setCount = Object.keys(input.spec.config?.set ?? {}).length;
  return [...user.slice(0, user.length - setCount), ...signing, ...user.slice(user.length - setCount)];
}

/**
 * The base's text when it is known without running Kconfig: a base target's result kept in the
 * cache, or the text given (a file, the host's running config); else undefined.
 */
function knownBaseText(input: ConfigInput): string | undefined {
  const target = baseTarget(input);
  return target === undefined ? input.baseText : sealedConfigText(baseEntry(input, target));
}

/**
 * Every value the merge sets, the last one for a symbol winning: the base (when it is known without
 * running Kconfig), the fragments, then the generated fragment (the release suffix, signing's
 * values, config.set). What a seed is guessed by before Kconfig resolves the configuration
 * (seed-early.ts), as near to it as can be known then: two seeds that differ only in their base, or
 * only in CONFIG_LOCALVERSION (which kernelfile sets itself), are not alike to this build.
 */
export function mergedValues(input: ConfigInput): Map<string, string> {
  const values = new Map<string, string>();
  const base = knownBaseText(input);
  const texts = [
    ...(base === undefined ? [] : [base]),
    ...input.fragments.map((f) => f.text),
    generatedFragment(input.spec, userSymbols(input)),
  ];
  for (const text of texts)
    for (const [symbol, value] of Object.entries(configValues(text))) values.set(symbol, value);
  return values;
}

export function configKey(input: ConfigInput): string {
  const target = baseTarget(input);
  return sha256Json({
    config: 2,
    tree: input.tree.key,
    arch: input.arch,
    base: target ?? { text: sha256Text(input.baseText ?? '') },
    fragments: input.fragments.map((f) => sha256Text(f.text)),
    generated: generatedFragment(input.spec, userSymbols(input)),
    makeVars: input.spec.build?.makeVars ?? {},
    toolchain: input.toolchain,
  });
}

/** The key of a base target's result: everything in the config key but the kernelfile's fragments. */
export function baseKey(input: ConfigInput, target: string): string {
  return sha256Json({
    base: 1,
    tree: input.tree.key,
    arch: input.arch,
    target,
    makeVars: input.spec.build?.makeVars ?? {},
    toolchain: input.toolchain,
  });
}

/** Where a base target's result is kept (its `config`). */
function baseEntry(input: ConfigInput, target: string): string {
  return join(input.dirs.kconfig, `base-${baseKey(input, target)}`);
}

/** The `config` of a sealed cache entry (a base target's result, a resolved configuration), if intact. */
function sealedConfigText(entry: string): string | undefined {
  if (!openSealed(entry, ['config'])) return undefined;
  try {
    return readFileSync(join(entry, 'config'), 'utf8');
  } catch {
    return undefined;
  }
}

async function make(tree: string, out: string, args: string[], what: string): Promise<void> {
  const r = await runLocal(['make', '-s', '-C', tree, `O=${out}`, ...args]);
  if (r.code !== 0)
    throw new BuildError(
      `${what} failed (exit ${r.code})`,
      undefined,
      (r.stdout + r.stderr).trim().split('\n').slice(-40),
    );
}

/** Keep `file` as the sealed entry `entry` (another process's identical entry may win). */
function keep(entry: string, file: string, as: string): void {
  const tmp = staging(entry);
  try {
    writeFileSync(join(tmp, as), readFileSync(file));
    seal(tmp);
    commit(tmp, entry);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Run the kernel's own tools in a fresh output directory and commit `config` (sealed) to `final`.
 */
async function resolveNow(input: ConfigInput, final: string): Promise<void> {
  const tmp = staging(final);
  const out = join(tmp, 'o');
  try {
    mkdirSync(out);
    const args = makeArgs(input.spec, input.arch);
    const makeVars = input.spec.build?.makeVars ?? {};
    const tools = join(
      input.dirs.kconfig,
      `tools-${kconfigToolsKey({ tree: input.tree, makeVars, toolchain: input.toolchain })}`,
    );
    let seeded = false;
    try {
      seeded = seedTools(tools, out);
    } catch {
      // a seed that cannot be copied: make builds the tools
      rmSync(join(out, 'scripts'), { recursive: true, force: true });
    }
    const target = baseTarget(input);
    if (target) {
      const base = baseEntry(input, target);
      if (openSealed(base, ['config']))
        writeFileSync(join(out, '.config'), readFileSync(join(base, 'config')));
      else {
        input.progress?.(`resolving the kernel configuration (make ${target})`);
        await make(input.tree.dir, out, [...args, target], `make ${target}`);
        keep(base, join(out, '.config'), 'config');
      }
    } else {
      if (input.baseText === undefined)
        throw new BuildError(
          "base: running needs the target host's running config",
          'pass --host HOST (the host whose config to start from)',
        );
      writeFileSync(join(out, '.config'), input.baseText);
    }
    input.progress?.('resolving the kernel configuration (merge_config.sh, olddefconfig)');
    const frags = input.fragments.map((f, i) => {
      const p = join(tmp, `fragment-${i}.config`);
      writeFileSync(p, f.text);
      return p;
    });
    const generated = join(tmp, 'kernelfile.config');
    writeFileSync(generated, generatedFragment(input.spec, userSymbols(input)));
    // merge_config.sh makes its temporary files in the working directory: the staging directory,
    // never the user's.
    const merge = await runLocal(
      [
        'sh',
        '-c',
        'cd "$1" || exit; shift; exec sh "$@"',
        'kf-merge',
        tmp,
        join(input.tree.dir, 'scripts/kconfig/merge_config.sh'),
        '-m',
        '-O',
        out,
        join(out, '.config'),
        ...frags,
        generated,
      ],
      { env: { ARCH: kernelArch(input.arch), SRCARCH: srcArch(input.arch) } },
    );
    if (merge.code !== 0)
      throw new BuildError(
        'merge_config.sh failed',
        undefined,
        (merge.stdout + merge.stderr).trim().split('\n').slice(-20),
      );
    input.onMerged?.(readFileSync(join(out, '.config'), 'utf8'));
    await make(input.tree.dir, out, [...args, 'olddefconfig'], 'make olddefconfig');
    writeFileSync(join(tmp, 'config'), readFileSync(join(out, '.config')));
    if (!seeded) harvestTools(tools, out);
    rmSync(out, { recursive: true, force: true });
    seal(tmp);
    commit(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A dropped-value report as kept beside the config: the list and its own checksum. */
interface Report {
  sha256: string;
  dropped: Dropped[];
}

function readReport(file: string): Dropped[] | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
    if (Array.isArray(r?.dropped) && r.sha256 === sha256Json(r.dropped)) return r.dropped;
  } catch {
    // missing, or damaged: made again
  }
  return undefined;
}

/** The resolved configuration, when it is cached (nothing is run); else undefined. */
export function cachedConfigText(input: ConfigInput): string | undefined {
  return sealedConfigText(join(input.dirs.configs, configKey(input)));
}

export async function resolveConfig(input: ConfigInput): Promise<ResolvedConfig> {
  const key = configKey(input);
  const final = join(input.dirs.configs, key);
  const requested = requestedValues(input);
  // Cached: this process ran no Kconfig (also when it waited for another one that did).
  let cached = true;
  let text: string | undefined;
  for (let attempt = 0; text === undefined; attempt++) {
    if (!openSealed(final, ['config']))
      await withLock(
        input.dirs.locks,
        `config-${key}`,
        `resolving configuration ${key.slice(0, 12)}`,
        async () => {
          // Another process may have resolved it while this one waited.
          if (openSealed(final, ['config'])) return;
          cached = false;
          await resolveNow(input, final);
        },
        {
          timeoutMs: 30 * 60_000,
          onWait: (h) =>
            input.progress?.(
              `waiting for another kernelfile${h ? ` (pid ${h.pid} on ${h.host})` : ''} resolving the same configuration`,
            ),
        },
      );
    try {
      text = readFileSync(join(final, 'config'), 'utf8');
    } catch (e) {
      // Discarded by another process (damaged) between the check and the read: once more.
      if (attempt > 0) throw e;
    }
  }
  const effective: Record<string, string> = {};
  for (const e of parseConfig(text).entries) effective[e.symbol] = e.value;
  // The same config can be requested from other files and lines: the report (which names them) is
  // cached per set of requests, not per config.
  const reportFile = join(final, `dropped-${sha256Json(requested).slice(0, 16)}.json`);
  let dropped = readReport(reportFile);
  if (!dropped) {
    const vars = { SRCARCH: srcArch(input.arch), ARCH: kernelArch(input.arch) };
    dropped = findDropped(requested, effective, () => treeKconfigDb(input.tree, vars, input.dirs.kconfig).db);
    try {
      writeAtomic(reportFile, JSON.stringify({ sha256: sha256Json(dropped), dropped } satisfies Report));
    } catch {
      // a read-only cache: explained again next time
    }
  }
  return {
    key,
    text,
    file: join(final, 'config'),
    effective,
    dropped,
    redefinitions: findRedefinitions(requested),
    requestedCount: new Set(requested.map((r) => r.symbol)).size,
    requestedSymbols: [...new Set(requested.map((r) => r.symbol))].sort(),
    cached,
  };
}
