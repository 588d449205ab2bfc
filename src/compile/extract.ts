/**
 * Unpacking archives as root without keeping what an archive should not carry: owners come from
 * the one unpacking (`--no-same-owner`), modes lose setuid/setgid and pass through umask 022
 * (`--no-same-permissions`: no 0777 directories, no setuid helpers), and an archive holding a
 * device node, a FIFO or a socket is refused, naming the archive and the member. The unpacking
 * happens in a directory only root can enter, so such a node is never reachable by anyone else
 * before it is found and everything is removed.
 */
import { chmodSync, rmSync } from 'node:fs';
import { runLocal } from '../host/local.js';
import { BuildError } from './errors.js';

/** GNU tar options for unpacking as root. */
export const SAFE_TAR_OPTIONS = ['--no-same-owner', '--no-same-permissions'] as const;

const KIND: Record<string, string> = {
  b: 'a block device node',
  c: 'a character device node',
  p: 'a FIFO',
  s: 'a socket',
};

/**
 * The first device node, FIFO or socket under `dir` (relative path and kind), or undefined.
 * Paths are printed NUL-terminated so a member name with a newline cannot hide another.
 */
export async function findSpecialFile(dir: string): Promise<{ member: string; kind: string } | undefined> {
  const r = await runLocal([
    'find',
    dir,
    '(',
    '-type',
    'b',
    '-o',
    '-type',
    'c',
    '-o',
    '-type',
    'p',
    '-o',
    '-type',
    's',
    ')',
    '-printf',
    '%y %P\\0',
    '-quit',
  ]);
  if (r.code !== 0)
    throw new BuildError(`cannot list ${dir}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  const first = r.stdout.split('\0')[0];
  if (!first) return undefined;
  return { member: JSON.stringify(first.slice(2)), kind: KIND[first[0] as string] ?? 'a special file' };
}

/** Refuse `dir` (what `label` unpacked or copied into it) when it holds a device node, FIFO or socket. */
export async function refuseSpecialFiles(dir: string, label: string): Promise<void> {
  const bad = await findSpecialFile(dir);
  if (bad)
    throw new BuildError(
      `${label} holds ${bad.kind}, ${bad.member}: kernelfile does not unpack device nodes, FIFOs or sockets`,
      'nothing from it was kept. A source archive has no reason to hold one: rebuild the archive without it, or check where it came from',
    );
}

/**
 * Unpack `archive` into `dest` (created by the caller) as described at the top. `dest` is made
 * 0700 while unpacking and 0755 once checked; on refusal or failure its contents are removed.
 */
export async function extractTar(
  archive: string,
  dest: string,
  opts: { strip?: number; label?: string } = {},
): Promise<void> {
  const label = opts.label ?? archive;
  chmodSync(dest, 0o700);
  const strip = opts.strip ? [`--strip-components=${opts.strip}`] : [];
  const r = await runLocal([
    'sh',
    '-c',
    'umask 022; exec "$@"',
    'kf-tar',
    'tar',
    '-x',
    ...SAFE_TAR_OPTIONS,
    '-f',
    archive,
    '-C',
    dest,
    ...strip,
  ]);
  try {
    if (r.code !== 0)
      throw new BuildError(`cannot unpack ${label}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    await refuseSpecialFiles(dest, label);
  } catch (e) {
    for (const name of await listDir(dest)) rmSync(`${dest}/${name}`, { recursive: true, force: true });
    throw e;
  }
  chmodSync(dest, 0o755);
}

async function listDir(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return readdir(dir).catch(() => []);
}
