/**
 * Boot Loader Specification type #1 entries (`loader/entries/*.conf`, read by systemd-boot and by
 * Fedora's GRUB `blscfg`), systemd-boot's loader.conf, and the EFI variables systemd-boot keeps.
 * Files are `key value` lines; `#` starts a comment.
 */
import type { BootEntry } from './types.js';
import { compareVersions } from './version.js';

/** key → values, in file order (initrd may repeat, options may repeat). */
export function parseKeyValues(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^(\S+)\s*(.*)$/);
    if (!m) continue;
    const key = m[1] as string;
    out.set(key, [...(out.get(key) ?? []), (m[2] as string).trim()]);
  }
  return out;
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * The release in an image name: vmlinuz-6.5.6-300.fc39.x86_64 → 6.5.6-300.fc39.x86_64. Releases
 * start with a digit; Arch's vmlinuz-linux names a package, which only `kernels` can map (link.ts).
 */
export function releaseFromImage(kernel: string | null): string | null {
  const m = kernel ? base(kernel).match(/^(?:vmlinuz|vmlinux|bzImage|Image|zImage)-(\d.*)$/) : null;
  return m ? (m[1] as string) : null;
}

/** A BLS entry with the keys that order the menu. */
export interface BlsEntry {
  entry: BootEntry;
  sortKey: string | null;
  machineId: string | null;
  version: string | null;
}

export function parseBlsEntry(file: string, text: string): BlsEntry {
  const kv = parseKeyValues(text);
  const one = (k: string) => kv.get(k)?.[0] ?? null;
  const id = base(file).replace(/\.conf$/, '');
  const kernel = one('linux') ?? one('efi');
  const options = kv.get('options');
  const version = one('version');
  return {
    entry: {
      id,
      title: one('title') ?? id,
      file,
      submenu: null,
      index: null,
      kernel,
      initrd: (kv.get('initrd') ?? []).flatMap((v) => v.split(/\s+/).filter(Boolean)),
      options: options ? options.join(' ') : null,
      release: version ?? releaseFromImage(kernel),
    },
    sortKey: one('sort-key'),
    machineId: one('machine-id'),
    version,
  };
}

const text = (a: string | null, b: string | null) =>
  (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;

/**
 * Menu order as systemd-boot sorts entries: those with a sort-key first, by sort-key, machine-id,
 * then version newest first; then by file name (the id with its `.conf`), newest first. GRUB's
 * blscfg on Fedora/RHEL also lists the newest kernel first.
 */
export function sortBls(entries: BlsEntry[]): BootEntry[] {
  return [...entries]
    .sort((a, b) => {
      const keyed = Number(a.sortKey === null) - Number(b.sortKey === null);
      if (keyed) return keyed;
      if (a.sortKey !== null && b.sortKey !== null) {
        const r =
          text(a.sortKey, b.sortKey) ||
          text(a.machineId, b.machineId) ||
          -compareVersions(a.version ?? '', b.version ?? '');
        if (r) return r;
      }
      return -compareVersions(`${a.entry.id}.conf`, `${b.entry.id}.conf`);
    })
    .map((e) => e.entry);
}

/** fnmatch(3) subset as systemd-boot uses for `default`: `*`, `?`, `[…]`. */
export function globMatch(pattern: string, s: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(s);
}

/** An entry matching a systemd-boot pattern, which names ids with their `.conf` (bare ids accepted too). */
export function findByPattern(sorted: BootEntry[], pattern: string): BootEntry | null {
  return sorted.find((e) => globMatch(pattern, `${e.id}.conf`) || globMatch(pattern, e.id)) ?? null;
}

/** An EFI variable as `od -An -v -tx1` printed it: 4 attribute bytes, then a NUL-terminated UTF-16LE string. */
export function decodeEfiString(hex: string | undefined): string | null {
  if (hex === undefined) return null;
  const bytes = hex
    .split(/\s+/)
    .filter((b) => /^[0-9a-f]{2}$/i.test(b))
    .map((b) => Number.parseInt(b, 16));
  let s = '';
  for (let i = 4; i + 1 < bytes.length; i += 2) {
    const code = (bytes[i] as number) | ((bytes[i + 1] as number) << 8);
    if (code === 0) break;
    s += String.fromCharCode(code);
  }
  return s === '' ? null : s;
}
