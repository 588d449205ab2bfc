/**
 * Ansible's INI inventory format, read as ansible-core's ini plugin reads it
 * (plugins/inventory/ini.py, with plugins/inventory/__init__.py for host patterns) into the same
 * model as the YAML format (inventory-model.ts), so both give the same groups, hosts and vars. Pure.
 *
 * What Ansible does, and so what this does:
 * - The text is split into lines as Python's str.splitlines splits it; each line is stripped; empty
 *   lines and lines starting with `#` or `;` are skipped.
 * - `[group]` starts a section of hosts, `[group:vars]` one of variables, `[group:children]` one of
 *   child groups; a section header may end in a `#` comment (not a `;` one). Lines before the first
 *   section are hosts of `ungrouped`.
 * - A host line is split as a POSIX shell would (Python's shlex, with `#` comments, also inside a
 *   word: `a=b#c` is `a=b`): the first word is a host pattern (`web-[01:20]`, `db-[a:f]`,
 *   `host:2222`), each other word `name=value`, the value read as a Python literal (python-literal.ts):
 *   `port=22` is a number, `x="'07'"` the string `07`, `l="[1, 2]"` a list, `flag=True` a boolean,
 *   anything that is not a literal stays the text (`user=ops`).
 * - A `[group:vars]` line is `name=value`, split at the first `=` and both sides stripped, the value
 *   read as a Python literal too, but not split into words: `x = a b # c` is the string `a b # c`,
 *   `x = 23 # c` the number 23.
 * - A group named in `[group:children]` or `[group:vars]` must be declared by a `[name]` or
 *   `[name:children]` section, before or after.
 *
 * Ansible stops at the first error; this reports every one. Errors where Ansible has one (each with
 * its line and what to do), and also: an empty variable name, a value Python reads into something
 * JSON has no form for is kept as its text with a warning.
 */
import { expandHostPattern, type GroupState, type InventoryModel, type Loc } from './inventory-model.js';
import { literalEval } from './python-literal.js';

// Python's str.isspace() characters (str.strip, and `\s` in a str pattern).
const PY_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
/** str.splitlines: \n, \r\n, \r, \v, \f, \x1c, \x1d, \x1e, \x85, \u2028, \u2029. */
const BREAKS = '\\r\\n|[\\n\\r\\v\\f\\x1c\\x1d\\x1e\\x85\\u2028\\u2029]';
const LINE_BREAK = new RegExp(BREAKS);
const SECTION = new RegExp(
  `^\\[([^:\\]${PY_SPACE}]+)(?::([\\p{L}\\p{N}_]+))?\\][${PY_SPACE}]*(?:#.*)?$`,
  'u',
);
const GROUP_NAME = new RegExp(`^([^:\\]${PY_SPACE}]+)[${PY_SPACE}]*(?:#.*)?$`, 'u');

function pyStrip(s: string): string {
  return s.replace(STRIP, '');
}

/** Python's str.splitlines (no empty last line for a final line break). */
export function splitLines(text: string): string[] {
  const lines = text.split(LINE_BREAK);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  if (text === '') return [];
  return lines;
}

/** A word of a host line and where it starts in the line. */
interface Word {
  text: string;
  at: number;
}

/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode, split at whitespace only): quotes, a
 * backslash escaping any character outside quotes and only `"` or `\` inside double quotes, `#`
 * ending the line wherever a word may continue. Throws with shlex's message.
 */
export function shlexSplit(line: string): Word[] {
  const words: Word[] = [];
  let word = '';
  let inWord = false;
  let start = 0;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push({ text: word, at: start });
      word = '';
      inWord = false;
      i++;
      continue;
    }
    if (c === '#') break;
    if (!inWord) {
      inWord = true;
      start = i;
    }
    if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character');
      word += line[i + 1];
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw new Error('No closing quotation');
        const d = line[j] as string;
        if (d === c) break;
        if (c === '"' && d === '\\') {
          const e = line[j + 1];
          if (e === undefined) throw new Error('No escaped character');
          word += e === '"' || e === '\\' ? e : `\\${e}`;
          j += 2;
          continue;
        }
        word += d;
        j++;
      }
      i = j + 1;
      continue;
    }
    word += c;
    i++;
  }
  if (inWord) words.push({ text: word, at: start });
  return words;
}

interface Pending {
  state: 'vars' | 'children';
  at: Loc;
  /** For a child group not declared yet: the groups that name it, and where. */
  parents: Array<{ name: string; at: Loc }>;
}

const SHOWN = 60;

function shown(s: string): string {
  return s.length > SHOWN ? `${s.slice(0, SHOWN)}…` : s;
}

/** An INI inventory into the model (Ansible's ini plugin). */
export function parseIniInventory(text: string, file: string, m: InventoryModel): void {
  m.syntax = 'ini';
  const loc = (line: number, column = 1): Loc => ({ file, line, column });
  const lines = splitLines(text);
  if (lines.every((l) => pyStrip(l) === '' || /^[#;]/.test(pyStrip(l)))) {
    m.error(
      loc(1),
      'the inventory is empty',
      'list hosts, one per line, under `[group]` sections (e.g. `[web]` then `web1.example.com`)',
    );
    return;
  }
  if (text.startsWith('\ufeff')) {
    m.error(
      loc(1),
      'the file starts with a byte order mark, which Ansible reads as part of the first line',
      'save the file as UTF-8 without a BOM',
    );
    lines[0] = (lines[0] as string).slice(1);
  }
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' | 'skip' = 'hosts';

  const addPendingChildren = (name: string) => {
    const p = pending.get(name);
    if (!p) return;
    pending.delete(name);
    for (const parent of p.parents) {
      m.addChild(parent.name, name, parent.at);
      if (pending.get(parent.name)?.state === 'children') addPendingChildren(parent.name);
    }
  };

  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    const line = pyStrip(raw);
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const col = raw.indexOf(line[0] as string) + 1;
    const at = loc(lineNo, col);

    const s = SECTION.exec(line);
    if (s) {
      const name = s[1] as string;
      const tag = s[2] ?? 'hosts';
      group = name;
      if (tag !== 'hosts' && tag !== 'children' && tag !== 'vars') {
        m.error(
          at,
          `section [${name}:${tag}] has an unknown type \`${tag}\``,
          `a section is \`[${name}]\` (hosts), \`[${name}:vars]\` or \`[${name}:children]\``,
        );
        state = 'skip';
        continue;
      }
      state = tag;
      if (!m.groups.has(name)) {
        // [name] or [name:children] declares a group; [name:vars] needs one declared somewhere.
        if (tag === 'vars' && !pending.has(name)) pending.set(name, { state: 'vars', at, parents: [] });
        m.group(name, at);
      }
      const p = pending.get(name);
      if (p && tag !== 'vars') {
        if (p.state === 'children') addPendingChildren(name);
        else pending.delete(name);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      m.error(
        at,
        `invalid section header \`${shown(line)}\``,
        'a section header is `[group]`, `[group:vars]` or `[group:children]`: no spaces, no `:` or `]` in the name',
      );
      state = 'skip';
      continue;
    }
    if (/^\[[^\]\s:]+(?::[\p{L}\p{N}_]+)?\][\s]*;/u.test(line)) {
      m.error(
        at,
        `a comment after a section header starts with \`#\`, not \`;\`: \`${shown(line)}\``,
        'Ansible reads this line as a host (and fails on it): write `# comment`, or put the comment on its own line',
      );
      state = 'skip';
      continue;
    }

    if (state === 'skip') continue;
    if (state === 'hosts') hostLine(m, line, col, at, group);
    else if (state === 'vars') varLine(m, line, at, group);
    else {
      const c = GROUP_NAME.exec(line);
      if (!c) {
        m.error(
          at,
          `expected a group name in [${group}:children], got \`${shown(line)}\``,
          'list one child group per line (a `#` comment may follow it)',
        );
        continue;
      }
      const child = c[1] as string;
      if (!m.groups.has(child)) {
        const p = pending.get(child);
        if (!p) pending.set(child, { state: 'children', at, parents: [{ name: group, at }] });
        else p.parents.push({ name: group, at });
      } else m.addChild(group, child, at);
    }
  }

  for (const [name, p] of pending) {
    if (p.state === 'vars')
      m.error(
        p.at,
        `[${name}:vars] sets variables of group \`${name}\`, which is not declared`,
        `declare the group with a \`[${name}]\` section (its hosts; it may be empty) or a \`[${name}:children]\` section`,
      );
    else
      m.error(
        p.at,
        `[${(p.parents[0] as { name: string }).name}:children] names group \`${name}\`, which is not declared`,
        `declare it with a \`[${name}]\` section (its hosts; it may be empty) or a \`[${name}:children]\` section, before or after`,
      );
  }
}

/** A value as Ansible's `_parse_value` makes it; a warning or an error where kernelfile keeps or refuses it. */
function value(m: InventoryModel, name: string, text: string, at: Loc, where: string): unknown {
  const v = literalEval(text);
  if (v.kind === 'value' || v.kind === 'text') return v.value;
  if (v.kind === 'unsupported') {
    m.diag(
      'warning',
      at,
      `\`${name}\` ${where}: Python reads \`${shown(text)}\` as ${v.what}, which kernelfile keeps as the text written`,
      'quote the value to make it a string, or write a number, string, list or dict',
    );
    return v.value;
  }
  m.error(
    at,
    `\`${name}\` ${where}: \`${shown(text)}\` is not a value Python can build (${v.message})`,
    'Ansible fails on it too: quote the value to make it a string',
  );
  return null;
}

function hostLine(m: InventoryModel, line: string, col: number, at: Loc, group: string): void {
  let words: Word[];
  try {
    words = shlexSplit(line);
  } catch (e) {
    m.error(
      at,
      `cannot split host line \`${shown(line)}\`: ${(e as Error).message}`,
      'close every quote; a backslash escapes the next character',
    );
    return;
  }
  const first = words[0];
  if (!first) {
    m.error(
      at,
      `no host in \`${shown(line)}\``,
      'write the host name first, then its `name=value` variables',
    );
    return;
  }
  const wordAt = (w: Word): Loc => ({ ...at, column: col + w.at });
  const pattern = first.text;
  let expanded: { hosts: string[]; port: number | null };
  try {
    expanded = expandHostPattern(pattern);
  } catch (e) {
    m.error(
      at,
      `bad host range in \`${shown(pattern)}\`: ${(e as Error).message}`,
      pattern.startsWith('[')
        ? 'a section header is `[group]`, `[group:vars]` or `[group:children]`, alone on its line'
        : 'a range is `[start:end]` or `[start:end:step]`, numbers (`www[01:50]`) or single letters (`db-[a:f]`), inclusive',
    );
    return;
  }
  if (pattern.trim().endsWith(':') && expanded.port === null) {
    m.error(
      at,
      `host \`${shown(pattern)}\` ends in \`:\`, which is kept for a port`,
      words.length === 1
        ? 'write `host:PORT` or only the host (a line `name:` is YAML: is this a YAML inventory? Name it `.yml`)'
        : 'write `host:PORT` or only the host',
    );
    return;
  }
  if (expanded.hosts.some((h) => h.trim() === '---')) {
    m.error(at, '`---` is not a host: this looks like a YAML file', 'name a YAML inventory `.yml`');
    return;
  }
  const vars: Array<{ name: string; value: unknown; at: Loc }> = [];
  for (const w of words.slice(1)) {
    const eq = w.text.indexOf('=');
    if (eq < 0) {
      m.error(
        wordAt(w),
        `expected \`name=value\` after host \`${shown(pattern)}\`, got \`${shown(w.text)}\``,
        w.text.startsWith(';')
          ? 'a comment on a host line starts with `#`, not `;`'
          : 'one host per line; its variables follow it as `name=value` (quote a value with spaces)',
      );
      continue;
    }
    const name = w.text.slice(0, eq);
    if (name === '') {
      m.error(wordAt(w), `a variable without a name: \`${shown(w.text)}\``, 'write `name=value`');
      continue;
    }
    const where = `of host \`${shown(pattern)}\``;
    vars.push({ name, value: value(m, name, w.text.slice(eq + 1), wordAt(w), where), at: wordAt(w) });
  }
  for (const name of expanded.hosts) {
    if (!name) {
      m.error(at, 'a host name must not be empty', 'give the host a name');
      continue;
    }
    const h = m.addHost(name, group, expanded.port, at);
    for (const v of vars) h.vars.set(v.name, { value: v.value, at: v.at });
  }
}

function varLine(m: InventoryModel, line: string, at: Loc, group: string): void {
  const eq = line.indexOf('=');
  if (eq < 0) {
    m.error(
      at,
      `expected \`name=value\` in [${group}:vars], got \`${shown(line)}\``,
      'one variable per line, `name=value`; hosts go in a `[group]` section',
    );
    return;
  }
  const name = pyStrip(line.slice(0, eq));
  const text = pyStrip(line.slice(eq + 1));
  if (name === '') {
    m.error(at, `a variable without a name in [${group}:vars]: \`${shown(line)}\``, 'write `name=value`');
    return;
  }
  const v = value(m, name, text, at, `in [${group}:vars]`);
  if (typeof v === 'string' && /\s[#;]/.test(v))
    m.diag(
      'warning',
      at,
      `\`${name}\` in [${group}:vars] is the string \`${shown(v)}\`: in a vars section a comment after a value that is not a Python literal is part of it`,
      'put the comment on its own line, or quote the value (`name = "value" # comment`)',
    );
  m.setGroupVar(m.groups.get(group) as GroupState, name, v, at);
}
