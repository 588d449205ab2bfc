/**
 * Real rollouts on VMs that reboot (test/helpers/machines.ts): kernelfile installs
 * examples/qemu-vm's kernel over SSH with `apply --reboot`, the VM reboots into it once through its
 * real boot loader, kernelfile checks what came up and only then makes it the default.
 *
 *   bios (two GRUB VMs in an inventory, `--serial 1`): a canary whose kernel panics
 *     (`init=/bin/false`, `panic=5`) comes back on its old kernel by itself; the rollout stops
 *     there and the second VM is never touched. The fixed kernelfile (another command line: a new
 *     entry, armed again) rolls out to both, health check passing. Then on one VM: a second kernel
 *     (another localversion), `rollback --reboot` to the first, and `apply` with `keep: 1` rolls
 *     forward and prunes the first.
 *   uefi (one systemd-boot VM, dracut): a kernel that boots but fails its health check: the VM is
 *     rebooted back and the trial recorded as failed (`status` exit 8, `apply` does not arm it
 *     again); `--retry-trial` with a passing check makes it the default; `rollback --to` the Debian
 *     kernel, then `apply` rolls forward.
 *
 * Each step is checked both through kernelfile (exit codes, `status --json`, `facts`) and with the
 * loader's own records read over SSH (grubenv, the systemd-boot EFI variables), `uname -r`, the
 * QEMU boot count and the serial console. The two kinds run side by side.
 *
 * Cost: the VM images (machines-image.ts) and the two kernels are cached; with them cached, about
 * 30 min of TCG time (installing runs update-initramfs or dracut in the VM: 2 to 6 min each).
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { jsonOutput } from '../helpers/json-schemas.js';
import { runningQemuPids, startVms, type Vm } from '../helpers/machines.js';
import { note } from '../helpers/proc.js';
import {
  bootFacts,
  cli,
  loaderDefault,
  loaderOneShot,
  running,
  sh,
  show,
  status,
  vmRelease,
  writeVmKernelfile,
} from '../helpers/rollouts.js';

const HEALTHY = { command: 'systemctl is-active ssh.service && test -d /sys/kernel', timeout: 120 };
const UNHEALTHY = { command: 'echo "kf-health: the service is not ready"; exit 3', timeout: 60 };
const TRIALS = '/var/lib/kernelfile/trials';

let dir: string;
const vms: Vm[] = [];
/** Releases: the example's (K1) and its `-vm2` variant's (K2). */
let k1: string;
let k2: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kf-e2e-rollout-'));
  // Both kernels are built (or found in the cache) before any VM takes the CPU.
  k1 = await vmRelease();
  k2 = await vmRelease('-vm2');
  note(`rollout: kernels ${k1}, ${k2}`);
});

afterAll(async () => {
  await Promise.all(vms.map((vm) => vm.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The id of the entry kernelfile made for `release`, as the facts name it: on GRUB the one with the
 * kernelfile's title (update-grub lists the kernel in Debian's submenu too); on systemd-boot the
 * kernel's one BLS entry (kernel-install titles it from /etc/os-release).
 */
async function entryOf(vm: Vm, release: string): Promise<string> {
  const boot = await bootFacts(vm);
  const e =
    vm.kind === 'bios'
      ? boot.entries.find((x) => x.title === `kernelfile qemu-vm (${release})`)
      : boot.entries.find((x) => x.release === release);
  if (!e)
    throw new Error(
      `${vm.name}: no entry for ${release}: ${boot.entries.map((x) => `${x.id} (${x.title}, ${x.release})`).join(', ')}`,
    );
  return e.id;
}

/** The release the default entry boots, as kernelfile reads it. */
async function defaultRelease(vm: Vm): Promise<string | null | undefined> {
  const boot = await bootFacts(vm);
  return boot.entries.find((x) => x.id === boot.default)?.release;
}

/** The loader's own record of the default, as kernelfile writes it for an entry id. */
const loaderId = (vm: Vm, id: string) => (vm.kind === 'uefi' ? `${id}.conf` : id);

describe.concurrent('rollouts on rebooting VMs', () => {
  it('bios: a panicking canary stops the rollout; the fixed kernel rolls out; rollback; prune', async ({
    expect,
  }) => {
    const [one, two] = await startVms([
      { kind: 'bios', name: 'bios-1', dir },
      { kind: 'bios', name: 'bios-2', dir },
    ]);
    if (!one || !two) throw new Error('two VMs expected');
    vms.push(one, two);
    const distro = one.image.release;

    const knownHosts = join(dir, 'bios-known_hosts');
    const inventory = join(dir, 'bios-inventory.yaml');
    writeFileSync(knownHosts, `${one.knownHostsLine()}\n${two.knownHostsLine()}\n`);
    writeFileSync(
      inventory,
      [
        'all:',
        '  hosts:',
        ...[one, two].flatMap((vm) => [
          `    ${vm.name}:`,
          ...Object.entries(vm.inventoryEntry()).map(([k, v]) => `      ${k}: ${v}`),
        ]),
        '',
      ].join('\n'),
    );
    const fleet = ['--inventory', inventory, '--ssh-config', 'none', '--known-hosts', knownHosts];

    // 1. The canary's kernel panics: it never becomes the default, the rollout stops after it.
    const panics = writeVmKernelfile(join(dir, 'bios-panics.yaml'), { cmdlineExtra: 'init=/bin/false' });
    const a = await cli('bios: apply --reboot --serial 1 (panicking kernel)', [
      'apply',
      panics,
      ...fleet,
      '--yes',
      '--reboot',
      '--serial',
      '1',
    ]);
    expect(a.code, show(a)).toBe(1);
    expect(a.err, show(a)).toContain('batch 1/2 (canary): bios-1');
    expect(a.out + a.err, show(a)).toContain(`the trial boot of ${k1} failed`);
    expect(a.err, show(a)).not.toContain('batch 2/2');
    // bios-1 booted the new kernel once (it panicked: QEMU exited, panic=5), then GRUB's default.
    expect(one.boots).toBe(3);
    expect(one.console(2)).toContain(`Linux version ${k1}`);
    expect(one.console(2)).toMatch(/Kernel panic - not syncing/);
    expect(one.console(3)).not.toContain(`Linux version ${k1}`);
    expect(await running(one)).toBe(distro);
    // The default is still Debian's kernel: before adding its entry, kernelfile pinned it by id
    // (Debian's top-level entry would follow the newest kernel, the one under trial).
    expect(await defaultRelease(one)).toBe(distro);
    expect(await loaderDefault(one)).toBe(`gnulinux-${distro}-advanced-${one.image.rootUuid}`);
    expect(await loaderOneShot(one)).toBeNull();
    expect(JSON.parse(await sh(one, ['cat', `${TRIALS}/${k1}.json`]))).toMatchObject({ state: 'failed' });
    // bios-2 was never touched.
    expect(two.boots).toBe(1);
    expect((await two.ssh(['test', '-e', `/boot/vmlinuz-${k1}`])).code).toBe(1);
    expect((await two.ssh(['test', '-e', `/var/lib/kernelfile/${k1}.json`])).code).toBe(1);

    let st = await status('bios: status (after the canary failed)', [panics, ...fleet]);
    expect(st.code, show(st.raw)).toBe(8);
    expect(st.hosts['bios-1']).toMatchObject({ state: 'trial-failed', running: distro, target: k1 });
    expect(st.hosts['bios-1']?.detail).toContain(`the trial boot of ${k1} failed at `);
    expect(st.hosts['bios-2']).toMatchObject({ state: 'changes-pending', running: distro });

    // The same kernelfile again: the failed trial is not armed again (without --retry-trial).
    const again = await cli('bios: apply --reboot again (same kernel, same entry)', [
      'apply',
      panics,
      ...fleet,
      '--limit',
      'bios-1',
      '--yes',
      '--reboot',
    ]);
    expect(again.code, show(again)).not.toBe(0);
    expect(again.out + again.err, show(again)).toContain(`the trial boot of ${k1} failed at `);
    expect(one.boots).toBe(3);

    // 2. The fixed kernelfile (another command line: another entry) rolls out to both, healthy.
    const good = writeVmKernelfile(join(dir, 'bios-good.yaml'), { healthCheck: HEALTHY });
    const b = await cli('bios: apply --reboot (fixed kernel, health check)', [
      'apply',
      good,
      ...fleet,
      '--yes',
      '--reboot',
    ]);
    expect(b.code, show(b)).toBe(0);
    for (const vm of [one, two]) {
      expect(await running(vm), vm.name).toBe(k1);
      expect(await loaderDefault(vm), vm.name).toBe(loaderId(vm, await entryOf(vm, k1)));
      expect(await loaderOneShot(vm), vm.name).toBeNull();
      expect((await vm.ssh(['test', '-e', `${TRIALS}/${k1}.json`])).code, vm.name).toBe(1);
      expect((await sh(vm, ['cat', '/proc/cmdline'])).trim()).not.toContain('init=/bin/false');
    }
    expect(one.boots).toBe(4);
    expect(two.boots).toBe(2);
    st = await status('bios: status (rolled out)', [good, ...fleet]);
    expect(st.code, show(st.raw)).toBe(0);
    expect(Object.values(st.hosts).map((h) => h.state)).toEqual(['converged', 'converged']);
    const noop = await cli('bios: apply --reboot (second time)', [
      'apply',
      good,
      ...fleet,
      '--yes',
      '--reboot',
    ]);
    expect(noop.code, show(noop)).toBe(0);
    expect(one.boots).toBe(4);
    expect(two.boots).toBe(2);

    // 3. On bios-1: a second kernel, a rollback to the first across a reboot, then forward with keep: 1.
    const host = one.cliArgs();
    const v2 = writeVmKernelfile(join(dir, 'bios-v2.yaml'), { localversion: '-vm2', healthCheck: HEALTHY });
    const c = await cli('bios-1: apply --reboot (second kernel)', [
      'apply',
      v2,
      ...host,
      '--yes',
      '--reboot',
    ]);
    expect(c.code, show(c)).toBe(0);
    expect(await running(one)).toBe(k2);
    expect(await loaderDefault(one)).toBe(await entryOf(one, k2));

    const plan = await cli('bios-1: plan --json (kept kernels)', ['plan', v2, ...host, '--json']);
    expect(plan.code, show(plan)).toBe(0);
    const p = jsonOutput(plan.out, 'plan');
    expect(p.hosts[0]?.kept.map((k) => k.release)).toEqual([k2, k1]);
    expect(p.hosts[0]?.rollback).toBe(k1);

    const r = await cli('bios-1: rollback --reboot', ['rollback', v2, ...host, '--yes', '--reboot']);
    expect(r.code, show(r)).toBe(0);
    expect(r.out + r.err).toContain(k1);
    expect(await running(one)).toBe(k1);
    expect(await loaderDefault(one)).toBe(await entryOf(one, k1));
    expect(one.boots).toBe(6);
    st = await status('bios-1: status (rolled back)', [v2, ...host]);
    expect(st.code, show(st.raw)).toBe(2);

    const keep1 = writeVmKernelfile(join(dir, 'bios-v2-keep1.yaml'), {
      localversion: '-vm2',
      healthCheck: HEALTHY,
      keep: 1,
    });
    const d = await cli('bios-1: apply --reboot (forward again, keep: 1)', [
      'apply',
      keep1,
      ...host,
      '--yes',
      '--reboot',
    ]);
    expect(d.code, show(d)).toBe(0);
    expect(await running(one)).toBe(k2);
    expect(await loaderDefault(one)).toBe(await entryOf(one, k2));
    // The first kernel is pruned (files, modules, receipt, GRUB entry); Debian's kernel is not kernelfile's.
    for (const gone of [`/boot/vmlinuz-${k1}`, `/lib/modules/${k1}`, `/var/lib/kernelfile/${k1}.json`])
      expect((await one.ssh(['test', '-e', gone])).code, gone).toBe(1);
    expect(await sh(one, ['cat', '/boot/grub/grub.cfg'])).not.toContain(k1);
    expect((await one.ssh(['test', '-e', `/boot/vmlinuz-${distro}`])).code).toBe(0);
    st = await status('bios-1: status (forward, pruned)', [keep1, ...host]);
    expect(st.code, show(st.raw)).toBe(0);
  });

  it('uefi: a failed health check falls back; --retry-trial; rollback --to the Debian kernel', async ({
    expect,
  }) => {
    const [vm] = await startVms([{ kind: 'uefi', name: 'uefi-1', dir }]);
    if (!vm) throw new Error('a VM expected');
    vms.push(vm);
    const distro = vm.image.release;
    const host = vm.cliArgs();
    expect(await loaderDefault(vm)).toBeNull(); // loader.conf's default: the Debian entry

    // 1. It boots, but fails its health check: rebooted back, recorded, not armed again.
    const sick = writeVmKernelfile(join(dir, 'uefi-sick.yaml'), { healthCheck: UNHEALTHY });
    const a = await cli('uefi: apply --reboot (failing health check)', [
      'apply',
      sick,
      ...host,
      '--yes',
      '--reboot',
    ]);
    expect(a.code, show(a)).toBe(1);
    expect(a.out + a.err, show(a)).toContain(`the trial boot of ${k1} failed`);
    expect(a.out + a.err, show(a)).toContain('kf-health: the service is not ready');
    expect(vm.boots).toBe(3);
    expect(vm.console(2)).toContain(`Linux version ${k1}`);
    expect(await running(vm)).toBe(distro);
    expect(await loaderDefault(vm)).toBeNull();
    expect(await loaderOneShot(vm)).toBeNull();
    let st = await status('uefi: status (health check failed)', [sick, ...host]);
    expect(st.code, show(st.raw)).toBe(8);
    expect(st.hosts[Object.keys(st.hosts)[0] ?? '']?.detail).toContain('health check exited 3');

    // 2. A passing check, and --retry-trial (the kernel and its entry did not change).
    const well = writeVmKernelfile(join(dir, 'uefi-well.yaml'), { healthCheck: HEALTHY });
    const refused = await cli('uefi: apply --reboot (no --retry-trial)', [
      'apply',
      well,
      ...host,
      '--yes',
      '--reboot',
    ]);
    expect(refused.code, show(refused)).not.toBe(0);
    expect(vm.boots).toBe(3);
    const b = await cli('uefi: apply --reboot --retry-trial', [
      'apply',
      well,
      ...host,
      '--yes',
      '--reboot',
      '--retry-trial',
    ]);
    expect(b.code, show(b)).toBe(0);
    expect(vm.boots).toBe(4);
    expect(await running(vm)).toBe(k1);
    const k1Entry = await entryOf(vm, k1);
    expect(await loaderDefault(vm)).toBe(`${k1Entry}.conf`);
    expect((await vm.ssh(['test', '-e', `${TRIALS}/${k1}.json`])).code).toBe(1);
    st = await status('uefi: status (converged)', [well, ...host]);
    expect(st.code, show(st.raw)).toBe(0);

    // 3. Rollback to the Debian kernel (no reboot): the default only; the next apply rolls forward.
    const r = await cli('uefi: rollback --to (Debian kernel)', [
      'rollback',
      well,
      ...host,
      '--to',
      distro,
      '--yes',
    ]);
    expect(r.code, show(r)).toBe(0);
    expect(await loaderDefault(vm)).toBe(vm.image.defaultEntry);
    expect(await running(vm)).toBe(k1);
    st = await status('uefi: status (rolled back, not rebooted)', [well, ...host]);
    expect(st.code, show(st.raw)).toBe(4);
    const f = await cli('uefi: apply (forward)', ['apply', well, ...host, '--yes']);
    expect(f.code, show(f)).toBe(0);
    expect(await loaderDefault(vm)).toBe(`${k1Entry}.conf`);
    st = await status('uefi: status (forward)', [well, ...host]);
    expect(st.code, show(st.raw)).toBe(0);
    expect(vm.boots).toBe(4);
  });
});

describe('after the rollouts', () => {
  it('no QEMU is left running', async ({ expect }) => {
    await Promise.all(vms.map((vm) => vm.stop()));
    expect(runningQemuPids()).toEqual([]);
  });
});
