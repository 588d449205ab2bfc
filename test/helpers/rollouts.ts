/**
 * Helpers of the rollout end-to-end tests (test/e2e/rollout.test.ts): kernelfiles derived from
 * examples/qemu-vm, the CLI with its output kept for failures, and what a VM's boot loader says its
 * default is, read with the loader's own tools (not through kernelfile).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { BootFacts } from '../../src/facts/types.js';
import type { StatusRow } from '../../src/fleet/status.js';
import { type Cli, type CliOptions, kernelfile } from './cli.js';
import { jsonOutput } from './json-schemas.js';
import { ensureVmKernelArtifacts, VM_EXAMPLE } from './kernel-artifacts.js';
import type { Vm } from './machines.js';
import { note, secs } from './proc.js';

/** What a variant of examples/qemu-vm changes. */
export interface VmKernelfileVariant {
  /** kernel.localversion (a distinct build; `ensureVmKernelArtifacts({ localversion })` builds it). */
  localversion?: string;
  /** Words added to the boot entry's command line (after the example's own). */
  cmdlineExtra?: string;
  /** boot.healthCheck */
  healthCheck?: { command: string; timeout?: number };
  /** boot.keep */
  keep?: number;
}

/**
 * Write a copy of examples/qemu-vm/kernelfile.yaml to `file` with the variant's changes; its
 * fragment path made absolute, so the copy has the example's build id (and finds its build in the
 * tests' cache).
 */
export function writeVmKernelfile(file: string, v: VmKernelfileVariant = {}): string {
  const doc = parseDocument(readFileSync(VM_EXAMPLE, 'utf8'));
  const base = dirname(VM_EXAMPLE);
  const fragments = doc.getIn(['config', 'fragments']) as { items: Array<{ value: string }> };
  fragments.items.forEach((item, i) => {
    doc.setIn(['config', 'fragments', i], resolve(base, item.value));
  });
  if (v.localversion !== undefined) doc.setIn(['kernel', 'localversion'], v.localversion);
  if (v.cmdlineExtra) {
    const cmdline = doc.getIn(['boot', 'entries', 0, 'cmdline']) as string;
    doc.setIn(['boot', 'entries', 0, 'cmdline'], `${cmdline} ${v.cmdlineExtra}`);
  }
  if (v.healthCheck) doc.setIn(['boot', 'healthCheck'], doc.createNode(v.healthCheck));
  if (v.keep !== undefined) doc.setIn(['boot', 'keep'], v.keep);
  writeFileSync(file, doc.toString());
  return file;
}

/** The release of examples/qemu-vm's build (or a localversion variant's), built once into the cache. */
export async function vmRelease(localversion?: string): Promise<string> {
  const dir = await ensureVmKernelArtifacts(localversion === undefined ? {} : { localversion });
  return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { release: string }).release;
}

/** A CLI run's exit code and output, for expectation messages. */
export const show = (r: Cli) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

/** Run the CLI and note how long it took (the rollout's figures). */
export async function cli(what: string, args: string[], opts: CliOptions = {}): Promise<Cli> {
  const t0 = Date.now();
  const r = await kernelfile(args, opts);
  note(`${what}: ${secs(Date.now() - t0)} (exit ${r.code})`);
  return r;
}

/** Run over SSH and insist on exit 0; its stdout. */
export async function sh(vm: Vm, argv: string[]): Promise<string> {
  const r = await vm.ssh(argv);
  if (r.code !== 0)
    throw new Error(`${vm.name}: \`${argv.join(' ')}\` exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export async function running(vm: Vm): Promise<string> {
  return (await sh(vm, ['uname', '-r'])).trim();
}

const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

/** A systemd-boot EFI variable (UTF-16 string) of the VM, or null when it is not set. */
export async function loaderVar(vm: Vm, name: string): Promise<string | null> {
  const r = await vm.ssh(['base64', '-w0', `/sys/firmware/efi/efivars/${name}-${LOADER_GUID}`]);
  if (r.code !== 0) return null;
  return Buffer.from(r.stdout.trim(), 'base64').subarray(4).toString('utf16le').replace(/\0.*$/s, '');
}

/**
 * What the VM's loader boots by default, by its own records: bios, GRUB's `saved_entry` in grubenv
 * (null when unset: the first menu entry); uefi, the `LoaderEntryDefault` EFI variable that
 * `bootctl set-default` writes (null when unset: loader.conf's `default`).
 */
export async function loaderDefault(vm: Vm): Promise<string | null> {
  if (vm.kind === 'uefi') return loaderVar(vm, 'LoaderEntryDefault');
  const env = await sh(vm, ['grub-editenv', '/boot/grub/grubenv', 'list']);
  return /^saved_entry=(.*)$/m.exec(env)?.[1] ?? null;
}

/** GRUB's `next_entry` (bios) or the `LoaderEntryOneShot` EFI variable (uefi): an armed one-time boot. */
export async function loaderOneShot(vm: Vm): Promise<string | null> {
  if (vm.kind === 'uefi') return loaderVar(vm, 'LoaderEntryOneShot');
  const env = await sh(vm, ['grub-editenv', '/boot/grub/grubenv', 'list']);
  const next = /^next_entry=(.*)$/m.exec(env)?.[1];
  return next ? next : null;
}

/** `status --json`: its exit code and rows by host name. */
export async function status(
  what: string,
  args: string[],
): Promise<{ code: number | null; hosts: Record<string, StatusRow>; raw: Cli }> {
  const r = await cli(what, ['status', ...args, '--json']);
  let hosts: Record<string, StatusRow> = {};
  try {
    // What it printed is valid against schemas/kernelfile-status.schema.json.
    const j = jsonOutput(r.out, 'status');
    hosts = Object.fromEntries(j.hosts.map((h) => [h.name, h]));
  } catch (e) {
    throw new Error(`status --json printed no status document (${(e as Error).message}):\n${show(r)}`);
  }
  return { code: r.code, hosts, raw: r };
}

/** The facts kernelfile reads (its own SSH client): the boot entries and the default. */
export async function bootFacts(vm: Vm): Promise<BootFacts> {
  const r = await kernelfile(['facts', ...vm.cliArgs(), '--json']);
  if (r.code !== 0) throw new Error(`facts on ${vm.name}:\n${show(r)}`);
  return jsonOutput(r.out, 'facts').boot;
}
