/** Fact family `system`: architecture, distribution, running kernel, command line, hostname. */
import { BOOT_ID } from '../receipt/decode.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, okOutput } from './sections.js';
import { parseAssignments } from './shell-words.js';
import type { Distro, SystemFacts } from './types.js';

/** Families that decide by distribution read os-release themselves (each family parses alone). */
export const OS_RELEASE_SCRIPT =
  'kf_text os-release /etc/os-release || kf_text os-release /usr/lib/os-release';

/**
 * An image (\`kf_image\` set: a root filesystem directory) runs no kernel of its own: what uname
 * and /proc say there are this machine's, so they are not read; its hostname is /etc/hostname.
 */
const script = `
kf_proc arch /proc/sys/kernel/arch uname -m
if [ -n "\${kf_image-}" ]; then
  kf_val image 1
  kf_text etc-hostname /etc/hostname
else
  kf_proc release /proc/sys/kernel/osrelease uname -r
  kf_proc version /proc/sys/kernel/version uname -v
  kf_proc hostname /proc/sys/kernel/hostname uname -n
fi
${OS_RELEASE_SCRIPT}
if [ -z "\${kf_image-}" ]; then kf_line cmdline /proc/cmdline; kf_line boot-id /proc/sys/kernel/random/boot_id; fi
kf_line machine-id /etc/machine-id
# the effective uid (id -u) from the shell's own /proc/self/status: Uid: real effective saved fs
kf_u=; while read -r kf_k kf_r kf_e kf_x; do [ "$kf_k" = Uid: ] && { kf_u=$kf_e; break; }; done </proc/self/status
case $kf_u in ''|*[!0-9]*) kf_run uid id -u ;; *) kf_val uid "$kf_u"; kf_val uid#rc 0 ;; esac
`;

/** A hostname as /etc/hostname holds it (first line), when it is one. */
function imageHostname(text: string | undefined): string | null {
  const name = firstLine(text ?? '')?.trim() ?? '';
  return /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(name) ? name : null;
}

/** /etc/os-release (shell-style assignments). */
export function parseOsRelease(text: string | undefined): Distro {
  const v = parseAssignments(text ?? '');
  const or = (s: string | undefined) => (s === undefined || s === '' ? null : s);
  return {
    id: or(v.ID),
    idLike: (v.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
    versionId: or(v.VERSION_ID),
    prettyName: or(v.PRETTY_NAME),
  };
}

/** The distribution and the distributions it resembles, most specific first. */
export function distroFamily(d: Distro): string[] {
  return [...(d.id ? [d.id] : []), ...d.idLike];
}

function parse(s: Sections): SystemFacts {
  const uid = firstLine(okOutput(s, 'uid'));
  if (s.image !== undefined)
    return {
      arch: firstLine(okOutput(s, 'arch')),
      running: null,
      kernelVersion: null,
      hostname: imageHostname(s['etc-hostname']),
      distro: parseOsRelease(s['os-release']),
      cmdline: null,
      machineId: firstLine(s['machine-id']),
      bootId: null,
      uid: uid !== null && /^\d+$/.test(uid) ? Number(uid) : null,
    };
  const cmdline = s.cmdline?.replace(/\n+$/, '') ?? null;
  return {
    arch: firstLine(okOutput(s, 'arch')),
    running: firstLine(okOutput(s, 'release')),
    kernelVersion: firstLine(okOutput(s, 'version')),
    hostname: firstLine(okOutput(s, 'hostname')),
    distro: parseOsRelease(s['os-release']),
    cmdline: cmdline === '' ? null : cmdline,
    machineId: firstLine(s['machine-id']),
    bootId: bootIdOf(s['boot-id']),
    uid: uid !== null && /^\d+$/.test(uid) ? Number(uid) : null,
  };
}

/** The boot id when it is one (a UUID), else null. */
function bootIdOf(text: string | undefined): string | null {
  const id = firstLine(text ?? '')?.trim() ?? '';
  return BOOT_ID.test(id) ? id : null;
}

export const system: FactFamily<SystemFacts> = { name: 'system', script, parse };
