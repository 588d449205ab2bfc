/**
 * Whole hosts from the fixtures: the families of one case put back into one output (as gather
 * receives it) and parsed by parseFacts, for what needs several families at once.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../../src/facts/families.js';
import { parseFacts } from '../../../src/facts/gather.js';
import { FIXTURE_NONCE, fixtureCases, fixtureOutput, readExpected } from './fixtures.js';

function host(name: string) {
  const families = Object.keys(FAMILIES).filter((f) => fixtureCases(f).includes(name));
  const output = `${families.map((f) => fixtureOutput(f, name)).join('')}${FIXTURE_NONCE} - end\nok\n`;
  return { families, facts: parseFacts(output, FIXTURE_NONCE, `fixture:${name}`) };
}

describe('whole hosts from fixtures', () => {
  it('this machine: every family as in its own fixture', () => {
    const { families, facts } = host('debian12-container');
    expect(families).toEqual(Object.keys(FAMILIES));
    for (const f of families)
      expect((facts as unknown as Record<string, unknown>)[f], f).toEqual(
        readExpected(f, 'debian12-container'),
      );
    expect(facts.unreadable).toEqual([]);
    expect(facts.boot.loader).toBeNull();
  });

  it('Debian with GRUB: the default entry boots an installed kernel with its initramfs', () => {
    const { facts } = host('debian12-grub');
    const def = facts.boot.entries.find((e) => e.id === facts.boot.default);
    expect(def?.release).toBe('6.1.0-13-amd64');
    const k = facts.kernels.find((x) => x.release === def?.release);
    expect(k?.initramfs).toBe(def?.initrd[0]);
    expect(facts.boot.oneshot).toMatch(/>gnulinux-6\.1\.0-18-amd64-advanced-/);
    expect(facts.system.running).toBe('6.1.0-18-amd64');
  });

  it('Arch: entries naming /vmlinuz-linux boot the release that pkgbase maps it to', () => {
    const { facts } = host('arch');
    expect(facts.boot.entries.map((e) => [e.id, e.release])).toEqual([
      ['arch', '6.6.1-arch1-1'],
      ['arch-fallback', '6.6.1-arch1-1'],
    ]);
    expect(facts.kernels.map((k) => k.release)).toEqual([facts.system.running]);
  });

  it('Fedora gathered without root: what could not be read is listed, and the default is unknown', () => {
    const { facts } = host('fedora39-nonroot');
    expect(facts.unreadable).toEqual(['/boot/grub2/grub.cfg', '/boot/grub2/grubenv']);
    expect(facts.boot.loader).toBe('grubby');
    expect(facts.boot.default).toBeNull();
  });

  it('Fedora as root: grubby, saved_entry resolved to a BLS entry', () => {
    const { facts } = host('fedora39');
    const def = facts.boot.entries.find((e) => e.id === facts.boot.default);
    expect(def?.release).toBe('6.5.6-300.fc39.x86_64');
    expect(facts.kernels.find((k) => k.release === def?.release)?.modules?.build).toBe('dangling');
    expect(facts.initramfs.tool).toBe('dracut');
  });
});
