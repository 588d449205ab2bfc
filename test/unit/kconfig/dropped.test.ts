/**
 * Why a requested value was dropped, one reason of each kind. Each case under
 * test/fixtures/kconfig/cases/ has the request and the .config that Linux 6.1's own kconfig made of
 * it on the fixture tree (regen.sh), so the expectations are checked against real Kconfig behaviour.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configValues, parseConfig } from '../../../src/kconfig/config.js';
import {
  type Dropped,
  describeDropped,
  findDropped,
  type Requested,
  requestedFromConfig,
} from '../../../src/kconfig/dropped.js';
import { loadKconfig } from '../../../src/kconfig/kconfig-db.js';
import { dirReader, FIXTURES, fixture } from './trees.js';

const db = loadKconfig(dirReader(join(FIXTURES, 'tree')), { SRCARCH: 'x86', ARCH: 'x86_64' });

function runCase(name: string): Dropped[] {
  const requested = requestedFromConfig(
    `${name}.config`,
    parseConfig(fixture(`cases/${name}/requested.config`)).entries,
  );
  return findDropped(requested, configValues(fixture(`cases/${name}/effective.config`)), db);
}

const CASES: Record<string, [string, Dropped['kind'], string][]> = {
  'no-block': [
    ['CONFIG_EXT4_FS', 'depends', 'depends on BLOCK [=n] (CONFIG_BLOCK=n is requested at no-block.config:3)'],
    [
      'CONFIG_JBD2',
      'no-prompt',
      'has no prompt: it is set by: EXT4_FS [=n]; it also depends on BLOCK [=n] (CONFIG_BLOCK=n is requested at no-block.config:3)',
    ],
    ['CONFIG_BLK_DEV', 'depends', 'depends on BLOCK [=n] (CONFIG_BLOCK=n is requested at no-block.config:3)'],
  ],
  defaults: [
    [
      'CONFIG_BLOCK',
      'hidden',
      'its prompt is hidden: visible if EXPERT [=n]; it follows its default: default y',
    ],
    [
      'CONFIG_PROC_FS',
      'hidden',
      'its prompt is hidden: visible if EXPERT [=n]; it follows its default: default y',
    ],
    [
      'CONFIG_64BIT',
      'hidden',
      'its prompt is hidden: visible if "x86_64" = "x86"; it follows its default: default "x86_64" != "i386"',
    ],
    ['CONFIG_SG_POOL', 'selected', 'is selected by BLOCK [=y] && BLK_DEV [=y]'],
    [
      'CONFIG_PAGE_OFFSET',
      'depends',
      'depends on X86_32 [=n]; it has no prompt: it follows its default: default 0xC0000000',
    ],
    [
      'CONFIG_NR_CPUS',
      'invalid-value',
      'is an int: it cannot be unset (it has a value whenever its dependencies are met)',
    ],
    ['CONFIG_HZ', 'no-prompt', 'has no prompt: it follows its default: default 250 if HZ_250 [=y]'],
    [
      'CONFIG_EXT5_FS',
      'undefined',
      'not defined in this source (removed or renamed?); did you mean CONFIG_EXT4_FS?',
    ],
  ],
  'modules-off': [
    ['CONFIG_VIRTIO', 'modules', 'm needs CONFIG_MODULES=y [=n]'],
    ['CONFIG_NET', 'invalid-value', 'is a bool: use y or n'],
  ],
  'modules-on': [
    [
      'CONFIG_VIRTIO_BLK',
      'depends',
      'depends on VIRTIO [=m], so it can be m at most (CONFIG_VIRTIO=m is requested at modules-on.config:2)',
    ],
    ['CONFIG_CRC16', 'selected', 'is selected by EXT4_FS [=m] && EXT4_DEBUG [=y]'],
  ],
  choice: [
    [
      'CONFIG_HZ_1000',
      'choice',
      'is in the choice "Timer frequency" where CONFIG_HZ_100=y was chosen, requested at choice.config:2',
    ],
    ['CONFIG_NR_CPUS', 'range', 'is outside its range 2..512'],
    ['CONFIG_X86_TSC', 'depends', 'depends on MCORE2 [=n] || NET [=n]'],
  ],
  'choice-n': [
    [
      'CONFIG_HZ_250',
      'choice',
      'is the member of the choice "Timer frequency" that was chosen: one member is always y; set another to y instead',
    ],
    ['CONFIG_EXPERT', 'selected', 'is selected by EMBEDDED [=y]'],
    ['CONFIG_FOO_HARDENING', 'depends', 'depends on CC_HAS_FOO [=n]'],
    ['CONFIG_NR_CPUS', 'invalid-value', 'is an int: use a decimal number'],
  ],
};

describe.each(Object.entries(CASES))('case %s', (name, expected) => {
  it('reports exactly the values Kconfig dropped, each with its reason', () => {
    const dropped = runCase(name);
    expect(dropped.map((d) => [d.symbol, d.kind, d.reason])).toEqual(expected);
  });
});

describe('findDropped', () => {
  const req = (
    symbol: string,
    value: string,
    line: number,
    onDropped: 'error' | 'warn' = 'error',
  ): Requested => ({
    symbol,
    value,
    origin: { file: 'k.yaml', line, column: 5 },
    onDropped,
  });

  it('keeps origin, onDropped and the definitions; describes a drop in one line', () => {
    const [d] = findDropped([req('CONFIG_EXT4_FS', 'y', 7, 'warn')], { CONFIG_BLOCK: 'n' }, db);
    expect(d).toEqual({
      symbol: 'CONFIG_EXT4_FS',
      requested: 'y',
      got: 'n',
      origin: { file: 'k.yaml', line: 7, column: 5 },
      onDropped: 'warn',
      kind: 'depends',
      reason: 'depends on BLOCK [=n]',
      definedAt: ['fs/ext4/Kconfig:1'],
    });
    expect(describeDropped(d as Dropped)).toBe('CONFIG_EXT4_FS=y dropped (got n): depends on BLOCK [=n]');
    expect(JSON.parse(JSON.stringify(d))).toEqual(d); // plain data: a build caches it as JSON
  });

  it('compares only the last request for a symbol, and says which it overrode', () => {
    const effective = { CONFIG_BLOCK: 'y', CONFIG_NET: 'y' };
    expect(findDropped([req('CONFIG_NET', 'n', 1), req('CONFIG_NET', 'y', 2)], effective, db)).toEqual([]);
    const [d] = findDropped([req('CONFIG_BLOCK', 'y', 1), req('CONFIG_BLOCK', 'n', 2)], effective, db);
    expect(d).toMatchObject({ origin: { line: 2 }, overrides: [{ value: 'y', origin: { line: 1 } }] });
  });

  it('treats n and absent alike, strings by their text, ints and hex by their number', () => {
    const effective = {
      CONFIG_CMDLINE: '"a \\"b\\""',
      CONFIG_NR_CPUS: '64',
      CONFIG_PAGE_OFFSET: '0xc0000000',
    };
    const survived = [
      req('CONFIG_QUOTA', 'n', 1),
      req('CONFIG_CMDLINE', '"a \\"b\\""', 2),
      req('CONFIG_NR_CPUS', '064', 3),
      req('CONFIG_PAGE_OFFSET', '0xC0000000', 4),
    ];
    expect(findDropped(survived, effective, db)).toEqual([]);
  });

  it('falls back to "unknown" when nothing explains the value', () => {
    // An effective .config that Kconfig would not write: NET has a prompt and no dependency.
    const [d] = findDropped([req('CONFIG_NET', 'y', 1)], {}, db);
    expect(d).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/^Kconfig set it to n; no unmet/),
    });
  });

  it('does not blame an m dependency for a bool (Kconfig rounds its visibility up to y)', () => {
    const effective = { CONFIG_BLOCK: 'y', CONFIG_MODULES: 'y', CONFIG_EXT4_FS: 'm' };
    const [d] = findDropped([req('CONFIG_EXT4_DEBUG', 'y', 1)], effective, db);
    expect(d?.kind).toBe('unknown');
    const [t] = findDropped(
      [req('CONFIG_VIRTIO_BLK', 'y', 1)],
      { ...effective, CONFIG_BLK_DEV: 'y', CONFIG_VIRTIO: 'm' },
      db,
    );
    expect(t?.reason).toBe('depends on VIRTIO [=m], so it can be m at most');
  });

  it('suggests nothing for a name unlike any symbol', () => {
    const [d] = findDropped([req('CONFIG_ZZZZZZZZZZZZ', 'y', 1)], {}, db);
    expect(d?.reason).toBe('not defined in this source (removed or renamed?)');
  });

  it('points at a compiler check when only a macro dependency can explain it', () => {
    const [d] = findDropped([req('CONFIG_FOO_HARDENING', 'y', 1)], { CONFIG_CC_HAS_FOO: 'y' }, db);
    expect(d).toMatchObject({
      kind: 'depends',
      reason: expect.stringMatching(/\$\(cc-option, -fstack-foo\).*compiler/),
    });
  });
});
