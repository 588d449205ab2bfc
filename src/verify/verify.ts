/**
 * `verify`: the smoke test a user runs before touching any host. From an artifacts directory:
 *
 *   1. build each declared DKMS module (`path`) against the artifacts' headers with the real dkms
 *      and trees of our own (dkms-build.ts); `installed: true` modules live on hosts: skipped;
 *   2. make a minimal initramfs: busybox-static, the kernel's modules plus the DKMS ones, depmod
 *      output, an /init that prints `KF-VERIFY` markers (initramfs-image.ts);
 *   3. boot it under QEMU (qemu.ts): TCG by default; `auto` tries KVM when /dev/kvm opens and falls
 *      back to TCG once when that boot does not reach /init;
 *   4. read the console: pass when `uname -r` is the expected release and every module loaded.
 *
 * Only x86_64 artifacts for now. Work files (dkms trees, initramfs, console.log) stay in workDir.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BuildError } from '../compile/errors.js';
import { type BuildSigning, moduleSigner, stripSignature } from '../compile/signing.js';
import {
  buildDkmsModule,
  type DkmsBuildOutcome,
  type DkmsModuleSpec,
  diffSnapshots,
  hostTreesSnapshot,
  makeDkmsTrees,
} from '../dkms/build.js';
import { onPath, runLocal } from '../host/local.js';
import { type ArtifactsInfo, configValue } from './artifacts.js';
import { MARKER, MODULE_NAME_RE, makeVerifyInitramfs } from './initramfs-image.js';
import { type Accel, bootQemu, kvmAvailable, type QemuBootResult } from './qemu.js';

export type { ArtifactsInfo } from './artifacts.js';
export { loadArtifacts } from './artifacts.js';

export type VerifyModule = DkmsModuleSpec;

export interface VerifyOptions {
  artifacts: ArtifactsInfo;
  /** The kernelfile's `modules:` entries. */
  modules: VerifyModule[];
  /** More module names to load at boot (the kernelfile's `initramfs.modules`). */
  initramfsModules?: string[];
  /** Work files go here (created if missing; what verify creates in it is replaced on each run). */
  workDir: string;
  /** For each boot (default 120 s). */
  timeoutMs?: number;
  /** `tcg` (default), `kvm`, or `auto`: KVM when /dev/kvm opens read-write, TCG when that fails. */
  accel?: 'auto' | Accel;
  /** Progress: dkms output and the console, line by line. */
  onLine?: (line: string, source: 'dkms' | 'console') => void;
  /** The release the booted kernel must report (default: the artifacts' release). */
  expectRelease?: string;
  signal?: AbortSignal;
  /** Statically linked busybox for the initramfs (default /bin/busybox). */
  busybox?: string;
  /** Programs (defaults: found on PATH). */
  qemu?: string;
  dkms?: string;
  /**
   * The kernelfile's `signing:`: DKMS modules are signed (signing.dkms), the kernel boots with
   * module.sig_enforce=1, every in-tree module is loaded (up to MAX_IN_TREE_LOADS), and a copy of
   * one module without its signature and one signed by a throwaway key must be refused.
   */
  signing?: BuildSigning;
}

/** What the kernel and insmod say when a module's signature is refused. */
const SIGNATURE_REFUSAL = /Key was rejected|Required key not available|signature|is rejected|PKCS#7/i;

/** Under enforced signatures, in-tree modules are all loaded when there are at most this many. */
export const MAX_IN_TREE_LOADS = 32;

export interface SignatureCheck {
  /** `unsigned`: the module without its signature; `other-key`: signed by a key the kernel does not trust. */
  label: 'unsigned' | 'other-key';
  /** The module the copy was made of. */
  module: string;
  refused: boolean;
  /** insmod's error and the kernel's message (or that it loaded). */
  detail: string;
}

export interface SignatureReport {
  /** /sys/module/module/parameters/sig_enforce was Y in the VM. */
  enforced: boolean;
  checks: SignatureCheck[];
}

export type ModuleStatus = 'ok' | 'failed' | 'skipped' | 'build-failed';

export interface ModuleVerdict {
  /** The kernelfile name of a DKMS module, or a module name from initramfsModules. */
  name: string;
  version?: string;
  status: ModuleStatus;
  /** One line: how it loaded, or why not. */
  detail: string;
  /** The kernel module names loaded for it (a DKMS package may build several). */
  loadNames?: string[];
  /** For build failures: make.log (kept in workDir) and its last 40 lines. */
  makeLog?: string;
  logTail?: string[];
}

export interface VerifyResult {
  ok: boolean;
  /** What the booted kernel reported (`uname -r`); null when /init never said. */
  release: string | null;
  expectedRelease: string;
  /** Wall time of the whole verify. */
  seconds: number;
  timings: { dkms: number; initramfs: number; boot: number };
  /** The accelerator of the boot that counted. */
  accel: Accel;
  modules: ModuleVerdict[];
  /** workDir/console.log: the serial console of the boot that counted. */
  consoleLog: string;
  /** Why verify failed; empty when ok. */
  problems: string[];
  /** Worth knowing, not a failure (e.g. KVM did not work and TCG was used). */
  notes: string[];
  /** With signing: whether signatures were enforced and the copies that had to be refused were. */
  signatures?: SignatureReport;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** How long a KVM boot may stay silent before it counts as stuck (TCG prints within a second here). */
const KVM_FIRST_OUTPUT_MS = 20_000;

// ── the console ────────────────────────────────────────────────────────────────────────────────

export interface ConsoleReport {
  /** /init ran and printed its first marker. */
  started: boolean;
  uname: string | null;
  /** Per module name, in the order reported. */
  modules: Map<string, { ok: boolean; detail: string }>;
  done: boolean;
  /** Kernel panic, BUG and Oops lines. */
  panics: string[];
  /** /sys/module/module/parameters/sig_enforce as /init read it. */
  sigEnforce: string | null;
  /** Copies that had to be refused, per label. */
  refusals: Map<string, { refused: boolean; detail: string }>;
}

const MARKER_RE = new RegExp(`${MARKER} (start|uname|module|sigenforce|refuse|done)(?: (.*))?$`);
const PANIC_RE =
  /(Kernel panic - not syncing.*|\bBUG: .*|\bOops: .*|general protection fault.*|Unable to handle kernel .*)$/;

/** Read what /init and the kernel printed (markers may follow other text on a line). */
export function parseConsole(lines: readonly string[]): ConsoleReport {
  const r: ConsoleReport = {
    started: false,
    uname: null,
    modules: new Map(),
    done: false,
    panics: [],
    sigEnforce: null,
    refusals: new Map(),
  };
  for (const raw of lines) {
    const line = raw.replace(/\r/g, '');
    const panic = PANIC_RE.exec(line);
    if (panic?.[1] && !r.panics.includes(panic[1].trim())) r.panics.push(panic[1].trim());
    const m = MARKER_RE.exec(line);
    if (!m) continue;
    const rest = (m[2] ?? '').trim();
    switch (m[1]) {
      case 'start':
        r.started = true;
        break;
      case 'uname':
        r.started = true;
        r.uname = rest;
        break;
      case 'module': {
        const mm = /^(\S+) (ok|failed)(?: (.*))?$/.exec(rest);
        if (mm?.[1]) r.modules.set(mm[1], { ok: mm[2] === 'ok', detail: mm[3] ?? '' });
        break;
      }
      case 'sigenforce':
        r.sigEnforce = rest;
        break;
      case 'refuse': {
        const mm = /^(\S+) (refused|accepted)(?: (.*))?$/.exec(rest);
        if (mm?.[1]) r.refusals.set(mm[1], { refused: mm[2] === 'refused', detail: mm[3] ?? '' });
        break;
      }
      case 'done':
        r.done = true;
        break;
    }
  }
  return r;
}

// ── verify ─────────────────────────────────────────────────────────────────────────────────────

/** Build DKMS modules, make an initramfs, boot under QEMU and judge the console. */
export async function verifyKernel(opts: VerifyOptions): Promise<VerifyResult> {
  const t0 = Date.now();
  const a = opts.artifacts;
  if (a.arch !== 'x86_64')
    throw new BuildError(
      `verify supports x86_64 artifacts only for now; ${a.dir} is for ${a.arch}`,
      'boot it on real hardware of that architecture, or build for x86_64',
    );
  if (process.arch !== 'x64')
    throw new BuildError(
      `verify runs on an x86_64 controller only for now (this one is ${process.arch}): it uses this machine's busybox and compiler`,
    );
  const expectedRelease = opts.expectRelease ?? a.release;
  const workDir = resolve(opts.workDir);
  await mkdir(workDir, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const accelWanted = opts.accel ?? 'tcg';
  const toBuild = opts.modules.filter((m): m is VerifyModule & { path: string } => !m.installed && !!m.path);
  const qemu = requireProgram(opts.qemu ?? 'qemu-system-x86_64', 'qemu-system-x86');
  const depmod = requireProgram('depmod', 'kmod');
  const dkms = toBuild.length > 0 ? requireProgram(opts.dkms ?? 'dkms', 'dkms') : 'dkms';
  for (const n of opts.initramfsModules ?? [])
    if (!MODULE_NAME_RE.test(n))
      throw new BuildError(`initramfs module ${JSON.stringify(n)} is not a module name`);

  const problems: string[] = [];
  const notes: string[] = [];
  const verdicts: ModuleVerdict[] = [];
  const hasModules = a.modulesDir !== null && configValue(a.configText, 'MODULES') === 'y';

  // 1. DKMS modules.
  const tDkms = Date.now();
  const built: Array<{ spec: VerifyModule; outcome: DkmsBuildOutcome }> = [];
  const failedBuilds: DkmsBuildOutcome[] = [];
  const dkmsDir = join(workDir, 'dkms');
  const trees = await makeDkmsTrees(dkmsDir, a.release);
  const hostBefore = toBuild.length > 0 ? hostTreesSnapshot() : undefined;
  for (const m of opts.modules) {
    if (m.installed) {
      verdicts.push({
        name: m.name,
        version: m.version,
        status: 'skipped',
        detail:
          'installed: true: the module is provided on the host (by its package manager), so it cannot be built or loaded on the controller',
      });
      continue;
    }
    if (!m.path) {
      verdicts.push({
        name: m.name,
        version: m.version,
        status: 'skipped',
        detail: 'neither path nor installed: nothing to build',
      });
      continue;
    }
    if (!hasModules) {
      verdicts.push({
        name: m.name,
        version: m.version,
        status: 'build-failed',
        detail: 'the kernel has no loadable module support (CONFIG_MODULES is not set)',
      });
      continue;
    }
    if (!a.headersDir) {
      verdicts.push({
        name: m.name,
        version: m.version,
        status: 'build-failed',
        detail: `the artifacts have no headers tree (${join(a.dir, 'headers')}) to build against`,
      });
      continue;
    }
    checkAborted(opts.signal);
    const outcome = await buildDkmsModule({
      module: { ...m, path: resolve(m.path) },
      headersDir: a.headersDir,
      release: a.release,
      trees,
      workDir: dkmsDir,
      dkms,
      onLine: (l) => opts.onLine?.(`[dkms ${m.name}] ${l}`, 'dkms'),
      ...(opts.signing?.dkms ? { sign: moduleSigner(opts.signing, a.headersDir, a.configText) } : {}),
    });
    if (outcome.ok) built.push({ spec: m, outcome });
    else {
      failedBuilds.push(outcome);
      verdicts.push({
        name: m.name,
        version: m.version,
        status: 'build-failed',
        detail: outcome.detail,
        ...(outcome.makeLog ? { makeLog: outcome.makeLog } : {}),
        ...(outcome.logTail ? { logTail: outcome.logTail } : {}),
      });
    }
  }
  if (hostBefore) {
    const changed = diffSnapshots(hostBefore, hostTreesSnapshot());
    if (changed.length > 0)
      problems.push(
        `this machine's ${['/var/lib/dkms', '/lib/modules', '/usr/src'].join(', ')} changed while dkms ran (verify must not write there): ${changed.slice(0, 10).join(' ')}${changed.length > 10 ? ' …' : ''}`,
      );
  }
  const dkmsSeconds = (Date.now() - tDkms) / 1000;

  checkAborted(opts.signal);

  // 2. The initramfs. Load order: DKMS modules (as installed), then initramfs.modules.
  const dkmsNames = built.flatMap((b) => b.outcome.loadNames);
  // initramfs.modules that a DKMS module which did not build would have provided: not loaded, said why.
  const unbuilt = new Map<string, string>();
  for (const f of failedBuilds) for (const n of f.declaredNames) unbuilt.set(n, f.name);
  const extra = (opts.initramfsModules ?? []).filter((n) => !dkmsNames.includes(n) && !unbuilt.has(n));
  // Signing: every in-tree module loads under enforcement (when there are not too many), and two
  // copies of one module must be refused.
  const inTree = opts.signing && hasModules && a.modulesDir ? inTreeModules(a.modulesDir) : [];
  const inTreeLoads = inTree.length <= MAX_IN_TREE_LOADS ? inTree.map((f) => moduleName(f)) : [];
  if (inTree.length > MAX_IN_TREE_LOADS)
    notes.push(
      `${inTree.length} in-tree modules: only those in initramfs.modules are loaded (every one carries a signature: the build checked)`,
    );
  const inTreeExtra = inTreeLoads.filter((n) => !dkmsNames.includes(n) && !extra.includes(n));
  const load = [...new Set([...dkmsNames, ...extra, ...inTreeExtra])];
  const refuse = opts.signing
    ? await refusalCopies(
        opts.signing,
        a,
        built.flatMap((b) => b.outcome.koFiles)[0] ?? inTree[0],
        workDir,
        notes,
      )
    : [];
  const initrd = await makeVerifyInitramfs({
    refuse: refuse.map((r) => ({ label: r.label, file: r.file })),
    workDir,
    release: a.release,
    modulesDir: hasModules ? a.modulesDir : null,
    extraModules: built.flatMap((b) => b.outcome.koFiles),
    load,
    depmod,
    ...(opts.busybox ? { busybox: opts.busybox } : {}),
  });
  notes.push(...initrd.warnings);

  checkAborted(opts.signal);

  // 3. Boot.
  const tBoot = Date.now();
  const consoleLog = join(workDir, 'console.log');
  await rm(join(workDir, 'console-kvm.log'), { force: true });
  const boot = (accel: Accel, log: string, firstOutputTimeoutMs?: number) =>
    bootQemu({
      kernel: a.image,
      initrd: initrd.path,
      accel,
      ...(opts.signing ? { append: 'console=ttyS0 panic=-1 module.sig_enforce=1' } : {}),
      timeoutMs,
      ...(firstOutputTimeoutMs ? { firstOutputTimeoutMs } : {}),
      doneLine: new RegExp(`${MARKER} done`),
      consoleLog: log,
      qemu,
      onLine: (l) => opts.onLine?.(l, 'console'),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  let run: QemuBootResult;
  if (accelWanted === 'kvm') {
    if (!kvmAvailable())
      throw new BuildError('accel kvm: /dev/kvm cannot be opened read-write', 'use accel auto or tcg');
    run = await boot('kvm', consoleLog);
  } else if (accelWanted === 'auto' && kvmAvailable()) {
    const kvmLog = join(workDir, 'console-kvm.log');
    const first = await boot('kvm', kvmLog, KVM_FIRST_OUTPUT_MS);
    if (parseConsole(first.lines).done || first.aborted) {
      await rename(kvmLog, consoleLog);
      run = first;
    } else {
      notes.push(
        `KVM did not complete the boot (${describeFailedBoot(first)}; console in ${kvmLog}): retried with TCG`,
      );
      run = await boot('tcg', consoleLog);
    }
  } else {
    if (accelWanted === 'auto')
      notes.push('KVM is not available (/dev/kvm cannot be opened read-write): used TCG');
    run = await boot('tcg', consoleLog);
  }
  const bootSeconds = (Date.now() - tBoot) / 1000;

  // 4. Judge.
  const report = parseConsole(run.lines);
  if (run.aborted) problems.push('verify was aborted while the kernel was booting');
  if (run.timedOut)
    problems.push(
      `timed out after ${timeoutMs / 1000} s: ${report.started ? '/init did not finish' : 'the kernel did not reach the verify /init'} (QEMU was killed)`,
    );
  else if (!report.started)
    problems.push(`the kernel did not run the verify /init (${describeFailedBoot(run)})`);
  else if (!report.done) problems.push(`the VM stopped before /init finished (${describeFailedBoot(run)})`);
  for (const p of report.panics) problems.push(`kernel: ${p}`);
  if (report.started) {
    if (report.uname === null) problems.push('/init did not report the release');
    else if (report.uname !== expectedRelease)
      problems.push(`the kernel reports release ${report.uname}, expected ${expectedRelease}`);
  }

  const loadVerdict = (n: string) => {
    const r = report.modules.get(n);
    if (r) return r;
    return {
      ok: false,
      detail: report.started ? '/init did not report on it' : 'the kernel did not run /init',
    };
  };
  for (const b of built) {
    const each = b.outcome.loadNames.map((n) => ({ n, v: loadVerdict(n) }));
    const bad = each.filter((e) => !e.v.ok);
    verdicts.push({
      name: b.spec.name,
      version: b.spec.version,
      status: bad.length === 0 ? 'ok' : 'failed',
      detail:
        bad.length === 0
          ? each.map((e) => `${e.n}: ${e.v.detail}`).join('; ')
          : bad.map((e) => `${e.n}: ${e.v.detail}`).join('; '),
      loadNames: b.outcome.loadNames,
    });
  }
  for (const n of extra) {
    const v = loadVerdict(n);
    verdicts.push({ name: n, status: v.ok ? 'ok' : 'failed', detail: v.detail, loadNames: [n] });
  }
  // In-tree modules are loaded to prove their signatures: one whose own init refuses (no such
  // device in the VM) passed the signature check, which comes first.
  for (const n of inTreeExtra) {
    const v = loadVerdict(n);
    const signatureOk =
      v.ok || (report.started && !SIGNATURE_REFUSAL.test(v.detail) && /\(exit \d+\)/.test(v.detail));
    verdicts.push({
      name: n,
      status: signatureOk ? 'ok' : 'failed',
      detail: v.ok
        ? v.detail
        : signatureOk
          ? `signature accepted; the module itself refused to start: ${v.detail}`
          : v.detail,
      loadNames: [n],
    });
  }
  let signatures: SignatureReport | undefined;
  if (opts.signing) {
    const enforced = report.sigEnforce === 'Y';
    if (report.started && !enforced)
      problems.push(
        `module signatures were not enforced in the VM (sig_enforce: ${report.sigEnforce ?? 'not reported'}): is CONFIG_MODULE_SIG on?`,
      );
    const checks: SignatureCheck[] = refuse.map((r) => {
      const got = report.refusals.get(r.label);
      return {
        label: r.label,
        module: r.module,
        refused: got?.refused ?? false,
        detail: got ? (got.refused ? got.detail : 'it loaded') : '/init did not report on it',
      };
    });
    for (const c of checks)
      if (!c.refused)
        problems.push(
          `the ${c.label === 'unsigned' ? 'unsigned' : 'other-key-signed'} copy of ${c.module} was not refused: ${c.detail}`,
        );
    signatures = { enforced, checks };
  }
  const unbuiltWanted = (opts.initramfsModules ?? []).filter((n) => unbuilt.has(n) && !dkmsNames.includes(n));
  for (const n of unbuiltWanted)
    verdicts.push({
      name: n,
      status: 'build-failed',
      detail: `not loaded: it comes from DKMS module ${unbuilt.get(n)}, which does not build`,
    });
  // Declared order: the kernelfile's modules first, then initramfs.modules.
  const order = [...opts.modules.map((m) => m.name), ...(opts.initramfsModules ?? []), ...inTreeExtra];
  verdicts.sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
  for (const v of verdicts) {
    if (v.status === 'build-failed') problems.push(`module ${v.name}: does not build: ${v.detail}`);
    if (v.status === 'failed') problems.push(`module ${v.name}: does not load: ${v.detail}`);
  }

  return {
    ok: problems.length === 0,
    release: report.uname,
    expectedRelease,
    seconds: (Date.now() - t0) / 1000,
    timings: { dkms: dkmsSeconds, initramfs: initrd.seconds, boot: bootSeconds },
    accel: run.accel,
    modules: verdicts,
    consoleLog,
    problems,
    notes,
    ...(signatures ? { signatures } : {}),
  };
}

/** Every in-tree module file (.ko) of a modules_install tree, sorted. */
function inTreeModules(modulesDir: string): string[] {
  const dir = join(modulesDir, 'kernel');
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ko'))
    .map((f) => join(dir, f))
    .sort();
}

const moduleName = (file: string) => basename(file).replace(/\.ko$/, '');

/**
 * The copies that must be refused: `unsigned` (the module without its signature) and `other-key`
 * (signed with a throwaway key the kernel does not trust, by the build's own sign-file).
 */
async function refusalCopies(
  signing: BuildSigning,
  a: ArtifactsInfo,
  of: string | undefined,
  workDir: string,
  notes: string[],
): Promise<{ label: 'unsigned' | 'other-key'; module: string; file: string }[]> {
  if (!of) {
    notes.push('no module to make refused copies of: the kernel has neither DKMS nor in-tree modules');
    return [];
  }
  const dir = join(workDir, 'refuse');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const module = moduleName(of);
  const unsigned = join(dir, 'unsigned.ko');
  await writeFile(unsigned, stripSignature(await readFile(of)));
  const out: { label: 'unsigned' | 'other-key'; module: string; file: string }[] = [
    { label: 'unsigned', module, file: unsigned },
  ];
  if (!a.headersDir) {
    notes.push('no headers tree (scripts/sign-file): the copy signed by another key was not tried');
    return out;
  }
  const other = join(dir, 'other-key.ko');
  await writeFile(other, stripSignature(await readFile(of)));
  const key = join(dir, 'throwaway.key');
  const cert = join(dir, 'throwaway.crt');
  const r = await runLocal([
    'openssl',
    'req',
    '-new',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=kernelfile verify throwaway key/',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  if (r.code !== 0) {
    notes.push(
      `openssl could not make a throwaway key (${r.stderr.trim().split('\n').pop()}): the copy signed by another key was not tried`,
    );
    return out;
  }
  const throwaway: BuildSigning = {
    ...signing,
    keyFile: key,
    certificateFile: cert,
    passphrase: () => undefined,
  };
  try {
    await moduleSigner(throwaway, a.headersDir, a.configText)(other);
  } finally {
    await rm(key, { force: true });
  }
  out.push({ label: 'other-key', module, file: other });
  return out;
}

/** One phrase on why a boot produced no verdict: QEMU's own error, a timeout, silence, an exit code. */
function describeFailedBoot(r: QemuBootResult): string {
  const err = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');
  if (r.noOutput)
    return `no console output within ${KVM_FIRST_OUTPUT_MS / 1000} s${err ? `; QEMU: ${err}` : ''}`;
  if (r.timedOut) return `timed out after ${r.timeoutMs / 1000} s${err ? `; QEMU: ${err}` : ''}`;
  const how = r.exitCode !== null ? `QEMU exited with ${r.exitCode}` : `QEMU was killed by ${r.signal}`;
  return `${how}${err ? `: ${err}` : ''}`;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BuildError('verify was aborted');
}

/** The program's path (PATH, then the sbin directories a user's PATH may lack), or a hint to install it. */
function requireProgram(name: string, pkg: string): string {
  const found = onPath(name, ['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  if (found) return found;
  throw new BuildError(`verify needs ${name}`, `install it: apt-get install ${pkg}`);
}
