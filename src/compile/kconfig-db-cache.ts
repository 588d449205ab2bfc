/**
 * The Kconfig database of a tree (src/kconfig/kconfig-db.ts: ~1,500 files, 16,000 symbols for
 * Linux 6.1 on x86), read once per tree and architecture and kept in the cache, serialised with
 * V8's structured clone (it keeps the Maps and the objects definitions share): reading it back
 * takes a fraction of parsing the files again.
 *
 * Keyed by the tree (content-addressed), the preprocessor variables, the V8 version (the
 * serialisation format) and a fingerprint of the parser's own code, so a changed parser never
 * reads a database an older one wrote. The file starts with the sha256 of what follows: a damaged
 * file is detected, removed and made again.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { loadKconfig } from '../kconfig/kconfig-db.js';
import type { KconfigDb, KconfigVars } from '../kconfig/kconfig-types.js';
import { writeAtomic } from './cache.js';
import { sha256Json } from './hash.js';

let fingerprint: string | undefined;

/**
 * The parser's code: every module of src/kconfig (or dist/kconfig) as installed; in a bundle, the
 * bundle itself.
 */
export function parserFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256');
  const dir = fileURLToPath(new URL('../kconfig/', import.meta.url));
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(js|ts)$/.test(f))
      .sort();
  } catch {
    // no such directory: bundled
  }
  if (files.some((f) => /^kconfig-db\.(js|ts)$/.test(f)))
    for (const f of files)
      h.update(f)
        .update('\0')
        .update(readFileSync(join(dir, f)))
        .update('\0');
  else h.update(readFileSync(fileURLToPath(import.meta.url)));
  fingerprint = h.digest('hex');
  return fingerprint;
}

export function kconfigDbKey(treeKey: string, vars: KconfigVars): string {
  return sha256Json({
    kconfigDb: 1,
    tree: treeKey,
    vars,
    v8: process.versions.v8,
    parser: parserFingerprint(),
  });
}

/** Is this what a deserialised KconfigDb looks like (a damaged or foreign file is not)? */
export function looksLikeDb(v: unknown): v is KconfigDb {
  const d = v as KconfigDb;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.symbols instanceof Map &&
    d.selectedBy instanceof Map &&
    d.impliedBy instanceof Map &&
    Array.isArray(d.choices) &&
    Array.isArray(d.files) &&
    Array.isArray(d.problems)
  );
}

/** The file's content: 32 bytes of sha256, then the serialised database. */
export function encodeDb(db: KconfigDb): Buffer {
  const body = serialize(db);
  return Buffer.concat([createHash('sha256').update(body).digest(), body]);
}

/** The database from a file's content, or undefined when it is damaged. */
export function decodeDb(bytes: Buffer): KconfigDb | undefined {
  if (bytes.length < 33) return undefined;
  const body = bytes.subarray(32);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(0, 32))) return undefined;
  try {
    const db = deserialize(body) as unknown;
    return looksLikeDb(db) ? db : undefined;
  } catch {
    return undefined;
  }
}

/** The Kconfig database of `tree` for these variables: from the cache, or parsed and kept. */
export function treeKconfigDb(
  tree: { dir: string; key: string },
  vars: KconfigVars,
  kconfigDir: string,
): { db: KconfigDb; cached: boolean } {
  const file = join(kconfigDir, `db-${kconfigDbKey(tree.key, vars)}.v8`);
  let bytes: Buffer | undefined;
  try {
    bytes = readFileSync(file);
  } catch {
    // not made yet
  }
  if (bytes) {
    const db = decodeDb(bytes);
    if (db) return { db, cached: true };
    rmSync(file, { force: true });
  }
  const db = loadKconfig((rel) => {
    try {
      return readFileSync(join(tree.dir, rel), 'utf8');
    } catch {
      return undefined;
    }
  }, vars);
  try {
    writeAtomic(file, encodeDb(db));
  } catch {
    // a cache that cannot be written only costs the parse next time
  }
  return { db, cached: false };
}
