/**
 * Ansible inventories (the YAML format of Ansible's `yaml` inventory plugin), parsed as Ansible parses
 * them. Pure: the caller reads the file and passes its text and name; no node: module, no I/O.
 *
 * What Ansible does, and so what this does (ansible-core: plugins/inventory/yaml.py,
 * inventory/data.py, group.py, host.py, helpers.py, parsing/utils/addresses.py):
 * - The file is YAML 1.1 as PyYAML reads it (`yes`/`on` are booleans, `0755` is octal, `09` and
 *   `1e3` are strings, `<<` merge keys, `!vault` values as `{__ansible_vault}`, `!unsafe`); a date
 *   stays the text written, as ansible-inventory prints it. The top level maps group names to group
 *   definitions: null, or a mapping with `hosts:`, `children:`, `vars:` (a bare string there stands
 *   for a one-key mapping).
 * - `ansible_host`/`ansible_port`/`ansible_user`/`ansible_private_key_file` lose to their
 *   `ansible_ssh_*` forms wherever those are set, as in Ansible's ssh connection plugin.
 * - Groups `all` and `ungrouped` always exist; every group without a parent becomes a child of
 *   `all`; a host whose only group is `all` goes to `ungrouped`, and leaves `ungrouped` when it is also
 *   in another group.
 * - Host keys are patterns: `www[01:50:2].example.com`, `db-[a:f]`, `host:2222`, `[2001:db8::1]:22`.
 *   A port written so becomes `ansible_port` when the host is first seen.
 * - A host's vars: the vars of its groups (its own and their ancestors, `all` included) sorted by
 *   (depth below `all`, `ansible_group_priority`, name), later ones overriding, then its own vars
 *   (a host listed several times: the last value of each var wins).
 *
 * Stricter than Ansible, on purpose (Ansible warns and goes on; a kernel rollout should not): a
 * group that is not a mapping, an unknown key in a group (`host:` for `hosts:`), a name that is
 * both a host and a group, and duplicate keys are errors.
 */
import { dirname, isAbsolute, join, normalize } from 'pathe';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
  type Tags,
  visit,
} from 'yaml';

export interface InventoryHost {
  /** inventory hostname */
  name: string;
  /** every group it belongs to, incl. ancestors and 'all' (sorted, 'all' first) */
  groups: string[];
  /** merged with Ansible's precedence (all < parent groups < child groups < host) */
  vars: Record<string, unknown>;
  /** The connection kernelfile uses, from ansible_host/ansible_port/ansible_user/ansible_ssh_private_key_file/ansible_become. */
  address: {
    host: string;
    port: number | null;
    user: string | null;
    identity: string | null;
    become: boolean;
  };
  /** The `kernelfile` var (path as written), or null. */
  kernelfile: string | null;
}

export interface Inventory {
  file: string;
  /** In the order Ansible first meets them in the file. */
  hosts: InventoryHost[];
  /** Every group, `all` and `ungrouped` first: its own hosts (not its children's), child and parent groups. */
  groups: Record<string, { hosts: string[]; children: string[]; parents: string[] }>;
}

export type InventoryResult =
  | { ok: true; value: Inventory; warnings: InvDiagnostic[] }
  | { ok: false; errors: InvDiagnostic[] };

export interface InvDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  file: string;
  line?: number;
  column?: number;
  hint?: string;
}

/** A range such as `[0:99999999]` would make a host list no machine can hold. */
export const MAX_RANGE_HOSTS = 100_000;
/** Group and host entries visited, aliases included (a guard against alias bombs). */
const MAX_VISITS = 200_000;

// ---------------------------------------------------------------------------------------------------
// Host patterns and addresses (ansible/parsing/utils/addresses.py, plugins/inventory/__init__.py)

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const V6 = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
// Python's \w in a str pattern: Unicode letters, digits and `_`.
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(`^(?:${V4}\\.){3}${V4}$`, 'i');
// As in Ansible, `^` and `$` bind to the first and last alternatives only (Python's re.match anchors
// the start anyway): the expression accepts what starts like an IPv6 address.
const IPV6 = new RegExp(
  `^(?:(?:${V6}:){7}${V6}|(?:${V6}:){1,6}:|(?:${V6}:)(?::${V6}){1,6}|(?:${V6}:){2}(?::${V6}){1,5}|` +
    `(?:${V6}:){3}(?::${V6}){1,4}|(?:${V6}:){4}(?::${V6}){1,3}|(?:${V6}:){5}(?::${V6}){1,2}|` +
    `(?:${V6}:){6}(?::${V6})|:(?::${V6}){1,6}|${V6}?::|(?:0:){6}(?:${V6}\\.){3}${V6}|` +
    `::(?:ffff:)?(?:${V6}\\.){3}${V6}|(?:0:){5}ffff:(?:${V6}\\.){3}${V6}$)`,
  'i',
);
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

/**
 * Ansible's parse_address: a host identifier (hostname, IPv4, IPv6, possibly with `[x:y]` ranges)
 * and an optional port (`host:22`, `[v6addr]:22`). Null where Ansible raises ("Not a valid network
 * hostname").
 */
export function parseAddress(
  address: string,
  allowRanges = false,
): { host: string; port: number | null } | null {
  let port: number | null = null;
  let rest = address;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(rest);
    if (m) {
      rest = m[1] ?? '';
      port = Number.parseInt(m[2] ?? '', 10);
    }
  }
  if (!(IPV4.test(rest) || IPV6.test(rest) || HOSTNAME.test(rest))) return null;
  if (!allowRanges && rest.includes('[')) return null;
  return { host: rest, port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's int() on a string: optional sign, digits with single underscores between, spaces around. */
function pyInt(s: string): number | null {
  return /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(s) ? Number.parseInt(s.replace(/_/g, ''), 10) : null;
}

class HostRangeError extends Error {}

/** Ansible's expand_hostname_range: the first `[...]` expanded, then again while a `[` remains. */
function expandRange(line: string, out: string[]): void {
  if (!line) return;
  const parts = line.replace('[', '|').replace(']', '|').split('|');
  if (parts.length !== 3)
    throw new HostRangeError('a host range needs both `[` and `]`, once each per range');
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostRangeError('host range must be begin:end or begin:end:step');
  const beg = bounds[0] || '0';
  const end = bounds[1] ?? '';
  const stepText = bounds[2] ?? '1';
  if (!end) throw new HostRangeError('host range must specify end value');
  let fill = (x: number | string): string => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    if (beg.length !== end.length)
      throw new HostRangeError('host range must specify equal-length begin and end formats');
    fill = (x) => String(x).padStart(beg.length, '0');
  }
  let seq: Array<string | number> | null = null;
  const iBeg = LETTERS.indexOf(beg);
  const iEnd = LETTERS.indexOf(end);
  const step = pyInt(stepText);
  if (iBeg >= 0 && iEnd >= 0 && step !== null && step !== 0) {
    if (iBeg > iEnd) throw new HostRangeError('host range must have begin <= end');
    seq = [];
    if (step > 0) for (let i = iBeg; i <= iEnd; i += step) seq.push(LETTERS[i] as string);
  } else {
    const b = pyInt(beg);
    const e = pyInt(end);
    if (b === null || e === null || step === null)
      throw new HostRangeError(
        `\`[${nrange}]\` is not a range: bounds are numbers or single letters, step a number`,
      );
    if (step === 0) throw new HostRangeError('host range step must not be zero');
    if (Math.ceil((e + 1 - b) / step) > MAX_RANGE_HOSTS)
      throw new HostRangeError(`\`[${nrange}]\` expands to more than ${MAX_RANGE_HOSTS} hosts`);
    seq = [];
    if (step > 0) for (let i = b; i < e + 1; i += step) seq.push(i);
    else for (let i = b; i > e + 1; i += step) seq.push(i);
  }
  for (const v of seq) {
    const name = head + fill(v) + tail;
    if (name.includes('[')) expandRange(name, out);
    else out.push(name);
    if (out.length > MAX_RANGE_HOSTS)
      throw new HostRangeError(`the pattern expands to more than ${MAX_RANGE_HOSTS} hosts`);
  }
}

/**
 * A `hosts:` key as Ansible reads it: the host names it stands for and the port written with it.
 * @throws Error with what is wrong with a range
 */
export function expandHostPattern(pattern: string): { hosts: string[]; port: number | null } {
  const parsed = parseAddress(pattern, true);
  const rest = parsed ? parsed.host : pattern;
  const port = parsed ? parsed.port : null;
  if (!rest.includes('[')) return { hosts: [rest], port };
  const out: string[] = [];
  expandRange(rest, out);
  return { hosts: out, port };
}

// ---------------------------------------------------------------------------------------------------
// YAML as Ansible (PyYAML, YAML 1.1) reads it

const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

/** An Ansible Vault value, shown as ansible-inventory shows it. */
export interface VaultValue {
  __ansible_vault: string;
}

const vaultTag: ScalarTag = {
  tag: '!vault',
  resolve: (str: string): VaultValue => ({ __ansible_vault: str }),
};
const unsafeTag: ScalarTag = { tag: '!unsafe', resolve: (str: string) => str };

// PyYAML's int and float resolvers: `09`, `1e3` and `e2` are strings there, numbers in yaml's 1.1 schema.
const PY_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function sexagesimal(v: string, part: (s: string) => number): number {
  let base = 1;
  let n = 0;
  for (const d of v.split(':').reverse()) {
    n += part(d) * base;
    base *= 60;
  }
  return n;
}

const pyIntTag: ScalarTag = {
  identify: (v) => Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: PY_INT,
  resolve(str: string) {
    let v = str.replace(/_/g, '');
    const sign = v[0] === '-' ? -1 : 1;
    if (v[0] === '-' || v[0] === '+') v = v.slice(1);
    if (v === '0') return 0;
    if (v.startsWith('0b')) return sign * Number.parseInt(v.slice(2), 2);
    if (v.startsWith('0x')) return sign * Number.parseInt(v.slice(2), 16);
    if (v[0] === '0') return sign * Number.parseInt(v, 8);
    if (v.includes(':')) return sign * sexagesimal(v, (d) => Number.parseInt(d, 10));
    return sign * Number.parseInt(v, 10);
  },
};

const pyFloatTag: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: PY_FLOAT,
  resolve(str: string) {
    let v = str.replace(/_/g, '').toLowerCase();
    const sign = v[0] === '-' ? -1 : 1;
    if (v[0] === '-' || v[0] === '+') v = v.slice(1);
    if (v === '.inf') return sign * Number.POSITIVE_INFINITY;
    if (v === '.nan') return Number.NaN;
    if (v.includes(':')) return sign * sexagesimal(v, (d) => Number.parseFloat(d));
    return sign * Number.parseFloat(v);
  },
};

/** yaml's 1.1 schema with PyYAML's booleans (no `y`/`n`), ints and floats, plus Ansible's tags. */
function ansibleTags(tags: Tags): Tags {
  const numeric = (t: Tags[number]) =>
    typeof t === 'object' && (t.tag === 'tag:yaml.org,2002:int' || t.tag === 'tag:yaml.org,2002:float');
  const first = tags.findIndex(numeric);
  tags = tags.filter((t) => !numeric(t));
  tags.splice(first < 0 ? tags.length : first, 0, pyIntTag, pyFloatTag);
  const out = tags.map((t) => {
    if (typeof t === 'object' && t.tag === 'tag:yaml.org,2002:bool' && 'test' in t && t.test) {
      const isTrue = t.test.test('true');
      return { ...t, test: isTrue ? PY_TRUE : PY_FALSE } as ScalarTag;
    }
    // A timestamp stays the text written (Ansible shows a date as `2024-01-02`, not as a Date).
    if (typeof t === 'object' && t.tag === 'tag:yaml.org,2002:timestamp')
      return { ...t, resolve: (str: string) => str } as ScalarTag;
    return t;
  });
  return [...out, vaultTag, unsafeTag];
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'YAML indents with spaces only: replace the tab with spaces',
  DUPLICATE_KEY:
    'each key may appear once in a mapping: merge the two entries (Ansible would keep only the last one, silently dropping the first)',
  BAD_INDENT: 'check that the lines of this block are indented by the same number of spaces',
  MULTIPLE_DOCS: 'an inventory is one YAML document: remove the `---` separator and what follows',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; is a `:` missing or misplaced?',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  UNEXPECTED_TOKEN: 'check the syntax near here: a missing `:` or space, or an unquoted special character',
  BAD_ALIAS: 'an alias (`*name`) must refer to an anchor (`&name`) defined earlier in the file',
};

// ---------------------------------------------------------------------------------------------------
// INI detection

const INI_SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const INI_HOST_LINE = /^[^\s#;:=[\]]+(?::\d+)?(?:\s+[^\s=]+=.*)*$/;

/** The 1-based line of what makes the text look like Ansible's INI inventory, or 0. */
function iniLine(text: string): number {
  const lines = text.split(/\r?\n/);
  let sawHostLines = false;
  let allHostLines = true;
  for (const [i, raw] of lines.entries()) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) continue;
    if (INI_SECTION.test(l)) return i + 1;
    if (INI_HOST_LINE.test(l)) sawHostLines = true;
    else allHostLines = false;
  }
  return sawHostLines && allHostLines ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------
// The parser

interface VarEntry {
  value: unknown;
  /** Offset of the value (or its key) in the file. */
  at: number | undefined;
}

interface GroupState {
  name: string;
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  vars: Map<string, VarEntry>;
  priority: number;
  at: number | undefined;
}

interface HostState {
  name: string;
  /** The groups that list it, in the order they do. */
  direct: string[];
  vars: Map<string, VarEntry>;
  at: number | undefined;
}

interface Entry {
  key: unknown;
  keyNode: Node | null;
  value: Node | null;
  at: number | undefined;
}

const SECTIONS = ['vars', 'children', 'hosts'] as const;
const SECTION_TYPOS: Record<string, string> = {
  host: 'hosts',
  hostname: 'hosts',
  hostnames: 'hosts',
  members: 'hosts',
  var: 'vars',
  variables: 'vars',
  group_vars: 'vars',
  child: 'children',
  childs: 'children',
  childrens: 'children',
  groups: 'children',
  subgroups: 'children',
};

function describe(node: Node | null): string {
  if (node === null) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `a string (\`${v.length > 40 ? `${v.slice(0, 40)}…` : v}\`)`;
    if (typeof v === 'number') return `a number (${v})`;
    if (typeof v === 'boolean') return `a boolean (${v})`;
    if (v instanceof Date) return 'a date';
  }
  return 'a scalar';
}

function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** Python truthiness of a YAML value (Ansible's `value or {}`). */
function falsy(node: Node | null): boolean {
  if (isNull(node)) return true;
  if (isScalar(node)) return node.value === false || node.value === 0 || node.value === '';
  if (isMap(node) || isSeq(node)) return node.items.length === 0;
  return false;
}

function nameText(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

/** Code point order, as Python sorts strings. */
function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = (x.value as string).codePointAt(0) as number;
    const cy = (y.value as string).codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

class Parser {
  readonly errors: InvDiagnostic[] = [];
  readonly warnings: InvDiagnostic[] = [];
  readonly groups = new Map<string, GroupState>();
  readonly hosts = new Map<string, HostState>();
  private visits = 0;
  private readonly seen = new Set<string>();
  private readonly entryCache = new WeakMap<Node, Entry[]>();
  private readonly ancestorMemo = new Map<string, Set<string>>();
  private readonly jsCache = new WeakMap<Node, unknown>();
  private readonly patternCache = new Map<string, { hosts: string[]; port: number | null } | Error>();

  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  diag(severity: 'error' | 'warning', at: number | undefined, message: string, hint?: string): void {
    const p = this.lc.linePos(at ?? 0);
    const key = `${severity}\0${p.line}\0${p.col}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    (severity === 'error' ? this.errors : this.warnings).push({
      severity,
      message,
      file: this.file,
      line: p.line,
      column: p.col,
      ...(hint ? { hint } : {}),
    });
  }

  error(at: number | undefined, message: string, hint?: string): void {
    this.diag('error', at, message, hint);
  }

  resolve(node: unknown): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      return (target as Node | undefined) ?? null;
    }
    return node as Node;
  }

  at(node: Node | null): number | undefined {
    return node?.range?.[0];
  }

  tick(at: number | undefined): boolean {
    if (++this.visits <= MAX_VISITS) return true;
    if (this.visits === MAX_VISITS + 1)
      this.error(
        at,
        `the inventory expands to more than ${MAX_VISITS} group and host entries`,
        'is an alias (`*name`) repeated inside itself? Write the groups out',
      );
    return false;
  }

  /** A mapping's entries as PyYAML builds the dict: `<<` merges first, later keys override, first position kept. */
  entries(map: Node): Entry[] {
    const cached = this.entryCache.get(map);
    if (cached) return cached.map((e) => ({ ...e }));
    const list = this.entriesOf(map);
    this.entryCache.set(map, list);
    return list.map((e) => ({ ...e }));
  }

  private entriesOf(map: Node): Entry[] {
    const out = new Map<unknown, Entry>();
    const flatten = (node: Node, depth: number): Array<[Node | null, Node | null]> => {
      if (!isMap(node) || depth > 50) return [];
      const merged: Array<[Node | null, Node | null]> = [];
      const explicit: Array<[Node | null, Node | null]> = [];
      for (const pair of node.items) {
        const k = this.resolve(pair.key);
        const v = this.resolve(pair.value);
        if (isScalar(k) && typeof k.value === 'symbol') {
          const sources = isSeq(v) ? v.items.map((i) => this.resolve(i)) : [v];
          const parts: Array<Array<[Node | null, Node | null]>> = [];
          for (const s of sources) {
            if (!s || !isMap(s)) {
              this.error(
                this.at(s) ?? this.at(k),
                'a merge key (`<<`) takes a mapping or a list of mappings',
                'write `<<: *anchor` where `&anchor` marks a mapping',
              );
              continue;
            }
            parts.push(flatten(s, depth + 1));
          }
          for (const p of parts.reverse()) merged.push(...p);
        } else explicit.push([k, v]);
      }
      return [...merged, ...explicit];
    };
    for (const [k, v] of flatten(map, 0)) {
      if (k !== null && !isScalar(k)) {
        this.error(this.at(k), 'a key here must be a plain name, not a mapping or a list');
        continue;
      }
      const key = k === null ? null : k.value;
      const entry: Entry = { key, keyNode: k, value: v, at: this.at(k) ?? this.at(v) };
      const prev = out.get(key);
      if (prev) prev.value = v;
      else out.set(key, entry);
    }
    return [...out.values()];
  }

  toJS(node: Node | null, at: number | undefined): unknown {
    if (node === null) return null;
    if (this.jsCache.has(node)) return this.jsCache.get(node);
    try {
      const js = node.toJS(this.doc, { maxAliasCount: 100 });
      this.jsCache.set(node, js);
      return js;
    } catch (e) {
      this.error(at, `this value cannot be read: ${(e as Error).message}`);
      return null;
    }
  }

  group(name: string, at: number | undefined): GroupState {
    let g = this.groups.get(name);
    if (!g) {
      g = {
        name,
        hosts: [],
        hostSet: new Set(),
        children: [],
        parents: [],
        vars: new Map(),
        priority: 1,
        at,
      };
      this.groups.set(name, g);
    } else if (g.at === undefined) g.at = at;
    return g;
  }

  ancestors(name: string): Set<string> {
    const memo = this.ancestorMemo.get(name);
    if (memo) return memo;
    const out = new Set<string>();
    const stack = [name];
    while (stack.length) {
      const g = this.groups.get(stack.pop() as string);
      for (const p of g?.parents ?? [])
        if (!out.has(p)) {
          out.add(p);
          stack.push(p);
        }
    }
    this.ancestorMemo.set(name, out);
    return out;
  }

  addChild(parent: string, child: string, at: number | undefined): boolean {
    const p = this.groups.get(parent) as GroupState;
    const c = this.groups.get(child) as GroupState;
    if (parent === child) {
      this.error(
        at,
        `group \`${child}\` is listed as a child of itself`,
        `remove \`${child}\` from its own children`,
      );
      return false;
    }
    if (p.children.includes(child)) return true;
    if (child === 'all') {
      this.error(
        at,
        `\`all\` is listed as a child of \`${parent}\`: \`all\` is the group every other group belongs to`,
        'remove it; to list hosts or vars for every host write them under the top-level `all:`',
      );
      return false;
    }
    if (this.ancestors(parent).has(child)) {
      this.error(
        at,
        `group \`${child}\` is listed as a child of \`${parent}\`, which is already below \`${child}\`: the children form a cycle`,
        'groups may have several parents and children, but not circular relationships: remove one of the two `children:` entries',
      );
      return false;
    }
    p.children.push(child);
    c.parents.push(parent);
    this.ancestorMemo.clear();
    return true;
  }

  addHost(name: string, group: string, port: number | null, at: number | undefined): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, direct: [], vars: new Map(), at };
      if (port) h.vars.set('ansible_port', { value: port, at });
      this.hosts.set(name, h);
    }
    const g = this.groups.get(group) as GroupState;
    if (!g.hostSet.has(name)) {
      g.hosts.push(name);
      g.hostSet.add(name);
      h.direct.push(group);
    }
    return h;
  }

  setGroupVar(g: GroupState, key: string, value: unknown, at: number | undefined): void {
    if (key === 'ansible_group_priority') {
      const n =
        typeof value === 'number'
          ? Math.trunc(value)
          : typeof value === 'boolean'
            ? Number(value)
            : typeof value === 'string'
              ? pyInt(value)
              : value === null
                ? g.priority
                : null;
      if (n === null || !Number.isFinite(n))
        this.error(
          at,
          `\`ansible_group_priority\` of group \`${g.name}\` must be an integer, not ${JSON.stringify(value)}`,
          'groups at the same depth merge by priority (default 1), higher later: write e.g. `ansible_group_priority: 10`',
        );
      else g.priority = n;
      return;
    }
    g.vars.set(key, { value, at });
  }

  /** One group definition (Ansible's _parse_group); returns the group's name, or null if it is not one. */
  parseGroup(
    keyNode: Node | null,
    key: unknown,
    valueNode: Node | null,
    at: number | undefined,
  ): string | null {
    if (!this.tick(at)) return null;
    const value = this.resolve(valueNode);
    if (!isNull(value) && !isMap(value)) {
      const name = nameText(key);
      this.error(
        at,
        `group \`${name}\` must be a mapping with \`hosts:\`, \`children:\` or \`vars:\` (or empty), not ${describe(value)}`,
        isScalar(value) && typeof value.value === 'string'
          ? `in a YAML inventory every top-level key is a group; to list a host write \`${name}: {hosts: {${value.value}: }}\``
          : isSeq(value)
            ? `hosts are keys, not list items: \`${name}: {hosts: {host1: , host2: }}\``
            : 'Ansible skips such an entry with a warning; give the group a mapping',
      );
      return null;
    }
    if (typeof key !== 'string') {
      const what = key === null || key === undefined ? 'empty' : describe(keyNode);
      this.error(
        at,
        `a group name must be a string, not ${what}`,
        key === null || key === '' ? 'give the group a name' : `quote it: \`"${nameText(key)}":\``,
      );
      return null;
    }
    if (key === '') {
      this.error(at, 'a group name must not be empty', 'give the group a name');
      return null;
    }
    const g = this.group(key, at);
    if (value === null || !isMap(value)) return key;

    const entries = this.entries(value);
    // Ansible checks the three sections first, turning a bare string into a one-key mapping.
    const sections = new Map<string, Entry[] | null>();
    for (const e of entries) {
      if (typeof e.key !== 'string' || !(SECTIONS as readonly string[]).includes(e.key)) continue;
      const v = e.value;
      if (isNull(v)) sections.set(e.key, []);
      else if (isScalar(v) && typeof v.value === 'string')
        sections.set(e.key, [{ key: v.value, keyNode: v, value: null, at: this.at(v) }]);
      else if (isMap(v)) sections.set(e.key, this.entries(v));
      else {
        sections.set(e.key, null);
        this.error(
          this.at(v) ?? e.at,
          `\`${e.key}:\` of group \`${key}\` must be a mapping, not ${describe(v)}`,
          e.key === 'hosts'
            ? 'list each host as a key ending in `:` (`web1:`), not as a list item (`- web1`)'
            : e.key === 'children'
              ? 'list each child group as a key ending in `:` (`webservers:`), not as a list item'
              : 'write each variable as `name: value`',
        );
      }
    }
    for (const e of entries) {
      if (typeof e.key !== 'string' || !(SECTIONS as readonly string[]).includes(e.key)) {
        const k = nameText(e.key);
        const lower = k.toLowerCase();
        const typo = (SECTIONS as readonly string[]).includes(lower) ? lower : SECTION_TYPOS[lower];
        this.error(
          e.at,
          `unknown key \`${k}\` in group \`${key}\`: a group has only \`hosts:\`, \`children:\` and \`vars:\``,
          typo
            ? `did you mean \`${typo}:\`? (Ansible skips unknown keys with a warning, dropping what is under them)`
            : isNull(e.value)
              ? `if \`${k}\` is a host, indent it under \`hosts:\`; if a group, under \`children:\` (Ansible silently skips it)`
              : 'move it under `hosts:`, `children:` or `vars:` (Ansible skips unknown keys with a warning, dropping what is under them)',
        );
        continue;
      }
      const items = sections.get(e.key);
      if (!items) continue;
      if (e.key === 'vars') {
        for (const v of items) {
          const vn = this.resolve(v.value);
          this.setGroupVar(g, nameText(v.key), this.toJS(vn, v.at), this.at(vn) ?? v.at);
        }
      } else if (e.key === 'children') {
        for (const c of items) {
          const child = this.parseGroup(c.keyNode, c.key, c.value, c.at);
          if (child !== null) this.addChild(key, child, c.at);
        }
      } else {
        for (const h of items) this.parseHosts(key, h);
      }
    }
    return key;
  }

  parseHosts(group: string, e: Entry): void {
    if (!this.tick(e.at)) return;
    if (typeof e.key !== 'string') {
      this.error(
        e.at,
        `a host name must be a string, not ${e.key === null ? 'empty' : describe(e.keyNode)}`,
        e.key === null ? 'give the host a name' : `quote it: \`"${nameText(e.key)}":\``,
      );
      return;
    }
    let expanded = this.patternCache.get(e.key);
    if (!expanded) {
      try {
        expanded = expandHostPattern(e.key);
      } catch (err) {
        expanded = err as Error;
      }
      this.patternCache.set(e.key, expanded);
    }
    if (expanded instanceof Error) {
      this.error(
        e.at,
        `bad host range in \`${e.key}\`: ${expanded.message}`,
        'a range is `[start:end]` or `[start:end:step]`, numbers (`www[01:50]`) or single letters (`db-[a:f]`), inclusive',
      );
      return;
    }
    const value = this.resolve(e.value);
    if (!falsy(value) && !isMap(value)) {
      this.error(
        this.at(value) ?? e.at,
        `host \`${e.key}\` must be a mapping of variables (or empty), not ${describe(value)}`,
        isScalar(value) && typeof value.value === 'string'
          ? `write \`${e.key}: {ansible_host: ${value.value}}\` to connect to that address, or leave the value empty`
          : 'write variables as `name: value` under the host, or leave it empty (`web1:`)',
      );
      return;
    }
    const vars = value && isMap(value) ? this.entries(value) : [];
    const values = vars.map((v) => {
      const vn = this.resolve(v.value);
      return { key: nameText(v.key), value: this.toJS(vn, v.at), at: this.at(vn) ?? v.at };
    });
    for (const name of expanded.hosts) {
      if (!name) {
        this.error(e.at, 'a host name must not be empty', 'give the host a name');
        continue;
      }
      const h = this.addHost(name, group, expanded.port, e.at);
      for (const v of values) h.vars.set(v.key, { value: v.value, at: v.at });
    }
  }

  /** Ansible's reconcile_inventory: parents for orphans, `ungrouped`, name clashes. */
  reconcile(): void {
    for (const g of [...this.groups.values()])
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name, g.at);
    const ungrouped = this.groups.get('ungrouped') as GroupState;
    const leave = new Set<string>();
    for (const h of this.hosts.values()) {
      const mine = this.groupsOf(h);
      if (mine.has('ungrouped')) {
        if ([...mine].some((g) => g !== 'all' && g !== 'ungrouped') && ungrouped.hostSet.has(h.name)) {
          leave.add(h.name);
          h.direct = h.direct.filter((g) => g !== 'ungrouped');
        }
      } else if (mine.size === 0 || (mine.size === 1 && mine.has('all')))
        this.addHost(h.name, 'ungrouped', null, h.at);
    }
    if (leave.size) {
      ungrouped.hosts = ungrouped.hosts.filter((n) => !leave.has(n));
      for (const n of leave) ungrouped.hostSet.delete(n);
    }
    for (const h of this.hosts.values()) {
      const g = this.groups.get(h.name);
      if (!g) continue;
      this.error(
        h.at,
        `\`${h.name}\` is both a host and a group`,
        `rename one: a pattern \`${h.name}\` would be ambiguous, and Ansible gives the host's vars to the group (it only warns "Found both group and host with same name")`,
      );
      if (g.at !== undefined && g.at !== h.at)
        this.error(
          g.at,
          `\`${h.name}\` is both a group and a host`,
          `rename the group or the host \`${h.name}\``,
        );
    }
    const odd = [...this.groups.keys()].filter((n) => /^[\d\W]|[^\p{L}\p{N}_]/u.test(n));
    if (odd.length)
      this.diag(
        'warning',
        this.groups.get(odd[0] as string)?.at,
        `group name${odd.length > 1 ? 's' : ''} ${odd.map((n) => `\`${n}\``).join(', ')} ${odd.length > 1 ? 'are not valid variable names' : 'is not a valid variable name'} (Ansible warns: "Invalid characters were found in group names but not replaced")`,
        'they work, but Ansible recommends letters, digits and `_`, not starting with a digit',
      );
  }

  /** The groups a host is in: those listing it, and all their ancestors. */
  groupsOf(host: HostState): Set<string> {
    const out = new Set<string>();
    for (const g of host.direct) {
      out.add(g);
      for (const a of this.ancestors(g)) out.add(a);
    }
    return out;
  }

  depths(): Map<string, number> {
    const depth = new Map<string, number>();
    const visit = (name: string): number => {
      const known = depth.get(name);
      if (known !== undefined) return known;
      const g = this.groups.get(name) as GroupState;
      depth.set(name, 0);
      let d = 0;
      for (const p of g.parents) d = Math.max(d, visit(p) + 1);
      depth.set(name, d);
      return d;
    };
    for (const name of this.groups.keys()) visit(name);
    return depth;
  }
}

function pick(vars: Map<string, VarEntry>, ...names: string[]): (VarEntry & { name: string }) | null {
  for (const name of names) {
    const v = vars.get(name);
    if (v && v.value !== null && v.value !== undefined) return { ...v, name };
  }
  return null;
}

const BOOL_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const BOOL_FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

function isVault(v: unknown): v is VaultValue {
  return typeof v === 'object' && v !== null && '__ansible_vault' in v;
}

function address(p: Parser, h: HostState, vars: Map<string, VarEntry>): InventoryHost['address'] {
  const text = (names: string[], what: string): string | null => {
    const v = pick(vars, ...names);
    if (!v) return null;
    if (typeof v.value === 'string' || typeof v.value === 'number') {
      const s = String(v.value);
      if (s.includes('{{') || s.includes('{%'))
        p.diag(
          'warning',
          v.at,
          `\`${v.name}\` of host \`${h.name}\` is a Jinja2 template (\`${s}\`): kernelfile does not evaluate templates and uses it as written`,
          `write the ${what} itself`,
        );
      return s;
    }
    p.error(
      v.at,
      `\`${v.name}\` of host \`${h.name}\` must be a string, not ${isVault(v.value) ? 'a vault-encrypted value' : JSON.stringify(v.value)}`,
      isVault(v.value)
        ? `kernelfile cannot decrypt Ansible Vault: write the ${what} in clear`
        : `write the ${what}`,
    );
    return null;
  };
  const host = text(['ansible_ssh_host', 'ansible_host'], 'address') ?? h.name;
  const user = text(['ansible_ssh_user', 'ansible_user'], 'user name');
  const identity = text(['ansible_ssh_private_key_file', 'ansible_private_key_file'], 'key file path');
  let port: number | null = null;
  const pv = pick(vars, 'ansible_ssh_port', 'ansible_port');
  if (pv) {
    const n = typeof pv.value === 'number' ? pv.value : typeof pv.value === 'string' ? pyInt(pv.value) : null;
    if (n !== null && Number.isInteger(n) && n >= 1 && n <= 65535) port = n;
    else
      p.error(
        pv.at,
        `\`${pv.name}\` of host \`${h.name}\` is not a port number: ${JSON.stringify(pv.value)}`,
        `write an integer from 1 to 65535, e.g. \`${pv.name}: 2222\``,
      );
  }
  let become = false;
  const bv = pick(vars, 'ansible_become');
  if (bv) {
    const v = bv.value;
    const s = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : null;
    if (v === true || (s !== null && BOOL_TRUE.has(s === '1.0' ? '1' : s))) become = true;
    else if (v === false || (s !== null && BOOL_FALSE.has(s === '0.0' ? '0' : s))) become = false;
    else
      p.error(
        bv.at,
        `\`ansible_become\` of host \`${h.name}\` must be a boolean, not ${JSON.stringify(v)}`,
        'write `ansible_become: true` or `false`',
      );
  }
  return { host, port, user, identity, become };
}

/** Parse an Ansible YAML inventory. `file` names it in diagnostics and in the result. */
export function parseInventory(text: string, file: string): InventoryResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    version: '1.1',
    customTags: ansibleTags,
    uniqueKeys: true,
    prettyErrors: false,
  });
  const fail = (line: number, message: string, hint?: string): InventoryResult => ({
    ok: false,
    errors: [{ severity: 'error', message, file, line, column: 1, ...(hint ? { hint } : {}) }],
  });
  const base = file.replace(/\.[^./]*$/, '');
  const converted = /\.ya?ml$/.test(file) ? `${base}.converted.yml` : `${base}.yml`;
  const iniFail = (line: number): InventoryResult =>
    fail(
      line,
      'this looks like an INI inventory: INI inventories are not supported yet',
      `convert it to Ansible's YAML format with \`ansible-inventory -i ${file} --list --yaml --export --output ${converted}\``,
    );
  const contents = doc.contents as Node | null;
  if (doc.errors.length || (contents !== null && !isMap(contents))) {
    const ini = iniLine(text);
    if (ini) return iniFail(ini);
  }
  const p = new Parser(doc as Document, lc, file);
  if (doc.errors.length) {
    const dups = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc as Document, lc) : [];
    for (const d of dups)
      p.error(d.at, `duplicate key \`${d.key}\` (first at line ${d.firstLine})`, YAML_HINTS.DUPLICATE_KEY);
    for (const e of doc.errors)
      if (e.code !== 'DUPLICATE_KEY' || dups.length === 0)
        p.error(e.pos[0], e.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''), YAML_HINTS[e.code]);
    return { ok: false, errors: p.errors };
  }
  for (const w of doc.warnings)
    p.diag('warning', w.pos[0], w.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''));

  const top = p.resolve(contents);
  if (top === null || isNull(top) || (isMap(top) && top.items.length === 0))
    return fail(
      1,
      'the inventory is empty',
      'list groups at the top level, e.g. `all: {hosts: {web1.example.com: }}` (Ansible refuses it too: "Parsed empty YAML file")',
    );
  if (!isMap(top)) {
    p.error(
      p.at(top),
      `an inventory must be a mapping of group names to groups, not ${describe(top)}`,
      'start with `all:` (or any group name) at the top level, with `hosts:`, `children:` and `vars:` below it',
    );
    return { ok: false, errors: p.errors };
  }
  const entries = p.entries(top);
  const plugin = entries.find((e) => e.key === 'plugin');
  if (plugin && !falsy(p.resolve(plugin.value)))
    return {
      ok: false,
      errors: [
        {
          severity: 'error',
          message: 'this is the configuration of an inventory plugin (`plugin:`), not an inventory',
          file,
          ...lcPos(lc, plugin.at),
          hint: `kernelfile reads static inventories: dump this one with \`ansible-inventory -i ${file} --list --yaml --export --output inventory.yml\``,
        },
      ],
    };
  const meta = entries.find((e) => e.key === '_meta');
  if (meta)
    return {
      ok: false,
      errors: [
        {
          severity: 'error',
          message:
            'this is the JSON output of `ansible-inventory --list` (it has `_meta`), not a YAML inventory',
          file,
          ...lcPos(lc, meta.at),
          hint: 'produce the YAML inventory format with `ansible-inventory -i INVENTORY --list --yaml --export`',
        },
      ],
    };

  p.group('all', undefined);
  p.group('ungrouped', undefined);
  p.addChild('all', 'ungrouped', undefined);
  for (const e of entries) p.parseGroup(e.keyNode, e.key, e.value, e.at);
  if (p.errors.length) return { ok: false, errors: p.errors };
  p.reconcile();
  if (p.errors.length) return { ok: false, errors: p.errors };

  const depth = p.depths();
  const hosts: InventoryHost[] = [];
  for (const h of p.hosts.values()) {
    const mine = [...p.groupsOf(h)];
    const ordered = mine
      .map((n) => p.groups.get(n) as GroupState)
      .sort(
        (a, b) =>
          (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) ||
          a.priority - b.priority ||
          byCodePoint(a.name, b.name),
      );
    const merged = new Map<string, VarEntry>();
    for (const g of ordered) for (const [k, v] of g.vars) merged.set(k, v);
    for (const [k, v] of h.vars) merged.set(k, v);
    const addr = address(p, h, merged);
    let kernelfile: string | null = null;
    const kv = merged.get('kernelfile');
    if (kv && kv.value !== null) {
      if (typeof kv.value === 'string' && kv.value !== '') kernelfile = kv.value;
      else
        p.error(
          kv.at,
          `the \`kernelfile\` var of host \`${h.name}\` must be a path, not ${JSON.stringify(kv.value)}`,
          'write the path of the kernelfile, relative to the inventory file or absolute',
        );
    }
    hosts.push({
      name: h.name,
      groups: mine.sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : byCodePoint(a, b))),
      vars: Object.fromEntries([...merged].map(([k, v]) => [k, v.value])),
      address: addr,
      kernelfile,
    });
  }
  if (p.errors.length) return { ok: false, errors: p.errors };
  const groups = Object.fromEntries(
    [...p.groups.values()].map((g) => [
      g.name,
      { hosts: [...g.hosts], children: [...g.children], parents: [...g.parents] },
    ]),
  );
  return { ok: true, value: { file, hosts, groups }, warnings: p.warnings };
}

/** Keys repeated in a mapping, at the repeated key (yaml reports them past the first one's value). */
function duplicateKeys(
  doc: Document,
  lc: LineCounter,
): Array<{ key: string; at: number | undefined; firstLine: number }> {
  const out: Array<{ key: string; at: number | undefined; firstLine: number }> = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<unknown, number | undefined>();
      for (const pair of map.items) {
        const k = pair.key;
        if (!isScalar(k) || typeof k.value === 'symbol') continue;
        const at = k.range?.[0];
        if (seen.has(k.value)) {
          const first = seen.get(k.value);
          out.push({ key: String(k.value), at, firstLine: lc.linePos(first ?? 0).line });
        } else seen.set(k.value, at);
      }
    },
  });
  return out;
}

function lcPos(lc: LineCounter, at: number | undefined): { line: number; column: number } {
  const p = lc.linePos(at ?? 0);
  return { line: p.line, column: p.col };
}

/**
 * Where a host's `kernelfile` var points: relative to the inventory file's directory, as written if
 * absolute. Null when the host has none.
 */
export function hostKernelfile(h: InventoryHost, inventoryFile: string): string | null {
  if (h.kernelfile === null) return null;
  if (isAbsolute(h.kernelfile)) return normalize(h.kernelfile);
  return join(dirname(inventoryFile), h.kernelfile);
}
