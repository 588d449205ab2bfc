/**
 * `dkms status` lines, in every format dkms has printed:
 *   3.x   name/version, kernel, arch: state [note]      name/version: added
 *   2.x   name, version, kernel, arch: state [note]     name, version: added
 *   old   name, version, kernel: state                  (before arch was printed)
 * Notes: "(Original modules exist)", "(WARNING! Diff between built and installed module!)",
 * "from 5.4.0-89-generic" after installed-weak. Lines of any other shape (warnings) are skipped.
 */
import type { DkmsEntry, DkmsState } from './types.js';
import { compareVersions } from './version.js';

const KNOWN = new Set<string>(['added', 'built', 'installed', 'installed-weak', 'broken']);

export function parseStatusLine(raw: string): DkmsEntry | null {
  const line = raw.trim();
  const colon = line.indexOf(': ');
  if (colon <= 0) return null;
  const lhs = line.slice(0, colon).split(/,\s*/);
  const rhs = line.slice(colon + 2).trim();
  const sp = rhs.search(/\s/);
  const word = (sp < 0 ? rhs : rhs.slice(0, sp)).replace(/,$/, '');
  const note = sp < 0 ? null : rhs.slice(sp).trim() || null;
  let name: string | undefined;
  let version: string | undefined;
  let rest: string[];
  const first = lhs[0] ?? '';
  if (first.includes('/')) {
    const slash = first.indexOf('/');
    name = first.slice(0, slash);
    version = first.slice(slash + 1);
    rest = lhs.slice(1);
  } else {
    name = first;
    version = lhs[1];
    rest = lhs.slice(2);
  }
  if (!name || !version || /\s/.test(name) || rest.length > 2 || !word) return null;
  const known = KNOWN.has(word);
  return {
    name,
    version,
    kernel: rest[0] || null,
    arch: rest[1] || null,
    state: (known ? word : 'unknown') as DkmsState,
    rawState: known ? null : word,
    note,
  };
}

export function parseStatus(text: string): DkmsEntry[] {
  return sortEntries(
    text
      .split('\n')
      .map(parseStatusLine)
      .filter((e): e is DkmsEntry => e !== null),
  );
}

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A stable order (by name, version, kernel, arch), whatever order dkms printed. */
export function sortEntries(entries: DkmsEntry[]): DkmsEntry[] {
  return entries.sort(
    (a, b) =>
      text(a.name, b.name) ||
      compareVersions(a.version, b.version) ||
      compareVersions(a.kernel ?? '', b.kernel ?? '') ||
      text(a.arch ?? '', b.arch ?? ''),
  );
}
