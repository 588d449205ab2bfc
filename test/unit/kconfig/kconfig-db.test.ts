/**
 * Reading Kconfig trees: the fixture tree (valid for Linux 6.1's own kconfig: see
 * test/fixtures/kconfig/regen.sh), constructs of other Kconfig trees, and broken input.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatExpr } from '../../../src/kconfig/expr.js';
import { loadKconfig } from '../../../src/kconfig/kconfig-db.js';
import { LineReader } from '../../../src/kconfig/kconfig-lines.js';
import { definitions, dependencyOf, promptConditionOf, typeOf } from '../../../src/kconfig/kconfig-query.js';
import type { SymbolDef } from '../../../src/kconfig/kconfig-types.js';
import { dirLister, dirReader, FIXTURES } from './trees.js';

const VARS = { SRCARCH: 'x86', ARCH: 'x86_64' };
const db = loadKconfig(dirReader(join(FIXTURES, 'tree')), VARS);
const one = (name: string): SymbolDef => {
  const defs = definitions(db, name);
  expect(defs).toHaveLength(1);
  return defs[0] as SymbolDef;
};
const deps = (name: string) => {
  const d = dependencyOf(one(name));
  return d && formatExpr(d);
};
const mem = (files: Record<string, string>) => (rel: string) => files[rel];

describe('the fixture tree', () => {
  it('reads every file, following source with $(SRCARCH), without problems', () => {
    expect(db.problems).toEqual([]);
    expect(db.files).toEqual([
      'Kconfig',
      'scripts/Kconfig.include',
      'init/Kconfig',
      'arch/x86/Kconfig',
      'arch/x86/Kconfig.cpu',
      'drivers/block/Kconfig',
      'drivers/misc/Kconfig',
      'fs/Kconfig',
      'fs/ext4/Kconfig',
    ]);
  });

  it('records type, prompt, position, selects, implies and help of an entry', () => {
    const ext4 = one('CONFIG_EXT4_FS');
    expect(ext4).toMatchObject({
      name: 'EXT4_FS',
      keyword: 'config',
      type: 'tristate',
      prompt: { text: 'The Extended 4 (ext4) filesystem', file: 'fs/ext4/Kconfig', line: 2 },
      file: 'fs/ext4/Kconfig',
      line: 1,
      hasHelp: true,
    });
    expect(ext4.selects.map((s) => [s.value, s.if && formatExpr(s.if)])).toEqual([
      ['JBD2', undefined],
      ['CRC16', 'EXT4_DEBUG'],
    ]);
    expect(ext4.implies.map((s) => s.value)).toEqual(['QUOTA']);
    expect(one('BLK_DEV').keyword).toBe('menuconfig');
  });

  it('builds the reverse select and imply indexes', () => {
    const by = (target: string) =>
      (db.selectedBy.get(target) ?? []).map((r) => `${r.by}${r.if ? ` if ${formatExpr(r.if)}` : ''}`);
    expect(by('SG_POOL')).toEqual(['BLOCK if BLK_DEV', 'VIRTIO_BLK']);
    expect(by('EXPERT')).toEqual(['EMBEDDED']);
    expect(db.impliedBy.get('QUOTA')?.map((r) => r.by)).toEqual(['EXT4_FS']);
    expect(db.impliedBy.get('SG_POOL')?.map((r) => r.by)).toEqual(['VIRTIO']);
  });

  it('adds the conditions of enclosing if, menu and choice blocks to the dependencies', () => {
    expect(deps('INET')).toBe('NET'); // if NET
    expect(deps('EXT4_FS')).toBe('BLOCK'); // menu "File systems" + depends on BLOCK
    expect(deps('EXT4_DEBUG')).toBe('BLOCK && EXT4_FS');
    expect(deps('VIRTIO_BLK')).toBe('BLK_DEV && VIRTIO'); // if BLK_DEV + own line
    expect(deps('HZ_1000')).toBe('!X86_32'); // a choice without depends on adds nothing
    expect(deps('QUOTA')).toBe('BLOCK');
    expect(deps('SG_POOL')).toBeUndefined();
    expect(one('EXT4_FS').context.map((c) => `${c.kind} ${c.file}:${c.line}`)).toEqual(['menu fs/Kconfig:1']);
  });

  it("keeps a menu's visible if and a prompt's if apart from the dependencies", () => {
    const proc = one('PROC_FS');
    expect(dependencyOf(proc)).toBeUndefined();
    expect(formatExpr(promptConditionOf(proc) as never)).toBe('EXPERT');
    expect(formatExpr(promptConditionOf(one('BLOCK')) as never)).toBe('EXPERT');
    expect(formatExpr(promptConditionOf(one('64BIT')) as never)).toBe('"x86_64" = "x86"'); // $(ARCH) expanded
  });

  it('reads choices and their members', () => {
    expect(db.choices).toHaveLength(1);
    const choice = db.choices[0];
    expect(choice).toMatchObject({
      prompt: { text: 'Timer frequency' },
      members: ['HZ_100', 'HZ_250', 'HZ_1000'],
    });
    expect(one('HZ_250').choice).toBe(choice);
    expect(one('HZ').choice).toBeUndefined();
    expect(formatExpr(choice?.defaults[0]?.value as never)).toBe('HZ_250');
  });

  it('reads types from def_bool, ranges with conditions, int/hex/string defaults', () => {
    expect(one('X86_64').type).toBe('bool');
    expect(one('X86_64').prompt).toBeUndefined();
    expect(formatExpr(one('X86_64').defaults[0]?.value as never)).toBe('y');
    const nr = one('NR_CPUS');
    expect(
      nr.ranges.map(
        (r) => `${r.value.map((b) => formatExpr(b)).join('..')}${r.if ? ` if ${formatExpr(r.if)}` : ''}`,
      ),
    ).toEqual(['2..512 if SMP', '1..1']);
    expect(typeOf(db, 'PAGE_OFFSET')).toBe('hex');
    expect(typeOf(db, 'CONFIG_CMDLINE')).toBe('string');
    expect(one('MODULES').modules).toBe(true);
  });

  it('skips help texts by indentation: deeper lines, keywords and blank lines inside', () => {
    expect(db.symbols.has('NOT_A_SYMBOL')).toBe(false);
    const block = one('BLOCK');
    expect(formatExpr(block.dependsOn as never)).toBe('!UML'); // the line after the help
    expect(block.selects.map((s) => s.value)).toEqual(['SG_POOL']);
    expect(one('AFTER_HELP')).toMatchObject({ line: 51, context: [expect.objectContaining({ kind: 'if' })] });
  });

  it('joins continuation lines', () => {
    expect(formatExpr(one('IPV6').dependsOn as never)).toBe('INET && (MODULES || !MODULES)');
    expect(deps('CC_HAS_FOO')).toBeUndefined();
    expect(formatExpr(one('CC_HAS_FOO').defaults[0]?.value as never)).toBe('$(cc-option,-mfoo -mbar)');
  });

  it('keeps every definition of a symbol defined in several places', () => {
    const tsc = definitions(db, 'X86_TSC');
    expect(
      tsc.map((d) => [`${d.file}:${d.line}`, d.prompt?.text, d.dependsOn && formatExpr(d.dependsOn)]),
    ).toEqual([
      ['arch/x86/Kconfig.cpu:5', 'Time stamp counter', 'MCORE2'],
      ['drivers/misc/Kconfig:2', undefined, 'NET'],
    ]);
  });
});

describe('constructs of other Kconfig trees', () => {
  const extras = join(FIXTURES, 'extras');
  const ex = loadKconfig(dirReader(extras), {}, { list: dirLister(extras) });

  it('follows rsource/orsource relative to the file, osource/orsource only if present, globs', () => {
    expect(ex.problems).toEqual([]);
    expect(ex.files).toEqual([
      'Kconfig',
      'sub/Kconfig',
      'sub/inner/Kconfig',
      'sub/inner/Kconfig.opt',
      'drivers/a/Kconfig',
      'drivers/b/Kconfig',
    ]);
    expect([...ex.symbols.keys()]).toEqual([
      'INNER',
      'INNER_OPT',
      'DRV_A',
      'DRV_B',
      'OLD_HELP',
      'AFTER_OLD_HELP',
    ]);
  });

  it('reports a glob it cannot expand without a lister', () => {
    const noList = loadKconfig(dirReader(extras));
    expect(noList.problems).toEqual([
      expect.objectContaining({ file: 'Kconfig', line: 5, message: expect.stringMatching(/glob/) }),
    ]);
  });

  it('supports ---help---, tabs counted to the next multiple of 8, CRLF line ends', () => {
    const t = loadKconfig(
      mem({
        Kconfig:
          'config A\r\n\tbool "a"\r\n\thelp\r\n        eight spaces = one tab\r\n\t  deeper\r\n   \r\nconfig B\r\n\ttristate\r\n',
      }),
    );
    expect(t.problems).toEqual([]);
    expect([...t.symbols.keys()]).toEqual(['A', 'B']);
    expect(t.symbols.get('B')?.[0]?.type).toBe('tristate');
  });

  it('ends a help text at a line indented less than its first line', () => {
    const r = new LineReader('\t\tfirst help line\n\n\t\t\tdeeper\n\t  less (10 < 16)\nconfig X\n');
    expect(r.skipHelp()).toBe(3);
    expect(r.next()).toBe('\t  less (10 < 16)');
    expect(r.line).toBe(4);
  });

  it('ends an empty help at the next line at column 0', () => {
    const t = loadKconfig(mem({ Kconfig: 'config A\n\tbool "a"\n\thelp\nconfig B\n\tbool "b"\n' }));
    expect([...t.symbols.keys()]).toEqual(['A', 'B']);
  });
});

describe('broken input', () => {
  const broken = loadKconfig(dirReader(join(FIXTURES, 'broken')));

  it('keeps what it can read and reports the rest with positions', () => {
    expect(broken.problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      'Kconfig:4: `endif` without `if`',
      'Kconfig:6: unknown statement `frobnicate`',
      'Kconfig:10: expected a symbol at the end',
      'Kconfig:12: expected a symbol after `select`',
      'Kconfig:13: `source "nowhere/Kconfig"`: no such file (nowhere/Kconfig)',
      'Kconfig:15: `menu` is not closed in this file',
    ]);
    expect([...broken.symbols.keys()]).toEqual(['GOOD', 'BAD_EXPR', 'INSIDE']);
  });

  it('reports a missing root file', () => {
    expect(loadKconfig(() => undefined).problems).toEqual([
      { file: 'Kconfig', line: 0, message: 'Kconfig: no such file' },
    ]);
  });

  it('refuses recursive source', () => {
    const t = loadKconfig(mem({ Kconfig: 'source "a"\n', a: 'config A\n\tbool\nsource "Kconfig"\n' }));
    expect(t.problems).toEqual([{ file: 'a', line: 3, message: 'recursive `source "Kconfig"`' }]);
    expect(t.symbols.has('A')).toBe(true);
  });
});
