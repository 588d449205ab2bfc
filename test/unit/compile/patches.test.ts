import { describe, expect, it } from 'vitest';
import {
  changesKconfig,
  kconfigTree,
  parsePatchOutput,
  patchedPaths,
  touchedFiles,
} from '../../../src/compile/patches.js';

describe('GNU patch output', () => {
  it('names the files and hunks that failed', () => {
    const out = `checking file init/main.c
Hunk #1 FAILED at 931.
Hunk #3 FAILED at 1010.
2 out of 3 hunks FAILED
checking file mm/vmscan.c
checking file 'dir with space/x.c'
Hunk #2 FAILED at 5.
1 out of 2 hunks FAILED`;
    expect(parsePatchOutput(out)).toEqual([
      { file: 'init/main.c', hunks: [1, 3] },
      { file: 'dir with space/x.c', hunks: [2] },
    ]);
  });

  it('reports a file that is not there (a wrong strip level)', () => {
    expect(
      parsePatchOutput(
        "can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip option?",
      ),
    ).toEqual([{ file: '?', hunks: [], missing: true }]);
  });
});

describe('the tree a configuration is resolved in', () => {
  const pristine = { dir: '/c/trees/src-p', key: 'p' };
  const tree = { dir: '/c/trees/t', key: 't' };
  const unified = (path: string) =>
    `Subject: x\n---\ndiff --git a/${path} b/${path}\nindex 1..2 100644\n--- a/${path}\t2025-01-01\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`;

  it('names every path a patch touches, as written and stripped', () => {
    expect(patchedPaths(unified('init/main.c'), 1)?.sort()).toEqual([
      'a/init/main.c',
      'b/init/main.c',
      'init/main.c',
    ]);
    expect(patchedPaths('--- /dev/null\n+++ b/kernel/new.c\n', 1)?.sort()).toEqual([
      'b/kernel/new.c',
      'kernel/new.c',
    ]);
    expect(patchedPaths('rename from drivers/a/Kconfig\nrename to drivers/b/Kconfig\n', 1)).toContain(
      'drivers/a/Kconfig',
    );
    expect(patchedPaths('*** linux.orig/init/Kconfig\n--- linux/init/Kconfig\n', 1)).toContain(
      'init/Kconfig',
    );
    expect(patchedPaths('just words\n', 1)).toBeUndefined();
  });

  it('what Kconfig reads: Kconfig, Makefiles, Kbuild, fragments, defconfigs, scripts/', () => {
    for (const p of [
      'init/Kconfig',
      'arch/x86/Kconfig.cpu',
      'Makefile',
      'arch/x86/Makefile',
      'drivers/net/Kbuild',
      'kernel/configs/tiny.config',
      'arch/arm64/configs/defconfig',
      'arch/x86/configs/x86_64_defconfig',
      'scripts/kconfig/confdata.c',
      'scripts/Kconfig.include',
      'scripts/cc-version.sh',
    ])
      expect(changesKconfig(p), p).toBe(true);
    for (const p of [
      'init/main.c',
      'include/linux/sched.h',
      'drivers/net/e1000/e1000_main.c',
      'Documentation/x.rst',
    ])
      expect(changesKconfig(p), p).toBe(false);
  });

  it('the pristine source when no patch touches what Kconfig reads, else the patched tree', () => {
    expect(kconfigTree(pristine, tree, [{ text: unified('init/main.c'), strip: 1 }])).toBe(pristine);
    expect(
      kconfigTree(pristine, tree, [
        { text: unified('init/main.c'), strip: 1 },
        { text: unified('init/Kconfig'), strip: 1 },
      ]),
    ).toBe(tree);
    // A patch whose paths cannot be read rules nothing out.
    expect(kconfigTree(pristine, tree, [{ text: 'binary blob', strip: 1 }])).toBe(tree);
    expect(kconfigTree(pristine, pristine, [])).toBe(pristine);
  });

  it('the files patches touch, relative to the tree; none that cannot be read', () => {
    expect(
      touchedFiles([
        { text: unified('init/main.c'), strip: 1 },
        { text: '--- /dev/null\n+++ b/kernel/new.c\n', strip: 1 },
        { text: '--- linux/mm/x.c\n+++ linux/mm/x.c\n', strip: 1 },
      ]),
    ).toEqual(['init/main.c', 'kernel/new.c', 'mm/x.c']);
    expect(touchedFiles([{ text: '--- a/../../etc/passwd\n+++ b/../../etc/passwd\n', strip: 1 }])).toEqual(
      [],
    );
    expect(touchedFiles([{ text: 'binary blob', strip: 1 }])).toBeUndefined();
    expect(touchedFiles([])).toEqual([]);
  });
});
