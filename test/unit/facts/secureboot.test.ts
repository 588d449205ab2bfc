/** The secureboot family's parsers, on the output forms of mokutil's source (src/mokutil.c, efi_x509.c). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  certificateSha1,
  efiByte,
  normaliseSha1,
  parseDkmsSigning,
  parseMokList,
  parseSbState,
  secureboot,
} from '../../../src/facts/secureboot.js';

const FP = '76:a0:92:06:58:00:bf:37:69:01:c3:72:cd:55:a9:0e:1f:de:d2:e0';

describe('parseSbState', () => {
  it.each([
    ['SecureBoot enabled\n', '', 'enabled'],
    ['SecureBoot enabled\nSecureBoot validation is disabled in shim\n', '', 'enabled'],
    ['SecureBoot disabled\n', '', 'disabled'],
    ['SecureBoot disabled\nPlatform is in Setup Mode\n', '', 'setup-mode'],
    ['', "This system doesn't support Secure Boot\n", 'disabled'],
    ['', "This system does't support Secure Boot\n", 'disabled'], // mokutil 0.3.0's spelling
    ['', 'EFI variables are not supported on this system\n', 'not-efi'],
    ['Cannot determine secure boot state.\n', '', null],
    ['', 'Failed to read "SecureBoot" variable: Permission denied\n', null],
  ])('%j %j → %s', (out, err, state) => {
    expect(parseSbState(out, err)).toBe(state);
  });
});

describe('parseMokList', () => {
  const sections = (text: string, rc = '0') => ({ enrolled: text, 'enrolled#rc': rc });

  it('reads the verbose listing (mokutil 0.6: [key N], SHA1 Fingerprint) and skips hash entries', () => {
    const text = `[key 1]\nSHA1 Fingerprint: ${FP}\n[key 2]\n[key 3]\nSHA1 Fingerprint: ${FP.toUpperCase().replace(/76/, '00')}\n`;
    expect(parseMokList(sections(text), 'enrolled')).toEqual({
      sha1: ['76a092065800bf376901c372cd55a90e1fded2e0', '00a092065800bf376901c372cd55a90e1fded2e0'],
      hashes: 1,
    });
  });

  it('an empty list: "MokListRT is empty" (older mokutil) or nothing at all (0.7)', () => {
    expect(parseMokList(sections('MokListRT is empty\n'), 'enrolled')).toEqual({ sha1: [], hashes: 0 });
    expect(parseMokList(sections(''), 'enrolled')).toEqual({ sha1: [], hashes: 0 });
  });

  it('unknown (null) when mokutil failed or did not run', () => {
    expect(parseMokList(sections('', '1'), 'enrolled')).toBeNull();
    expect(parseMokList({}, 'enrolled')).toBeNull();
  });

  it('ignores fingerprints that are not 20 bytes, and counts each once', () => {
    const text = `[key 1]\nSHA1 Fingerprint: 76:a0\n[key 2]\nSHA1 Fingerprint: ${FP}\n[key 3]\nSHA1 Fingerprint: ${FP}\n`;
    expect(parseMokList(sections(text), 'enrolled')?.sha1).toEqual([normaliseSha1(FP)]);
  });
});

describe('EFI variables', () => {
  it('the value byte follows 4 attribute bytes', () => {
    expect(efiByte(' 06 00 00 00 01\n')).toBe(1);
    expect(efiByte(' 06 00 00 00 00\n')).toBe(0);
    expect(efiByte(' 06 00 00 00\n')).toBeNull(); // no value
    expect(efiByte(' 06 00 zz 00 01\n')).toBeNull(); // not od output
    expect(efiByte(undefined)).toBeNull();
  });

  const base = { efi: 'd', efivars: 'd' };
  const parse = (s: Record<string, string>) => secureboot.parse(s);
  it('SecureBoot 1 and SetupMode 0: enabled; SetupMode 1 wins over SecureBoot', () => {
    expect(
      parse({ ...base, 'var:SecureBoot': ' 06 00 00 00 01', 'var:SetupMode': ' 06 00 00 00 00' }).state,
    ).toBe('enabled');
    expect(
      parse({ ...base, 'var:SecureBoot': ' 06 00 00 00 01', 'var:SetupMode': ' 06 00 00 00 01' }).state,
    ).toBe('setup-mode');
  });
  it('no /sys/firmware/efi: not EFI; EFI without a SecureBoot variable: disabled', () => {
    expect(parse({}).state).toBe('not-efi');
    expect(parse(base)).toMatchObject({ state: 'disabled', source: 'efivars' });
  });
  it('variables unreadable: mokutil says, else unknown', () => {
    const denied = { ...base, 'var:SecureBoot#denied': '/sys/firmware/efi/efivars/SecureBoot-x' };
    expect(parse(denied)).toMatchObject({ state: 'unknown', source: null });
    expect(parse({ ...denied, 'sb-state': 'SecureBoot enabled\n', 'sb-state#rc': '0' })).toMatchObject({
      state: 'enabled',
      source: 'mokutil',
    });
  });
  it('MokSBStateRT present: shim does not verify', () => {
    expect(parse({ ...base, 'var:MokSBStateRT': 'f' }).shimValidationDisabled).toBe(true);
  });
  it('an image: unknown, mokutil not consulted even if its sections were there', () => {
    expect(
      parse({
        image: '1',
        'sb-state': 'SecureBoot enabled',
        'sb-state#rc': '0',
        enrolled: '',
        'enrolled#rc': '0',
      }),
    ).toMatchObject({ state: 'unknown', source: null, enrolled: null, pending: null, mokutil: null });
  });
});

describe('dkms signing configuration', () => {
  it('the last file that sets a variable wins; a value with $kernelver is not checked', () => {
    const d = parseDkmsSigning({
      'conf:/etc/dkms/framework.conf': 'mok_signing_key=/k/a.key\nmok_certificate=/k/a.der\n',
      'conf:/etc/dkms/framework.conf.d/zz.conf': 'mok_certificate="/k/$kernelver.der"\n',
      'exists:/k/a.key': 'f',
    });
    expect(d).toEqual({
      from: '/etc/dkms/framework.conf.d/zz.conf',
      key: '/k/a.key',
      certificate: '/k/$kernelver.der',
      keyExists: true,
      certificateExists: null,
      certificateSha1: null,
    });
  });
  it('nothing set and no default key: none', () => {
    expect(parseDkmsSigning({ 'conf:/etc/dkms/framework.conf': '# mok_signing_key=/x\n' }).key).toBeNull();
  });
});

describe('certificateSha1', () => {
  const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.alloc(40, 7)]);
  const sha1 = createHash('sha1').update(der).digest('hex');
  it('of DER bytes, and of a PEM certificate (its DER)', () => {
    expect(certificateSha1(der)).toBe(sha1);
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(certificateSha1(Buffer.from(pem))).toBe(sha1);
  });
  it('null for anything else', () => {
    expect(certificateSha1(Buffer.from('not a certificate'))).toBeNull();
    expect(certificateSha1(null)).toBeNull();
  });
});
