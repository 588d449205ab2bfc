import { machine } from 'node:os';
import {
  blockingDrops,
  build,
  type Manifest,
  type Prepared,
  type PrepareInput,
  prepare,
} from '../../compile/build.js';
import { cacheDirs, cacheRoot } from '../../compile/cache.js';
import { gather } from '../../facts/gather.js';
import type { HostFacts } from '../../facts/types.js';
import { openHost } from '../../host/open.js';
import { serialiseConfig } from '../../kconfig/config.js';
import type { Dropped } from '../../kconfig/dropped.js';
import { runStages } from '../../render/progress.js';
import type { Diagnostic } from '../../spec/diagnostic.js';
import { resolvePath } from '../../spec/paths.js';
import { locate } from '../../spec/source.js';
import { type HostFlags, hostOptions } from '../host-options.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { loadSpec, reporter } from '../kernelfile.js';

export interface BuildFlags extends Partial<HostFlags> {
  configOnly?: boolean;
  json?: boolean;
  arch?: string;
}

/**
 * The target host's facts, when the build depends on them: `base: running` starts from its running
 * config, and its architecture is the default target. Only gathered when --host is given.
 */
export async function targetFacts(
  flags: Partial<HostFlags>,
  io: Io,
  needed: boolean,
): Promise<HostFacts | undefined> {
  const host = flags.host ?? 'local';
  if (host === 'local' && !needed) return undefined;
  const t = await openHost(host, hostOptions({ ...flags, host } as HostFlags, io));
  try {
    return await gather(t);
  } finally {
    await t.close();
  }
}

export function runningConfigText(facts: HostFacts | undefined, display: string): string | undefined {
  if (!facts) return undefined;
  if (!facts.config.source)
    throw new UserError(
      `${display}: base: running, but ${facts.host} has no readable running config (no /proc/config.gz, no /boot/config-${facts.system.running})`,
      'enable CONFIG_IKCONFIG_PROC on that host, or use base: {file: …} with its config',
    );
  return serialiseConfig(Object.entries(facts.config.options).map(([symbol, value]) => ({ symbol, value })));
}

/** The `uname -m` name of this machine. */
export function localArch(): string {
  return machine();
}

const DROP_HINTS: Partial<Record<Dropped['kind'], string>> = {
  undefined: 'check the name: symbols are renamed and removed between kernel versions',
  depends: 'also request what it depends on (or drop the request)',
  modules: 'set CONFIG_MODULES=y, or ask for y instead of m',
  'no-prompt': 'request one of the options that select it instead',
  'invalid-value': "use a value of the symbol's type",
  range: 'use a value inside the allowed range',
  choice: 'a choice takes one member: unset the other one',
};

export function dropDiagnostic(d: Dropped, severity: 'error' | 'warning'): Diagnostic {
  return {
    severity,
    code: 'config-dropped',
    message: `${d.symbol}=${d.requested.replace(/^"|"$/g, '')} dropped (got ${d.got}): ${d.reason}`,
    file: d.origin.file,
    line: d.origin.line,
    column: d.origin.column ?? 1,
    hint:
      severity === 'error'
        ? `${DROP_HINTS[d.kind] ?? 'fix the cause above, or drop the request'}; \`onDropped: warn\` (on the option, or config.onDropped) makes this a warning`
        : undefined,
  };
}

/**
 * Everything `prepare` needs from a validated kernelfile and the command line, for `build` and
 * `verify` alike: the cache, the target (its facts when `base: running` or --host asks for them),
 * paths relative to the kernelfile, and where each `config.set` option is written.
 */
export async function prepareInput(
  loaded: Awaited<ReturnType<typeof loadSpec>>,
  flags: Partial<HostFlags> & { arch?: string },
  io: Io,
): Promise<Omit<PrepareInput, 'progress'>> {
  const { kf, home, result } = loaded;
  if (!result.ok)
    throw new UserError(
      `${kf.display} is not valid`,
      `run \`kernelfile validate ${kf.display}\` and fix what it reports`,
    );
  const { spec, source } = result.value;
  // The target host (default: this machine) matters for `base: running` and the default arch.
  const facts = await targetFacts(flags, io, spec.config?.base === 'running');
  return {
    spec,
    arch: flags.arch ?? spec.kernel.arch ?? facts?.system.arch ?? localArch(),
    dirs: cacheDirs(cacheRoot(spec.build?.cacheDir, io.env)),
    resolvePath: (w) => resolvePath(w, { kernelfile: kf.abs, home }),
    runningConfig: spec.config?.base === 'running' ? runningConfigText(facts, kf.display) : undefined,
    setOrigin: (symbol) => {
      const at = locate(source, ['config', 'set', symbol], { key: true });
      return { file: kf.display, line: at.line, column: at.column };
    },
  };
}

export async function run(file: string | undefined, flags: BuildFlags, io: Io): Promise<ExitCode> {
  const loaded = await loadSpec(file, io);
  const { result } = loaded;
  const { render, show, rejectInvalid } = reporter(loaded, io);
  const { style, displayName } = render;
  if (rejectInvalid() || !result.ok) return 1;
  const { spec } = result.value;
  const input = await prepareInput(loaded, flags, io);
  const ctx: { prepared?: Prepared; artifacts?: { dir: string; manifest: Manifest; cached: boolean } } = {};
  const tty = Boolean(process.stderr.isTTY) && !flags.json;
  await runStages(
    [
      {
        title: 'Source, patches and Kconfig resolution',
        run: async (c, update) => {
          c.prepared = await prepare({ ...input, progress: update });
        },
      },
      {
        title: 'Compile and collect artifacts',
        skip: (c) =>
          flags.configOnly
            ? '--config-only: not compiling'
            : c.prepared && blockingDrops(c.prepared).length
              ? 'requested config values were dropped'
              : false,
        run: async (c, update) => {
          const p = c.prepared as Prepared;
          const started = Date.now();
          c.artifacts = await build(p, (e) => {
            const s = Math.round((Date.now() - started) / 1000);
            update(
              `${e.stage}: ${e.compiled} files, ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`,
            );
          });
        },
      },
    ],
    ctx,
    { tty },
  );
  const p = ctx.prepared as Prepared;
  const errors = blockingDrops(p).map((d) => dropDiagnostic(d, 'error'));
  const warnings = p.config.dropped
    .filter((d) => d.onDropped === 'warn')
    .map((d) => dropDiagnostic(d, 'warning'));
  for (const r of p.config.redefinitions)
    warnings.push({
      severity: 'warning',
      code: 'config-redefined',
      message: `${r.symbol} is set to ${r.later.value} here and to ${r.earlier.value} at ${displayName(r.earlier.origin.file)}:${r.earlier.origin.line}; the later one wins`,
      file: r.later.origin.file,
      line: r.later.origin.line,
      column: r.later.origin.column ?? 1,
    });
  if (flags.json) {
    io.out(
      `${JSON.stringify(
        {
          formatVersion: 1,
          buildId: p.buildId,
          release: p.release,
          arch: p.arch,
          configKey: p.config.key,
          dropped: p.config.dropped,
          artifacts: ctx.artifacts
            ? (() => {
                // The file list (thousands of headers) stays in manifest.json.
                const { files, ...manifest } = ctx.artifacts.manifest;
                return {
                  dir: ctx.artifacts.dir,
                  cached: ctx.artifacts.cached,
                  fileCount: files.length,
                  manifest,
                };
              })()
            : null,
        },
        null,
        2,
      )}\n`,
    );
  }
  show([...errors, ...warnings]);
  if (!flags.json) {
    const base = spec.config?.base ?? 'defconfig';
    const set = Object.keys(spec.config?.set ?? {}).length;
    const frags = spec.config?.fragments?.length ?? 0;
    const options = Object.values(p.config.effective).filter((v) => v !== 'n').length;
    const lines = [
      [
        'Source',
        `Linux ${spec.kernel.version}, ${p.patches.length} patch${p.patches.length === 1 ? '' : 'es'} applied`,
      ],
      [
        'Config',
        `${typeof base === 'string' ? base : base.file} + ${frags} fragment${frags === 1 ? '' : 's'} + ${set} option${set === 1 ? '' : 's'}: ${p.config.requestedCount} requested, ${p.config.dropped.length ? `${p.config.dropped.length} dropped` : 'all kept'}; ${options} options set${p.config.cached ? ' (cached)' : ''}`,
      ],
      ['Build id', p.buildId],
      ['Release', p.release],
    ];
    if (ctx.artifacts)
      lines.push([
        'Artifacts',
        `${ctx.artifacts.dir} (${ctx.artifacts.cached ? 'cache hit' : `built in ${ctx.artifacts.manifest.seconds} s`})`,
      ]);
    io.out(`${lines.map(([k, v]) => `${style('bold', `${k}:`.padEnd(11))}${v}`).join('\n')}\n`);
  }
  return errors.length ? 1 : 0;
}
