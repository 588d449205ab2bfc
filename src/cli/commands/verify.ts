/**
 * `kernelfile verify [FILE]`: build the kernel if needed, then boot it under QEMU with a minimal
 * initramfs holding its modules and the declared DKMS modules built against it, and check from the
 * serial console that `uname -r` is the expected release and that each module loads.
 */
import { join } from 'node:path';
import { blockingDrops, build, prepare } from '../../compile/build.js';
import { BuildError } from '../../compile/errors.js';
import { runStages } from '../../render/progress.js';
import { colored, plain } from '../../render/style.js';
import { loadArtifacts, verifyKernel } from '../../verify/verify.js';
import type { HostFlags } from '../host-options.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { loadSpec } from '../kernelfile.js';
import { dropDiagnostic, prepareInput } from './build.js';

export interface VerifyFlags extends Partial<HostFlags> {
  accel?: 'auto' | 'kvm' | 'tcg';
  timeout?: string;
  json?: boolean;
}

export async function run(file: string | undefined, flags: VerifyFlags, io: Io): Promise<ExitCode> {
  const style = io.color ? colored : plain;
  const loaded = await loadSpec(file, io);
  const input = await prepareInput(loaded, flags, io);
  const { kf } = loaded;
  const { spec, dirs, resolvePath: resolve } = input;
  const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new UserError(`--timeout must be a positive number of seconds, got \`${flags.timeout}\``);
  const ctx: { dir?: string; release?: string } = {};
  await runStages(
    [
      {
        title: 'Build (or find) the kernel',
        run: async (c, update) => {
          const p = await prepare({ ...input, progress: update });
          const drops = blockingDrops(p);
          if (drops.length)
            throw new BuildError(
              `${drops.length} requested config value(s) did not survive Kconfig, e.g. ${dropDiagnostic(drops[0] as (typeof drops)[number], 'error').message}`,
              `run \`kernelfile build ${kf.display}\` for the full report`,
            );
          const a = await build(p, (e) => update(`${e.stage}: ${e.compiled} files`));
          c.dir = a.dir;
          c.release = a.manifest.release;
        },
      },
    ],
    ctx,
    { tty: Boolean(process.stderr.isTTY) && !flags.json },
  );
  const artifacts = await loadArtifacts(ctx.dir as string);
  const modules = (spec.modules ?? []).map((m) =>
    'path' in m
      ? { name: m.name, version: m.version, path: resolve(m.path) }
      : { name: m.name, version: m.version, installed: true as const },
  );
  const v = await verifyKernel({
    artifacts,
    modules,
    initramfsModules: spec.initramfs?.modules ?? [],
    workDir: join(dirs.root, 'verify', artifacts.buildId ?? (ctx.release as string)),
    ...(timeoutMs ? { timeoutMs } : {}),
    accel: flags.accel ?? 'tcg',
  });
  if (flags.json) {
    io.out(`${JSON.stringify(v, null, 2)}\n`);
    return v.ok ? 0 : 1;
  }
  const lines = [
    `${style(v.ok ? 'ok' : 'error', v.ok ? 'PASS' : 'FAIL')}  ${kf.display}: booted ${v.release ?? '(no release reported)'} under QEMU (${v.accel}) in ${v.timings.boot.toFixed(1)} s`,
    ...v.modules.map(
      (m) =>
        `  ${m.status === 'ok' ? style('ok', 'ok     ') : m.status === 'skipped' ? style('dim', 'skipped') : style('error', m.status.padEnd(7))} ${m.name}${m.version ? ` ${m.version}` : ''}: ${m.detail}`,
    ),
    ...v.problems.map((p) => `  ${style('error', 'problem')} ${p}`),
    ...v.notes.map((n) => `  ${style('dim', 'note')}    ${n}`),
    ...v.modules
      .filter((m) => m.logTail?.length)
      .flatMap((m) => [
        `  ${m.name} make.log (${m.makeLog}), last lines:`,
        ...(m.logTail ?? []).map((l) => `    | ${l}`),
      ]),
    `  console log: ${v.consoleLog}`,
  ];
  io.out(`${lines.join('\n')}\n`);
  return v.ok ? 0 : 1;
}
