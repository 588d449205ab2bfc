import { describe, expect, it } from 'vitest';
import { kernelArch, srcArch } from '../../../src/compile/arch.js';
import { cacheRoot } from '../../../src/compile/cache.js';
import { generatedFragment, mergedValues } from '../../../src/compile/config.js';
import type { Spec } from '../../../src/spec/schema.js';

describe('the fragment kernelfile adds last', () => {
  it('sets the release suffix, turns off automatic suffixes, then writes config.set in .config syntax', () => {
    const spec = {
      kernel: { localversion: '-tiny' },
      config: {
        set: {
          CONFIG_64BIT: 'y',
          CONFIG_SWAP: 'n',
          CONFIG_NR_CPUS: 64,
          CONFIG_X: { value: 'm', onDropped: 'warn' },
          CONFIG_CMDLINE: 'a "b"',
        },
      },
    } as unknown as Spec;
    expect(generatedFragment(spec).split('\n')).toEqual([
      '# Written by kernelfile: the release suffix and config.set from the kernelfile.',
      'CONFIG_LOCALVERSION="-tiny"',
      '# CONFIG_LOCALVERSION_AUTO is not set',
      'CONFIG_64BIT=y',
      '# CONFIG_SWAP is not set',
      'CONFIG_NR_CPUS=64',
      'CONFIG_X=m',
      'CONFIG_CMDLINE="a \\"b\\""',
      '',
    ]);
  });
});

describe('the values the merge sets (what a seed is guessed by)', () => {
  it('the fragments, then the generated fragment, the last value of a symbol winning; the release suffix included', () => {
    const spec = {
      kernel: { localversion: '-prev' },
      config: { set: { CONFIG_SWAP: 'n', CONFIG_NR_CPUS: 8 } },
    } as unknown as Spec;
    const values = mergedValues({
      tree: { dir: '/t', key: 'k' },
      spec,
      arch: 'x86_64',
      fragments: [
        { abs: '/p/a.config', written: 'a.config', text: 'CONFIG_SWAP=y\nCONFIG_PRINTK=y\n' },
        { abs: '/p/b.config', written: 'b.config', text: '# CONFIG_PRINTK is not set\nCONFIG_NR_CPUS=4\n' },
      ],
      toolchain: 'gcc',
      dirs: { kconfig: '/nonexistent/kconfig' } as never,
      setOrigin: () => ({ file: 'kernelfile.yaml', line: 1 }),
    });
    // The base (defconfig here) is not known without running Kconfig: it is left out.
    expect([...values]).toEqual([
      ['CONFIG_SWAP', 'n'],
      ['CONFIG_PRINTK', 'n'],
      ['CONFIG_NR_CPUS', '8'],
      ['CONFIG_LOCALVERSION', '"-prev"'],
      ['CONFIG_LOCALVERSION_AUTO', 'n'],
    ]);
  });

  it('starts from the base when its text is known (a file, the running config)', () => {
    const spec = { kernel: {}, config: { base: 'running', set: { CONFIG_SWAP: 'y' } } } as unknown as Spec;
    const values = mergedValues({
      tree: { dir: '/t', key: 'k' },
      spec,
      arch: 'x86_64',
      baseText: '# base\nCONFIG_SWAP=n\n# CONFIG_MODULES is not set\nCONFIG_LOCALVERSION="-distro"\n',
      fragments: [],
      toolchain: 'gcc',
      dirs: {} as never,
      setOrigin: () => ({ file: 'kernelfile.yaml', line: 1 }),
    });
    expect(Object.fromEntries(values)).toEqual({
      CONFIG_SWAP: 'y',
      CONFIG_MODULES: 'n',
      CONFIG_LOCALVERSION: '""',
      CONFIG_LOCALVERSION_AUTO: 'n',
    });
  });
});

describe('cache and architecture names', () => {
  it('defaults the cache to $XDG_CACHE_HOME/kernelfile, else ~/.cache/kernelfile; build.cacheDir wins', () => {
    expect(cacheRoot(undefined, { HOME: '/home/u' })).toBe('/home/u/.cache/kernelfile');
    expect(cacheRoot(undefined, { HOME: '/home/u', XDG_CACHE_HOME: '/var/cache/u' })).toBe(
      '/var/cache/u/kernelfile',
    );
    expect(cacheRoot('~/kcache', { HOME: '/home/u' })).toBe('/home/u/kcache');
  });

  it('maps uname -m names to ARCH= and SRCARCH', () => {
    expect([kernelArch('x86_64'), srcArch('x86_64')]).toEqual(['x86_64', 'x86']);
    expect([kernelArch('aarch64'), srcArch('aarch64')]).toEqual(['arm64', 'arm64']);
    expect(() => kernelArch('sparc')).toThrow(/unsupported/);
  });
});
