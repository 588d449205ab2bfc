/** The member list of a tarball from the store, read and checked before anything is unpacked. */
import { describe, expect, it } from 'vitest';
import { normaliseMember, type TarMember, TarReader, tarProblem } from '../../../src/store/tar.js';

/** One GNU tar header block (+ data), as GNU tar writes it. */
function entry(name: string, flag: string, o: { link?: string; data?: Buffer } = {}): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) =>
    h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'utf8');
  const data = o.data ?? Buffer.alloc(0);
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  put('00000000000\0', 136, 12);
  put(flag, 156, 1);
  if (o.link) put(o.link, 157, 100);
  put('ustar  \0', 257, 8);
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(pad);
  return Buffer.concat([h, pad]);
}
const longName = (name: string) => entry('././@LongLink', 'L', { data: Buffer.from(`${name}\0`) });
const END = Buffer.alloc(1024);

function read(buf: Buffer, chunk = buf.length): TarMember[] {
  const r = new TarReader();
  for (let i = 0; i < buf.length; i += chunk) r.push(buf.subarray(i, i + chunk));
  return r.end();
}

describe('TarReader', () => {
  const archive = Buffer.concat([
    entry('./', '5'),
    entry('./a.ko', '0', { data: Buffer.alloc(700, 1) }),
    entry('./l', '2', { link: 'a.ko' }),
    longName(`./${'d/'.repeat(80)}x`),
    entry('./ignored-short-name', '0', { data: Buffer.from('hi') }),
    END,
  ]);

  it('reads names, kinds, links, sizes and GNU long names, in any chunking', () => {
    const want = [
      { name: './', type: 'dir', flag: '5', size: 0 },
      { name: './a.ko', type: 'file', flag: '0', size: 700 },
      { name: './l', type: 'symlink', flag: '2', link: 'a.ko', size: 0 },
      { name: `./${'d/'.repeat(80)}x`, type: 'file', flag: '0', size: 2 },
    ];
    expect(read(archive)).toEqual(want);
    expect(read(archive, 1)).toEqual(want);
    expect(read(archive, 777)).toEqual(want);
  });

  it('a truncated archive or a bad checksum: errors; after the end marker nothing is read (as tar reads it)', () => {
    expect(() => read(archive.subarray(0, 1200))).toThrow('truncated');
    const bad = Buffer.from(archive);
    bad[0] = 'X'.charCodeAt(0);
    expect(() => read(bad)).toThrow('wrong checksum');
    expect(read(Buffer.concat([END, entry('x', '0')]))).toEqual([]);
  });
});

describe('tarProblem', () => {
  const m = (name: string, type: TarMember['type'], link?: string, flag = '0'): TarMember => ({
    name,
    type,
    flag,
    size: 0,
    ...(link !== undefined ? { link } : {}),
  });

  it("what kernelfile's own tarballs hold passes (an in-tree link through a link included)", () => {
    expect(
      tarProblem([
        m('./', 'dir'),
        m('./include/', 'dir'),
        m('./include/dt-bindings/', 'dir'),
        m('./include/dt-bindings/gpio.h', 'file'),
        m('./scripts/dtc/include-prefixes/dt-bindings', 'symlink', '../../../include/dt-bindings'),
        m('./arch', 'symlink', 'include'),
        m('./up', 'symlink', 'arch/dt-bindings/..'),
        m('./hard', 'hardlink', './include/dt-bindings/gpio.h'),
      ]),
    ).toBeUndefined();
  });

  it.each([
    [[m('../x', 'file')], /a name outside the tree/],
    [[m('/etc/passwd', 'file')], /a name outside the tree/],
    [[m('a/../../x', 'file')], /a name outside the tree/],
    [[m('x', 'other', undefined, '3')], /a character device node/],
    [[m('x', 'other', undefined, '4')], /a block device node/],
    [[m('x', 'other', undefined, '6')], /a FIFO/],
    [[m('x', 'other', undefined, 'x')], /pax extended header/],
    [[m('a', 'file'), m('./a', 'file')], /"a" twice/],
    [[m('l', 'symlink', '/etc')], /to "\/etc", outside the tree/],
    [[m('l', 'symlink', '..')], /leads outside the tree/],
    [[m('l', 'symlink', 'a/../..')], /leads outside the tree/],
    // each link inside on its own, the chain outside: x/b -> .. (the root), a -> x/b/.. (above it)
    [
      [m('x/', 'dir'), m('x/b', 'symlink', '..'), m('a', 'symlink', 'x/b/..')],
      /"a" to "x\/b\/\.\.", which leads outside/,
    ],
    [[m('l', 'symlink', 'l')], /leads outside the tree/], // a loop
    [[m('l', 'symlink', '.'), m('l/x', 'file')], /writes "l\/x" through "l"/],
    [[m('d/x', 'file'), m('d', 'symlink', '.')], /"d" after members inside it/],
    [[m('h', 'hardlink', '/etc/shadow')], /hard link "h" to "\/etc\/shadow"/],
    [[m('h', 'hardlink', 'later'), m('later', 'file')], /not a file earlier/],
    [[m('./', 'file')], /its root is not a directory/],
  ])('%j is refused', (members, message) => {
    expect(tarProblem(members as TarMember[])).toMatch(message);
  });

  it('names are normalised as GNU tar does', () => {
    expect(normaliseMember('./a//b/./c/')).toBe('a/b/c');
    expect(normaliseMember('./')).toBe('');
    expect(normaliseMember('a/..')).toBeUndefined();
    expect(normaliseMember('/a')).toBeUndefined();
  });
});
