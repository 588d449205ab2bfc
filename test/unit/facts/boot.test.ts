/** Boot facts: GRUB's ways of naming an entry, the loader decision, systemd-boot's default. */
import { describe, expect, it } from 'vitest';
import { decodeEfiString, globMatch } from '../../../src/facts/bls.js';
import { boot } from '../../../src/facts/boot.js';
import { parseGrubCfg, parseGrubenv } from '../../../src/facts/grub-cfg.js';
import { buildMenu, effectiveDefault, findEntry } from '../../../src/facts/grub-menu.js';
import type { Sections } from '../../../src/facts/protocol.js';
import { fixtureSections } from './fixtures.js';

const U = '8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71';
const ADV = `gnulinux-advanced-${U}`;
const OLD = `gnulinux-6.1.0-13-amd64-advanced-${U}`;
const debian = fixtureSections('boot', 'debian12-grub');
const menu = buildMenu(
  parseGrubCfg(debian['grub.cfg:/boot/grub/grub.cfg'] ?? '').items,
  '/boot/grub/grub.cfg',
  [],
);

describe('GRUB entry addresses (Debian 12 grub.cfg)', () => {
  it.each([
    ['a submenu>entry id path', `${ADV}>${OLD}`],
    ['positions', '1>2'],
    ['titles', 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-13-amd64'],
    ['an id then a title', `${ADV}>Debian GNU/Linux, with Linux 6.1.0-13-amd64`],
  ])('finds the entry by %s', (_, value) => {
    expect(findEntry(menu, value)?.id).toBe(`${ADV}>${OLD}`);
    expect(findEntry(menu, value)?.release).toBe('6.1.0-13-amd64');
  });

  it('finds top-level entries by position, id and title', () => {
    for (const v of ['0', `gnulinux-simple-${U}`, 'Debian GNU/Linux'])
      expect(findEntry(menu, v)?.id).toBe(`gnulinux-simple-${U}`);
  });

  it('does not find a nested entry without its submenu, as GRUB does not; GRUB then boots entry 0', () => {
    expect(findEntry(menu, OLD)).toBeNull();
    expect(findEntry(menu, '1')).toBeNull(); // a submenu is not an entry
    expect(findEntry(menu, '7')).toBeNull();
    expect(effectiveDefault(menu, OLD)?.id).toBe(`gnulinux-simple-${U}`);
  });

  it('numbers entries as GRUB does', () => {
    expect(
      menu.flatMap((n) =>
        n.kind === 'entry' ? [n.entry.index] : n.items.map((i) => i.kind === 'entry' && i.entry.index),
      ),
    ).toEqual(['0', '1>0', '1>1', '1>2', '1>3']);
  });

  it('reads the header default, not the next_entry branch nor later conditional overrides', () => {
    const cfg = parseGrubCfg(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: GRUB script
      'if [ "${next_entry}" ] ; then\n   set default="${next_entry}"\nelse\n   set default="2"\nfi\nif [ x = y ]; then\n  set default=1\nfi\nfunction f {\n  set default=5\n}\n',
    );
    expect(cfg.default).toBe('2');
  });

  it('reads --id and --id= forms and skips option arguments', () => {
    const cfg = parseGrubCfg(
      "menuentry 'A' --class os --users alice --id=first {\n  linux /vmlinuz-1.0 ro\n}\nmenuentry \"B 'quoted'\" --unrestricted --id second {\n  linux16 /vmlinuz-2.0\n  initrd16 /ucode.img /initrd-2.0\n}\nmenuentry 'C' {\n}\n",
    );
    expect(cfg.items).toEqual([
      { kind: 'entry', title: 'A', id: 'first', kernel: '/vmlinuz-1.0', initrd: [], options: 'ro' },
      {
        kind: 'entry',
        title: "B 'quoted'",
        id: 'second',
        kernel: '/vmlinuz-2.0',
        initrd: ['/ucode.img', '/initrd-2.0'],
        options: null,
      },
      { kind: 'entry', title: 'C', id: null, kernel: null, initrd: [], options: null },
    ]);
  });

  it('reads grubenv, escapes included, padding ignored', () => {
    expect(parseGrubenv('# GRUB Environment Block\nsaved_entry=a\\\\b\nx=1\\n2\n######')).toEqual({
      saved_entry: 'a\\b',
      x: '1\n2',
    });
  });
});

const tool = (name: string, path = `/usr/sbin/${name}`) => ({ [`tool:${name}`]: path });
const parse = (s: Sections) => boot.parse(s);

describe('loader decision', () => {
  it('GRUB without BLS stays grub even with grubby installed (Debian has a grubby package)', () => {
    expect(parse({ ...debian, ...tool('grubby') }).loader).toBe('grub');
  });

  it('GRUB reading BLS entries with grubby is grubby; without grubby it is grub', () => {
    const fedora = fixtureSections('boot', 'fedora39');
    expect(parse(fedora).loader).toBe('grubby');
    const { 'tool:grubby': _, ...noGrubby } = fedora;
    expect(parse(noGrubby).loader).toBe('grub');
    expect(parse(noGrubby).default).toBe(parse(fedora).default);
    const nonroot = fixtureSections('boot', 'fedora39-nonroot');
    const { 'tool:grubby': __, ...nonrootNoGrubby } = nonroot;
    expect(parse(nonrootNoGrubby)).toMatchObject({ loader: 'grub', default: null });
    expect(parse(nonrootNoGrubby).entries).toEqual(parse(nonroot).entries); // BLS entries, cfg unreadable
  });

  it('BLS entries and bootctl without loader.conf are systemd-boot; its first entry is the default', () => {
    const s: Sections = {
      'entry:/efi/loader/entries/b-6.1.conf': 'title B\nversion 6.1\nlinux /b/linux\n',
      'entry:/efi/loader/entries/b-6.6.conf': 'title B\nversion 6.6\nlinux /b/linux\n',
      ...tool('bootctl', '/usr/bin/bootctl'),
    };
    const f = parse(s);
    expect(f.loader).toBe('systemd-boot');
    expect(f.entries.map((e) => e.id)).toEqual(['b-6.6', 'b-6.1']);
    expect(f.default).toBe('b-6.6');
  });

  it('only grub-mkconfig installed (no grub.cfg yet): grub, no entries, no default', () => {
    const f = parse(tool('grub-mkconfig'));
    expect(f).toMatchObject({ loader: 'grub', entries: [], default: null, oneshot: null });
    expect(f.grub?.cfg).toBeNull();
  });

  it('nothing at all: no loader, empty values', () => {
    expect(parse({})).toMatchObject({
      loader: null,
      entries: [],
      default: null,
      grub: null,
      systemdBoot: null,
    });
  });
});

describe('systemd-boot default', () => {
  const arch = fixtureSections('boot', 'arch');
  const efivar = (s: string) => {
    const bytes = [7, 0, 0, 0, ...[...s].flatMap((c) => [c.charCodeAt(0), 0]), 0, 0];
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  };

  it('loader.conf default names the entry with its .conf; LoaderEntryDefault overrides it', () => {
    expect(parse(arch).default).toBe('arch');
    expect(parse({ ...arch, 'efivar:LoaderEntryDefault': efivar('arch-fallback.conf') }).default).toBe(
      'arch-fallback',
    );
  });

  it('a glob picks the first match in menu order; "@saved" and no match fall back to the first entry', () => {
    const conf = (d: string) => ({ ...arch, 'loader.conf:/boot/loader/loader.conf': `default ${d}\n` });
    expect(parse(conf('arch*')).default).toBe('arch');
    expect(parse(conf('*fallback*')).default).toBe('arch-fallback');
    expect(parse(conf('@saved')).default).toBe('arch');
    expect(parse(conf('nothing-*')).default).toBe('arch');
  });

  it('decodes EFI variables and globs like fnmatch', () => {
    expect(decodeEfiString(efivar('arch.conf'))).toBe('arch.conf');
    expect(decodeEfiString('07 00 00 00')).toBeNull();
    expect(globMatch('fedora-[0-9]*.conf', 'fedora-6.5.conf')).toBe(true);
    expect(globMatch('fedora-[!0-9]*', 'fedora-6.5')).toBe(false);
    expect(globMatch('a?c.conf', 'abc.conf')).toBe(true);
    expect(globMatch('a.conf', 'abconf')).toBe(false);
  });

  it('counts an entry seen under two mount points once', () => {
    const twice = {
      ...arch,
      'entry:/efi/loader/entries/arch.conf': arch['entry:/boot/loader/entries/arch.conf'] ?? '',
    };
    expect(parse(twice).entries.map((e) => e.file)).toEqual([
      '/boot/loader/entries/arch.conf',
      '/boot/loader/entries/arch-fallback.conf',
    ]);
  });
});

describe('grub-probe', () => {
  const probe = (rc: number, out: string, stderr?: string): Sections => ({
    probe: out,
    'probe#rc': String(rc),
    ...(stderr === undefined ? {} : { 'probe#stderr': stderr }),
  });
  const grub = { ...tool('grub-mkconfig'), ...tool('grub-probe') };

  it('ok: the device of /', () => {
    expect(parse({ ...grub, ...probe(0, '/dev/vda1\n') }).grub?.probe).toEqual({
      ok: true,
      device: '/dev/vda1',
      error: null,
    });
  });

  it('failed (a container, a chroot): the first line of its stderr', () => {
    const f = parse({
      ...grub,
      ...probe(1, '', "/usr/sbin/grub-probe: error: failed to get canonical path of `overlay'.\nmore"),
    });
    expect(f.grub?.probe).toEqual({
      ok: false,
      device: null,
      error: "/usr/sbin/grub-probe: error: failed to get canonical path of `overlay'.",
    });
    expect(f.tools['grub-probe']).toBe('/usr/sbin/grub-probe');
  });

  it('failed without a word, or exited 0 without a device: says so', () => {
    expect(parse({ ...grub, ...probe(1, '') }).grub?.probe).toEqual({
      ok: false,
      device: null,
      error: 'exit status 1',
    });
    expect(parse({ ...grub, ...probe(0, '') }).grub?.probe?.error).toBe('printed no device');
  });

  it('null when no probe ran; no GRUB facts at all when GRUB is absent', () => {
    expect(parse(grub).grub?.probe).toBeNull();
    expect(parse({ ...tool('grub-probe'), ...probe(0, '/dev/vda1\n') }).grub).toBeNull();
  });

  it('real runs: /dev/vda on this machine, the overlay error chrooted into an overlay of /', () => {
    expect(parse(fixtureSections('boot', 'debian12-grub-common-real')).grub?.probe).toEqual({
      ok: true,
      device: '/dev/vda',
      error: null,
    });
    expect(parse(fixtureSections('boot', 'debian12-overlay-chroot-real')).grub?.probe).toMatchObject({
      ok: false,
      error: expect.stringContaining('failed to get canonical path of `overlay'),
    });
  });
});
