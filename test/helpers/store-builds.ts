/**
 * Small but real artifacts directories for the store's tests: the files a build leaves (image,
 * System.map, config, a modules tree, a headers tree with an in-tree symbolic link), manifest.json
 * listing them as kernelfile's build does (hashTree), and the ship/ tarballs packed as shipping
 * packs them. No compiler: the bytes are made up, the layout is the real one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shipFiles } from '../../src/apply/ship.js';
import { hashTree, type Manifest } from '../../src/compile/build.js';
import { runOk } from './proc.js';
import type { SshHost } from './sshd.js';

export const FAKE_RELEASE = (buildId: string) => `6.1.0-kf${buildId.slice(0, 12)}`;

export async function makeBuildDir(
  artifacts: string,
  buildId: string,
  fill = 'x',
): Promise<{ dir: string; manifest: Manifest }> {
  const release = FAKE_RELEASE(buildId);
  const dir = join(artifacts, buildId);
  const mods = join(dir, 'modules/lib/modules', release);
  mkdirSync(join(mods, 'kernel/drivers'), { recursive: true });
  mkdirSync(join(dir, 'headers/scripts/dtc/include-prefixes'), { recursive: true });
  mkdirSync(join(dir, 'headers/include/dt-bindings'), { recursive: true });
  writeFileSync(join(dir, 'vmlinuz'), Buffer.alloc(200_000, fill));
  writeFileSync(join(dir, 'System.map'), `ffffffff81000000 T _text ${buildId}\n`);
  writeFileSync(join(dir, 'config'), `CONFIG_LOCALVERSION="${fill}"\nCONFIG_MODULES=y\n`);
  writeFileSync(join(mods, 'kernel/drivers/hello.ko'), Buffer.alloc(5000, 'k'));
  writeFileSync(join(mods, 'modules.order'), 'kernel/drivers/hello.ko\n');
  writeFileSync(join(dir, 'headers/Makefile'), 'VERSION = 6\n');
  writeFileSync(join(dir, 'headers/include/dt-bindings/gpio.h'), '#define GPIO 1\n');
  writeFileSync(join(dir, 'headers/scripts/fixdep'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('../../../include/dt-bindings', join(dir, 'headers/scripts/dtc/include-prefixes/dt-bindings'));
  const files = await hashTree(dir, ['build.log']);
  const manifest: Manifest = {
    formatVersion: 1,
    buildId,
    name: 'store-test',
    version: '6.1.0',
    release,
    arch: 'x86_64',
    kernelArch: 'x86_64',
    image: 'vmlinuz',
    modules: true,
    toolchain: 'gcc 12',
    source: 's'.repeat(64),
    patches: [],
    files,
    seconds: 1,
    compileSeconds: 1,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'provenance.json'), '{"_type":"https://in-toto.io/Statement/v1"}\n');
  await shipFiles(dir, release);
  return { dir, manifest };
}

/** The blobs of a build directory by layer title, as the engine pushes them. */
export async function buildFiles(dir: string, release: string): Promise<Record<string, string>> {
  const ship = await shipFiles(dir, release);
  return {
    ...ship,
    'manifest.json': join(dir, 'manifest.json'),
    'provenance.json': join(dir, 'provenance.json'),
  };
}

const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/qemu-tiny', import.meta.url));

/**
 * examples/qemu-tiny's build (the same build id: source, config, patch) without its DKMS module and
 * initramfs, so that many hosts install it quickly; with `cache.store` when a store URL is given.
 */
export function lightExampleKernelfile(store?: string): string {
  return [
    'apiVersion: kernelfile/v1',
    'name: store-fleet',
    'kernel:',
    '  version: "6.1.192"',
    '  source:',
    '    path: /usr/src/linux-source-6.1.tar.xz',
    '  localversion: -tiny',
    'config:',
    '  base: tinyconfig',
    '  fragments:',
    `    - ${EXAMPLE_DIR}/fragments/qemu.config`,
    '  set:',
    '    CONFIG_64BIT: y',
    'patches:',
    `  - path: ${EXAMPLE_DIR}/patches/0001-init-announce-kernelfile-build.patch`,
    '    strip: 1',
    'initramfs:',
    '  generator: none',
    'boot:',
    '  loader: auto',
    '  entries:',
    '    - title: "kernelfile {name} ({release})"',
    '      cmdline: console=ttyS0',
    '      root: /dev/vda',
    ...(store ? ['cache:', `  store: ${store}`] : []),
    '',
  ].join('\n');
}

/**
 * Hosts in network namespaces reaching a store on this machine: the store is named by the first
 * host's gateway (an address of this machine, so the controller reaches it too), and each other
 * host listed in `near` gets a route to it through its own gateway. Returns that address.
 */
export async function routeToStore(first: SshHost, near: SshHost[]): Promise<string> {
  const address = first.netns?.gateway;
  if (!address) throw new Error('routeToStore: not a netns host');
  for (const h of near) {
    if (h === first) continue;
    const ns = h.netns;
    if (!ns) throw new Error('routeToStore: not a netns host');
    await runOk(['ip', '-n', ns.name, 'route', 'add', `${address}/32`, 'via', ns.gateway]);
  }
  return address;
}

/** Every file under dir (relative path → its bytes' sha256), symbolic links as `-> target`. */
export function treeDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    const rel = p.slice(dir.length + 1);
    if (e.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
    else if (e.isFile()) out[rel] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

/** An Ansible YAML inventory of `hosts` (name → host) reached as root with their keys, all with `kernelfile`. */
export function rootInventory(kernelfile: string, hosts: Array<[string, SshHost]>): string {
  return [
    'all:',
    '  vars:',
    `    kernelfile: ${kernelfile}`,
    '  hosts:',
    ...hosts.flatMap(([name, h]) => [
      `    ${name}:`,
      `      ansible_host: ${h.address}`,
      '      ansible_user: root',
      `      ansible_ssh_private_key_file: ${h.keys.root.privateKeyPath}`,
    ]),
    '',
  ].join('\n');
}
