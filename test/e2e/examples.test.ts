/**
 * The examples are real: the CLI (as installed by `npm ci`) validates each of them against this
 * machine's files, and their patches apply to Debian's real linux-source-6.1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_SOURCE, DEBIAN_SOURCE_TOP, requireDebianSource } from '../helpers/debian.js';
import { signedExampleCopy } from '../helpers/kernel-artifacts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/kernelfile.cjs');
const kernelfile = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });

const SIGNED = 'examples/qemu-signed/kernelfile.yaml';
const examples = [
  'kernelfile.example.yaml',
  ...readdirSync(join(root, 'examples'))
    .map((d) => `examples/${d}/kernelfile.yaml`)
    .filter((f) => existsSync(join(root, f))),
];

describe('the kernelfile command as installed', () => {
  it('validates every example with exit 0 and no warnings', async () => {
    requireDebianSource();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const f of examples) {
      if (f === SIGNED) continue;
      const r = kernelfile('validate', '--strict', f);
      expect(r.stdout + r.stderr, f).toBe(`${f} is valid.\n`);
      expect(r.status, f).toBe(0);
    }
    // The signing example names a key pair nobody commits: it is validated in a copy holding the test pair.
    const dir = mkdtempSync(join(tmpdir(), 'kf-signed-example-'));
    try {
      const copy = await signedExampleCopy(dir);
      const r = kernelfile('validate', '--strict', copy);
      expect(r.stdout + r.stderr).toBe(`${copy} is valid.\n`);
      expect(r.status).toBe(0);
      const bare = kernelfile('validate', SIGNED);
      expect(bare.status).toBe(1);
      expect(bare.stdout).toContain('signing key not found: keys/mok.key');
      expect(bare.stdout).toContain('kernelfile keygen');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every example starts with a yaml-language-server line naming the schema', () => {
    for (const f of examples) {
      const first = readFileSync(join(root, f), 'utf8').split('\n')[0] as string;
      const m = first.match(/^# yaml-language-server: \$schema=(\S+)$/);
      expect(m, `${f}: ${first}`).not.toBeNull();
      expect(resolve(dirname(join(root, f)), (m as RegExpMatchArray)[1] as string)).toBe(
        join(root, 'schemas/kernelfile.schema.json'),
      );
    }
  });

  it('is also reachable as `npx kernelfile` in the checkout', () => {
    const r = spawnSync('npx', ['--no-install', 'kernelfile', 'validate', 'kernelfile.example.yaml'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('kernelfile.example.yaml is valid.\n');
    expect(r.status).toBe(0);
  });

  it('exits 1 with diagnostics on stdout, never a stack trace, for a broken kernelfile', () => {
    const r = spawnSync(process.execPath, [bin, 'validate', '-'], {
      cwd: root,
      encoding: 'utf8',
      input: 'apiVersion: kernelfile/v1\nname: x\nkernel: [\n',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^<stdin>:3:9: error: /);
    expect(r.stdout + r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('prints its version', () => {
    const r = kernelfile('--version');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('example patches apply to the real Debian source', () => {
  let src: string;
  beforeAll(() => {
    requireDebianSource();
    src = mkdtempSync(join(tmpdir(), 'kf-src-'));
    // Only the files the example patches touch: decompressing the whole tarball is not needed.
    execFileSync('tar', [
      '-xJf',
      DEBIAN_SOURCE,
      '-C',
      src,
      '--strip-components=1',
      `${DEBIAN_SOURCE_TOP}/init/main.c`,
      `${DEBIAN_SOURCE_TOP}/mm/vmscan.c`,
    ]);
  }, 120_000);
  afterAll(() => rmSync(src, { recursive: true, force: true }));

  it.each([
    'examples/qemu-tiny/patches/0001-init-announce-kernelfile-build.patch',
    'examples/server/patches/0001-mm-default-vm.swappiness-to-10.patch',
  ])('%s', (patch) => {
    const r = spawnSync('patch', ['-p1', '--dry-run', '--batch', '-i', join(root, patch)], {
      cwd: src,
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^checking file /);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
