/**
 * The Kconfig reader and the dropped-value reasons on the real thing: the Kconfig files of Debian's
 * linux-source-6.1 (extracted once into a cache; the test fails, naming the package, when the
 * tarball is missing), and a .config that the kernel's own kconfig wrote for tinyconfig + fragments.
 */
import { describe, expect, it } from 'vitest';
import { configValues, parseConfig } from '../../src/kconfig/config.js';
import {
  describeDropped,
  findDropped,
  type Requested,
  requestedFromConfig,
} from '../../src/kconfig/dropped.js';
import { formatExpr } from '../../src/kconfig/expr.js';
import { loadKconfig } from '../../src/kconfig/kconfig-db.js';
import { definitions, dependencyOf } from '../../src/kconfig/kconfig-query.js';
import type { KconfigDb } from '../../src/kconfig/kconfig-types.js';
import { debianKconfigTree } from '../helpers/debian.js';
import { dirReader, fixture } from '../unit/kconfig/trees.js';

const VARS = { SRCARCH: 'x86', ARCH: 'x86_64' };

/** Loaded once; every test that needs it fails with the same clear message if the tarball is missing. */
let loaded: { db: KconfigDb; ms: number } | undefined;
function real(): { db: KconfigDb; ms: number } {
  if (!loaded) {
    const read = dirReader(debianKconfigTree());
    const t0 = performance.now();
    const db = loadKconfig(read, VARS);
    loaded = { db, ms: performance.now() - t0 };
  }
  return loaded;
}

describe("Debian's linux-source-6.1, x86_64", () => {
  it('loads every Kconfig file without a problem, fast', { timeout: 120_000 }, () => {
    const { db, ms } = real();
    let defs = 0;
    for (const d of db.symbols.values()) defs += d.length;
    console.log(
      `Kconfig of linux-source-6.1 (x86_64): ${db.files.length} files, ${db.symbols.size} symbols (${defs} definitions), ${db.choices.length} choices in ${Math.round(ms)} ms`,
    );
    expect(db.problems).toEqual([]);
    expect(db.files.length).toBeGreaterThan(1400);
    expect(db.symbols.size).toBeGreaterThan(15_000);
    expect(db.files).toContain('arch/x86/Kconfig');
    expect(db.files).not.toContain('arch/arm64/Kconfig');
  });

  it('finds CONFIG_EXT4_FS in fs/ext4/Kconfig, depending on BLOCK (through `if BLOCK` in fs/Kconfig)', () => {
    const { db } = real();
    const defs = definitions(db, 'CONFIG_EXT4_FS');
    expect(defs.map((d) => d.file)).toEqual(['fs/ext4/Kconfig']);
    const ext4 = defs[0];
    expect(ext4?.type).toBe('tristate');
    expect(formatExpr(dependencyOf(ext4 as never) as never)).toBe('BLOCK');
    expect(ext4?.context.map((c) => `${c.kind} ${c.file}`)).toContain('if fs/Kconfig');
    expect(ext4?.selects.map((s) => s.value)).toContain('JBD2');
    expect(db.selectedBy.get('JBD2')?.map((r) => r.by)).toContain('EXT4_FS');
  });

  const req = (symbol: string, value: string): Requested => ({
    symbol,
    value,
    origin: { file: 'kernelfile.yaml', line: 1 },
    onDropped: 'error',
  });

  it('explains CONFIG_EXT4_FS=y without CONFIG_BLOCK', () => {
    const [d] = findDropped([req('CONFIG_EXT4_FS', 'y')], { CONFIG_BLOCK: 'n' }, real().db);
    expect(d?.reason).toContain('depends on BLOCK [=n]');
    expect(describeDropped(d as never)).toBe('CONFIG_EXT4_FS=y dropped (got n): depends on BLOCK [=n]');
  });

  it('says a made-up symbol is not defined', () => {
    const [d] = findDropped([req('CONFIG_KERNELFILE_MADE_UP', 'y')], {}, real().db);
    expect(d).toMatchObject({
      kind: 'undefined',
      reason: expect.stringMatching(/^not defined in this source/),
    });
  });

  it('explains every value Kconfig dropped from tinyconfig + qemu.config + extra.config', () => {
    const requested = [
      ...requestedFromConfig('qemu.config', parseConfig(fixture('real/qemu.config')).entries),
      ...requestedFromConfig('extra.config', parseConfig(fixture('real/extra.config')).entries),
    ];
    const effective = configValues(fixture('real/tinyconfig-x86_64.config'));
    const dropped = findDropped(requested, effective, real().db);
    expect(dropped.map((d) => [d.symbol, d.kind])).toEqual([
      ['CONFIG_EXT4_FS', 'depends'],
      ['CONFIG_EXT5_FS', 'undefined'],
      ['CONFIG_JBD2', 'no-prompt'],
      ['CONFIG_EXPERT', 'selected'],
      ['CONFIG_NR_CPUS', 'range'],
      ['CONFIG_HZ_1000', 'choice'],
      ['CONFIG_TTY', 'invalid-value'],
      ['CONFIG_IPV6', 'depends'],
      ['CONFIG_INET', 'depends'],
      ['CONFIG_X86_32', 'depends'],
      ['CONFIG_CMDLINE', 'depends'],
      ['CONFIG_PHYS_ADDR_T_64BIT', 'no-prompt'],
      ['CONFIG_LOG_BUF_SHIFT', 'range'],
      ['CONFIG_VIRTIO_BLK', 'depends'],
      ['CONFIG_DEBUG_INFO_BTF', 'depends'],
      ['CONFIG_PAGE_OFFSET', 'depends'],
    ]);
    const reason = (s: string) => dropped.find((d) => d.symbol === s)?.reason;
    expect(reason('CONFIG_EXT4_FS')).toBe('depends on BLOCK [=n]');
    expect(reason('CONFIG_EXT5_FS')).toMatch(
      /did you mean CONFIG_EXT2_FS or CONFIG_EXT3_FS or CONFIG_EXT4_FS\?$/,
    );
    expect(reason('CONFIG_JBD2')).toMatch(/^has no prompt: it is set by: EXT4_FS \[=n\], OCFS2_FS \[=n\]/);
    expect(reason('CONFIG_EXPERT')).toBe('is selected by EMBEDDED [=y]');
    expect(reason('CONFIG_NR_CPUS')).toBe(
      'is outside its range NR_CPUS_RANGE_BEGIN [=2]..NR_CPUS_RANGE_END [=512]',
    );
    expect(reason('CONFIG_HZ_1000')).toBe(
      'is in the choice "Timer frequency" where CONFIG_HZ_300=y was chosen, requested at extra.config:9',
    );
    expect(reason('CONFIG_IPV6')).toBe(
      'depends on NET [=n] && INET [=n] (CONFIG_INET=y is requested at extra.config:12)',
    );
    expect(reason('CONFIG_LOG_BUF_SHIFT')).toBe('is outside its range 12..25');
    expect(reason('CONFIG_PHYS_ADDR_T_64BIT')).toBe(
      'has no prompt: it follows its default: default 64BIT [=y]',
    );
  });
});
