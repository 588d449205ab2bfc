/** Debian's kernel source, as the linux-source-6.1 package installs it (`.ci/run` installs it). */
import { existsSync } from 'node:fs';

export const DEBIAN_SOURCE = '/usr/src/linux-source-6.1.tar.xz';
/** The top directory inside the tarball. */
export const DEBIAN_SOURCE_TOP = 'linux-source-6.1';

export function requireDebianSource(): void {
  if (!existsSync(DEBIAN_SOURCE))
    throw new Error(
      `${DEBIAN_SOURCE} is missing: apt-get install linux-source-6.1 (the README's test command does)`,
    );
}
