/**
 * Kconfig trees for the tests: readers over a directory (the fixtures, or the Kconfig files of
 * Debian's linux-source-6.1, extracted once into a cache under os.tmpdir() keyed by the tarball's
 * mtime and size, so later runs start at once).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TreeLister, TreeReader } from '../../../src/kconfig/kconfig-types.js';
import { DEBIAN_SOURCE, DEBIAN_SOURCE_TOP, requireDebianSource } from '../../helpers/debian.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/kconfig/', import.meta.url));

export function dirReader(dir: string): TreeReader {
  return (rel) => {
    try {
      return readFileSync(join(dir, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
}

export function dirLister(dir: string): TreeLister {
  return (rel) => {
    try {
      return readdirSync(join(dir, rel));
    } catch {
      return undefined;
    }
  };
}

export function fixture(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}

/**
 * The root of the Kconfig files of Debian's 6.1 source (throws, naming the package, if the tarball
 * is missing). The first call extracts them (about 10 s); later ones reuse the cache.
 */
export function debianKconfigTree(): string {
  requireDebianSource();
  const st = statSync(DEBIAN_SOURCE);
  const cache = join(tmpdir(), `kernelfile-kconfig-${Math.floor(st.mtimeMs / 1000)}-${st.size}`);
  const root = join(cache, DEBIAN_SOURCE_TOP);
  if (existsSync(join(root, 'Kconfig'))) return root;
  const tmp = mkdtempSync(join(tmpdir(), 'kernelfile-kconfig-tmp-'));
  try {
    execFileSync('tar', ['-xJf', DEBIAN_SOURCE, '-C', tmp, '--wildcards', '*/Kconfig*'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (!existsSync(join(tmp, DEBIAN_SOURCE_TOP, 'Kconfig')))
      throw new Error(`${DEBIAN_SOURCE} has no ${DEBIAN_SOURCE_TOP}/Kconfig`);
    renameSync(tmp, cache);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(root, 'Kconfig'))) throw e; // else another run extracted it meanwhile
  }
  return root;
}
