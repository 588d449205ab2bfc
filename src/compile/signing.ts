/**
 * Signing in the build (`signing:` in the kernelfile). The private key never leaves the controller
 * and never stays anywhere kernelfile writes:
 *
 *  - the kernel's configuration gets CONFIG_MODULE_SIG, MODULE_SIG_ALL, a hash and MODULE_SIG_KEY
 *    naming a fixed path inside the object tree (SIG_KEY_PATH), so the build id holds no path of
 *    this machine; the build id covers the certificate's DER digest instead;
 *  - for `make` and `make modules_install` alone, the object tree holds one PEM file (key, then
 *    certificate) at that path, mode 0600; it is removed afterwards, whatever happened (withKeyFile);
 *  - the passphrase of an encrypted key reaches sign-file as KBUILD_SIGN_PIN in the environment,
 *    never on a command line or in a log;
 *  - DKMS modules built on the controller are signed with the kernel's own scripts/sign-file from
 *    the build's headers tree, the key read from where the kernelfile names it (signModule);
 *  - after the build, every in-tree .ko carries a signature and no artifact holds the key's bytes
 *    (checkSignedArtifacts).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { runLocal } from '../host/local.js';
import type { Origin, Requested } from '../kconfig/dropped.js';
import type { Spec } from '../spec/schema.js';
import { certificateIdentity, type SigningFacts, signingFacts } from '../spec/signing.js';
import { BuildError } from './errors.js';
import { readRegularTextSync } from './read-file.js';

/** MODULE_SIG_KEY: relative to the object tree, the same on every machine. */
export const SIG_KEY_PATH = 'certs/kernelfile-signing.pem';

/** The hash kernelfile asks for when the kernelfile picks none (the kernel's own default is SHA-512). */
export const DEFAULT_SIG_HASH = 'CONFIG_MODULE_SIG_SHA256';
const HASH_SYMBOL = /^CONFIG_MODULE_SIG_SHA\d+$/;

/** The Kconfig values signing.modules asks for, in .config syntax (the user's hash choice kept). */
export function signingOptions(
  spec: Spec,
  userSymbols: readonly string[],
): { symbol: string; value: string }[] {
  if (!spec.signing || spec.signing.modules === false) return [];
  return [
    { symbol: 'CONFIG_MODULE_SIG', value: 'y' },
    { symbol: 'CONFIG_MODULE_SIG_ALL', value: 'y' },
    ...(userSymbols.some((s) => HASH_SYMBOL.test(s)) ? [] : [{ symbol: DEFAULT_SIG_HASH, value: 'y' }]),
    { symbol: 'CONFIG_MODULE_SIG_KEY', value: `"${SIG_KEY_PATH}"` },
  ];
}

/** Those values as requests, from where `signing` is written (a dropped one is explained there). */
export function signingRequests(
  spec: Spec,
  userSymbols: readonly string[],
  originOf: (symbol: string) => Origin,
): Requested[] {
  return signingOptions(spec, userSymbols).map((o) => ({
    ...o,
    origin: originOf(o.symbol),
    onDropped: 'error' as const,
  }));
}

/** The signing material of a build: where the files are, the certificate, what is signed. */
export interface BuildSigning {
  keyFile: string;
  certificateFile: string;
  /** The certificate as PEM (public). */
  certificatePem: string;
  /** SHA-256 of the certificate's DER: what the build id covers. */
  certificateSha256: string;
  /** The passphrase of an encrypted key, read when needed (never stored, never serialised). */
  passphrase: () => string | undefined;
  passphraseEnv?: string;
  modules: boolean;
  dkms: boolean;
  image: boolean;
  /** For the planner (SigningFacts, SB-COMMON). */
  facts: SigningFacts;
  /** Where signing.image is written (diagnostics). */
  imageOrigin?: Origin;
}

/** Largest key or certificate file read. */
const MAX_PEM_BYTES = 256 * 1024;

/** Read the certificate of `signing:` (validation checked it; this is the build's own read). */
export function buildSigning(
  spec: Spec,
  resolvePath: (written: string) => string,
  vars: Record<string, string | undefined> = {},
  originOf?: (field: string) => Origin,
): BuildSigning | undefined {
  const s = spec.signing;
  if (!s) return undefined;
  const keyFile = resolvePath(s.key);
  const certificateFile = resolvePath(s.certificate);
  const certificatePem = readRegularTextSync(
    certificateFile,
    MAX_PEM_BYTES,
    `signing.certificate ${s.certificate}`,
  );
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch (e) {
    throw new BuildError(
      `signing.certificate ${s.certificate} is not a certificate: ${(e as Error).message}`,
      'run `kernelfile validate` for the details',
    );
  }
  const env = s.passphraseEnv;
  return {
    keyFile,
    certificateFile,
    certificatePem,
    certificateSha256: certificateIdentity(cert).sha256,
    passphrase: () => (env ? vars[env] : undefined),
    ...(env ? { passphraseEnv: env } : {}),
    modules: s.modules ?? true,
    dkms: s.dkms ?? true,
    image: s.image ?? false,
    facts: signingFacts(s, certificatePem),
    ...(originOf ? { imageOrigin: originOf('image') } : {}),
  };
}

/** The environment sign-file reads the passphrase from (empty for a key without one). */
export function signEnv(signing: BuildSigning): Record<string, string> {
  const pin = signing.passphrase();
  return pin === undefined ? {} : { KBUILD_SIGN_PIN: pin };
}

/**
 * Run `fn` with the key at SIG_KEY_PATH in the object tree (key and certificate in one PEM, mode
 * 0600, a fixed modification time so make does not rebuild what depends on it), and remove it
 * afterwards, also when `fn` fails.
 */
export async function withKeyFile<T>(
  signing: BuildSigning,
  objtree: string,
  fn: () => Promise<T>,
): Promise<T> {
  const path = join(objtree, SIG_KEY_PATH);
  const key = readRegularTextSync(signing.keyFile, MAX_PEM_BYTES, 'signing.key');
  rmSync(path, { force: true });
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, `${key.trimEnd()}\n${signing.certificatePem.trimEnd()}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    const since = new Date(new X509Certificate(signing.certificatePem).validFrom);
    utimesSync(path, since, since);
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** The trailer the kernel's sign-file appends (include/linux/module_signature.h). */
export const SIGNATURE_MAGIC = Buffer.from('~Module signature appended~\n');

/** The module's last bytes are the signature trailer. */
export function isSigned(ko: Buffer): boolean {
  return (
    ko.length > SIGNATURE_MAGIC.length &&
    ko.subarray(ko.length - SIGNATURE_MAGIC.length).equals(SIGNATURE_MAGIC)
  );
}

/**
 * The module without its appended signature (struct module_signature: 12 bytes ending in the
 * big-endian signature length, then the magic). Unchanged when it is not signed.
 */
export function stripSignature(ko: Buffer): Buffer {
  if (!isSigned(ko)) return ko;
  const end = ko.length - SIGNATURE_MAGIC.length;
  const sigLen = ko.readUInt32BE(end - 4);
  const cut = end - 12 - sigLen;
  return cut > 0 ? ko.subarray(0, cut) : ko;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * What only the private key contains, as needles to search the artifacts for: its private numbers
 * (RSA d, p, q: their first 32 bytes, raw) and base64 lines from the end of its PEM (past the
 * public modulus, which the embedded certificate and an Authenticode signature legitimately hold).
 */
export function keyNeedles(keyPem: string, passphrase?: string): Buffer[] {
  const body = keyPem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 60 && !l.startsWith('-----') && !l.includes(':'));
  const needles = body.slice(-5, -1).map((l) => Buffer.from(l));
  try {
    const jwk = createPrivateKey({
      key: keyPem,
      format: 'pem',
      ...(passphrase !== undefined ? { passphrase } : {}),
    }).export({ format: 'jwk' });
    for (const part of [jwk.d, jwk.p, jwk.q])
      if (typeof part === 'string') needles.push(Buffer.from(part, 'base64url').subarray(0, 32));
  } catch {
    // an encrypted key without its passphrase: its PEM lines are all there is to look for
  }
  return needles.filter((n) => n.length >= 32);
}

/** Does `file` contain any of `needles`? Read in chunks, never whole. */
function fileContains(file: string, needles: Buffer[]): boolean {
  const longest = Math.max(...needles.map((n) => n.length));
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024 + longest);
    let carry = 0;
    for (;;) {
      const n = readSync(fd, buf, carry, buf.length - carry, null);
      if (n === 0) return false;
      const view = buf.subarray(0, carry + n);
      if (needles.some((x) => view.includes(x))) return true;
      carry = Math.min(longest, view.length);
      view.copy(buf, 0, view.length - carry);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * After a signing build, before the artifacts are sealed: every in-tree module carries a signature
 * (when signing.modules), and no file holds the private key (neither its PEM lines nor its DER).
 */
export function checkSignedArtifacts(
  signing: BuildSigning,
  dir: string,
  release: string,
): { modules: number } {
  const modDir = join(dir, 'modules/lib/modules', release);
  const kos = filesUnder(modDir).filter((f) => /\.ko$/.test(f));
  if (signing.modules) {
    const unsigned = kos.filter((f) => !isSigned(readFileSync(f)));
    if (unsigned.length > 0)
      throw new BuildError(
        `${unsigned.length} of ${kos.length} in-tree module(s) carry no signature after modules_install, e.g. ${relative(modDir, unsigned[0] as string)}`,
        'is CONFIG_MODULE_SIG_ALL on in the effective config? the build log says what sign-file printed',
      );
  }
  const keyPem = readRegularTextSync(signing.keyFile, MAX_PEM_BYTES, 'signing.key');
  const needles = keyNeedles(keyPem, signing.passphrase());
  if (needles.length === 0) return { modules: kos.length };
  const leaked = filesUnder(dir).filter((f) => statSync(f).size > 0 && fileContains(f, needles));
  if (leaked.length > 0)
    throw new BuildError(
      `the private key was found in ${leaked.length} artifact file(s), e.g. ${relative(dir, leaked[0] as string)}; nothing was kept`,
      'report this: the key must never reach the artifacts',
    );
  return { modules: kos.length };
}

/**
 * Sign one module in place with the kernel's own sign-file (from the build's headers or object
 * tree), with the hash the kernel's config names.
 */
export async function signModule(
  signing: BuildSigning,
  signFile: string,
  hash: string,
  ko: string,
): Promise<void> {
  if (!existsSync(signFile))
    throw new BuildError(
      `cannot sign ${ko}: ${signFile} is missing`,
      'the kernel builds scripts/sign-file when CONFIG_MODULE_SIG (or MODULE_SIG_FORMAT) is on: keep signing.modules on, and install libssl-dev',
    );
  const r = await runLocal([signFile, hash, signing.keyFile, signing.certificateFile, ko], {
    env: signEnv(signing),
  });
  if (r.code !== 0 || !isSigned(readFileSync(ko)))
    throw new BuildError(
      `sign-file could not sign ${ko} (exit ${r.code})`,
      signing.passphraseEnv ? `is ${signing.passphraseEnv} the key's passphrase?` : undefined,
      r.stderr.trim().split('\n').slice(-5),
    );
}

/** The hash sign-file uses for this kernel: CONFIG_MODULE_SIG_HASH of its config. */
export function moduleSigHash(config: Record<string, string>): string | undefined {
  const v = config.CONFIG_MODULE_SIG_HASH;
  return v?.replace(/^"|"$/g, '') || undefined;
}

/**
 * A signer for modules built against a build's headers: its scripts/sign-file and the hash its
 * config names (CONFIG_MODULE_SIG_HASH; sha256 when module signing is not configured in).
 */
export function moduleSigner(
  signing: BuildSigning,
  headersDir: string,
  configText: string,
): (ko: string) => Promise<void> {
  const config: Record<string, string> = {};
  for (const m of configText.matchAll(/^(CONFIG_MODULE_SIG_HASH)=(.*)$/gm))
    config[m[1] as string] = m[2] as string;
  const hash = moduleSigHash(config) ?? 'sha256';
  const signFile = join(headersDir, 'scripts/sign-file');
  return (ko) => signModule(signing, signFile, hash, ko);
}

/**
 * `signing.image`: why the image cannot be signed for UEFI (no EFI stub), or undefined. Checked
 * before anything is compiled.
 */
export function imageSigningProblem(
  signing: BuildSigning | undefined,
  effective: Record<string, string>,
): { message: string; hint: string } | undefined {
  if (!signing?.image || effective.CONFIG_EFI_STUB === 'y') return undefined;
  return {
    message: `signing.image: the kernel has no EFI stub (CONFIG_EFI_STUB is ${effective.CONFIG_EFI_STUB ?? 'not set'}, CONFIG_EFI ${effective.CONFIG_EFI ?? 'not set'}), so there is no PE image for sbsign to sign`,
    hint: 'request CONFIG_EFI=y and CONFIG_EFI_STUB=y (on x86 they need CONFIG_ACPI=y), or set signing.image: false',
  };
}

/**
 * Sign the kernel image in place with sbsign (PEM key and certificate) and check it with sbverify.
 * An encrypted key is decrypted into a private temporary file for sbsign (which cannot be given a
 * passphrase), removed at once.
 */
export async function signImage(signing: BuildSigning, image: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'kf-sbsign-'));
  try {
    let key = signing.keyFile;
    if (signing.passphraseEnv) {
      const pem = readRegularTextSync(signing.keyFile, MAX_PEM_BYTES, 'signing.key');
      const plain = createPrivateKey({ key: pem, format: 'pem', passphrase: signing.passphrase() ?? '' });
      key = join(tmp, 'key.pem');
      writeFileSync(key, plain.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    }
    const out = join(tmp, 'image.signed');
    const r = await runLocal([
      'sbsign',
      '--key',
      key,
      '--cert',
      signing.certificateFile,
      '--output',
      out,
      image,
    ]);
    if (r.code !== 0)
      throw new BuildError(
        `sbsign could not sign the kernel image (exit ${r.code})`,
        r.code === 127 ? 'install sbsigntool (apt-get install sbsigntool)' : undefined,
        r.stderr.trim().split('\n').slice(-5),
      );
    const v = await runLocal(['sbverify', '--cert', signing.certificateFile, out]);
    if (v.code !== 0)
      throw new BuildError(
        'sbverify does not accept the signed image',
        undefined,
        v.stderr.trim().split('\n').slice(-5),
      );
    copyFileSync(out, image);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
