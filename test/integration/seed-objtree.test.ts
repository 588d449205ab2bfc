/**
 * seedObjtree on real files (cp, find, hard links), without a kernel: the copy of a seed's object
 * tree names the new build's trees in its .cmd and .d files and keeps every object's bytes and time;
 * a source file that differs between the two patch sets is made newer in the new tree (a fresh
 * inode), while the pristine source and the seed's own tree keep their inodes and times. The e2e
 * suite (seeded.test.ts) proves the rest with the kernel: seeded builds equal clean ones.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OBJTREE_RECORD,
  type ObjtreeRecord,
  placeSeed,
  readRecords,
  seedObjtree,
  stageSeed,
  writeRecord,
} from '../../src/compile/seed.js';

let root: string;
const OLD = new Date('2020-01-01T00:00:00Z');
const BUILT = new Date('2021-01-01T00:00:00Z');

function write(path: string, text: string, time = OLD): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, time, time);
}

/** A patched tree as patches.ts makes one: hard links to the pristine source, patched files anew. */
function patched(pristine: string, dir: string, files: Record<string, string>): void {
  execFileSync('cp', ['-al', pristine, dir]);
  for (const [f, text] of Object.entries(files)) {
    rmSync(join(dir, f), { force: true });
    write(join(dir, f), text, new Date('2020-06-01T00:00:00Z'));
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kf-seed-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function setup(treeB: 'same' | 'other') {
  const pristine = join(root, 'trees/src-pristine');
  for (const f of ['Makefile', 'init/main.c', 'include/b.h', 'kernel/c.c'])
    write(join(pristine, f), `pristine ${f}\n`);
  const a = join(root, 'trees/A');
  patched(pristine, a, { 'include/b.h': 'patched by A\n', 'kernel/added.c': 'added by A\n' });
  const b = treeB === 'same' ? a : join(root, 'trees/B');
  if (treeB === 'other') patched(pristine, b, { 'kernel/c.c': 'patched by B\n' });
  // Each object tree is obj/ of its build directory (build-dir.ts).
  const objA = join(root, 'objects', 'a'.repeat(64), 'obj');
  write(
    join(objA, 'init/.main.o.cmd'),
    `savedcmd_init/main.o := gcc -I${a}/include -ffile-prefix-map=${objA}/= -c -o init/main.o ${a}/init/main.c\n\ndeps_init/main.o := \\\n  ${a}/init/main.c \\\n  ${a}/include/b.h \\\n\ninit/main.o: $(deps_init/main.o)\n\n$(deps_init/main.o):\n`,
    BUILT,
  );
  write(join(objA, 'init/main.o'), '\x7fELF object\n', BUILT);
  write(join(objA, 'tools/objtool/.fixdep.o.d'), `fixdep.o: ${objA}/tools/fixdep.c\n`, BUILT);
  write(join(objA, '.config'), 'CONFIG_64BIT=y\n', BUILT);
  symlinkSync(a, join(objA, 'source'));
  const record: ObjtreeRecord = {
    objtreeRecord: OBJTREE_RECORD,
    buildId: 'a'.repeat(64),
    release: '6.1.192-kfaaaaaaaa',
    recipe: 2,
    source: 'sha256:src',
    pristine: { key: 'pristine', dir: pristine },
    tree: { key: 'A', dir: a },
    objtree: objA,
    arch: 'x86_64',
    compat: 'c',
    completedAt: BUILT.toISOString(),
  };
  return { pristine, a, b, objA, record, objB: join(root, 'objects', 'b'.repeat(64), 'obj') };
}

const ino = (p: string) => statSync(p).ino;

describe('seedObjtree', () => {
  it('same patches: a copy naming the new object tree; objects keep their bytes and times', async () => {
    const s = setup('same');
    const seeded = await seedObjtree(
      { record: s.record, samePatches: true, differing: 1 },
      {
        objects: join(root, 'objects'),
        objtree: s.objB,
        tree: { key: 'A', dir: s.a },
        pristine: { key: 'pristine', dir: s.pristine },
      },
    );
    expect(seeded).toMatchObject({ samePatches: true, differing: 1, touched: 0 });
    const cmd = readFileSync(join(s.objB, 'init/.main.o.cmd'), 'utf8');
    expect(cmd).toContain(`-ffile-prefix-map=${s.objB}/=`);
    expect(cmd).not.toContain(s.objA);
    expect(cmd).toContain(`${s.a}/include/b.h`);
    expect(readFileSync(join(s.objB, 'tools/objtool/.fixdep.o.d'), 'utf8')).toBe(
      `fixdep.o: ${s.objB}/tools/fixdep.c\n`,
    );
    expect(statSync(join(s.objB, 'init/main.o')).mtime).toEqual(BUILT);
    expect(readFileSync(join(s.objB, 'init/main.o'), 'utf8')).toBe('\x7fELF object\n');
    expect(ino(join(s.objB, 'init/main.o'))).not.toBe(ino(join(s.objA, 'init/main.o')));
    // make writes `source` again for the build's tree; the seed's is not carried over.
    expect(existsSync(join(s.objB, 'source'))).toBe(false);
    // The seed is untouched.
    expect(readFileSync(join(s.objA, 'init/.main.o.cmd'), 'utf8')).toContain(`-ffile-prefix-map=${s.objA}/=`);
    expect(existsSync(join(s.objA, 'source'))).toBe(true);
  });

  it('keeps what cp -a keeps: modes, times, links, empty directories, odd names; records rewritten in place of copies', async () => {
    const s = setup('same');
    const odd = join(s.objA, 'scripts/a name\nwith a newline.cmd');
    write(odd, `cmd := ${s.objA}/scripts/x\n`, BUILT);
    execFileSync('chmod', ['0600', odd]);
    write(
      join(s.objA, 'kernel/.plain.o.cmd'),
      'savedcmd_kernel/plain.o := gcc -c -o kernel/plain.o kernel/plain.c\n',
      BUILT,
    );
    write(join(s.objA, 'arch/x86/boot/bzImage'), 'image\n', BUILT);
    mkdirSync(join(s.objA, 'arch/x86_64/boot'), { recursive: true });
    symlinkSync('../../x86/boot/bzImage', join(s.objA, 'arch/x86_64/boot/bzImage'));
    mkdirSync(join(s.objA, 'usr/empty'), { recursive: true });
    execFileSync('chmod', ['0700', join(s.objA, 'usr/empty')]);
    for (const d of ['usr/empty', 'usr', 'scripts', 'kernel', 'init']) utimesSync(join(s.objA, d), OLD, OLD);
    await seedObjtree(
      { record: s.record, samePatches: true, differing: 1 },
      {
        objects: join(root, 'objects'),
        objtree: s.objB,
        tree: { key: 'A', dir: s.a },
        pristine: { key: 'pristine', dir: s.pristine },
      },
    );
    const copy = join(s.objB, 'scripts/a name\nwith a newline.cmd');
    expect(readFileSync(copy, 'utf8')).toBe(`cmd := ${s.objB}/scripts/x\n`);
    expect(statSync(copy).mode & 0o7777).toBe(0o600);
    expect(statSync(copy).mtime).toEqual(BUILT);
    expect(readFileSync(join(s.objB, 'kernel/.plain.o.cmd'), 'utf8')).toContain('gcc -c -o kernel/plain.o');
    expect(statSync(join(s.objB, 'kernel/.plain.o.cmd')).mtime).toEqual(BUILT);
    expect(statSync(join(s.objB, 'init/.main.o.cmd')).mtime).toEqual(BUILT);
    expect(readlinkSync(join(s.objB, 'arch/x86_64/boot/bzImage'))).toBe('../../x86/boot/bzImage');
    expect(statSync(join(s.objB, 'usr/empty')).mode & 0o7777).toBe(0o700);
    for (const d of ['usr/empty', 'usr', 'scripts', 'kernel', 'init'])
      expect(statSync(join(s.objB, d)).mtime, d).toEqual(OLD);
    expect(existsSync(`${s.objB}.seed-${process.pid}.list`)).toBe(false);
  });

  it('staged early (stageSeed), placed later (placeSeed): the copy names itself until the build id is known, then the object tree; the new tree may not exist while it is copied', async () => {
    const s = setup('other');
    // The copy started before the patched tree B exists (its path is known from its key).
    const bTree = join(root, 'trees/B');
    const later = join(root, 'trees/B-made-later');
    execFileSync('mv', [bTree, later]);
    write(
      join(s.objA, 'kernel/.c.o.cmd'),
      `savedcmd_kernel/c.o := gcc -c -o kernel/c.o ${s.a}/kernel/c.c\n`,
      BUILT,
    );
    write(join(s.objA, 'kernel/c.o'), 'c object\n', BUILT);
    utimesSync(join(s.objA, 'init'), OLD, OLD);
    const dir = join(root, 'objects', `early.seed-${process.pid}-0000`);
    const staged = await stageSeed(
      { record: s.record, samePatches: false, differing: 0 },
      { objects: join(root, 'objects'), dir, names: dir, tree: { dir: bTree } },
    );
    // Only the records that name the object tree are named again when placed.
    expect(staged.naming.sort()).toEqual(['init/.main.o.cmd', 'tools/objtool/.fixdep.o.d']);
    expect(readFileSync(join(dir, 'init/.main.o.cmd'), 'utf8')).toContain(`-ffile-prefix-map=${dir}/=`);
    expect(readFileSync(join(dir, 'kernel/.c.o.cmd'), 'utf8')).toContain(`${bTree}/kernel/c.c`);
    execFileSync('mv', [later, bTree]);
    const seeded = await placeSeed(
      { ...staged, choice: { ...staged.choice, differing: 2 } },
      {
        objects: join(root, 'objects'),
        objtree: s.objB,
        tree: { key: 'B', dir: bTree },
        pristine: { key: 'pristine', dir: s.pristine },
      },
    );
    expect(seeded).toMatchObject({ samePatches: false, differing: 2 });
    expect(existsSync(dir)).toBe(false);
    const cmd = readFileSync(join(s.objB, 'init/.main.o.cmd'), 'utf8');
    expect(cmd).toContain(`-ffile-prefix-map=${s.objB}/=`);
    expect(cmd).not.toContain(dir);
    expect(cmd).toContain(`${bTree}/include/b.h`);
    expect(readFileSync(join(s.objB, 'tools/objtool/.fixdep.o.d'), 'utf8')).toBe(
      `fixdep.o: ${s.objB}/tools/fixdep.c\n`,
    );
    // Named again with their times and their directories' times, as the copy had them.
    expect(statSync(join(s.objB, 'init/.main.o.cmd')).mtime).toEqual(BUILT);
    expect(statSync(join(s.objB, 'init')).mtime).toEqual(OLD);
    expect(existsSync(join(s.objB, 'init/.main.o.cmd.kf-place'))).toBe(false);
    // The file B patches differently from A is newer than every object in the new tree.
    expect(statSync(join(bTree, 'kernel/c.c')).mtimeMs).toBeGreaterThan(BUILT.getTime());
    expect(readFileSync(join(s.objB, 'kernel/c.o'), 'utf8')).toBe('c object\n');
  });

  it('other patches: files the two patch sets change differently are made newer in the new tree only', async () => {
    const s = setup('other');
    const pristineB = ino(join(s.pristine, 'include/b.h'));
    const pristineMain = ino(join(s.pristine, 'init/main.c'));
    const before = Date.now();
    const seeded = await seedObjtree(
      { record: s.record, samePatches: false, differing: 0 },
      {
        objects: join(root, 'objects'),
        objtree: s.objB,
        tree: { key: 'B', dir: s.b },
        pristine: { key: 'pristine', dir: s.pristine },
      },
    );
    // include/b.h (patched in A, pristine in B) and kernel/c.c (patched in B); kernel/added.c is
    // not in B (make rebuilds what named it: a prerequisite that is gone).
    expect(seeded.touched).toBe(2);
    const cmd = readFileSync(join(s.objB, 'init/.main.o.cmd'), 'utf8');
    expect(cmd).toContain(`-I${s.b}/include`);
    expect(cmd).toContain(`${s.b}/init/main.c`);
    expect(cmd).not.toContain(`${s.a}/`);
    for (const f of ['include/b.h', 'kernel/c.c']) {
      const st = statSync(join(s.b, f));
      expect(st.mtimeMs).toBeGreaterThanOrEqual(before - 1000);
      expect(st.mtimeMs).toBeGreaterThan(BUILT.getTime());
    }
    // Content kept; the pristine file and the seed's tree keep their inodes and times.
    expect(readFileSync(join(s.b, 'include/b.h'), 'utf8')).toBe('pristine include/b.h\n');
    expect(ino(join(s.b, 'include/b.h'))).not.toBe(pristineB);
    expect(ino(join(s.pristine, 'include/b.h'))).toBe(pristineB);
    expect(statSync(join(s.pristine, 'include/b.h')).mtime).toEqual(OLD);
    expect(readFileSync(join(s.a, 'include/b.h'), 'utf8')).toBe('patched by A\n');
    // A file no patch touches stays a hard link with its time.
    expect(ino(join(s.b, 'init/main.c'))).toBe(pristineMain);
    expect(statSync(join(s.b, 'init/main.c')).mtime).toEqual(OLD);
    expect(existsSync(join(s.b, 'kernel/added.c'))).toBe(false);
  });

  it('other patches, both known from the patches: the same files made newer, no tree scanned', async () => {
    const s = setup('other');
    const seeded = await seedObjtree(
      {
        record: { ...s.record, patched: ['include/b.h', 'kernel/added.c'] },
        samePatches: false,
        differing: 0,
      },
      {
        objects: join(root, 'objects'),
        objtree: s.objB,
        tree: { key: 'B', dir: s.b },
        pristine: { key: 'pristine', dir: s.pristine },
        patched: ['kernel/c.c'],
      },
    );
    expect(seeded.touched).toBe(2);
    expect(statSync(join(s.b, 'include/b.h')).mtimeMs).toBeGreaterThan(BUILT.getTime());
    expect(statSync(join(s.b, 'kernel/c.c')).mtimeMs).toBeGreaterThan(BUILT.getTime());
    expect(statSync(join(s.pristine, 'include/b.h')).mtime).toEqual(OLD);
  });

  it('a record whose patched-file list would not be read back is written without it', () => {
    const s = setup('same');
    const objects = join(root, 'objects');
    const many = Array.from({ length: 5000 }, (_, i) => `drivers/staging/file-${i}.c`);
    writeRecord(objects, { ...s.record, patched: many });
    const [back] = readRecords(objects);
    expect(back?.buildId).toBe(s.record.buildId);
    expect(back?.patched).toBeUndefined();
    writeRecord(objects, { ...s.record, patched: ['include/b.h'] });
    expect(readRecords(objects)[0]?.patched).toEqual(['include/b.h']);
  });

  it('a seed that is gone is an error the build reports (it then compiles afresh)', async () => {
    const s = setup('same');
    rmSync(s.objA, { recursive: true });
    await expect(
      seedObjtree(
        { record: s.record, samePatches: true, differing: 0 },
        {
          objects: join(root, 'objects'),
          objtree: s.objB,
          tree: { key: 'A', dir: s.a },
          pristine: { key: 'pristine', dir: s.pristine },
        },
      ),
    ).rejects.toThrow(/cannot copy the object tree of 6\.1\.192-kfaaaaaaaa/);
    expect(existsSync(s.objB)).toBe(false);
  });
});
