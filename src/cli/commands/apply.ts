/**
 * `kernelfile apply [FILE]`: plan (or read a saved plan and refuse it when stale), show it, ask,
 * then converge the host with the executor. Nothing on the host changes before every check that
 * can run first has passed: the plan's problems, dropped Kconfig values, the build, /boot's room.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type ExecuteResult, execute, StepError, type StepEvent } from '../../apply/executor.js';
import { bootId, requestReboot, waitForReboot } from '../../apply/reboot.js';
import { packDir } from '../../apply/ship.js';
import { build, type Manifest } from '../../compile/build.js';
import { BuildError } from '../../compile/errors.js';
import { buildDkmsTarball } from '../../dkms/tarball.js';
import { parseHostAddress } from '../../host/address.js';
import { runLocal } from '../../host/local.js';
import { runOk, type Transport } from '../../host/transport.js';
import { parsePlanFile, staleReasons } from '../../plan/planfile.js';
import { bootBytesNeeded } from '../../plan/planner.js';
import { type DkmsTarballStep, type HostPlan, hasChanges, type PlanFile } from '../../plan/types.js';
import { renderHostPlan } from '../../render/plan-text.js';
import { colored, plain } from '../../render/style.js';
import type { ExitCode, Io } from '../io.js';
import { UserError } from '../io.js';
import { loadSpec, reporter } from '../kernelfile.js';
import { openAndGather, type PlanFlags, type PlannedHost, planHost } from '../plan-host.js';
import { planWithProgress } from './plan.js';

export interface ApplyFlags extends PlanFlags {
  yes?: boolean;
  reboot?: boolean;
  rebootTimeout?: string;
}

function readSavedPlan(path: string): PlanFile | undefined {
  if (!existsSync(path) || statSync(path).size > 64 * 1024 * 1024) return undefined;
  const head = readFileSync(path, 'utf8');
  if (!head.trimStart().startsWith('{')) return undefined;
  try {
    return parsePlanFile(head);
  } catch (e) {
    throw new UserError(
      `${path} is not a usable plan: ${(e as Error).message}`,
      'make a new one with `kernelfile plan --out FILE`',
    );
  }
}

export async function confirm(host: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\nApply these changes to ${host}? Only "yes" is accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** A DKMS module's source as a tarball whose top level holds dkms.conf. */
export async function packSource(from: string, scratch: string): Promise<string> {
  const out = join(scratch, `src-${Math.random().toString(36).slice(2)}.tar`);
  if (statSync(from).isDirectory()) {
    await packDir(from, out);
    return out;
  }
  const dir = mkdtempSync(join(scratch, 'src-'));
  const x = await runLocal(['tar', '-xf', from, '-C', dir]);
  if (x.code !== 0) throw new UserError(`cannot unpack ${from}: ${x.stderr.trim()}`);
  const found = await runLocal(['find', dir, '-maxdepth', '3', '-name', 'dkms.conf', '-type', 'f']);
  const conf = found.stdout
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => a.length - b.length)[0];
  if (!conf) throw new UserError(`${from} holds no dkms.conf`);
  await packDir(conf.slice(0, -'/dkms.conf'.length), out);
  return out;
}

export function spaceCheck(p: PlannedHost, manifest: Manifest): void {
  const boot = p.facts.space.boot;
  if (!boot) return;
  const files = manifest.files.filter((f) => ['vmlinuz', 'System.map', 'config'].includes(f.path));
  const need = bootBytesNeeded(
    { ...p.desired, artifacts: { cached: true, bootBytes: files.reduce((n, f) => n + f.size, 0) } },
    p.facts,
  );
  if (boot.freeBytes < need.bytes * 1.1)
    throw new UserError(
      `${boot.mountPoint} on ${p.facts.host} has ${(boot.freeBytes / 1048576).toFixed(1)} MiB free; the new kernel needs about ${((need.bytes * 1.1) / 1048576).toFixed(1)} MiB. Nothing was changed on the host`,
      'free space in /boot, or make it larger',
    );
}

export function progressPrinter(io: Io, host: string): (e: StepEvent) => void {
  return (e) => {
    if (e.kind === 'change')
      io.err(`${host}: ${e.change.id} (${e.index + 1}/${e.total}): ${e.change.reason}\n`);
    else if (e.kind === 'step' && e.state === 'start' && (e.step.kind === 'build' || e.step.kind === 'ship'))
      io.err(`${host}:   … ${e.step.title}\n`);
    else if (e.kind === 'step' && e.state === 'done')
      io.err(
        `${host}:   ✓ ${e.step.title}${e.detail ? `: ${e.detail}` : ''} (${((e.ms ?? 0) / 1000).toFixed(1)} s)\n`,
      );
  };
}

/** --reboot: reboot into the new kernel, wait, and make it the default only if it came up. */
export async function rebootAndSettle(
  loaded: Awaited<ReturnType<typeof loadSpec>>,
  flags: ApplyFlags,
  io: Io,
  t: Transport,
  release: string,
  timeoutMs: number,
): Promise<ExitCode> {
  const before = { bootId: await bootId(t) };
  io.err(`${t.name}: rebooting into ${release} (one-time boot; the default is unchanged until it is up)\n`);
  await requestReboot(t);
  const outcome = await waitForReboot(
    {
      probe: async () => {
        const { transport } = await openAndGather({ ...flags, connectTimeout: '10' }, io);
        try {
          return {
            release: (await runOk(transport, ['uname', '-r'])).stdout.trim(),
            bootId: await bootId(transport),
          };
        } finally {
          await transport.close();
        }
      },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    },
    before,
    release,
    timeoutMs,
  );
  if (!outcome.ok)
    throw new UserError(
      `${t.name} ${outcome.reason}`,
      'look at the host console; the next apply arms the trial boot again',
    );
  io.err(`${t.name}: up again in ${outcome.seconds} s, running ${release}\n`);
  const again = await planHost(loaded, { ...flags, trial: true }, io);
  try {
    await execute(
      again.transport,
      again.plan,
      {
        build: async () => {
          throw new UserError('nothing should need building after the reboot');
        },
        packSource: async () => {
          throw new UserError('nothing should need uploading after the reboot');
        },
        dkmsTarball: async () => {
          throw new UserError('nothing should need building after the reboot');
        },
        now: () => new Date().toISOString(),
      },
      progressPrinter(io, again.transport.name),
    );
  } finally {
    await again.transport.close();
  }
  io.out(`${t.name} runs ${release}, now its default boot entry.\n`);
  return 0;
}

export async function run(file: string | undefined, flags: ApplyFlags, io: Io): Promise<ExitCode> {
  const saved = file ? readSavedPlan(resolve(io.cwd, file)) : undefined;
  const kernelfile = saved ? saved.kernelfile.path : file;
  const loaded = await loadSpec(kernelfile, io);
  const { kf } = loaded;
  const { show, rejectInvalid } = reporter(loaded, io);
  if (rejectInvalid()) return 1;
  const tty = Boolean(process.stderr.isTTY);
  const host = flags.host ?? 'local';
  const kind = flags.reboot ? parseHostAddress(host).kind : 'ssh';
  if (kind === 'root')
    throw new UserError(`--reboot needs a host reached over SSH; ${host} is a root filesystem directory`);
  if (kind === 'local')
    throw new UserError(
      '--reboot would reboot this machine, and kernelfile could not wait for it',
      'apply to this machine without --reboot, then reboot it yourself',
    );
  const rebootTimeoutMs = Number(flags.rebootTimeout ?? '600') * 1000;
  if (!Number.isFinite(rebootTimeoutMs) || rebootTimeoutMs <= 0)
    throw new UserError(
      `--reboot-timeout must be a positive number of seconds, got \`${flags.rebootTimeout}\``,
    );
  // With --reboot the new entry boots once first, and becomes the default only once it came up.
  const planned = await planWithProgress(loaded, { ...flags, trial: flags.trial || flags.reboot }, io, tty);
  const t = planned.transport;
  try {
    show(planned.diagnostics);
    if (planned.diagnostics.some((d) => d.severity === 'error')) {
      io.err('kernelfile: requested config values would not survive Kconfig: nothing was changed\n');
      return 1;
    }
    let plan: HostPlan = planned.plan;
    if (saved) {
      const host =
        saved.hosts.find((h) => h.host === t.name) ?? (saved.hosts.length === 1 ? saved.hosts[0] : undefined);
      if (!host)
        throw new UserError(
          `the plan ${file} has no plan for ${t.name}`,
          `plan for this host: kernelfile plan --host ${t.name} --out FILE`,
        );
      const stale = staleReasons(saved, host, {
        kernelfileSha256: planned.desired.kernelfile.sha256,
        factsDigest: planned.facts.digest,
        factsFamilies: planned.plan.factsFamilies,
      });
      if (stale.length)
        throw new UserError(
          `the saved plan ${file} is stale: ${stale.join('; ')}. Nothing was changed`,
          `review a new plan: kernelfile plan ${kf.display} --host ${flags.host ?? 'local'} --out ${file}`,
        );
      plan = host;
    }
    const style = io.color ? colored : plain;
    io.out(renderHostPlan(plan, { style, configDiff: 'none' }));
    if (plan.problems.length) return 1;
    if (!hasChanges(plan)) return 0;
    if (!flags.yes) {
      if (!process.stdin.isTTY)
        throw new UserError(
          'apply changes a host: confirm with --yes (standard input is not a terminal, so kernelfile cannot ask)',
        );
      if (!(await confirm(t.name))) {
        io.err('Not applied: the answer was not "yes".\n');
        return 1;
      }
    }
    const scratch = mkdtempSync(join(tmpdir(), 'kernelfile-apply-'));
    const started = Date.now();
    let done: ExecuteResult;
    try {
      const controller = {
        build: async (buildId: string, progress: (m: string) => void) => {
          if (buildId !== planned.prepared.buildId)
            throw new UserError(
              `the plan wants build ${buildId.slice(0, 12)}, the kernelfile now resolves to ${planned.prepared.buildId.slice(0, 12)}`,
              'make a new plan',
            );
          const a = await build(planned.prepared, (e) => progress(`${e.stage}: ${e.compiled} files`));
          spaceCheck(planned, a.manifest);
          return a;
        },
        packSource: (from: string) => packSource(from, scratch),
        dkmsTarball: (step: DkmsTarballStep, artifactsDir: string, onLine: (l: string) => void) =>
          buildDkmsTarball({ ...step, artifactsDir, workDir: scratch, onLine }),
        now: () => new Date().toISOString(),
      };
      if (tty) {
        const { runSequence } = await import('../../render/progress.js');
        const changes = plan.changes.filter((c) => c.action !== 'noop' && c.steps.length > 0);
        done = await runSequence(
          changes.map((c) => `${c.id}: ${c.reason}`),
          (report) =>
            execute(t, plan, controller, (e) => {
              if (e.kind === 'change') report.start(e.index);
              else if (e.kind === 'step' && e.state === 'start') report.output(e.step.title);
              else if (e.kind === 'line') report.output(`${e.step.title}: ${e.line}`);
            }),
        );
      } else done = await execute(t, plan, controller, progressPrinter(io, t.name));
    } catch (e) {
      if (e instanceof StepError)
        throw new BuildError(
          e.message,
          'the previous default boot entry is unchanged; fix the cause and run apply again: it resumes where this one stopped',
          e.details,
        );
      throw e;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    io.out(
      `\nApply complete: ${done.changes} change${done.changes === 1 ? '' : 's'} on ${t.name} (${done.steps} steps) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
    );
    if (flags.reboot && planned.facts.system.running !== plan.summary.release)
      return await rebootAndSettle(loaded, flags, io, t, plan.summary.release, rebootTimeoutMs);
    return 0;
  } finally {
    await t.close();
  }
}
