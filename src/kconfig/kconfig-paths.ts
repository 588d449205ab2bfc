/**
 * The files a `source` line names: paths are relative to the tree's root (`rsource`: to the
 * directory of the including file), normalised (`.`/`..`), and `*`/`?` globs are expanded with a
 * directory lister, sorted as glob(3) returns them.
 */
import type { TreeLister } from './kconfig-types.js';

export function normalisePath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function globRegex(seg: string): RegExp {
  const body = seg
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/**
 * @param relativeTo for `rsource`, the including file
 * @returns the paths (a glob may give none), or an error message
 */
export function expandSource(
  path: string,
  relativeTo: string | undefined,
  list?: TreeLister,
): string[] | string {
  const full = normalisePath(relativeTo === undefined ? path : `${dirname(relativeTo)}/${path}`);
  if (!/[*?]/.test(full)) return [full];
  if (!list) return `cannot expand the glob "${path}" without a directory lister`;
  let found = [''];
  for (const seg of full.split('/')) {
    if (!/[*?]/.test(seg)) {
      found = found.map((d) => (d ? `${d}/${seg}` : seg));
      continue;
    }
    const re = globRegex(seg);
    const next: string[] = [];
    for (const d of found)
      for (const name of (list(d) ?? []).filter((n) => re.test(n) && !n.startsWith('.')).sort())
        next.push(d ? `${d}/${name}` : name);
    found = next;
  }
  return found;
}
