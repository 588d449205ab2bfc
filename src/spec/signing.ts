/**
 * `signing:`: what validation checks of the key and certificate (the files were read by
 * semantic.ts, like every other file a kernelfile names), and the facts the planner needs of a
 * build's signing (SigningFacts). node:crypto parses and compares (pure computation, no I/O).
 *
 * Nothing here puts a byte of the private key into a message: errors name the file and the field.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

/** What the plan needs to know about a build's signing (the interface shared with the planner). */
export interface SigningFacts {
  /** DER of the certificate, base64 (what `mokutil --import` takes once written out as a file). */
  certificateDerBase64: string;
  /** SHA-1 fingerprint of the DER, lower-case hex without colons (what mokutil --list-enrolled shows). */
  sha1: string;
  /** Subject CN, for messages. */
  subject: string;
  /** signing.enroll */
  enroll: boolean;
  /** what is signed: in-tree modules, DKMS modules built on the controller, the image */
  modules: boolean;
  dkms: boolean;
  image: boolean;
}

/** OIDs of the extended key usages that allow signing code. */
const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const EKU_ANY = '2.5.29.37.0';

/** The most validation reads of a key or certificate file. */
export const SIGNING_READ_LIMIT = 256 * 1024;

export interface CertProblem {
  code: string;
  message: string;
  hint: string;
}

const KEYGEN_HINT =
  'make a new pair with `kernelfile keygen` (and point signing.key and signing.certificate at it)';

/** A PEM certificate, or why the text is not one. */
export function parseCertificate(text: string, written: string): X509Certificate | CertProblem {
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    return {
      code: 'signing-certificate-format',
      message: `signing.certificate ${written} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`,
      hint: text.includes('PRIVATE KEY')
        ? 'this looks like a private key: signing.certificate names the certificate, signing.key the key'
        : `a DER certificate converts with \`openssl x509 -inform DER -in ${written} -out ${written}.pem\`; or ${KEYGEN_HINT}`,
    };
  try {
    return new X509Certificate(text);
  } catch (e) {
    return {
      code: 'signing-certificate-format',
      message: `signing.certificate ${written} cannot be read as an X.509 certificate: ${(e as Error).message}`,
      hint: KEYGEN_HINT,
    };
  }
}

/** Problems with the certificate itself: validity now, what it may be used for. */
export function certificateProblems(cert: X509Certificate, written: string, now: Date): CertProblem[] {
  const out: CertProblem[] = [];
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from)
    out.push({
      code: 'signing-certificate-not-yet-valid',
      message: `signing.certificate ${written} is not valid before ${from.toISOString()}`,
      hint: "check this machine's clock, or make a new pair with `kernelfile keygen`",
    });
  if (now > to)
    out.push({
      code: 'signing-certificate-expired',
      message: `signing.certificate ${written} expired on ${to.toISOString()}`,
      hint: `${KEYGEN_HINT}; hosts need the new certificate enrolled`,
    });
  const eku = cert.keyUsage; // node: the *extended* key usage OIDs, undefined when there is none
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(EKU_CODE_SIGNING) && !eku.includes(EKU_ANY))
    out.push({
      code: 'signing-certificate-usage',
      message: `signing.certificate ${written} does not allow code signing: its extended key usage is ${eku.join(', ')} (code signing is ${EKU_CODE_SIGNING})`,
      hint: KEYGEN_HINT,
    });
  const ku = keyUsageBits(cert.raw);
  if (ku !== undefined && !ku.digitalSignature)
    out.push({
      code: 'signing-certificate-usage',
      message: `signing.certificate ${written} has a key usage without digitalSignature: it cannot sign`,
      hint: KEYGEN_HINT,
    });
  const type = cert.publicKey.asymmetricKeyType;
  if (type !== 'rsa')
    out.push({
      code: 'signing-key-type',
      message: `signing.certificate ${written} holds ${type ?? 'an unknown kind of'} key; kernel module signing with your own key and UEFI Secure Boot (shim, sbsign) take RSA`,
      hint: `${KEYGEN_HINT} (RSA 2048 or larger)`,
    });
  return out;
}

/**
 * The private key, or why it cannot be used. `passphrase` is the value of signing.passphraseEnv's
 * variable (undefined when none is named or the variable is unset; `passphraseEnv` says which).
 */
export function parsePrivateKey(
  text: string,
  written: string,
  passphrase: { env?: string; value?: string },
): KeyObject | CertProblem {
  if (/^pkcs11:/.test(written))
    return {
      code: 'signing-pkcs11',
      message: 'signing.key: PKCS#11 URIs are not supported yet',
      hint: 'export the key to a PEM file readable by you alone, or sign outside kernelfile',
    };
  if (!/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text))
    return {
      code: 'signing-key-format',
      message: `signing.key ${written} is not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" line)`,
      hint: text.includes('BEGIN CERTIFICATE')
        ? 'this looks like a certificate: signing.key names the private key, signing.certificate the certificate'
        : KEYGEN_HINT,
    };
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
  if (encrypted && passphrase.env === undefined)
    return {
      code: 'signing-key-passphrase',
      message: `signing.key ${written} is protected by a passphrase, and no signing.passphraseEnv names where to find it`,
      hint: 'set signing.passphraseEnv: NAME and export NAME=<passphrase> before running kernelfile',
    };
  if (encrypted && passphrase.value === undefined)
    return {
      code: 'signing-key-passphrase',
      message: `signing.key ${written} is protected by a passphrase, and the environment variable ${passphrase.env} (signing.passphraseEnv) is not set`,
      hint: `export ${passphrase.env}=<passphrase> before running kernelfile`,
    };
  try {
    return createPrivateKey({
      key: text,
      format: 'pem',
      ...(encrypted ? { passphrase: passphrase.value ?? '' } : {}),
    });
  } catch {
    // The library's message is not shown: it is about the key's bytes.
    return encrypted
      ? {
          code: 'signing-key-passphrase',
          message: `signing.key ${written} cannot be decrypted with the passphrase in ${passphrase.env}`,
          hint: `check the value of ${passphrase.env}`,
        }
      : {
          code: 'signing-key-format',
          message: `signing.key ${written} cannot be read as a private key`,
          hint: KEYGEN_HINT,
        };
  }
}

/** The key belongs to the certificate. */
export function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** The certificate's DER, its digests and subject CN: the build id and the plan use these. */
export function certificateIdentity(cert: X509Certificate): {
  der: Buffer;
  sha256: string;
  sha1: string;
  subject: string;
} {
  const der = cert.raw;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    sha1: createHash('sha1').update(der).digest('hex'),
    subject: cn ?? cert.subject.replace(/\n/g, ', '),
  };
}

/** SigningFacts of a validated `signing:` section and its certificate (PEM text). */
export function signingFacts(
  signing: { enroll?: boolean; modules?: boolean; dkms?: boolean; image?: boolean },
  certificatePem: string,
): SigningFacts {
  const id = certificateIdentity(new X509Certificate(certificatePem));
  return {
    certificateDerBase64: id.der.toString('base64'),
    sha1: id.sha1,
    subject: id.subject,
    enroll: signing.enroll ?? true,
    modules: signing.modules ?? true,
    dkms: signing.dkms ?? true,
    image: signing.image ?? false,
  };
}

// ── the keyUsage extension (node exposes only the extended key usage) ───────────────────────────

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** One DER element at `pos` (definite lengths only, as DER requires). */
function tlv(buf: Buffer, pos: number): Tlv | undefined {
  if (pos + 2 > buf.length) return undefined;
  const tag = buf[pos] as number;
  let len = buf[pos + 1] as number;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  if (start + len > buf.length) return undefined;
  return { tag, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end; ) {
    const c = tlv(buf, p);
    if (!c || c.end > parent.end) break;
    out.push(c);
    p = c.end;
  }
  return out;
}

const OID_KEY_USAGE = Buffer.from([0x55, 0x1d, 0x0f]); // 2.5.29.15

/**
 * The keyUsage extension's digitalSignature bit, read from the certificate's DER; undefined when
 * the certificate has no keyUsage extension (then nothing restricts it).
 */
export function keyUsageBits(der: Buffer): { digitalSignature: boolean } | undefined {
  const cert = tlv(der, 0);
  if (!cert) return undefined;
  const tbs = children(der, cert)[0];
  if (!tbs) return undefined;
  const exts = children(der, tbs).find((c) => c.tag === 0xa3);
  if (!exts) return undefined;
  const seq = children(der, exts)[0];
  if (!seq) return undefined;
  for (const ext of children(der, seq)) {
    const [oid, ...rest] = children(der, ext);
    if (oid?.tag !== 0x06 || !der.subarray(oid.start, oid.end).equals(OID_KEY_USAGE)) continue;
    const octets = rest.find((r) => r.tag === 0x04);
    if (!octets) return undefined;
    const bits = tlv(der, octets.start);
    if (bits?.tag !== 0x03 || bits.end - bits.start < 2) return { digitalSignature: false };
    return { digitalSignature: ((der[bits.start + 1] as number) & 0x80) !== 0 };
  }
  return undefined;
}
