/**
 * Load the symbol definitions of a kernel source tree, starting at its top `Kconfig` and following
 * `source`/`rsource`/`osource`/`orsource` (with `$(SRCARCH)` and other variables from a map, and
 * `*` globs when a lister is given). Tracks `if … endif`, `menu … endmenu` (its `depends on` and
 * `visible if`) and `choice … endchoice`, so each definition knows every condition around it.
 * Pure: files come through a reader callback. Lines it cannot read are kept as problems, not thrown.
 */

import { parseTokens } from './expr.js';
import { ATTRIBUTES, applyAttribute, type Current } from './kconfig-attrs.js';
import { LineReader } from './kconfig-lines.js';
import { expandSource } from './kconfig-paths.js';
import type {
  ChoiceDef,
  Conditional,
  Context,
  KconfigDb,
  KconfigVars,
  LoadOptions,
  ReverseDep,
  SymbolDef,
  TreeReader,
} from './kconfig-types.js';
import { type Token, tokenize } from './tokens.js';

const ASSIGNMENT = /^\s*[A-Za-z0-9_-]+\s*(?::=|\+=|\?=|=)/;
const SOURCES = new Set(['source', 'rsource', 'osource', 'orsource']);
const BLOCK_END: Record<string, Context['kind']> = { endif: 'if', endmenu: 'menu', endchoice: 'choice' };

/**
 * @param read a file of the tree by its path relative to the root; undefined if missing
 * @param vars preprocessor variables: { SRCARCH: 'x86', ARCH: 'x86_64' } for an x86_64 kernel
 */
export function loadKconfig(read: TreeReader, vars: KconfigVars = {}, opts: LoadOptions = {}): KconfigDb {
  const db: KconfigDb = {
    symbols: new Map(),
    choices: [],
    selectedBy: new Map(),
    impliedBy: new Map(),
    files: [],
    problems: [],
  };
  const expand = (s: string) =>
    s.includes('$(') ? s.replace(/\$\(([A-Za-z0-9_-]+)\)/g, (m, name: string) => vars[name] ?? m) : s;
  let stack: readonly Context[] = [];
  let cur: Current | undefined;

  /** Parse one file; false if it does not exist. */
  const parseFile = (file: string, chain: readonly string[]): boolean => {
    const text = read(file);
    if (text === undefined) return false;
    db.files.push(file);
    const depth = stack.length;
    const reader = new LineReader(text);
    for (let line = reader.next(); line !== undefined; line = reader.next()) {
      if (line.includes('=') && ASSIGNMENT.test(line)) continue; // preprocessor variable
      const at = { file, line: reader.line };
      const problem = (message: string, column?: number) =>
        db.problems.push({ ...at, ...(column ? { column } : {}), message });
      const { tokens, problems } = tokenize(expand(line));
      for (const p of problems) problem(p.message, p.col);
      const first = tokens[0];
      if (!first) continue;
      if (first.t !== 'word') {
        problem(`unexpected \`${first.v}\` at the start of a line`, first.col);
        continue;
      }
      if (first.v.startsWith('$(')) continue; // $(warning-if,…), $(error-if,…): compiler checks
      try {
        statement(first.v, tokens, at, reader, chain);
      } catch (e) {
        problem((e as Error).message, (e as { col?: number }).col);
      }
    }
    while (stack.length > depth) {
      const open = stack[stack.length - 1] as Context;
      db.problems.push({ file, line: open.line, message: `\`${open.kind}\` is not closed in this file` });
      stack = stack.slice(0, -1);
    }
    cur = undefined;
    return true;
  };

  const push = (c: Context) => {
    stack = [...stack, c];
  };

  const statement = (
    key: string,
    tokens: Token[],
    at: { file: string; line: number },
    reader: LineReader,
    chain: readonly string[],
  ): void => {
    const arg = tokens[1];
    if (key === 'config' || key === 'menuconfig') {
      if (arg?.t !== 'word' || tokens.length > 2) throw new Error(`\`${key}\` needs one symbol name`);
      const choice = stack.findLast((c) => c.kind !== 'if')?.choice;
      const def: SymbolDef = {
        name: arg.v,
        keyword: key,
        ...at,
        context: stack,
        defaults: [],
        selects: [],
        implies: [],
        ranges: [],
        hasHelp: false,
        ...(choice ? { choice } : {}),
      };
      const defs = db.symbols.get(def.name);
      if (defs) defs.push(def);
      else db.symbols.set(def.name, [def]);
      if (choice && !choice.members.includes(def.name)) choice.members.push(def.name);
      cur = { kind: 'symbol', def };
    } else if (key === 'choice') {
      const def: ChoiceDef = {
        ...at,
        ...(arg?.t === 'word' ? { name: arg.v } : {}),
        context: stack,
        defaults: [],
        hasHelp: false,
        optional: false,
        members: [],
      };
      db.choices.push(def);
      const ctx: Context = { kind: 'choice', ...at, choice: def };
      push(ctx);
      cur = { kind: 'choice', def, ctx };
    } else if (key === 'menu') {
      const ctx: Context = { kind: 'menu', ...at, ...(arg?.t === 'str' ? { title: arg.v } : {}) };
      push(ctx);
      cur = { kind: 'menu', ctx };
    } else if (key === 'if') {
      cur = undefined;
      push({ kind: 'if', ...at, dependsOn: parseTokens(tokens, 1) });
    } else if (BLOCK_END[key]) {
      cur = undefined;
      const top = stack[stack.length - 1];
      if (top?.kind !== BLOCK_END[key]) throw new Error(`\`${key}\` without \`${BLOCK_END[key]}\``);
      stack = stack.slice(0, -1);
    } else if (key === 'comment') cur = { kind: 'comment' };
    else if (key === 'mainmenu') cur = undefined;
    else if (key === 'help' || key === '---help---') {
      reader.skipHelp();
      if (cur?.kind === 'symbol' || cur?.kind === 'choice') cur.def.hasHelp = true;
    } else if (SOURCES.has(key)) {
      cur = undefined;
      if (arg?.t !== 'str') throw new Error(`\`${key}\` needs a "path"`);
      const optional = key.startsWith('o') || /[*?]/.test(arg.v); // a glob matches what exists
      const paths = expandSource(arg.v, key.endsWith('rsource') ? at.file : undefined, opts.list);
      if (typeof paths === 'string') throw new Error(paths);
      if (paths.length === 0 && !optional) throw new Error(`\`${key} "${arg.v}"\`: no such file`);
      for (const p of paths) {
        if (chain.includes(p)) throw new Error(`recursive \`${key} "${arg.v}"\``);
        if (!parseFile(p, [...chain, p]) && !optional)
          throw new Error(`\`${key} "${arg.v}"\`: no such file (${p})`);
      }
      cur = undefined;
    } else if (ATTRIBUTES.has(key)) applyAttribute(cur, tokens, at);
    else throw new Error(`unknown statement \`${key}\``);
  };

  const root = opts.root ?? 'Kconfig';
  if (!parseFile(root, [root])) db.problems.push({ file: root, line: 0, message: `${root}: no such file` });
  for (const defs of db.symbols.values())
    for (const def of defs) {
      for (const s of def.selects) addReverse(db.selectedBy, def.name, s);
      for (const s of def.implies) addReverse(db.impliedBy, def.name, s);
    }
  return db;
}

function addReverse(index: Map<string, ReverseDep[]>, by: string, s: Conditional<string>): void {
  const r: ReverseDep = { by, file: s.file, line: s.line, ...(s.if ? { if: s.if } : {}) };
  const list = index.get(s.value);
  if (list) list.push(r);
  else index.set(s.value, [r]);
}
