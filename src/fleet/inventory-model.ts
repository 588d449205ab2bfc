/**
 * The inventory model both inventory formats build (YAML: inventory.ts, INI: inventory-ini.ts), as
 * Ansible's InventoryData builds it, and the one place where a host's variables are merged and its
 * connection read. Pure: no node: module, no I/O.
 *
 * What Ansible does, and so what this does (ansible-core: inventory/data.py, group.py, host.py,
 * helpers.py, vars/manager.py, plugins/vars/host_group_vars.py, parsing/utils/addresses.py):
 * - Groups `all` and `ungrouped` always exist; every group without a parent becomes a child of
 *   `all`; a host whose only group is `all` goes to `ungrouped`, and leaves `ungrouped` when it is also
 *   in another group.
 * - Host patterns: `www[01:50:2].example.com`, `db-[a:f]`, `host:2222`, `[2001:db8::1]:22`. A port
 *   written so becomes `ansible_port` when the host is first seen.
 * - A host's vars, later ones overriding (VariableManager.get_vars with the default
 *   VARIABLE_PRECEDENCE): the inventory vars of its groups (`all` first, then the others sorted by
 *   (depth below `all`, `ansible_group_priority`, name)); `group_vars/all`; `group_vars/GROUP` of
 *   its other groups in that order; its own inventory vars (a host listed several times: the last
 *   value of each var wins); `host_vars/HOST`. A var replaces another whole (no dict merging).
 * - `ansible_host`/`ansible_port`/`ansible_user`/`ansible_private_key_file` lose to their
 *   `ansible_ssh_*` forms wherever those are set, as in Ansible's ssh connection plugin.
 *
 * Stricter than Ansible, on purpose (Ansible warns and goes on; a kernel rollout should not): a name
 * that is both a host and a group is an error.
 */

export interface InventoryHost {
  /** inventory hostname */
  name: string;
  /** every group it belongs to, incl. ancestors and 'all' (sorted, 'all' first) */
  groups: string[];
  /** merged with Ansible's precedence (groups < group_vars/ < host < host_vars/, see above) */
  vars: Record<string, unknown>;
  /** Where each of `vars` was set (the inventory, or a file under group_vars/ or host_vars/). */
  origins: Record<string, VarOrigin>;
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

/** A file and line (a host's port written in its name has the host's line). */
export interface VarOrigin {
  file: string;
  line: number;
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

/** An Ansible Vault value, shown as ansible-inventory shows it. */
export interface VaultValue {
  __ansible_vault: string;
}

/** The variables kernelfile reads from a host (everything else is Ansible's business). */
export const KERNELFILE_VARS: readonly string[] = [
  'kernelfile',
  'ansible_connection',
  'ansible_host',
  'ansible_ssh_host',
  'ansible_port',
  'ansible_ssh_port',
  'ansible_user',
  'ansible_ssh_user',
  'ansible_private_key_file',
  'ansible_ssh_private_key_file',
  'ansible_become',
];

/** A range such as `[0:99999999]` would make a host list no machine can hold. */
export const MAX_RANGE_HOSTS = 100_000;

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
 * An ASCII name HOSTNAME accepts, tried first: most inventories name hosts so, and this one is
 * matched at once (the expressions above are large: building them costs a fleet's first host
 * milliseconds). Labels of letters, digits, `_` and `-`, not ending in either of the last two.
 */
const PLAIN_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?|_[A-Za-z0-9_-]*[A-Za-z0-9]';
const PLAIN_NAME = new RegExp(`^(?:${PLAIN_LABEL})(?:\\.(?:${PLAIN_LABEL}))*$`);

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
  if (!(PLAIN_NAME.test(rest) || IPV4.test(rest) || IPV6.test(rest) || HOSTNAME.test(rest))) return null;
  if (!allowRanges && rest.includes('[')) return null;
  return { host: rest, port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's int() on a string: optional sign, digits with single underscores between, spaces around. */
export function pyInt(s: string): number | null {
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

// ---------------------------------------------------------------------------------------------------
// The model

/** Where something was written. */
export interface Loc {
  file: string;
  line: number;
  column: number;
}

export interface VarEntry {
  value: unknown;
  at: Loc | undefined;
}

export type Vars = Map<string, VarEntry>;

export interface GroupState {
  name: string;
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  vars: Vars;
  priority: number;
  at: Loc | undefined;
}

export interface HostState {
  name: string;
  /** The groups that list it, in the order they do. */
  direct: string[];
  vars: Vars;
  at: Loc | undefined;
}

/** The variables of the files under group_vars/ and host_vars/, merged per group and per host. */
export interface VarsLayers {
  groups: ReadonlyMap<string, Vars>;
  hosts: ReadonlyMap<string, Vars>;
}

/** Code point order, as Python sorts strings. */
export function byCodePoint(a: string, b: string): number {
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

/** Groups and hosts as a format's parser adds them, with its diagnostics; `finish` makes the Inventory. */
export class InventoryModel {
  readonly errors: InvDiagnostic[] = [];
  readonly warnings: InvDiagnostic[] = [];
  readonly groups = new Map<string, GroupState>();
  readonly hosts = new Map<string, HostState>();
  private readonly seen = new Set<string>();
  private readonly ancestorMemo = new Map<string, Set<string>>();

  /** `finish` ran: the model is the Inventory's now. */
  finished = false;
  /** How the inventory file writes things (hints show a var as `name=value` or `name: value`). */
  syntax: 'yaml' | 'ini' = 'yaml';

  constructor(readonly file: string) {
    this.group('all', undefined);
    this.group('ungrouped', undefined);
    this.addChild('all', 'ungrouped', undefined);
  }

  diag(severity: 'error' | 'warning', at: Loc | undefined, message: string, hint?: string): void {
    const p = at ?? { file: this.file, line: 1, column: 1 };
    const key = `${severity}\0${p.file}\0${p.line}\0${p.column}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    (severity === 'error' ? this.errors : this.warnings).push({
      severity,
      message,
      file: p.file,
      line: p.line,
      column: p.column,
      ...(hint ? { hint } : {}),
    });
  }

  error(at: Loc | undefined, message: string, hint?: string): void {
    this.diag('error', at, message, hint);
  }

  /** `name=value` where it was written in an INI inventory, else `name: value` (YAML). */
  assign(name: string, value: string, at: Loc | undefined): string {
    return this.syntax === 'ini' && (at === undefined || at.file === this.file)
      ? `${name}=${value}`
      : `${name}: ${value}`;
  }

  group(name: string, at: Loc | undefined): GroupState {
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

  addChild(parent: string, child: string, at: Loc | undefined): boolean {
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
        this.syntax === 'ini'
          ? 'remove it; to list hosts or vars for every host use `[all]` and `[all:vars]` sections'
          : 'remove it; to list hosts or vars for every host write them under the top-level `all:`',
      );
      return false;
    }
    if (this.ancestors(parent).has(child)) {
      this.error(
        at,
        `group \`${child}\` is listed as a child of \`${parent}\`, which is already below \`${child}\`: the children form a cycle`,
        `groups may have several parents and children, but not circular relationships: remove one of the two ${this.syntax === 'ini' ? '`[…:children]` lines' : '`children:` entries'}`,
      );
      return false;
    }
    p.children.push(child);
    c.parents.push(parent);
    this.ancestorMemo.clear();
    return true;
  }

  addHost(name: string, group: string, port: number | null, at: Loc | undefined): HostState {
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

  setGroupVar(g: GroupState, key: string, value: unknown, at: Loc | undefined): void {
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
          `groups at the same depth merge by priority (default 1), higher later: write e.g. \`${this.assign('ansible_group_priority', '10', at)}\``,
        );
      else g.priority = n;
      return;
    }
    g.vars.set(key, { value, at });
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

  /**
   * Reconcile, merge each host's vars (the inventory's and the layers from group_vars/ and
   * host_vars/) and read its connection: the Inventory, or every error found.
   */
  finish(layers: VarsLayers = { groups: new Map(), hosts: new Map() }): InventoryResult {
    this.finished = true;
    if (this.errors.length) return { ok: false, errors: this.errors };
    this.reconcile();
    if (this.errors.length) return { ok: false, errors: this.errors };
    const depth = this.depths();
    const hosts: InventoryHost[] = [];
    const none: Vars = new Map();
    for (const h of this.hosts.values()) {
      const mine = [...this.groupsOf(h)];
      const ordered = mine
        .map((n) => this.groups.get(n) as GroupState)
        .sort(
          (a, b) =>
            (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) ||
            a.priority - b.priority ||
            byCodePoint(a.name, b.name),
        );
      const merged: Vars = new Map();
      const add = (vars: Vars) => {
        for (const [k, v] of vars) merged.set(k, v);
      };
      // `all` has depth 0: it comes first, as all_inventory comes before groups_inventory.
      for (const g of ordered) add(g.vars);
      add(layers.groups.get('all') ?? none);
      for (const g of ordered) if (g.name !== 'all') add(layers.groups.get(g.name) ?? none);
      add(h.vars);
      add(layers.hosts.get(h.name) ?? none);
      const addr = address(this, h, merged);
      let kernelfile: string | null = null;
      const kv = merged.get('kernelfile');
      if (kv && kv.value !== null) {
        if (typeof kv.value === 'string' && kv.value !== '') kernelfile = kv.value;
        else
          this.error(
            kv.at,
            `the \`kernelfile\` var of host \`${h.name}\` must be a path, not ${JSON.stringify(kv.value)}`,
            'write the path of the kernelfile, relative to the inventory file or absolute',
          );
      }
      const origins: Record<string, VarOrigin> = {};
      for (const [k, v] of merged)
        origins[k] = { file: v.at?.file ?? this.file, line: v.at?.line ?? h.at?.line ?? 1 };
      hosts.push({
        name: h.name,
        groups: mine.sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : byCodePoint(a, b))),
        vars: Object.fromEntries([...merged].map(([k, v]) => [k, v.value])),
        origins,
        address: addr,
        kernelfile,
      });
    }
    if (this.errors.length) return { ok: false, errors: this.errors };
    const groups = Object.fromEntries(
      [...this.groups.values()].map((g) => [
        g.name,
        { hosts: [...g.hosts], children: [...g.children], parents: [...g.parents] },
      ]),
    );
    return { ok: true, value: { file: this.file, hosts, groups }, warnings: this.warnings };
  }
}

function pick(vars: Vars, ...names: string[]): (VarEntry & { name: string }) | null {
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

function address(p: InventoryModel, h: HostState, vars: Vars): InventoryHost['address'] {
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
        `write an integer from 1 to 65535, e.g. \`${p.assign(pv.name, '2222', pv.at)}\``,
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
        `write \`${p.assign('ansible_become', 'true', bv.at)}\` or \`false\``,
      );
  }
  return { host, port, user, identity, become };
}
