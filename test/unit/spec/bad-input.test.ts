/**
 * Every kind of bad kernelfile gets one clear diagnostic at the right file:line:column, with a hint
 * where there is something to do. Each case is a small kernelfile; `at` is where the problem is.
 */
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/spec/diagnostic.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const PATCH = `diff --git a/init/main.c b/init/main.c
--- a/init/main.c
+++ b/init/main.c
@@ -1,3 +1,4 @@
 a
+b
 c
`;

const FILES: Record<string, string> = {
  '/proj/fragments/qemu.config': 'CONFIG_64BIT=y\n# CONFIG_SWAP is not set\n',
  '/proj/fragments/other.config': 'CONFIG_64BIT=n\n',
  '/proj/patches/0001-fix.patch': PATCH,
  '/proj/patches/0002-more.patch': PATCH,
  '/proj/modules/hello/dkms.conf': 'PACKAGE_NAME="hello"\nPACKAGE_VERSION="1.0"\n',
  '/proj/modules/hello/hello.c': '',
  '/usr/src/linux-source-6.1.tar.xz': '',
  '/home/dev/notes.txt': 'not a patch\n',
  '/shared/0001-fix.patch': PATCH,
};
const fs = memfs(FILES, ['/proj/.git', '/usr/src/linux-tree']);
const env = { fs, kernelfile: '/proj/kernelfile.yaml', home: '/home/dev' };

const HEAD = `apiVersion: kernelfile/v1
name: test
kernel:
  version: "6.1.192"
  source:
    path: /usr/src/linux-source-6.1.tar.xz
`;

function run(text: string | Uint8Array, size?: number) {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const r = validate(bytes, 'kernelfile.yaml', env, size);
  return { errors: r.ok ? [] : r.errors, warnings: r.warnings };
}

interface Case {
  name: string;
  yaml: string | Uint8Array;
  size?: number;
  /** [line, column] of the diagnostic. */
  at: [number, number];
  message: RegExp;
  hint?: RegExp;
  code?: string;
  severity?: 'error' | 'warning';
  file?: string;
}

const cases: Case[] = [
  // ── YAML itself ──
  {
    name: 'YAML syntax error (unclosed flow sequence)',
    yaml: `${HEAD}config:\n  fragments: [a.config\n`,
    at: [8, 14],
    message: /flow sequence/i,
  },
  {
    name: 'tab used for indentation',
    yaml: `${HEAD}config:\n\tbase: tinyconfig\n`,
    at: [8, 1],
    message: /tabs/i,
    hint: /spaces/,
    code: 'yaml-tab-as-indent',
  },
  {
    name: 'duplicate key names the first one',
    yaml: `${HEAD}name: again\n`,
    at: [7, 1],
    message: /duplicate key `name` \(first defined at line 2\)/,
    code: 'yaml-duplicate-key',
  },
  {
    name: 'empty file',
    yaml: '',
    at: [1, 1],
    message: /empty/,
    hint: /kernelfile\.example\.yaml/,
    code: 'empty-file',
  },
  {
    name: 'file with only comments',
    yaml: '# nothing here\n\n',
    at: [1, 1],
    message: /empty/,
    code: 'empty-file',
  },
  {
    name: 'not UTF-8 (Latin-1 byte in a comment on line 3)',
    yaml: new Uint8Array([
      ...new TextEncoder().encode('apiVersion: kernelfile/v1\nname: x\n# caf'),
      0xe9,
      0x0a,
    ]),
    at: [3, 6],
    message: /not valid UTF-8: byte 0xe9/,
    hint: /iconv/,
    code: 'not-utf8',
  },
  {
    name: 'UTF-16 file',
    yaml: new Uint8Array([0xff, 0xfe, 0x61, 0x00]),
    at: [1, 1],
    message: /UTF-16/,
    code: 'not-utf8',
  },
  {
    name: 'a 10 MB file is refused by size, before parsing',
    yaml: new Uint8Array(1024 * 1024 + 1).fill(0x61),
    size: 10 * 1024 * 1024,
    at: [1, 1],
    message: /10\.0 MiB; a kernelfile may be at most 1\.0 MiB/,
    code: 'file-too-large',
  },
  {
    name: 'NUL byte (a binary file)',
    yaml: 'apiVersion: kernelfile/v1\nname: x\x00\n',
    at: [2, 8],
    message: /NUL byte/,
    code: 'binary-file',
  },
  {
    name: 'two YAML documents',
    yaml: `${HEAD}---\nname: second\n`,
    at: [7, 1],
    message: /document/i,
    hint: /one YAML document/,
  },
  {
    name: 'top level is a list',
    yaml: '- apiVersion: kernelfile/v1\n',
    at: [1, 1],
    message: /must be a mapping of keys to values, not a list/,
    code: 'not-a-mapping',
  },
  {
    name: 'alias to an undefined anchor',
    yaml: `${HEAD}config:\n  base: *nowhere\n`,
    at: [8, 9],
    message: /alias \*nowhere has no anchor/,
    hint: /anchor/,
    code: 'yaml-bad-alias',
  },
  // ── schema ──
  {
    name: 'missing required field (kernel)',
    yaml: 'apiVersion: kernelfile/v1\nname: x\n',
    at: [1, 1],
    message: /missing the required key `kernel`/,
    hint: /kernel:/,
    code: 'missing-key',
  },
  {
    name: 'missing kernel.version points at the kernel key',
    yaml: 'apiVersion: kernelfile/v1\nname: x\nkernel:\n  source: {path: /usr/src/linux-source-6.1.tar.xz}\n',
    at: [3, 1],
    message: /`kernel` is missing the required key `version`/,
    code: 'missing-key',
  },
  {
    name: 'wrong apiVersion',
    yaml: HEAD.replace('kernelfile/v1', 'kernelfile/v9'),
    at: [1, 13],
    message: /apiVersion must be `kernelfile\/v1`/,
  },
  {
    name: 'unknown key with a suggestion',
    yaml: `${HEAD}config:\n  fragmnets: [fragments/qemu.config]\n`,
    at: [8, 3],
    message: /unknown key `fragmnets` in `config`/,
    hint: /did you mean `fragments`\?/,
    code: 'unknown-key',
  },
  {
    name: 'unknown top-level key without a close match lists the allowed keys',
    yaml: `${HEAD}flavour: spicy\n`,
    at: [7, 1],
    message: /unknown key `flavour`/,
    hint: /allowed keys: .*`patches`/,
  },
  {
    name: 'wrong type: version given as a YAML number',
    yaml: HEAD.replace('"6.1.192"', '6.1'),
    at: [4, 12],
    message: /expected a string, got the number 6\.1/,
    hint: /quotes/,
    code: 'wrong-type',
  },
  {
    name: 'wrong type: fragments as a string',
    yaml: `${HEAD}config:\n  fragments: fragments/qemu.config\n`,
    at: [8, 14],
    message: /expected a list, got the string/,
  },
  {
    name: 'wrong type: boolean as a string ("yes" for default)',
    yaml: `${HEAD}boot:\n  entries:\n    - default: yes\n`,
    at: [9, 16],
    message: /expected true or false/,
    hint: /write `true`/,
  },
  {
    name: 'URL source without sha256',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      'url: https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.192.tar.xz',
    ),
    at: [5, 3],
    message: /`kernel\.source` is missing the required key `sha256`/,
    hint: /sha256sum/,
  },
  {
    name: 'bad sha256 (too short)',
    yaml: HEAD.replace(
      '/usr/src/linux-source-6.1.tar.xz',
      '/usr/src/linux-source-6.1.tar.xz\n    sha256: abc123',
    ),
    at: [7, 13],
    message: /64 hex digits, got 6/,
    hint: /sha256sum/,
  },
  {
    name: 'bad sha256 (not hex)',
    yaml: HEAD.replace(
      '/usr/src/linux-source-6.1.tar.xz',
      `/usr/src/linux-source-6.1.tar.xz\n    sha256: ${'z'.repeat(64)}`,
    ),
    at: [7, 13],
    message: /contains `z`/,
  },
  {
    name: 'http: URL refused',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `url: http://cdn.kernel.org/linux-6.1.192.tar.xz\n    sha256: ${'a'.repeat(64)}`,
    ),
    at: [6, 10],
    message: /`http:` scheme is not allowed/,
    hint: /https/,
  },
  {
    name: 'ftp: URL refused for a patch',
    yaml: `${HEAD}patches:\n  - url: ftp://example.org/fix.patch\n    sha256: ${'b'.repeat(64)}\n`,
    at: [8, 10],
    message: /`ftp:` scheme is not allowed/,
  },
  {
    name: 'url and path together',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `path: /usr/src/linux-source-6.1.tar.xz\n    url: https://x.org/linux-6.1.192.tar.xz`,
    ),
    at: [5, 3],
    message: /`path`, `url` cannot be used together/,
    hint: /exactly one of/,
    code: 'conflicting-keys',
  },
  {
    name: 'git source with a branch name instead of a commit',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      'git: https://git.kernel.org/stable/linux.git\n    ref: linux-6.1.y',
    ),
    at: [7, 10],
    message: /full commit id/,
    hint: /git rev-parse/,
  },
  {
    name: 'git:// protocol refused',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `git: git://git.kernel.org/stable/linux.git\n    ref: ${'c'.repeat(40)}`,
    ),
    at: [6, 10],
    message: /not authenticated/,
    code: 'insecure-url',
  },
  {
    name: 'version string not a kernel version',
    yaml: HEAD.replace('"6.1.192"', '"v6.1"'),
    at: [4, 12],
    message: /`v6\.1` is not a kernel version/,
    hint: /6\.1\.192/,
  },
  {
    name: 'version disagrees with the tarball name',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `url: https://cdn.kernel.org/linux-6.1.119.tar.xz\n    sha256: ${'a'.repeat(64)}`,
    ),
    at: [4, 12],
    message: /kernel\.version is 6\.1\.192, but the source URL names linux-6\.1\.119/,
    code: 'version-mismatch',
  },
  {
    name: 'a first release (linux-6.6) is 6.6.0 to make kernelversion: the hint says so',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `url: https://cdn.kernel.org/linux-6.6.tar.xz\n    sha256: ${'a'.repeat(64)}`,
    ),
    at: [4, 12],
    message: /kernel\.version is 6\.1\.192, but the source URL names linux-6\.6$/,
    hint: /make kernelversion would print 6\.6\.0: set version: "6\.6\.0"/,
    code: 'version-mismatch',
  },
  {
    name: 'the placeholder sha256 kernelfile import writes is a warning',
    yaml: HEAD.replace(
      'path: /usr/src/linux-source-6.1.tar.xz',
      `url: https://cdn.kernel.org/linux-6.1.192.tar.xz\n    sha256: "${'0'.repeat(64)}"`,
    ),
    at: [7, 13],
    message: /kernel\.source\.sha256 is a placeholder \(64 zeros\), not the checksum of the source/,
    hint: /sha256sum/,
    code: 'sha256-placeholder',
    severity: 'warning',
  },
  {
    name: 'invalid base with a suggestion',
    yaml: `${HEAD}config:\n  base: tinyconfg\n`,
    at: [8, 9],
    message: /`tinyconfg` is not a valid base/,
    hint: /did you mean `tinyconfig`\?/,
  },
  {
    name: 'arch as Debian names it',
    yaml: `${HEAD}  arch: amd64\n`,
    at: [7, 9],
    message: /`amd64` is not a valid arch/,
    hint: /x86_64/,
  },
  {
    name: 'lower-case CONFIG_ name',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_ext4_fs: y\n`,
    at: [9, 5],
    message: /`CONFIG_ext4_fs` is not a Kconfig symbol name/,
    hint: /CONFIG_EXT4_FS/,
  },
  {
    name: 'symbol without the CONFIG_ prefix',
    yaml: `${HEAD}config:\n  set:\n    EXT4_FS: y\n`,
    at: [9, 5],
    message: /`EXT4_FS` is not a Kconfig symbol name/,
    hint: /CONFIG_EXT4_FS/,
  },
  {
    name: '`true` as a Kconfig value',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_EXT4_FS: true\n`,
    at: [9, 21],
    message: /the boolean true is not a Kconfig value/,
    hint: /use `y`/,
    code: 'invalid-kconfig-value',
  },
  {
    name: '`yes` as a Kconfig value',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_EXT4_FS: yes\n`,
    at: [9, 21],
    message: /`yes` is not a Kconfig value/,
    hint: /use `y`/,
  },
  {
    name: '`false` as a Kconfig value',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_SWAP: false\n`,
    at: [9, 18],
    message: /the boolean false is not a Kconfig value/,
    hint: /use `n`/,
  },
  {
    name: 'empty Kconfig value (YAML null)',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_SWAP:\n`,
    at: [9, 17],
    message: /null is not a Kconfig value/,
  },
  {
    name: 'CONFIG_LOCALVERSION belongs in kernel.localversion',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_LOCALVERSION: "-x"\n`,
    at: [9, 5],
    message: /managed by kernelfile/,
    hint: /kernel\.localversion/,
  },
  {
    name: 'per-option onDropped with an invalid value',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_KVM: {value: m, onDropped: ignore}\n`,
    at: [9, 39],
    message: /`ignore` is not a valid onDropped/,
    hint: /`error`, `warn`/,
  },
  // ── files ──
  {
    name: 'missing fragment file, with the near name suggested',
    yaml: `${HEAD}config:\n  fragments: [fragments/qemu.conf]\n`,
    at: [8, 15],
    message: /config fragment not found: fragments\/qemu\.conf \(looked for \/proj\/fragments\/qemu\.conf\)/,
    hint: /did you mean `qemu\.config`\?/,
    code: 'file-not-found',
  },
  {
    name: 'missing patch file',
    yaml: `${HEAD}patches:\n  - path: patches/0003-gone.patch\n`,
    at: [8, 11],
    message: /patch file not found: patches\/0003-gone\.patch/,
    code: 'file-not-found',
  },
  {
    name: 'missing kernel source tarball',
    yaml: HEAD.replace('linux-source-6.1.tar.xz', 'linux-source-6.2.tar.xz'),
    at: [6, 11],
    message: /kernel source not found: \/usr\/src\/linux-source-6\.2\.tar\.xz/,
    hint: /did you mean `linux-source-6\.1\.tar\.xz`\?/,
  },
  {
    name: 'source directory that is not a kernel tree',
    yaml: HEAD.replace('/usr/src/linux-source-6.1.tar.xz', '/usr/src/linux-tree'),
    at: [6, 11],
    message: /not a kernel source tree/,
    code: 'not-a-kernel-tree',
  },
  {
    name: 'a patch that is not a patch',
    yaml: `${HEAD}patches:\n  - path: ~/notes.txt\n`,
    at: [8, 11],
    message: /is not a patch/,
    code: 'not-a-patch',
  },
  {
    name: 'a path escaping the project is a warning',
    yaml: `${HEAD}patches:\n  - path: ../proj/patches/0001-fix.patch\n  - path: ../shared/0001-fix.patch\n`,
    at: [9, 11],
    message: /outside the project \(\/proj\)/,
    hint: /absolute path/,
    severity: 'warning',
    code: 'path-escapes-project',
  },
  {
    name: 'the same patch twice',
    yaml: `${HEAD}patches:\n  - path: patches/0001-fix.patch\n  - path: patches/0001-fix.patch\n`,
    at: [9, 5],
    message: /listed twice \(first at line 8\)/,
    code: 'duplicate-patch',
  },
  {
    name: 'git-style patch with strip 0 is a warning',
    yaml: `${HEAD}patches:\n  - path: patches/0001-fix.patch\n    strip: 0\n`,
    at: [9, 12],
    message: /start with a\/ and b\/, but strip is 0/,
    severity: 'warning',
  },
  {
    name: 'fragment line Kconfig would silently ignore, reported in the fragment',
    yaml: `${HEAD}config:\n  fragments: [fragments/bad.config]\n`,
    at: [2, 1],
    file: '/proj/fragments/bad.config',
    message: /`config_swap` is not a Kconfig symbol; Kconfig would silently ignore this line/,
    hint: /CONFIG_SWAP/,
    code: 'fragment-syntax',
  },
  {
    name: 'fragment value `yes`',
    yaml: `${HEAD}config:\n  fragments: [fragments/yes.config]\n`,
    at: [1, 16],
    file: '/proj/fragments/yes.config',
    message: /`yes` is not a Kconfig value/,
    hint: /use `y`/,
  },
  {
    name: 'redefinition between a fragment and set is a warning naming both places',
    yaml: `${HEAD}config:\n  fragments: [fragments/qemu.config]\n  set:\n    CONFIG_64BIT: n\n`,
    at: [10, 5],
    message: /CONFIG_64BIT is set to n here and to y at fragments\/qemu\.config:1; the later one wins/,
    severity: 'warning',
    code: 'redefined',
  },
  // ── modules ──
  {
    name: 'module name with shell metacharacters',
    yaml: `${HEAD}modules:\n  - name: "hello; reboot"\n    version: "1.0"\n    installed: true\n`,
    at: [8, 11],
    message: /name `hello; reboot` contains ` `|contains `;`/,
    hint: /file names and commands/,
  },
  {
    name: 'module version with a slash',
    yaml: `${HEAD}modules:\n  - name: hello\n    version: 1.0/../../etc\n    installed: true\n`,
    at: [9, 14],
    message: /version `1\.0\/\.\.\/\.\.\/etc` contains `\/`/,
  },
  {
    name: 'module name with $(...)',
    yaml: `${HEAD}modules:\n  - name: $(id)\n    version: "1"\n    installed: true\n`,
    at: [8, 11],
    message: /contains `\$`/,
  },
  {
    name: 'module declared twice',
    yaml: `${HEAD}modules:\n  - {name: hello, version: "1.0", path: modules/hello}\n  - {name: hello, version: "1.0", installed: true}\n`,
    at: [9, 12],
    message: /module `hello` is declared twice \(first at line 8\)/,
    code: 'duplicate-module',
  },
  {
    name: 'module both path and installed',
    yaml: `${HEAD}modules:\n  - {name: hello, version: "1.0", path: modules/hello, installed: true}\n`,
    at: [8, 5],
    message: /`path`, `installed` cannot be used together/,
  },
  {
    name: 'module directory without dkms.conf',
    yaml: `${HEAD}modules:\n  - {name: frag, version: "1.0", path: fragments}\n`,
    at: [8, 40],
    message: /has no dkms\.conf/,
    code: 'no-dkms-conf',
  },
  {
    name: 'module version differs from dkms.conf',
    yaml: `${HEAD}modules:\n  - {name: hello, version: "2.0", path: modules/hello}\n`,
    at: [8, 28],
    message:
      /dkms\.conf in modules\/hello says PACKAGE_VERSION="1\.0", but the kernelfile says version: 2\.0/,
    code: 'dkms-conf-mismatch',
  },
  // ── never converges ──
  {
    name: 'two default entries',
    yaml: `${HEAD}boot:\n  entries:\n    - default: true\n    - title: rescue\n      default: true\n`,
    at: [11, 7],
    message: /more than one boot entry is the default \(the first is at line 9\)/,
    code: 'multiple-defaults',
  },
  {
    name: 'trial without a default entry',
    yaml: `${HEAD}boot:\n  trial: true\n  entries:\n    - default: false\n`,
    at: [8, 3],
    message: /no entry has `default: true`/,
    code: 'never-converges',
  },
  {
    name: 'loader none with entries',
    yaml: `${HEAD}boot:\n  loader: none\n  entries:\n    - default: true\n`,
    at: [9, 3],
    message: /loader is `none`, so no boot entries can be written/,
    code: 'never-converges',
  },
  {
    name: 'CONFIG_MODULES=n with DKMS modules declared',
    yaml: `${HEAD}config:\n  set:\n    CONFIG_MODULES: n\nmodules:\n  - {name: hello, version: "1.0", path: modules/hello}\n`,
    at: [9, 5],
    message: /CONFIG_MODULES=n .* but 1 DKMS module\(s\) are declared/,
    code: 'never-converges',
  },
  {
    name: 'initramfs modules with generator none',
    yaml: `${HEAD}initramfs:\n  generator: none\n  modules: [virtio_blk]\n`,
    at: [9, 3],
    message: /generator is `none`/,
    code: 'never-converges',
  },
  {
    name: 'keep 0 would remove the kernel just installed',
    yaml: `${HEAD}boot:\n  keep: 0\n`,
    at: [8, 9],
    message: /keep must be at least 1, got 0/,
  },
  {
    name: 'unknown title placeholder',
    yaml: `${HEAD}boot:\n  entries:\n    - title: "{distro} {relase}"\n      default: true\n`,
    at: [9, 14],
    message: /unknown placeholder \{relase\}/,
    hint: /did you mean \{release\}\?/,
  },
  {
    name: 'a reserved make variable',
    yaml: `${HEAD}build:\n  makeVars:\n    ARCH: arm64\n`,
    at: [9, 5],
    message: /`ARCH` is set by kernelfile/,
    hint: /kernel\.arch/,
  },
  {
    name: 'root device twice',
    yaml: `${HEAD}boot:\n  entries:\n    - cmdline: root=/dev/sda1 ro\n      root: /dev/vda1\n      default: true\n`,
    at: [10, 7],
    message: /root device is given twice/,
  },
  {
    name: 'signature on a git source',
    yaml: `${HEAD.replace('path: /usr/src/linux-source-6.1.tar.xz', `git: https://git.kernel.org/stable/linux.git\n    ref: ${'d'.repeat(40)}`)}  signature:\n    path: /usr/src/linux-source-6.1.tar.xz\n    keyring: /usr/src/linux-source-6.1.tar.xz\n`,
    at: [8, 3],
    message: /signature can only be checked for a tarball source/,
  },
];

const extraFiles: Record<string, string> = {
  '/proj/fragments/bad.config': 'CONFIG_64BIT=y\nconfig_swap=n\n',
  '/proj/fragments/yes.config': 'CONFIG_EXT4_FS=yes\n',
};
Object.assign(FILES, extraFiles);
Object.assign(env, { fs: memfs(FILES, ['/proj/.git', '/usr/src/linux-tree']) });

describe('kernel.version and the tarball name', () => {
  it('linux-6.6 and linux-6.7-rc3 name the versions make kernelversion prints as 6.6.0 and 6.7.0-rc3', () => {
    for (const [name, version] of [
      ['linux-6.6', '6.6.0'],
      ['linux-6.7-rc3', '6.7.0-rc3'],
      ['linux-6.6', '6.6'],
      ['linux-6.1.119', '6.1.119'],
    ]) {
      const yaml = HEAD.replace('"6.1.192"', `"${version}"`).replace(
        'path: /usr/src/linux-source-6.1.tar.xz',
        `url: https://cdn.kernel.org/${name}.tar.xz\n    sha256: ${'a'.repeat(64)}`,
      );
      expect(run(yaml).errors, `${name} as ${version}`).toEqual([]);
    }
  });
});

describe('bad input: each problem reported once, at its place, with what to do', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { errors, warnings } = run(c.yaml, c.size);
    const pool: Diagnostic[] = c.severity === 'warning' ? warnings : errors;
    const found = pool.find((d) => c.message.test(d.message));
    expect(
      found,
      `no ${c.severity ?? 'error'} matching ${c.message}; got:\n${JSON.stringify([...errors, ...warnings], null, 1)}`,
    ).toBeDefined();
    const d = found as Diagnostic;
    expect([d.line, d.column], `position of "${d.message}"`).toEqual(c.at);
    expect(d.file).toBe(c.file ?? 'kernelfile.yaml');
    if (c.hint) expect(d.hint).toMatch(c.hint);
    if (c.code) expect(d.code).toBe(c.code);
    if (c.severity === 'warning') expect(errors).toEqual([]);
  });
});
