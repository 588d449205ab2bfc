import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/spec/diagnostic.js';
import type { FileView } from '../../../src/spec/semantic.js';
import { keyUsageBits, signingFacts } from '../../../src/spec/signing.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';
import { EKU, keyPem, makeCertificate, rsaKey } from '../../helpers/x509.js';

const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;
const SIGNING = `signing:
  key: keys/mok.key
  certificate: keys/mok.crt
`;

let key: ReturnType<typeof rsaKey>;
let other: ReturnType<typeof rsaKey>;
let goodCert: string;
beforeAll(() => {
  key = rsaKey();
  other = rsaKey();
  goodCert = makeCertificate(key, { cn: 'kernelfile MOK', eku: [EKU.codeSigning], digitalSignature: true });
});

function run(
  text: string,
  files: Record<string, string>,
  opts: { modes?: Record<string, number>; vars?: Record<string, string>; now?: Date } = {},
) {
  const base = memfs({ '/p/linux-6.1.192.tar.xz': '', ...files });
  const fs: FileView = { ...base, mode: (abs) => opts.modes?.[abs] ?? 0o600 };
  return validate(new TextEncoder().encode(HEAD + text), 'kernelfile.yaml', {
    fs,
    kernelfile: '/p/kernelfile.yaml',
    home: '/root',
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}
const errors = (r: ReturnType<typeof run>): Diagnostic[] => (r.ok ? [] : r.errors);
const warnings = (r: ReturnType<typeof run>): Diagnostic[] => r.warnings;

describe('signing: in the kernelfile', () => {
  it('accepts a matching key and code-signing certificate and fills the defaults', () => {
    const r = run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': goodCert });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.value.spec.signing).toEqual({
      key: 'keys/mok.key',
      certificate: 'keys/mok.crt',
      modules: true,
      dkms: true,
      image: false,
      enroll: true,
    });
    expect(r.warnings).toEqual([]);
  });

  it('names the missing files at their lines and says to run kernelfile keygen', () => {
    const e = errors(run(SIGNING, {}));
    expect(e.map((d) => [d.code, d.line, d.column])).toEqual([
      ['file-not-found', 7, 8],
      ['file-not-found', 8, 16],
    ]);
    expect(e[0]?.message).toBe('signing key not found: keys/mok.key (looked for /p/keys/mok.key)');
    expect(e[0]?.hint).toContain('kernelfile keygen');
  });

  it('refuses a key that does not belong to the certificate', () => {
    const e = errors(run(SIGNING, { '/p/keys/mok.key': keyPem(other), '/p/keys/mok.crt': goodCert }));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ code: 'signing-key-mismatch', line: 7, path: '$.signing.key' });
    expect(e[0]?.message).toBe(
      'signing.key keys/mok.key does not belong to signing.certificate keys/mok.crt',
    );
  });

  it('refuses an expired certificate and one not valid yet', () => {
    const expired = makeCertificate(key, {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const e = errors(run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': expired }));
    expect(e.map((d) => d.code)).toEqual(['signing-certificate-expired']);
    expect(e[0]?.message).toBe('signing.certificate keys/mok.crt expired on 2021-01-01T00:00:00.000Z');
    expect(e[0]).toMatchObject({ line: 8, column: 16 });
    const future = makeCertificate(key, { notBefore: new Date('2090-01-01T00:00:00Z') });
    const f = errors(run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': future }));
    expect(f.map((d) => d.code)).toEqual(['signing-certificate-not-yet-valid']);
  });

  it('checks validity at the given time', () => {
    const files = { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': goodCert };
    expect(run(SIGNING, files, { now: new Date(Date.now() + 2 * 365 * 86_400_000) }).ok).toBe(false);
  });

  it('refuses a certificate whose extended key usage excludes code signing', () => {
    const tls = makeCertificate(key, { eku: [EKU.serverAuth] });
    const e = errors(run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': tls }));
    expect(e.map((d) => d.code)).toEqual(['signing-certificate-usage']);
    expect(e[0]?.message).toContain('does not allow code signing');
  });

  it('refuses a key usage without digitalSignature, and accepts a certificate with no usage extensions', () => {
    const caOnly = makeCertificate(key, { digitalSignature: false });
    const e = errors(run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': caOnly }));
    expect(e.map((d) => d.message)).toEqual([
      'signing.certificate keys/mok.crt has a key usage without digitalSignature: it cannot sign',
    ]);
    const plain = makeCertificate(key);
    expect(run(SIGNING, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': plain }).ok).toBe(true);
  });

  it('warns when the key is readable by group or others', () => {
    const r = run(
      SIGNING,
      { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': goodCert },
      { modes: { '/p/keys/mok.key': 0o644 } },
    );
    expect(r.ok).toBe(true);
    expect(warnings(r).map((d) => [d.code, d.message, d.hint, d.line])).toEqual([
      [
        'signing-key-permissions',
        'signing.key keys/mok.key is readable by every user (mode 0644)',
        'keep it to yourself: chmod 600 keys/mok.key',
        7,
      ],
    ]);
  });

  it('needs the passphrase of an encrypted key from the variable signing.passphraseEnv names', () => {
    const files = { '/p/keys/mok.key': keyPem(key, 'sesame'), '/p/keys/mok.crt': goodCert };
    const none = errors(run(SIGNING, files));
    expect(none.map((d) => [d.code, d.path])).toEqual([['signing-key-passphrase', '$.signing.key']]);
    expect(none[0]?.hint).toContain('signing.passphraseEnv');
    const withEnv = `${SIGNING}  passphraseEnv: KF_MOK_PIN\n`;
    const unset = errors(run(withEnv, files));
    expect(unset.map((d) => [d.message, d.line])).toEqual([
      [
        'signing.key keys/mok.key is protected by a passphrase, and the environment variable KF_MOK_PIN (signing.passphraseEnv) is not set',
        9,
      ],
    ]);
    const wrong = errors(run(withEnv, files, { vars: { KF_MOK_PIN: 'open' } }));
    expect(wrong.map((d) => d.message)).toEqual([
      'signing.key keys/mok.key cannot be decrypted with the passphrase in KF_MOK_PIN',
    ]);
    expect(run(withEnv, files, { vars: { KF_MOK_PIN: 'sesame' } }).ok).toBe(true);
  });

  it('never quotes the key in a message', () => {
    const pem = keyPem(other);
    const all = [
      ...errors(run(SIGNING, { '/p/keys/mok.key': pem, '/p/keys/mok.crt': goodCert })),
      ...errors(run(SIGNING, { '/p/keys/mok.key': pem, '/p/keys/mok.crt': pem })),
      ...errors(run(SIGNING, { '/p/keys/mok.key': pem.replace(/A/g, 'B'), '/p/keys/mok.crt': goodCert })),
    ];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const body = pem.split('\n').slice(1, 3);
    for (const d of all) for (const line of body) expect(JSON.stringify(d)).not.toContain(line);
  });

  it('tells a key named as the certificate (and the other way round) apart', () => {
    const e = errors(run(SIGNING, { '/p/keys/mok.key': goodCert, '/p/keys/mok.crt': keyPem(key) }));
    expect(e.map((d) => [d.code, d.path])).toEqual([
      ['signing-key-format', '$.signing.key'],
      ['signing-certificate-format', '$.signing.certificate'],
    ]);
    expect(e[0]?.hint).toContain('looks like a certificate');
    expect(e[1]?.hint).toContain('looks like a private key');
  });

  it('refuses signing with build.on: host (the key would go to hosts)', () => {
    const e = errors(
      run(`build: {on: host}\n${SIGNING}`, { '/p/keys/mok.key': keyPem(key), '/p/keys/mok.crt': goodCert }),
    );
    expect(e.map((d) => [d.code, d.path])).toEqual([['signing-build-on-host', '$.build.on']]);
  });

  it('refuses module signing options set by hand while signing.modules is on', () => {
    const files = {
      '/p/keys/mok.key': keyPem(key),
      '/p/keys/mok.crt': goodCert,
      '/p/sig.config': 'CONFIG_MODULES=y\nCONFIG_MODULE_SIG_ALL=y\n',
    };
    const text = `config:\n  fragments: [sig.config]\n  set: {CONFIG_MODULE_SIG_KEY: "x.pem"}\n${SIGNING}`;
    const e = errors(run(text, files));
    expect(e.map((d) => [d.code, d.file, d.line])).toEqual([
      ['signing-managed-option', '/p/sig.config', 2],
      ['signing-managed-option', 'kernelfile.yaml', 8],
    ]);
    expect(run(`${text}  modules: false\n`, files).ok).toBe(true);
  });

  it('says PKCS#11 URIs are not supported yet', () => {
    const e = errors(
      run(SIGNING.replace('keys/mok.key', '"pkcs11:token=mok"'), { '/p/keys/mok.crt': goodCert }),
    );
    expect(e.map((d) => [d.code, d.path])).toEqual([['signing-pkcs11', '$.signing.key']]);
  });
});

describe('SigningFacts', () => {
  it('carries the DER, its SHA-1 fingerprint, the subject CN and what is signed', () => {
    const f = signingFacts({ enroll: false, modules: true, dkms: false, image: true }, goodCert);
    const der = new X509Certificate(goodCert).raw;
    expect(f).toEqual({
      certificateDerBase64: der.toString('base64'),
      sha1: createHash('sha1').update(der).digest('hex'),
      subject: 'kernelfile MOK',
      enroll: false,
      modules: true,
      dkms: false,
      image: true,
    });
    expect(f.sha1).toBe(new X509Certificate(goodCert).fingerprint.replace(/:/g, '').toLowerCase());
  });
});

describe('keyUsageBits', () => {
  it('reads digitalSignature from the DER, and nothing when there is no extension', () => {
    const with_ = new X509Certificate(makeCertificate(key, { digitalSignature: true })).raw;
    const without = new X509Certificate(makeCertificate(key, { digitalSignature: false })).raw;
    expect(keyUsageBits(with_)).toEqual({ digitalSignature: true });
    expect(keyUsageBits(without)).toEqual({ digitalSignature: false });
    expect(keyUsageBits(new X509Certificate(makeCertificate(key)).raw)).toBeUndefined();
    expect(keyUsageBits(Buffer.from([0x30, 0x82]))).toBeUndefined();
  });
});
