/**
 * Real rollouts on BIOS VMs that reboot (test/helpers/machines.ts: SeaBIOS → GRUB with
 * grub-mkconfig, initramfs-tools, Debian's own kernel as the default to start with), three of them
 * as a fleet in an Ansible YAML inventory:
 *
 *  1. `apply --inventory --reboot --serial 1` of a kernel whose entry panics (`init=/bin/false`,
 *     `panic=5`): the canary (vm-1) reboots into its trial, panics, GRUB falls back to the saved
 *     default; kernelfile reports the failure with what it saw and records it on the host; the
 *     rollout stops and vm-2, vm-3 are untouched. `status` says "trial failed", `plan` refuses to
 *     arm it again.
 *  2. the same kernel with a good entry: a new trial on vm-1, then each host in its batch reboots
 *     into it, passes the health check and gets it as its default; `status`: every host converged.
 *  3. vm-1 alone: a second kernel (another build) with `--reboot`, `rollback --reboot` to the first
 *     (status against the second: installed, not booted), then the second again with keep: 1: the
 *     first is pruned (its files and GRUB entries gone), and a plan after that changes nothing.
 *
 * Cost: three VMs booted at once (~85 s to sshd on 2 cores), two kernel builds (cached), eight
 * reboots. KF_ROLLOUT_DUMP=DIR keeps every CLI run's output there.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVm, type Vm } from '../helpers/machines.js';
import { note, secs } from '../helpers/proc.js';
import { buildRelease, cli, show, writeVmKernelfiles } from '../helpers/rollouts.js';

const HEALTH = { command: 'systemctl is-active ssh.service', timeout: 120 };

let dir: string;
let vms: Vm[] = [];
let files: Record<'good' | 'panic' | 'second' | 'secondKeep1', string>;
let k1: string;
let k2: string;
let knownHosts: string;
let distro: string;

/** An inventory of the three VMs, all in group `vms` with this kernelfile. */
function inventory(name: string, kernelfile: string): string {
  const lines = [
    'all:',
    '  children:',
    '    vms:',
    '      vars:',
    `        kernelfile: ${kernelfile}`,
    '      hosts:',
  ];
  for (const vm of vms) {
    lines.push(`        ${vm.name}:`);
    for (const [k, v] of Object.entries(vm.inventoryEntry())) lines.push(`          ${k}: ${v}`);
  }
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const fleet = (inv: string) => ['--inventory', inv, '--known-hosts', knownHosts, '--ssh-config', 'none'];
const one = (vm: Vm) => vm.cliArgs();

async function sh(vm: Vm, script: string): Promise<string> {
  const r = await vm.ssh(['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${vm.name}: ${script}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

/**
 * The rows of the last table the CLI printed with this header (apply prints the fleet's plan table
 * first, its outcome table last), split on runs of spaces.
 */
function rows(out: string, header: string): string[][] {
  const lines = out.split('\n');
  const at = lines.findLastIndex((l) => l.trim().startsWith(header));
  const body: string[][] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.trim()) break;
    body.push(l.trim().split(/\s{2,}/));
  }
  return body;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kf-rollout-bios-'));
  files = writeVmKernelfiles(dir, {
    good: { healthCheck: HEALTH },
    panic: { appendCmdline: 'init=/bin/false', healthCheck: HEALTH },
    second: { localversion: '-vm2', healthCheck: HEALTH },
    secondKeep1: { localversion: '-vm2', keep: 1, healthCheck: HEALTH },
  });
  const t0 = Date.now();
  vms = await Promise.all([1, 2, 3].map((n) => startVm({ kind: 'bios', name: `vm-${n}`, dir })));
  // The builds run while the VMs boot (both are cached once made).
  k1 = await buildRelease(files.good);
  k2 = await buildRelease(files.second);
  await Promise.all(vms.map((vm) => vm.waitUp(10 * 60_000)));
  note(`rollout-bios: three VMs up and two kernels ready in ${secs(Date.now() - t0)}`);
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${vms.map((vm) => vm.knownHostsLine()).join('\n')}\n`);
  distro = vms[0]?.image.release as string;
}, 60 * 60_000);

afterAll(async () => {
  await Promise.all(vms.map((vm) => vm.stop()));
  if (dir && !process.env.KF_ROLLOUT_KEEP) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe.sequential('BIOS VMs with GRUB: rollouts that reboot', () => {
  it(
    'a canary whose trial kernel panics: GRUB falls back, the failure is reported and recorded, the rollout stops',
    async () => {
      const [vm1, vm2, vm3] = vms as [Vm, Vm, Vm];
      const inv = inventory('panic', files.panic);
      const r = await cli('apply panic fleet', [
        'apply',
        ...fleet(inv),
        '--reboot',
        '--serial',
        '1',
        '--yes',
      ]);
      expect(r.code, show(r)).toBe(1);
      const table = Object.fromEntries(rows(r.out, 'HOST').map((c) => [c[0], c]));
      expect(table['vm-1']?.[1], show(r)).toBe('failed');
      expect(table['vm-1']?.[2], show(r)).toContain(`the trial boot of ${k1} failed`);
      expect(table['vm-1']?.[2], show(r)).toContain(`running ${distro}`);
      expect(table['vm-2']?.[1], show(r)).toBe('skipped');
      expect(table['vm-3']?.[1], show(r)).toBe('skipped');
      expect(r.err, show(r)).toMatch(/stopping the rollout/);
      // What happened on the canary: the trial panicked, then the old default booted.
      expect(vm1.boots).toBeGreaterThanOrEqual(3);
      const consoles = Array.from({ length: vm1.boots }, (_, i) => vm1.console(i + 1)).join('\n');
      expect(consoles).toMatch(/Attempted to kill init/);
      expect(await sh(vm1, 'uname -r')).toBe(distro);
      const record = JSON.parse(await sh(vm1, `cat /var/lib/kernelfile/trials/${k1}.json`));
      expect(record).toMatchObject({ release: k1, state: 'failed', seenRelease: distro });
      expect(record.seenBootId).toMatch(/^[0-9a-f-]{36}$/);
      expect(record.bootId).not.toBe(record.seenBootId);
      // The others were never touched.
      for (const vm of [vm2, vm3]) {
        expect(await sh(vm, 'ls /var/lib/kernelfile 2>/dev/null | wc -l')).toBe('0');
        expect(vm.boots).toBe(1);
      }
      // status and plan know the trial failed, and plan does not arm it again.
      const st = await cli('status panic fleet', ['status', ...fleet(inv)]);
      expect(st.code, show(st)).toBe(8);
      const states = Object.fromEntries(rows(st.out, 'HOST').map((c) => [c[0], c[1]]));
      expect(states, show(st)).toEqual({
        'vm-1': 'trial failed',
        'vm-2': 'changes pending',
        'vm-3': 'changes pending',
      });
      const p = await cli('plan panic vm-1', ['plan', files.panic, ...one(vm1)]);
      expect(p.code, show(p)).toBe(1);
      expect(p.out + p.err).toMatch(
        new RegExp(`the trial boot of ${k1.replace(/\./g, '\\.')} failed at 20\\d\\d-`),
      );
      expect(p.out + p.err).toMatch(/--retry-trial/);
    },
    30 * 60_000,
  );

  it(
    'the same kernel with a good entry: every host reboots into it in its batch, passes the health check and gets it as its default',
    async () => {
      const inv = inventory('good', files.good);
      const r = await cli('apply good fleet', ['apply', ...fleet(inv), '--reboot', '--serial', '1', '--yes']);
      expect(r.code, show(r)).toBe(0);
      expect(r.err).toMatch(/batch 1\/3 \(canary\): vm-1/);
      expect(r.err).toMatch(/batch 3\/3: vm-3/);
      expect(r.err.match(/health check passed/g)?.length, show(r)).toBe(3);
      for (const row of rows(r.out, 'HOST')) expect(row.slice(0, 2), show(r)).toEqual([row[0], 'converged']);
      for (const vm of vms) {
        expect(await sh(vm, 'uname -r')).toBe(k1);
        // GRUB's saved default is the kernelfile's entry, by id; the trial record is gone.
        expect(await sh(vm, 'grub-editenv list')).toContain(`saved_entry=kernelfile-${k1}`);
        expect(await sh(vm, `test -e /var/lib/kernelfile/trials/${k1}.json && echo yes || echo no`)).toBe(
          'no',
        );
      }
      const st = await cli('status good fleet', ['status', ...fleet(inv)]);
      expect(st.code, show(st)).toBe(0);
      for (const row of rows(st.out, 'HOST')) expect(row[1], show(st)).toBe('converged');
      const again = await cli('plan good vm-2', ['plan', files.good, ...one(vms[1] as Vm)]);
      expect(again.out, show(again)).toContain('No changes.');
    },
    40 * 60_000,
  );

  it(
    'vm-1: a second kernel, a rollback to the first with --reboot, then the second with keep: 1 prunes the first',
    async () => {
      const vm1 = vms[0] as Vm;
      const up = await cli('apply second vm-1', ['apply', files.second, ...one(vm1), '--reboot', '--yes']);
      expect(up.code, show(up)).toBe(0);
      expect(await sh(vm1, 'uname -r')).toBe(k2);
      const p = await cli('plan second vm-1', ['plan', files.second, ...one(vm1)]);
      expect(p.out, show(p)).toContain('No changes.');
      expect(p.out, show(p)).toContain(
        `Kept kernels: ${k2} (default, running), ${k1}; a rollback would choose ${k1}`,
      );

      const rb = await cli('rollback vm-1', ['rollback', files.second, ...one(vm1), '--reboot', '--yes']);
      expect(rb.code, show(rb)).toBe(0);
      expect(rb.out, show(rb)).toContain(`roll back: boot ${k1} once`);
      expect(await sh(vm1, 'uname -r')).toBe(k1);
      expect(await sh(vm1, 'grub-editenv list')).toContain(`saved_entry=kernelfile-${k1}`);
      const st = await cli('status second vm-1', ['status', files.second, ...one(vm1)]);
      expect(st.code, show(st)).toBe(3); // installed, not booted: the kernelfile names the second kernel
      expect(st.out, show(st)).toContain('installed, not booted');

      const prune = await cli('apply second keep 1 vm-1', [
        'apply',
        files.secondKeep1,
        ...one(vm1),
        '--reboot',
        '--yes',
      ]);
      expect(prune.code, show(prune)).toBe(0);
      expect(await sh(vm1, 'uname -r')).toBe(k2);
      expect(
        await sh(vm1, `ls /boot /lib/modules; grep -c "${k1}" /boot/grub/grub.cfg || true`),
      ).not.toContain(k1);
      expect(await sh(vm1, `test -e /var/lib/kernelfile/${k1}.json && echo yes || echo no`)).toBe('no');
      const last = await cli('plan second keep 1 vm-1', ['plan', files.secondKeep1, ...one(vm1)]);
      expect(last.out, show(last)).toContain('No changes.');
      expect(last.out, show(last)).toContain(
        `Kept kernels: ${k2} (default, running); a rollback would choose none`,
      );
    },
    40 * 60_000,
  );
});
