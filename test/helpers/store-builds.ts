/**
 * Small but real artifacts directories for the store's tests: the files a build leaves (image,
 * System.map, config, a modules tree, a headers tree with an in-tree symbolic link), manifest.json
 * listing them as kernelfile's build does (hashTree), and the ship/ tarballs packed as shipping
 * packs them. No compiler: the bytes are made up, the layout is the real one.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shipFiles } from '../../src/apply/ship.js';
import { hashTree, type Manifest } from '../../src/compile/build.js';

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
