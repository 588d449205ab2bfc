/**
 * The VM harness (test/helpers/vm.ts) that the apply end-to-end tests boot provisioned roots with:
 * the example's kernel (examples/qemu-tiny, built once into the test cache) boots an ext4 image of
 * the Debian test root as /dev/vda, without an initramfs, runs the test init and exits QEMU.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs } from '../helpers/proc.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';
import { bootDisk, installTestInit, makeDiskImage, parseTestInit, TEST_INIT } from '../helpers/vm.js';

let artifacts: string;
let release: string;
let work: string;
let disk: string;

beforeAll(async () => {
  const [a, base] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  artifacts = a;
  release = (JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8')) as { release: string }).release;
  work = await mkdtemp(join(tmpdir(), 'kf-vm-harness-'));
  const root = await copyRoot(base);
  try {
    await installTestInit(root.dir);
    disk = join(work, 'root.img');
    const t0 = Date.now();
    const { sizeMiB } = await makeDiskImage(root.dir, disk);
    note(`vm harness: ext4 image of the Debian root (${sizeMiB} MiB) in ${secs(Date.now() - t0)}`);
  } finally {
    await root.cleanup();
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the VM harness', () => {
  it('boots the Debian root from its disk image with the built kernel: the test init reports the release', async () => {
    const r = await bootDisk({ kernel: join(artifacts, 'vmlinuz'), disk, timeoutMs: 90_000 });
    note(`vm harness: booted to the test init and back out in ${r.seconds.toFixed(1)} s`);
    expect(r.timedOut, r.console).toBe(false);
    expect(r.console).toContain('VFS: Mounted root (ext4 filesystem)');
    expect(r.console).toContain(`Run ${TEST_INIT} as init process`);
    expect(r.uname, r.console).toBe(release);
    // No initramfs, and the example's only module is out-of-tree: nothing is loaded.
    expect(r.modules).toEqual([]);
    expect(r.done).toBe(true);
    expect(r.console).not.toContain('KF-NO-REBOOT');
    // The guest's reboot -f with -no-reboot: QEMU exits by itself, with 0.
    expect(r.code).toBe(0);
  });

  it('a boot that never reaches the test init still ends QEMU, and reports no markers', async () => {
    const r = await bootDisk({
      kernel: join(artifacts, 'vmlinuz'),
      disk,
      append: 'console=ttyS0 panic=-1 root=/dev/vda init=/sbin/kf-no-such-init',
      consoleLog: join(work, 'no-init.console.log'),
      timeoutMs: 90_000,
    });
    expect(r.timedOut, r.console).toBe(false);
    expect(r.console).toMatch(/Kernel panic/);
    expect(r).toMatchObject({ uname: undefined, modules: [], done: false, code: 0 });
  });

  it('reads the markers between kernel messages', () => {
    const text = [
      'KF-UNAME 6.1.192-tiny-kf0123abcd',
      'KF-MODULES-BEGIN',
      'kernelfile_hello 12288 0 - Live 0x0000000000000000 (O)',
      'clocksource: Switched to clocksource tsc',
      'virtio_blk 20480 1 - Live 0x0000000000000000',
      'KF-MODULES-END',
      'KF-DONE',
    ].join('\n');
    expect(parseTestInit(text)).toEqual({
      uname: '6.1.192-tiny-kf0123abcd',
      modules: ['kernelfile_hello', 'virtio_blk'],
      done: true,
    });
  });
});
