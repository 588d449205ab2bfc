/**
 * Issue 12, defect 12: a host that cannot run the headers' host tools (objtool needs libelf.so.1,
 * or the tools need a newer glibc than the host's). The plan foresees it: a module with a source on
 * the controller is built there (dkms mktarball / ldtarball); one only the host has is a problem
 * naming the library and the package. Unknown either side (facts without `libs`, a build not
 * cached yet): the plan is what it was.
 */
import { describe, expect, it } from 'vitest';
import type { HeadersNeed } from '../../../src/compile/elf-needs.js';
import { FAMILIES } from '../../../src/facts/families.js';
import type { LibFacts } from '../../../src/facts/types.js';
import { plan } from '../../../src/plan/planner.js';
import { installHint } from '../../../src/resources/host-libs.js';
import { addDkmsEntry, BUILD_BOOT_BYTES, loadCase, planOptions } from '../../helpers/plan-fixtures.js';
import { fixtureSections } from '../facts/fixtures.js';

/** objtool and modpost as Debian 12's gcc links them. */
const NEED: HeadersNeed = { sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' };
const libsOf = (fixture: string) => FAMILIES.libs.parse(fixtureSections('libs', fixture)) as LibFacts;
/** A Debian 12 host without libelf1 (the fact fixture). */
const NO_LIBELF = libsOf('debian12-no-libelf');
const WITH_LIBELF: LibFacts = { ...NO_LIBELF, sonames: [...NO_LIBELF.sonames, 'libelf.so.1'].sort() };

function planWith(
  o: { libs?: LibFacts | null; need?: HeadersNeed | null; cached?: boolean },
  edit?: (d: ReturnType<typeof loadCase>['desired']) => void,
  name = 'fresh-grub',
) {
  const c = loadCase(name);
  const facts = structuredClone(c.facts);
  if (o.libs !== undefined) facts.libs = o.libs;
  const desired = structuredClone(c.desired);
  const cached = o.cached ?? o.need !== undefined;
  desired.artifacts = {
    cached,
    bootBytes: cached ? BUILD_BOOT_BYTES : null,
    ...(o.need !== undefined ? { headersNeed: o.need } : {}),
  };
  edit?.(desired);
  return plan(desired, facts, planOptions(facts));
}

const moduleChange = (p: ReturnType<typeof plan>) => p.changes.find((c) => c.resource === 'dkms-module');
const installedOnly = (d: ReturnType<typeof loadCase>['desired']) => {
  d.modules = d.modules.map((m) => ({ ...m, path: null, installed: true }));
};

describe('a host without the libraries the headers need', () => {
  it('the libs fixture of a Debian host without libelf1 has no libelf.so.1, and glibc 2.36', () => {
    expect(NO_LIBELF.sonames).not.toContain('libelf.so.1');
    expect(NO_LIBELF.sonames).toContain('libc.so.6');
    expect(NO_LIBELF.glibc).toBe('2.36');
  });

  it('a module with a path is built on the controller (dkms mktarball) and loaded with dkms ldtarball', () => {
    const p = planWith({ libs: NO_LIBELF, need: NEED });
    expect(p.problems).toEqual([]);
    const m = moduleChange(p);
    expect(m?.steps.map((s) => s.kind)).toEqual(['dkms-tarball', 'run']);
    expect(m?.reason).toBe(
      `the headers' host tools (objtool, modpost…) need libelf.so.1, which ${p.host} lacks: built on the controller, loaded with dkms ldtarball`,
    );
  });

  it('an installed: true module (its source only on the host) is a problem naming the library and the package', () => {
    const p = planWith({ libs: NO_LIBELF, need: NEED }, installedOnly);
    const prob = p.problems.find((x) => x.code === 'headers-unusable');
    expect(prob?.message).toContain(
      `cannot build kernelfile-hello on ${p.host}: their host tools (objtool, modpost…) need libelf.so.1, which ${p.host} lacks`,
    );
    expect(prob?.message).toContain('`installed: true`');
    expect(prob?.hint).toMatch(/^apt-get install libelf1, or give the module a `path`/);
  });

  it('with build.on: host, a module with a path is a problem too, and the hint names build.on: controller', () => {
    const p = planWith({ libs: NO_LIBELF, need: NEED }, (d) => {
      d.buildOn = 'host';
    });
    expect(p.problems.map((x) => x.code)).toEqual(['headers-unusable']);
    expect(p.problems[0]?.hint).toBe('apt-get install libelf1, or set build.on: controller');
  });

  it('a glibc older than the tools need is the same: built on the controller, or a problem naming both versions', () => {
    const old = { ...WITH_LIBELF, glibc: '2.31' };
    const need = { ...NEED, glibc: '2.38' };
    const p = planWith({ libs: old, need });
    expect(p.problems).toEqual([]);
    expect(moduleChange(p)?.reason).toMatch(/need GLIBC 2\.38 \(.* has 2\.31\): built on the controller/);
    const refused = planWith({ libs: old, need }, installedOnly);
    const prob = refused.problems.find((x) => x.code === 'headers-unusable');
    expect(prob?.message).toMatch(/need GLIBC 2\.38 \(.* has 2\.31\)/);
    expect(prob?.hint).toMatch(/upgrade the host's glibc to 2\.38 or later/);
  });

  it('a host with everything: the plan is the one made without the check', () => {
    const base = planWith({});
    const p = planWith({ libs: WITH_LIBELF, need: NEED, cached: false });
    const q = planWith({ libs: WITH_LIBELF, need: NEED });
    for (const x of [p, q]) {
      expect(x.problems).toEqual(base.problems);
      expect(moduleChange(x)).toEqual(moduleChange(base));
    }
    expect(p.notes).toEqual(base.notes);
  });

  it('unknown: facts without a library list change nothing but a note; a build not cached is checked by apply', () => {
    const base = planWith({});
    for (const libs of [undefined, null]) {
      const p = planWith({ libs, need: NEED }, installedOnly);
      expect(p.problems).toEqual(planWith({}, installedOnly).problems);
      expect(
        p.notes.some((n) => /headers' host tools .* is not checked: its facts have no library list/.test(n)),
      ).toBe(true);
    }
    const uncached = planWith({ libs: NO_LIBELF });
    expect(uncached.problems).toEqual(base.problems);
    expect(moduleChange(uncached)).toEqual(moduleChange(base));
    expect(uncached.notes).toContain(
      `whether ${uncached.host} can run the headers' host tools is checked once the kernel is built, before the host is changed`,
    );
  });

  it('a module already installed for the release is not rebuilt, so nothing is checked', () => {
    const c = loadCase('dkms-added');
    const facts = structuredClone(c.facts);
    facts.libs = NO_LIBELF;
    const m = c.desired.modules.find((x) => x.name === 'acpi-call');
    if (!m) throw new Error('dkms-added declares acpi-call');
    addDkmsEntry(facts, { name: m.name, version: m.version, kernel: c.desired.release, state: 'installed' });
    const desired = structuredClone(c.desired);
    desired.artifacts = { cached: true, bootBytes: BUILD_BOOT_BYTES, headersNeed: NEED };
    const p = plan(desired, facts, planOptions(facts));
    expect(p.changes.filter((x) => x.resource === 'dkms-module').map((x) => x.action)).toEqual([
      'no-op',
      'no-op',
    ]);
    expect(p.problems).toEqual([]);
  });
});

describe('the package to install', () => {
  const debian = { id: 'debian', idLike: [], versionId: '12', prettyName: null };
  const fedora = { id: 'fedora', idLike: [], versionId: '39', prettyName: null };
  const other = { id: 'alpine', idLike: [], versionId: null, prettyName: null };
  it('maps well-known sonames to Debian and Fedora packages; names the soname otherwise', () => {
    expect(installHint(['libelf.so.1', 'libcrypto.so.3', 'libz.so.1'], debian)).toBe(
      'apt-get install libelf1 libssl3 zlib1g',
    );
    expect(installHint(['libelf.so.1', 'libcrypto.so.3', 'libz.so.1'], fedora)).toBe(
      'dnf install elfutils-libelf openssl-libs zlib',
    );
    expect(installHint(['libelf.so.1'], other)).toBe(
      'install libelf1 (Debian, Ubuntu) or elfutils-libelf (Fedora, RHEL)',
    );
    expect(installHint(['libfoo.so.7'], debian)).toBe('install the package that provides libfoo.so.7');
  });
});
