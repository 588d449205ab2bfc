/**
 * Fact family `space`: free and total bytes on the filesystems holding /boot and /lib/modules,
 * from `df -P -k` (POSIX output: one line per filesystem, never wrapped, 1024-byte blocks). One df
 * for both paths, its lines cut apart by the shell into the sections two runs would print; two runs
 * when that df fails or does not print one line per path. A path that does not exist is not asked
 * about (df would fail on it: no key, as for a failed run).
 */
import type { FactFamily, Sections } from './protocol.js';
import { okOutput } from './sections.js';
import type { FsSpace, SpaceFacts } from './types.js';

const script = `
kf_o=
if [ -e /boot ] && [ -e /lib/modules ]; then
  kf_capture df -P -k /boot /lib/modules || kf_o=
  # a header and exactly two lines
  case $kf_o in *"$kf__nl"*"$kf__nl"*"$kf__nl"*) kf_o= ;; *"$kf__nl"*"$kf__nl"*) ;; *) kf_o= ;; esac
fi
if [ -n "$kf_o" ]; then
  kf_hd=\${kf_o%%"$kf__nl"*}; kf_o=\${kf_o#*"$kf__nl"}
  kf_val boot "$kf_hd$kf__nl\${kf_o%%"$kf__nl"*}$kf__nl"; kf_val boot#rc 0
  kf_val modules "$kf_hd$kf__nl\${kf_o#*"$kf__nl"}$kf__nl"; kf_val modules#rc 0
else
  [ ! -e /boot ] || kf_run boot df -P -k /boot
  [ ! -e /lib/modules ] || kf_run modules df -P -k /lib/modules
fi
`;

/** Filesystem 1024-blocks Used Available Capacity Mounted-on (the filesystem name may hold spaces). */
const ROW = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s+(\/.*)$/;

export function parseDf(text: string | undefined, path: string): FsSpace | null {
  for (const line of (text ?? '').split('\n').slice(1)) {
    const m = line.match(ROW);
    if (!m) continue;
    return {
      path,
      filesystem: m[1] as string,
      mountPoint: m[5] as string,
      totalBytes: Number(m[2]) * 1024,
      usedBytes: Number(m[3]) * 1024,
      freeBytes: Number(m[4]) * 1024,
    };
  }
  return null;
}

function parse(s: Sections): SpaceFacts {
  return {
    boot: parseDf(okOutput(s, 'boot'), '/boot'),
    modules: parseDf(okOutput(s, 'modules'), '/lib/modules'),
  };
}

export const space: FactFamily<SpaceFacts> = { name: 'space', script, parse };
