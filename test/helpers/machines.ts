/**
 * Rebootable Debian bookworm VMs for end-to-end tests of `kernelfile apply --reboot`: real machines
 * under QEMU (TCG) that boot through a real boot loader, reached by kernelfile over SSH on a loopback
 * port, and that come back after a reboot.
 *
 *   const vm = await startVm({ kind: 'bios', dir });   // or 'uefi'
 *   const bootId = await vm.waitUp();                    // sshd answers
 *   await kernelfile(['apply', FILE, ...vm.cliArgs(), '--yes', '--reboot']);
 *   await vm.stop();
 *
 * Kinds (machines-image.ts builds and caches their base images, 15 to 20 min each the first time):
 *   bios   SeaBIOS → GRUB (grub-pc, GRUB_DEFAULT=saved, serial console) → Debian's kernel,
 *          initramfs-tools; /boot on the root ext4
 *   uefi   OVMF → systemd-boot (ESP at /boot/efi, loader.conf's default: the Debian kernel's BLS
 *          entry by file name) → Debian's kernel, dracut, kernel-install
 *
 * Each VM is a qcow2 overlay on the cached base (which never changes), its own copy of the OVMF
 * variables (uefi: one-time entries persist across its reboots), a free port on 127.0.0.1
 * forwarded to its sshd, and a supervisor (machines-qemu.ts): QEMU runs with -no-reboot and is
 * started again after each exit, so a guest `reboot` (or a panic, with panic=5) is a fresh QEMU
 * process on the same disk; stop() ends that. One console log per boot, `boot-N.log`.
 *
 * SSH: every VM of an image has that image's host key; each VM gets a known_hosts file naming it
 * for its port (`[127.0.0.1]:PORT ssh-ed25519 …`), so kernelfile checks host keys for real. root
 * logs in with the image's test key (`identity`). `cliArgs()` is what the CLI needs for one VM;
 * `inventoryEntry()` the Ansible variables of a host of an inventory (with one `--known-hosts` per VM,
 * or the lines of `knownHostsLine()` in one file).
 *
 * Resources: QEMU with -m 384 and tb-size=256 is about 550 MB (bios) or 620 MB (uefi) resident; three
 * at once fit a 2-core CI machine (sshd after ~170 s then, on a busy machine). No QEMU outlives the
 * test process (see machines-qemu.ts).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureVmImage, OVMF_CODE, readVmImage, type VmImage, type VmKind } from './machines-image.js';
import { launchMachine } from './machines-qemu.js';
import { note, type ProcResult, requireCommands, runOk, secs } from './proc.js';

export { ensureVmImage, readVmImage, VM_KINDS, type VmImage, type VmKind } from './machines-image.js';
export { runningQemuPids } from './machines-qemu.js';

export interface StartVmOptions {
  kind: VmKind;
  /** A name for messages and the VM's directory (default `vm-KIND-N`). */
  name?: string;
  /** The test's temp directory: the VM's files go into `${dir}/${name}/`. */
  dir: string;
  /** Guest memory (default 384 MiB). */
  memoryMb?: number;
}

/** The Ansible variables of a VM as a host of a YAML inventory. */
export interface VmInventoryVars {
  ansible_host: string;
  ansible_port: number;
  ansible_user: 'root';
  ansible_ssh_private_key_file: string;
}

export interface Vm {
  readonly name: string;
  readonly kind: VmKind;
  /** The image it runs (release, machine id, default entry, …). */
  readonly image: VmImage;
  /** Its directory: overlay.qcow2, OVMF_VARS_4M.fd (uefi), known_hosts, boot-N.log. */
  readonly dir: string;
  /** 127.0.0.1 */
  readonly host: string;
  readonly port: number;
  /** What `--host` takes: `ssh://root@127.0.0.1:PORT`. */
  readonly address: string;
  /** A known_hosts file with this VM's host key for its port. */
  readonly knownHosts: string;
  /** The private key authorized for root. */
  readonly identity: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…`, for a known_hosts file shared by several VMs. */
  knownHostsLine(): string;
  /** `--host ADDRESS --identity KEY --known-hosts FILE --ssh-config none`: the CLI's options for this VM. */
  cliArgs(): string[];
  inventoryEntry(): VmInventoryVars;
  /** Run a command (argv, quoted for the guest's shell) as root over SSH; never rejects on a non-zero exit. */
  ssh(argv: readonly string[], opts?: { stdin?: string | Buffer; timeoutMs?: number }): Promise<ProcResult>;
  /**
   * Until sshd answers and the boot id can be read (default timeout 5 min); returns the boot id.
   * `otherThan`: wait for a boot other than this one (after asking for a reboot).
   */
  waitUp(timeoutMs?: number, opts?: { otherThan?: string }): Promise<string>;
  /** How many times QEMU was started (1 after startVm; each reboot adds one). */
  readonly boots: number;
  /** The serial console of boot n (1-based; default the latest), as far as it got. */
  console(n?: number): string;
  consolePath(n?: number): string;
  /** Kill QEMU and let the supervisor start it again: a power cycle (for a guest that hangs). */
  powerCycle(): Promise<void>;
  /** Poweroff over SSH (then kill after a short grace); no more restarts. Idempotent. */
  stop(): Promise<void>;
}

let counter = 0;

/**
 * Start a VM of a kind on an overlay of its cached image (built first if need be). Returns once QEMU
 * runs and holds its port, while the guest boots: waitUp() waits for its sshd.
 */
export async function startVm(opts: StartVmOptions): Promise<Vm> {
  requireCommands('a test VM', [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-img', 'qemu-utils'],
    ['ssh', 'openssh-client'],
  ]);
  const image = readVmImage(await ensureVmImage(opts.kind));
  const name = opts.name ?? `vm-${opts.kind}-${++counter}`;
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`startVm: a VM name is letters, digits, '.', '_' and '-': ${name}`);
  const dir = join(opts.dir, name);
  await mkdir(dir, { recursive: true });
  const overlay = join(dir, 'overlay.qcow2');
  await runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'qcow2', overlay]);
  let firmware: { code: string; vars: string } | undefined;
  if (image.vars) {
    firmware = { code: OVMF_CODE, vars: join(dir, 'OVMF_VARS_4M.fd') };
    await copyFile(image.vars, firmware.vars);
  }
  const m = await launchMachine({
    name,
    dir,
    disk: overlay,
    diskFormat: 'qcow2',
    ...(firmware ? { firmware } : {}),
    ...(opts.memoryMb ? { memoryMb: opts.memoryMb } : {}),
    identity: image.identity,
    hostKey: image.hostKey,
  });
  const { port, knownHosts } = m;
  const knownHostsLine = `[127.0.0.1]:${port} ${image.hostKey}`;
  const address = `ssh://root@127.0.0.1:${port}`;
  return {
    name,
    kind: opts.kind,
    image,
    dir,
    host: '127.0.0.1',
    port,
    address,
    knownHosts,
    identity: image.identity,
    knownHostsLine: () => knownHostsLine,
    cliArgs: () => [
      '--host',
      address,
      '--identity',
      image.identity,
      '--known-hosts',
      knownHosts,
      '--ssh-config',
      'none',
    ],
    inventoryEntry: () => ({
      ansible_host: '127.0.0.1',
      ansible_port: port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: image.identity,
    }),
    ssh: (argv, o) => m.ssh(argv, o),
    waitUp: (timeoutMs, o) => m.waitUp(timeoutMs, o),
    get boots() {
      return m.boots;
    },
    console: (n) => m.console(n),
    consolePath: (n) => m.consolePath(n),
    powerCycle: () => m.powerCycle(),
    stop: () => m.stop(),
  };
}

/** Start VMs together and wait until each answers over SSH; notes how long that took. */
export async function startVms(opts: StartVmOptions[], timeoutMs = 10 * 60_000): Promise<Vm[]> {
  const t0 = Date.now();
  const vms = await Promise.all(opts.map((o) => startVm(o)));
  try {
    await Promise.all(vms.map((vm) => vm.waitUp(timeoutMs)));
  } catch (e) {
    await Promise.all(vms.map((vm) => vm.stop()));
    throw e;
  }
  note(`${vms.map((v) => v.name).join(', ')}: up (sshd) ${secs(Date.now() - t0)} after start`);
  return vms;
}
