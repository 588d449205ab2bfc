/** The Secure Boot line of a plan (text and Markdown): the state, and where the signing certificate stands. */
import type { SecureBootPlan } from '../plan/types.js';

const STATE: Record<SecureBootPlan['state'], string> = {
  enabled: 'on',
  disabled: 'off',
  'setup-mode': 'off (setup mode)',
  'not-efi': 'off (not UEFI)',
  unknown: 'unknown',
};

const ENROLMENT: Record<SecureBootPlan['enrolment'], string> = {
  enrolled: 'enrolled',
  pending: 'enrolment pending (confirm on the console at the next boot)',
  enrol:
    'not enrolled: this plan enrols it (mokutil --import; the one-time password on the console at the next boot)',
  refused: 'not enrolled, and signing.enroll is false',
  unknown: 'enrolment unknown',
  'not-needed': 'enrolment not needed',
};

const colons = (sha1: string) => sha1.match(/../g)?.join(':') ?? sha1;

/** `on; certificate CN (SHA-1 aa:…) enrolled`; the subject is the kernelfile's (escaped by the caller). */
export function secureBootLine(sb: SecureBootPlan): string {
  const password =
    sb.enrolment === 'enrol' && sb.passwordGiven === false ? '; needs --mok-password-file' : '';
  return `${STATE[sb.state]}; certificate ${sb.certificate.subject} (SHA-1 ${colons(sb.certificate.sha1)}) ${ENROLMENT[sb.enrolment]}${password}`;
}
