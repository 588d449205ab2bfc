/**
 * `kernelfile build` end to end, as a user runs it: the qemu-tiny example from Debian's real
 * linux-source-6.1 (patched, tinyconfig + fragment), then each way a build must stop early.
 * The cache persists between runs (KERNELFILE_TEST_CACHE), so a rerun is a cache hit.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_SOURCE, requireDebianSource } from '../helpers/debian.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { TEST_BUILD_CACHE } from '../helpers/kernel-artifacts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/kernelfile.cjs');
/** The build cache the suites share (kept between runs): the kernel is compiled once. */
const BUILD_CACHE = TEST_BUILD_CACHE;

function kernelfile(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: BUILD_CACHE },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const cacheEntries = (sub: string) =>
  existsSync(join(BUILD_CACHE, 'kernelfile', sub))
    ? readdirSync(join(BUILD_CACHE, 'kernelfile', sub)).sort()
    : [];

let work: string;
beforeAll(() => {
  requireDebianSource();
  work = mkdtempSync(join(tmpdir(), 'kf-build-e2e-'));
  cpSync(join(root, 'examples/qemu-tiny'), join(work, 'qemu-tiny'), { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('kernelfile build examples/qemu-tiny', () => {
  let result: {
    buildId: string;
    release: string;
    artifacts: {
      dir: string;
      cached: boolean;
      fileCount: number;
      manifest: { release: string };
    };
  };

  it('builds the patched tinyconfig kernel and its artifacts', () => {
    const r = kernelfile(['build', '--json', 'examples/qemu-tiny/kernelfile.yaml']);
    expect(r.err).not.toMatch(/^kernelfile: /m);
    expect(r.code).toBe(0);
    result = jsonOutput(r.out, 'build') as typeof result;
    expect(result.release).toMatch(/^6\.1\.192-tiny-kf[0-9a-f]{8}$/);
    expect(result.release).toBe(`6.1.192-tiny-kf${result.buildId.slice(0, 8)}`);
    const dir = result.artifacts.dir;
    for (const f of [
      'vmlinuz',
      'System.map',
      'config',
      'manifest.json',
      'build.log',
      'headers/Makefile',
      'headers/.config',
      'headers/Module.symvers',
    ])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, 'modules/lib/modules', result.release, 'modules.dep'))).toBe(true);
    const config = readFileSync(join(dir, 'config'), 'utf8');
    expect(config).toMatch(/^CONFIG_64BIT=y$/m);
    expect(config).toMatch(/^CONFIG_SERIAL_8250_CONSOLE=y$/m);
    expect(config).toMatch(/^CONFIG_LOCALVERSION="-tiny"$/m);
    expect(result.artifacts.manifest.release).toBe(result.release);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: { path: string; sha256: string }[];
    };
    expect(manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['vmlinuz', 'System.map', 'config', 'headers/Makefile']),
    );
    expect(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(result.artifacts.fileCount).toBe(manifest.files.length);
    // The log of the compile is kept next to the artifacts (the patch's effect is checked at boot, by verify).
    expect(readFileSync(join(dir, 'build.log'), 'utf8')).toMatch(/^\$ make -C .* bzImage modules$/m);
  });

  it('a second build of the same kernelfile is a cache hit: no make', () => {
    const r = kernelfile(['build', 'examples/qemu-tiny/kernelfile.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Build id: +${result.buildId}$`, 'm'));
    expect(r.out).toMatch(/^Artifacts: .*\(cache hit\)$/m);
  });

  it('verify boots it under QEMU: the release, the patch, and the hello DKMS module', () => {
    const r = kernelfile(['verify', '--json', 'examples/qemu-tiny/kernelfile.yaml']);
    const v = jsonOutput(r.out, 'verify');
    expect(v.problems).toEqual([]);
    expect(r.code).toBe(0);
    expect(v).toMatchObject({ ok: true, release: result.release });
    expect(v.modules).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'kernelfile-hello', status: 'ok' })]),
    );
    const console = readFileSync(v.consoleLog, 'utf8');
    expect(console).toContain('kernelfile: qemu-tiny patch applied');
    expect(console).toContain('kernelfile_hello: loaded');
  });

  it('--config-only resolves the same build id without compiling', () => {
    const r = kernelfile(['build', '--config-only', '--json', 'examples/qemu-tiny/kernelfile.yaml']);
    expect(r.code).toBe(0);
    const j = jsonOutput(r.out, 'build');
    expect(j.buildId).toBe(result.buildId);
    expect(j.artifacts).toBeNull();
    // The progress shows the stage it runs, and no compile stage (pending or skipped).
    expect(r.err).toContain('Source, patches and Kconfig resolution');
    expect(r.err).not.toContain('Compile and collect artifacts');
  });
});

describe('a build that must stop before compiling', () => {
  function variant(name: string, edit: (yaml: string) => string): string {
    const file = join(work, 'qemu-tiny', `${name}.yaml`);
    writeFileSync(file, edit(readFileSync(join(work, 'qemu-tiny', 'kernelfile.yaml'), 'utf8')));
    return file;
  }

  it('a requested value that Kconfig drops names its dependency, at its line, and nothing is compiled', () => {
    // The example has no networking: IPv4 needs CONFIG_NET.
    const file = variant('inet', (y) =>
      y.replace(/^ {4}CONFIG_64BIT: y.*$/m, '    CONFIG_64BIT: y\n    CONFIG_INET: y'),
    );
    const objects = cacheEntries('objects');
    const r = kernelfile(['build', file]);
    expect(r.code).toBe(1);
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('CONFIG_INET')) + 1;
    expect(r.err).toMatch(
      new RegExp(`inet\\.yaml:${line}:5: error: CONFIG_INET=y dropped \\(got n\\): depends on NET \\[=n\\]`),
    );
    expect(cacheEntries('objects')).toEqual(objects);
  });

  it('a corrupted tarball fails its checksum before anything is unpacked', () => {
    const bad = join(work, 'linux-source-6.1.tar.xz');
    copyFileSync(DEBIAN_SOURCE, bad);
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.from('kernelfile'), 0, 10, 4096);
    closeSync(fd);
    const sha = spawnSync('sha256sum', [DEBIAN_SOURCE], { encoding: 'utf8' }).stdout.split(' ')[0] as string;
    const file = variant('corrupt', (y) =>
      y.replace('path: /usr/src/linux-source-6.1.tar.xz', `path: ${bad}\n    sha256: ${sha}`),
    );
    const trees = cacheEntries('trees');
    const r = kernelfile(['build', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `kernelfile: kernel source ${bad.replace(/[.]/g, '\\.')}: sha256 mismatch: the kernelfile says ${sha}, the file has [0-9a-f]{64}`,
      ),
    );
    expect(r.err).toMatch(/nothing was unpacked/);
    expect(cacheEntries('trees')).toEqual(trees);
  });

  it('a patch that does not apply is named with its failed hunk, and nothing is built', () => {
    const patch = join(work, 'qemu-tiny', 'patches', '0002-stale.patch');
    writeFileSync(
      patch,
      readFileSync(join(work, 'qemu-tiny/patches/0001-init-announce-kernelfile-build.patch'), 'utf8')
        .replace('pr_notice("%s", linux_banner);', 'pr_notice("%s", linux_banner_that_is_not_there);')
        .replace('kernelfile: qemu-tiny patch applied', 'kernelfile: stale'),
    );
    const file = variant('stale', (y) =>
      y.replace('    strip: 1\n', '    strip: 1\n  - path: patches/0002-stale.patch\n'),
    );
    const objects = cacheEntries('objects');
    const r = kernelfile(['build', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /kernelfile: patch 2 \(patches\/0002-stale\.patch\) does not apply: init\/main\.c: hunk 1 failed/,
    );
    expect(r.err.split('does not apply').length).toBe(2); // printed once, not by the progress too
    expect(r.err).toMatch(/nothing was built/);
    expect(cacheEntries('objects')).toEqual(objects);
  });

  it('a patch already in the source is reported as such', () => {
    copyFileSync(
      join(work, 'qemu-tiny/patches/0001-init-announce-kernelfile-build.patch'),
      join(work, 'qemu-tiny/patches/0003-again.patch'),
    );
    const file = variant('again', (y) =>
      y.replace('    strip: 1\n', '    strip: 1\n  - path: patches/0003-again.patch\n'),
    );
    const r = kernelfile(['build', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /kernelfile: patch 2 \(patches\/0003-again\.patch\) is already in the source: its reverse applies cleanly/,
    );
    expect(r.err).toMatch(/remove the patch/);
  });

  it("base: running starts from the target host's running config (here: this machine)", () => {
    const file = variant('running', (y) => y.replace('base: tinyconfig', 'base: running'));
    const r = kernelfile(['build', '--config-only', '--json', '--host', 'local', file]);
    const release = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    if (existsSync('/proc/config.gz') || existsSync(`/boot/config-${release}`)) {
      expect(r.err).not.toMatch(/^kernelfile: /m);
      expect(r.code).toBe(0);
      const j = jsonOutput(r.out, 'build');
      const tiny = jsonOutput(
        kernelfile(['build', '--config-only', '--json', file.replace('running.yaml', 'kernelfile.yaml')]).out,
        'build',
      );
      expect(j.buildId).not.toBe(tiny.buildId);
    } else {
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/base: running, but local has no readable running config/);
    }
  });

  it('a kernel.version that the source does not hold names both', () => {
    const file = variant('version', (y) => y.replace('version: "6.1.192"', 'version: "6.1.999"'));
    const r = kernelfile(['build', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/kernelfile: the source is Linux 6\.1\.192, but kernel\.version says 6\.1\.999/);
  });
});
