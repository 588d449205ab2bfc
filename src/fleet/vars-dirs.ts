/**
 * The variables of the files under `group_vars/` and `host_vars/` beside an inventory, as Ansible's
 * host_group_vars vars plugin finds and loads them. Pure: the engine lists the directories and reads
 * the files (bounded, src/engine/inventory.ts); this decides which files count, in which order, and
 * reads their texts.
 *
 * What Ansible does, and so what this does (plugins/vars/host_group_vars.py,
 * parsing/dataloader.py find_vars_files, utils/vars.py combine_vars):
 * - For a group or host NAME (not one starting with `/`, such as a chroot directory), the first of
 *   `DIR/NAME`, `DIR/NAME.yml`, `DIR/NAME.yaml`, `DIR/NAME.json` that exists counts, and only it. A
 *   directory counts as every file below it: its entries sorted by name, hidden ones (`.x`) and
 *   backups (`x~`) skipped, files without an extension or ending in `.yml`, `.yaml`, `.json`,
 *   subdirectories without an extension searched the same way.
 * - A file is JSON when it parses as JSON, else YAML (ansible-yaml.ts); an empty one (or `{}`, `[]`,
 *   `false`) adds nothing; anything else must be a mapping. Files merge in order, a later var
 *   replacing an earlier one whole.
 * - A file encrypted with Ansible Vault: Ansible needs the vault password. kernelfile does not
 *   decrypt: it warns and reads the inventory without that file's variables (keep the variables
 *   kernelfile uses, the connection and `kernelfile`, outside the vault, as Ansible's own advice to
 *   keep only secrets in vaults has it). A `!vault` value in a clear file is kept as it is in an
 *   inventory.
 *
 * Stricter than Ansible, on purpose: duplicate keys are errors (Ansible keeps the last and warns).
 */
import { join } from 'pathe';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import {
  duplicateKeys,
  falsy,
  isNull,
  nameText,
  parseAnsibleYaml,
  YAML_HINTS,
  YamlReader,
} from './ansible-yaml.js';
import { byCodePoint, type InventoryModel, type Loc, type Vars, type VarsLayers } from './inventory-model.js';

/**
 * One entry under `group_vars/` or `host_vars/` as the engine found it: `path` relative to the
 * inventory's directory, `/`-separated (`group_vars/web/main.yml`); `kind` what it is (symbolic links
 * followed); `refused` when it is there but kernelfile will not read it (a link out of the
 * inventory's directory), and why.
 */
export interface VarsEntry {
  path: string;
  kind: 'file' | 'dir' | 'other';
  refused?: string;
}

/** What is under `group_vars/` and `host_vars/`, and the texts of the files inventoryVarsFiles names. */
export interface VarsFiles {
  entries: readonly VarsEntry[];
  /** By path (as in `entries`). */
  texts: ReadonlyMap<string, string>;
}

/** Ansible's C.YAML_FILENAME_EXTENSIONS. */
const EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Python's os.path.splitext(name)[1] for a name without leading dots. */
function extOf(name: string): string {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i) : '';
}

class Listing {
  readonly byPath = new Map<string, VarsEntry>();
  readonly children = new Map<string, string[]>();

  constructor(entries: readonly VarsEntry[]) {
    for (const e of entries) {
      this.byPath.set(e.path, e);
      const slash = e.path.lastIndexOf('/');
      if (slash < 0) continue;
      const dir = e.path.slice(0, slash);
      const list = this.children.get(dir);
      if (list) list.push(e.path.slice(slash + 1));
      else this.children.set(dir, [e.path.slice(slash + 1)]);
    }
    for (const list of this.children.values()) list.sort(byCodePoint);
  }

  /** DataLoader._get_dir_vars_files. */
  dirFiles(dir: string, out: VarsEntry[], depth = 0): void {
    if (depth > 64) return;
    for (const name of this.children.get(dir) ?? []) {
      if (name.startsWith('.') || name.endsWith('~')) continue;
      const e = this.byPath.get(`${dir}/${name}`) as VarsEntry;
      const ext = extOf(name);
      if (e.kind === 'dir' && !ext) this.dirFiles(e.path, out, depth + 1);
      else if (e.kind === 'file' && (!ext || EXTENSIONS.includes(ext))) out.push(e);
    }
  }

  /** DataLoader.find_vars_files for one group or host: the files, in load order. */
  find(subdir: 'group_vars' | 'host_vars', name: string): VarsEntry[] {
    if (name.startsWith('/')) return [];
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    // A `..` would leave the directory: such a name has no vars files.
    if (parts.length === 0 || parts.includes('..')) return [];
    const base = `${subdir}/${parts.join('/')}`;
    for (const ext of ['', ...EXTENSIONS]) {
      const e = this.byPath.get(base + ext);
      if (!e) continue;
      if (e.kind !== 'dir') return [e];
      const out: VarsEntry[] = [];
      this.dirFiles(e.path, out);
      return out;
    }
    return [];
  }
}

/** The paths of the readable files the groups and hosts load (what the engine reads). */
export function varsFilesWanted(
  entries: readonly VarsEntry[],
  groups: readonly string[],
  hosts: readonly string[],
): string[] {
  const listing = new Listing(entries);
  const out = new Set<string>();
  for (const [subdir, names] of [
    ['group_vars', groups],
    ['host_vars', hosts],
  ] as const)
    for (const name of names)
      for (const e of listing.find(subdir, name)) if (e.kind === 'file' && !e.refused) out.add(e.path);
  return [...out];
}

const VAULT_HEADER = '$ANSIBLE_VAULT;';

/** One vars file's variables, or null when it adds none; diagnostics into the model. */
function readVarsText(text: string, file: string, m: InventoryModel): Vars | null {
  const at = (line: number, column = 1): Loc => ({ file, line, column });
  if (text.startsWith(VAULT_HEADER)) {
    m.diag(
      'warning',
      at(1),
      'this file is encrypted with Ansible Vault: kernelfile does not decrypt it and reads the inventory without its variables',
      'keep the variables kernelfile uses (`kernelfile`, `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`, `ansible_become`, `ansible_connection`) in a file that is not encrypted',
    );
    return null;
  }
  const { doc, lc } = parseAnsibleYaml(text);
  const y = new YamlReader(doc, lc, file, (o, message, hint) => m.error(y.loc(o), message, hint));
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = true;
  } catch {
    // Not JSON: YAML, as Ansible's loader tries them.
  }
  if (isJson) {
    if (json === null || json === false || json === 0 || json === '') return null;
    if (typeof json !== 'object' || Array.isArray(json)) {
      if (Array.isArray(json) && json.length === 0) return null;
      m.error(
        at(1),
        `a vars file must hold a mapping of variables, not ${Array.isArray(json) ? 'a list' : typeof json}`,
        'write `{"name": value, …}` (Ansible fails on it too: "failed to combine variables, expected dicts")',
      );
      return null;
    }
    // Positions from the YAML reading of the same text, where it agrees.
    const lines = new Map<string, Loc>();
    const top = doc.errors.length ? null : y.resolve(doc.contents);
    if (top && isMap(top)) for (const e of y.entries(top)) lines.set(nameText(e.key), y.loc(e.at));
    const out: Vars = new Map();
    for (const [k, v] of Object.entries(json as Record<string, unknown>))
      out.set(k, { value: v, at: lines.get(k) ?? at(1) });
    return out;
  }
  if (doc.errors.length) {
    const dups = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc, lc) : [];
    for (const d of dups)
      m.error(
        y.loc(d.at),
        `duplicate key \`${d.key}\` (first at line ${d.firstLine})`,
        YAML_HINTS.DUPLICATE_KEY,
      );
    for (const e of doc.errors)
      if (e.code !== 'DUPLICATE_KEY' || dups.length === 0)
        m.error(
          y.loc(e.pos[0]),
          e.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''),
          YAML_HINTS[e.code],
        );
    return null;
  }
  for (const w of doc.warnings)
    m.diag('warning', y.loc(w.pos[0]), w.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''));
  const top = y.resolve(doc.contents as Node | null);
  if (top === null || isNull(top) || falsy(top)) return null;
  if (!isMap(top)) {
    m.error(
      y.loc(y.at(top)),
      `a vars file must hold a mapping of variables, not ${isSeq(top) ? 'a list' : isScalar(top) ? 'a scalar' : 'this'}`,
      'write `name: value` lines (Ansible fails on it too: "failed to combine variables, expected dicts")',
    );
    return null;
  }
  const out: Vars = new Map();
  for (const e of y.entries(top)) {
    const vn = y.resolve(e.value);
    out.set(nameText(e.key), { value: y.toJS(vn, e.at), at: y.loc(y.at(vn) ?? e.at) });
  }
  return out;
}

/**
 * The variables each group and host gets from its files under group_vars/ and host_vars/, merged in
 * load order; `base` is the inventory's directory as shown in diagnostics.
 */
export function varsLayers(
  vars: VarsFiles,
  groups: readonly string[],
  hosts: readonly string[],
  base: string,
  m: InventoryModel,
): VarsLayers {
  const listing = new Listing(vars.entries);
  const parsed = new Map<string, Vars | null>();
  const shown = (path: string) => (base === '.' || base === '' ? path : join(base, path));
  const layer = (subdir: 'group_vars' | 'host_vars', name: string): Vars | null => {
    const files = listing.find(subdir, name);
    if (files.length === 0) return null;
    const merged: Vars = new Map();
    for (const e of files) {
      const file = shown(e.path);
      if (e.refused || e.kind !== 'file') {
        m.error(
          { file, line: 1, column: 1 },
          `${e.refused ?? 'not a regular file'}: Ansible would read it for ${subdir === 'group_vars' ? 'group' : 'host'} \`${name}\``,
          e.refused
            ? 'keep the vars files inside the inventory\u2019s directory (a copy, not a link out of it)'
            : 'make it a regular file, or remove it',
        );
        continue;
      }
      let v = parsed.get(e.path);
      if (v === undefined) {
        const text = vars.texts.get(e.path);
        if (text === undefined) {
          m.error({ file, line: 1, column: 1 }, 'this file was not read', 'this is a bug in kernelfile');
          v = null;
        } else v = readVarsText(text, file, m);
        parsed.set(e.path, v);
      }
      if (v) for (const [k, x] of v) merged.set(k, x);
    }
    return merged;
  };
  const out = { groups: new Map<string, Vars>(), hosts: new Map<string, Vars>() };
  for (const g of groups) {
    const l = layer('group_vars', g);
    if (l) out.groups.set(g, l);
  }
  for (const h of hosts) {
    const l = layer('host_vars', h);
    if (l) out.hosts.set(h, l);
  }
  return out;
}
