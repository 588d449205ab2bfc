/**
 * Fact family `secureboot`: is Secure Boot on, which Machine Owner Keys are enrolled or waiting for
 * the next boot, and does the host's dkms sign the modules it builds.
 *   EFI variables  SecureBoot and SetupMode (global GUID): 4 attribute bytes, then the value byte
 *                  (read bounded: `head -c`); MokSBStateRT (shim GUID) exists when shim does not verify
 *   mokutil        `--sb-state` (where the variables cannot be read), `--list-enrolled`, `--list-new`:
 *                  only the `[key N]` and `SHA1 Fingerprint:` lines are kept, bounded
 *   dkms           mok_signing_key / mok_certificate in /etc/dkms/framework.conf and
 *                  framework.conf.d/*.conf; whether the files exist (the key is never read), and the
 *                  certificate (bounded) for its SHA-1
 * An image (root:DIR) has no firmware of its own: /sys there is this machine's, so neither the
 * variables nor mokutil are read (the state is `unknown`); its dkms configuration is files, read.
 */
import { createHash } from 'node:crypto';
import type { FactFamily, Sections } from './protocol.js';
import { entryType, exitCode, firstLine, keysWithPrefix } from './sections.js';
import { parseAssignments } from './shell-words.js';
import type { DkmsSigningFacts, MokList, SecureBootFacts, SecureBootState } from './types.js';

export const EFI_GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
export const SHIM_GUID = '605dab50-e046-4300-abb6-3dd810dd8b23';
const EFIVARS = '/sys/firmware/efi/efivars';
/** dkms 3.x's defaults, used (and generated) when framework.conf sets no key. */
export const DKMS_DEFAULT_KEY = '/var/lib/dkms/mok.key';
export const DKMS_DEFAULT_CERT = '/var/lib/dkms/mok.pub';
/** The most of a dkms configuration file, and of a certificate, that is read. */
const CONF_MAX = 64 * 1024;
/** The most lines of a dkms configuration file looked at for its key paths (by the shell: no process). */
const CONF_MAX_LINES = 2000;
const CERT_MAX = 16 * 1024;
/** The most mokutil listing lines kept (two per key). */
const LIST_MAX_LINES = 4096;

/**
 * kf_headhex KEY PATH N: the first N bytes of a file, as hex bytes.
 * kf_dkmskeys: kf_keys and kf_certs, the paths the text kf_grab just read (kf_b) assigns to
 * mok_signing_key and mok_certificate (quotes stripped), for the existence checks; the parse reads
 * the files' text itself.
 * kf_mok KEY ARG: mokutil's listing, only the lines the parse reads, then KEY#rc (fd 4: stdout, as
 * each call redirects it).
 */
const script = `
kf_headhex() {
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_h "$1"; head -c "$3" "$2" </dev/null | od -An -v -tx1; echo
}
kf_dkmskeys() {
  kf_keys=; kf_certs=; kf_n=0; kf_rest=$kf_b
  while [ -n "$kf_rest" ] && [ $kf_n -lt ${CONF_MAX_LINES} ]; do
    kf_l=\${kf_rest%%"$kf__nl"*}; kf_rest=\${kf_rest#"$kf_l"}; kf_rest=\${kf_rest#"$kf__nl"}
    kf_n=$((kf_n + 1))
    kf_l=\${kf_l#"\${kf_l%%[![:space:]]*}"}
    case $kf_l in
      mok_signing_key=*|mok_certificate=*)
        kf_v=\${kf_l#*=}; kf_v=\${kf_v#[$kf_q]}; kf_v=\${kf_v%%[$kf_q[:space:]]*}
        kf_keys="$kf_keys $kf_v"
        case $kf_l in mok_certificate=*) kf_certs="$kf_certs $kf_v" ;; esac ;;
    esac
  done
}
kf_q="\\"'"
kf_mok() {
  kf_h "$1"
  kf_r=$( { { "$kf_m" "$2" </dev/null 2>/dev/null; echo $? >&3; } | grep -E '^(\\[key [0-9]+\\]|SHA1 Fingerprint: |[A-Za-z]+ is empty)' | head -n ${LIST_MAX_LINES} >&4; } 3>&1 )
  echo
  kf_val "$1#rc" "$kf_r"
}
if [ -n "\${kf_image-}" ]; then
  kf_val image 1
else
  kf_exists efi /sys/firmware/efi
  kf_exists efivars ${EFIVARS}
  kf_sb=; kf_headhex var:SecureBoot ${EFIVARS}/SecureBoot-${EFI_GLOBAL_GUID} 16 && kf_sb=1
  kf_headhex var:SetupMode ${EFIVARS}/SetupMode-${EFI_GLOBAL_GUID} 16
  kf_exists var:MokSBStateRT ${EFIVARS}/MokSBStateRT-${SHIM_GUID}
  if [ -d /sys/firmware/efi ] && kf_find mokutil; then
    kf_m=$kf_p
    kf_val mokutil "$kf_m"
    [ -n "$kf_sb" ] || kf_run_err sb-state mokutil --sb-state
    kf_mok enrolled --list-enrolled 4>&1
    kf_mok new --list-new 4>&1
  fi
fi
for kf_x in /etc/dkms/framework.conf /etc/dkms/framework.conf.d/*.conf; do
  kf_grab "conf:$kf_x" "$kf_x" ${CONF_MAX} || continue
  kf_dkmskeys
  for kf_v in $kf_keys; do
    case $kf_v in /*) kf_exists "exists:$kf_v" "$kf_v" ;; esac
  done
  for kf_v in $kf_certs; do
    case $kf_v in /*) kf_headhex "cert:$kf_v" "$kf_v" ${CERT_MAX} ;; esac
  done
done
kf_exists "exists:${DKMS_DEFAULT_KEY}" ${DKMS_DEFAULT_KEY}
kf_exists "exists:${DKMS_DEFAULT_CERT}" ${DKMS_DEFAULT_CERT}
kf_headhex "cert:${DKMS_DEFAULT_CERT}" ${DKMS_DEFAULT_CERT} ${CERT_MAX}
`;

/** `od -An -tx1` output → bytes; null when it is not only hex byte pairs. */
export function hexBytes(text: string | undefined): Buffer | null {
  if (text === undefined) return null;
  const words = text.split(/\s+/).filter(Boolean);
  if (!words.every((w) => /^[0-9a-f]{2}$/.test(w))) return null;
  return Buffer.from(words.join(''), 'hex');
}

/** An EFI variable's value byte (after the 4 attribute bytes); null when absent or malformed. */
export function efiByte(text: string | undefined): number | null {
  const b = hexBytes(text);
  return b && b.length >= 5 ? (b[4] as number) : null;
}

/** `mokutil --sb-state` (any version): the state it printed, or null. */
export function parseSbState(stdout: string | undefined, stderr: string | undefined): SecureBootState | null {
  const lines = `${stdout ?? ''}\n${stderr ?? ''}`.split('\n').map((l) => l.trim());
  if (lines.includes('Platform is in Setup Mode')) return 'setup-mode';
  if (lines.includes('SecureBoot enabled')) return 'enabled';
  if (lines.includes('SecureBoot disabled')) return 'disabled';
  if (lines.some((l) => /^This system does(?:n)?'t support Secure Boot$/.test(l))) return 'disabled';
  if (lines.includes('EFI variables are not supported on this system')) return 'not-efi';
  return null;
}

/** A 40-hex-digit SHA-1, with or without colons → lower-case hex without; null otherwise. */
export function normaliseSha1(text: string): string | null {
  const t = text.trim().toLowerCase();
  if (/^[0-9a-f]{2}(?::[0-9a-f]{2}){19}$/.test(t) || /^[0-9a-f]{40}$/.test(t)) return t.replace(/:/g, '');
  return null;
}

/**
 * A mokutil listing (`--list-enrolled`, `--list-new`, verbose: the default): `[key N]`, then for a
 * certificate `SHA1 Fingerprint: aa:bb:…` and openssl's text of it, for a hash its type and value.
 * `MokListRT is empty` / `MokNew is empty` (older mokutil), or nothing at all (0.7), when none.
 * null when mokutil did not run or failed (unknown, not empty).
 */
export function parseMokList(s: Sections, key: string): MokList | null {
  const rc = exitCode(s, key);
  if (rc !== 0) return null;
  const text = s[key] ?? '';
  const sha1: string[] = [];
  let keys = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^\[key \d+\]$/.test(line)) keys++;
    else if (line.startsWith('SHA1 Fingerprint: ')) {
      const fp = normaliseSha1(line.slice('SHA1 Fingerprint: '.length));
      if (fp && !sha1.includes(fp)) sha1.push(fp);
    }
  }
  return { sha1, hashes: Math.max(0, keys - sha1.length) };
}

/** SHA-1 of a certificate file's bytes (DER, or the first PEM certificate in it); null if neither. */
export function certificateSha1(bytes: Buffer | null): string | null {
  if (!bytes || bytes.length === 0) return null;
  let der: Buffer = bytes;
  const text = bytes.toString('latin1');
  const pem = text.match(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/);
  if (pem) der = Buffer.from((pem[1] ?? '').replace(/\s+/g, ''), 'base64');
  else if (bytes[0] !== 0x30) return null; // a DER certificate is an ASN.1 SEQUENCE
  if (der.length < 16) return null;
  return createHash('sha1').update(der).digest('hex');
}

const isPath = (p: string | null): p is string => p?.startsWith('/') === true && !/[$`\s]/.test(p);

function existsIn(s: Sections, path: string | null): boolean | null {
  if (!isPath(path)) return null;
  return entryType(s[`exists:${path}`]) !== null;
}

/** dkms's signing configuration: the conf files in dkms's order, the last assignment winning. */
export function parseDkmsSigning(s: Sections): DkmsSigningFacts {
  const files = keysWithPrefix(s, 'conf:').sort((a, b) =>
    a === '/etc/dkms/framework.conf' ? -1 : b === '/etc/dkms/framework.conf' ? 1 : a < b ? -1 : 1,
  );
  let key: string | null = null;
  let certificate: string | null = null;
  let from: string | null = null;
  for (const f of files) {
    const v = parseAssignments(s[`conf:${f}`] ?? '');
    const k = v.mok_signing_key;
    const c = v.mok_certificate;
    if (k) key = k;
    if (c) certificate = c;
    if (k || c) from = f;
  }
  if (key === null && certificate === null && existsIn(s, DKMS_DEFAULT_KEY)) {
    key = DKMS_DEFAULT_KEY;
    certificate = DKMS_DEFAULT_CERT;
    from = 'default';
  }
  const certKey = isPath(certificate) ? `cert:${certificate}` : null;
  return {
    from,
    key,
    certificate,
    keyExists: existsIn(s, key),
    certificateExists: existsIn(s, certificate),
    certificateSha1: certKey ? certificateSha1(hexBytes(s[certKey])) : null,
  };
}

function parse(s: Sections): SecureBootFacts {
  const dkms = parseDkmsSigning(s);
  if (s.image !== undefined)
    return {
      state: 'unknown',
      source: null,
      shimValidationDisabled: false,
      mokutil: null,
      enrolled: null,
      pending: null,
      dkms,
    };
  const efi = entryType(s.efi)?.type === 'dir';
  const efivars = entryType(s.efivars)?.type === 'dir';
  const sb = efiByte(s['var:SecureBoot']);
  const setup = efiByte(s['var:SetupMode']);
  const sbDenied = s['var:SecureBoot#denied'] !== undefined;
  let state: SecureBootState = 'unknown';
  let source: SecureBootFacts['source'] = null;
  if (!efi) {
    state = 'not-efi';
    source = 'efivars';
  } else if (sb !== null) {
    source = 'efivars';
    state = setup === 1 ? 'setup-mode' : sb === 1 ? 'enabled' : sb === 0 ? 'disabled' : 'unknown';
  } else if (efivars && !sbDenied && s['var:SecureBoot'] === undefined) {
    // The variables are mounted and readable, and there is no SecureBoot: firmware without it.
    state = 'disabled';
    source = 'efivars';
  }
  if (state === 'unknown') {
    const fromMokutil = parseSbState(s['sb-state'], s['sb-state#stderr']);
    if (fromMokutil) {
      state = fromMokutil;
      source = 'mokutil';
    }
  }
  if (state === 'unknown') source = null;
  return {
    state,
    source,
    shimValidationDisabled: entryType(s['var:MokSBStateRT']) !== null,
    mokutil: firstLine(s.mokutil),
    enrolled: parseMokList(s, 'enrolled'),
    pending: parseMokList(s, 'new'),
    dkms,
  };
}

export const secureboot: FactFamily<SecureBootFacts> = { name: 'secureboot', script, parse };
