/** `kernelfile build [FILE]`: prepare (source, patches, Kconfig resolution) and compile once per build. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Built,
  buildDiagnostics,
  checkReproducible,
  compile,
  discardPrepared,
  distccSummary,
  type Prepared,
  prepareBuild,
  type ReproducibleCheck,
  seedSummary,
} from '../../engine/build.js';
import { prunableBytes } from '../../engine/cache.js';
import { checkLock, type LockReport } from '../../engine/lock.js';
import { stampOf } from '../../engine/version.js';
import { bytes } from '../../render/bytes.js';
import type { BuildJson } from '../../render/json-documents.js';
import { runStages } from '../../render/progress.js';
import type { HostFlags } from '../host-options.js';
import { hostOptions } from '../host-settings.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { printJsonError } from '../json-error.js';
import { loadSpec, reporter } from '../kernelfile.js';
import { type LockFlags, lockOptions, showLocks } from '../lock.js';

export interface BuildFlags extends Partial<HostFlags>, LockFlags {
  configOnly?: boolean;
  checkReproducible?: boolean;
  clean?: boolean;
  json?: boolean;
  arch?: string;
}

/** The build's target as the host options give it (its facts matter for `base: running`). */
export function buildTarget(flags: Partial<HostFlags> & { arch?: string }, io: Io) {
  const host = flags.host ?? 'local';
  return {
    host,
    hostOptions: hostOptions({ ...flags, host } as HostFlags, io),
    ...(flags.arch ? { arch: flags.arch } : {}),
  };
}

export async function run(file: string | undefined, flags: BuildFlags, io: Io): Promise<ExitCode> {
  const loaded = await loadSpec(file, io);
  const { result } = loaded;
  const { render, show, rejectInvalid } = reporter(loaded, io);
  const { style, displayName } = render;
  if (rejectInvalid() || !result.ok) {
    if (flags.json && !result.ok)
      printJsonError(io, 'build', {
        message: `${loaded.kf.display} is not valid`,
        hint: `fix it first (kernelfile validate ${loaded.kf.display})`,
        diagnostics: result.errors,
        displayName,
      });
    return 1;
  }
  const { spec } = result.value;
  const target = buildTarget(flags, io);
  const ctx: { prepared?: Prepared; artifacts?: Built; lock?: LockReport; reproducible?: ReproducibleCheck } =
    {};
  const locking = lockOptions(flags);
  if (flags.checkReproducible && flags.configOnly)
    throw new UserError('--check-reproducible builds twice; --config-only builds nothing', 'use one of them');
  const tty = io.stderrIsTTY && !flags.json;
  try {
    await runStages(
      [
        {
          title: 'Source, patches and Kconfig resolution',
          run: async (c, update) => {
            c.prepared = await prepareBuild(loaded, target, io, update, {
              // --clean never seeds: nothing is copied ahead.
              compileNext: !flags.configOnly && flags.clean !== true,
            });
            c.lock = await checkLock(loaded, [c.prepared], [], locking);
          },
        },
        // --config-only never compiles: no compile stage to show as pending or skipped.
        ...(flags.configOnly
          ? []
          : [
              {
                title: 'Compile and collect artifacts',
                skip: (c: typeof ctx) =>
                  c.lock?.refused
                    ? '--locked: the lock does not hold'
                    : c.prepared && buildDiagnostics(c.prepared).errors.length
                      ? 'requested config values were dropped'
                      : false,
                run: async (c: typeof ctx, update: (m: string) => void) => {
                  const p = c.prepared as Prepared;
                  const started = Date.now();
                  c.artifacts = await compile(
                    p,
                    (e) => {
                      const s = Math.round((Date.now() - started) / 1000);
                      update(
                        `${e.stage}: ${e.compiled} files, ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s${e.distcc ? ` (distcc: ${distccSummary(e.distcc)})` : ''}`,
                      );
                    },
                    { clean: flags.clean === true },
                  );
                },
              },
            ]),
        ...(flags.checkReproducible
          ? [
              {
                title: 'Build again elsewhere and compare every artifact',
                skip: (c: typeof ctx) => (c.artifacts ? false : 'nothing was built'),
                run: async (c: typeof ctx, update: (m: string) => void) => {
                  const started = Date.now();
                  c.reproducible = await checkReproducible(
                    c.prepared as Prepared,
                    (e) => {
                      const s = Math.round((Date.now() - started) / 1000);
                      update(
                        `${e.stage}: ${e.compiled} files, ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`,
                      );
                    },
                    c.artifacts,
                  );
                },
              },
            ]
          : []),
      ],
      ctx,
      { tty },
    );
  } finally {
    // The seed copied ahead for a compile that did not run (--locked refused, values dropped).
    if (ctx.prepared) await discardPrepared(ctx.prepared);
  }
  const p = ctx.prepared as Prepared;
  const { errors, warnings } = buildDiagnostics(p);
  for (const w of ctx.artifacts?.store?.warnings ?? [])
    warnings.push({
      severity: 'warning',
      code: 'store',
      message: w,
      hint: 'the build went on without the store (docs/security.md, "The artifact store")',
    });
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
    const doc: BuildJson = {
      formatVersion: 1,
      kind: 'kernelfile-build',
      ...stampOf(io),
      buildId: p.buildId,
      release: p.release,
      arch: p.arch,
      configKey: p.config.key,
      dropped: p.config.dropped,
      artifacts: ctx.artifacts
        ? (() => {
            // The file list (thousands of headers) stays in manifest.json.
            const { files, ...manifest } = ctx.artifacts.manifest;
            const provenance = join(ctx.artifacts.dir, 'provenance.json');
            return {
              dir: ctx.artifacts.dir,
              cached: ctx.artifacts.cached,
              fileCount: files.length,
              manifest,
              provenance: existsSync(provenance) ? provenance : null,
              store: ctx.artifacts.store ?? null,
            };
          })()
        : null,
      ...(ctx.lock ? { lock: ctx.lock } : {}),
      ...(ctx.reproducible
        ? {
            reproducible: {
              identical: ctx.reproducible.identical,
              compared: ctx.reproducible.compared,
              first: {
                dir: ctx.reproducible.first.dir,
                cached: ctx.reproducible.first.cached,
                seconds: ctx.reproducible.first.seconds,
              },
              second: ctx.reproducible.second,
              varied: ctx.reproducible.varied,
              differences: ctx.reproducible.differences,
              ...(ctx.reproducible.explainedWith ? { explainedWith: ctx.reproducible.explainedWith } : {}),
            },
          }
        : {}),
    };
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
  }
  show([...errors, ...warnings]);
  const refused = ctx.lock ? showLocks([ctx.lock], io) : false;
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
        `${ctx.artifacts.dir} (${ctx.artifacts.store?.pulled ? `pulled from store ${ctx.artifacts.store.url}` : ctx.artifacts.cached ? 'cache hit' : `built in ${ctx.artifacts.manifest.seconds} s`})`,
      ]);
    const st = ctx.artifacts?.store;
    if (st && !st.pulled)
      lines.push([
        'Store',
        st.pushed
          ? `pushed to ${st.url}: ${st.pushed.uploaded} blob${st.pushed.uploaded === 1 ? '' : 's'} sent (${bytes(st.pushed.bytes)}), the others already there`
          : st.present
            ? `${st.url} has this build`
            : `${st.url}: not pushed (see the warning)`,
      ]);
    if (ctx.artifacts && !ctx.artifacts.cached) {
      const { seed, compiled } = ctx.artifacts.manifest;
      lines.push([
        'Object tree',
        seed
          ? `seeded from ${seed.release} (${seedSummary({ samePatches: seed.samePatches, differing: seed.differingOptions })}): make recompiled ${compiled ?? '?'} files`
          : `fresh${flags.clean ? ' (--clean)' : ''}: make compiled ${compiled ?? '?'} files`,
      ]);
      const d = ctx.artifacts.manifest.distcc;
      if (d)
        lines.push([
          'Distcc',
          `compiles: ${distccSummary(d)} (hosts checked in ${d.preflightSeconds.toFixed(1)} s)`,
        ]);
      // What the cache holds that no later build needs (object trees are large): said once per compile.
      const prunable = prunableBytes(p.dirs.root, spec.build?.keepObjectTrees);
      if (prunable > 0) lines.push(['Cache', `\`kernelfile cache prune\` would free ${bytes(prunable)}`]);
    }
    const r = ctx.reproducible;
    if (r)
      lines.push([
        'Reproducible',
        r.identical
          ? `yes: ${r.compared} files identical in two builds (first ${r.first.seconds} s${r.first.cached ? ', from the cache' : ''}; second ${r.second.seconds} s in another directory, umask ${r.varied.umask}, TZ=${r.varied.TZ}, LC_ALL=${r.varied.LC_ALL})`
          : style(
              'error',
              `NO: ${r.differences.length} of ${r.compared} files differ between two builds (the second kept in ${r.second.dir})`,
            ),
      ]);
    io.out(
      `${lines.map(([k, v]) => `${style('bold', `${k}:`.padEnd(Math.max(11, (k ?? '').length + 2)))}${v}`).join('\n')}\n`,
    );
    if (r && !r.identical) io.out(renderDifferences(r));
  }
  return errors.length || refused || (ctx.reproducible && !ctx.reproducible.identical) ? 1 : 0;
}

function renderDifferences(r: ReproducibleCheck): string {
  const out: string[] = [];
  for (const d of r.differences) {
    out.push(
      d.kind === 'differs'
        ? `  ${d.path}: differs (${d.sizes?.[0]} → ${d.sizes?.[1]} bytes)`
        : `  ${d.path}: only in the ${d.kind === 'only-first' ? 'first' : 'second'} build`,
    );
    for (const l of d.detail ?? []) out.push(`      ${l}`);
  }
  if (r.explainedWith === 'hexdump')
    out.push('  (install diffoscope for a report of what differs inside these files)');
  return `${out.join('\n')}\n`;
}
