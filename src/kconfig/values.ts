/**
 * Kconfig values as they appear in a .config (`y`, `m`, `n`, `123`, `0x1f`, `"a string"`) and how
 * Kconfig compares them: tristates as n=0 < m=1 < y=2, numbers numerically (decimal or hex), strings
 * as text. Absent and `# CONFIG_X is not set` both mean `n`.
 */

export type Tri = 0 | 1 | 2;
export type SymbolType = 'bool' | 'tristate' | 'string' | 'int' | 'hex';

const TRI: Record<string, Tri> = { n: 0, m: 1, y: 2 };
const TRI_NAME = ['n', 'm', 'y'] as const;

export function triName(t: Tri): 'n' | 'm' | 'y' {
  return TRI_NAME[t];
}

/** The tristate a value stands for: `y`/`m`/`n`, anything else (strings, numbers) is n. */
export function triOf(v: string | undefined): Tri {
  return (v !== undefined ? TRI[v] : undefined) ?? 0;
}

export function isTriValue(v: string): boolean {
  return v === 'y' || v === 'm' || v === 'n';
}

/** `"a \"q\""` → `a "q"`; anything not in double quotes is returned as it is. */
export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

const DEC = /^[-+]?[0-9]+$/;
const HEX = /^[-+]?0[xX][0-9a-fA-F]+$/;

/** A decimal or 0x-hex number, or undefined (`hex`: digits are hex even without 0x, as Kconfig reads a hex
 * symbol). BigInt: hex addresses exceed 2^53. */
export function parseNumber(v: string, hex = false): bigint | undefined {
  if (hex) {
    const m = /^([-+]?)(?:0[xX])?([0-9a-fA-F]+)$/.exec(v);
    if (!m) return undefined;
    const n = BigInt(`0x${m[2]}`);
    return m[1] === '-' ? -n : n;
  }
  if (DEC.test(v)) return BigInt(v.replace(/^\+/, ''));
  if (HEX.test(v)) {
    const n = BigInt(v.replace(/^[-+]/, ''));
    return v.startsWith('-') ? -n : n;
  }
  return undefined;
}

/** Does the requested value survive as `got`? Type-aware when the symbol's type is known. */
export function sameValue(want: string, got: string | undefined, type?: SymbolType): boolean {
  const g = got ?? 'n';
  if (want === g) return true;
  if (type === 'bool' || type === 'tristate') return false;
  const unset = (v: string) => v === 'n' || v === '""';
  if (type === 'string') return unquote(want) === unquote(g) || (unset(want) && unset(g));
  const a = unquote(want);
  const b = unquote(g);
  if (type === 'int' || type === 'hex') {
    if (a === 'n' && b === 'n') return true;
    const na = parseNumber(a, type === 'hex');
    const nb = parseNumber(b, type === 'hex');
    return na !== undefined && na === nb;
  }
  // Type unknown: numbers numerically, everything else as unquoted text.
  const na = parseNumber(a);
  const nb = parseNumber(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return a === b;
}

/** Is `v` a value a symbol of this type can take, as written in a .config? */
export function valueFitsType(v: string, type: SymbolType): boolean {
  switch (type) {
    case 'bool':
      return v === 'y' || v === 'n';
    case 'tristate':
      return isTriValue(v);
    case 'int':
      return v === 'n' || DEC.test(unquote(v));
    case 'hex':
      return v === 'n' || parseNumber(unquote(v), true) !== undefined;
    case 'string':
      return true;
  }
}
