/**
 * Debian's kernel source, as the linux-source-6.1 package installs it (`.ci/run` installs it), and
 * its Kconfig files, extracted once into a cache under os.tmpdir() keyed by the tarball's mtime and
 * size, so later runs start at once. For integration tests only: it runs tar.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEBIAN_SOURCE = '/usr/src/linux-source-6.1.tar.xz';
/** The top directory inside the tarball. */
export const DEBIAN_SOURCE_TOP = 'linux-source-6.1';

export function requireDebianSource(): void {
  if (!existsSync(DEBIAN_SOURCE))
    throw new Error(
      `${DEBIAN_SOURCE} is missing: apt-get install linux-source-6.1 (the README's test command does)`,
    );
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

/**
 * The part of Debian's 6.1 source that Kconfig resolution uses (every Kconfig and Makefile, scripts/
 * and the configs/ directories: ~40 MB of the 1.4 GB tree), extracted once into a cache under
 * os.tmpdir() like debianKconfigTree(). `make tinyconfig`, merge_config.sh, `make olddefconfig` and
 * `make kernelversion` run in it (out of tree, O=) as in the whole source, and write the same .config.
 */
export function debianKconfigBuildTree(): string {
  requireDebianSource();
  const st = statSync(DEBIAN_SOURCE);
  const cache = join(tmpdir(), `kernelfile-kconfig-build-${Math.floor(st.mtimeMs / 1000)}-${st.size}`);
  const root = join(cache, DEBIAN_SOURCE_TOP);
  if (existsSync(join(root, 'scripts/kconfig/merge_config.sh'))) return root;
  const tmp = mkdtempSync(join(tmpdir(), 'kernelfile-kconfig-build-tmp-'));
  try {
    execFileSync(
      'tar',
      [
        '-xJf',
        DEBIAN_SOURCE,
        '-C',
        tmp,
        '--wildcards',
        '*/Kconfig*',
        '*/Makefile*',
        `${DEBIAN_SOURCE_TOP}/scripts/*`,
        '*/configs/*',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (!existsSync(join(tmp, DEBIAN_SOURCE_TOP, 'scripts/kconfig/merge_config.sh')))
      throw new Error(`${DEBIAN_SOURCE} has no ${DEBIAN_SOURCE_TOP}/scripts/kconfig/merge_config.sh`);
    renameSync(tmp, cache);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(root, 'scripts/kconfig/merge_config.sh'))) throw e; // another run extracted it
  }
  return root;
}
