/** The Kconfig expression language: parsing, printing, tristate evaluation, menuconfig-style values. */
import { describe, expect, it } from 'vitest';
import {
  formatExpr,
  formatWithValues,
  KconfigExprError,
  parseExpr,
  symbolsOf,
} from '../../../src/kconfig/expr.js';
import { compare, envFromConfig, hasMacro, tri, unmet } from '../../../src/kconfig/expr-eval.js';

describe('parseExpr → formatExpr', () => {
  it.each([
    ['A', 'A'],
    ['A && B || !C', '(A && B) || !C'],
    ['A || B && C', 'A || (B && C)'],
    ['(A || B) && C', '(A || B) && C'],
    ['A && (B && C)', 'A && B && C'],
    ['!(A || B)', '!(A || B)'],
    ['!!A', '!!A'],
    ['A=B', 'A = B'],
    ['A != n', 'A != n'],
    ['!A = y', '!(A = y)'],
    ['X < 10 && X <= 0x20 || X > -1 && X >= 2', '(X < 10 && X <= 0x20) || (X > -1 && X >= 2)'],
    ['ARCH = "x86"', 'ARCH = "x86"'],
    ["S = 'single'", 'S = "single"'],
    ['S = "with \\"quotes\\""', 'S = "with \\"quotes\\""'],
    [
      'CC_IS_GCC && $(cc-option, -fcf-protection=branch -mfoo)',
      'CC_IS_GCC && $(cc-option, -fcf-protection=branch -mfoo)',
    ],
    ['  A   &&B  # a comment', 'A && B'],
  ])('%s → %s', (text, printed) => {
    expect(formatExpr(parseExpr(text))).toBe(printed);
    // printing is stable: the printed form parses to the same tree
    expect(parseExpr(printed)).toEqual(parseExpr(text));
  });

  it('keeps the tree shape: n-ary &&/||, comparisons of atoms, macros opaque', () => {
    expect(parseExpr('A && B && !C = m')).toEqual({
      k: 'and',
      args: [
        { k: 'sym', name: 'A' },
        { k: 'sym', name: 'B' },
        { k: 'not', e: { k: 'cmp', op: '=', l: { k: 'sym', name: 'C' }, r: { k: 'sym', name: 'm' } } },
      ],
    });
    expect(parseExpr('$(success,true)')).toEqual({ k: 'macro', text: '$(success,true)' });
  });

  it.each([
    ['', /expected/],
    ['A &&', /expected a symbol at the end/],
    ['(A || B', /expected `\)` at the end/],
    ['A B', /unexpected token, found `B`/],
    ['A = = B', /expected a symbol, found `=`/],
    ['"open', /unterminated string/],
    ['A . B', /unsupported character '\.'/],
  ])('rejects %j', (text, message) => {
    expect(() => parseExpr(text)).toThrow(KconfigExprError);
    expect(() => parseExpr(text)).toThrow(message);
  });

  it('lists the symbols an expression uses, constants left out', () => {
    expect(symbolsOf(parseExpr('NET && (INET || IPV6 = y) && !UML && X < 64'))).toEqual([
      'NET',
      'INET',
      'IPV6',
      'UML',
      'X',
    ]);
  });
});

describe('tri: Kconfig tristate evaluation', () => {
  const env = envFromConfig({
    CONFIG_Y: 'y',
    CONFIG_M: 'm',
    CONFIG_N: 'n',
    CONFIG_NUM: '64',
    CONFIG_HEX: '0x1f',
    CONFIG_STR: '"x86"',
  });
  it.each([
    ['Y', 2],
    ['M', 1],
    ['N', 0],
    ['ABSENT', 0],
    ['y', 2],
    ['m', 1],
    ['n', 0],
    ['Y && M', 1],
    ['Y || M', 2],
    ['N || M', 1],
    ['!M', 1],
    ['!Y', 0],
    ['!ABSENT', 2],
    ['Y && !M', 1],
    ['M = m', 2],
    ['M = y', 0],
    ['M != y', 2],
    ['ABSENT = n', 2],
    ['NUM = 64', 2],
    ['NUM > 63 && NUM <= 64', 2],
    ['NUM < 10', 0],
    ['HEX = 31', 2],
    ['HEX >= 0x20', 0],
    ['STR = "x86"', 2],
    ['STR = "arm"', 0],
    ['STR != "arm"', 2],
    ['STR < "z"', 0],
    ['Y = M', 0],
    ['Y > M', 2],
    ['"y"', 2],
    ['$(cc-option,-mfoo)', 2],
    ['(N || M) && (Y || N)', 1],
  ])('%s = %i', (text, value) => {
    expect(tri(parseExpr(text), env)).toBe(value);
  });

  it('counts a macro as the env says (y unless told)', () => {
    const e = parseExpr('Y && $(as-instr,endbr64)');
    expect(hasMacro(e)).toBe(true);
    expect(tri(e, { ...env, macro: 0 })).toBe(0);
  });

  it('compares numbers numerically (hex too) and other text only for = and !=', () => {
    expect(compare('=', '0x10', '16')).toBe(true);
    expect(compare('<', '-1', '0')).toBe(true);
    expect(compare('<', 'abc', 'abd')).toBe(false);
    expect(compare('!=', 'abc', 'abd')).toBe(true);
    expect(compare('>=', '0xffffffff80000000', '0x1000')).toBe(true);
  });

  it('gives an absent string/int symbol the value "" when its type is known', () => {
    const typed = envFromConfig({}, (n) => (n === 'S' ? 'string' : undefined));
    expect(tri(parseExpr('S = ""'), typed)).toBe(2);
    expect(tri(parseExpr('S = n'), typed)).toBe(0);
    expect(tri(parseExpr('OTHER = n'), typed)).toBe(2);
  });
});

describe('unmet: the part that falls short', () => {
  const env = envFromConfig({ CONFIG_X86: 'y', CONFIG_NET: 'y', CONFIG_M: 'm' });
  const show = (text: string, need: 0 | 1 | 2) => {
    const u = unmet(parseExpr(text), env, need);
    return u && formatExpr(u);
  };
  it.each([
    ['BLOCK && X86', 2, 'BLOCK'],
    ['BLOCK && X86 && (PCI || ISA)', 2, 'BLOCK && (PCI || ISA)'],
    ['(NET && INET) || X86', 2, undefined],
    ['(NET && INET) || ISA', 2, '(NET && INET) || ISA'],
    ['M && X86', 2, 'M'],
    ['M && X86', 1, undefined],
    ['!X86', 1, '!X86'],
  ] as const)('%s (need %i) → %s', (text, need, part) => {
    expect(show(text, need)).toBe(part);
  });
});

describe('formatWithValues: as menuconfig shows dependencies', () => {
  const values = { CONFIG_NET: 'y', CONFIG_X86: 'y', CONFIG_SLOB: 'y', CONFIG_S: '"a b"', CONFIG_N: '64' };
  it.each([
    ['BLOCK', 'BLOCK [=n]'],
    ['(NET && INET) || X86', '(NET [=y] && INET [=n]) || X86 [=y]'],
    ['!SLOB', '!SLOB [=y]'],
    ['ARCH_HAS_X', 'ARCH_HAS_X [=n]'],
    ['IPV6 || IPV6 = n', 'IPV6 [=n] || IPV6 [=n] = n'],
    ['S = "a b" && N >= 2', 'S [=a b] = "a b" && N [=64] >= 2'],
    ['y && !(NET || m)', 'y && !(NET [=y] || m)'],
  ])('%s → %s', (text, shown) => {
    expect(formatWithValues(parseExpr(text), values)).toBe(shown);
  });
});
