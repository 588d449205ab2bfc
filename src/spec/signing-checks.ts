/**
 * The semantic checks of `signing:` (called from semantic.ts, which resolved and stat'ed the files):
 * the key and certificate are what they claim, belong together, the certificate is valid now and may
 * sign code, the key is not readable by others, a passphrase is where the kernelfile says, and the
 * kernelfile does not set by hand what signing manages.
 */
import type { Diagnostic, PathSegment } from './diagnostic.js';
import type { FileRole, ResolvedFile } from './paths.js';
import type { SemanticEnv } from './semantic.js';
import {
  type CertProblem,
  certificateProblems,
  keyMatches,
  parseCertificate,
  parsePrivateKey,
  SIGNING_READ_LIMIT,
} from './signing.js';

type Report = (path: PathSegment[], code: string, message: string, hint?: string, key?: boolean) => void;

/** The Kconfig options kernelfile sets when `signing.modules` is on (src/compile/signing-config.ts). */
export const MANAGED_SIGNING_SYMBOLS = [
  'CONFIG_MODULE_SIG',
  'CONFIG_MODULE_SIG_ALL',
  'CONFIG_MODULE_SIG_KEY',
] as const;

export interface SigningCheckInput {
  signing: Record<string, unknown> | undefined;
  buildOn: string | undefined;
  /** The key and certificate files that exist and are regular files (others were reported). */
  files: Map<FileRole, ResolvedFile>;
  /** Where a Kconfig symbol is requested (fragments, config.set), with its value. */
  requested: (
    symbol: string,
  ) => { value: string; file: string; line: number; label: string; path?: PathSegment[] } | undefined;
  env: SemanticEnv;
  err: Report;
  warn: Report;
  at: (path: PathSegment[], d: Omit<Diagnostic, 'file' | 'line' | 'column' | 'path'>) => void;
  push: (d: Diagnostic) => void;
}

export function checkSigning(c: SigningCheckInput): void {
  const s = c.signing;
  if (!s) return;
  const { env, err, warn } = c;
  if (c.buildOn === 'host')
    err(
      ['build', 'on'],
      'signing-build-on-host',
      'signing: with build.on: host would need the private key on every host; the key never leaves the controller',
      'build on the controller (build.on: controller, the default), or remove signing:',
    );

  const passEnv = typeof s.passphraseEnv === 'string' ? s.passphraseEnv : undefined;
  const report = (path: PathSegment[], p: CertProblem) => err(path, p.code, p.message, p.hint);
  const read = (f: ResolvedFile): string | undefined => {
    const text = env.fs.readText(f.abs, SIGNING_READ_LIMIT);
    if (text === undefined) return undefined;
    if (typeof text !== 'string') {
      err(f.path, 'unreadable-file', `${f.what} ${f.written}: ${text.error}`, 'point it at the PEM file');
      return undefined;
    }
    return text;
  };

  const certFile = c.files.get('signing-certificate');
  const keyFile = c.files.get('signing-key');
  let cert: ReturnType<typeof parseCertificate> | undefined;
  if (certFile) {
    const text = read(certFile);
    if (text !== undefined) {
      cert = parseCertificate(text, certFile.written);
      if ('code' in cert) {
        report(certFile.path, cert);
        cert = undefined;
      } else
        for (const p of certificateProblems(cert, certFile.written, env.now ?? new Date()))
          report(certFile.path, p);
    }
  }
  if (typeof s.key === 'string' && s.key.startsWith('pkcs11:')) {
    const p = parsePrivateKey('', s.key, {});
    if ('code' in p) report(['signing', 'key'], p);
  }
  if (keyFile) {
    const mode = env.fs.mode?.(keyFile.abs);
    if (mode !== undefined && (mode & 0o044) !== 0)
      warn(
        keyFile.path,
        'signing-key-permissions',
        `signing.key ${keyFile.written} is readable by ${mode & 0o004 ? 'every user' : 'its group'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`,
        `keep it to yourself: chmod 600 ${keyFile.written}`,
      );
    const text = read(keyFile);
    if (text !== undefined) {
      const value = passEnv !== undefined ? env.vars?.[passEnv] : undefined;
      const key = parsePrivateKey(text, keyFile.written, {
        ...(passEnv !== undefined ? { env: passEnv } : {}),
        ...(value !== undefined ? { value } : {}),
      });
      if ('code' in key)
        report(
          key.code === 'signing-key-passphrase' && passEnv ? ['signing', 'passphraseEnv'] : keyFile.path,
          key,
        );
      else if (cert && certFile && !('code' in cert) && !keyMatches(cert, key))
        err(
          keyFile.path,
          'signing-key-mismatch',
          `signing.key ${keyFile.written} does not belong to signing.certificate ${certFile.written}`,
          'name the key the certificate was made for, or make a new pair with `kernelfile keygen`',
        );
    }
  }

  // What signing manages is not also set by hand.
  if (s.modules !== false)
    for (const symbol of MANAGED_SIGNING_SYMBOLS) {
      const r = c.requested(symbol);
      if (!r) continue;
      const d = {
        severity: 'error' as const,
        code: 'signing-managed-option',
        message: `${symbol} is set by kernelfile when signing.modules is on (here: ${r.value})`,
        hint: `remove ${symbol} from ${r.path ? 'config.set' : r.label}; set signing.modules: false to configure module signing yourself`,
      };
      if (r.path) c.at(r.path, d);
      else c.push({ ...d, file: r.file, line: r.line, column: 1 });
    }
}
