/**
 * YAML as Ansible reads it (PyYAML, YAML 1.1, Ansible's tags), for inventories and for the files
 * under group_vars/ and host_vars/. Pure.
 *
 * `yes`/`on` are booleans, `0755` is octal, `09` and `1e3` are strings, `<<` merge keys, `!vault`
 * values as `{__ansible_vault}`, `!unsafe`; a date stays the text written, as ansible-inventory
 * prints it.
 */
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
import type { Loc, VaultValue } from './inventory-model.js';

// ---------------------------------------------------------------------------------------------------
// YAML as Ansible (PyYAML, YAML 1.1) reads it

const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

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
export function ansibleTags(tags: Tags): Tags {
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

export const YAML_HINTS: Record<string, string> = {
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

/** The text parsed as Ansible's YAML loader would, with positions. */
export function parseAnsibleYaml(text: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    version: '1.1',
    customTags: ansibleTags,
    uniqueKeys: true,
    prettyErrors: false,
  }) as Document;
  return { doc, lc };
}

export interface Entry {
  key: unknown;
  keyNode: Node | null;
  value: Node | null;
  at: number | undefined;
}

export function describe(node: Node | null): string {
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

export function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** Python truthiness of a YAML value (Ansible's `value or {}`). */
export function falsy(node: Node | null): boolean {
  if (isNull(node)) return true;
  if (isScalar(node)) return node.value === false || node.value === 0 || node.value === '';
  if (isMap(node) || isSeq(node)) return node.items.length === 0;
  return false;
}

export function nameText(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

type Report = (at: number | undefined, message: string, hint?: string) => void;

/** Reading one parsed YAML file: aliases, merge keys, JS values, positions. */
export class YamlReader {
  private readonly entryCache = new WeakMap<Node, Entry[]>();
  private readonly jsCache = new WeakMap<Node, unknown>();

  constructor(
    readonly doc: Document,
    private readonly lc: LineCounter,
    readonly file: string,
    private readonly report: Report,
  ) {}

  /** An offset in the file as a file, line and column. */
  loc(at: number | undefined): Loc {
    const p = this.lc.linePos(at ?? 0);
    return { file: this.file, line: p.line, column: p.col };
  }

  private error(at: number | undefined, message: string, hint?: string): void {
    this.report(at, message, hint);
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
}

/** Keys repeated in a mapping, at the repeated key (yaml reports them past the first one's value). */
export function duplicateKeys(
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

export function lcPos(lc: LineCounter, at: number | undefined): { line: number; column: number } {
  const p = lc.linePos(at ?? 0);
  return { line: p.line, column: p.col };
}
