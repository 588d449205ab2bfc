/**
 * seedObjtree on real files (cp, find, hard links), without a kernel: the copy of a seed's object
 * tree names the new build's trees in its .cmd and .d files and keeps every object's bytes and time;
 * a source file that differs between the two patch sets is made newer in the new tree (a fresh
 * inode), while the pristine source and the seed's own tree keep their inodes and times. The e2e
 * suite (seeded.test.ts) proves the rest with the kernel: seeded builds equal clean ones.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
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
import { markReading, recycledTree } from '../../src/compile/recycle.js';
import {
  dropStaged,
  OBJTREE_RECORD,
  type ObjtreeRecord,
  placeSeed,
  readRecords,
  removeObjtree,
  seedObjtree,
  stageSeed,
  writeRecord,
} from '../../src/compile/seed.js';
import { dropCopy, syncEarlySeed } from '../../src/compile/seed-early.js';

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

/** Every entry under `dir`: kind, mode, time, and bytes or link target (`dir` itself named `<tree>`). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = rel ? join(dir, rel) : dir;
    const st = lstatSync(full);
    const what = st.isSymbolicLink()
      ? `link ${readlinkSync(full)}`
      : st.isDirectory()
        ? 'dir'
        : `file ${readFileSync(full, 'utf8').replaceAll(dir, '<tree>')}`;
    out.push(`${rel || '.'} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${what}`);
    if (st.isDirectory() && !st.isSymbolicLink())
      for (const e of readdirSync(full).sort()) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  return out;
}

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

  it('into the recycled tree: the same tree as a fresh copy, whatever the recycled one held; its files written in place, nothing outside it written through', async () => {
    const s = setup('same');
    const objects = join(root, 'objects');
    write(join(s.objA, 'kernel/.plain.o.cmd'), 'savedcmd_kernel/plain.o := gcc -c\n', BUILT);
    write(join(s.objA, 'kernel/plain.o'), 'plain object\n', BUILT);
    write(join(s.objA, 'arch/x86/boot/bzImage'), 'image\n', BUILT);
    mkdirSync(join(s.objA, 'usr/empty'), { recursive: true });
    symlinkSync('../../x86/boot/bzImage', join(s.objA, 'kernel/link'));
    write(join(s.objA, 'vmlinux'), 'the seed image\n', BUILT);
    write(join(s.objA, 'include/kept.h'), 'the same file in both\n', BUILT);
    write(join(s.objA, 'init/.other.o.cmd'), 'savedcmd := gcc AAAA\n', BUILT);
    write(join(s.objA, 'init/.kept.o.cmd'), 'savedcmd := gcc kept\n', BUILT);
    for (const d of ['usr/empty', 'usr', 'kernel', 'init', 'arch/x86/boot'])
      utimesSync(join(s.objA, d), OLD, OLD);
    const into = (objtree: string) => ({
      objects,
      objtree,
      tree: { key: 'A', dir: s.a },
      pristine: { key: 'pristine', dir: s.pristine },
    });
    const choice = { record: s.record, samePatches: true, differing: 0 };
    await seedObjtree(choice, into(s.objB));
    const fresh = snapshot(s.objB);

    // A recycled tree holding everything a copy must not keep or write through.
    const old = recycledTree(objects);
    const outside = join(root, 'outside');
    write(join(outside, 'target'), 'outside, must stay\n');
    write(join(outside, 'linked'), 'outside, hard-linked\n');
    write(join(old, '.config'), 'CONFIG_OLD=y\nCONFIG_MUCH_LONGER_THAN_THE_SEEDS=y\n');
    write(join(old, 'kernel/plain.o'), 'read-only leftover of another build, longer than the seed\n');
    chmodSync(join(old, 'kernel/plain.o'), 0o444);
    symlinkSync(join(outside, 'target'), join(old, 'kernel/.plain.o.cmd'));
    mkdirSync(join(old, 'arch/x86/boot'), { recursive: true });
    linkSync(join(outside, 'linked'), join(old, 'arch/x86/boot/bzImage'));
    write(join(old, 'init/main.o/inside'), 'a directory where the seed has a file\n');
    write(join(old, 'usr/empty'), 'a file where the seed has a directory\n');
    write(join(old, 'kernel/link'), 'a file where the seed has a link\n');
    write(join(old, 'drivers/gone.o'), 'only in the recycled tree\n');
    write(join(old, 'vmlinux'), 'an image make links again\n');
    symlinkSync(outside, join(old, 'source'));
    write(join(old, 'init/.main.o.cmd'), 'an old record\n');
    // The seed's own file (a copy keeps its time): kept, not written again.
    mkdirSync(join(old, 'include'));
    execFileSync('cp', ['-a', join(s.objA, 'include/kept.h'), join(old, 'include/kept.h')]);
    const kept = statSync(join(old, 'include/kept.h'), { bigint: true });
    execFileSync('cp', ['-a', join(s.objA, 'init/.kept.o.cmd'), join(old, 'init/.kept.o.cmd')]);
    const keptRecord = statSync(join(old, 'init/.kept.o.cmd'), { bigint: true });
    // A record of the same size and time, renamed to other paths (seed.ts keeps its time): written.
    write(join(old, 'init/.other.o.cmd'), 'savedcmd := gcc BBBB\n', BUILT);
    const configInode = ino(join(old, '.config'));

    const objC = join(root, 'objects', 'c'.repeat(64), 'obj');
    await seedObjtree(choice, into(objC));
    expect(snapshot(objC)).toEqual(fresh);
    expect(existsSync(old)).toBe(false);
    // A file of the recycled tree was written, not made anew; nothing outside it changed.
    expect(ino(join(objC, '.config'))).toBe(configInode);
    const after = statSync(join(objC, 'include/kept.h'), { bigint: true });
    expect([after.ino, after.ctimeNs]).toEqual([kept.ino, kept.ctimeNs]);
    const afterRecord = statSync(join(objC, 'init/.kept.o.cmd'), { bigint: true });
    expect(afterRecord.ctimeNs).toBe(keptRecord.ctimeNs);
    expect(readFileSync(join(objC, 'init/.other.o.cmd'), 'utf8')).toBe('savedcmd := gcc AAAA\n');
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('outside, must stay\n');
    expect(readFileSync(join(outside, 'linked'), 'utf8')).toBe('outside, hard-linked\n');
    expect(existsSync(join(objC, 'vmlinux'))).toBe(false);
  });

  it('removeObjtree keeps one dropped object tree as the recycled one, removes the rest, and none when told', () => {
    const s = setup('same');
    const objects = join(root, 'objects');
    writeRecord(objects, s.record);
    const other = join(objects, 'd'.repeat(64));
    write(join(other, 'obj/kernel/c.o'), 'another tree\n');
    const third = join(objects, 'e'.repeat(64));
    write(join(third, 'obj/kernel/c.o'), 'a third tree\n');
    removeObjtree(objects, s.record.buildId);
    expect(readRecords(objects)).toEqual([]);
    expect(existsSync(join(objects, s.record.buildId))).toBe(false);
    expect(readFileSync(join(recycledTree(objects), 'init/main.o'), 'utf8')).toBe('\x7fELF object\n');
    removeObjtree(objects, 'd'.repeat(64));
    expect(existsSync(other)).toBe(false);
    expect(existsSync(join(recycledTree(objects), 'init/main.o'))).toBe(true);
    rmSync(recycledTree(objects), { recursive: true });
    removeObjtree(objects, 'e'.repeat(64), false);
    expect(existsSync(third)).toBe(false);
    expect(existsSync(recycledTree(objects))).toBe(false);
    // A tree a seed copy is reading is removed, not recycled (its files must not be written in place).
    const fourth = join(objects, 'f'.repeat(64));
    write(join(fourth, 'obj/kernel/c.o'), 'a tree being read\n');
    const done = markReading(objects, 'f'.repeat(64));
    removeObjtree(objects, 'f'.repeat(64));
    expect(existsSync(fourth)).toBe(false);
    expect(existsSync(recycledTree(objects))).toBe(false);
    done();
    expect(readdirSync(objects)).toEqual([]);
  });

  it('a copy given up: recycled when not placed; after a failed prepare, the cache as it was', async () => {
    const s = setup('same');
    const objects = join(root, 'objects');
    const stage = (name: string) => {
      const dir = join(objects, name);
      return stageSeed(
        { record: s.record, samePatches: true, differing: 0 },
        { objects, dir, names: dir, tree: { dir: s.a } },
      );
    };
    // Not the seed chosen once the configuration was resolved: its files are recycled.
    const wrong = await stage('early.seed-1');
    expect(wrong.reused).toBe(false);
    dropStaged(wrong);
    expect(existsSync(wrong.dir)).toBe(false);
    expect(existsSync(join(recycledTree(objects), 'init/main.o'))).toBe(true);
    // A prepare that failed: the copy that took the recycled tree gives it back ...
    const took = await stage('early.seed-2');
    expect(took.reused).toBe(true);
    expect(existsSync(recycledTree(objects))).toBe(false);
    await dropCopy(Promise.resolve(took));
    expect(existsSync(join(recycledTree(objects), 'init/main.o'))).toBe(true);
    // ... and one that made its own is removed, leaving no recycled tree where there was none.
    rmSync(recycledTree(objects), { recursive: true });
    const own = await stage('early.seed-3');
    await dropCopy(Promise.resolve(own));
    expect(readdirSync(objects).sort()).toEqual(['a'.repeat(64)]);
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

  it('an early copy in a build directory of its own: make synchronises its configuration there (syncEarlySeed); a run that fails drops it', async () => {
    const s = setup('same');
    const objects = join(root, 'objects');
    // The tree's Makefile stands in for the kernel's: `syncconfig` records what it was given.
    write(
      join(s.a, 'Makefile'),
      'syncconfig:\n\tcp $(O)/.config $(O)/synced-config\n\techo "$(ARCH) $(CURDIR)" >$(O)/synced-how\n',
    );
    const stage = (name: string) => {
      const home = join(objects, name);
      const dir = join(home, 'obj');
      return stageSeed(
        { record: s.record, samePatches: true, differing: 0 },
        { objects, dir, names: dir, tree: { dir: s.a }, home },
      );
    };
    const how = { tree: s.a, make: () => ({ args: ['ARCH=x86_64'], env: {} }) };
    const synced = await syncEarlySeed(stage('early.seed-1'), 'CONFIG_X=y\n', how);
    expect(synced?.home).toBe(join(objects, 'early.seed-1'));
    const dir = join(objects, 'early.seed-1', 'obj');
    expect(readFileSync(join(dir, 'synced-config'), 'utf8')).toBe('CONFIG_X=y\n');
    // make ran in the build directory, the source linked into it (build-dir.ts).
    expect(readFileSync(join(dir, 'synced-how'), 'utf8')).toBe(`x86_64 ${join(objects, 'early.seed-1')}\n`);
    expect(readlinkSync(join(objects, 'early.seed-1', 'Makefile'))).toBe(join(s.a, 'Makefile'));
    // Placed: the object tree is the copy, its build directory (links only) is gone.
    await placeSeed(synced as NonNullable<typeof synced>, {
      objects,
      objtree: s.objB,
      tree: { key: 'A', dir: s.a },
      pristine: { key: 'pristine', dir: s.pristine },
    });
    expect(readFileSync(join(s.objB, 'synced-config'), 'utf8')).toBe('CONFIG_X=y\n');
    expect(existsSync(join(objects, 'early.seed-1'))).toBe(false);
    // A run that fails (here: no such target) leaves a copy in an unknown state: dropped, its files
    // recycled, its build directory removed; the build then seeds anew.
    write(join(s.a, 'Makefile'), 'other:\n\ttrue\n');
    const failed = await syncEarlySeed(stage('early.seed-2'), 'CONFIG_X=y\n', how);
    expect(failed).toBeUndefined();
    expect(existsSync(join(objects, 'early.seed-2'))).toBe(false);
    expect(readFileSync(join(recycledTree(objects), 'init/main.o'), 'utf8')).toBe('\x7fELF object\n');
    // A copy that failed before (undefined) stays undefined; nothing is run.
    expect(await syncEarlySeed(Promise.resolve(undefined), 'CONFIG_X=y\n', how)).toBeUndefined();
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
