/**
 * Resource `mok-enrollment`: the build's signing certificate as a Machine Owner Key. When the host
 * has Secure Boot on and the certificate is neither enrolled nor waiting for the next boot, the
 * plan requests its enrolment (`mokutil --import`, with the one-time password the user types again
 * on the console when the MOK manager asks at the next boot), or, with `signing.enroll: false`,
 * refuses: the modules would not load. With Secure Boot off it notes that nothing is enforced.
 * The `installed: true` DKMS modules are built by the host's own dkms: signed with its key if it has
 * one configured, else unsigned (a warning when Secure Boot is on). Planned before the kernel: an
 * enrolment takes effect at the next boot, which should be the one into the new kernel.
 */

import type { SecureBootFacts } from '../facts/types.js';
import { STATE_DIR } from '../receipt/paths.js';
import type { PlannedChange, SecureBootPlan } from './change.js';
import { type Ctx, change, problem } from './context.js';
import type { SigningFacts } from './desired.js';
import type { Resource } from './resource.js';

/** Where the certificate goes on the host for `mokutil --import` (public data, kept for reference). */
export const mokCertPath = (sha1: string) => `${STATE_DIR}/mok/${sha1}.der`;

/** aa:bb:… as mokutil --list-enrolled and the MOK manager show it. */
export const colons = (sha1: string) => sha1.match(/../g)?.join(':') ?? sha1;

const OFF: Record<Exclude<SecureBootFacts['state'], 'enabled' | 'unknown'>, string> = {
  disabled: 'off',
  'setup-mode': 'off (the firmware is in setup mode)',
  'not-efi': 'off (the host does not boot through UEFI)',
};

export const PASSWORD_OPTION = '--mok-password-file';

function enrolmentChange(ctx: Ctx, s: SigningFacts, who: string, listUnknown: boolean): PlannedChange {
  const path = mokCertPath(s.sha1);
  return change({
    address: { kind: 'mok-enrollment', sha1: s.sha1 },
    action: 'create',
    before: null,
    after: `${s.subject} (${colons(s.sha1)})`,
    reason: `Secure Boot is on and ${who} is ${listUnknown ? 'not known to be enrolled (mokutil could not list the enrolled keys)' : 'not enrolled'}: mokutil --import requests its enrolment; at the next boot the MOK manager asks on the console for the one-time password`,
    steps: [
      {
        kind: 'mok-import',
        title: `request the enrolment of ${s.subject} at the next boot (mokutil --import ${path}, the one-time password on its standard input)`,
        path,
        certificate: s.certificateDerBase64,
        sha1: s.sha1,
        sudo: ctx.sudo,
      },
    ],
  });
}

/** The host's dkms signs the modules it builds with its own key: is that key's certificate enrolled? */
function hostDkms(sb: SecureBootFacts | undefined): SecureBootPlan['hostDkms'] {
  const d = sb?.dkms;
  if (!d?.key || d.keyExists === false) return null;
  const enrolled = d.certificateSha1 && sb?.enrolled ? sb.enrolled.sha1.includes(d.certificateSha1) : null;
  return { key: d.key, certificate: d.certificate, enrolled };
}

function plan(ctx: Ctx): PlannedChange[] {
  const s = ctx.d.signing;
  if (!s) return [];
  const { f } = ctx;
  const sb = ctx.image ? undefined : f.secureboot;
  const state: SecureBootPlan['state'] = sb?.state ?? 'unknown';
  const who = `the signing certificate ${s.subject} (SHA-1 ${colons(s.sha1)})`;
  const enrolled = sb?.enrolled ? sb.enrolled.sha1.includes(s.sha1) : null;
  const pending = sb?.pending ? sb.pending.sha1.includes(s.sha1) : null;
  const changes: PlannedChange[] = [];
  let enrolment: SecureBootPlan['enrolment'];
  let passwordGiven: boolean | null = null;
  if (ctx.image) {
    enrolment = 'unknown';
    ctx.notes.push(
      `an image: the Secure Boot state of the machine that boots it is not known here; if it has Secure Boot on, enrol ${who} there (\`mokutil --import\` of the DER certificate, then the one-time password on the console at the next boot)`,
    );
  } else if (state === 'enabled') {
    if (enrolled) {
      enrolment = 'enrolled';
      ctx.notes.push(`Secure Boot is on and ${who} is enrolled: the signed modules load`);
    } else if (pending) {
      enrolment = 'pending';
      ctx.notes.push(
        `Secure Boot is on and the enrolment of ${who} is pending: at the next boot the MOK manager asks on the console for the one-time password given to mokutil; until it is confirmed there, the signed modules do not load`,
      );
    } else if (!s.enroll) {
      if (enrolled === null) {
        enrolment = 'unknown';
        ctx.warnings.push(
          `Secure Boot is on and whether ${who} is enrolled is not known (${sb?.mokutil ? 'mokutil could not list the enrolled keys' : 'mokutil is not installed'}): the modules load only if it is`,
        );
      } else {
        enrolment = 'refused';
        problem(
          ctx,
          'mok-not-enrolled',
          `Secure Boot is on and ${who} is not enrolled on ${f.host}: the new kernel's modules will not load (signing.enroll is false)`,
          `enrol it by hand (on the host: \`mokutil --import\` of the DER certificate, e.g. keys/mok.der from \`kernelfile keygen\`; then type the one-time password on the console at the next boot), or set signing.enroll: true so the plan enrols it (with ${PASSWORD_OPTION})`,
        );
      }
    } else if (!sb?.mokutil) {
      enrolment = 'unknown';
      problem(
        ctx,
        'no-mokutil',
        `Secure Boot is on and ${f.host} has no mokutil: kernelfile cannot tell whether ${who} is enrolled, nor enrol it`,
        'install mokutil on the host (apt-get install mokutil, dnf install mokutil), or enrol the certificate by hand and set signing.enroll: false',
      );
    } else {
      enrolment = 'enrol';
      passwordGiven = ctx.mokPassword;
      changes.push(enrolmentChange(ctx, s, who, enrolled === null));
      ctx.notes.push(
        `at the next boot the MOK manager (shim) stops on the console: choose "Enroll MOK", check the fingerprint ${colons(s.sha1)}, and type the one-time password${ctx.mokPassword ? ` from ${PASSWORD_OPTION}` : ''}; someone must be at the console (with --reboot, the host comes back only after that)`,
      );
      if (!ctx.mokPassword)
        ctx.notes.push(
          `the enrolment needs a one-time password: give it with ${PASSWORD_OPTION} FILE (apply refuses without it, before changing anything)`,
        );
    }
  } else if (state === 'unknown') {
    enrolment = 'unknown';
    ctx.notes.push(
      `whether Secure Boot is on is not known (the EFI variables could not be read and mokutil did not say: gather with --sudo, or install mokutil); if it is on, ${who} must be enrolled for the modules to load`,
    );
  } else {
    enrolment = 'not-needed';
    ctx.notes.push(
      `Secure Boot is ${OFF[state]}: signatures are not enforced; the kernel and modules are signed all the same`,
    );
  }
  if (sb?.shimValidationDisabled)
    ctx.notes.push('shim does not verify signatures on this host (mokutil --disable-validation)');

  const onHost = ctx.d.modules.filter((m) => m.installed);
  const dkms = onHost.length ? hostDkms(sb) : null;
  const names = onHost.map((m) => `${m.name} ${m.version}`).join(', ');
  if (onHost.length && dkms) {
    const status =
      dkms.enrolled === true
        ? 'its certificate is enrolled'
        : dkms.enrolled === false
          ? 'its certificate is NOT enrolled: with Secure Boot on they will not load until it is'
          : 'whether its certificate is enrolled is not known';
    const line = `${names} (installed: true) are built by dkms on the host, which signs them with its own key ${dkms.key}; ${status}`;
    if (state === 'enabled' && dkms.enrolled === false) ctx.warnings.push(line);
    else ctx.notes.push(line);
  } else if (onHost.length && state === 'enabled')
    ctx.warnings.push(
      `${names} (installed: true) will not load with Secure Boot on: unsigned (dkms on the host builds them and has no signing key configured: set mok_signing_key and mok_certificate in /etc/dkms/framework.conf to an enrolled key, or give the modules a \`path\` so they are built and signed on the controller)`,
    );
  ctx.secureBoot = {
    state,
    certificate: { subject: s.subject, sha1: s.sha1 },
    enrolment,
    passwordGiven,
    hostDkms: dkms,
  };
  return changes;
}

export const mokEnrollment: Resource = { name: 'mok-enrollment', order: 5, installs: false, plan };
