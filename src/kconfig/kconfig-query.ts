/**
 * Questions asked of a loaded Kconfig database: a symbol's definitions and type, the full
 * dependency of a definition (its own `depends on` ANDed with every enclosing if/menu/choice, as
 * menuconfig's "Depends on:" shows it), what hides its prompt, and symbols with a similar name.
 */
import { distance } from 'fastest-levenshtein';
import { and, type Expr, formatExpr } from './expr.js';
import type { KconfigDb, SymbolDef } from './kconfig-types.js';
import type { SymbolType } from './values.js';

/** `CONFIG_EXT4_FS` or `EXT4_FS` → `EXT4_FS`. */
export function bareName(symbol: string): string {
  return symbol.startsWith('CONFIG_') ? symbol.slice(7) : symbol;
}

export function definitions(db: KconfigDb, symbol: string): readonly SymbolDef[] {
  return db.symbols.get(bareName(symbol)) ?? [];
}

export function typeOf(db: KconfigDb, symbol: string): SymbolType | undefined {
  for (const d of definitions(db, symbol)) if (d.type) return d.type;
  for (const d of definitions(db, symbol)) if (d.choice?.type) return d.choice.type;
  return undefined;
}

/** AND of expressions with duplicates (by their text) left out: `if NET` + `depends on NET` → NET. */
function andUnique(parts: (Expr | undefined)[]): Expr | undefined {
  const seen = new Set<string>();
  const out: Expr[] = [];
  for (const p of parts) {
    if (!p) continue;
    for (const a of p.k === 'and' ? p.args : [p]) {
      const key = formatExpr(a);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(a);
      }
    }
  }
  return and(...out);
}

/** Everything a definition depends on: enclosing if/menu/choice conditions, then its own lines. */
export function dependencyOf(def: SymbolDef): Expr | undefined {
  return andUnique([...def.context.map((c) => c.dependsOn), def.dependsOn]);
}

/** The conditions on a definition's prompt besides its dependencies: `prompt … if X`, menus' `visible if`. */
export function promptConditionOf(def: SymbolDef): Expr | undefined {
  if (!def.prompt) return undefined;
  return andUnique([...def.context.map((c) => c.visibleIf), def.prompt.if]);
}

/** Symbols whose names are close to `symbol` (typos, renames), closest first; at most `max`. */
export function similarNames(db: KconfigDb, symbol: string, max = 3): string[] {
  const name = bareName(symbol);
  const limit = Math.max(1, Math.floor(name.length / 5));
  const scored: [string, number][] = [];
  for (const other of db.symbols.keys()) {
    if (Math.abs(other.length - name.length) > limit) continue;
    const d = distance(name, other);
    if (d <= limit) scored.push([other, d]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  return scored.slice(0, max).map(([n]) => n);
}
