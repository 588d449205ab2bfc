/** sha256 of files (streamed) and of canonical JSON (keys sorted): the ids of everything cached. */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256Text(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level, so equal data always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function sha256Json(v: unknown): string {
  return sha256Text(canonicalJson(v));
}

/**
 * The content digest of a file or a directory tree: a file's sha256; for a directory, the sha256 of
 * a listing of every regular file (its path and sha256) and every symbolic link (its path and
 * target), in byte order of the paths. Times, owners and modes do not count: two checkouts of the
 * same commit digest the same. Read in this process (module sources are small; no process to start).
 */
export async function contentDigest(path: string): Promise<string> {
  if (!statSync(path).isDirectory()) return sha256File(path);
  const entries = readdirSync(path, { recursive: true, withFileTypes: true });
  const rows: { rel: Buffer; row: string }[] = [];
  for (const e of entries) {
    const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    const rel = relative(path, full);
    // JSON strings: a name with a space or a newline cannot run into the next field or row.
    if (e.isSymbolicLink())
      rows.push({ rel: Buffer.from(rel), row: JSON.stringify(['L', rel, readlinkSync(full)]) });
    else if (e.isFile())
      rows.push({ rel: Buffer.from(rel), row: JSON.stringify(['F', rel, await sha256File(full)]) });
  }
  rows.sort((a, b) => Buffer.compare(a.rel, b.rel));
  return sha256Text(rows.map((r) => `${r.row}\n`).join(''));
}
