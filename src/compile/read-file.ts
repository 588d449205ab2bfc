/**
 * Reading the files a kernelfile names (fragments, a base config, patches, a dkms.conf, keyrings):
 * only regular files, and at most a limit. The file is opened once (O_NONBLOCK, so opening a FIFO
 * does not wait for a writer), checked with fstat on that descriptor (no race between a check and
 * the read), and read through a fixed buffer up to limit + 1 bytes: a FIFO, a device (/dev/zero),
 * a socket or a directory is refused, and a file that is (or grows) larger than the limit is
 * refused after reading limit + 1 bytes, never more.
 */
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';

export const KIB = 1024;
export const MIB = 1024 * 1024;
/** A Kconfig fragment or a whole .config (a full distribution .config is about 300 KiB). */
export const MAX_CONFIG_BYTES = 8 * MIB;
/** A dkms.conf. */
export const MAX_DKMS_CONF_BYTES = 1 * MIB;
/** A patch, as validation reads it. */
export const MAX_PATCH_BYTES = 64 * MIB;

export type ReadOutcome =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'missing' | 'not-regular' | 'too-large' | 'unreadable'; message: string };

/** "a FIFO", "a character device", …: what a file that is not regular is (for messages). */
export function fileKind(
  st: Pick<Stats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>,
): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function sizeText(n: number): string {
  return n >= MIB ? `${+(n / MIB).toFixed(1)} MiB` : `${+(n / KIB).toFixed(1)} KiB`;
}

const notRegular = (path: string, st: Stats): ReadOutcome => ({
  ok: false,
  reason: 'not-regular',
  message: `${path} is ${fileKind(st)}; kernelfile reads only regular files`,
});
const tooLarge = (path: string, max: number): ReadOutcome => ({
  ok: false,
  reason: 'too-large',
  message: `${path} is larger than ${sizeText(max)}; that is not what it should be`,
});
const failure = (path: string, e: unknown): ReadOutcome => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR'
    ? { ok: false, reason: 'missing', message: `${path} does not exist` }
    : { ok: false, reason: 'unreadable', message: `cannot read ${path}: ${(e as Error).message}` };
};

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const CHUNK = 64 * KIB;

/** At most `max` bytes of a regular file (synchronous: validation). */
export function readRegularSync(path: string, max: number): ReadOutcome {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    return failure(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return notRegular(path, st);
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, max + 1 - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > max) return tooLarge(path, max);
    }
    return { ok: true, bytes: Buffer.concat(chunks, total) };
  } catch (e) {
    return failure(path, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * At most `max` bytes of a regular file, for async callers. The read is the synchronous one: it is
 * bounded (a FIFO or device is refused before any read, the size by the limit), so it never waits.
 */
export async function readRegular(path: string, max: number): Promise<ReadOutcome> {
  return readRegularSync(path, max);
}

/** The text of a regular file of at most `max` bytes; throws an Error naming `what` and the path. */
export function readRegularTextSync(path: string, max: number, what: string): string {
  const r = readRegularSync(path, max);
  if (!r.ok) throw new BuildError(`${what}: ${r.message}`, 'point the kernelfile at a regular file');
  return r.bytes.toString('utf8');
}

/** Throws unless `path` is a regular file (before streaming it whole: hashing, gpgv, tar). */
export function requireRegular(path: string, what: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new BuildError(`${what}: ${(failure(path, e) as { message: string }).message}`);
  }
  if (!st.isFile())
    throw new BuildError(
      `${what}: ${path} is ${fileKind(st)}; kernelfile reads only regular files`,
      'point the kernelfile at a regular file',
    );
}

/**
 * Everything but directories under `dir` (full paths; symlinked directories are not followed),
 * what `keep` accepts; an unreadable directory is skipped.
 */
export function filesUnder(dir: string, keep: (entry: Dirent) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(e)) out.push(p);
    }
  };
  walk(dir);
  return out;
}
