/**
 * installSourceHeaders then installBuildHeaders (src/compile/headers.ts): the headers tree of a build, from the source tree (hard
 * links, or copies on another file system) overlaid with the build's generated files, without
 * writing through a link into the source tree.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installBuildHeaders, installSourceHeaders } from '../../src/compile/headers.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-headers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

/** A source tree and an object tree with what the two pick from each, and some it leaves. */
function trees(at: string): { src: string; obj: string } {
  const src = join(at, 'src');
  const obj = join(at, 'obj');
  write(src, {
    Makefile: 'top\n',
    'include/linux/a.h': '#define A 1\n',
    'include/generated/stale.h': 'from the source tree\n',
    'scripts/Makefile.build': 'build rules\n',
    'scripts/a name with spaces.sh': 'echo\n',
    'arch/x86/Makefile': 'arch\n',
    'arch/x86/include/asm/b.h': '#define B 2\n',
    'kernel/fork.c': 'not a header\n',
  });
  symlinkSync('a.h', join(src, 'include/linux/alias.h'));
  write(obj, {
    '.config': 'CONFIG_MODULES=y\n',
    'Module.symvers': 'symbols\n',
    'include/generated/stale.h': 'from the build\n',
    'include/generated/autoconf.h': '#define CONFIG_MODULES 1\n',
    'include/config/auto.conf': 'CONFIG_MODULES=y\n',
    'scripts/basic/fixdep': 'tool\n',
    'scripts/basic/.fixdep.cmd': 'a command record\n',
    'scripts/basic/fixdep.o': 'an object\n',
    'arch/x86/include/generated/asm/c.h': '#define C 3\n',
  });
  return { src, obj };
}

async function expectTree(src: string, obj: string, dest: string): Promise<void> {
  await installSourceHeaders(src, 'x86', dest);
  await installBuildHeaders(obj, 'x86', dest, { CONFIG_MODULES: 'y' });
  const read = (p: string) => readFileSync(join(dest, p), 'utf8');
  expect(read('Makefile')).toBe('top\n');
  expect(read('include/linux/a.h')).toBe('#define A 1\n');
  expect(read('scripts/a name with spaces.sh')).toBe('echo\n');
  expect(read('arch/x86/include/asm/b.h')).toBe('#define B 2\n');
  expect(lstatSync(join(dest, 'include/linux/alias.h')).isSymbolicLink()).toBe(true);
  expect(read('include/linux/alias.h')).toBe('#define A 1\n');
  // The build's files win over the source tree's, and the source tree keeps its own.
  expect(read('include/generated/stale.h')).toBe('from the build\n');
  expect(readFileSync(join(src, 'include/generated/stale.h'), 'utf8')).toBe('from the source tree\n');
  expect(read('include/generated/autoconf.h')).toBe('#define CONFIG_MODULES 1\n');
  expect(read('Module.symvers')).toBe('symbols\n');
  expect(read('.config')).toBe('CONFIG_MODULES=y\n');
  expect(read('scripts/basic/fixdep')).toBe('tool\n');
  for (const left of ['kernel/fork.c', 'scripts/basic/.fixdep.cmd', 'scripts/basic/fixdep.o'])
    expect(existsSync(join(dest, left)), left).toBe(false);
  expect(existsSync(`${dest}.src-list`) || existsSync(`${dest}.obj-list`)).toBe(false);
}

describe('installSourceHeaders + installBuildHeaders', () => {
  it('links the source tree’s files and lays the build’s over them without writing into the source', async () => {
    const { src, obj } = trees(join(dir, 'same'));
    const dest = join(dir, 'same/out/headers');
    await expectTree(src, obj, dest);
    // Hard links: the same inode as the source tree's file.
    expect(lstatSync(join(dest, 'include/linux/a.h')).ino).toBe(
      lstatSync(join(src, 'include/linux/a.h')).ino,
    );
    expect(lstatSync(join(dest, 'include/generated/stale.h')).ino).not.toBe(
      lstatSync(join(src, 'include/generated/stale.h')).ino,
    );
  });

  it('copies when the destination is on another file system', async () => {
    // /dev/shm is a tmpfs on Linux: a link from the temporary directory's file system fails (EXDEV).
    const other = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/kf-headers-') : undefined;
    if (!other || lstatSync(other).dev === lstatSync(dir).dev) {
      if (other) rmSync(other, { recursive: true, force: true });
      throw new Error('this test needs /dev/shm on another file system than the temporary directory');
    }
    try {
      const { src, obj } = trees(join(dir, 'other'));
      const dest = join(other, 'headers');
      await expectTree(src, obj, dest);
      expect(lstatSync(join(dest, 'include/linux/a.h')).dev).not.toBe(
        lstatSync(join(src, 'include/linux/a.h')).dev,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
