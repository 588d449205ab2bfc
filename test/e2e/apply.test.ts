/**
 * The product's promise, end to end: `kernelfile apply examples/qemu-tiny` converges a real Debian
 * bookworm host over SSH (its own sshd on 127.0.0.1, an overlay of the debootstrap'd test root), the
 * host's own dkms, update-initramfs and GRUB tools do the work, and the result boots under QEMU:
 * `uname -r` is the declared release and the DKMS module was loaded by the host-made initramfs.
 * A second apply changes nothing; the root-filesystem transport gives the same files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelfile } from '../helpers/cli.js';
import { sshTarget } from '../helpers/host-state.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, runOk } from '../helpers/proc.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';
import { bootDisk, installTestInit, makeDiskImage } from '../helpers/vm.js';

let dir: string;
let h: SshHost;
let release: string;
let ssh: string[];

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-apply-'));
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  release = (JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8')) as { release: string })
    .release;
  h = await startSshHost({ hostname: 'kf-apply' });
  ssh = sshTarget(h, dir);
});

afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kernelfile apply over SSH', () => {
  it('plans the example on a fresh Debian host: every resource to add, nothing to destroy', async () => {
    const r = await kernelfile(['plan', EXAMPLE, ...ssh, '--detailed-exitcode']);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain(`+ kernel[${release}]`);
    expect(r.out).toContain(`+ dkms-module[kernelfile-hello/1.0@${release}]`);
    expect(r.out).toContain(`+ initramfs[${release}]`);
    expect(r.out).toContain(`+ boot-entry[kernelfile-${release}]`);
    expect(r.out).toMatch(/\+ default-entry +GRUB \(explicit grub\.cfg\)/);
    expect(r.out).toMatch(/^Plan: 5 to add, 0 to change, 0 to destroy\.$/m);
    // plan changes nothing
    expect((await h.exec(['test', '-e', '/var/lib/kernelfile'])).code).not.toBe(0);
  });

  it('converges the host, and the host then boots the declared kernel with the DKMS module', async () => {
    const t0 = Date.now();
    const r = await kernelfile(['apply', EXAMPLE, ...ssh, '--yes']);
    note(`apply over SSH: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/Apply complete: 5 changes/);

    // What the host's own tools left behind.
    const st = await h.exec(['dkms', 'status', '-m', 'kernelfile-hello', '-k', release]);
    expect(st.stdout).toMatch(/installed/);
    const env = await h.exec(['grub-editenv', '/boot/grub/grubenv', 'list']);
    expect(env.stdout).toContain(`saved_entry=kernelfile-${release}`);
    const receipt = JSON.parse((await h.exec(['cat', `/var/lib/kernelfile/${release}.json`])).stdout);
    expect(receipt).toMatchObject({
      name: 'qemu-tiny',
      release,
      modules: [{ name: 'kernelfile-hello', version: '1.0' }],
    });
    expect((await h.exec(['test', '-e', `/var/lib/kernelfile/pending/${release}.json`])).code).not.toBe(0);

    // Boot what was installed: a snapshot of the host's files (without its proc, sys and dev
    // mounts) as an ext4 disk, with the kernel and initramfs the host now has.
    const snap = join(dir, 'snapshot');
    mkdirSync(snap);
    await runOk(['cp', '-a', '--one-file-system', `${h.root}/.`, `${snap}/`]);
    // /dev is the host's own tmpfs: take the root's device nodes (console, null) instead.
    await runOk(['cp', '-a', `${await ensureDebianRoot()}/dev/.`, `${snap}/dev/`]);
    await installTestInit(snap);
    const img = join(dir, 'host.img');
    await makeDiskImage(snap, img);
    const boot = await bootDisk({
      kernel: join(snap, 'boot', `vmlinuz-${release}`),
      initrd: join(snap, 'boot', `initrd.img-${release}`),
      disk: img,
      timeoutMs: 120_000,
    });
    note(`booted the converged host in ${boot.seconds.toFixed(1)} s`);
    expect(boot.timedOut, boot.console).toBe(false);
    expect(boot.uname, boot.console).toBe(release);
    expect(boot.modules, boot.console).toContain('kernelfile_hello');
  });

  it('a second apply changes nothing: no changes, and no file on the host is touched', async () => {
    await h.exec(['touch', '/tmp/kf-before-second-apply']);
    const r = await kernelfile(['apply', EXAMPLE, ...ssh, '--yes']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('No changes. The host matches the kernelfile.');
    const changed = await h.exec([
      'find',
      '/boot',
      '/lib/modules',
      '/usr/src',
      '/etc',
      '/var/lib/kernelfile',
      '/var/lib/dkms',
      '-newer',
      '/tmp/kf-before-second-apply',
    ]);
    expect(changed.stdout.trim()).toBe('');
    const plan = await kernelfile(['plan', EXAMPLE, ...ssh, '--detailed-exitcode', '--json']);
    expect(plan.code).toBe(0);
    expect(jsonOutput(plan.out, 'plan')).toMatchObject({ changed: false, possible: true });
  });

  it('the root-filesystem transport gives the same files as SSH', async () => {
    const root = await copyRoot(await ensureDebianRoot());
    try {
      const r = await kernelfile(['apply', EXAMPLE, '--host', `root:${root.dir}`, '--yes']);
      expect(r.code, r.out + r.err).toBe(0);
      for (const f of [`boot/vmlinuz-${release}`, `boot/System.map-${release}`, `boot/config-${release}`])
        expect(sha(join(root.dir, f))).toBe(sha(join(h.root, f)));
      const ko = (base: string) =>
        readFileSync(join(base, 'var/lib/kernelfile', `${release}.sha256`), 'utf8');
      expect(ko(root.dir)).toBe(ko(h.root));
      expect(readFileSync(join(root.dir, 'boot/grub/grub.cfg'), 'utf8')).toBe(
        readFileSync(join(h.root, 'boot/grub/grub.cfg'), 'utf8'),
      );
      const dkms = (base: string) =>
        readFileSync(join(base, `lib/modules/${release}/updates/dkms/kernelfile_hello.ko`)).length > 0;
      expect(dkms(root.dir)).toBe(true);
    } finally {
      await root.cleanup();
    }
  });
});

describe('a host without a compiler', () => {
  it('gets its DKMS module built on the controller and loaded with dkms ldtarball', async () => {
    const bare = await startSshHost({ hostname: 'kf-nocc' });
    try {
      await bare.exec([
        'sh',
        '-c',
        'rm -f /usr/bin/gcc* /usr/bin/x86_64-linux-gnu-gcc* /usr/bin/cc /usr/bin/make',
      ]);
      const args = sshTarget(bare, dir);
      const plan = await kernelfile(['plan', EXAMPLE, ...args]);
      expect(plan.code, plan.out + plan.err).toBe(0);
      expect(plan.out).toMatch(
        /\+ dkms-module\[kernelfile-hello\/1\.0@.*\] +ssh:\/\/.* has no compiler: built on the controller, loaded with dkms ldtarball/,
      );
      const r = await kernelfile(['apply', EXAMPLE, ...args, '--yes']);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.err).toContain('dkms ldtarball and install kernelfile-hello/1.0');
      const st = await bare.exec(['dkms', 'status', '-m', 'kernelfile-hello', '-k', release]);
      expect(st.stdout).toMatch(/installed/);
      expect(
        (await bare.exec(['test', '-s', `/lib/modules/${release}/updates/dkms/kernelfile_hello.ko`])).code,
      ).toBe(0);
      // still no compiler on the host, and a second apply has nothing to do
      expect(
        (await bare.exec(['sh', '-c', 'command -v gcc || command -v cc || command -v make'])).code,
      ).not.toBe(0);
      const again = await kernelfile(['apply', EXAMPLE, ...args, '--yes']);
      expect(again.out).toContain('No changes. The host matches the kernelfile.');
    } finally {
      await bare.stop();
    }
  });
});

describe("a host that cannot run the headers' host tools", () => {
  it('has no libelf.so.1 for objtool: the plan foresees it and builds the module on the controller', async () => {
    const bare = await startSshHost({ hostname: 'kf-nolibelf' });
    try {
      await bare.exec([
        'sh',
        '-c',
        'rm -f /usr/lib/x86_64-linux-gnu/libelf.so* /usr/lib/x86_64-linux-gnu/libelf-*.so',
      ]);
      const args = sshTarget(bare, dir);
      const plan = await kernelfile(['plan', EXAMPLE, ...args]);
      expect(plan.code, plan.out + plan.err).toBe(0);
      expect(plan.out).toMatch(
        /\+ dkms-module\[kernelfile-hello\/1\.0@.*\] .*libelf\.so\.1.*built on the controller, loaded with dkms ldtarball/,
      );
      const r = await kernelfile(['apply', EXAMPLE, ...args, '--yes']);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.err).toContain('dkms ldtarball and install kernelfile-hello/1.0');
      const st = await bare.exec(['dkms', 'status', '-m', 'kernelfile-hello', '-k', release]);
      expect(st.stdout).toMatch(/installed/);
    } finally {
      await bare.stop();
    }
  });
});
