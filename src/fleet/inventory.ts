/**
 * Ansible inventories: the YAML format of Ansible's `yaml` inventory plugin (here) and the INI format
 * of its `ini` plugin (inventory-ini.ts), parsed as Ansible parses them into one model
 * (inventory-model.ts: groups, hosts, var precedence, the connection), with the variables of the
 * group_vars/ and host_vars/ files beside the inventory (vars-dirs.ts). Pure: the caller reads the
 * files and passes their texts; no node: module, no I/O.
 *
 * Which format (Ansible's plugins in their default order): a file named `.yml`, `.yaml`, `.json` or
 * without an extension is read as YAML, and as INI when it is not a YAML mapping (Ansible's yaml
 * plugin fails on it and the ini plugin takes it); any other name is INI.
 *
 * The YAML format (ansible-core: plugins/inventory/yaml.py): the file is YAML 1.1 as PyYAML reads it
 * (ansible-yaml.ts). The top level maps group names to group definitions: null, or a mapping with
 * `hosts:`, `children:`, `vars:` (a bare string there stands for a one-key mapping). Host keys are
 * patterns (`www[01:50:2].example.com`, `host:2222`).
 *
 * Stricter than Ansible, on purpose (Ansible warns and goes on; a kernel rollout should not): a
 * group that is not a mapping, an unknown key in a group (`host:` for `hosts:`), a name that is
 * both a host and a group, and duplicate keys are errors.
 */
import { dirname, extname, isAbsolute, join, normalize } from 'pathe';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import {
  describe,
  duplicateKeys,
  type Entry,
  falsy,
  isNull,
  lcPos,
  nameText,
  parseAnsibleYaml,
  YAML_HINTS,
  YamlReader,
} from './ansible-yaml.js';
import { parseIniInventory } from './inventory-ini.js';
import {
  expandHostPattern,
  type HostState,
  type InvDiagnostic,
  type InventoryHost,
  InventoryModel,
  type InventoryResult,
  type Loc,
} from './inventory-model.js';
import { type VarsFiles, varsFilesWanted, varsLayers } from './vars-dirs.js';

export {
  expandHostPattern,
  type InvDiagnostic,
  type Inventory,
  type InventoryHost,
  type InventoryResult,
  KERNELFILE_VARS,
  MAX_RANGE_HOSTS,
  parseAddress,
  type VarOrigin,
  type VaultValue,
} from './inventory-model.js';
export type { VarsEntry, VarsFiles } from './vars-dirs.js';

/** Group and host entries visited, aliases included (a guard against alias bombs). */
const MAX_VISITS = 200_000;

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

/** A YAML inventory into the model (Ansible's yaml plugin). */
class YamlInventoryParser {
  private visits = 0;
  private readonly patternCache = new Map<string, { hosts: string[]; port: number | null } | Error>();

  constructor(
    private readonly m: InventoryModel,
    private readonly y: YamlReader,
  ) {}

  private loc(at: number | undefined): Loc | undefined {
    return at === undefined ? undefined : this.y.loc(at);
  }

  error(at: number | undefined, message: string, hint?: string): void {
    this.m.error(this.y.loc(at), message, hint);
  }

  private resolve(node: unknown): Node | null {
    return this.y.resolve(node);
  }

  private at(node: Node | null): number | undefined {
    return this.y.at(node);
  }

  private entries(map: Node): Entry[] {
    return this.y.entries(map);
  }

  private toJS(node: Node | null, at: number | undefined): unknown {
    return this.y.toJS(node, at);
  }

  private group(name: string, at: number | undefined) {
    return this.m.group(name, this.loc(at));
  }

  private addChild(parent: string, child: string, at: number | undefined): boolean {
    return this.m.addChild(parent, child, this.loc(at));
  }

  private addHost(name: string, group: string, port: number | null, at: number | undefined): HostState {
    return this.m.addHost(name, group, port, this.loc(at));
  }

  private setGroupVar(
    g: ReturnType<InventoryModel['group']>,
    key: string,
    value: unknown,
    at: number | undefined,
  ): void {
    this.m.setGroupVar(g, key, value, this.loc(at));
  }

  private tick(at: number | undefined): boolean {
    if (++this.visits <= MAX_VISITS) return true;
    if (this.visits === MAX_VISITS + 1)
      this.error(
        at,
        `the inventory expands to more than ${MAX_VISITS} group and host entries`,
        'is an alias (`*name`) repeated inside itself? Write the groups out',
      );
    return false;
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
      return { key: nameText(v.key), value: this.toJS(vn, v.at), at: this.loc(this.at(vn) ?? v.at) };
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
}

/** A YAML inventory into `m`; an InventoryResult when it fails before any group is read. */
function parseYamlInventory(
  { doc, lc }: ReturnType<typeof parseAnsibleYaml>,
  file: string,
  m: InventoryModel,
): InventoryResult | null {
  const fail = (line: number, message: string, hint?: string): InventoryResult => ({
    ok: false,
    errors: [{ severity: 'error', message, file, line, column: 1, ...(hint ? { hint } : {}) }],
  });
  const contents = doc.contents as Node | null;
  const y = new YamlReader(doc, lc, file, (at, message, hint) => m.error(y.loc(at), message, hint));
  const p = new YamlInventoryParser(m, y);
  if (doc.errors.length) {
    const dups = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc, lc) : [];
    for (const d of dups)
      p.error(d.at, `duplicate key \`${d.key}\` (first at line ${d.firstLine})`, YAML_HINTS.DUPLICATE_KEY);
    for (const e of doc.errors)
      if (e.code !== 'DUPLICATE_KEY' || dups.length === 0)
        p.error(e.pos[0], e.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''), YAML_HINTS[e.code]);
    return { ok: false, errors: m.errors };
  }
  for (const w of doc.warnings)
    m.diag('warning', y.loc(w.pos[0]), w.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''));

  const top = y.resolve(contents);
  if (top === null || isNull(top) || (isMap(top) && top.items.length === 0))
    return fail(
      1,
      'the inventory is empty',
      'list groups at the top level, e.g. `all: {hosts: {web1.example.com: }}` (Ansible refuses it too: "Parsed empty YAML file")',
    );
  if (!isMap(top)) {
    p.error(
      y.at(top),
      `an inventory must be a mapping of group names to groups, not ${describe(top)}`,
      'start with `all:` (or any group name) at the top level, with `hosts:`, `children:` and `vars:` below it',
    );
    return { ok: false, errors: m.errors };
  }
  const entries = y.entries(top);
  const plugin = entries.find((e) => e.key === 'plugin');
  if (plugin && !falsy(y.resolve(plugin.value)))
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
  for (const e of entries) p.parseGroup(e.keyNode, e.key, e.value, e.at);
  return null;
}

/** Ansible's yaml plugin takes files named so (its `yaml_extensions`), and files without an extension. */
const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];

/** An inventory file read, before the files under group_vars/ and host_vars/ are added. */
export interface InventorySource {
  file: string;
  format: 'yaml' | 'ini';
  /** Every group, `all` and `ungrouped` first. */
  groups: string[];
  /** Every host, in the order first met. */
  hosts: string[];
  /** The groups and hosts read (finishInventory completes them once). */
  readonly model: InventoryModel;
}

export type InventorySourceResult =
  | { ok: true; value: InventorySource }
  | { ok: false; errors: InvDiagnostic[] };

/** The YAML text, when it is a YAML mapping (the hint for a YAML file Ansible would read as INI). */
function yamlMapping(text: string): boolean {
  const { doc } = parseAnsibleYaml(text);
  return doc.errors.length === 0 && isMap(doc.contents);
}

/** Read an inventory file's text (YAML or INI, as Ansible would tell them apart). `file` names it in diagnostics. */
export function readInventorySource(text: string, file: string): InventorySourceResult {
  const ext = extname(file);
  const yamlName = ext === '' || YAML_EXTENSIONS.includes(ext);
  let m = new InventoryModel(file);
  let format: 'yaml' | 'ini' = yamlName ? 'yaml' : 'ini';
  if (yamlName) {
    const yaml = parseAnsibleYaml(text);
    const contents = yaml.doc.contents as Node | null;
    if (yaml.doc.errors.length || (contents !== null && !isMap(contents))) {
      // Not a YAML mapping: Ansible's yaml plugin fails and its ini plugin reads the file. Its INI
      // errors are shown when the text looks like INI, else the YAML errors.
      const ini = new InventoryModel(file);
      parseIniInventory(text, file, ini);
      if (ini.errors.length === 0 || iniLine(text)) {
        m = ini;
        format = 'ini';
      }
    }
    if (format === 'yaml') {
      const failed = parseYamlInventory(yaml, file, m);
      if (failed && !failed.ok) return failed;
    }
  } else {
    parseIniInventory(text, file, m);
    if (m.errors.length && yamlMapping(text))
      for (const e of m.errors)
        e.hint = `${e.hint ? `${e.hint}; ` : ''}this looks like a YAML inventory, but Ansible reads a file named \`*${ext}\` as INI: name it \`.yml\``;
  }
  if (m.errors.length) return { ok: false, errors: m.errors };
  return {
    ok: true,
    value: { file, format, groups: [...m.groups.keys()], hosts: [...m.hosts.keys()], model: m },
  };
}

/**
 * Which files under group_vars/ and host_vars/ the inventory's groups and hosts load (paths relative
 * to the inventory's directory, in load order), given what is there.
 */
export function inventoryVarsFiles(src: InventorySource, files: Pick<VarsFiles, 'entries'>): string[] {
  return varsFilesWanted(files.entries, src.groups, src.hosts);
}

/**
 * The inventory: its groups and hosts, each host's vars merged with those of the files under
 * group_vars/ and host_vars/ (`vars`: what is there, and the texts of the files
 * `inventoryVarsFiles` names). Consumes `src`.
 */
export function finishInventory(src: InventorySource, vars?: VarsFiles): InventoryResult {
  const m = src.model;
  if (m.finished) throw new Error(`finishInventory: ${src.file} was finished already; read it again`);
  const layers = vars ? varsLayers(vars, src.groups, src.hosts, dirname(src.file), m) : undefined;
  return m.finish(layers);
}

/** Parse an Ansible inventory (YAML or INI), with the files beside it when given. `file` names it in diagnostics and in the result. */
export function parseInventory(text: string, file: string, vars?: VarsFiles): InventoryResult {
  const src = readInventorySource(text, file);
  if (!src.ok) return src;
  return finishInventory(src.value, vars);
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
