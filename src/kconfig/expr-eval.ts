/**
 * Evaluating Kconfig expressions against an effective .config, as scripts/kconfig/expr.c does:
 * n=0, m=1, y=2; `&&` is min, `||` is max, `!x` is 2-x; comparisons give y or n, numerically when
 * both sides are numbers (or tristates), else as text (`=`/`!=` only; an ordering of non-numbers is n).
 * A symbol that is absent is n (or "" for string/int/hex symbols when the type is known).
 * Macros `$(…)` (compiler probes) cannot be run here: they count as `y` unless the env says otherwise.
 */
import { type Atom, and, type Expr, isConstantName } from './expr.js';
import { parseNumber, type SymbolType, type Tri, triOf, unquote } from './values.js';

export interface Env {
  /** A symbol's value as in the .config with string quotes removed; undefined when it is absent. */
  get(name: string): string | undefined;
  /** The tristate an opaque macro `$(…)` counts as; default y. */
  macro?: Tri;
}

/**
 * An Env over an effective .config (`{ CONFIG_X: 'y', CONFIG_S: '"text"' }`); `typeOf` (from the
 * Kconfig database) makes absent string/int/hex symbols "" rather than n.
 */
export function envFromConfig(
  values: Readonly<Record<string, string>>,
  typeOf?: (name: string) => SymbolType | undefined,
): Env {
  return {
    get(name) {
      const v = values[`CONFIG_${name}`];
      if (v !== undefined) return unquote(v);
      const t = typeOf?.(name);
      return t === 'string' || t === 'int' || t === 'hex' ? '' : undefined;
    },
  };
}

function atomString(a: Atom, env: Env): string {
  if (a.k === 'str') return a.value;
  if (a.k === 'macro') return (env.macro ?? 2) === 2 ? 'y' : env.macro === 1 ? 'm' : 'n';
  if (isConstantName(a.name)) return a.name;
  return env.get(a.name) ?? 'n';
}

function asNumber(s: string): bigint | undefined {
  if (s === 'n') return 0n;
  if (s === 'm') return 1n;
  if (s === 'y') return 2n;
  return parseNumber(s);
}

/** One comparison, as expr_calc_value does it (simplified: no per-type parsing of the operands). */
export function compare(op: string, l: string, r: string): boolean {
  const a = asNumber(l);
  const b = asNumber(r);
  let res: number;
  if (a === undefined || b === undefined) {
    if (op !== '=' && op !== '!=') return false;
    res = l === r ? 0 : 1;
  } else res = a === b ? 0 : a < b ? -1 : 1;
  switch (op) {
    case '=':
      return res === 0;
    case '!=':
      return res !== 0;
    case '<':
      return res < 0;
    case '<=':
      return res <= 0;
    case '>':
      return res > 0;
    default:
      return res >= 0;
  }
}

/** The tristate value of an expression. */
export function tri(e: Expr, env: Env): Tri {
  switch (e.k) {
    case 'sym':
      if (e.name === 'y') return 2;
      if (e.name === 'm') return 1;
      if (isConstantName(e.name)) return 0;
      return triOf(env.get(e.name));
    case 'str':
      return triOf(e.value);
    case 'macro':
      return env.macro ?? 2;
    case 'not':
      return (2 - tri(e.e, env)) as Tri;
    case 'and': {
      let v: Tri = 2;
      for (const a of e.args) {
        const x = tri(a, env);
        if (x < v) v = x;
        if (v === 0) break;
      }
      return v;
    }
    case 'or': {
      let v: Tri = 0;
      for (const a of e.args) {
        const x = tri(a, env);
        if (x > v) v = x;
        if (v === 2) break;
      }
      return v;
    }
    case 'cmp':
      return compare(e.op, atomString(e.l, env), atomString(e.r, env)) ? 2 : 0;
  }
}

/**
 * The part of `e` that keeps it below `need` (1 = at least m, 2 = y), or undefined when it is met:
 * in an `&&`, only the operands that fall short (`BLOCK && X86` with X86=y → `BLOCK`); anything
 * else (an `||`, a `!`, a comparison, a symbol) whole.
 */
export function unmet(e: Expr, env: Env, need: Tri): Expr | undefined {
  if (tri(e, env) >= need) return undefined;
  if (e.k !== 'and') return e;
  return and(...e.args.map((a) => unmet(a, env, need)));
}

/** Does the expression contain a macro `$(…)` whose value kernelfile had to guess? */
export function hasMacro(e: Expr): boolean {
  switch (e.k) {
    case 'macro':
      return true;
    case 'not':
      return hasMacro(e.e);
    case 'and':
    case 'or':
      return e.args.some(hasMacro);
    case 'cmp':
      return e.l.k === 'macro' || e.r.k === 'macro';
    default:
      return false;
  }
}
