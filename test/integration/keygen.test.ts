/** `kernelfile keygen` with the real openssl: a MOK-suitable key pair, safe modes, never overwritten. */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/io.js';
import { run } from '../helpers/proc.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-keygen-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const io = fakeIo(dir, { env: { KF_TEST_PIN: 'test pin 1234' } });
  const code = await main(['node', 'kernelfile', 'keygen', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('kernelfile keygen', () => {
  it('writes a key that matches a code-signing certificate, PEM and DER, with safe modes', async () => {
    const r = await cli('--out', 'keys', '--cn', 'Test MOK', '--days', '30');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const keyPath = join(dir, 'keys', 'mok.key');
    const pem = readFileSync(join(dir, 'keys', 'mok.crt'));
    const der = readFileSync(join(dir, 'keys', 'mok.der'));
    expect(mode(keyPath)).toBe(0o600);
    expect(mode(join(dir, 'keys', 'mok.crt'))).toBe(0o644);
    expect(mode(join(dir, 'keys', 'mok.der'))).toBe(0o644);
    const cert = new X509Certificate(pem);
    expect(Buffer.compare(cert.raw, der)).toBe(0);
    expect(cert.subject).toBe('CN=Test MOK');
    expect(cert.ca).toBe(false);
    const key = createPrivateKey(readFileSync(keyPath));
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(
      createPublicKey(key)
        .export({ type: 'spki', format: 'der' })
        .equals(cert.publicKey.export({ type: 'spki', format: 'der' })),
    ).toBe(true);
    // The extensions, as openssl reads them.
    const text = await run(['openssl', 'x509', '-in', join(dir, 'keys', 'mok.crt'), '-noout', '-text']);
    expect(text.stdout).toMatch(/X509v3 Extended Key Usage:\s*\n\s*Code Signing/);
    expect(text.stdout).toMatch(/X509v3 Key Usage:\s*\n\s*Digital Signature/);
    expect(text.stdout).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE/);
    expect(text.stdout).toMatch(/X509v3 Subject Key Identifier:/);
    // What it prints: the fingerprint mokutil shows, the lines to paste, the console step.
    const sha1 = cert.fingerprint.toLowerCase();
    expect(r.out).toContain(`SHA-1 ${sha1}`);
    expect(r.out).toContain('  signing:\n    key: keys/mok.key\n    certificate: keys/mok.crt\n');
    expect(r.out).toContain('mokutil --import');
    expect(r.out).toContain('--mok-password-file');
    expect(r.out).not.toContain('PRIVATE KEY');
    // Private keys kept out of git.
    expect(readFileSync(join(dir, 'keys', '.gitignore'), 'utf8')).toContain('*.key');
    expect(r.out).toContain('keys/.gitignore   keeps *.key out of git');
  });

  it('refuses to overwrite an existing key and leaves it as it was', async () => {
    const before = readFileSync(join(dir, 'keys', 'mok.key'));
    const r = await cli('--out', 'keys');
    expect(r.code).toBe(1);
    expect(r.err).toContain('mok.key');
    expect(r.err).toContain('never overwrites a key');
    expect(readFileSync(join(dir, 'keys', 'mok.key')).equals(before)).toBe(true);
  });

  it('refuses when only the certificate exists, creating nothing', async () => {
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'mok.der'), 'x');
    const r = await cli('--out', 'other');
    expect(r.code).toBe(1);
    expect(r.err).toContain('mok.der');
    expect(() => statSync(join(dir, 'other', 'mok.key'))).toThrow();
  });

  it('encrypts the key with the passphrase of --passphrase-env (never on argv), and names the line to paste', async () => {
    const r = await cli('--out', 'enc', '--passphrase-env', 'KF_TEST_PIN');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const pem = readFileSync(join(dir, 'enc', 'mok.key'));
    expect(pem.toString()).toContain('ENCRYPTED PRIVATE KEY');
    expect(() => createPrivateKey(pem)).toThrow();
    const key = createPrivateKey({ key: pem, passphrase: 'test pin 1234' });
    expect(new X509Certificate(readFileSync(join(dir, 'enc', 'mok.crt'))).checkPrivateKey(key)).toBe(true);
    expect(r.out).toContain('    passphraseEnv: KF_TEST_PIN\n');
    const unset = await cli('--out', 'enc2', '--passphrase-env', 'KF_NOT_SET');
    expect(unset.code).toBe(1);
    expect(unset.err).toContain('--passphrase-env KF_NOT_SET: the variable is not set');
  });

  it('makes a 4096-bit key on request, and names a bad option', async () => {
    const r = await cli('--out', 'big', '--bits', '4096');
    expect(r.code).toBe(0);
    const key = createPrivateKey(readFileSync(join(dir, 'big', 'mok.key')));
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
    const bad = await cli('--out', 'bad', '--cn', 'a/b');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--cn');
    const days = await cli('--out', 'bad', '--days', '0');
    expect(days.code).toBe(1);
    expect(days.err).toContain('--days');
  }, 120_000);
});
