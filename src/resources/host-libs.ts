/**
 * Can a host run the host tools of a build's headers (objtool, modpost, fixdep, sign-file)? They
 * are dynamically linked on the controller; `dkms build` on the host runs them, and fails half-way
 * through an apply where a library they need (libelf.so.1 for objtool) is missing or the host's
 * glibc is older than the one they were linked against. Pure: the build's needs (its manifest)
 * against the host's `libs` facts.
 */
import { compareGlibc, type HeadersNeed } from '../compile/elf-needs.js';
import type { Distro, LibFacts } from '../facts/types.js';

export interface HeadersGap {
  /** Sonames the tools need that the host's loader does not find. */
  missing: string[];
  /** The glibc the tools need, when the host's is older. */
  glibc: { need: string; have: string } | null;
}

/** null when the host can run them, or when either side is unknown (nothing to check against). */
export function headersGap(
  need: HeadersNeed | null | undefined,
  libs: LibFacts | null | undefined,
): HeadersGap | null {
  if (!need || !libs) return null;
  const have = new Set(libs.sonames);
  const missing = need.sonames.filter((s) => !have.has(s));
  const glibc =
    need.glibc && libs.glibc && compareGlibc(need.glibc, libs.glibc) > 0
      ? { need: need.glibc, have: libs.glibc }
      : null;
  return missing.length || glibc ? { missing, glibc } : null;
}

/** Well-known sonames → the package that ships them, on Debian/Ubuntu and on Fedora/RHEL. */
const PACKAGES: Record<string, { debian: string; fedora: string }> = {
  'libelf.so.1': { debian: 'libelf1', fedora: 'elfutils-libelf' },
  'libcrypto.so.3': { debian: 'libssl3', fedora: 'openssl-libs' },
  'libssl.so.3': { debian: 'libssl3', fedora: 'openssl-libs' },
  'libcrypto.so.1.1': { debian: 'libssl1.1', fedora: 'openssl1.1' },
  'libz.so.1': { debian: 'zlib1g', fedora: 'zlib' },
  'libzstd.so.1': { debian: 'libzstd1', fedora: 'libzstd' },
  'liblzma.so.5': { debian: 'liblzma5', fedora: 'xz-libs' },
  'libc.so.6': { debian: 'libc6', fedora: 'glibc' },
};

function family(d: Distro): 'debian' | 'fedora' | null {
  const ids = [d.id ?? '', ...d.idLike];
  if (ids.some((x) => x === 'debian' || x === 'ubuntu')) return 'debian';
  if (ids.some((x) => x === 'fedora' || x === 'rhel' || x === 'centos')) return 'fedora';
  return null;
}

/** What to install for the missing sonames: "apt-get install libelf1", or both families' names. */
export function installHint(missing: readonly string[], distro: Distro): string {
  const fam = family(distro);
  const known = missing.filter((s) => PACKAGES[s]);
  const unknown = missing.filter((s) => !PACKAGES[s]);
  const parts: string[] = [];
  if (known.length) {
    const names = (k: 'debian' | 'fedora') => [...new Set(known.map((s) => PACKAGES[s]?.[k]))].join(' ');
    parts.push(
      fam === 'debian'
        ? `apt-get install ${names('debian')}`
        : fam === 'fedora'
          ? `dnf install ${names('fedora')}`
          : `install ${names('debian')} (Debian, Ubuntu) or ${names('fedora')} (Fedora, RHEL)`,
    );
  }
  if (unknown.length) parts.push(`install the package that provides ${unknown.join(', ')}`);
  return parts.join(', and ');
}

/** "need libelf.so.1, which web-1 lacks, and GLIBC 2.38 (web-1 has 2.36)". */
export function describeGap(gap: HeadersGap, host: string): string {
  const parts: string[] = [];
  if (gap.missing.length) parts.push(`${gap.missing.join(', ')}, which ${host} lacks`);
  if (gap.glibc) parts.push(`GLIBC ${gap.glibc.need} (${host} has ${gap.glibc.have})`);
  return `need ${parts.join(', and ')}`;
}

/** How the host can be made able to run them: the packages, and/or a toolchain with an older glibc. */
export function gapHint(gap: HeadersGap, distro: Distro): string {
  const parts: string[] = [];
  if (gap.missing.length) parts.push(installHint(gap.missing, distro));
  if (gap.glibc)
    parts.push(
      `upgrade the host's glibc to ${gap.glibc.need} or later, or build the kernel on a controller whose glibc is no newer than ${gap.glibc.have}`,
    );
  return parts.join('; and ');
}
