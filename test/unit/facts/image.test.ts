/**
 * Facts of a root filesystem directory (an image): it runs no kernel, so what uname and /proc say
 * there are the controller's. The script asks for neither; the parsers report no running kernel,
 * no command line, the image's own /etc/hostname, and the config of the newest kernel kernelfile
 * installed in the image (issue 12, defect 8).
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../../src/facts/families.js';
import { factsScript } from '../../../src/facts/gather.js';

const NONCE = 'kfimagetest0000';

describe('the facts script for an image', () => {
  it('sets kf_image, and only for an image', () => {
    expect(factsScript(NONCE, { image: true })).toMatch(/^kf_image=1$/m);
    expect(factsScript(NONCE)).not.toMatch(/^kf_image=/m);
  });

  it('system and config read uname, /proc/cmdline and /proc/config.gz only when not an image', () => {
    for (const family of [FAMILIES.system, FAMILIES.config]) {
      const [imageBranch] = family.script.split(/^else$|^fi$|^kf_run release/m);
      expect(imageBranch).not.toMatch(/uname -[rnv]|\/proc\/cmdline|\/proc\/config/);
    }
  });
});

describe('system facts of an image', () => {
  const sections = {
    arch: 'x86_64',
    'arch#rc': '0',
    image: '1',
    'etc-hostname': 'builder-image\n',
    'os-release': 'ID=debian\nVERSION_ID="12"\n',
    'machine-id': 'abc',
    uid: '0',
    'uid#rc': '0',
  };

  it('no running kernel, no command line, the hostname from /etc/hostname', () => {
    const s = FAMILIES.system.parse(sections);
    expect(s).toMatchObject({
      arch: 'x86_64',
      running: null,
      kernelVersion: null,
      cmdline: null,
      hostname: 'builder-image',
      uid: 0,
    });
    expect(s.distro.id).toBe('debian');
  });

  it('ignores uname and /proc output even if a hostile image printed them', () => {
    const s = FAMILIES.system.parse({
      ...sections,
      release: '6.1.0-controller',
      'release#rc': '0',
      hostname: 'controller',
      'hostname#rc': '0',
      cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1',
    });
    expect([s.running, s.hostname, s.cmdline]).toEqual([null, 'builder-image', null]);
  });

  it('a /etc/hostname that is not a hostname is no hostname', () => {
    expect(
      FAMILIES.system.parse({ ...sections, 'etc-hostname': '-----BEGIN OPENSSH PRIVATE KEY-----\n' })
        .hostname,
    ).toBe(null);
    expect(
      FAMILIES.system.parse({ ...sections, 'etc-hostname': undefined as unknown as string }).hostname,
    ).toBe(null);
  });
});

describe('config facts of an image', () => {
  it('the config of the newest kernel kernelfile installed, not /proc/config.gz', () => {
    const c = FAMILIES.config.parse({
      'image-release': '6.1.192-kf0123abcd',
      boot: 'CONFIG_64BIT=y\n# CONFIG_SWAP is not set\n',
      proc: 'CONFIG_CONTROLLER=y\n',
      'proc#rc': '0',
      'same:6.1.192-kf0123abcd': 'running',
    });
    expect(c).toEqual({
      source: '/boot/config-6.1.192-kf0123abcd',
      options: { CONFIG_64BIT: 'y', CONFIG_SWAP: 'n' },
      // the same file, read once: the installed build's config is the image's config
      installed: [
        {
          release: '6.1.192-kf0123abcd',
          path: '/boot/config-6.1.192-kf0123abcd',
          options: { CONFIG_64BIT: 'y', CONFIG_SWAP: 'n' },
          error: null,
        },
      ],
    });
  });

  it('none when kernelfile installed nothing there, or the release is not a release', () => {
    expect(FAMILIES.config.parse({ 'image-release': '6.1.192-kf0123abcd' })).toEqual({
      source: null,
      options: {},
      installed: [],
    });
    expect(FAMILIES.config.parse({ 'image-release': '../../etc/x', boot: 'CONFIG_A=y\n' })).toEqual({
      source: null,
      options: {},
      installed: [],
    });
  });
});
