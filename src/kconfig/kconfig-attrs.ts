/**
 * The attribute lines of a Kconfig entry (kconfig-language.rst, "Menu attributes"): type and prompt
 * (`bool "text" [if EXPR]`, `prompt "text" [if EXPR]`), `def_bool`/`def_tristate`, `default`,
 * `depends on`, `select`/`imply SYM [if EXPR]`, `range A B [if EXPR]`, `visible if` (menus),
 * `optional` (choices), `modules`/`option modules`. `help` is handled by the file parser.
 */
import { and, type Expr, parseTokens } from './expr.js';
import type { ChoiceDef, Context, SymbolDef, Where } from './kconfig-types.js';
import type { Token } from './tokens.js';
import type { SymbolType } from './values.js';

/** What the attribute lines that follow apply to. */
export type Current =
  | { kind: 'symbol'; def: SymbolDef }
  | { kind: 'choice'; def: ChoiceDef; ctx: Context }
  | { kind: 'menu'; ctx: Context }
  | { kind: 'comment' };

export const TYPES: Record<string, SymbolType> = {
  bool: 'bool',
  boolean: 'bool',
  tristate: 'tristate',
  string: 'string',
  int: 'int',
  hex: 'hex',
};

export const ATTRIBUTES = new Set([
  ...Object.keys(TYPES),
  'def_bool',
  'def_tristate',
  'prompt',
  'default',
  'depends',
  'select',
  'imply',
  'range',
  'visible',
  'optional',
  'modules',
  'option',
  'transitional',
]);

/** Split `tokens[from…]` at a top-level `if`: the value part and the condition. */
function splitIf(tokens: readonly Token[], from: number): { end: number; cond?: Expr } {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.t === 'op' && t.v === '(') depth++;
    else if (t.t === 'op' && t.v === ')') depth--;
    else if (depth === 0 && t.t === 'word' && t.v === 'if')
      return { end: i, cond: parseTokens(tokens, i + 1) };
  }
  return { end: tokens.length };
}

function word(tokens: readonly Token[], i: number, what: string): string {
  const t = tokens[i];
  if (t?.t !== 'word') throw new Error(`expected ${what} after \`${(tokens[0] as Token).v}\``);
  return t.v;
}

/**
 * Apply one attribute line to the current entry. Throws an Error (or KconfigExprError) with a
 * message for a line that does not fit; the caller records it as a problem.
 */
export function applyAttribute(cur: Current | undefined, tokens: readonly Token[], at: Where): void {
  const key = (tokens[0] as Token).v;
  if (!cur) throw new Error(`\`${key}\` outside of a config, menu or choice entry`);
  if (key === 'depends') {
    if ((tokens[1] as Token | undefined)?.v !== 'on') throw new Error('expected `depends on`');
    const e = parseTokens(tokens, 2);
    if (cur.kind === 'symbol' || cur.kind === 'choice') cur.def.dependsOn = and(cur.def.dependsOn, e);
    if (cur.kind === 'menu' || cur.kind === 'choice') cur.ctx.dependsOn = and(cur.ctx.dependsOn, e);
    return;
  }
  if (cur.kind === 'comment') throw new Error(`\`${key}\` in a comment entry`);
  if (key === 'visible') {
    if (cur.kind !== 'menu' || (tokens[1] as Token | undefined)?.v !== 'if')
      throw new Error('`visible if` belongs to a menu');
    cur.ctx.visibleIf = and(cur.ctx.visibleIf, parseTokens(tokens, 2));
    return;
  }
  if (cur.kind === 'menu') throw new Error(`\`${key}\` in a menu entry`);
  const def = cur.def;
  const type = TYPES[key] ?? (key === 'def_bool' ? 'bool' : key === 'def_tristate' ? 'tristate' : undefined);
  if (type) def.type = type;
  if (type || key === 'prompt' || key === 'default') {
    const { end, cond } = splitIf(tokens, 1);
    if (end === 1) {
      if (key === 'prompt' || key.startsWith('def')) throw new Error(`\`${key}\` needs a value`);
      return; // a bare type
    }
    if (key === 'prompt' || TYPES[key]) {
      const text = tokens[1] as Token;
      if (text.t !== 'str' || end !== 2) throw new Error(`a prompt must be one "quoted string"`);
      def.prompt = { text: text.v, ...at, ...(cond ? { if: cond } : {}) };
    } else def.defaults.push({ value: parseTokens(tokens, 1, end), ...at, ...(cond ? { if: cond } : {}) });
    return;
  }
  if (key === 'optional') {
    if (cur.kind === 'choice') cur.def.optional = true;
    return;
  }
  if (key === 'transitional') return;
  if (cur.kind !== 'symbol') throw new Error(`\`${key}\` in a choice entry`);
  const sym = cur.def;
  if (key === 'modules' || (key === 'option' && (tokens[1] as Token | undefined)?.v === 'modules')) {
    sym.modules = true;
    return;
  }
  if (key === 'option') return; // env=, defconfig_list, allnoconfig_y: gone from 6.x, harmless
  if (key === 'select' || key === 'imply') {
    const target = word(tokens, 1, 'a symbol');
    const { end, cond } = splitIf(tokens, 2);
    if (end !== 2) throw new Error(`\`${key}\` takes one symbol`);
    (key === 'select' ? sym.selects : sym.implies).push({
      value: target,
      ...at,
      ...(cond ? { if: cond } : {}),
    });
    return;
  }
  if (key === 'range') {
    const { end, cond } = splitIf(tokens, 1);
    if (end !== 3) throw new Error('`range` takes two values');
    const bound = (i: number) => parseTokens(tokens, i, i + 1);
    sym.ranges.push({ value: [bound(1), bound(2)], ...at, ...(cond ? { if: cond } : {}) });
  }
}
