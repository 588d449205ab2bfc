/**
 * A build's artifacts as the controller's cache holds them, small and fake, for unit tests of the
 * executor and the rollout: the /boot files and the ship/ tarballs already packed (so nothing runs
 * tar), and a manifest listing the files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/compile/build.js';

export function fakeArtifactsDir(root: string, buildId: string): string {
  const dir = join(root, `artifacts-${buildId.slice(0, 8)}`);
  mkdirSync(join(dir, 'ship'), { recursive: true });
  for (const f of ['vmlinuz', 'System.map', 'config', 'ship/modules.tar', 'ship/headers.tar'])
    writeFileSync(join(dir, f), `${f} of ${buildId}\n`);
  return dir;
}

export function fakeManifest(buildId: string, release: string, size = 10): Manifest {
  const file = (path: string) => ({ path, sha256: 'a'.repeat(64), size });
  return {
    formatVersion: 1,
    buildId,
    name: 'web',
    version: release.split('-')[0] as string,
    release,
    arch: 'x86_64',
    kernelArch: 'x86_64',
    image: 'arch/x86/boot/bzImage',
    modules: true,
    toolchain: 'gcc 12.2.0',
    source: 'b'.repeat(64),
    patches: [],
    files: [
      file('vmlinuz'),
      file('System.map'),
      file('config'),
      file(`modules/lib/modules/${release}/kernel/a.ko`),
    ],
    seconds: 1,
    compileSeconds: 1,
  };
}
