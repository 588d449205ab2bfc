/**
 * The sha256 of the pristine source's files, kept beside the unpacked tree (trees/src-<key>.sums),
 * so a build's headers tree is not read and hashed again on every build.
 *
 * A build's headers tree holds some 7,000 files of the kernel source (60 MB for Debian's 6.1),
 * hard-linked from the patched tree, whose unpatched files are in turn links to the pristine tree:
 * the same inodes, build after build. The pristine tree is never written once unpacked (patches
 * and seeds replace a file by a new one, never in place), so a file's digest is known by its
 * inode. An entry is used only when the path, device, inode, size and modification time the
 * artifacts' listing shows all equal what was recorded when the pristine file was hashed; the file
 * is dropped when the pristine tree is unpacked again, names another directory, or fails its
 * checksum. Only files that are the pristine tree's own inodes are recorded: a patched file is
 * hashed every time.
 */
import { lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { sha256Text } from './hash.js';

/** A regular file as hashTree lists it (find -printf): paths relative to the listed directory. */
export interface ListedFile {
  path: string;
  size: number;
  mode: number;
  dev: string;
  ino: string;
  /** Modification time as find prints it (%T@: seconds and fraction). */
  mtime: string;
}

/** path (relative to the pristine tree) → [dev, ino, size, mtime, sha256] */
type Entries = Record<string, [string, string, number, string, string]>;

/** The file: the sha256 of the rest on its first line, then this as JSON. */
interface SumsFile {
  sums: 1;
  /** The pristine directory itself, as unpacked: another directory at the same path is not it. */
  dir: { dev: string; ino: string };
  files: Entries;
}

/** The largest sums file read (a distribution source's headers are some 20,000 files). */
const MAX_SUMS_BYTES = 32 * 1024 * 1024;

export function sumsFile(pristineDir: string): string {
  return `${pristineDir}.sums`;
}

function dirId(dir: string): { dev: string; ino: string } | undefined {
  try {
    const st = statSync(dir, { bigint: true });
    return { dev: String(st.dev), ino: String(st.ino) };
  } catch {
    return undefined;
  }
}

export interface SourceSums {
  /** The digest of a listed file, when it is known to be the pristine file at its path under the prefix. */
  lookup(file: ListedFile): string | undefined;
  /** Record the pristine files among `listed`, their digests from `hashed`; writes when any is new. */
  record(listed: readonly ListedFile[], hashed: readonly { path: string; sha256: string }[]): void;
}

/**
 * The sums kept for the pristine tree at `pristineDir` (none yet, or unusable: an empty set), for
 * listed files whose paths are the pristine tree's under `prefix` (a build's `headers/`).
 */
export function sourceSums(pristineDir: string, prefix: string): SourceSums {
  const id = dirId(pristineDir);
  let entries: Entries = {};
  try {
    if (id && statSync(sumsFile(pristineDir)).size <= MAX_SUMS_BYTES) {
      const text = readFileSync(sumsFile(pristineDir), 'utf8');
      const nl = text.indexOf('\n');
      const body = text.slice(nl + 1);
      if (nl === 64 && text.slice(0, 64) === sha256Text(body)) {
        const s = JSON.parse(body) as SumsFile;
        if (
          s?.sums === 1 &&
          s.dir?.dev === id.dev &&
          s.dir?.ino === id.ino &&
          s.files &&
          typeof s.files === 'object'
        )
          entries = s.files;
      }
    }
  } catch {
    // none yet, or damaged: every file is hashed, and the sums written again
  }
  /** The path under the pristine tree, or undefined for a file outside the prefix. */
  const relOf = (f: ListedFile) => (f.path.startsWith(prefix) ? f.path.slice(prefix.length) : undefined);
  const entryOf = (rel: string) => (Object.hasOwn(entries, rel) ? entries[rel] : undefined);
  const same = (e: Entries[string] | undefined, f: ListedFile) =>
    Array.isArray(e) && e[0] === f.dev && e[1] === f.ino && e[2] === f.size && e[3] === f.mtime;
  return {
    lookup(file) {
      const rel = relOf(file);
      const e = rel === undefined ? undefined : entryOf(rel);
      return same(e, file) && typeof e?.[4] === 'string' && /^[0-9a-f]{64}$/.test(e[4]) ? e[4] : undefined;
    },
    record(listed, hashed) {
      if (!id) return;
      const digests = new Map(hashed.map((f) => [f.path, f.sha256]));
      const added: Entries = {};
      for (const file of listed) {
        const rel = relOf(file);
        const sha = digests.get(file.path);
        if (rel === undefined || !sha || same(entryOf(rel), file)) continue;
        // Only the pristine tree's own file (the same inode), never a patched one or a copy.
        const st = lstatSync(`${pristineDir}/${rel}`, { bigint: true, throwIfNoEntry: false });
        if (!st?.isFile() || String(st.dev) !== file.dev || String(st.ino) !== file.ino) continue;
        added[rel] = [file.dev, file.ino, file.size, file.mtime, sha];
      }
      if (Object.keys(added).length === 0) return;
      entries = { ...entries, ...added };
      const body = JSON.stringify({ sums: 1, dir: id, files: entries } satisfies SumsFile);
      const tmp = `${sumsFile(pristineDir)}.tmp-${process.pid}`;
      try {
        writeFileSync(tmp, `${sha256Text(body)}\n${body}`);
        renameSync(tmp, sumsFile(pristineDir));
      } catch {
        // a read-only cache: hashed again next time
        rmSync(tmp, { force: true });
      }
    },
  };
}

/** Forget the sums of a pristine tree (it is being unpacked again). */
export function dropSourceSums(pristineDir: string): void {
  rmSync(sumsFile(pristineDir), { force: true });
}
