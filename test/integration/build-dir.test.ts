/**
 * linkSource on real files: a build directory holds one link per top-level entry of its source
 * tree beside the object tree, so make run there sees the object tree in a subdirectory of its
 * source tree (Kbuild then names the source `..`). The e2e suite builds kernels this way.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDirOf, linkSource, OBJTREE_NAME, objtreeIn } from '../../src/compile/build-dir.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kf-build-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, entries: string[]): string {
  const dir = join(root, 'trees', name);
  for (const e of entries) {
    if (e.endsWith('/')) mkdirSync(join(dir, e), { recursive: true });
    else {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, e), `${name} ${e}\n`);
    }
  }
  return dir;
}

describe('linkSource', () => {
  it('links every top-level entry of the source tree beside the object tree, and nothing else', () => {
    const a = tree('A', ['Makefile', 'Kconfig', '.clang-format', 'arch/', 'include/']);
    const objtree = objtreeIn(join(root, 'objects', 'b'));
    expect(objtree).toBe(join(root, 'objects', 'b', OBJTREE_NAME));
    expect(buildDirOf(objtree)).toBe(join(root, 'objects', 'b'));
    linkSource(a, objtree);
    const dir = join(root, 'objects', 'b');
    expect(readdirSync(dir).sort()).toEqual(['.clang-format', 'Kconfig', 'Makefile', 'arch', 'include']);
    for (const e of readdirSync(dir)) expect(readlinkSync(join(dir, e))).toBe(join(a, e));
    // Through the links, `..` of the object tree is the source tree.
    mkdirSync(objtree);
    expect(readFileSync(join(objtree, '../Makefile'), 'utf8')).toBe('A Makefile\n');
  });

  it('again: links to another tree replaced, links to what the tree no longer has removed; the object tree and a seed being placed left alone', () => {
    const a = tree('A', ['Makefile', 'arch/', 'old-file']);
    const b = tree('B', ['Makefile', 'arch/', 'new-file']);
    const objtree = objtreeIn(join(root, 'objects', 'x'));
    linkSource(a, objtree);
    mkdirSync(join(objtree, 'kernel'), { recursive: true });
    writeFileSync(join(objtree, 'kernel', 'sys.o'), 'object\n');
    mkdirSync(`${objtree}.seed-123`);
    linkSource(a, objtree); // nothing to do
    linkSource(b, objtree);
    const dir = buildDirOf(objtree);
    expect(readdirSync(dir).sort()).toEqual([
      'Makefile',
      'arch',
      'new-file',
      OBJTREE_NAME,
      `${OBJTREE_NAME}.seed-123`,
    ]);
    expect(readlinkSync(join(dir, 'Makefile'))).toBe(join(b, 'Makefile'));
    expect(readlinkSync(join(dir, 'arch'))).toBe(join(b, 'arch'));
    expect(readFileSync(join(objtree, 'kernel', 'sys.o'), 'utf8')).toBe('object\n');
    expect(lstatSync(join(dir, 'arch')).isSymbolicLink()).toBe(true);
  });

  it('refuses a build directory with something it did not make, and removes nothing', () => {
    const a = tree('A', ['Makefile', 'arch/']);
    const objtree = objtreeIn(join(root, 'objects', 'x'));
    mkdirSync(join(buildDirOf(objtree), 'arch', 'x86'), { recursive: true });
    expect(() => linkSource(a, objtree)).toThrow(/is not a link kernelfile made.*not one of kernelfile's/);
    expect(lstatSync(join(buildDirOf(objtree), 'arch', 'x86')).isDirectory()).toBe(true);
  });

  it(`refuses a source tree with a top-level ${OBJTREE_NAME}, naming it`, () => {
    const a = tree('A', ['Makefile', `${OBJTREE_NAME}/`]);
    expect(() => linkSource(a, objtreeIn(join(root, 'objects', 'x')))).toThrow(
      new RegExp(`the source tree ${a} has a top-level entry named ${OBJTREE_NAME}`),
    );
  });

  it('refuses an object tree that is not obj/ of its build directory', () => {
    const a = tree('A', ['Makefile']);
    expect(() => linkSource(a, join(root, 'objects', 'x'))).toThrow(/is not obj\/ of its build directory/);
  });
});
