/**
 * Fact family `space`: free and total bytes on the filesystems holding /boot and /lib/modules,
 * from `df -P -k` (POSIX output: one line per filesystem, never wrapped, 1024-byte blocks).
 */
import type { FactFamily, Sections } from './protocol.js';
import { okOutput } from './sections.js';
import type { FsSpace, SpaceFacts } from './types.js';

const script = `
kf_run boot df -P -k /boot
kf_run modules df -P -k /lib/modules
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
