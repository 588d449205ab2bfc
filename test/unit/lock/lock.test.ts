import { describe, expect, it } from 'vitest';
import { lockDifferences, mergeLock, toolShort } from '../../../src/lock/compare.js';
import { decodeLock, renderLock } from '../../../src/lock/lockfile.js';
import type { LockFile } from '../../../src/lock/types.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(64);

function lock(over: Partial<LockFile> = {}): LockFile {
  return {
    lockVersion: 1,
    recipe: 2,
    source: { path: '/usr/src/linux-source-6.1.tar.xz', sha256: A },
    patches: [
      { path: 'patches/0001-x.patch', sha256: B, strip: 1 },
      { path: 'patches/0002-y.patch', sha256: C, strip: 1 },
    ],
    config: { base: 'tinyconfig', fragments: [{ path: 'fragments/qemu.config', sha256: D }] },
    modules: [
      { name: 'hello', version: '1.0', path: 'modules/hello', sha256: A },
      { name: 'acpi-call', version: '1.2.2', installed: true, dkmsConf: [B] },
    ],
    toolchain: {
      compiler: 'gcc (Debian 12.2.0-14+deb12u1) 12.2.0',
      linker: 'GNU ld (GNU Binutils for Debian) 2.40',
    },
    builds: [{ arch: 'x86_64', buildId: C, release: '6.1.192-tiny-kfcccccccc', config: D }],
    ...over,
  };
}

const messages = (was: LockFile, now: LockFile) => lockDifferences(was, now).map((d) => d.message);

describe('kernelfile.lock, written and read back', () => {
  it('round-trips: the same lock is the same bytes, and reads back equal', () => {
    const text = renderLock(lock());
    const back = decodeLock(text);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.lock).toEqual(lock());
    expect(renderLock(back.lock)).toBe(text);
  });

  it('writes a fixed key order whatever order the object was built in, builds and dkms.conf digests sorted', () => {
    const shuffled = lock({
      builds: [
        { release: 'r2', config: D, buildId: B, arch: 'x86_64' },
        { arch: 'aarch64', buildId: C, release: 'r1', config: D },
      ],
      modules: [{ installed: true, version: '1', name: 'm', dkmsConf: [C, B, C] }],
    });
    const text = renderLock(shuffled);
    expect(text.indexOf('arch: aarch64')).toBeLessThan(text.indexOf('arch: x86_64'));
    expect(text).toContain(`dkmsConf:\n      - ${B}\n      - ${C}\n`);
    expect(text).toMatch(/^# /);
    expect(text).toContain('lockVersion: 1\nrecipe: 2\nsource:\n');
  });

  it.each([
    ['not YAML', 'lockVersion: 1\nrecipe: "unterminated\n', /not YAML: Missing closing "quote/, 3],
    ['a merge conflict', '<<<<<<< HEAD\nlockVersion: 1\n=======\n', /merge conflict/, 1],
    ['a newer format', 'lockVersion: 9\n', /newer than this kernelfile reads/, 1],
  ])('refuses %s with its line', (_what, text, message, line) => {
    const r = decodeLock(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(message);
    expect(r.error.line).toBe(line);
  });

  it('names the line of a field that is wrong', () => {
    const text = renderLock(lock()).replace(`sha256: ${B}`, 'sha256: nothex');
    const r = decodeLock(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe('`patches.[0].sha256` must be a sha256 (64 lowercase hex digits)');
    const line = text.split('\n').findIndex((l) => l.includes('sha256: nothex')) + 1;
    expect(r.error.line).toBe(line);
  });

  it('refuses unknown keys and a source that is not exactly one kind', () => {
    const unknown = decodeLock(renderLock(lock()).replace('recipe: 2', 'recipe: 2\nextra: 1'));
    expect(!unknown.ok && unknown.error.message).toBe('unknown key `extra`');
    const two = decodeLock(renderLock(lock({ source: { path: 'x', url: 'https://e/x', sha256: A } })));
    expect(!two.ok && two.error.message).toMatch(/exactly one of `url`, `path` or `git`/);
  });
});

describe('what differs from the lock', () => {
  it('nothing, for the same resolution', () => {
    expect(lockDifferences(lock(), lock())).toEqual([]);
  });

  it('a changed patch, by name and digest', () => {
    const now = lock();
    now.patches[0] = { path: 'patches/0001-x.patch', sha256: D, strip: 1 };
    expect(messages(lock(), now)).toEqual([
      `patches/0001-x.patch changed: sha256 ${B.slice(0, 12)}… → ${D.slice(0, 12)}…`,
    ]);
  });

  it('patches added, removed, reordered, and a changed strip', () => {
    const was = lock();
    const p = was.patches;
    expect(messages(was, lock({ patches: [p[1], p[0]] as LockFile['patches'] }))).toEqual([
      'patches reordered: patches/0001-x.patch, patches/0002-y.patch → patches/0002-y.patch, patches/0001-x.patch',
    ]);
    expect(messages(was, lock({ patches: [p[0]] as LockFile['patches'] }))).toEqual([
      'patch removed: patches/0002-y.patch',
    ]);
    expect(
      messages(was, lock({ patches: [...p, { path: 'patches/0003-z.patch', sha256: A, strip: 0 }] })),
    ).toEqual([`patch added: patches/0003-z.patch (sha256 ${A.slice(0, 12)}…)`]);
    expect(
      messages(
        was,
        lock({ patches: [{ ...(p[0] as LockFile['patches'][0]), strip: 0 }, p[1]] as LockFile['patches'] }),
      ),
    ).toEqual(['patches/0001-x.patch: strip 1 → 0']);
  });

  it('the source: a new tarball, another kind of source, a git commit, a signature', () => {
    expect(
      messages(lock(), lock({ source: { path: '/usr/src/linux-source-6.1.tar.xz', sha256: B } })),
    ).toEqual([
      `source /usr/src/linux-source-6.1.tar.xz changed: sha256 ${A.slice(0, 12)}… → ${B.slice(0, 12)}…`,
    ]);
    expect(messages(lock(), lock({ source: { url: 'https://cdn.kernel.org/x.tar.xz', sha256: A } }))).toEqual(
      [
        `source: path /usr/src/linux-source-6.1.tar.xz (sha256 ${A.slice(0, 12)}…) → url https://cdn.kernel.org/x.tar.xz (sha256 ${A.slice(0, 12)}…)`,
      ],
    );
    const git = (commit: string) => lock({ source: { git: 'https://git.kernel.org/linux.git', commit } });
    expect(messages(git('1'.repeat(40)), git('2'.repeat(40)))).toEqual([
      'source https://git.kernel.org/linux.git changed: commit 111111111111 → 222222222222',
    ]);
    expect(messages(lock(), lock({ source: { ...lock().source, signature: B } }))).toEqual([
      `source signature added: sha256 none → ${B.slice(0, 12)}…`,
    ]);
  });

  it('the config base and fragments', () => {
    expect(
      messages(lock(), lock({ config: { base: 'defconfig', fragments: lock().config.fragments } })),
    ).toEqual(['config.base: tinyconfig → defconfig']);
    const file = (sha256: string) =>
      lock({ config: { base: { path: 'base.config', sha256 }, fragments: [] } });
    expect(messages(file(A), file(B))).toEqual([
      `base.config changed: sha256 ${A.slice(0, 12)}… → ${B.slice(0, 12)}…`,
    ]);
    expect(
      messages(
        lock(),
        lock({ config: { base: 'tinyconfig', fragments: [{ path: 'fragments/qemu.config', sha256: A }] } }),
      ),
    ).toEqual([`fragments/qemu.config changed: sha256 ${D.slice(0, 12)}… → ${A.slice(0, 12)}…`]);
  });

  it('modules: a changed source, a new version, added and removed, a new dkms.conf on the hosts', () => {
    const was = lock();
    const [hello, acpi] = was.modules as [LockFile['modules'][0], LockFile['modules'][0]];
    expect(messages(was, lock({ modules: [{ ...hello, sha256: B }, acpi] }))).toEqual([
      `module hello 1.0 (modules/hello) changed: sha256 ${A.slice(0, 12)}… → ${B.slice(0, 12)}…`,
    ]);
    expect(messages(was, lock({ modules: [{ ...hello, version: '1.1' }, acpi] }))).toEqual([
      'module hello: version 1.0 → 1.1',
    ]);
    expect(messages(was, lock({ modules: [hello] }))).toEqual(['module removed: acpi-call 1.2.2']);
    expect(
      messages(was, lock({ modules: [hello, acpi, { name: 'zfs', version: '2', installed: true }] })),
    ).toEqual(['module added: zfs 2 (installed on the hosts)']);
    expect(messages(was, lock({ modules: [hello, { ...acpi, dkmsConf: [B, C] }] }))).toEqual([
      `module acpi-call 1.2.2: the hosts have a dkms.conf the lock does not (sha256 ${C.slice(0, 12)}…; the lock has ${B.slice(0, 12)}…)`,
    ]);
    // A plan that saw no host (build, lock without --host) says nothing about installed modules.
    expect(messages(was, lock({ modules: [hello, { ...acpi, dkmsConf: undefined }] }))).toEqual([]);
  });

  it('the toolchain, in short when the version changed', () => {
    const tc = (compiler: string) => lock({ toolchain: { ...lock().toolchain, compiler } });
    expect(messages(lock(), tc('gcc (Debian 13.1.0-1) 13.1.0'))).toEqual([
      'toolchain: gcc 12.2.0 → gcc 13.1.0',
    ]);
    expect(messages(lock(), tc('gcc (Debian 12.2.0-14+deb12u2) 12.2.0'))).toEqual([
      'toolchain: compiler "gcc (Debian 12.2.0-14+deb12u1) 12.2.0" → "gcc (Debian 12.2.0-14+deb12u2) 12.2.0"',
    ]);
    expect(toolShort('GNU ld (GNU Binutils for Debian) 2.40')).toBe('GNU 2.40');
  });

  it('the recipe and the signing certificate', () => {
    expect(messages(lock(), lock({ recipe: 3 }))[0]).toMatch(/^kernelfile's build recipe 2 → 3/);
    expect(messages(lock(), lock({ signing: { certificate: A } }))).toEqual([
      `signing certificate: sha256 none → ${A.slice(0, 12)}…`,
    ]);
  });

  it('a build id: explained by the differences above it, else by the configuration', () => {
    const build = (buildId: string, config: string) =>
      lock({ builds: [{ arch: 'x86_64', buildId, release: `r-${buildId.slice(0, 2)}`, config }] });
    expect(messages(build(C, D), build(A, B))).toEqual([
      `build x86_64: build id ${C.slice(0, 12)}… → ${A.slice(0, 12)}… (release r-cc → r-aa); the resolved configuration differs (sha256 ${D.slice(0, 12)}… → ${B.slice(0, 12)}…)`,
    ]);
    expect(messages(build(C, D), build(A, D))[0]).toMatch(/the configuration is the same: the kernelfile/);
    const withPatch = build(A, B);
    withPatch.patches = [lock().patches[0] as LockFile['patches'][0]];
    expect(messages(build(C, D), withPatch)).toEqual([
      'patch removed: patches/0002-y.patch',
      `build x86_64: build id ${C.slice(0, 12)}… → ${A.slice(0, 12)}… (release r-cc → r-aa)`,
    ]);
    expect(
      messages(build(C, D), lock({ builds: [{ arch: 'aarch64', buildId: A, release: 'r', config: D }] })),
    ).toEqual(['build aarch64 (r) is not in the lock: a new architecture']);
    // A build of the lock that was not resolved now (another architecture, a host not planned) is not a difference.
    expect(messages(lock(), lock({ builds: [] }))).toEqual([]);
  });
});

describe('the lock written when differences are accepted', () => {
  it('keeps builds the run did not resolve while their inputs are the same', () => {
    const was = lock({
      builds: [
        { arch: 'x86_64', buildId: C, release: 'r1', config: D },
        { arch: 'aarch64', buildId: B, release: 'r2', config: D },
      ],
    });
    const now = lock({ builds: [{ arch: 'x86_64', buildId: C, release: 'r1', config: D }] });
    expect(
      mergeLock(was, now)
        .builds.map((b) => b.arch)
        .sort(),
    ).toEqual(['aarch64', 'x86_64']);
    const changed = { ...now, patches: [] };
    expect(mergeLock(was, changed).builds.map((b) => b.arch)).toEqual(['x86_64']);
  });

  it('adds the dkms.conf digests seen now to those the lock knew', () => {
    const now = lock();
    now.modules[1] = { name: 'acpi-call', version: '1.2.2', installed: true, dkmsConf: [C] };
    expect(mergeLock(lock(), now).modules[1]?.dkmsConf?.sort()).toEqual([B, C]);
  });
});
