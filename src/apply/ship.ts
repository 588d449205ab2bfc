/**
 * Shipping a build to a host: the files of the staging directory (SHIPPED), packed once per build
 * on the controller (deterministic tarballs, so their sha256 is stable), and uploaded only where
 * the host does not already hold the same bytes. Uploads go through the transport's put: a temp
 * name and a rename, so a dropped connection never leaves a partial file under a final name.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../compile/hash.js';
import { FileMemo } from '../host/file-memo.js';
import { runLocal } from '../host/local.js';
import { runOk, type Transport } from '../host/transport.js';
import { SHIPPED } from '../resources/layout.js';

/**
 * sha256 of a file to ship, hashed once per process while it stays the same file (device, inode,
 * size, modification time): the hosts of a fleet are compared with the same build's files.
 */
const shippedDigests = new FileMemo<Promise<string>>();
export function shippedDigest(path: string): Promise<string> {
  const digest = shippedDigests.get(path, () => sha256File(path));
  // Not a regular file: hashed (and failing) as it is.
  if (!digest) return sha256File(path);
  digest.catch(() => shippedDigests.forget(path));
  return digest;
}

let packs = 0;

/** Pack `dir` into `out` reproducibly (same files → same bytes), through a temp name of its own. */
export async function packDir(dir: string, out: string): Promise<void> {
  const tmp = `${out}.${process.pid}.${++packs}.tmp`;
  const r = await runLocal([
    'tar',
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=gnu',
    '-cf',
    tmp,
    '-C',
    dir,
    '.',
  ]);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot pack ${dir}: ${r.stderr.trim()}`);
  }
  renameSync(tmp, out);
}

/**
 * Packs under way in this process, by output: the hosts of a batch that ship one build wait for one
 * pack (each packing on its own raced for the same file; and a fleet's build is packed once).
 */
const packing = new Map<string, Promise<void>>();

function packOnce(dir: string, out: string): Promise<void> {
  if (existsSync(out)) return Promise.resolve();
  let p = packing.get(out);
  if (!p) {
    p = packDir(dir, out).finally(() => packing.delete(out));
    packing.set(out, p);
  }
  return p;
}

/** The files to ship for a build (packing its modules and headers once), by staging name. */
export async function shipFiles(artifactsDir: string, release: string): Promise<Record<string, string>> {
  const dir = join(artifactsDir, 'ship');
  mkdirSync(dir, { recursive: true });
  const modules = join(dir, 'modules.tar');
  const headers = join(dir, 'headers.tar');
  if (!existsSync(modules)) {
    const tree = join(artifactsDir, 'modules/lib/modules', release);
    const src = existsSync(tree) ? tree : join(dir, 'empty');
    mkdirSync(src, { recursive: true });
    await packOnce(src, modules);
  }
  await packOnce(join(artifactsDir, 'headers'), headers);
  const files: Record<string, string> = {
    vmlinuz: join(artifactsDir, 'vmlinuz'),
    'System.map': join(artifactsDir, 'System.map'),
    config: join(artifactsDir, 'config'),
    'modules.tar': modules,
    'headers.tar': headers,
  };
  for (const name of SHIPPED) if (!files[name]) throw new Error(`no ${name} to ship`);
  return files;
}

/**
 * A directory on the host the login user may write into (root makes it, the user owns it: sudo
 * tells the login user's uid), and the sha256 of the files already in it, in one round trip.
 */
export async function makeUploadDir(t: Transport, dir: string): Promise<Map<string, string>> {
  const r = await runOk(
    t,
    [
      'sh',
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
      'mkdir -p "$1" && chmod 0755 "$1" && chown "${SUDO_UID:-$(id -u)}" "$1" && cd "$1" || exit 1; ' +
        'for f in *; do [ -f "$f" ] && sha256sum -- "$f"; done; exit 0',
      'kernelfile',
      dir,
    ],
    { sudo: true },
  );
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\\?([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2] as string, m[1] as string);
  }
  return out;
}

export interface ShipResult {
  sent: string[];
  skipped: string[];
  bytes: number;
}

/** Upload `files` (name → local path) into `dir` on the host, skipping files already there. */
export async function ship(
  t: Transport,
  files: Record<string, string>,
  dir: string,
  onFile?: (name: string, state: 'sent' | 'skipped') => void,
): Promise<ShipResult> {
  const have = await makeUploadDir(t, dir);
  const result: ShipResult = { sent: [], skipped: [], bytes: 0 };
  for (const [name, local] of Object.entries(files)) {
    // Only a file the host already has is hashed here: the others are sent without waiting.
    if (have.has(name) && have.get(name) === (await shippedDigest(local))) {
      result.skipped.push(name);
      onFile?.(name, 'skipped');
      continue;
    }
    await t.put(local, `${dir}/${name}`, 0o644);
    result.sent.push(name);
    result.bytes += statSync(local).size;
    onFile?.(name, 'sent');
  }
  return result;
}
