/**
 * `signing:` through the Kconfig truth on Debian's linux-source-6.1 (tinyconfig + examples/qemu-tiny's
 * fragment): the module signing options survive olddefconfig and pull in what they select; without
 * loadable modules they are dropped and the report names the unmet dependency, at the line where
 * `signing` is written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDirs } from '../../src/compile/cache.js';
import { type ConfigInput, resolveConfig } from '../../src/compile/config.js';
import { SIG_KEY_PATH } from '../../src/compile/signing.js';
import { dropDiagnostic } from '../../src/engine/prepare.js';
import type { Spec } from '../../src/spec/schema.js';
import { debianKconfigBuildTree } from '../helpers/debian.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const QEMU = readFileSync(join(root, 'examples/qemu-tiny/fragments/qemu.config'), 'utf8');

let dir: string;
let tree: { dir: string; key: string };
beforeAll(() => {
  tree = { dir: debianKconfigBuildTree(), key: 'debian-6.1-kconfig-part' };
  dir = mkdtempSync(join(tmpdir(), 'kf-signing-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function input(fragment: string, set: Record<string, string> = {}): ConfigInput {
  return {
    tree,
    spec: {
      apiVersion: 'kernelfile/v1',
      name: 't',
      kernel: { version: '6.1.192', source: { path: '/x' }, localversion: '-t' },
      config: { base: 'tinyconfig', fragments: ['f.config'], set, onDropped: 'error' },
      signing: { key: 'k', certificate: 'c', modules: true, dkms: true, image: false, enroll: true },
    } as unknown as Spec,
    arch: 'x86_64',
    fragments: [{ abs: '/k/f.config', written: 'f.config', text: fragment }],
    setOrigin: (symbol) => ({
      file: 'kernelfile.yaml',
      line: symbol.startsWith('CONFIG_MODULE_SIG') ? 40 : 20,
      column: 3,
    }),
    toolchain: 'gcc (test) | ld (test)',
    dirs: cacheDirs(join(dir, 'cache')),
  };
}

describe('module signing through Kconfig', { timeout: 10 * 60_000 }, () => {
  it('survives on the qemu-tiny configuration, with the key at the fixed relative path', async () => {
    const c = await resolveConfig(input(QEMU, { CONFIG_64BIT: 'y' }));
    expect(c.dropped).toEqual([]);
    expect(c.effective).toMatchObject({
      CONFIG_MODULE_SIG: 'y',
      CONFIG_MODULE_SIG_ALL: 'y',
      CONFIG_MODULE_SIG_SHA256: 'y',
      CONFIG_MODULE_SIG_HASH: '"sha256"',
      CONFIG_MODULE_SIG_KEY: `"${SIG_KEY_PATH}"`,
      CONFIG_SYSTEM_DATA_VERIFICATION: 'y',
      CONFIG_SYSTEM_TRUSTED_KEYRING: 'y',
    });
    expect(c.requestedSymbols).toContain('CONFIG_MODULE_SIG_KEY');
    expect(c.text).not.toContain(dir);
  });

  it('without loadable modules is dropped, and the error names the unmet dependency at signing', async () => {
    const c = await resolveConfig(input('CONFIG_64BIT=y\nCONFIG_PRINTK=y\n'));
    const sig = c.dropped.find((d) => d.symbol === 'CONFIG_MODULE_SIG');
    expect(sig).toMatchObject({ kind: 'depends', origin: { file: 'kernelfile.yaml', line: 40 } });
    expect(sig?.reason).toContain('MODULES');
    const d = dropDiagnostic(sig as NonNullable<typeof sig>, 'error');
    expect(d.message).toMatch(/^CONFIG_MODULE_SIG=y dropped \(got n\): depends on .*MODULES \[=n\]/);
    expect(d).toMatchObject({ file: 'kernelfile.yaml', line: 40 });
    expect(c.dropped.map((x) => x.symbol).sort()).toEqual(
      [
        'CONFIG_MODULE_SIG',
        'CONFIG_MODULE_SIG_ALL',
        'CONFIG_MODULE_SIG_KEY',
        'CONFIG_MODULE_SIG_SHA256',
      ].sort(),
    );
  });
});
