/**
 * Why Kconfig did not keep a requested value, one check per kind of reason, in the words of
 * menuconfig's help (`depends on BLOCK [=n]`, `is selected by X [=y]`). Each check returns a reason
 * or undefined; dropped.ts runs them in order and keeps the first.
 */
import { and, type Expr, formatWithValues, or, symbolsOf } from './expr.js';
import { type Env, hasMacro, tri, unmet } from './expr-eval.js';
import { dependencyOf, promptConditionOf } from './kconfig-query.js';
import type { KconfigDb, SymbolDef } from './kconfig-types.js';
import { formatOrigin, type Requested } from './requested.js';
import { parseNumber, type SymbolType, type Tri, triOf, unquote } from './values.js';

export type DroppedKind =
  | 'undefined'
  | 'invalid-value'
  | 'modules'
  | 'depends'
  | 'no-prompt'
  | 'hidden'
  | 'selected'
  | 'range'
  | 'choice'
  | 'unknown';

export interface Reason {
  kind: DroppedKind;
  reason: string;
}

export interface Case {
  db: KconfigDb;
  effective: Readonly<Record<string, string>>;
  env: Env;
  /** The winning request of every symbol, to say when a dependency was itself asked for. */
  requests: ReadonlyMap<string, Requested>;
  name: string; // without CONFIG_
  defs: readonly SymbolDef[];
  type: SymbolType | undefined;
  want: string;
  got: string;
}

const LIST_MAX = 8;

export const show = (c: Case, e: Expr): string => formatWithValues(e, c.effective);

function list(items: string[]): string {
  const more = items.length - LIST_MAX;
  return items.slice(0, LIST_MAX).join(', ') + (more > 0 ? `, and ${more} more` : '');
}

/** ` (CONFIG_BLOCK=n is requested at a.config:3)` for the symbols of `e` that the kernelfile asks for. */
function requestedNotes(c: Case, e: Expr): string {
  const notes: string[] = [];
  for (const s of symbolsOf(e)) {
    const r = c.requests.get(`CONFIG_${s}`);
    if (r) notes.push(`CONFIG_${s}=${r.value} is requested at ${formatOrigin(r.origin)}`);
  }
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** Is the wanted value "more" than the one Kconfig kept (y over m over n; a value over unset)? */
export function wantsMore(c: Case): boolean {
  return c.type === 'bool' || c.type === 'tristate' ? triOf(c.want) > triOf(c.got) : c.got === 'n';
}

/**
 * How far the dependencies must go for the wanted value: a tristate's y needs y and its m needs m;
 * a bool's y needs only m (Kconfig rounds a bool's m visibility up); any other value needs non-n.
 */
export function need(c: Case): Tri {
  return c.type === 'tristate' ? triOf(c.want) : c.want === 'n' ? 0 : 1;
}

/**
 * Unmet dependencies (the entry's own `depends on` ANDed with its if/menu/choice blocks; ORed over
 * its definitions), showing only the operands of an `&&` that fall short.
 */
export function dependsReason(c: Case): Reason | undefined {
  const n = need(c);
  const deps = c.defs.map(dependencyOf);
  const best = Math.max(...deps.map((d) => (d ? tri(d, c.env) : 2)));
  if (best >= n) return undefined;
  const parts = deps.map((d) => (d ? unmet(d, c.env, n) : undefined)).filter((d) => d !== undefined);
  const uniq = [...new Map(parts.map((p) => [show(c, p), p])).values()];
  const e = or(...uniq);
  if (!e) return undefined;
  const limit = best === 1 ? ', so it can be m at most' : '';
  return { kind: 'depends', reason: `depends on ${show(c, e)}${limit}${requestedNotes(c, e)}` };
}

/** Selected (select X [if C]) by a symbol whose value is above the one wanted. */
export function selectedReason(c: Case): Reason | undefined {
  const want = triOf(c.want);
  const by = (c.db.selectedBy.get(c.name) ?? []).filter(
    (r) => tri(and({ k: 'sym', name: r.by }, r.if) as Expr, c.env) > want,
  );
  if (by.length === 0) return undefined;
  const names = [...new Set(by.map((r) => show(c, and({ k: 'sym', name: r.by }, r.if) as Expr)))];
  return { kind: 'selected', reason: `is selected by ${list(names)}` };
}

function selectors(c: Case): string {
  const rs = c.db.selectedBy.get(c.name) ?? [];
  const seen = new Set<string>();
  for (const r of rs) seen.add(`${show(c, { k: 'sym', name: r.by })}${r.if ? ` if ${show(c, r.if)}` : ''}`);
  return list([...seen]);
}

function formatDefault(c: Case, x: { value: Expr; if?: Expr }): string {
  return `default ${show(c, x.value)}${x.if ? ` if ${show(c, x.if)}` : ''}`;
}

/**
 * The defaults, for "it follows its defaults": when the value went up against the request, the one
 * default that applies (the first whose condition holds); else all of them, to show what would help.
 */
function defaults(c: Case): string {
  if (!wantsMore(c))
    for (const d of c.defs) {
      const dep = dependencyOf(d);
      for (const x of d.defaults) {
        const cond = and(x.if, dep);
        if (!cond || tri(cond, c.env) > 0) return `it follows its default: ${formatDefault(c, x)}`;
      }
    }
  const all = c.defs.flatMap((d) => d.defaults.map((x) => formatDefault(c, x)));
  if (all.length === 0) return '';
  return `it follows its default${all.length > 1 ? 's' : ''}: ${list(all)}`;
}

/** No prompt anywhere: the user cannot set it; its defaults and selects decide. */
export function noPromptReason(c: Case): Reason | undefined {
  if (c.defs.some((d) => d.prompt)) return undefined;
  const sel = wantsMore(c) ? selectors(c) : '';
  const def = defaults(c);
  const deps = wantsMore(c) ? dependsReason(c) : undefined;
  if (deps && !sel)
    return { kind: 'depends', reason: `${deps.reason}; it has no prompt${def ? `: ${def}` : ''}` };
  let reason = sel
    ? `has no prompt: it is set by: ${sel}`
    : def
      ? `has no prompt: ${def}`
      : 'has no prompt, no default, and nothing selects it';
  if (deps) reason += `; it also ${deps.reason}`;
  return { kind: 'no-prompt', reason };
}

/** A prompt whose `if` (or a menu's `visible if`) is false: the value follows the defaults. */
export function hiddenReason(c: Case): Reason | undefined {
  const withPrompt = c.defs.filter((d) => d.prompt);
  const conds = withPrompt.map(promptConditionOf);
  if (withPrompt.length === 0 || conds.some((e) => !e || tri(e, c.env) > 0)) return undefined;
  const shown = or(...conds.map((e) => unmet(e as Expr, c.env, 1) as Expr)) as Expr;
  const def = defaults(c);
  return {
    kind: 'hidden',
    reason: `its prompt is hidden: visible if ${show(c, shown)}${def ? `; ${def}` : ''}${requestedNotes(c, shown)}`,
  };
}

/** A member of a choice: only one member is y. */
export function choiceReason(c: Case): Reason | undefined {
  const choice = c.defs.find((d) => d.choice)?.choice;
  if (!choice) return undefined;
  const title = choice.prompt ? ` "${choice.prompt.text}"` : '';
  if (c.want === 'y') {
    const other = choice.members.find((m) => m !== c.name && c.effective[`CONFIG_${m}`] === 'y');
    if (!other) return undefined;
    const r = c.requests.get(`CONFIG_${other}`);
    const at = r?.value === 'y' ? `, requested at ${formatOrigin(r.origin)}` : '';
    return { kind: 'choice', reason: `is in the choice${title} where CONFIG_${other}=y was chosen${at}` };
  }
  if (c.want === 'n' && c.got === 'y' && !choice.optional)
    return {
      kind: 'choice',
      reason: `is the member of the choice${title} that was chosen: one member is always y; set another to y instead`,
    };
  return undefined;
}

/** int/hex outside the first `range` that applies. */
export function rangeReason(c: Case): Reason | undefined {
  if (c.type !== 'int' && c.type !== 'hex') return undefined;
  const hex = c.type === 'hex';
  const want = parseNumber(unquote(c.want), hex);
  if (want === undefined) return undefined;
  for (const d of c.defs)
    for (const r of d.ranges) {
      if (r.if && tri(r.if, c.env) === 0) continue;
      const [lo, hi] = r.value.map((b) => {
        const s = b.k === 'sym' ? (c.env.get(b.name) ?? b.name) : '';
        return parseNumber(s, hex);
      });
      if (lo === undefined || hi === undefined) continue;
      if (want >= lo && want <= hi) return undefined;
      return { kind: 'range', reason: `is outside its range ${r.value.map((b) => show(c, b)).join('..')}` };
    }
  return undefined;
}

/** Dependencies on compiler checks `$(cc-option,…)` that kernelfile counted as met. */
export function macroReason(c: Case): Reason | undefined {
  const withMacro = c.defs
    .flatMap((d) => [dependencyOf(d), ...d.defaults.map((x) => x.value)])
    .find((e) => e && hasMacro(e));
  if (!withMacro) return undefined;
  return {
    kind: 'depends',
    reason: `depends on ${show(c, withMacro)} (a check of the compiler or assembler; it may have failed with this toolchain)`,
  };
}
