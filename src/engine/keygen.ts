/**
 * `kernelfile keygen`: a key pair for signing kernels and modules that a Machine Owner Key (MOK)
 * enrolment accepts: a self-signed X.509 certificate (RSA, SHA-256) with the extensions the kernel's
 * own signing key has (basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
 * codeSigning, a subject key identifier), made by `openssl req -x509` in a private temp directory.
 * The key is written with O_EXCL (an existing file is never overwritten) and mode 0600; the
 * certificate as PEM (for the kernel and sbsign) and as DER (for `mokutil --import`), mode 0644.
 */
import { X509Certificate } from 'node:crypto';
import { constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLocal } from '../host/local.js';
import { UserError } from './errors.js';

export interface KeygenOptions {
  /** Where the files go (created if missing); relative to `cwd`. Default: `keys`. */
  out?: string;
  /** The certificate's subject CN. Default: `kernelfile module signing key`. */
  cn?: string;
  /** Validity in days. Default: 36500 (MOK does not check expiry; the kernel does not either). */
  days?: number;
  /** RSA key size: 2048 (default) or 4096. */
  bits?: number;
  /**
   * Encrypt the key (AES-256) with the passphrase in this environment variable (of `env`), for
   * `signing.passphraseEnv`; without it the key is not encrypted (mode 0600 only).
   */
  passphraseEnv?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface KeygenResult {
  dir: string;
  key: string;
  certificate: string;
  der: string;
  subject: string;
  /** SHA-1 of the DER, lower-case hex without colons (what `mokutil --list-enrolled` shows, with colons). */
  sha1: string;
  notAfter: string;
  /** The environment variable whose passphrase encrypts the key; null: not encrypted. */
  passphraseEnv: string | null;
  /** A .gitignore keeping *.key out of git was created in `dir`. */
  gitignore: string | null;
}

export const KEY_FILE = 'mok.key';
export const CERT_FILE = 'mok.crt';
export const DER_FILE = 'mok.der';

/** A CN openssl's -subj takes as written (no `/`, `\`, `=`, `+`, control characters). */
const CN_RE = /^[A-Za-z0-9][A-Za-z0-9 ._@(),:'-]{0,63}$/;

const EXTENSIONS = `[ req ]
distinguished_name = dn
x509_extensions = mok
prompt = no
[ dn ]
[ mok ]
basicConstraints = critical,CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function checkOptions(o: KeygenOptions): { cn: string; days: number; bits: number } {
  const cn = o.cn ?? 'kernelfile module signing key';
  if (!CN_RE.test(cn))
    throw new UserError(
      `--cn ${JSON.stringify(cn)} is not a usable certificate name`,
      "use 1 to 64 letters, digits, spaces and . _ @ ( ) , : ' - (starting with a letter or digit)",
    );
  const days = o.days ?? 36500;
  if (!Number.isInteger(days) || days < 1 || days > 36500)
    throw new UserError(`--days ${o.days} must be a whole number of days from 1 to 36500`);
  const bits = o.bits ?? 2048;
  if (bits !== 2048 && bits !== 4096) throw new UserError(`--bits ${o.bits} must be 2048 or 4096`);
  return { cn, days, bits };
}

/** Create a key pair for MOK; refuses (before creating anything) when one of its files exists. */
export async function keygen(o: KeygenOptions = {}): Promise<KeygenResult> {
  const { cn, days, bits } = checkOptions(o);
  const passEnv = o.passphraseEnv;
  if (passEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(passEnv))
      throw new UserError(`--passphrase-env ${passEnv} is not an environment variable name`);
    if (!(o.env ?? process.env)[passEnv])
      throw new UserError(
        `--passphrase-env ${passEnv}: the variable is not set (or empty)`,
        `export ${passEnv} with the key's passphrase, then run keygen again`,
      );
  }
  const dir = resolve(o.cwd ?? process.cwd(), o.out ?? 'keys');
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new UserError(`${dir} is not a directory`, 'name a directory with --out');
  const paths = { key: join(dir, KEY_FILE), certificate: join(dir, CERT_FILE), der: join(dir, DER_FILE) };
  const present = Object.values(paths).filter((p) => existsSync(p));
  if (present.length > 0)
    throw new UserError(
      `${present.join(', ')} already ${present.length > 1 ? 'exist' : 'exists'}: keygen never overwrites a key`,
      'keep the existing key (its certificate may be enrolled already), or name another directory with --out',
    );
  const tmp = await mkdtemp(join(tmpdir(), 'kf-keygen-'));
  try {
    const conf = join(tmp, 'openssl.cnf');
    await writeFile(conf, EXTENSIONS, { mode: 0o600 });
    const r = await runLocal(
      [
        'openssl',
        'req',
        '-x509',
        '-new',
        '-newkey',
        `rsa:${bits}`,
        ...(passEnv ? ['-passout', `env:${passEnv}`] : ['-nodes']),
        '-sha256',
        '-days',
        String(days),
        '-subj',
        `/CN=${cn}/`,
        '-config',
        conf,
        '-keyout',
        join(tmp, 'key.pem'),
        '-out',
        join(tmp, 'cert.pem'),
      ],
      {
        env: {
          OPENSSL_CONF: conf,
          ...(passEnv ? { [passEnv]: (o.env ?? process.env)[passEnv] as string } : {}),
        },
      },
    );
    if (r.code !== 0)
      throw new UserError(
        `openssl req failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
        r.code === 127 ? 'install openssl' : undefined,
      );
    const key = await readFile(join(tmp, 'key.pem'));
    const pem = await readFile(join(tmp, 'cert.pem'));
    const cert = new X509Certificate(pem);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The key first, exclusively: a file that appeared meanwhile is not overwritten.
    await writeExclusive(paths.key, key, 0o600);
    await writeExclusive(paths.certificate, pem, 0o644);
    await writeExclusive(paths.der, cert.raw, 0o644);
    // Keep private keys out of git: a .gitignore beside them, unless there is one.
    const gitignore = join(dir, '.gitignore');
    let wroteIgnore: string | null = null;
    if (!existsSync(gitignore)) {
      await writeExclusive(
        gitignore,
        Buffer.from('# private keys (kernelfile keygen): never commit them\n*.key\n'),
        0o644,
      );
      wroteIgnore = gitignore;
    }
    return {
      dir,
      ...paths,
      subject: cn,
      sha1: cert.fingerprint.replace(/:/g, '').toLowerCase(),
      notAfter: cert.validTo,
      passphraseEnv: passEnv ?? null,
      gitignore: wroteIgnore,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function writeExclusive(path: string, data: Buffer, mode: number): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`${path} already exists: keygen never overwrites a key`);
    throw new UserError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    await fh.chmod(mode); // the umask may have narrowed it
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}
