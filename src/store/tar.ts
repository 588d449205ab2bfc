/**
 * What a tarball from the store holds, read before anything of it is unpacked: the tarballs are
 * remote data. A streaming reader of (GNU and ustar) tar headers fed chunk by chunk, and the check
 * of its member list: relative names without `..`, only files, directories and links, no name twice,
 * nothing written through a symbolic link, every symbolic link resolving inside the tree (following
 * the links it passes through), hard links only to files of the archive. Pure.
 */

export interface TarMember {
  /** The name, normalised: no leading `./`, no trailing `/` (the root directory is ''). */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** The type flag as written (for messages). */
  flag: string;
  link?: string;
  size: number;
}

const BLOCK = 512;
const MAX_MEMBERS = 2_000_000;
const MAX_LONG_NAME = 64 * 1024;

function cstr(b: Buffer, start: number, end: number): string {
  const s = b.subarray(start, end);
  const z = s.indexOf(0);
  return (z === -1 ? s : s.subarray(0, z)).toString('utf8');
}

function octal(b: Buffer, start: number, end: number): number {
  const field = b.subarray(start, end);
  if ((field[0] as number) & 0x80) {
    // base-256 (GNU, for sizes over 8 GiB)
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number);
    return n;
  }
  const t = cstr(b, start, end).trim();
  if (!/^[0-7]*$/.test(t)) return Number.NaN;
  return t === '' ? 0 : Number.parseInt(t, 8);
}

export class TarFormatError extends Error {}

/** Fed the archive's bytes in order; collects the members. */
export class TarReader {
  readonly members: TarMember[] = [];
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of member data still to skip (or collect, for a long name). */
  private skip = 0;
  private collect: { kind: 'L' | 'K'; size: number; parts: Buffer[]; got: number } | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeros = 0;
  private done = false;

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length - off);
        if (this.collect) {
          this.collect.parts.push(this.buf.subarray(off, off + n));
          this.collect.got += n;
        }
        this.skip -= n;
        off += n;
        if (this.skip > 0) break;
        if (this.collect) this.finishLong();
        continue;
      }
      if (this.done || this.buf.length - off < BLOCK) break;
      this.header(this.buf.subarray(off, off + BLOCK));
      off += BLOCK;
    }
    this.buf = this.buf.subarray(off);
  }

  /** The archive is complete: it must have ended where its headers say. */
  end(): TarMember[] {
    if (this.skip > 0 || (!this.done && this.buf.some((x) => x !== 0)))
      throw new TarFormatError('the tarball is truncated');
    if (this.longName !== undefined || this.longLink !== undefined)
      throw new TarFormatError('the tarball ends after a long-name header');
    return this.members;
  }

  private finishLong(): void {
    const c = this.collect as NonNullable<TarReader['collect']>;
    this.collect = undefined;
    const text = cstr(Buffer.concat(c.parts).subarray(0, c.size), 0, c.size);
    if (c.kind === 'L') this.longName = text;
    else this.longLink = text;
  }

  private header(h: Buffer): void {
    if (h.every((x) => x === 0)) {
      if (++this.zeros >= 2) this.done = true;
      return;
    }
    // One zero block alone is not the end (GNU tar warns and reads on).
    this.zeros = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
    if (octal(h, 148, 156) !== sum)
      throw new TarFormatError('a tar header has a wrong checksum (not a tarball, or damaged)');
    const size = octal(h, 124, 136);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError('a tar header has no valid size');
    const flag = String.fromCharCode(h[156] as number);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L' || flag === 'K') {
      if (size > MAX_LONG_NAME) throw new TarFormatError('a tar long name is larger than 64 KiB');
      this.collect = { kind: flag, size, parts: [], got: 0 };
      this.skip = padded;
      if (padded === 0) this.finishLong();
      return;
    }
    const magic = cstr(h, 257, 263);
    const prefix = magic === 'ustar' ? cstr(h, 345, 500) : '';
    const rawName = this.longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const link = this.longLink ?? cstr(h, 157, 257);
    this.longName = undefined;
    this.longLink = undefined;
    const type =
      flag === '0' || flag === '\0'
        ? 'file'
        : flag === '5'
          ? 'dir'
          : flag === '2'
            ? 'symlink'
            : flag === '1'
              ? 'hardlink'
              : 'other';
    if (this.members.length >= MAX_MEMBERS)
      throw new TarFormatError(`the tarball has more than ${MAX_MEMBERS} members`);
    this.members.push({
      name: rawName,
      type,
      flag,
      ...(type === 'symlink' || type === 'hardlink' ? { link } : {}),
      size: type === 'file' ? size : 0,
    });
    // Data follows regular files (and, for unknown kinds, whatever the size says).
    this.skip = type === 'dir' || type === 'symlink' || type === 'hardlink' ? 0 : padded;
  }
}

const FLAG_KIND: Record<string, string> = {
  '3': 'a character device node',
  '4': 'a block device node',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  x: 'a pax extended header',
  g: 'a pax global header',
  S: 'a sparse file',
  V: 'a volume label',
};

/** `./a//b/` → `a/b`; undefined for an absolute name or one with a `..` component. */
export function normaliseMember(name: string): string | undefined {
  if (name.startsWith('/')) return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return undefined;
  return parts.join('/');
}

/** The first reason the member list must not be unpacked, or undefined. */
export function tarProblem(members: TarMember[]): string | undefined {
  const show = (s: string) => JSON.stringify(s.slice(0, 200));
  const byName = new Map<string, TarMember>();
  const parents = new Set<string>();
  for (const m of members) {
    if (m.type === 'other')
      return `it holds ${FLAG_KIND[m.flag] ?? `a member of type ${show(m.flag)}`}, ${show(m.name)}`;
    const name = normaliseMember(m.name);
    if (name === undefined) return `it holds ${show(m.name)}, a name outside the tree (absolute or with ..)`;
    if (name === '' && m.type !== 'dir') return `its root is not a directory (${show(m.name)})`;
    if (byName.has(name)) return `it holds ${show(name)} twice`;
    if (m.type !== 'dir' && parents.has(name))
      return `it holds ${show(name)} after members inside it, as a non-directory`;
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const up = parts.slice(0, i).join('/');
      const parent = byName.get(up);
      if (parent && parent.type !== 'dir')
        return `it writes ${show(name)} through ${show(parent.name)}, which is not a directory`;
      parents.add(up);
    }
    if (m.type === 'hardlink') {
      const target = normaliseMember(m.link ?? '');
      if (!target || byName.get(target)?.type !== 'file')
        return `it holds a hard link ${show(name)} to ${show(m.link ?? '')}, not a file earlier in the archive`;
    }
    byName.set(name, { ...m, name });
  }
  for (const m of byName.values()) {
    if (m.type !== 'symlink') continue;
    const link = m.link ?? '';
    if (link === '' || link.startsWith('/'))
      return `it holds a symbolic link ${show(m.name)} to ${show(link)}, outside the tree`;
    const dir = m.name.split('/').slice(0, -1);
    if (resolve(dir, link, byName, 0) === undefined)
      return `it holds a symbolic link ${show(m.name)} to ${show(link)}, which leads outside the tree`;
  }
  return undefined;
}

/** Where `target` written in directory `dir` leads, following the archive's links; undefined: outside. */
function resolve(
  dir: string[],
  target: string,
  byName: Map<string, TarMember>,
  depth: number,
): string[] | undefined {
  if (depth > 40) return undefined;
  let at = [...dir];
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (at.length === 0) return undefined;
      at.pop();
      continue;
    }
    at.push(c);
    const m = byName.get(at.join('/'));
    if (m?.type === 'symlink') {
      const link = m.link ?? '';
      if (link.startsWith('/')) return undefined;
      const next = resolve(at.slice(0, -1), link, byName, depth + 1);
      if (next === undefined) return undefined;
      at = next;
    }
  }
  return at;
}
