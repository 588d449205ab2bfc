/**
 * The rebootable VM harness (test/helpers/machines.ts), one VM per kind, side by side: each boots
 * from an overlay of its cached image through its real boot loader (bios: GRUB; uefi: systemd-boot
 * under OVMF), answers over SSH with a host key that is checked, then takes a one-time boot entry
 * that adds a marker to the kernel command line and reboots: the supervisor starts QEMU again, the
 * marker entry boots once (the loader consumed the one-time choice), with a new boot id. kernelfile
 * itself reads each VM's facts through vm.cliArgs(), checking the pinned host key.
 *
 * The images are built on first use (15 to 20 min each under TCG) and cached; with them cached, this
 * file takes two boots per kind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { ensureVmImage, runningQemuPids, startVm, VM_KINDS, type Vm } from '../helpers/machines.js';
import { note, run, secs } from '../helpers/proc.js';
import { portOpen } from '../helpers/sshd.js';

const MARKER = 'kf.marker=oneshot';
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

let dir: string;
const vms: Vm[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kf-e2e-machines-'));
});

afterAll(async () => {
  await Promise.all(vms.map((vm) => vm.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Run over SSH and insist on exit 0; the output otherwise. */
async function sh(vm: Vm, argv: string[], stdin?: string): Promise<string> {
  const r = await vm.ssh(argv, stdin === undefined ? {} : { stdin });
  if (r.code !== 0)
    throw new Error(`${vm.name}: \`${argv.join(' ')}\` exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** An EFI variable of systemd-boot as a string, or null when it is not set. */
async function loaderVar(vm: Vm, name: string): Promise<string | null> {
  const r = await vm.ssh(['base64', '-w0', `/sys/firmware/efi/efivars/${name}-${LOADER_GUID}`]);
  if (r.code !== 0) return null;
  return Buffer.from(r.stdout.trim(), 'base64').subarray(4).toString('utf16le').replace(/\0.*$/s, '');
}

describe.concurrent('rebootable VMs', () => {
  it.for(VM_KINDS)(
    '%s: boots through its loader, takes a one-time entry once across a reboot',
    async (kind, { expect }) => {
      const t0 = Date.now();
      await ensureVmImage(kind);
      note(`${kind}: image ready ${secs(Date.now() - t0)} after the test started`);

      const t1 = Date.now();
      const vm = await startVm({ kind, dir });
      vms.push(vm);
      const firstBoot = await vm.waitUp(10 * 60_000);
      note(`${kind}: cold boot to sshd: ${secs(Date.now() - t1)}`);
      const { image } = vm;
      expect(vm.boots).toBe(1);
      expect(vm.address).toBe(`ssh://root@127.0.0.1:${vm.port}`);
      expect((await sh(vm, ['uname', '-r'])).trim()).toBe(image.release);
      expect((await sh(vm, ['cat', '/etc/machine-id'])).trim()).toBe(image.machineId);
      expect((await sh(vm, ['hostname'])).trim()).toBe(image.hostname);

      // Host keys are checked for real: without this VM's known_hosts line, ssh refuses it.
      const stranger = await run([
        'ssh',
        ...['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', vm.identity],
        ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null'],
        ...['-o', 'StrictHostKeyChecking=yes', '-p', String(vm.port), 'root@127.0.0.1', 'true'],
      ]);
      expect(stranger.code).toBe(255);
      expect(stranger.stderr).toContain('Host key verification failed');

      // What kernelfile sees through vm.cliArgs() (its own SSH client, the pinned host key): the
      // loader and initramfs generator of the kind, and the Debian entry as the default.
      const facts = await kernelfile(['facts', ...vm.cliArgs(), '--json']);
      expect(facts.code, facts.err).toBe(0);
      const f = jsonOutput(facts.out, 'facts');
      expect(f.system.running).toBe(image.release);
      expect(f.system.machineId).toBe(image.machineId);
      expect(f.boot.loader).toBe(kind === 'bios' ? 'grub' : 'systemd-boot');
      expect(f.initramfs.tool).toBe(kind === 'bios' ? 'initramfs-tools' : 'dracut');
      const def = f.boot.entries.find((e) => e.id === f.boot.default);
      expect(kind === 'bios' ? def?.title : `${def?.id}.conf`).toBe(image.defaultEntry);

      const cmdline = (await sh(vm, ['cat', '/proc/cmdline'])).trim();
      expect(cmdline).toContain(`root=UUID=${image.rootUuid} ro console=ttyS0,115200 panic=5`);
      expect(cmdline).not.toContain(MARKER);

      // The loader is the real one, and the one-time entry: a copy of the Debian entry plus the marker.
      if (kind === 'bios') {
        expect(cmdline.startsWith(`BOOT_IMAGE=/boot/vmlinuz-${image.release} `), cmdline).toBe(true);
        expect(vm.console(1)).toContain('GNU GRUB');
        expect(await sh(vm, ['grep', '-c', '^menuentry ', '/boot/grub/grub.cfg'])).not.toBe('0\n');
        expect(await sh(vm, ['grub-editenv', '/boot/grub/grubenv', 'list'])).not.toMatch(/^next_entry=\S/m);
        // 41_custom sources /boot/grub/custom.cfg at boot: an entry without running update-grub.
        const entry = [
          "menuentry 'kf-marker' --id kf-marker {",
          '  insmod part_gpt',
          '  insmod ext2',
          `  search --no-floppy --fs-uuid --set=root ${image.rootUuid}`,
          `  linux /boot/vmlinuz-${image.release} root=UUID=${image.rootUuid} ro console=ttyS0,115200 panic=5 ${MARKER}`,
          `  initrd /boot/initrd.img-${image.release}`,
          '}',
          '',
        ].join('\n');
        await sh(vm, ['sh', '-c', 'cat > /boot/grub/custom.cfg'], entry);
        await sh(vm, ['grub-reboot', 'kf-marker']);
        expect(await sh(vm, ['grub-editenv', '/boot/grub/grubenv', 'list'])).toMatch(
          /^next_entry=kf-marker$/m,
        );
      } else {
        expect(await sh(vm, ['bootctl', 'status', '--no-pager'])).toMatch(/Product: systemd-boot/);
        const entries = (await sh(vm, ['ls', '/boot/efi/loader/entries'])).split('\n').filter(Boolean);
        expect(entries).toContain(image.defaultEntry);
        expect(image.defaultEntry).toBe(`${image.machineId}-${image.release}.conf`);
        expect(await sh(vm, ['bootctl', 'list', '--no-pager'])).toContain(image.defaultEntry);
        expect(await loaderVar(vm, 'LoaderEntrySelected')).toBe(image.defaultEntry);
        expect(await sh(vm, ['cat', '/boot/efi/loader/loader.conf'])).toMatch(
          new RegExp(`^default ${image.defaultEntry.replace(/\./g, '\\.')}$`, 'm'),
        );
        await sh(vm, [
          'sh',
          '-c',
          `sed -e 's/^title .*/title kf-marker/' -e '/^options / s/$/ ${MARKER}/' "/boot/efi/loader/entries/$1" > /boot/efi/loader/entries/kf-marker.conf`,
          'kf',
          image.defaultEntry,
        ]);
        await sh(vm, ['bootctl', 'set-oneshot', 'kf-marker.conf']);
        expect(await loaderVar(vm, 'LoaderEntryOneShot')).toBe('kf-marker.conf');
      }

      // The guest reboots: QEMU exits (-no-reboot) and the supervisor starts it again.
      const t2 = Date.now();
      const asked = await vm.ssh(['systemctl', 'reboot']);
      expect([0, 255]).toContain(asked.code);
      const secondBoot = await vm.waitUp(10 * 60_000, { otherThan: firstBoot });
      note(`${kind}: reboot to sshd: ${secs(Date.now() - t2)}`);
      expect(secondBoot).not.toBe(firstBoot);
      expect(vm.boots).toBe(2);
      expect((await sh(vm, ['cat', '/proc/cmdline'])).trim()).toContain(MARKER);
      expect(vm.console(2)).toContain(MARKER);
      expect(vm.console(1)).not.toContain(MARKER);
      // Once: the loader took the one-time choice back before booting it.
      if (kind === 'bios') {
        expect(vm.console(2)).toContain('GNU GRUB');
        expect(await sh(vm, ['grub-editenv', '/boot/grub/grubenv', 'list'])).not.toMatch(/^next_entry=\S/m);
      } else {
        expect(await loaderVar(vm, 'LoaderEntrySelected')).toBe('kf-marker.conf');
        expect(await loaderVar(vm, 'LoaderEntryOneShot')).toBeNull();
      }

      const t3 = Date.now();
      await vm.stop();
      note(`${kind}: poweroff: ${secs(Date.now() - t3)}`);
      expect(await portOpen(vm.port)).toBe(false);
      expect(vm.boots).toBe(2);
    },
  );
});

describe('after the VMs', () => {
  it('no QEMU is left running', async ({ expect }) => {
    await Promise.all(vms.map((vm) => vm.stop()));
    expect(runningQemuPids()).toEqual([]);
  });
});
