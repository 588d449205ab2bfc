/**
 * The controller's cache (default `$XDG_CACHE_HOME/kernelfile`, else `~/.cache/kernelfile`;
 * `build.cacheDir` in the kernelfile overrides it). Everything in it is content-addressed:
 *
 *   sources/<sha256>.<ext>     downloaded tarballs, by their checksum
 *   trees/<treeKey>/           unpacked source with the patches applied (treeKey: source + patches)
 *   configs/<configKey>/       Kconfig resolution results (.config, report), what `plan` uses
 *   objects/<buildId>/         the out-of-tree build directory (O=)
 *   artifacts/<buildId>/       what hosts receive: image, System.map, config, modules, headers, manifest
 *
 * Entries are created under a temporary name and renamed into place when complete, so an
 * interrupted build never leaves a half-entry that a later run would trust.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CacheDirs {
  root: string;
  sources: string;
  trees: string;
  configs: string;
  objects: string;
  artifacts: string;
}

export function cacheRoot(configured: string | undefined, env: Record<string, string | undefined>): string {
  const home = env.HOME ?? homedir();
  if (configured) return configured.replace(/^~(?=\/|$)/, home);
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kernelfile');
}

export function cacheDirs(root: string): CacheDirs {
  const dirs = {
    root,
    sources: join(root, 'sources'),
    trees: join(root, 'trees'),
    configs: join(root, 'configs'),
    objects: join(root, 'objects'),
    artifacts: join(root, 'artifacts'),
  };
  // Created 0700 (and every missing parent with it): sources, trees and builds are the user's, and
  // nobody else may plant or swap an entry in a cache that is trusted by key. An existing
  // directory keeps its mode.
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  return dirs;
}

/** A fresh temporary directory beside `final`, to be committed with `commit`. */
export function staging(final: string): string {
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Move a completed staging directory into place (an existing entry wins: it is identical by key). */
export function commit(tmp: string, final: string): void {
  try {
    renameSync(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}
