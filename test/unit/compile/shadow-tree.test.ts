/**
 * The pure parts of patched trees as shadows (tree-copy.ts) and of the headers listed through them
 * (headers.ts): which directories are made real, which source paths the headers take.
 */
import { describe, expect, it } from 'vitest';
import { inSourceHeaders } from '../../../src/compile/headers.js';
import { dirsToward } from '../../../src/compile/tree-copy.js';

describe('dirsToward', () => {
  it('is the top and every directory on the way to each path, not the paths themselves', () => {
    expect([...dirsToward(['init/main.c', 'drivers/net/ethernet/x.c', 'Makefile'])].sort()).toEqual([
      '',
      'drivers',
      'drivers/net',
      'drivers/net/ethernet',
      'init',
    ]);
  });
  it('is only the top for no path', () => {
    expect([...dirsToward([])]).toEqual(['']);
  });
});

describe('inSourceHeaders (the source part of the headers tree)', () => {
  const yes = [
    ['Makefile', 'f'],
    ['arch/x86/Makefile', 'f'],
    ['arch/x86/Makefile_32.cpu', 'f'],
    ['include/linux/kernel.h', 'f'],
    ['include/dt-bindings/input', 'l'],
    ['scripts/Makefile.build', 'f'],
    ['scripts/dtc/include-prefixes/arm', 'l'],
    ['arch/x86/include/asm/io.h', 'f'],
    ['arch/x86/include/uapi/asm/unistd.h', 'f'],
    ['arch/x86/tools/scripts/x.sh', 'f'],
    ['arch/x86/boot/compressed/include/x.h', 'f'],
    ['arch/x86/Kbuild.platforms', 'f'],
    ['arch/x86/platform/Platform', 'f'],
  ] as const;
  const no = [
    ['init/main.c', 'f'],
    ['Makefile.orig/x', 'f'],
    ['drivers/Makefile', 'f'],
    ['arch/x86/kernel/Makefile', 'f'],
    ['arch/arm64/include/asm/io.h', 'f'],
    ['arch/arm64/Makefile', 'f'],
    ['arch/x86/include/asm/link.h', 'l'],
    ['include/linux', 'd'],
    ['arch/x86/kernel/setup.c', 'f'],
    ['tools/include/linux/kernel.h', 'f'],
  ] as const;
  it.each(yes)('takes %s (%s)', (rel, type) => expect(inSourceHeaders(rel, type, 'x86')).toBe(true));
  it.each(no)('leaves %s (%s)', (rel, type) => expect(inSourceHeaders(rel, type, 'x86')).toBe(false));
});
