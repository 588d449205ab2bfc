/**
 * The Kconfig expression language (Documentation/kbuild/kconfig-language.rst, "Menu dependencies"):
 *   A && B || !C,  (…),  A = B,  A != B,  A < B,  A <= B,  A > B,  A >= B
 * over symbol names (no CONFIG_ prefix), the constants y/m/n and numbers, "quoted strings", and
 * preprocessor macros `$(…)` that kernelfile cannot run (compiler probes) and keeps as opaque text.
 * Precedence as in scripts/kconfig/parser.y: `!` binds tightest and applies to a comparison
 * (`!A = B` is `!(A = B)`), then `&&`, then `||`. Parsing, printing and menuconfig-style printing
 * with values (`BLOCK [=n]`) live here; evaluation in expr-eval.ts.
 */
import { type Op, type Token, tokenize } from './tokens.js';

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type Atom = { k: 'sym'; name: string } | { k: 'str'; value: string } | { k: 'macro'; text: string };
export type Expr =
  | Atom
  | { k: 'not'; e: Expr }
  | { k: 'and' | 'or'; args: Expr[] }
  | { k: 'cmp'; op: CmpOp; l: Atom; r: Atom };

export class KconfigExprError extends Error {
  constructor(
    message: string,
    readonly col?: number,
  ) {
    super(message);
  }
}

const CMP = new Set<Op>(['=', '!=', '<', '<=', '>', '>=']);

/** The constants y, m, n and numbers: words that are values, not symbols. */
export function isConstantName(name: string): boolean {
  return name === 'y' || name === 'm' || name === 'n' || /^-?(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.test(name);
}

/** A recursive-descent parser over `tokens[i, to)`. */
class Parser {
  constructor(
    private readonly tokens: readonly Token[],
    private i: number,
    private readonly to: number,
  ) {}

  private peek(): Token | undefined {
    return this.i < this.to ? this.tokens[this.i] : undefined;
  }

  private isOp(v: Op): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }

  fail(what: string): never {
    const t = this.peek();
    throw new KconfigExprError(
      t ? `${what}, found \`${t.t === 'str' ? `"${t.v}"` : t.v}\`` : `${what} at the end`,
      t?.col,
    );
  }

  get done(): boolean {
    return this.i >= this.to;
  }

  private atom(): Atom {
    const t = this.peek();
    if (t?.t === 'word') {
      this.i++;
      return t.v.includes('$(') ? { k: 'macro', text: t.v } : { k: 'sym', name: t.v };
    }
    if (t?.t === 'str') {
      this.i++;
      return { k: 'str', value: t.v };
    }
    return this.fail('expected a symbol');
  }

  or(): Expr {
    return this.chain('||', 'or', () => this.and());
  }

  private and(): Expr {
    return this.chain('&&', 'and', () => this.unary());
  }

  /** `next (op next)*`, flattened into one n-ary node (nested nodes of the same kind are merged). */
  private chain(op: '||' | '&&', k: 'or' | 'and', next: () => Expr): Expr {
    const first = next();
    if (!this.isOp(op)) return first;
    const args: Expr[] = [];
    const add = (e: Expr) => {
      if (e.k === k) args.push(...e.args);
      else args.push(e);
    };
    add(first);
    while (this.isOp(op)) {
      this.i++;
      add(next());
    }
    return { k, args };
  }

  private unary(): Expr {
    if (this.isOp('!')) {
      this.i++;
      return { k: 'not', e: this.unary() };
    }
    if (this.isOp('(')) {
      this.i++;
      const e = this.or();
      if (!this.isOp(')')) this.fail('expected `)`');
      this.i++;
      return e;
    }
    const l = this.atom();
    const t = this.peek();
    if (t?.t === 'op' && CMP.has(t.v)) {
      this.i++;
      return { k: 'cmp', op: t.v as CmpOp, l, r: this.atom() };
    }
    return l;
  }
}

/** Parse `tokens[from, to)` as one expression. */
export function parseTokens(tokens: readonly Token[], from = 0, to = tokens.length): Expr {
  if (from >= to) throw new KconfigExprError('expected an expression', tokens[from - 1]?.col);
  // Most expressions are one symbol: `depends on FOO`, `default y`, `select BAR`.
  const t = tokens[from] as Token;
  if (to === from + 1 && t.t === 'word' && !t.v.includes('$(')) return { k: 'sym', name: t.v };
  const p = new Parser(tokens, from, to);
  const e = p.or();
  if (!p.done) p.fail('unexpected token');
  return e;
}

/** Parse an expression written as text, e.g. `NET && (INET || IPV6) && !UML`. */
export function parseExpr(text: string): Expr {
  const { tokens, problems } = tokenize(text);
  const p = problems[0];
  if (p) throw new KconfigExprError(p.message, p.col);
  return parseTokens(tokens);
}

export function and(...parts: (Expr | undefined)[]): Expr | undefined {
  const args: Expr[] = [];
  for (const p of parts) if (p) args.push(...(p.k === 'and' ? p.args : [p]));
  return args.length === 0 ? undefined : args.length === 1 ? args[0] : { k: 'and', args };
}

export function or(...parts: Expr[]): Expr | undefined {
  const args = parts.flatMap((p) => (p.k === 'or' ? p.args : [p]));
  return args.length === 0 ? undefined : args.length === 1 ? args[0] : { k: 'or', args };
}

/** The symbols an expression refers to (constants left out), in order of appearance. */
export function symbolsOf(e: Expr, out: string[] = []): string[] {
  if (e.k === 'sym') {
    if (!isConstantName(e.name) && !out.includes(e.name)) out.push(e.name);
  } else if (e.k === 'not') symbolsOf(e.e, out);
  else if (e.k === 'and' || e.k === 'or') for (const a of e.args) symbolsOf(a, out);
  else if (e.k === 'cmp') {
    symbolsOf(e.l, out);
    symbolsOf(e.r, out);
  }
  return out;
}

/** Print an expression; with `value`, each symbol as menuconfig does: `BLOCK [=n]`. */
export function formatExpr(e: Expr, value?: (name: string) => string): string {
  const atom = (a: Atom): string => {
    if (a.k === 'str') return `"${a.value.replace(/["\\]/g, '\\$&')}"`;
    if (a.k === 'macro') return a.text;
    if (!value || isConstantName(a.name)) return a.name;
    return `${a.name} [=${value(a.name)}]`;
  };
  const go = (x: Expr, parent: Expr['k'] | undefined): string => {
    switch (x.k) {
      case 'sym':
      case 'str':
      case 'macro':
        return atom(x);
      case 'cmp': {
        const s = `${atom(x.l)} ${x.op} ${atom(x.r)}`;
        return parent === 'not' ? `(${s})` : s;
      }
      case 'not':
        return `!${go(x.e, 'not')}`;
      case 'and':
      case 'or': {
        const s = x.args.map((a) => go(a, x.k)).join(x.k === 'and' ? ' && ' : ' || ');
        return parent === undefined ? s : `(${s})`;
      }
    }
  };
  return go(e, undefined);
}

/**
 * menuconfig's "Depends on:" rendering, values looked up as CONFIG_<NAME> in an effective .config
 * (strings shown without their quotes; a symbol that is absent shows `[=n]`).
 */
export function formatWithValues(e: Expr, values: Readonly<Record<string, string>>): string {
  return formatExpr(e, (name) => {
    const v = values[`CONFIG_${name}`];
    return v === undefined ? 'n' : v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
  });
}
