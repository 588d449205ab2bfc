import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compareFiles,
  firstDifference,
  hexExplanation,
  hexLines,
} from '../../../src/compile/reproducible.js';

const f = (path: string, sha: string, size = 1) => ({ path, sha256: sha.repeat(64), size });

describe('comparing two builds', () => {
  it('names files that differ, and files only one build has; the log, manifest and provenance do not count', () => {
    const a = [
      f('vmlinuz', 'a', 10),
      f('System.map', 'b'),
      f('modules/x.ko', 'c'),
      f('build.log', 'd'),
      f('provenance.json', 'e'),
    ];
    const b = [
      f('vmlinuz', 'f', 11),
      f('System.map', 'b'),
      f('headers/y.h', 'c'),
      f('build.log', '0'),
      f('manifest.json', '1'),
    ];
    expect(compareFiles(a, b)).toEqual([
      { path: 'headers/y.h', kind: 'only-second' },
      { path: 'modules/x.ko', kind: 'only-first' },
      { path: 'vmlinuz', kind: 'differs', sizes: [10, 11] },
    ]);
    expect(compareFiles(a, a)).toEqual([]);
  });

  it('finds the first differing byte, or where the shorter one ends', () => {
    expect(firstDifference(Buffer.from('abcd'), Buffer.from('abXd'))).toBe(2);
    expect(firstDifference(Buffer.from('abc'), Buffer.from('abcdef'))).toBe(3);
    expect(firstDifference(Buffer.from('same'), Buffer.from('same'))).toBe(4);
  });

  it('prints hex lines as hexdump -C does, with the offset in the file', () => {
    expect(
      hexLines(
        Buffer.concat([Buffer.from('kernelfile'), Buffer.from([0, 1, 0xff]), Buffer.from('ABCDEFGH')]),
        0x240,
      ),
    ).toEqual([
      '00000240  6b 65 72 6e 65 6c 66 69 6c 65 00 01 ff 41 42 43  |kernelfile...ABC|',
      '00000250  44 45 46 47 48                                   |DEFGH|',
    ]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'kf-repro-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows both files around the first difference, past the first MiB too', () => {
    const a = Buffer.alloc((1 << 20) + 100, 0x41);
    const b = Buffer.from(a);
    b[(1 << 20) + 40] = 0x42;
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    const lines = hexExplanation(join(dir, 'a'), join(dir, 'b'));
    expect(lines[0]).toBe(`first difference at byte ${(1 << 20) + 40} (0x${((1 << 20) + 40).toString(16)})`);
    expect(lines).toContain('second build:');
    expect(lines.some((l) => l.includes('41 41 41 41 41 41 41 41 42'))).toBe(true);
  });

  it('says so when one file is the other cut short', () => {
    writeFileSync(join(dir, 'c'), 'abcdef');
    writeFileSync(join(dir, 'd'), 'abc');
    expect(hexExplanation(join(dir, 'c'), join(dir, 'd'))[0]).toBe('first difference at byte 3 (0x3)');
  });
});
