/**
 * `kernelfile verify [FILE]`: build the kernel if needed, then boot it under QEMU with a minimal
 * initramfs holding its modules and the declared DKMS modules built against it, and check from the
 * serial console that `uname -r` is the expected release and that each module loads.
 */
import { verify } from '../../engine/build.js';
import { stampOf } from '../../engine/version.js';
import type { VerifyJson } from '../../render/json-documents.js';
import { runStages } from '../../render/progress.js';
import { colored, plain } from '../../render/style.js';
import type { HostFlags } from '../host-options.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { loadSpec } from '../kernelfile.js';
import { buildTarget } from './build.js';

export interface VerifyFlags extends Partial<HostFlags> {
  accel?: 'auto' | 'kvm' | 'tcg';
  timeout?: string;
  json?: boolean;
}

export async function run(file: string | undefined, flags: VerifyFlags, io: Io): Promise<ExitCode> {
  const style = io.color ? colored : plain;
  const loaded = await loadSpec(file, io);
  const { kf } = loaded;
  const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new UserError(`--timeout must be a positive number of seconds, got \`${flags.timeout}\``);
  const ctx: { v?: Awaited<ReturnType<typeof verify>> } = {};
  await runStages(
    [
      {
        title: 'Build (or find) the kernel, then boot it under QEMU',
        run: async (c, update) => {
          c.v = await verify(loaded, buildTarget(flags, io), io, {
            accel: flags.accel ?? 'tcg',
            ...(timeoutMs ? { timeoutMs } : {}),
            progress: update,
          });
        },
      },
    ],
    ctx,
    { tty: io.stderrIsTTY && !flags.json },
  );
  const v = ctx.v as Awaited<ReturnType<typeof verify>>;
  if (flags.json) {
    const doc: VerifyJson = { formatVersion: 1, kind: 'kernelfile-verify', ...stampOf(io), ...v };
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return v.ok ? 0 : 1;
  }
  const lines = [
    `${style(v.ok ? 'ok' : 'error', v.ok ? 'PASS' : 'FAIL')}  ${kf.display}: booted ${v.release ?? '(no release reported)'} under QEMU (${v.accel}) in ${v.timings.boot.toFixed(1)} s`,
    ...v.modules.map(
      (m) =>
        `  ${m.status === 'ok' ? style('ok', 'ok     ') : m.status === 'skipped' ? style('dim', 'skipped') : style('error', m.status.padEnd(7))} ${m.name}${m.version ? ` ${m.version}` : ''}: ${m.detail}`,
    ),
    ...(v.signatures
      ? [
          `  ${v.signatures.enforced ? style('ok', 'ok     ') : style('error', 'failed ')} signatures enforced (module.sig_enforce=1): ${v.signatures.enforced ? 'every module above loaded signed' : 'not enforced in the VM'}`,
          ...v.signatures.checks.map(
            (c) =>
              `  ${c.refused ? style('ok', 'ok     ') : style('error', 'failed ')} ${c.label === 'unsigned' ? 'unsigned copy' : 'copy signed by another key'} of ${c.module} ${c.refused ? 'refused' : 'NOT refused'}: ${c.detail}`,
          ),
        ]
      : []),
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
