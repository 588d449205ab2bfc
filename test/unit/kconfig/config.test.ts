import { describe, expect, it } from 'vitest';
import { checkValue, formatSetValue, parseConfig } from '../../../src/kconfig/config.js';

describe('parseConfig', () => {
  it('reads values, "is not set" lines, and skips comments and blanks', () => {
    const r = parseConfig(
      '# a comment\n\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D="a \\"q\\" b"\nCONFIG_E=0x10\nCONFIG_F=-3\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.entries.map((e) => [e.symbol, e.value, e.line])).toEqual([
      ['CONFIG_A', 'y', 3],
      ['CONFIG_B', 'm', 4],
      ['CONFIG_C', 'n', 5],
      ['CONFIG_D', '"a \\"q\\" b"', 6],
      ['CONFIG_E', '0x10', 7],
      ['CONFIG_F', '-3', 8],
    ]);
  });

  it('reads a real .config from Kconfig (CRLF tolerated)', () => {
    const r = parseConfig(
      '#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"\r\nCONFIG_64BIT=y\r\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.entries).toHaveLength(2);
  });

  it.each([
    ['config_swap=y', 1, /not a Kconfig symbol; Kconfig would silently ignore/, /CONFIG_SWAP/],
    ['SWAP=y', 1, /not a Kconfig symbol/, /start with CONFIG_: `CONFIG_SWAP`/],
    ['CONFIG_SWAP = y', 1, /not a Kconfig symbol/, /remove the spaces/],
    ['CONFIG_SWAP', 1, /not a config line/, /CONFIG_NAME=value/],
    ['CONFIG_SWAP=yes', 13, /`yes` is not a Kconfig value/, /use `y`/],
    ['CONFIG_SWAP=Y', 13, /`Y` is not a Kconfig value/, /use `y`/],
    ['CONFIG_NAME=hello world', 13, /not a Kconfig value/, /double quotes/],
    ['CONFIG_NAME="open', 13, /unterminated string/, /close the string/],
    ['CONFIG_NAME=', 13, /missing value/, /y, m, n/],
    ['# config_swap is not set', 3, /not a Kconfig symbol name/, /CONFIG_SWAP/],
  ])('%s → problem at column %i', (line, column, message, hint) => {
    const r = parseConfig(`CONFIG_OK=y\n${line}\n`);
    expect(r.entries.map((e) => e.symbol)).toEqual(['CONFIG_OK']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 2, column });
    expect(r.problems[0]?.message).toMatch(message);
    expect(r.problems[0]?.hint).toMatch(hint);
  });
});

describe('values', () => {
  it('formats set: values in .config syntax', () => {
    expect(formatSetValue('y')).toBe('y');
    expect(formatSetValue(64)).toBe('64');
    expect(formatSetValue('0x1000000')).toBe('0x1000000');
    expect(formatSetValue('-custom')).toBe('"-custom"');
    expect(formatSetValue('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
  });

  it('every formatted value is accepted by the parser', () => {
    for (const v of ['y', 'm', 'n', 0, 4096, '0xff', 'text', 'with "quotes"', 'back\\slash', '']) {
      expect(checkValue(formatSetValue(v)), String(v)).toBeNull();
    }
  });
});
