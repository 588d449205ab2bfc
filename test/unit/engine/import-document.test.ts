/**
 * `kernelfile import`, the pure part (src/engine/import-document.ts): facts → the kernelfile, its
 * config file, notes and what is left to provide. The kernelfiles it writes validate with the real
 * validator (only the placeholder checksum is warned about), read back as the expected document,
 * and resolve back to the running config. Release strings of distributions and hand builds, and
 * hostile host strings: none of them reaches the YAML as anything but a checked value, a path, or
 * an escaped comment.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  adoptedReceiptData,
  adoptFiles,
  adoptProblem,
  deriveVersion,
  importDocument,
  kernelOrgUrl,
  nameFrom,
} from '../../../src/engine/import-document.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { configValues } from '../../../src/kconfig/config.js';
import { decodeReceipt } from '../../../src/receipt/decode.js';
import { encodeAdoptedReceipt } from '../../../src/receipt/encode.js';
import { PLACEHOLDER_SHA256 } from '../../../src/spec/format.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';
import {
  addDkmsEntry,
  baseFacts,
  DEBIAN_UUID,
  installRelease,
  withDigest,
} from '../../helpers/plan-fixtures.js';

const DEBIAN_V = '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)';
const UBUNTU_V = '#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023';

describe('deriveVersion: kernel.version and kernel.localversion from the release', () => {
  it('a hand-built kernel: VERSION.PATCHLEVEL.SUBLEVEL, then CONFIG_LOCALVERSION', () => {
    expect(
      deriveVersion('6.18.44-fc-v1045', '#1 SMP PREEMPT_DYNAMIC @0', { CONFIG_LOCALVERSION: '"-fc-v1045"' }),
    ).toEqual({
      version: '6.18.44',
      localversion: '-fc-v1045',
      distro: null,
      upstream: true,
      notes: [],
      todo: [],
    });
    expect(deriveVersion('6.6.0', null, {})).toMatchObject({ version: '6.6.0', localversion: null });
    expect(deriveVersion('6.7.0-rc3-custom', null, {})).toMatchObject({
      version: '6.7.0-rc3',
      localversion: '-custom',
    });
  });

  it('Debian 6.1.0-18-amd64 is Linux 6.1.76 (uname -v), its ABI and flavour the localversion', () => {
    const v = deriveVersion('6.1.0-18-amd64', DEBIAN_V, {});
    expect(v).toMatchObject({
      version: '6.1.76',
      localversion: '-18-amd64',
      distro: 'Debian',
      upstream: true,
    });
    expect(v.notes).toContain("Debian's release 6.1.0 is built from Linux 6.1.76 (uname -v)");
    expect(v.todo.map((t) => t.what)).toEqual(["Debian's patches"]);
    // Without uname -v there is nothing to say it is Debian's: the release's own X.Y.Z.
    expect(deriveVersion('6.1.0-18-amd64', null, {})).toMatchObject({ version: '6.1.0', distro: null });
    // Debian's 6.10.x is not a 6.1 kernel.
    expect(deriveVersion('6.1.0-18-amd64', '#1 SMP Debian 6.10.3-1 (2024-08-04)', {})).toMatchObject({
      version: '6.1.0',
      distro: null,
    });
  });

  it('Ubuntu 5.15.0-91-generic: the base version only, said so (the stable release is not in the release)', () => {
    const v = deriveVersion('5.15.0-91-generic', UBUNTU_V, {});
    expect(v).toMatchObject({
      version: '5.15.0',
      localversion: '-91-generic',
      distro: 'Ubuntu',
      upstream: false,
    });
    expect(v.todo[0]?.how).toMatch(
      /names the base version \(5\.15\.0\) in the release, not the stable release/,
    );
    // The flavour alone says Ubuntu too.
    expect(deriveVersion('5.15.0-91-generic', null, {}).distro).toBe('Ubuntu');
  });

  it('Arch 6.6.7-arch1-1, Fedora and RHEL releases', () => {
    expect(
      deriveVersion('6.6.7-arch1-1', '#1 SMP PREEMPT_DYNAMIC Thu, 14 Dec 2023 03:45:42 +0000', {}),
    ).toMatchObject({
      version: '6.6.7',
      localversion: '-arch1-1',
      distro: 'Arch Linux',
      upstream: true,
    });
    expect(deriveVersion('6.5.6-300.fc39.x86_64', null, {})).toMatchObject({
      version: '6.5.6',
      localversion: '-300.fc39.x86_64',
      distro: 'Fedora',
      upstream: true,
    });
    expect(deriveVersion('5.14.0-362.8.1.el9_3.x86_64', null, {})).toMatchObject({
      version: '5.14.0',
      distro: 'RHEL',
      upstream: false,
    });
  });

  it('what the config says of the suffix: another CONFIG_LOCALVERSION, LOCALVERSION_AUTO', () => {
    const v = deriveVersion('6.6.7-custom-00001-gabcdef0', null, {
      CONFIG_LOCALVERSION: '"-custom"',
      CONFIG_LOCALVERSION_AUTO: 'y',
    });
    expect(v.localversion).toBe('-custom-00001-gabcdef0');
    expect(v.notes).toEqual([
      `the running config's CONFIG_LOCALVERSION is "-custom", not the release's "-custom-00001-gabcdef0": the rest came from make LOCALVERSION=, a localversion file or git; kernelfile sets CONFIG_LOCALVERSION to kernel.localversion`,
      'the running config has CONFIG_LOCALVERSION_AUTO=y (a git suffix in the release); kernelfile turns it off',
    ]);
  });

  it('hostile releases: the suffix is left out (said so, escaped), a release without a version is refused', () => {
    for (const [release, rest] of [
      ['6.1.0-x/../../etc', '-x/../../etc'],
      ['6.1.0\nname: pwned', '\\u000aname: pwned'],
      ['6.1.0-\u202eevil', '-\\u202eevil'],
      [`6.1.0-${'a'.repeat(40)}`, `-${'a'.repeat(40)}`],
    ] as const) {
      const v = deriveVersion(release, null, {});
      expect(v, release).toMatchObject({ version: '6.1.0', localversion: null });
      expect(v.notes[0]).toBe(
        `the rest of the release, "${rest}", cannot be a kernel.localversion (letters, digits and ._+~-, at most 32): left out`,
      );
      expect(v.todo.map((t) => t.what)).toEqual(['kernel.localversion']);
    }
    for (const release of ['evil', '../../etc', 'v6.1', '0.1.2', '6', '99999.1'])
      expect(() => deriveVersion(release, null, {}), release).toThrow(/does not start with a kernel version/);
  });
});

describe('kernelOrgUrl and nameFrom', () => {
  it("kernel.org's tarball: a first release without its .0, none for a release candidate or 2.x", () => {
    expect(kernelOrgUrl('6.18.44')).toBe('https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.18.44.tar.xz');
    expect(kernelOrgUrl('6.6.0')).toBe('https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.tar.xz');
    expect(kernelOrgUrl('5.15')).toBe('https://cdn.kernel.org/pub/linux/kernel/v5.x/linux-5.15.tar.xz');
    expect(kernelOrgUrl('6.7.0-rc3')).toBeNull();
    expect(kernelOrgUrl('2.6.32')).toBeNull();
  });

  it("the kernelfile's name from the host's: a valid name, else `imported`", () => {
    expect(nameFrom('web-1.example.org')).toBe('web-1.example.org');
    expect(nameFrom('evil\nname: pwned')).toBe('evil-name-pwned');
    expect(nameFrom('../..')).toBe('imported');
    expect(nameFrom(null)).toBe('imported');
    expect(nameFrom('x'.repeat(100))).toBe('x'.repeat(63));
  });
});

/** Validate the imported kernelfile as `kernelfile validate` would, its config file beside it. */
function validated(doc: ReturnType<typeof importDocument>, extra: Record<string, string> = {}) {
  const fs = memfs({ [`/proj/${doc.configFile}`]: doc.configText, ...extra });
  const r = validate(Buffer.from(doc.kernelfile), 'kernelfile.yaml', {
    fs,
    kernelfile: '/proj/kernelfile.yaml',
    home: '/root',
  });
  return {
    errors: r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.message}`),
    warnings: r.warnings,
  };
}

/** A Debian host running a hand-built 6.6.7-custom: /boot files, a GRUB entry, a DKMS module. */
function handBuilt(edit?: (f: Omit<HostFacts, 'digest'>) => void): HostFacts {
  const f: Omit<HostFacts, 'digest'> = structuredClone(baseFacts('debian12-grub'));
  const r = '6.6.7-custom';
  installRelease(f, {
    release: r,
    buildId: 'f'.repeat(64),
    version: '6.6.7',
    name: null,
    installedAt: '2025-01-01T00:00:00Z',
    entry: {
      title: `Debian GNU/Linux, with Linux ${r}`,
      cmdline: 'root=UUID=1234-abcd ro quiet console=ttyS0,115200',
    },
  });
  addDkmsEntry(f, { name: 'zfs', version: '2.2.2', kernel: r, state: 'installed' });
  addDkmsEntry(f, { name: 'wireguard', version: '1.0.20210606', kernel: null, state: 'added' });
  f.system = {
    ...f.system,
    running: r,
    kernelVersion: '#1 SMP PREEMPT_DYNAMIC Sat Dec 16 10:00:00 UTC 2023',
    cmdline: `BOOT_IMAGE=/boot/vmlinuz-${r} root=UUID=1234-abcd ro quiet console=ttyS0,115200`,
  };
  f.config = {
    source: '/proc/config.gz',
    options: {
      CONFIG_64BIT: 'y',
      CONFIG_LOCALVERSION: '"-custom"',
      CONFIG_MODULES: 'y',
      CONFIG_EXT4_FS: 'm',
      CONFIG_SWAP: 'n',
    },
    installed: [],
  };
  f.boot = { ...f.boot, default: `kernelfile-${r}` };
  edit?.(f);
  return withDigest(f);
}

describe('importDocument: a hand-built kernel on a Debian host', () => {
  const f = handBuilt();
  const doc = importDocument({ facts: f, hostArg: 'root@web-1' });

  it('the kernelfile: version, kernel.org URL with the placeholder, the config file, the module, initramfs, loader, entry', () => {
    expect(parse(doc.kernelfile)).toEqual({
      apiVersion: 'kernelfile/v1',
      name: 'web-1',
      kernel: {
        version: '6.6.7',
        source: {
          url: 'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.7.tar.xz',
          sha256: PLACEHOLDER_SHA256,
        },
        localversion: '-custom',
      },
      config: { base: { file: '6.6.7-custom.config' } },
      modules: [{ name: 'zfs', version: '2.2.2', installed: true }],
      initramfs: { generator: 'initramfs-tools' },
      boot: { loader: 'grub', entries: [{ cmdline: 'ro quiet console=ttyS0,115200', default: true }] },
    });
    expect(doc.kernelfile).toContain('  version: "6.6.7"\n');
    expect(doc.modules).toEqual([{ name: 'zfs', version: '2.2.2' }]);
  });

  it('validates: the one warning is the placeholder checksum', () => {
    const v = validated(doc);
    expect(v.errors).toEqual([]);
    expect(v.warnings.map((w) => w.code)).toEqual(['sha256-placeholder']);
  });

  it('the config file is the running config, option for option', () => {
    expect(configValues(doc.configText)).toEqual(f.config.options);
    expect(doc.configText.split('\n')[0]).toMatch(
      /^# The running kernel's configuration \(\/proc\/config\.gz\)/,
    );
  });

  it('says what it found and what is still to provide, at the top of the kernelfile too', () => {
    expect(doc.notes).toEqual([
      'config.base.file: 6.6.7-custom.config, the running config (/proc/config.gz)',
      'modules: zfs/2.2.2 (installed by dkms for the running kernel)',
      'dkms also knows acpi-call/1.2.2, nvidia/535.54.03, wireguard/1.0.20210606, not installed for the running kernel: not imported',
      'initramfs.generator: initramfs-tools (/boot/initrd.img-6.6.7-custom exists, made by initramfs-tools)',
      'boot.loader: grub',
      'boot.entries[0].cmdline: from the grub entry "Debian GNU/Linux, with Linux 6.6.7-custom", without BOOT_IMAGE=, initrd= and root= (the loader adds them)',
    ]);
    expect(doc.todo.map((t) => t.what)).toEqual(['kernel.source.sha256', 'patches']);
    expect(doc.todo[0]?.commands).toEqual([
      'curl -fsSLO https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.7.tar.xz -O https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.7.tar.sign',
      "xz -dc linux-6.6.7.tar.xz | gpg --verify linux-6.6.7.tar.sign -   # kernel.org's signing keys: https://www.kernel.org/signature.html",
      'sha256sum linux-6.6.7.tar.xz',
    ]);
    expect(doc.checks).toEqual([
      'kernelfile validate kernelfile.yaml',
      'kernelfile build --config-only kernelfile.yaml',
      'kernelfile plan kernelfile.yaml --host root@web-1',
    ]);
    const head = doc.kernelfile.slice(0, doc.kernelfile.indexOf('apiVersion'));
    expect(head).toContain(
      '# Written by kernelfile import from the running kernel 6.6.7-custom of root@web-1.\n',
    );
    expect(head).toContain('#       sha256sum linux-6.6.7.tar.xz\n');
    expect(head).toContain('#   - patches: the patches the running kernel was built with');
    expect(head).toContain('#   kernelfile plan kernelfile.yaml --host root@web-1\n');
    expect(doc.kernelfile).toContain('  # FILL IN the sha256 of linux-6.6.7.tar.xz');
  });

  it('--source and --name: a path source (no checksum to provide), the name given', () => {
    const d = importDocument({
      facts: f,
      hostArg: 'root@web-1',
      sourcePath: '/usr/src/linux-6.6.7',
      name: 'edge',
    });
    expect(parse(d.kernelfile)).toMatchObject({
      name: 'edge',
      kernel: { source: { path: '/usr/src/linux-6.6.7' } },
    });
    expect(d.todo.map((t) => t.what)).toEqual(['patches']);
    const v = validated(d, { '/usr/src/linux-6.6.7/Makefile': '', '/usr/src/linux-6.6.7/Kconfig': '' });
    expect(v).toEqual({ errors: [], warnings: [] });
    expect(() => importDocument({ facts: f, hostArg: 'h', name: '../x' })).toThrow(
      /--name "\.\.\/x" is not a kernelfile name/,
    );
  });
});

describe('importDocument: the fixture distributions', () => {
  it.each([
    ['debian12-grub', '6.1.76', '-18-amd64', 'grub', 'initramfs-tools', 'ro quiet'],
    ['fedora39', '6.5.6', '-300.fc39.x86_64', 'grubby', 'dracut', 'ro rootflags=subvol=root rhgb quiet'],
    ['arch', '6.6.1', '-arch1-1', 'systemd-boot', 'mkinitcpio', 'rw'],
  ] as const)(
    '%s: %s%s, loader %s, %s, cmdline %s',
    (kind, version, localversion, loader, generator, cmdline) => {
      const doc = importDocument({ facts: baseFacts(kind), hostArg: 'h' });
      expect(parse(doc.kernelfile)).toMatchObject({
        kernel: { version, localversion },
        initramfs: { generator },
        boot: { loader, entries: [{ cmdline, default: true }] },
      });
      expect(validated(doc).errors).toEqual([]);
      expect(doc.todo[0]?.what).toMatch(/'s patches$/);
    },
  );

  it('the Debian host: its DKMS modules for the running kernel, the entry the loader boots by default', () => {
    const doc = importDocument({ facts: baseFacts('debian12-grub'), hostArg: 'h' });
    expect(doc.modules).toEqual([
      { name: 'nvidia', version: '535.54.03' },
      { name: 'zfs', version: '2.1.11' },
    ]);
  });
});

describe('importDocument: hostile host strings', () => {
  const hostile = handBuilt((f) => {
    f.system = {
      ...f.system,
      hostname: 'evil\nname: pwned',
      running: '6.6.7-x/../../etc',
      cmdline: "root=/dev/sda1 ro 'quoted' \u001b[31m",
    };
    f.kernels = f.kernels.map((k) =>
      k.release === '6.6.7-custom' ? { ...k, release: '6.6.7-x/../../etc' } : k,
    );
    f.boot = {
      ...f.boot,
      entries: f.boot.entries.map((e) =>
        e.release === '6.6.7-custom'
          ? { ...e, release: '6.6.7-x/../../etc', options: 'ro quiet\u202e evil="x' }
          : e,
      ),
    };
    f.dkms = {
      ...f.dkms,
      modules: [
        {
          name: '../../x',
          version: '1',
          kernel: '6.6.7-x/../../etc',
          arch: 'x86_64',
          state: 'installed',
          rawState: null,
          note: null,
        },
        {
          name: 'ok',
          version: '1.0\nname: pwned',
          kernel: '6.6.7-x/../../etc',
          arch: 'x86_64',
          state: 'installed',
          rawState: null,
          note: null,
        },
        {
          name: 'fine',
          version: '1.0',
          kernel: '6.6.7-x/../../etc',
          arch: 'x86_64',
          state: 'installed',
          rawState: null,
          note: null,
        },
      ],
    };
  });
  const doc = importDocument({ facts: hostile, hostArg: 'root@web-1' });
  const data = parse(doc.kernelfile) as Record<string, unknown>;

  it('no host string becomes a key, a path or a raw line', () => {
    expect(Object.keys(data)).toEqual([
      'apiVersion',
      'name',
      'kernel',
      'config',
      'modules',
      'initramfs',
      'boot',
    ]);
    expect(data.name).toBe('evil-name-pwned');
    expect(doc.configFile).toBe('running.config');
    expect(data.config).toEqual({ base: { file: 'running.config' } });
    expect(data.kernel).toMatchObject({ version: '6.6.7' });
    expect((data.kernel as Record<string, unknown>).localversion).toBeUndefined();
    expect(data.modules).toEqual([{ name: 'fine', version: '1.0', installed: true }]);
    // The entry's command line has a bidirectional control and an unclosed quote: left out.
    expect(data.boot).toEqual({ loader: 'grub', entries: [{ default: true }] });
    // Every line is printable ASCII: comments carry escapes, not the characters.
    expect(doc.kernelfile).toMatch(/^[\x20-\x7e\n]*$/);
    expect(doc.kernelfile).toContain(
      '# Written by kernelfile import from the running kernel 6.6.7-x/../../etc of root@web-1.',
    );
    expect(validated(doc).errors).toEqual([]);
  });

  it('says what it left out, escaped', () => {
    expect(doc.notes).toContain(
      'the rest of the release, "-x/../../etc", cannot be a kernel.localversion (letters, digits and ._+~-, at most 32): left out',
    );
    expect(doc.notes).toContain(
      'dkms lists ../../x/1, which is not a module name and version a kernelfile accepts: left out',
    );
    expect(doc.notes).toContain(
      'dkms lists ok/1.0\\u000aname: pwned, which is not a module name and version a kernelfile accepts: left out',
    );
    expect(doc.notes.join('\n')).toMatch(/has characters outside printable ASCII: left out/);
  });

  it('a command line the loaders cannot pass as written is left out, with the reason', () => {
    const f = handBuilt((x) => {
      x.boot = { ...x.boot, entries: x.boot.entries.filter((e) => e.release !== '6.6.7-custom') };
      x.system = { ...x.system, cmdline: "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro init='/bin/sh'" };
    });
    const d = importDocument({ facts: f, hostArg: 'h' });
    expect(parse(d.kernelfile)).toMatchObject({ boot: { entries: [{ default: true }] } });
    expect(d.notes.join('\n')).toContain(
      'the command line from /proc/cmdline: the kernel command line contains a single quote',
    );
  });

  it('a host without a boot loader: loader none and no entry (validate refuses entries without a loader)', () => {
    const f = handBuilt((x) => {
      x.boot = { ...x.boot, loader: null, entries: [], default: null, grub: null };
    });
    const d = importDocument({ facts: f, hostArg: 'h' });
    expect(parse(d.kernelfile)).toMatchObject({ boot: { loader: 'none' } });
    expect((parse(d.kernelfile) as { boot: object }).boot).toEqual({ loader: 'none' });
    expect(d.todo.map((t) => t.what)).toContain('boot.loader');
    expect(validated(d).errors).toEqual([]);
  });

  it('a host without a running kernel or config is refused', () => {
    const image = handBuilt((x) => {
      x.system = { ...x.system, running: null };
    });
    expect(() => importDocument({ facts: image, hostArg: 'h' })).toThrow(/reports no running kernel/);
    const noConfig = handBuilt((x) => {
      x.config = { source: null, options: {} };
    });
    expect(() => importDocument({ facts: noConfig, hostArg: 'h' })).toThrow(
      /the configuration of the running kernel cannot be read/,
    );
  });
});

describe('--adopt: the receipt of the running kernel', () => {
  const f = handBuilt();
  const doc = importDocument({ facts: f, hostArg: 'h' });
  const kf = { path: 'kernelfile.yaml', sha256: 'a'.repeat(64) };

  it('lists its /boot files, its modules and the loader entries that boot it; reads back as adopted', () => {
    expect(adoptProblem(f, doc)).toBeNull();
    expect(adoptFiles(f, doc.release)).toEqual([
      '/boot/System.map-6.6.7-custom',
      '/boot/config-6.6.7-custom',
      '/boot/vmlinuz-6.6.7-custom',
    ]);
    const data = adoptedReceiptData(f, doc, kf);
    expect(data).toEqual({
      name: 'web-1',
      kernelfile: kf,
      release: '6.6.7-custom',
      version: '6.6.7',
      arch: 'x86_64',
      modules: [{ name: 'zfs', version: '2.2.2' }],
      initramfs: '/boot/initrd.img-6.6.7-custom',
      initramfsModules: [],
      // Every entry of GRUB's menu that boots it: Debian's own (update-grub lists the newest
      // kernel first and in the submenu) and the one the test wrote.
      entries: [
        `gnulinux-simple-${DEBIAN_UUID}`,
        `gnulinux-advanced-${DEBIAN_UUID}>gnulinux-6.6.7-custom-advanced-${DEBIAN_UUID}`,
        `gnulinux-advanced-${DEBIAN_UUID}>gnulinux-6.6.7-custom-recovery-${DEBIAN_UUID}`,
        'kernelfile-6.6.7-custom',
      ],
      loader: null,
    });
    const files = [{ path: '/boot/vmlinuz-6.6.7-custom', sha256: 'c'.repeat(64), size: 1 }];
    const back = decodeReceipt(encodeAdoptedReceipt(data, files, 'now', 'h'), '6.6.7-custom.json');
    expect(back).toMatchObject({
      ok: true,
      value: { adopted: true, buildId: null, release: '6.6.7-custom' },
    });
  });

  it('entry ids the receipt could not hold (a title path with a `/`) are left out', () => {
    const g = handBuilt((x) => {
      x.boot = {
        ...x.boot,
        entries: x.boot.entries.map((e) =>
          e.release === '6.6.7-custom'
            ? { ...e, id: 'Advanced options for Debian GNU/Linux>6.6.7-custom' }
            : e,
        ),
      };
    });
    expect(adoptedReceiptData(g, doc, kf).entries).toEqual([]);
  });

  it('refused: already a receipt, an unreadable one, an apply under way, no /boot image, a release that is no name', () => {
    const withReceipt = handBuilt((x) => {
      installRelease(x, {
        release: '6.6.7-custom',
        buildId: 'f'.repeat(64),
        version: '6.6.7',
        name: 'web',
        installedAt: '2025-01-01T00:00:00Z',
      });
    });
    expect(adoptProblem(withReceipt, doc)).toBe(
      '6.6.7-custom was installed by kernelfile (the kernelfile web): it has a receipt',
    );
    const unreadable = handBuilt((x) => {
      x.receipts = {
        ...x.receipts,
        errors: [{ file: '/var/lib/kernelfile/6.6.7-custom.json', error: 'not JSON' }],
      };
    });
    expect(adoptProblem(unreadable, doc)).toMatch(/has a receipt that does not read/);
    const pending = handBuilt((x) => {
      x.receipts = {
        ...x.receipts,
        pending: [
          {
            file: '/var/lib/kernelfile/pending/6.6.7-custom.json',
            release: '6.6.7-custom',
            data: {
              release: '6.6.7-custom',
              buildId: 'f'.repeat(64),
              name: 'web',
              startedAt: 't',
              host: 'h',
            },
            drift: null,
          },
        ],
      };
    });
    expect(adoptProblem(pending, doc)).toBe('an apply of 6.6.7-custom has not finished on this host');
    const noImage = handBuilt((x) => {
      x.kernels = x.kernels.filter((k) => k.release !== '6.6.7-custom');
    });
    expect(adoptProblem(noImage, doc)).toMatch(/has no image in \/boot/);
    expect(adoptProblem(f, { release: '6.6.7-x/../../etc' })).toBe(
      'the running release "6.6.7-x/../../etc" is not a plain name, and a receipt is named after it',
    );
  });
});
