/**
 * What a dynamically linked ELF executable needs from the host that runs it, read from its bytes
 * (never run): the ELF interpreter (PT_INTERP), the shared libraries (DT_NEEDED sonames) and the
 * highest GLIBC_x.y symbol version it asks for (DT_VERNEED). For the host tools the headers tree
 * ships (scripts/basic/fixdep, scripts/mod/modpost, tools/objtool/objtool…): a host without
 * libelf.so.1 cannot run objtool, and dkms build fails there.
 *
 * Only the program headers and the dynamic segment are read, so stripped binaries work; every
 * offset is bounds-checked and counts are capped (a file from an image is data).
 */

export interface ElfNeeds {
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; null for a static executable. */
  interp: string | null;
  /** DT_NEEDED sonames, in file order. */
  needed: string[];
  /** The highest GLIBC_x.y version needed (e.g. "2.34"), or null. */
  glibc: string | null;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_VERNEED = 0x6ffffffe;
const DT_VERNEEDNUM = 0x6fffffff;
const MAX = 4096;

export class ElfError extends Error {}

/** Compare "2.34" and "2.17" numerically, part by part. */
export function compareGlibc(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * Bounded reads of an ELF file's bytes: every offset is checked (an ElfError when it is outside the
 * file), words are 4 or 8 bytes by the file's class, in its byte order. Null when `bytes` is not ELF.
 */
export interface ElfReader {
  is64: boolean;
  /** Whether `len` bytes at `off` are inside the file. */
  has(off: number, len: number): boolean;
  u16(off: number): number;
  u32(off: number): number;
  word(off: number): number;
  /** The NUL-terminated string at `off` (at most 4096 bytes), latin1. */
  cstr(off: number): string;
}

export function elfReader(bytes: Uint8Array): ElfReader | null {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    return null;
  const is64 = bytes[4] === 2;
  if (bytes[4] !== 1 && bytes[4] !== 2) throw new ElfError('unknown ELF class');
  const le = bytes[5] === 1;
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ElfError('unknown ELF byte order');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (off: number, len: number) =>
    Number.isSafeInteger(off) && off >= 0 && off + len <= bytes.length;
  const inRange = (off: number, len: number) => {
    if (!has(off, len)) throw new ElfError(`offset ${off} is outside the file`);
  };
  const u16 = (off: number) => {
    inRange(off, 2);
    return view.getUint16(off, le);
  };
  const u32 = (off: number) => {
    inRange(off, 4);
    return view.getUint32(off, le);
  };
  const word = (off: number) => {
    if (!is64) return u32(off);
    inRange(off, 8);
    const v = view.getBigUint64(off, le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError('a value beyond 2^53');
    return Number(v);
  };
  const cstr = (off: number) => {
    inRange(off, 1);
    let end = off;
    while (end < bytes.length && bytes[end] !== 0 && end - off < MAX) end++;
    return new TextDecoder('latin1').decode(bytes.subarray(off, end));
  };
  if (is64 && bytes.length < 64) throw new ElfError('truncated ELF header');
  return { is64, has, u16, u32, word, cstr };
}

/** null when `bytes` is not an ELF file at all (a script, a text file). */
export function elfNeeds(bytes: Uint8Array): ElfNeeds | null {
  const elf = elfReader(bytes);
  if (!elf) return null;
  const { is64, u16, u32, word, cstr } = elf;
  const phoff = is64 ? word(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phnum > MAX) throw new ElfError('too many program headers');
  const segs: { type: number; offset: number; vaddr: number; filesz: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    segs.push(
      is64
        ? { type: u32(p), offset: word(p + 8), vaddr: word(p + 16), filesz: word(p + 32) }
        : { type: u32(p), offset: u32(p + 4), vaddr: u32(p + 8), filesz: u32(p + 16) },
    );
  }
  const interpSeg = segs.find((s) => s.type === PT_INTERP);
  const interp = interpSeg ? cstr(interpSeg.offset) : null;
  const dyn = segs.find((s) => s.type === PT_DYNAMIC);
  if (!dyn) return { interp, needed: [], glibc: null };

  /** A virtual address (DT_STRTAB, DT_VERNEED) → its offset in the file, through the PT_LOAD that maps it. */
  const fileOffset = (vaddr: number) => {
    const load = segs.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!load) throw new ElfError(`address ${vaddr} is in no loaded segment`);
    return vaddr - load.vaddr + load.offset;
  };

  const entSize = is64 ? 16 : 8;
  const neededOffsets: number[] = [];
  let strtab: number | null = null;
  let verneed: number | null = null;
  let verneednum = 0;
  for (let i = 0; i * entSize < dyn.filesz && i < MAX; i++) {
    const e = dyn.offset + i * entSize;
    const tag = word(e);
    const val = word(e + (is64 ? 8 : 4));
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) neededOffsets.push(val);
    else if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_VERNEED) verneed = val;
    else if (tag === DT_VERNEEDNUM) verneednum = Math.min(val, MAX);
  }
  if (strtab === null) return { interp, needed: [], glibc: null };
  const str = fileOffset(strtab);
  const needed = neededOffsets.map((o) => cstr(str + o));

  let glibc: string | null = null;
  if (verneed !== null) {
    let vn = fileOffset(verneed);
    for (let i = 0; i < verneednum; i++) {
      const cnt = Math.min(u16(vn + 2), MAX);
      let aux = vn + u32(vn + 8);
      for (let j = 0; j < cnt; j++) {
        const m = /^GLIBC_(\d+(?:\.\d+)+)$/.exec(cstr(str + u32(aux + 8)));
        if (m && (glibc === null || compareGlibc(m[1] as string, glibc) > 0)) glibc = m[1] as string;
        const next = u32(aux + 12);
        if (!next) break;
        aux += next;
      }
      const next = u32(vn + 12);
      if (!next) break;
      vn += next;
    }
  }
  return { interp, needed, glibc };
}

/** What the host tools of a headers tree need, together: recorded in a build's manifest. */
export interface HeadersNeed {
  /** Every DT_NEEDED soname of any host tool, sorted. */
  sonames: string[];
  /** The highest GLIBC_x.y any of them needs, or null. */
  glibc: string | null;
}

/** The union of several executables' needs (null entries, files that are not ELF, are skipped). */
export function unionNeeds(all: readonly (ElfNeeds | null)[]): HeadersNeed {
  const sonames = new Set<string>();
  let glibc: string | null = null;
  for (const n of all) {
    if (!n) continue;
    for (const s of n.needed) sonames.add(s);
    if (n.glibc && (glibc === null || compareGlibc(n.glibc, glibc) > 0)) glibc = n.glibc;
  }
  return { sonames: [...sonames].sort(), glibc };
}
