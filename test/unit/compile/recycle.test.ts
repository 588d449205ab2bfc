import { describe, expect, it } from 'vitest';
import { type Listed, parseListing, staleEntries, unchanged } from '../../../src/compile/recycle.js';

/** find -printf LISTING's output for these rows (`kind links size time mode path`). */
const find = (...rows: string[]) => `${rows.join('\0')}\0`;
const listed = (kind: string, meta = '1 2.5 644', links = 1): Listed => ({ kind, links, meta });

describe('parseListing', () => {
  it('reads each entry, its path whole (spaces, newlines)', () => {
    const m = parseListing(
      find('d 2 4096 1.25 755 init', 'f 1 12 1701.123456789 644 scripts/a name\nwith a newline.cmd'),
    );
    expect([...m]).toEqual([
      ['init', { kind: 'd', links: 2, meta: '4096 1.25 755' }],
      ['scripts/a name\nwith a newline.cmd', { kind: 'f', links: 1, meta: '12 1701.123456789 644' }],
    ]);
  });

  it('skips what is not an entry', () => {
    expect(parseListing('')).toEqual(new Map());
    expect(parseListing(find('f 1 2 3', 'f 1 2 3 644 '))).toEqual(new Map());
  });
});

describe('staleEntries', () => {
  const wanted = new Map([
    ['init', listed('d')],
    ['init/main.o', listed('f')],
    ['init/.main.o.cmd', listed('f')],
    ['arch/x86_64/boot/bzImage', listed('l')],
    ['usr', listed('d')],
  ]);

  it('keeps the directories and single-link files the seed has as the same kind', () => {
    const had = new Map([
      ['init', listed('d', 'x', 2)],
      ['init/main.o', listed('f', 'other')],
      ['init/.main.o.cmd', listed('f')],
      ['usr', listed('d', 'x', 2)],
    ]);
    expect(staleEntries(had, wanted)).toEqual([]);
  });

  it('removes what the seed lacks, other kinds, every link, and files with other hard links', () => {
    const had = new Map([
      ['init', listed('d', 'x', 2)],
      ['init/main.o', listed('f', 'x', 2)],
      ['init/.main.o.cmd', listed('l')],
      ['arch/x86_64/boot/bzImage', listed('l')],
      ['usr', listed('f')],
      ['vmlinux', listed('f')],
      ['drivers', listed('d', 'x', 2)],
      ['fifo', listed('p')],
    ]);
    expect(staleEntries(had, wanted)).toEqual([
      'init/main.o',
      'init/.main.o.cmd',
      'arch/x86_64/boot/bzImage',
      'usr',
      'vmlinux',
      'drivers',
      'fifo',
    ]);
  });
});

describe('unchanged', () => {
  const had = new Map([
    ['same.o', listed('f', '10 1701.123456789 644')],
    ['linked.o', listed('f', '10 1701.123456789 644', 2)],
    ['dir', listed('d', '10 1701.123456789 644')],
  ]);
  it('only a single-link file of the same size, time to the nanosecond and mode', () => {
    expect(unchanged(had, 'same.o', listed('f', '10 1701.123456789 644'))).toBe(true);
    expect(unchanged(had, 'same.o', listed('f', '10 1701.123456788 644'))).toBe(false);
    expect(unchanged(had, 'same.o', listed('f', '11 1701.123456789 644'))).toBe(false);
    expect(unchanged(had, 'same.o', listed('f', '10 1701.123456789 600'))).toBe(false);
    expect(unchanged(had, 'linked.o', listed('f', '10 1701.123456789 644'))).toBe(false);
    expect(unchanged(had, 'dir', listed('d', '10 1701.123456789 644'))).toBe(false);
    expect(unchanged(had, 'gone.o', listed('f', '10 1701.123456789 644'))).toBe(false);
  });
});
