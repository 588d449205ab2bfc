/**
 * Self-signed X.509 certificates made in-process (DER by hand, signed with node:crypto), for tests
 * that must stay pure (no openssl process) and commit no key: every key is generated at test time.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

const len = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const oid = (dotted: string): Buffer => {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const b: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
};
const time = (d: Date): Buffer => {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  const y = d.getUTCFullYear();
  return y < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
};
const name = (cn: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
const ext = (id: string, value: Buffer, critical = false) =>
  seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));

export const EKU = { codeSigning: '1.3.6.1.5.5.7.3.3', serverAuth: '1.3.6.1.5.5.7.3.1' };

export interface CertOptions {
  cn?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Extended key usage OIDs; undefined: no extension. */
  eku?: string[];
  /** keyUsage with (true) or without (false) digitalSignature; undefined: no extension. */
  digitalSignature?: boolean;
}

/** A PEM certificate for `key` (RSA), self-signed. */
export function makeCertificate(key: KeyObject, o: CertOptions = {}): string {
  if (key.asymmetricKeyType !== 'rsa') throw new Error('makeCertificate: RSA keys only');
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const alg = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));
  const exts: Buffer[] = [];
  if (o.digitalSignature !== undefined)
    // keyUsage BIT STRING: digitalSignature is bit 0; keyCertSign (bit 5) otherwise.
    exts.push(ext('2.5.29.15', tlv(0x03, Buffer.from(o.digitalSignature ? [7, 0x80] : [2, 0x04])), true));
  if (o.eku) exts.push(ext('2.5.29.37', seq(...o.eku.map(oid))));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, Buffer.from([0x01, 0x23, 0x45])),
    alg,
    name(o.cn ?? 'kernelfile test'),
    seq(
      time(o.notBefore ?? new Date(Date.now() - 86_400_000)),
      time(o.notAfter ?? new Date(Date.now() + 365 * 86_400_000)),
    ),
    name(o.cn ?? 'kernelfile test'),
    spki,
    ...(exts.length ? [tlv(0xa3, seq(...exts))] : []),
  );
  const signature = sign('sha256', tbs, key);
  const der = seq(tbs, alg, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/** A fresh RSA key pair (2048 bits: what MOK and sbsign take). */
export function rsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** The key as PEM, optionally encrypted with a passphrase. */
export function keyPem(key: KeyObject, passphrase?: string): string {
  return key.export(
    passphrase
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
      : { type: 'pkcs8', format: 'pem' },
  ) as string;
}
