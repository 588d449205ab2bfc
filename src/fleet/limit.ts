/**
 * Ansible host patterns, as `--limit` takes them (ansible-core: inventory/manager.py). Pure.
 *
 * - The pattern is split on `,`; without a comma, a pattern that is a whole host address (an IPv6
 *   address, `host[1:3]`, `host:22`) stays one piece, else it is split on `:` (outside brackets).
 * - Each piece is a host name, a group name, `all`, a shell glob (`web*`, `*.example.com`, `db-?`,
 *   `[a-c]*`), or a regular expression after `~` (matched from the start of the name, as Python's
 *   re.match does). A glob or group name may end with a subscript: `g[0]`, `g[-1]`, `g[1:3]`
 *   (inclusive), `g[1:]`. A piece that matches a group takes the group's hosts (with its children's);
 *   a piece with a glob or regex character, or matching no group, also matches host names.
 * - Pieces are applied unions first, then `&` intersections, then `!` exclusions, whatever the order
 *   they are written in; with only `&`/`!` pieces the union is `all`.
 *
 * Where kernelfile is stricter than Ansible's defaults: a piece that matches no host or group is an
 * error (Ansible warns "Could not match supplied host pattern, ignoring" unless
 * `host_pattern_mismatch = error`), so a typo in `!web1` cannot widen a rollout. A selection of no
 * host is an error, as in Ansible. `@file` limits and the implicit `localhost` are not supported.
 *
 * Hosts come back in inventory order (the order of `Inventory.hosts`), each once.
 */
import { suggest } from '../spec/suggest.js';
import { type Inventory, type InventoryHost, parseAddress } from './inventory.js';

export type Selection = { ok: true; hosts: InventoryHost[] } | { ok: false; error: string; hint: string };

/** Ansible's split_host_pattern. */
export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern, true)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Ansible's order_patterns: unions, then intersections, then exclusions. */
export function orderPatterns(patterns: string[]): string[] {
  const regular: string[] = [];
  const intersect: string[] = [];
  const exclude: string[] = [];
  for (const p of patterns) {
    if (!p) continue;
    if (p[0] === '!') exclude.push(p);
    else if (p[0] === '&') intersect.push(p);
    else regular.push(p);
  }
  return [...(regular.length ? regular : ['all']), ...intersect, ...exclude];
}

function escapeRe(c: string): string {
  return /[\\^$.|?*+()[\]{}/-]/.test(c) ? `\\${c}` : c;
}

/** Python's fnmatch.translate, as a JavaScript regular expression source (without anchors). */
export function globToRegExpSource(pat: string): string {
  const res: string[] = [];
  const STAR = '.*';
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const c = pat[i] as string;
    i++;
    if (c === '*') {
      if (res[res.length - 1] !== STAR) res.push(STAR);
    } else if (c === '?') res.push('.');
    else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        res.push('\\[');
        continue;
      }
      let stuff = pat.slice(i, j);
      if (!stuff.includes('-')) stuff = stuff.replace(/\\/g, '\\\\');
      else {
        const chunks: string[] = [];
        let k = pat[i] === '!' ? i + 2 : i + 1;
        for (;;) {
          k = pat.indexOf('-', k);
          if (k < 0 || k >= j) break;
          chunks.push(pat.slice(i, k));
          i = k + 1;
          k = k + 3;
        }
        const chunk = pat.slice(i, j);
        if (chunk) chunks.push(chunk);
        else chunks[chunks.length - 1] += '-';
        // Ranges such as z-a match nothing: drop them, as Python does.
        for (let m = chunks.length - 1; m > 0; m--) {
          const prev = chunks[m - 1] as string;
          const cur = chunks[m] as string;
          if (prev.slice(-1) > cur.slice(0, 1)) {
            chunks[m - 1] = prev.slice(0, -1) + cur.slice(1);
            chunks.splice(m, 1);
          }
        }
        stuff = chunks.map((s) => s.replace(/\\/g, '\\\\').replace(/-/g, '\\-')).join('-');
      }
      stuff = stuff.replace(/([&~|])/g, '\\$1');
      i = j + 1;
      if (!stuff) res.push('(?!)');
      else if (stuff === '!') res.push('.');
      else {
        if (stuff[0] === '!') stuff = `^${stuff.slice(1)}`;
        else if (stuff[0] === '^' || stuff[0] === '[') stuff = `\\${stuff}`;
        // Python takes a `]` first in a class as itself; JavaScript needs it escaped.
        res.push(`[${stuff.replace(/]/g, '\\]')}]`);
      }
    } else res.push(escapeRe(c));
  }
  return res.join('');
}

/** A `~regex` piece: Python's re syntax, the few differences from JavaScript's translated. */
function pythonRegExp(src: string): RegExp {
  let flags = '';
  const lead = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (lead) {
    const f = lead[1] as string;
    if (f.includes('x')) throw new Error('the verbose flag (?x) is not supported');
    flags = [...new Set(f.replace(/[aLu]/g, ''))].join('');
    src = src.slice(lead[0].length);
  }
  const js = src
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '(?<![\\s\\S])')
    .replace(/\\Z/g, '(?![\\s\\S])');
  return new RegExp(`^(?:${js})`, flags);
}

function compile(pattern: string): RegExp {
  if (pattern[0] === '~') return pythonRegExp(pattern.slice(1));
  return new RegExp(`^(?:${globToRegExpSource(pattern)})$`, 's');
}

const WITH_SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

/** Ansible's _split_subscript: `g[1:3]` → `g`, (1, 3); `g[-1]` → `g`, (-1, null); `g[1:]` → (1, -1). */
export function splitSubscript(pattern: string): { expr: string; subscript: [number, number | null] | null } {
  if (pattern[0] === '~') return { expr: pattern, subscript: null };
  const m = WITH_SUBSCRIPT.exec(pattern);
  if (!m) return { expr: pattern, subscript: null };
  const [, expr, idx, start, , end] = m;
  if (idx !== undefined) return { expr: expr as string, subscript: [Number.parseInt(idx, 10), null] };
  return {
    expr: expr as string,
    subscript: [Number.parseInt(start as string, 10), end ? Number.parseInt(end, 10) : -1],
  };
}

const LOCALHOST = ['localhost', '127.0.0.1', '::1'];

class PatternError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

class Matcher {
  private readonly groupNames: string[];
  private readonly hostNames: string[];
  private readonly hostSet: Set<string>;
  private readonly groupHostsCache = new Map<string, string[]>();

  constructor(private readonly inv: Inventory) {
    this.groupNames = Object.keys(inv.groups);
    this.hostNames = inv.hosts.map((h) => h.name);
    this.hostSet = new Set(this.hostNames);
  }

  /** Ansible's Group.get_hosts: own hosts, then the children's, level by level. */
  groupHosts(name: string): string[] {
    const cached = this.groupHostsCache.get(name);
    if (cached) return cached;
    const children = (g: string): string[] => this.inv.groups[g]?.children ?? [];
    const ordered = [name, ...children(name)];
    const seen = new Set<string>();
    let unprocessed = [...new Set(ordered)];
    while (unprocessed.length) {
      for (const g of unprocessed) seen.add(g);
      const next: string[] = [];
      for (const g of unprocessed)
        for (const c of children(g)) {
          if (!next.includes(c)) next.push(c);
          if (!seen.has(c)) ordered.push(c);
        }
      unprocessed = next.filter((g) => !seen.has(g));
    }
    const hosts: string[] = [];
    const got = new Set<string>();
    for (const g of ordered)
      for (const h of this.inv.groups[g]?.hosts ?? [])
        if (!got.has(h)) {
          got.add(h);
          hosts.push(h);
        }
    this.groupHostsCache.set(name, hosts);
    return hosts;
  }

  /** Ansible's _enumerate_matches, with a piece that matches nothing an error. */
  enumerate(pattern: string, whole: string): string[] {
    let re: RegExp;
    try {
      re = compile(pattern);
    } catch (e) {
      throw new PatternError(
        `\`${whole}\` is not a valid host pattern: ${(e as Error).message}`,
        pattern[0] === '~'
          ? 'after `~` comes a regular expression, matched from the start of host and group names'
          : 'a glob takes `*`, `?`, `[abc]`, `[!abc]` and `[a-z]`',
      );
    }
    const results: string[] = [];
    const groups = this.groupNames.filter((g) => re.test(g));
    for (const g of groups) results.push(...this.groupHosts(g));
    if (!groups.length || pattern[0] === '~' || /[.?*[]/.test(pattern))
      for (const h of this.hostNames) if (re.test(h)) results.push(h);
    if (!results.length && !groups.length && pattern !== 'all') {
      const emptySlice = /\[:\d*\]$/.test(whole);
      // A plain name (no glob or regex) close to a group or host name is a typo of it.
      const meant =
        pattern[0] === '~' || /[?*[]/.test(pattern)
          ? undefined
          : suggest(pattern, [...this.groupNames, ...this.hostNames]);
      throw new PatternError(
        `\`${whole}\` matches no host or group in ${this.inv.file}${meant === undefined ? '' : `; did you mean \`${meant}\`?`}`,
        emptySlice
          ? 'a subscript needs its start: write `[0:N]` (Ansible reads `[:N]` as a glob character class)'
          : LOCALHOST.includes(pattern)
            ? `Ansible's implicit localhost is not supported: list \`${pattern}:\` in the inventory`
            : 'check the spelling; patterns match inventory names (aliases), not `ansible_host` addresses; glob with `*`, or a regular expression after `~`',
      );
    }
    return results;
  }

  /** Ansible's _match_one_pattern: a piece without its `&`/`!`, subscript applied. */
  matchOne(piece: string): string[] {
    const pattern = piece[0] === '&' || piece[0] === '!' ? piece.slice(1) : piece;
    if (!pattern)
      throw new PatternError(
        `\`${piece}\` has nothing after \`${piece}\``,
        `write a host or group name after \`${piece}\`, e.g. \`${piece}webservers\``,
      );
    const { expr, subscript } = splitSubscript(pattern);
    const hosts = this.enumerate(expr, pattern);
    if (!hosts.length || !subscript) return hosts;
    const [start, end] = subscript;
    if (end) return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
    const i = start < 0 ? hosts.length + start : start;
    const h = hosts[i];
    if (i < 0 || h === undefined)
      throw new PatternError(
        `No hosts matched the subscripted pattern \`${pattern}\`: \`${expr}\` has ${hosts.length} host${hosts.length === 1 ? '' : 's'}`,
        `subscripts count from 0 (or from the end with -1): use 0 to ${hosts.length - 1}`,
      );
    return [h];
  }

  evaluate(pieces: string[]): string[] {
    let hosts: string[] = [];
    for (const p of orderPatterns(pieces)) {
      if (this.hostSet.has(p)) {
        hosts.push(p);
        continue;
      }
      const that = this.matchOne(p);
      if (p[0] === '!') {
        const set = new Set(that);
        hosts = hosts.filter((h) => !set.has(h));
      } else if (p[0] === '&') {
        const set = new Set(that);
        hosts = hosts.filter((h) => set.has(h));
      } else {
        const existing = new Set(hosts);
        hosts.push(...that.filter((h) => !existing.has(h)));
      }
    }
    return hosts;
  }
}

/** The hosts an Ansible `--limit` pattern selects, in inventory order. */
export function selectHosts(inv: Inventory, pattern: string): Selection {
  const pieces = splitHostPattern(pattern);
  if (!pieces.length)
    return {
      ok: false,
      error: 'the host pattern is empty',
      hint: 'name hosts or groups, e.g. `webservers`, `web1,web2`, `all:!staging`, or `all` for every host',
    };
  const file = pieces.find((p) => p[0] === '@');
  if (file)
    return {
      ok: false,
      error: `\`${file}\`: limit files (\`@FILE\`) are not supported`,
      hint: 'pass the host names separated by commas instead',
    };
  try {
    const chosen = new Set(new Matcher(inv).evaluate(pieces));
    const hosts = inv.hosts.filter((h) => chosen.has(h.name));
    if (!hosts.length)
      return {
        ok: false,
        error: `the pattern \`${pattern}\` leaves no hosts to target in ${inv.file}`,
        hint: '`!` and `&` pieces apply after the unions: check that the excluded or intersected groups are the ones you meant',
      };
    return { ok: true, hosts };
  } catch (e) {
    if (e instanceof PatternError) return { ok: false, error: e.message, hint: e.hint };
    throw e;
  }
}
