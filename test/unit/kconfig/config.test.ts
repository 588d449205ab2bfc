import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkValue, configValues, formatSetValue, parseConfig } from '../../../src/kconfig/config.js';

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

describe('configValues', () => {
  /** What parseConfig reads from the text, as a map (the last line for a symbol wins). */
  const viaParse = (text: string) =>
    Object.fromEntries(parseConfig(text).entries.map((e) => [e.symbol, e.value]));
  // Lines parseConfig takes, and lines it reports (and so leaves out), each alone and in every pair.
  const lines = [
    'CONFIG_A=y',
    'CONFIG_A=m',
    'CONFIG_B=n',
    'CONFIG_NR_CPUS=64',
    'CONFIG_NEG=-1',
    'CONFIG_HEX=0x1f',
    'CONFIG_HEX_UPPER=0XAB',
    'CONFIG_S="a \\"quoted\\" = string"',
    'CONFIG_EMPTY_S=""',
    'CONFIG_CR=y\r',
    'CONFIG_TWO_CR=y\r\r',
    '# CONFIG_C is not set',
    '   #CONFIG_D   is not set  ',
    '# config_e is not set',
    '# CONFIG_lower is not set',
    '# CONFIG_F is not set, really',
    'CONFIG_UNTERMINATED="abc',
    'CONFIG_TRAILING="abc"  ',
    'CONFIG_SPACE= y',
    'CONFIG_SPACE2=y ',
    ' CONFIG_LEAD=y',
    'CONFIG_X = y',
    'config_lower=y',
    'CONFIG_lower=y',
    'CONFIG_YES=yes',
    'CONFIG_MISSING=',
    'CONFIG_WORD=abc',
    'CONFIG_NOEQ',
    'NOT_CONFIG=y',
    '# a comment',
    '',
    '   ',
    '\ufeffCONFIG_BOM=y',
    'CONFIG_DOUBLE=y=y',
  ];

  it('is parseConfig without positions: every line alone and in every pair', () => {
    for (const a of lines) {
      expect(configValues(a), JSON.stringify(a)).toEqual(viaParse(a));
      for (const b of lines) {
        const text = `${a}\n${b}\n`;
        expect(configValues(text), JSON.stringify(text)).toEqual(viaParse(text));
      }
    }
    // Not an empty comparison: most lines are taken, in order, the last value of a symbol winning.
    expect(configValues(lines.join('\n'))).toMatchObject({ CONFIG_A: 'm', CONFIG_C: 'n', CONFIG_CR: 'y' });
  });

  it('reads a real .config as parseConfig does', () => {
    const text = readFileSync(
      new URL('../../fixtures/kconfig/real/tinyconfig-x86_64.config', import.meta.url),
      'utf8',
    );
    const values = configValues(text);
    expect(Object.keys(values).length).toBeGreaterThan(500);
    expect(values).toEqual(viaParse(text));
    expect(Object.keys(values)).toEqual(Object.keys(viaParse(text)));
  });
});
