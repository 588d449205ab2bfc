/**
 * The Kconfig truth: base + fragments in order + inline `set`, merged with the kernel's own
 * `scripts/kconfig/merge_config.sh -m`, then `make olddefconfig`; then every requested value is
 * compared with the effective .config, and each one that did not survive is explained (the
 * definition's `depends on` with current values, or "not defined in this source").
 * Results are cached by everything that decides them, so `plan` resolves a config once.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { formatSetValue, parseConfig } from '../kconfig/config.js';
import {
  type Dropped,
  findDropped,
  findRedefinitions,
  type Origin,
  type Redefinition,
  type Requested,
  requestedFromFragments,
} from '../kconfig/dropped.js';
import { loadKconfig } from '../kconfig/kconfig-db.js';
import type { Spec } from '../spec/schema.js';
import { kernelArch, srcArch } from './arch.js';
import type { CacheDirs } from './cache.js';
import { commit, staging } from './cache.js';
import { BuildError } from './errors.js';
import { sha256Json, sha256Text } from './hash.js';

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

/** Make variables Kconfig sees (a cross compiler changes what it can enable). */
export function makeArgs(spec: Spec, arch: string): string[] {
  return [
    `ARCH=${kernelArch(arch)}`,
    ...Object.entries(spec.build?.makeVars ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
}

/** The fragment kernelfile adds last: its own options, then `config.set`. */
export function generatedFragment(spec: Spec): string {
  const lines = [
    '# Written by kernelfile: the release suffix and config.set from the kernelfile.',
    `CONFIG_LOCALVERSION=${formatSetValue(spec.kernel.localversion ?? '')}`,
    '# CONFIG_LOCALVERSION_AUTO is not set',
  ];
  for (const [symbol, v] of Object.entries(spec.config?.set ?? {})) {
    const value = typeof v === 'object' ? v.value : v;
    lines.push(value === 'n' ? `# ${symbol} is not set` : `${symbol}=${formatSetValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every requested value in merge order (fragments, then `set`), with where it was asked for. */
export function requestedValues(input: ConfigInput): Requested[] {
  const fragments = input.fragments.map((f) => ({ file: f.abs, entries: parseConfig(f.text).entries }));
  return requestedFromFragments(
    fragments,
    input.spec.config?.set ?? {},
    input.setOrigin,
    input.spec.config?.onDropped ?? 'error',
  );
}

function configKey(input: ConfigInput): string {
  const base = input.spec.config?.base ?? 'defconfig';
  return sha256Json({
    config: 1,
    tree: input.tree.key,
    arch: input.arch,
    base: typeof base === 'string' && base !== 'running' ? base : { text: sha256Text(input.baseText ?? '') },
    fragments: input.fragments.map((f) => sha256Text(f.text)),
    generated: generatedFragment(input.spec),
    makeVars: input.spec.build?.makeVars ?? {},
    toolchain: input.toolchain,
  });
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

export async function resolveConfig(input: ConfigInput): Promise<ResolvedConfig> {
  const key = configKey(input);
  const final = join(input.dirs.configs, key);
  const requested = requestedValues(input);
  const cached = existsSync(join(final, 'config'));
  if (!cached) {
    const tmp = staging(final);
    try {
      input.progress?.('resolving the kernel configuration (merge_config.sh, olddefconfig)');
      const args = makeArgs(input.spec, input.arch);
      const base = input.spec.config?.base ?? 'defconfig';
      if (typeof base === 'string' && base !== 'running')
        await make(input.tree.dir, tmp, [...args, base], `make ${base}`);
      else {
        if (input.baseText === undefined)
          throw new BuildError(
            "base: running needs the target host's running config",
            'pass --host HOST (the host whose config to start from)',
          );
        writeFileSync(join(tmp, '.config'), input.baseText);
      }
      const frags = input.fragments.map((f, i) => {
        const p = join(tmp, `fragment-${i}.config`);
        writeFileSync(p, f.text);
        return p;
      });
      const generated = join(tmp, 'kernelfile.config');
      writeFileSync(generated, generatedFragment(input.spec));
      const merge = await runLocal(
        [
          'sh',
          join(input.tree.dir, 'scripts/kconfig/merge_config.sh'),
          '-m',
          '-O',
          tmp,
          join(tmp, '.config'),
          ...frags,
          generated,
        ],
        {
          env: { ARCH: kernelArch(input.arch), SRCARCH: srcArch(input.arch) },
        },
      );
      if (merge.code !== 0)
        throw new BuildError(
          'merge_config.sh failed',
          undefined,
          (merge.stdout + merge.stderr).trim().split('\n').slice(-20),
        );
      await make(input.tree.dir, tmp, [...args, 'olddefconfig'], 'make olddefconfig');
      writeFileSync(join(tmp, 'config'), readFileSync(join(tmp, '.config')));
      commit(tmp, final);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  const text = readFileSync(join(final, 'config'), 'utf8');
  const effective: Record<string, string> = {};
  for (const e of parseConfig(text).entries) effective[e.symbol] = e.value;
  // The same config can be requested from other files and lines: the report (which names them) is
  // cached per set of requests, not per config.
  const reportFile = join(final, `dropped-${sha256Json(requested).slice(0, 16)}.json`);
  let dropped: Dropped[];
  if (existsSync(reportFile)) dropped = JSON.parse(readFileSync(reportFile, 'utf8')) as Dropped[];
  else {
    const db = loadKconfig(
      (rel) => {
        try {
          return readFileSync(join(input.tree.dir, rel), 'utf8');
        } catch {
          return undefined;
        }
      },
      { SRCARCH: srcArch(input.arch), ARCH: kernelArch(input.arch) },
    );
    dropped = findDropped(requested, effective, db);
    writeFileSync(reportFile, JSON.stringify(dropped));
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
