/** Issue 12, defect 12 (first part): what a headers host tool needs, read from its ELF bytes. */
import { describe, expect, it } from 'vitest';
import { compareGlibc, ElfError, elfNeeds } from '../../../src/compile/elf-needs.js';
import { makeElf } from '../../helpers/make-elf.js';

const OBJTOOL = {
  interp: '/lib64/ld-linux-x86-64.so.2',
  needed: ['libelf.so.1', 'libc.so.6'],
  versions: [
    ['libelf.so.1', 'ELFUTILS_1.0', 'ELFUTILS_1.5'],
    ['libc.so.6', 'GLIBC_2.2.5', 'GLIBC_2.34', 'GLIBC_2.14'],
  ],
};

describe('elfNeeds', () => {
  for (const [is64, le] of [
    [true, true],
    [true, false],
    [false, true],
    [false, false],
  ] as const)
    it(`reads the interpreter, DT_NEEDED and the GLIBC version needed (${is64 ? 64 : 32}-bit, ${le ? 'little' : 'big'}-endian)`, () => {
      expect(elfNeeds(makeElf({ is64, le, ...OBJTOOL }))).toEqual({
        interp: '/lib64/ld-linux-x86-64.so.2',
        needed: ['libelf.so.1', 'libc.so.6'],
        glibc: '2.34',
      });
    });

  it('is null for what is not ELF (a script)', () => {
    expect(elfNeeds(new TextEncoder().encode(`#!/bin/sh\n${'x'.repeat(100)}\n`))).toBeNull();
  });

  it('refuses offsets outside the file instead of reading past it', () => {
    const bytes = makeElf({ is64: true, le: true, ...OBJTOOL });
    const bad = bytes.slice();
    new DataView(bad.buffer).setBigUint64(0x20, 1n << 40n, true); // e_phoff far away
    expect(() => elfNeeds(bad)).toThrow(ElfError);
    expect(() => elfNeeds(bytes.slice(0, bytes.length - 40))).toThrow(ElfError);
  });

  it('compares glibc versions by number', () => {
    expect(compareGlibc('2.34', '2.4')).toBeGreaterThan(0);
    expect(compareGlibc('2.17', '2.17')).toBe(0);
    expect(compareGlibc('2.2.5', '2.3')).toBeLessThan(0);
  });
});
