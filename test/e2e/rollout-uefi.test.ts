/**
 * Real rollouts on a UEFI VM that reboots (test/helpers/machines.ts: OVMF → systemd-boot with BLS
 * entries in the ESP written by kernel-install, dracut as the initramfs generator, Debian's own
 * kernel as the default to start with):
 *
 *  1. `apply --reboot` of a kernel whose health check fails (`test -e /etc/kf-healthy`): it comes up
 *     in its one-time boot (`bootctl set-oneshot`), the check fails, kernelfile records the failure
 *     with the check's output and reboots the host back into its default; `status` says "trial
 *     failed" and `plan` will not arm it again.
 *  2. the host made healthy, `apply --reboot --retry-trial`: it comes up, passes, and becomes the
 *     systemd-boot default (`bootctl set-default`); a second plan changes nothing; `status`
 *     converged.
 *  3. `rollback --to` Debian's kernel without a reboot: the default goes back (status: booted, not
 *     the default); then a second kernel with keep: 1 and `--reboot`: it becomes the default and
 *     the first is pruned (`kernel-install remove`: its BLS entry and its files in the ESP gone).
 *
 * Cost: one VM (~80 s to sshd), the two kernels of the BIOS test (cached), five reboots.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVm, type Vm } from '../helpers/machines.js';
import { note, secs } from '../helpers/proc.js';
import { buildRelease, cli, show, writeVmKernelfiles } from '../helpers/rollouts.js';

const HEALTH = { command: 'echo checking; test -e /etc/kf-healthy', timeout: 60 };

let dir: string;
let vm: Vm;
let files: Record<'checked' | 'secondKeep1', string>;
let k1: string;
let k2: string;
let distro: string;

async function sh(script: string): Promise<string> {
  const r = await vm.ssh(['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${vm.name}: ${script}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

/** The entry systemd-boot boots by default (`bootctl status`: its file name), and the BLS entries. */
async function loader(): Promise<{ default: string; entries: string[] }> {
  const status = await sh('bootctl status --no-pager 2>/dev/null || true');
  const entries = (await sh('ls /boot/efi/loader/entries')).split(/\s+/).filter(Boolean);
  const conf = await sh('cat /boot/efi/loader/loader.conf 2>/dev/null || true');
  const efiVar = status.match(/Default Boot Loader Entry:\s*\n?\s*(?:title:.*\n\s*)?id:\s*(\S+)/)?.[1];
  const fromConf = conf.match(/^default\s+(\S+)/m)?.[1];
  return { default: efiVar ?? fromConf ?? '', entries };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kf-rollout-uefi-'));
  files = writeVmKernelfiles(dir, {
    checked: { healthCheck: HEALTH },
    secondKeep1: { localversion: '-vm2', keep: 1 },
  });
  const t0 = Date.now();
  vm = await startVm({ kind: 'uefi', name: 'vm-uefi', dir });
  k1 = await buildRelease(files.checked);
  k2 = await buildRelease(files.secondKeep1);
  await vm.waitUp(10 * 60_000);
  distro = vm.image.release;
  note(`rollout-uefi: VM up and two kernels ready in ${secs(Date.now() - t0)}`);
}, 60 * 60_000);

afterAll(async () => {
  await vm?.stop();
  if (dir && !process.env.KF_ROLLOUT_KEEP) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe.sequential('a UEFI VM with systemd-boot, kernel-install and dracut: rollouts that reboot', () => {
  it(
    'a trial that fails its health check: recorded with the output, rebooted back into the default',
    async () => {
      const before = await loader();
      const r = await cli('apply unhealthy uefi', [
        'apply',
        files.checked,
        ...vm.cliArgs(),
        '--reboot',
        '--yes',
      ]);
      expect(r.code, show(r)).toBe(1);
      expect(r.out + r.err, show(r)).toContain(
        `the trial boot of ${k1} failed: ${k1} came up but its health check exited 1`,
      );
      expect(r.out + r.err, show(r)).toContain(`rebooted back into ${distro}`);
      expect(r.err, show(r)).toContain('checking'); // the check's output, as kernelfile saw it
      expect(await sh('uname -r')).toBe(distro);
      // dracut made the initramfs, kernel-install the entry; the default is still Debian's.
      expect((await loader()).entries.some((e) => e.includes(k1))).toBe(true);
      expect((await loader()).default).toBe(before.default);
      const record = JSON.parse(await sh(`cat /var/lib/kernelfile/trials/${k1}.json`));
      expect(record).toMatchObject({ state: 'failed', seenRelease: k1, health: { code: 1 } });
      expect(record.health.output).toContain('checking');
      const st = await cli('status unhealthy uefi', ['status', files.checked, ...vm.cliArgs()]);
      expect(st.code, show(st)).toBe(8);
      expect(st.out, show(st)).toContain('trial failed');
    },
    30 * 60_000,
  );

  it(
    'made healthy, --retry-trial: up, checked, the systemd-boot default; a second plan changes nothing',
    async () => {
      await sh('touch /etc/kf-healthy');
      const r = await cli('apply retry uefi', [
        'apply',
        files.checked,
        ...vm.cliArgs(),
        '--reboot',
        '--retry-trial',
        '--yes',
      ]);
      expect(r.code, show(r)).toBe(0);
      expect(r.out, show(r)).toContain('once more (--retry-trial)');
      expect(r.err, show(r)).toContain('health check passed');
      expect(await sh('uname -r')).toBe(k1);
      expect((await loader()).default).toContain(k1);
      const p = await cli('plan converged uefi', ['plan', files.checked, ...vm.cliArgs()]);
      expect(p.out, show(p)).toContain('No changes.');
      const st = await cli('status converged uefi', ['status', files.checked, ...vm.cliArgs()]);
      expect(st.code, show(st)).toBe(0);
    },
    30 * 60_000,
  );

  it(
    'rollback --to the distribution kernel, then a second kernel with keep: 1 prunes the first',
    async () => {
      const rb = await cli('rollback to debian uefi', [
        'rollback',
        files.checked,
        ...vm.cliArgs(),
        '--to',
        distro,
        '--yes',
      ]);
      expect(rb.code, show(rb)).toBe(0);
      expect((await loader()).default).toContain(distro);
      const st = await cli('status rolled back uefi', ['status', files.checked, ...vm.cliArgs()]);
      expect(st.code, show(st)).toBe(4); // runs the kernelfile's kernel, which is no longer the default
      const r = await cli('apply second keep 1 uefi', [
        'apply',
        files.secondKeep1,
        ...vm.cliArgs(),
        '--reboot',
        '--yes',
      ]);
      expect(r.code, show(r)).toBe(0);
      expect(await sh('uname -r')).toBe(k2);
      const after = await loader();
      expect(after.default).toContain(k2);
      expect(
        after.entries.some((e) => e.includes(k1)),
        after.entries.join(' '),
      ).toBe(false);
      expect(await sh(`ls /boot /boot/efi/*/ 2>/dev/null | grep -c -- "${k1}" || true`)).toBe('0');
      const p = await cli('plan second uefi', ['plan', files.secondKeep1, ...vm.cliArgs()]);
      expect(p.out, show(p)).toContain('No changes.');
    },
    40 * 60_000,
  );
});
