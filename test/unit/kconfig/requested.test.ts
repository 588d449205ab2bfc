/** Requests in merge order, redefinitions, value comparison, and writing .config lines. */
import { describe, expect, it } from 'vitest';
import { configValues, parseConfig, serialiseConfig } from '../../../src/kconfig/config.js';
import {
  findRedefinitions,
  lastRequests,
  type Requested,
  requestedFromFragments,
  requestedFromSet,
} from '../../../src/kconfig/requested.js';
import {
  parseNumber,
  type SymbolType,
  sameValue,
  unquote,
  valueFitsType,
} from '../../../src/kconfig/values.js';

const frag = (file: string, text: string) => ({ file, entries: parseConfig(text).entries });

describe('requested values', () => {
  it('lists fragments in order, then inline values, with origins and onDropped', () => {
    const r = requestedFromFragments(
      [frag('a.config', 'CONFIG_A=y\n# CONFIG_B is not set\n'), frag('b.config', '\nCONFIG_A=m\n')],
      { CONFIG_S: 'text', CONFIG_N: 64, CONFIG_W: { value: 'y', onDropped: 'warn' } },
      (symbol) => ({ file: 'kernelfile.yaml', line: symbol.length }),
      'error',
    );
    expect(r.map((x) => [x.symbol, x.value, `${x.origin.file}:${x.origin.line}`, x.onDropped])).toEqual([
      ['CONFIG_A', 'y', 'a.config:1', 'error'],
      ['CONFIG_B', 'n', 'a.config:2', 'error'],
      ['CONFIG_A', 'm', 'b.config:2', 'error'],
      ['CONFIG_S', '"text"', 'kernelfile.yaml:8', 'error'],
      ['CONFIG_N', '64', 'kernelfile.yaml:8', 'error'],
      ['CONFIG_W', 'y', 'kernelfile.yaml:8', 'warn'],
    ]);
    expect(r[0]?.origin.column).toBe(10);
    const warned = requestedFromFragments([{ ...frag('c.config', 'CONFIG_C=y\n'), onDropped: 'warn' }]);
    expect(warned.map((x) => x.onDropped)).toEqual(['warn']);
  });

  it('formats inline values as a .config would hold them', () => {
    const r = requestedFromSet({ CONFIG_A: 'm', CONFIG_H: '0x1f', CONFIG_Q: 'say "hi"' }, () => ({
      file: 'k',
      line: 1,
    }));
    expect(r.map((x) => x.value)).toEqual(['m', '0x1f', '"say \\"hi\\""']);
  });

  const at = (symbol: string, value: string, line: number): Requested => ({
    symbol,
    value,
    origin: { file: 'f', line },
    onDropped: 'error',
  });

  it('keeps the last request per symbol, in the order of the winners', () => {
    const w = lastRequests([at('CONFIG_A', 'y', 1), at('CONFIG_B', 'y', 2), at('CONFIG_A', 'n', 3)]);
    expect(w.map((x) => [x.last.symbol, x.last.origin.line, x.earlier.map((e) => e.origin.line)])).toEqual([
      ['CONFIG_B', 2, []],
      ['CONFIG_A', 3, [1]],
    ]);
  });

  it('warns about a symbol set to different values, not about a repeat of the same value', () => {
    const r = findRedefinitions([
      at('CONFIG_A', 'y', 1),
      at('CONFIG_A', 'y', 2),
      at('CONFIG_A', 'm', 3),
      at('CONFIG_N', '0x10', 4),
      at('CONFIG_N', '16', 5),
    ]);
    expect(r).toEqual([
      {
        symbol: 'CONFIG_A',
        earlier: { value: 'y', origin: { file: 'f', line: 2 } },
        later: { value: 'm', origin: { file: 'f', line: 3 } },
      },
    ]);
  });
});

describe('values', () => {
  it.each([
    ['n', undefined, undefined, true],
    ['n', 'n', 'bool', true],
    ['y', 'm', 'tristate', false],
    ['y', '"y"', 'string', true],
    ['"a b"', '"a b"', 'string', true],
    ['n', '""', 'string', true],
    ['"x"', '"y"', 'string', false],
    ['0x1F', '0x1f', 'hex', true],
    ['1f', '0x1f', 'hex', true],
    ['10', '0x10', 'hex', true],
    ['10', '0x10', 'int', false],
    ['+5', '5', 'int', true],
    ['0x10', '16', undefined, true],
    ['"3"', '3', 'int', true],
  ] as [string, string | undefined, SymbolType | undefined, boolean][])(
    'sameValue(%s, %s, %s) = %s',
    (want, got, type, same) => {
      expect(sameValue(want, got, type)).toBe(same);
    },
  );

  it.each([
    ['m', 'bool', false],
    ['y', 'bool', true],
    ['m', 'tristate', true],
    ['"5"', 'int', true],
    ['0x5', 'int', false],
    ['5', 'hex', true],
    ['0xg', 'hex', false],
    ['anything', 'string', true],
  ] as [string, SymbolType, boolean][])('valueFitsType(%s, %s) = %s', (v, type, fits) => {
    expect(valueFitsType(v, type)).toBe(fits);
  });

  it('parses numbers exactly, beyond 2^53', () => {
    expect(parseNumber('0xffffffff80000000')).toBe(0xffffffff80000000n);
    expect(parseNumber('-12')).toBe(-12n);
    expect(parseNumber('ff', true)).toBe(255n);
    expect(parseNumber('1e3')).toBeUndefined();
    expect(unquote('"a \\"q\\" \\\\"')).toBe('a "q" \\');
  });
});

describe('writing .config lines', () => {
  it('serialises entries so that parseConfig reads them back', () => {
    const entries = [
      { symbol: 'CONFIG_A', value: 'y' },
      { symbol: 'CONFIG_B', value: 'n' },
      { symbol: 'CONFIG_S', value: '"a \\"b\\""' },
      { symbol: 'CONFIG_H', value: '0x1f' },
    ];
    const text = serialiseConfig(entries);
    expect(text).toBe('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S="a \\"b\\""\nCONFIG_H=0x1f\n');
    expect(parseConfig(text).entries.map(({ symbol, value }) => ({ symbol, value }))).toEqual(entries);
    expect(configValues(`${text}CONFIG_A=m\n`)).toEqual({
      CONFIG_A: 'm',
      CONFIG_B: 'n',
      CONFIG_S: '"a \\"b\\""',
      CONFIG_H: '0x1f',
    });
  });
});
