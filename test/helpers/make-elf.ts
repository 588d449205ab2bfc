/** A minimal dynamically linked ELF executable, built in memory for tests (never run). */

/**
 * A minimal dynamically linked executable: one PT_LOAD mapping the whole file at 0x400000,
 * PT_INTERP, PT_DYNAMIC (DT_NEEDED…, DT_STRTAB, DT_VERNEED), a string table and a verneed chain.
 */
export function makeElf(o: {
  is64: boolean;
  le: boolean;
  interp: string;
  needed: string[];
  versions: string[][];
}) {
  const { is64, le } = o;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const base = 0x400000;
  const strs: string[] = [''];
  const strOff = (s: string) => {
    let off = 0;
    for (const x of strs) {
      if (x === s) return off;
      off += x.length + 1;
    }
    strs.push(s);
    return off;
  };
  const neededOffs = o.needed.map(strOff);
  const vn = o.versions.map(([file, ...names]) => ({
    file: strOff(file as string),
    names: names.map(strOff),
  }));
  const strtab = Buffer.from(`${strs.join('\0')}\0`, 'latin1');
  const interp = Buffer.from(`${o.interp}\0`, 'latin1');
  // verneed: 16-byte entries, each followed by its 16-byte aux entries.
  const verneedSize = vn.reduce((n, v) => n + 16 + 16 * v.names.length, 0);
  const dynEntries = o.needed.length + 4;
  const dynSize = dynEntries * (is64 ? 16 : 8);
  const phoff = ehsize;
  const interpOff = phoff + 3 * phentsize;
  const strOffFile = interpOff + interp.length;
  const verOff = strOffFile + strtab.length;
  const dynOff = verOff + verneedSize;
  const total = dynOff + dynSize;
  const b = Buffer.alloc(total);
  const w16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const w32 = (v: number, at: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const wW = (v: number, at: number) => {
    if (!is64) w32(v, at);
    else if (le) b.writeBigUInt64LE(BigInt(v), at);
    else b.writeBigUInt64BE(BigInt(v), at);
  };
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  w16(2, 16);
  if (is64) {
    wW(phoff, 0x20);
    w16(phentsize, 0x36);
    w16(3, 0x38);
  } else {
    w32(phoff, 0x1c);
    w16(phentsize, 0x2a);
    w16(3, 0x2c);
  }
  const ph = (i: number, type: number, off: number, size: number) => {
    const p = phoff + i * phentsize;
    w32(type, p);
    if (is64) {
      wW(off, p + 8);
      wW(base + off, p + 16);
      wW(base + off, p + 24);
      wW(size, p + 32);
      wW(size, p + 40);
    } else {
      w32(off, p + 4);
      w32(base + off, p + 8);
      w32(base + off, p + 12);
      w32(size, p + 16);
      w32(size, p + 20);
    }
  };
  ph(0, 1, 0, total);
  ph(1, 3, interpOff, interp.length);
  ph(2, 2, dynOff, dynSize);
  interp.copy(b, interpOff);
  strtab.copy(b, strOffFile);
  let at = verOff;
  vn.forEach((v, i) => {
    w16(1, at);
    w16(v.names.length, at + 2);
    w32(v.file, at + 4);
    w32(16, at + 8);
    w32(i === vn.length - 1 ? 0 : 16 + 16 * v.names.length, at + 12);
    v.names.forEach((n, j) => {
      const a = at + 16 + 16 * j;
      w32(n, a + 8);
      w32(j === v.names.length - 1 ? 0 : 16, a + 12);
    });
    at += 16 + 16 * v.names.length;
  });
  const e = is64 ? 16 : 8;
  const dyn = (i: number, tag: number, val: number) => {
    wW(tag, dynOff + i * e);
    wW(val, dynOff + i * e + e / 2);
  };
  for (const [i, off] of neededOffs.entries()) dyn(i, 1, off);
  dyn(o.needed.length, 5, base + strOffFile);
  dyn(o.needed.length + 1, 0x6ffffffe, base + verOff);
  dyn(o.needed.length + 2, 0x6fffffff, vn.length);
  dyn(o.needed.length + 3, 0, 0);
  return new Uint8Array(b);
}
