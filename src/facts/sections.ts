/**
 * Reading sections in parse functions: first lines, kf_run exit statuses, kf_ls listings, keys
 * by prefix. Pure helpers over the `Sections` that protocol.ts splits out of the script output.
 */
import type { Sections } from './protocol.js';

/** The first line of a section, trimmed; null when absent or empty. */
export function firstLine(s: string | undefined): string | null {
  if (s === undefined) return null;
  const line = (s.split('\n')[0] ?? '').trim();
  return line === '' ? null : line;
}

/** The exit status kf_run recorded for KEY (null: the command was not found). */
export function exitCode(sections: Sections, key: string): number | null {
  const v = firstLine(sections[`${key}#rc`]);
  return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}

/** The output of a command that ran and exited 0, else undefined. */
export function okOutput(sections: Sections, key: string): string | undefined {
  return exitCode(sections, key) === 0 ? sections[key] : undefined;
}

export type EntryType = 'dir' | 'file' | 'other' | 'dangling';
export interface ListEntry {
  name: string;
  type: EntryType;
  symlink: boolean;
}

const TYPES: Record<string, { type: EntryType; symlink: boolean }> = {
  d: { type: 'dir', symlink: false },
  f: { type: 'file', symlink: false },
  o: { type: 'other', symlink: false },
  ld: { type: 'dir', symlink: true },
  lf: { type: 'file', symlink: true },
  'l-': { type: 'dangling', symlink: true },
};

/** One kf_type code, as kf_exists prints it. */
export function entryType(code: string | undefined): { type: EntryType; symlink: boolean } | null {
  return code === undefined ? null : (TYPES[code.trim()] ?? null);
}

/** A kf_ls section: the directory's entries (null when the directory was not listed). */
export function parseListing(s: string | undefined): ListEntry[] | null {
  if (s === undefined) return null;
  const out: ListEntry[] = [];
  for (const line of s.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 1) continue;
    const t = TYPES[line.slice(0, sp)];
    const name = line.slice(sp + 1);
    if (t && name) out.push({ name, ...t });
  }
  return out;
}

/** Keys of a family that start with `prefix`, without it, ignoring `#rc`/`#stderr`/`#denied` companions. */
export function keysWithPrefix(sections: Sections, prefix: string): string[] {
  return Object.keys(sections)
    .filter((k) => k.startsWith(prefix) && !/#(rc|stderr|denied)$/.test(k))
    .map((k) => k.slice(prefix.length));
}
