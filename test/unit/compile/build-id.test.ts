import { describe, expect, it } from 'vitest';
import { computeBuildId } from '../../../src/compile/build.js';
import type { ResolvedConfig } from '../../../src/compile/config.js';
import { distccConfigProblem } from '../../../src/compile/distcc.js';
import { buildSuffix, compileArgs } from '../../../src/compile/make.js';
import type { Spec } from '../../../src/spec/schema.js';

const spec = {
  apiVersion: 'kernelfile/v1',
  name: 'web',
  kernel: { version: '6.1.192', source: { path: '/usr/src/linux-source-6.1.tar.xz' } },
  build: { makeVars: {} },
} as unknown as Spec;

const config = (text: string) => ({ text }) as ResolvedConfig;
const base = {
  spec,
  arch: 'x86_64',
  source: { kind: 'tarball' as const, file: '/x.tar.xz', sha256: 'a'.repeat(64) },
  patches: [{ name: 'p1', file: '/p1', sha256: 'b'.repeat(64), strip: 1 }],
  config: config('# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_64BIT=y\n# CONFIG_SWAP is not set\n'),
  toolchain: 'gcc (Debian 12.2.0-14) 12.2.0 | GNU ld (GNU Binutils for Debian) 2.40',
};

describe('build id', () => {
  it('is stable: the same inputs give the same id', () => {
    expect(computeBuildId(base)).toBe(computeBuildId({ ...base, patches: [...base.patches] }));
    expect(computeBuildId(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores what does not change the build: comments and headers in .config', () => {
    expect(
      computeBuildId({
        ...base,
        config: config('# another header\nCONFIG_64BIT=y\n\n# CONFIG_SWAP is not set\n'),
      }),
    ).toBe(computeBuildId(base));
  });

  it.each([
    ['source checksum', { source: { kind: 'tarball' as const, file: '/x.tar.xz', sha256: 'c'.repeat(64) } }],
    ['patch content', { patches: [{ name: 'p1', file: '/p1', sha256: 'd'.repeat(64), strip: 1 }] }],
    ['patch strip', { patches: [{ name: 'p1', file: '/p1', sha256: 'b'.repeat(64), strip: 0 }] }],
    [
      'patch order',
      { patches: [...base.patches, { name: 'p2', file: '/p2', sha256: 'e'.repeat(64), strip: 1 }].reverse() },
    ],
    ['effective config', { config: config('CONFIG_64BIT=y\nCONFIG_SWAP=y\n') }],
    ['make variables', { spec: { ...spec, build: { makeVars: { KCFLAGS: '-O3' } } } as unknown as Spec }],
    ['architecture', { arch: 'aarch64' }],
    ['compiler version', { toolchain: 'gcc (Debian 13.1.0) 13.1.0 | GNU ld 2.41' }],
  ])('changes with the %s', (_what, change) => {
    expect(computeBuildId({ ...base, ...change })).not.toBe(computeBuildId(base));
  });
});

describe('the release and make arguments', () => {
  it('puts a short build id in the release', () => {
    expect(buildSuffix('0123456789abcdef')).toBe('-kf01234567');
  });

  it('fixes the build number, date, user and host (reproducible), and passes ARCH and LOCALVERSION', () => {
    const { args, env } = compileArgs({ spec, arch: 'x86_64', buildId: 'f'.repeat(64) });
    expect(args).toEqual(['ARCH=x86_64', 'LOCALVERSION=-kfffffffff']);
    expect(env).toEqual({
      KBUILD_BUILD_VERSION: '1',
      // A date `date -d` and GNU tar read: the built-in initramfs and IKHEADERS archive are stamped with it.
      KBUILD_BUILD_TIMESTAMP: 'Thu Jan  1 00:00:00 UTC 1970',
      KBUILD_BUILD_VERSION_TIMESTAMP: 'kernelfile ffffffffffff',
      KBUILD_BUILD_USER: 'kernelfile',
      KBUILD_BUILD_HOST: 'web',
    });
  });

  it("maps the source tree out of debug information and host tools, after the user's own flags", () => {
    const s = { ...spec, build: { makeVars: { KCFLAGS: '-O2' } } } as unknown as Spec;
    const { args, env } = compileArgs({
      spec: s,
      arch: 'x86_64',
      buildId: 'f'.repeat(64),
      srctree: '/c/trees/k',
      objtree: '/c/objects/b/obj',
    });
    // Kbuild names the source `..` (build-dir.ts); objtool's sub-make names the tree itself.
    const host =
      '-ffile-prefix-map=../= -ffile-prefix-map=/c/trees/k/= -ffile-prefix-map=/c/objects/b/obj/= -ffile-prefix-map=../lib=../lib';
    expect(args).toContain(`HOSTCFLAGS=${host}`);
    // objtool's libsubcmd reads EXTRA_CFLAGS (from the environment: not on make's command line, where
    // Kbuild would add it to every kernel object).
    expect(env.EXTRA_CFLAGS).toBe(host);
    expect(args.some((a) => a.startsWith('EXTRA_CFLAGS='))).toBe(false);
    // No path of the build's own on the kernel's flags: they are on every command record.
    expect(args).toContain('KCFLAGS=-O2 -fdebug-prefix-map=../=');
    expect(args).toContain('KAFLAGS=-fdebug-prefix-map=../=');
    expect(args.filter((a) => a.startsWith('KCFLAGS=') || a.startsWith('KAFLAGS=')).join(' ')).not.toContain(
      '/c/',
    );
    // makeArgs put the user's KCFLAGS first; the later one on make's command line wins.
    expect(args.lastIndexOf('KCFLAGS=-O2 -fdebug-prefix-map=../=')).toBeGreaterThan(
      args.indexOf('KCFLAGS=-O2'),
    );
  });

  it('compiles through ccache and distcc when asked', () => {
    const run = {
      hosts: [],
      dir: '/c/tmp/distcc-1',
      log: '/c/tmp/distcc-1/distcc.log',
      env: { DISTCC_DIR: '/c/tmp/distcc-1', DISTCC_HOSTS: 'b1/8 b2/8', DISTCC_NO_REWRITE_CROSS: '1' },
      cc: 'distcc gcc',
      jobs: 17,
    };
    const s = { ...spec, build: { makeVars: {}, ccache: true, distcc: ['b1/8', 'b2/8'] } } as unknown as Spec;
    const { args, env } = compileArgs({ spec: s, arch: 'x86_64', buildId: 'f'.repeat(64), distcc: run });
    expect(args).toContain('CC=ccache gcc');
    expect(env).toMatchObject({ CCACHE_PREFIX: 'distcc', DISTCC_HOSTS: 'b1/8 b2/8' });
    const d = compileArgs({
      spec: { ...s, build: { makeVars: {}, distcc: ['b1'] } } as unknown as Spec,
      arch: 'x86_64',
      buildId: 'f'.repeat(64),
      distcc: run,
    });
    // CC only: HOSTCC stays this machine's gcc (host tools are compiled with -g: distcc.ts).
    expect(d.args.filter((a) => /^(HOST)?CC=/.test(a))).toEqual(['CC=distcc gcc']);
    expect(d.env).toMatchObject({ DISTCC_DIR: '/c/tmp/distcc-1', DISTCC_NO_REWRITE_CROSS: '1' });
    expect(d.env.PATH).toBeUndefined();
  });

  it('refuses distcc for a kernel with debug information (it could not be the local build)', () => {
    expect(distccConfigProblem({ CONFIG_DEBUG_INFO: 'y' })).toMatch(/DWARF column numbers/);
    expect(distccConfigProblem({ CONFIG_DEBUG_INFO: 'n', CONFIG_64BIT: 'y' })).toBeNull();
  });
});
