/**
 * `verify` against a real kernel: a tinyconfig build of Debian's linux-source-6.1 (built once and
 * cached by test/helpers/kernel-artifacts.ts, about 2.5 minutes cold), the hello DKMS module built
 * with the real dkms in trees of our own, a busybox initramfs, and QEMU (TCG). Needs root (dkms
 * insists), linux-source-6.1, build-essential bc flex bison libelf-dev libssl-dev cpio kmod dkms
 * qemu-system-x86 busybox-static. In the end-to-end suite because it builds that kernel on an empty
 * cache; the console parser is tested in test/unit/verify/console.test.ts, the cpio writer in
 * test/integration/verify-cpio.test.ts.
 */
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKER } from '../../src/verify/initramfs-image.js';
import { runningQemuCount } from '../../src/verify/qemu.js';
import { type ArtifactsInfo, loadArtifacts, verifyKernel } from '../../src/verify/verify.js';
import { ensureKernelArtifacts, HELLO_MODULE } from '../helpers/kernel-artifacts.js';
import { note, requireCommands, run, secs, sweepStale } from '../helpers/proc.js';

const SETUP_TIMEOUT = 30 * 60_000;
const BOOT_TIMEOUT = 5 * 60_000;

/** A listing of this machine's module trees: path, type, size, mtime of every entry. */
async function hostTreeListing(): Promise<string> {
  const r = await run(['find', '/var/lib/dkms', '/lib/modules', '/usr/src', '-printf', '%p %y %s %T@\\n']);
  return r.stdout.split('\n').sort().join('\n');
}

/** qemu-system processes whose command line mentions `dir` (other suites may run QEMU too). */
function qemuProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'utf8');
      if (cmd.includes('qemu-system') && cmd.includes(dir)) pids.push(Number(n));
    } catch {}
  }
  return pids;
}

describe('verify: a real kernel under QEMU', () => {
  let artifacts: ArtifactsInfo;
  let scratch: string;
  let hostBefore: string;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error('the verify tests need root: dkms refuses add/install otherwise');
    requireCommands('verify', [
      ['dkms', 'dkms'],
      ['qemu-system-x86_64', 'qemu-system-x86'],
      ['/bin/busybox', 'busybox-static'],
      ['depmod', 'kmod'],
    ]);
    const t0 = Date.now();
    const dir = await ensureKernelArtifacts();
    note(`verify: artifacts ready in ${secs(Date.now() - t0)}: ${dir}`);
    artifacts = await loadArtifacts(dir, { verifyChecksums: true });
    await sweepStale('kf-verify');
    scratch = await mkdtemp(join(tmpdir(), `kf-verify-${process.pid}-`));
    hostBefore = await hostTreeListing();
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const timing = (what: string, r: Awaited<ReturnType<typeof verifyKernel>>) =>
    note(
      `verify ${what}: ${secs(r.seconds * 1000)} (dkms ${secs(r.timings.dkms * 1000)}, initramfs ${secs(r.timings.initramfs * 1000)}, boot ${secs(r.timings.boot * 1000)}, ${r.accel})`,
    );

  it(
    'boots the kernel with the hello DKMS module: release matches, module loaded',
    async () => {
      const workDir = join(scratch, 'hello');
      const r = await verifyKernel({
        artifacts,
        modules: [{ name: 'kernelfile-hello', version: '1.0', path: HELLO_MODULE }],
        initramfsModules: ['kernelfile_hello'],
        workDir,
      });
      timing('hello', r);
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.accel).toBe('tcg');
      expect(r.release).toBe(artifacts.release);
      expect(r.release).toMatch(/^6\.1\.\d+-tiny-kf[0-9a-f]{8}$/);
      expect(r.modules).toEqual([
        expect.objectContaining({
          name: 'kernelfile-hello',
          version: '1.0',
          status: 'ok',
          loadNames: ['kernelfile_hello'],
          detail: 'kernelfile_hello: loaded by modprobe',
        }),
      ]);
      const consoleText = await readFile(r.consoleLog, 'utf8');
      expect(r.consoleLog).toBe(join(workDir, 'console.log'));
      expect(consoleText).toContain('kernelfile_hello: loaded');
      expect(consoleText).toContain(`${MARKER} done`);
      // The module went into the initramfs where dkms installs it, and modprobe found it by name.
      const initrd = gunzipSync(await readFile(join(workDir, 'initrd.img'))).toString('latin1');
      expect(initrd).toContain(`lib/modules/${artifacts.release}/updates/dkms/kernelfile_hello.ko`);
      expect(initrd).toContain(`lib/modules/${artifacts.release}/modules.dep`);
    },
    BOOT_TIMEOUT,
  );

  it(
    'reports a module that does not build as build-failed with its make.log tail, and still boots',
    async () => {
      // A copy of hello as module kernelfile_broken, with a syntax error.
      const broken = join(scratch, 'src', 'broken');
      await mkdir(broken, { recursive: true });
      const hello = (f: string) => readFile(join(HELLO_MODULE, f), 'utf8');
      await writeFile(
        join(broken, 'dkms.conf'),
        (await hello('dkms.conf'))
          .replace('PACKAGE_NAME="kernelfile-hello"', 'PACKAGE_NAME="kernelfile-broken"')
          .replace('BUILT_MODULE_NAME[0]="kernelfile_hello"', 'BUILT_MODULE_NAME[0]="kernelfile_broken"'),
      );
      await writeFile(
        join(broken, 'Makefile'),
        (await hello('Makefile')).replace('kernelfile_hello.o', 'kernelfile_broken.o'),
      );
      await writeFile(
        join(broken, 'kernelfile_broken.c'),
        (await hello('kernelfile_hello.c')).replace('return 0;', 'return 0 /* no semicolon */'),
      );
      const workDir = join(scratch, 'broken');
      const r = await verifyKernel({
        artifacts,
        modules: [
          { name: 'kernelfile-hello', version: '1.0', path: HELLO_MODULE },
          { name: 'kernelfile-broken', version: '1.0', path: broken },
        ],
        initramfsModules: ['kernelfile_hello', 'kernelfile_broken'],
        workDir,
      });
      timing('broken module', r);
      expect(r.ok).toBe(false);
      // The kernel was booted all the same: the good module loaded.
      expect(r.release).toBe(artifacts.release);
      expect(r.modules.map((m) => [m.name, m.status])).toEqual([
        ['kernelfile-hello', 'ok'],
        ['kernelfile-broken', 'build-failed'],
        // initramfs.modules: kernelfile_hello is the DKMS module above, kernelfile_broken never built.
        ['kernelfile_broken', 'build-failed'],
      ]);
      expect(r.modules[2]?.detail).toBe(
        'not loaded: it comes from DKMS module kernelfile-broken, which does not build',
      );
      const bad = r.modules[1];
      expect(bad?.detail).toMatch(/dkms build failed \(exit \d+\)/);
      expect(bad?.makeLog).toMatch(/^.*\/make\.log$/);
      expect(bad?.makeLog?.startsWith(workDir)).toBe(true);
      expect(bad?.logTail?.length).toBeGreaterThan(0);
      expect(bad?.logTail?.length).toBeLessThanOrEqual(40);
      expect(bad?.logTail?.join('\n')).toMatch(/kernelfile_broken\.c:\d+:\d+: error: expected .;. before/);
      expect(r.problems).toEqual([
        expect.stringMatching(/^module kernelfile-broken: does not build: dkms build failed .*make\.log$/),
        expect.stringMatching(/^module kernelfile_broken: does not build: not loaded/),
      ]);
    },
    BOOT_TIMEOUT,
  );

  it(
    'builds a module given as a tarball',
    async () => {
      const top = join(scratch, 'tarball');
      cpSync(HELLO_MODULE, join(top, 'kernelfile-hello-1.0'), { recursive: true });
      const tarball = join(top, 'kernelfile-hello-1.0.tar.gz');
      expect((await run(['tar', '-czf', tarball, '-C', top, 'kernelfile-hello-1.0'])).code).toBe(0);
      const r = await verifyKernel({
        artifacts,
        modules: [{ name: 'kernelfile-hello', version: '1.0', path: tarball }],
        workDir: join(scratch, 'tarball-work'),
      });
      timing('tarball', r);
      expect(r.problems).toEqual([]);
      expect(r.modules).toEqual([expect.objectContaining({ name: 'kernelfile-hello', status: 'ok' })]);
    },
    BOOT_TIMEOUT,
  );

  it(
    'fails when the booted release is not the expected one, saying so',
    async () => {
      const r = await verifyKernel({
        artifacts,
        modules: [],
        workDir: join(scratch, 'release'),
        expectRelease: '6.1.192-not-this-one',
      });
      timing('wrong release', r);
      expect(r.ok).toBe(false);
      expect(r.release).toBe(artifacts.release);
      expect(r.problems).toEqual([
        `the kernel reports release ${artifacts.release}, expected 6.1.192-not-this-one`,
      ]);
    },
    BOOT_TIMEOUT,
  );

  it(
    'skips installed: true modules with the reason, and reports modules that are not there',
    async () => {
      const r = await verifyKernel({
        artifacts,
        modules: [{ name: 'zfs', version: '2.1.11', installed: true }],
        initramfsModules: ['kf_no_such_module'],
        workDir: join(scratch, 'installed'),
      });
      timing('installed + missing', r);
      expect(r.modules).toEqual([
        {
          name: 'zfs',
          version: '2.1.11',
          status: 'skipped',
          detail: expect.stringMatching(/^installed: true: the module is provided on the host/),
        },
        expect.objectContaining({
          name: 'kf_no_such_module',
          status: 'failed',
          detail: expect.stringContaining('modprobe:'),
        }),
      ]);
      expect(r.problems).toEqual([
        expect.stringMatching(/^module kf_no_such_module: does not load: modprobe:/),
      ]);
    },
    BOOT_TIMEOUT,
  );

  it(
    'with accel auto, uses KVM only when it works and otherwise says it used TCG',
    async () => {
      const r = await verifyKernel({ artifacts, modules: [], workDir: join(scratch, 'auto'), accel: 'auto' });
      timing('accel auto', r);
      expect(r.ok).toBe(true);
      if (r.accel === 'tcg') expect(r.notes.join('\n')).toMatch(/TCG/);
    },
    BOOT_TIMEOUT,
  );

  it(
    'kills QEMU on timeout and says so',
    async () => {
      const workDir = join(scratch, 'timeout');
      const r = await verifyKernel({ artifacts, modules: [], workDir, timeoutMs: 300 });
      expect(r.ok).toBe(false);
      expect(r.problems.join('\n')).toMatch(/timed out after 0\.3 s/);
      expect(qemuProcessesUnder(workDir)).toEqual([]);
    },
    BOOT_TIMEOUT,
  );

  it('refuses artifacts for another architecture, naming it', async () => {
    await expect(
      verifyKernel({
        artifacts: { ...artifacts, arch: 'aarch64' },
        modules: [],
        workDir: join(scratch, 'arm'),
      }),
    ).rejects.toThrow(/x86_64 artifacts only.*aarch64/);
  });

  it("left this machine's /var/lib/dkms, /lib/modules and /usr/src as they were", async () => {
    expect(await hostTreeListing()).toBe(hostBefore);
  });

  it('left no QEMU process running', () => {
    expect(runningQemuCount()).toBe(0);
    expect(qemuProcessesUnder(scratch)).toEqual([]);
  });
});
