/** Line-level parsers: dkms status, /boot names, sh words, version order, df. */
import { describe, expect, it } from 'vitest';
import { classifyBootFile } from '../../../src/facts/boot-files.js';
import { DKMS_CONF_MAX_BYTES, dkms } from '../../../src/facts/dkms.js';
import { parseStatusLine } from '../../../src/facts/dkms-status.js';
import { kernels, parseSizes } from '../../../src/facts/kernels.js';
import { parseAssignments, shellWords } from '../../../src/facts/shell-words.js';
import { parseDf } from '../../../src/facts/space.js';
import { compareVersions } from '../../../src/facts/version.js';

describe('dkms status lines', () => {
  it.each([
    [
      'zfs/2.1.11, 6.1.0-13-amd64, x86_64: installed',
      ['zfs', '2.1.11', '6.1.0-13-amd64', 'x86_64', 'installed', null],
    ],
    ['acpi-call/1.2.2: added', ['acpi-call', '1.2.2', null, null, 'added', null]],
    [
      'nvidia/535.54.03, 6.1.0-18-amd64, x86_64: installed (WARNING! Diff between built and installed module!)',
      [
        'nvidia',
        '535.54.03',
        '6.1.0-18-amd64',
        'x86_64',
        'installed',
        '(WARNING! Diff between built and installed module!)',
      ],
    ],
    [
      'virtualbox, 6.1.26, 5.4.0-90-generic, x86_64: installed (Original modules exist)',
      ['virtualbox', '6.1.26', '5.4.0-90-generic', 'x86_64', 'installed', '(Original modules exist)'],
    ],
    ['zfs, 0.8.3: added', ['zfs', '0.8.3', null, null, 'added', null]],
    [
      'bcmwl, 6.30.223.248+bdcom, 3.13.0-24-generic: built',
      ['bcmwl', '6.30.223.248+bdcom', '3.13.0-24-generic', null, 'built', null],
    ],
    [
      'zfs, 0.8.3, 5.4.0-91-generic, x86_64: installed-weak from 5.4.0-90-generic',
      ['zfs', '0.8.3', '5.4.0-91-generic', 'x86_64', 'installed-weak', 'from 5.4.0-90-generic'],
    ],
  ])('%s', (line, [name, version, kernel, arch, state, note]) => {
    expect(parseStatusLine(line)).toEqual({ name, version, kernel, arch, state, rawState: null, note });
  });

  it('keeps an unknown state word, and skips lines of other shapes', () => {
    expect(parseStatusLine('foo/1.0, 6.1.0-1-amd64, x86_64: mangled')).toMatchObject({
      state: 'unknown',
      rawState: 'mangled',
    });
    for (const junk of [
      '',
      'Error! Could not locate dkms.conf file.',
      'File:  does not exist.',
      'Warning: x',
      'a: b',
    ])
      expect(parseStatusLine(junk), junk).toBeNull();
  });
});

describe('/boot names', () => {
  it.each([
    ['vmlinuz-6.1.0-18-amd64', 'image', '6.1.0-18-amd64'],
    ['initrd.img-6.1.0-18-amd64', 'initramfs', '6.1.0-18-amd64'],
    ['initramfs-6.5.6-300.fc39.x86_64.img', 'initramfs', '6.5.6-300.fc39.x86_64'],
    ['initramfs-linux-fallback.img', 'initramfs', 'linux-fallback'],
    ['System.map-6.1.0-18-amd64', 'systemMap', '6.1.0-18-amd64'],
    ['config-6.1.0-18-amd64', 'config', '6.1.0-18-amd64'],
  ])('%s is %s of %s', (name, kind, stem) => {
    expect(classifyBootFile(name)).toEqual({ kind, stem, name });
  });

  it.each([
    'initrd.img-6.1.0-13-amd64.old-dkms',
    'config-6.1.0-13-amd64.dpkg-bak',
    'vmlinuz.old',
    'vmlinuz',
    'intel-ucode.img',
    'symvers-6.5.6-300.fc39.x86_64.xz',
  ])('%s is not a kernel file', (name) => {
    expect(classifyBootFile(name)).toBeNull();
  });

  it('maps Arch images of two packages, and a RHEL kdump image, to their releases', () => {
    const ls = (names: string[]) => `${names.map((n) => `f ${n}`).join('\n')}\n`;
    const ks = kernels.parse({
      boot: ls([
        'initramfs-5.14.0-362.el9.x86_64.img',
        'initramfs-5.14.0-362.el9.x86_64kdump.img',
        'initramfs-linux-lts.img',
        'initramfs-linux.img',
        'vmlinuz-5.14.0-362.el9.x86_64',
        'vmlinuz-linux',
        'vmlinuz-linux-lts',
      ]),
      'modules/6.6.1-arch1-1': ls(['modules.dep', 'pkgbase', 'vmlinuz']),
      'pkgbase/6.6.1-arch1-1': 'linux\n',
      'modules/6.1.62-1-lts': ls(['modules.dep', 'pkgbase', 'vmlinuz']),
      'pkgbase/6.1.62-1-lts': 'linux-lts\n',
    });
    expect(ks.map((k) => [k.release, k.pkgbase, k.image, k.initramfs, k.initramfsExtra])).toEqual([
      [
        '5.14.0-362.el9.x86_64',
        null,
        '/boot/vmlinuz-5.14.0-362.el9.x86_64',
        '/boot/initramfs-5.14.0-362.el9.x86_64.img',
        ['/boot/initramfs-5.14.0-362.el9.x86_64kdump.img'],
      ],
      ['6.1.62-1-lts', 'linux-lts', '/boot/vmlinuz-linux-lts', '/boot/initramfs-linux-lts.img', []],
      ['6.6.1-arch1-1', 'linux', '/boot/vmlinuz-linux', '/boot/initramfs-linux.img', []],
    ]);
  });
});

describe('/boot sizes', () => {
  const ls = (names: string[]) => `${names.map((n) => `f ${n}`).join('\n')}\n`;
  const boot = ls([
    'config-6.1.0-18-amd64',
    'initrd.img-6.1.0-18-amd64',
    'vmlinuz-6.1.0-18-amd64',
    'vmlinuz-7.0',
  ]);
  const modules = { 'modules/6.2.0': ls(['modules.dep']) };

  it("adds up each release's files; a release with no /boot file has none", () => {
    const ks = kernels.parse({
      boot,
      ...modules,
      sizes:
        '256000 /boot/config-6.1.0-18-amd64\n36000000 /boot/initrd.img-6.1.0-18-amd64\n8000000 /boot/vmlinuz-6.1.0-18-amd64\n1 /boot/vmlinuz-7.0\n',
      'sizes#rc': '0',
    });
    expect(ks.map((k) => [k.release, k.bootBytes])).toEqual([
      ['6.1.0-18-amd64', 44256000],
      ['6.2.0', null],
      ['7.0', 1],
    ]);
  });

  it('unknown when a file has no size (stat missing, or the file went away meanwhile)', () => {
    const ks = kernels.parse({ boot, sizes: '8000000 /boot/vmlinuz-6.1.0-18-amd64\n', 'sizes#rc': '1' });
    expect(ks.map((k) => k.bootBytes)).toEqual([null, null]);
    expect(kernels.parse({ boot }).map((k) => k.bootBytes)).toEqual([null, null]);
  });

  it('reads names with spaces and ignores lines of other shapes', () => {
    expect(parseSizes('12 /boot/a b\nstat: cannot stat x\n3 /tmp/r/boot/c\n\n')).toEqual(
      new Map([
        ['a b', 12],
        ['c', 3],
      ]),
    );
  });
});

describe('dkms.conf', () => {
  it('is kept as read, up to 64 KiB; a larger one is not kept but still named', () => {
    const conf = 'PACKAGE_NAME="r8125"\nPACKAGE_VERSION="9.011.00"\nBUILD_EXCLUSIVE_KERNEL="^6\\."\n';
    const big = `${conf}#${'x'.repeat(DKMS_CONF_MAX_BYTES)}\n`;
    const f = dkms.parse({ 'src/r8125-9.011.00': conf, 'src/big-1.0': big });
    expect(f.sources).toEqual([
      { dir: '/usr/src/big-1.0', name: 'r8125', version: '9.011.00', conf: null },
      { dir: '/usr/src/r8125-9.011.00', name: 'r8125', version: '9.011.00', conf },
    ]);
  });
});

describe('sh words', () => {
  it.each([
    [`GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"`, ['GRUB_CMDLINE_LINUX_DEFAULT=quiet splash']],
    [`menuentry 'It'\\''s here' --id x {`, ['menuentry', "It's here", '--id', 'x', '{']],
    [`a "b \\"c\\" \\$d" \\e # comment`, ['a', 'b "c" $d', 'e']],
    [
      'x=`lsb_release -i -s 2> /dev/null || echo Debian`',
      ['x=`lsb_release -i -s 2> /dev/null || echo Debian`'],
    ],
    [
      `x="$(sed 's, release .*$,,g' /etc/system-release)"`,
      [`x=$(sed 's, release .*$,,g' /etc/system-release)`],
    ],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GRUB script
    ['set default="${saved_entry}"', ['set', 'default=${saved_entry}']],
    ['a#b', ['a#b']],
  ])('%s', (line, words) => {
    expect(shellWords(line)).toEqual(words);
  });

  it('reads assignments, later ones winning; ignores other lines', () => {
    expect(parseAssignments('# c\nexport A="1"\nB=2 # note\nA=3\nif true; then\nC=\n')).toEqual({
      A: '3',
      B: '2',
      C: '',
    });
  });
});

describe('version order', () => {
  it('follows the UAPI version format examples', () => {
    const order = [
      '122.1',
      '123~rc1-1',
      '123',
      '123-a',
      '123-a.1',
      '123-1',
      '123-1.1',
      '123^post1',
      '123.a-1',
      '123.1-1',
      '123a-1',
      '124-1',
    ];
    for (let i = 0; i < order.length; i++)
      for (let j = 0; j < order.length; j++)
        expect(
          Math.sign(compareVersions(order[i] as string, order[j] as string)),
          `${order[i]} vs ${order[j]}`,
        ).toBe(Math.sign(i - j));
  });

  it('orders kernel releases', () => {
    const rels = ['6.1.0-18-amd64', '5.10.0-9-amd64', '6.1.0-13-amd64', '6.1.0-9-amd64', '6.10.1-arch1-1'];
    expect(rels.sort(compareVersions)).toEqual([
      '5.10.0-9-amd64',
      '6.1.0-9-amd64',
      '6.1.0-13-amd64',
      '6.1.0-18-amd64',
      '6.10.1-arch1-1',
    ]);
  });
});

describe('df -P', () => {
  it('reads a row whose filesystem and mount point hold spaces, and no row at all', () => {
    expect(
      parseDf(
        'Filesystem 1024-blocks Used Available Capacity Mounted on\nmy fs  10 4 6 40% /mnt/a b\n',
        '/boot',
      ),
    ).toEqual({
      path: '/boot',
      filesystem: 'my fs',
      mountPoint: '/mnt/a b',
      totalBytes: 10240,
      usedBytes: 4096,
      freeBytes: 6144,
    });
    expect(parseDf('', '/boot')).toBeNull();
    expect(parseDf(undefined, '/boot')).toBeNull();
  });
});
