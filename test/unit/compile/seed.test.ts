import { describe, expect, it } from 'vitest';
import {
  beyondKeep,
  chooseSeed,
  compatDigest,
  differingOptions,
  guessSeed,
  keepsObjectPaths,
  OBJTREE_RECORD,
  type ObjtreeRecord,
  parseRecord,
  pathRewriter,
  relinkedAnyway,
  type SeedWanted,
  seedSummary,
} from '../../../src/compile/seed.js';

const compat = compatDigest({
  recipe: 2,
  toolchain: 'gcc 12.2.0 | ld 2.40',
  makeVars: {},
  signingCertificate: null,
});

const id = (c: string) => c.repeat(64);

function record(over: Partial<ObjtreeRecord> & { buildId: string }): ObjtreeRecord {
  return {
    objtreeRecord: OBJTREE_RECORD,
    release: `6.1.192-kf${over.buildId.slice(0, 8)}`,
    recipe: 2,
    source: 'sha256:src',
    pristine: { key: 'pristine', dir: '/c/trees/src-pristine' },
    tree: { key: 'patches-A', dir: '/c/trees/A' },
    objtree: `/c/objects/${over.buildId}/obj`,
    arch: 'x86_64',
    compat,
    completedAt: '2026-12-01T10:00:00.000Z',
    ...over,
  };
}

const BASE = 'CONFIG_64BIT=y\nCONFIG_PRINTK=y\nCONFIG_DEFAULT_HOSTNAME="(none)"\n# CONFIG_SWAP is not set\n';
const wanted: SeedWanted = {
  buildId: id('f'),
  source: 'sha256:src',
  arch: 'x86_64',
  compat,
  treeKey: 'patches-A',
  configText: BASE.replace('(none)', 'web'),
};

describe('differingOptions', () => {
  it('counts changed values and options set in one only; comments do not count', () => {
    expect(differingOptions(BASE, BASE)).toBe(0);
    expect(differingOptions(BASE, `# a comment\n${BASE}`)).toBe(0);
    expect(differingOptions(BASE, BASE.replace('(none)', 'web'))).toBe(1);
    expect(differingOptions(BASE, `${BASE}CONFIG_SWAP=y\n`)).toBe(1);
    expect(differingOptions(BASE, BASE.replace('CONFIG_PRINTK=y\n', ''))).toBe(1);
    expect(differingOptions(BASE, 'CONFIG_X=y\n')).toBe(5); // "is not set" is a value (n)
  });
});

describe('chooseSeed', () => {
  const configs = new Map<string, string>();
  const configOf = (r: ObjtreeRecord) => configs.get(r.buildId);

  it('takes the tree with the same patches before one with fewer differing options', () => {
    const samePatches = record({ buildId: id('a') });
    const otherPatches = record({ buildId: id('b'), tree: { key: 'patches-B', dir: '/c/trees/B' } });
    configs.set(samePatches.buildId, `${BASE}CONFIG_SWAP=y\nCONFIG_MODULES=y\n`);
    configs.set(otherPatches.buildId, wanted.configText);
    const c = chooseSeed(wanted, [otherPatches, samePatches], configOf);
    expect(c?.record.buildId).toBe(id('a'));
    expect(c?.samePatches).toBe(true);
    expect(c?.differing).toBe(3);
    // Without it, the tree of other patches with no differing option.
    const d = chooseSeed(wanted, [otherPatches], configOf);
    expect(d).toMatchObject({ samePatches: false, differing: 0 });
  });

  it('among equals, the fewest differing options, then the most recent', () => {
    const near = record({ buildId: id('1'), completedAt: '2026-11-01T00:00:00.000Z' });
    const far = record({ buildId: id('2'), completedAt: '2026-12-01T00:00:00.000Z' });
    const nearToo = record({ buildId: id('3'), completedAt: '2026-11-15T00:00:00.000Z' });
    configs.set(near.buildId, BASE);
    configs.set(nearToo.buildId, BASE);
    configs.set(far.buildId, `${BASE}CONFIG_SWAP=y\n`);
    expect(chooseSeed(wanted, [far, near, nearToo], configOf)?.record.buildId).toBe(id('3'));
  });

  it('never seeds across sources, architectures, toolchains or make variables, nor from itself', () => {
    const base = { completedAt: '2026-12-01T00:00:00.000Z' };
    const others = [
      record({ ...base, buildId: id('c'), source: 'sha256:other' }),
      record({ ...base, buildId: id('d'), arch: 'aarch64' }),
      record({
        ...base,
        buildId: id('e'),
        compat: compatDigest({
          recipe: 2,
          toolchain: 'gcc 12.2.0 | ld 2.40',
          makeVars: { KCFLAGS: '-O3' },
          signingCertificate: null,
        }),
      }),
      record({
        ...base,
        buildId: id('9'),
        compat: compatDigest({
          recipe: 2,
          toolchain: 'gcc 13.1.0 | ld 2.41',
          makeVars: {},
          signingCertificate: null,
        }),
      }),
      record({ ...base, buildId: wanted.buildId }),
    ];
    for (const r of others) configs.set(r.buildId, BASE);
    expect(chooseSeed(wanted, others, configOf)).toBeUndefined();
  });

  it('never seeds a CONFIG_DEBUG_INFO build, nor from one, nor from a tree whose .config is gone', () => {
    const r = record({ buildId: id('7') });
    configs.set(r.buildId, BASE);
    expect(
      chooseSeed({ ...wanted, configText: `${BASE}CONFIG_DEBUG_INFO=y\n` }, [r], configOf),
    ).toBeUndefined();
    configs.set(r.buildId, `${BASE}CONFIG_DEBUG_INFO=y\n`);
    expect(chooseSeed(wanted, [r], configOf)).toBeUndefined();
    expect(chooseSeed(wanted, [record({ buildId: id('8') })], () => undefined)).toBeUndefined();
    expect(keepsObjectPaths('# CONFIG_DEBUG_INFO is not set\n')).toBe(false);
  });

  it('the signing certificate is part of what must be equal', () => {
    const a = compatDigest({ recipe: 2, toolchain: 't', makeVars: {}, signingCertificate: 'x'.repeat(64) });
    const b = compatDigest({ recipe: 2, toolchain: 't', makeVars: {}, signingCertificate: null });
    expect(a).not.toBe(b);
  });
});

describe('guessSeed', () => {
  const configs = new Map<string, string>();
  const configOf = (r: ObjtreeRecord) => configs.get(r.buildId);
  const { buildId: _id, configText: _text, ...known } = wanted;

  it('before the configuration is resolved: same patches first, then the fewest requested values a seed lacks', () => {
    const web = record({ buildId: id('a'), completedAt: '2026-11-01T00:00:00.000Z' });
    const db = record({ buildId: id('b'), completedAt: '2026-12-01T00:00:00.000Z' });
    const other = record({ buildId: id('c'), tree: { key: 'patches-B', dir: '/c/trees/B' } });
    configs.set(web.buildId, BASE.replace('(none)', 'web'));
    configs.set(db.buildId, `${BASE.replace('(none)', 'db')}CONFIG_SWAP=y\n`);
    configs.set(other.buildId, `${BASE.replace('(none)', 'web')}CONFIG_SWAP=y\n`);
    const requested = new Map([
      ['CONFIG_DEFAULT_HOSTNAME', '"web"'],
      ['CONFIG_SWAP', 'y'],
    ]);
    // web lacks one requested value, db one, other none: same patches win, then the most recent.
    expect(guessSeed(known, requested, [web, db, other], configOf)).toMatchObject({
      record: { buildId: id('b') },
      samePatches: true,
      differing: 1,
    });
    // A value a seed does not set counts as n.
    const n = new Map([['CONFIG_MODULES', 'n']]);
    expect(guessSeed(known, n, [web], configOf)?.differing).toBe(0);
    expect(guessSeed(known, new Map([['CONFIG_MODULES', 'y']]), [web], configOf)?.differing).toBe(1);
    expect(guessSeed(known, requested, [other], configOf)).toMatchObject({
      samePatches: false,
      differing: 0,
    });
  });

  it('guessed by the merged values (the release suffix too), it is the seed chooseSeed then chooses', () => {
    // The example and a newer build of it under another release suffix (the e2e suite's "prev").
    const tiny = record({ buildId: id('1'), completedAt: '2026-11-01T00:00:00.000Z' });
    const prev = record({ buildId: id('2'), completedAt: '2026-12-01T00:00:00.000Z' });
    configs.set(tiny.buildId, `CONFIG_LOCALVERSION="-tiny"\n${BASE}`);
    configs.set(prev.buildId, `CONFIG_LOCALVERSION="-prev"\n${BASE}`);
    // The example with one option changed.
    const resolved = `CONFIG_LOCALVERSION="-tiny"\n${BASE.replace('(none)', 'kf-1')}`;
    const merged = new Map([
      ['CONFIG_DEFAULT_HOSTNAME', '"kf-1"'],
      ['CONFIG_LOCALVERSION', '"-tiny"'],
      ['CONFIG_LOCALVERSION_AUTO', 'n'],
    ]);
    const chosen = chooseSeed({ ...known, buildId: id('f'), configText: resolved }, [tiny, prev], configOf);
    expect(chosen).toMatchObject({ record: { buildId: tiny.buildId }, differing: 1 });
    expect(guessSeed(known, merged, [tiny, prev], configOf)).toMatchObject({
      record: { buildId: tiny.buildId },
      differing: 1,
    });
    // The user's values alone tie the two, and the newer one wins: a guess the build then drops.
    const userOnly = new Map([['CONFIG_DEFAULT_HOSTNAME', '"kf-1"']]);
    expect(guessSeed(known, userOnly, [tiny, prev], configOf)?.record.buildId).toBe(prev.buildId);
  });

  it('keeps the rules of chooseSeed: no CONFIG_DEBUG_INFO, nothing incompatible', () => {
    const r = record({ buildId: id('d') });
    configs.set(r.buildId, BASE);
    expect(guessSeed(known, new Map([['CONFIG_DEBUG_INFO', 'y']]), [r], configOf)).toBeUndefined();
    expect(guessSeed({ ...known, arch: 'aarch64' }, new Map(), [r], configOf)).toBeUndefined();
    expect(guessSeed(known, new Map(), [record({ buildId: id('e') })], () => undefined)).toBeUndefined();
  });
});

describe('parseRecord', () => {
  it('reads back what was written, and refuses anything else', () => {
    const r = record({ buildId: id('a') });
    expect(parseRecord(JSON.stringify(r))).toEqual(r);
    expect(parseRecord('not json')).toBeUndefined();
    expect(parseRecord('null')).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, objtreeRecord: 3 }))).toBeUndefined();
    // Version 1: the object tree was the build directory itself (before build-dir.ts): not a seed.
    expect(parseRecord(JSON.stringify({ ...r, objtreeRecord: 1 }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, buildId: '../../etc' }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, tree: { key: 'k' } }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, recipe: '2' }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, patched: ['init/main.c'] }))?.patched).toEqual(['init/main.c']);
    expect(parseRecord(JSON.stringify({ ...r, patched: ['../etc/passwd'] }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, patched: ['/etc/passwd'] }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...r, patched: 'init/main.c' }))).toBeUndefined();
    const { compat: _c, ...noCompat } = r;
    expect(parseRecord(JSON.stringify(noCompat))).toBeUndefined();
  });
});

describe('pathRewriter', () => {
  it("replaces the seed's trees with the build's, the longer path first", () => {
    const text =
      'savedcmd_init/main.o := gcc -I/c/trees/A/include -ffile-prefix-map=/c/objects/aaa/= -c -o init/main.o /c/trees/A/init/main.c\n' +
      'deps_init/main.o := /c/trees/A/init/main.c /c/trees/AB/x.h\n';
    const out = pathRewriter([
      ['/c/trees/A', '/c/trees/B'],
      ['/c/trees/A/init', '/c/trees/Z/init'],
      ['/c/objects/aaa', '/c/objects/bbb'],
    ])(Buffer.from(text));
    expect(out.toString()).toBe(
      'savedcmd_init/main.o := gcc -I/c/trees/B/include -ffile-prefix-map=/c/objects/bbb/= -c -o init/main.o /c/trees/Z/init/main.c\n' +
        'deps_init/main.o := /c/trees/Z/init/main.c /c/trees/BB/x.h\n',
    );
    expect(pathRewriter([['/c/trees/A', '/c/trees/A']])(Buffer.from(text)).toString()).toBe(text);
  });

  it('matches paths as the file system has them (UTF-8 bytes), and leaves other bytes alone', () => {
    const text = Buffer.concat([
      Buffer.from('deps := /home/jos\u00e9/.cache/trees/A/x.h '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' /home/jos\u00e9/.cache/trees/A/y.h\n'),
    ]);
    const out = pathRewriter([['/home/jos\u00e9/.cache/trees/A', '/home/jos\u00e9/.cache/trees/\u00c5']])(
      text,
    );
    expect(out).toEqual(
      Buffer.concat([
        Buffer.from('deps := /home/jos\u00e9/.cache/trees/\u00c5/x.h '),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(' /home/jos\u00e9/.cache/trees/\u00c5/y.h\n'),
      ]),
    );
  });
});

describe('beyondKeep', () => {
  it('keeps the most recent object trees of the source; other sources are not counted', () => {
    const rs = [
      record({ buildId: id('1'), completedAt: '2026-12-01T01:00:00.000Z' }),
      record({ buildId: id('2'), completedAt: '2026-12-01T03:00:00.000Z' }),
      record({ buildId: id('3'), completedAt: '2026-12-01T02:00:00.000Z' }),
      record({ buildId: id('4'), completedAt: '2026-12-01T00:00:00.000Z', source: 'sha256:other' }),
    ];
    expect(beyondKeep(rs, 'sha256:src', 2).map((r) => r.buildId)).toEqual([id('1')]);
    expect(beyondKeep(rs, 'sha256:src', 0).map((r) => r.buildId)).toEqual([id('2'), id('3'), id('1')]);
    expect(beyondKeep(rs, 'sha256:src', 3)).toEqual([]);
  });
});

describe('seedSummary', () => {
  it('says how the seed relates to the build', () => {
    expect(seedSummary({ samePatches: true, differing: 1 })).toBe('same patches, 1 option differs');
    expect(seedSummary({ samePatches: false, differing: 0 })).toBe('other patches, 0 options differ');
    expect(seedSummary({ samePatches: true, differing: 12 })).toBe('same patches, 12 options differ');
  });
});

describe('relinkedAnyway', () => {
  it('names the images make links from every object, and nothing make would not make again', () => {
    for (const f of [
      'vmlinux',
      'vmlinux.o',
      '.tmp_vmlinux.kallsyms1',
      'arch/x86/boot/compressed/vmlinux',
      'arch/x86/boot/compressed/vmlinux.bin',
      'arch/x86/boot/compressed/vmlinux.bin.xz',
      'arch/x86/boot/vmlinux.bin',
    ])
      expect(relinkedAnyway(f), f).toBe(true);
    for (const f of [
      '.config',
      'include/config/auto.conf',
      'kernel/sys.o',
      '.vmlinux.cmd',
      'vmlinux.a',
      'vmlinux.symvers',
      'Module.symvers',
      'modules.order',
      'arch/x86/boot/bzImage',
      'init/.version.o.cmd',
    ])
      expect(relinkedAnyway(f), f).toBe(false);
  });
});
