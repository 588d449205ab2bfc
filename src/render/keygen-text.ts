/** What `kernelfile keygen` prints: the files, the `signing:` lines to paste, and the next steps. */
import { relative } from 'node:path';
import type { KeygenResult } from '../engine/keygen.js';
import type { Style } from './style.js';

export function renderKeygen(r: KeygenResult, cwd: string, style: Style): string {
  const rel = (p: string) => {
    const x = relative(cwd, p);
    return x.startsWith('..') ? p : x;
  };
  const colons = r.sha1.match(/../g)?.join(':') ?? r.sha1;
  return [
    `${style('ok', 'created')} a module signing key pair for ${r.subject} (valid until ${r.notAfter})`,
    `  ${rel(r.key)}   private key (PEM, mode 0600${r.passphraseEnv ? `, encrypted with the passphrase in $${r.passphraseEnv}` : ''}: keep it on this machine, never on a host)`,
    `  ${rel(r.certificate)}   certificate (PEM: the kernel embeds it)`,
    `  ${rel(r.der)}   certificate (DER: what mokutil --import enrols)`,
    `  SHA-1 ${colons}`,
    ...(r.gitignore ? [`  ${rel(r.gitignore)}   keeps *.key out of git`] : []),
    '',
    'Add to the kernelfile (paths are relative to the kernelfile; adjust if it lives elsewhere):',
    '',
    '  signing:',
    `    key: ${rel(r.key)}`,
    `    certificate: ${rel(r.certificate)}`,
    ...(r.passphraseEnv ? [`    passphraseEnv: ${r.passphraseEnv}`] : []),
    '',
    'Next steps:',
    '  1. Keep the key out of version control and back it up somewhere safe: modules',
    '     signed with it load only while its certificate stays enrolled.',
    '  2. Hosts with Secure Boot on must enrol the certificate as a Machine Owner Key: `kernelfile',
    '     plan` adds the enrolment (`mokutil --import`) when it is missing; give the one-time',
    '     password with --mok-password-file. By hand: `mokutil --import mok.der` on the host.',
    '  3. At the next boot the MOK manager (shim) asks on the console to enrol the key: choose',
    '     "Enroll MOK", check the fingerprint above and type the same one-time password.',
    '',
  ].join('\n');
}
