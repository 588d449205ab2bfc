/**
 * Python's `ast.literal_eval` on one string, as Ansible's INI inventory plugin applies it to every
 * variable value (`_parse_value` in plugins/inventory/ini.py): the text is read as a Python
 * expression; a literal (string, bytes, number, tuple, list, dict, set, True/False/None) becomes its
 * value, and anything else (a syntax error, a name, a call: Python's SyntaxError or ValueError) stays
 * the text as written. Pure.
 *
 * Values JSON has no form for (a set, a complex number, `...`, bytes inside a container, bytes that
 * are not UTF-8, a tuple as a dict key) are kept as the text written, with a note saying what Python
 * would make of it: `ansible-inventory --list` cannot print them either. A list or dict as a dict key
 * or set element is an error, as in Ansible (TypeError: unhashable type).
 *
 * What Python does, and so what this does (CPython 3.11–3.13 tokenizer and parser):
 * - Spaces and tabs before the value are ignored (literal_eval's lstrip); space, tab and form feed
 *   separate tokens; `#` starts a comment.
 * - Numbers: `1_000`, `0x1f`, `0o17`, `0b1`, `1.5`, `.5`, `1e3` (a float), `1j`; a decimal integer
 *   with a leading zero (`07`) or more than 4300 digits is a syntax error; a sign (`-1`, `+(1)`) may
 *   apply once to a number; `1+2j` is a complex number.
 * - Strings: `'…'`, `"…"`, `'''…'''`, `"""…"""`, prefixes `r`, `u`, `b`, `br`/`rb` (any case); an
 *   `f` prefix is not a literal; adjacent strings concatenate; escapes as Python reads them.
 * - At most 200 nested brackets (the tokenizer's limit: more is a syntax error).
 */

export type PyLiteral =
  /** A literal JSON can hold: its value (str, number, boolean, null, array, object). */
  | { kind: 'value'; value: unknown }
  /** Not a Python literal: Ansible keeps the text as written. */
  | { kind: 'text'; value: string }
  /** A Python literal with no JSON form: kept as the text written; `what` says what Python reads. */
  | { kind: 'unsupported'; value: string; what: string }
  /** Ansible fails on it (a TypeError escapes literal_eval). */
  | { kind: 'error'; message: string };

/** CPython's default limit on the digits of a decimal integer literal (3.11+). */
const MAX_INT_DIGITS = 4300;
/** CPython's tokenizer: at most this many open brackets. */
const MAX_NESTING = 200;

type PyValue =
  | { t: 'str'; s: string }
  | { t: 'bytes'; b: number[] }
  | { t: 'int'; n: bigint }
  | { t: 'float'; n: number }
  | { t: 'complex' }
  | { t: 'bool'; b: boolean }
  | { t: 'none' }
  | { t: 'ellipsis' }
  | { t: 'tuple' | 'list' | 'set'; items: PyValue[] }
  | { t: 'dict'; entries: Array<[PyValue, PyValue]> };

type Node =
  | { n: 'const'; v: PyValue }
  | { n: 'tuple' | 'list' | 'set'; items: Node[] }
  | { n: 'dict'; keys: Node[]; values: Node[] }
  | { n: 'emptySet' }
  | { n: 'unary'; op: '+' | '-' | '~'; operand: Node }
  | { n: 'binop'; op: '+' | '-'; left: Node; right: Node }
  /** A name (not True, False or None): ValueError, unless called as `set()`. */
  | { n: 'name'; v: string }
  /** Valid Python that is not a literal (a call, an attribute): ValueError. */
  | { n: 'other' };

class PySyntaxError extends Error {}
class PyValueError extends Error {}
class PyTypeError extends Error {}

// ---------------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { k: 'num'; v: PyValue }
  | { k: 'str'; v: { t: 'str'; s: string } | { t: 'bytes'; b: number[] } | null }
  | { k: 'name'; v: string }
  | { k: 'op'; v: string }
  | { k: 'end' };

const DIGITS = '(?:[0-9](?:_?[0-9])*)';
const POINT_FLOAT = `(?:${DIGITS}?\\.${DIGITS}|${DIGITS}\\.)`;
const EXPONENT = `(?:[eE][-+]?${DIGITS})`;
const FLOAT = `(?:${POINT_FLOAT}${EXPONENT}?|${DIGITS}${EXPONENT})`;
const NUMBER = new RegExp(
  `^(?:(${FLOAT}|${DIGITS})[jJ]|(${FLOAT})|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[1-9](?:_?[0-9])*|0+(?:_?0)*)`,
);
const ID_START = /[\p{L}\p{Nl}_\u1885\u1886\u2118\u212e\u309b\u309c]/u;
const ID_CONTINUE = /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_\u00b7\u0387\u1369-\u1371\u19da]/u;
const STRING_PREFIX = /^(?:[rRuUbB]|[bB][rR]|[rR][bB]|[fF]|[fF][rR]|[rR][fF])$/;
const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
};

function isIdStart(c: string): boolean {
  return ID_START.test(c);
}

function isIdContinue(c: string): boolean {
  return ID_CONTINUE.test(c);
}

/** The body of a string literal (between its quotes) as Python decodes it. */
function decodeString(
  body: string,
  raw: boolean,
  bytes: boolean,
  seen: Seen,
): { t: 'str'; s: string } | { t: 'bytes'; b: number[] } {
  if (bytes && [...body].some((c) => (c.codePointAt(0) as number) > 0x7f))
    throw new PySyntaxError('bytes can only contain ASCII characters');
  const units: number[] = [];
  const push = (cp: number) => {
    if (bytes) units.push(cp & 0xff);
    else units.push(cp);
  };
  const chars = [...body];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c !== '\\' || raw) {
      if (c === '\\' && raw) {
        // A raw string keeps the backslash and the character after it (an escaped quote too).
        push(0x5c);
        const next = chars[i + 1];
        if (next !== undefined) {
          push(next.codePointAt(0) as number);
          i++;
        }
        continue;
      }
      push(c.codePointAt(0) as number);
      continue;
    }
    const e = chars[++i];
    if (e === undefined) throw new PySyntaxError('a string ends in a backslash');
    if (SIMPLE_ESCAPES[e] !== undefined) push(SIMPLE_ESCAPES[e]);
    else if (/[0-7]/.test(e)) {
      let digits = e;
      while (digits.length < 3 && /[0-7]/.test(chars[i + 1] ?? '')) digits += chars[++i];
      push(Number.parseInt(digits, 8));
    } else if (e === 'x' || (!bytes && (e === 'u' || e === 'U'))) {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = chars.slice(i + 1, i + 1 + len).join('');
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new PySyntaxError(`truncated \\${e} escape`);
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff) throw new PySyntaxError('illegal Unicode character');
      push(cp);
      i += len;
    } else if (e === 'N' && !bytes) {
      // \N{NAME} needs Unicode's character names, which kernelfile does not carry: noted, and the
      // value is unknown unless something else makes the text a syntax error.
      const m = /^\{[^}]+\}/.exec(chars.slice(i + 1).join(''));
      if (!m) throw new PySyntaxError('malformed \\N character escape');
      seen.named = true;
      push(0xfffd);
      i += [...m[0]].length;
    } else {
      // An unknown escape keeps its backslash (Python warns).
      push(0x5c);
      push(e.codePointAt(0) as number);
    }
  }
  if (bytes) return { t: 'bytes', b: units };
  let s = '';
  for (const cp of units) s += String.fromCodePoint(cp);
  return { t: 'str', s };
}

/** What tokenizing noticed: a string with a `\N{…}` escape. */
interface Seen {
  named: boolean;
}

function tokenize(text: string, seen: Seen): Token[] {
  const out: Token[] = [];
  let i = 0;
  let depth = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') break;
    const rest = text.slice(i);
    const cp = String.fromCodePoint(rest.codePointAt(0) as number);
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = NUMBER.exec(rest);
      if (!m) throw new PySyntaxError('invalid number');
      const word = m[0];
      const after = rest.slice(word.length);
      const next = after ? String.fromCodePoint(after.codePointAt(0) as number) : '';
      if (next && (isIdContinue(next) || next === '.' || /[0-9]/.test(next)))
        throw new PySyntaxError('invalid decimal literal');
      out.push({ k: 'num', v: numberValue(word, m[1] !== undefined, m[2] !== undefined) });
      i += word.length;
      continue;
    }
    if (isIdStart(cp)) {
      let j = i + cp.length;
      while (j < text.length) {
        const d = String.fromCodePoint(text.codePointAt(j) as number);
        if (!isIdContinue(d)) break;
        j += d.length;
      }
      const word = text.slice(i, j);
      const q = text[j];
      if ((q === "'" || q === '"') && STRING_PREFIX.test(word)) {
        const str = readString(text, j, word.toLowerCase(), seen);
        out.push({ k: 'str', v: str.value });
        i = str.end;
        continue;
      }
      out.push({ k: 'name', v: word });
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      const str = readString(text, i, '', seen);
      out.push({ k: 'str', v: str.value });
      i = str.end;
      continue;
    }
    if (rest.startsWith('...')) {
      out.push({ k: 'op', v: '...' });
      i += 3;
      continue;
    }
    const two = rest.slice(0, 2);
    if (['**', '//', '<<', '>>', '<=', '>=', '==', '!=', '->', ':=', '+=', '-=', '*=', '/='].includes(two)) {
      out.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if ('()[]{},:+-~.*/%@<>=|&^;'.includes(c)) {
      if ('([{'.includes(c) && ++depth > MAX_NESTING) throw new PySyntaxError('too many nested parentheses');
      if (')]}'.includes(c)) depth--;
      out.push({ k: 'op', v: c });
      i++;
      continue;
    }
    throw new PySyntaxError(`invalid character ${JSON.stringify(c)}`);
  }
  out.push({ k: 'end' });
  return out;
}

function readString(
  text: string,
  at: number,
  prefix: string,
  seen: Seen,
): { value: { t: 'str'; s: string } | { t: 'bytes'; b: number[] } | null; end: number } {
  const quote = text[at] as string;
  const triple = text.startsWith(quote.repeat(3), at);
  const delim = triple ? quote.repeat(3) : quote;
  const raw = prefix.includes('r');
  let i = at + delim.length;
  const start = i;
  for (;;) {
    if (i >= text.length) throw new PySyntaxError('unterminated string literal');
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (!triple && (c === '\n' || c === '\r')) throw new PySyntaxError('unterminated string literal');
    if (text.startsWith(delim, i)) break;
    i++;
  }
  const body = text.slice(start, i);
  const end = i + delim.length;
  // An f-string is a JoinedStr, never a literal; whatever else the text holds, the value is the text.
  if (prefix.includes('f')) return { value: null, end };
  return { value: decodeString(body, raw, prefix.includes('b'), seen), end };
}

function numberValue(word: string, imaginary: boolean, float: boolean): PyValue {
  const w = word.replace(/_/g, '');
  if (imaginary) return { t: 'complex' };
  if (float) return { t: 'float', n: Number.parseFloat(w) };
  const lower = w.toLowerCase();
  if (lower.startsWith('0x') || lower.startsWith('0o') || lower.startsWith('0b'))
    return { t: 'int', n: BigInt(`0${lower[1]}${lower.slice(2)}`) };
  // CPython reads a literal of zeros without converting digits: no limit there.
  if (w.length > MAX_INT_DIGITS && /[1-9]/.test(w))
    throw new PySyntaxError('exceeds the limit for integer string conversion');
  return { t: 'int', n: BigInt(w) };
}

// ---------------------------------------------------------------------------------------------------
// The expression: the literal structures, and enough of the rest to know a non-literal is valid Python

class ExprParser {
  private i = 0;
  /** An f-string seen: the value is the text (a JoinedStr is never a literal). */
  fString = false;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }

  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new PySyntaxError(`expected ${v}`);
    this.i++;
  }

  /** eval mode: expressions, a tuple when there is a comma. */
  top(): Node {
    const first = this.expr();
    if (!this.isOp(',')) {
      if (this.peek().k !== 'end') throw new PySyntaxError('invalid syntax');
      return first;
    }
    const items = [first];
    while (this.isOp(',')) {
      this.i++;
      if (this.peek().k === 'end') break;
      items.push(this.expr());
    }
    if (this.peek().k !== 'end') throw new PySyntaxError('invalid syntax');
    return { n: 'tuple', items };
  }

  private expr(): Node {
    let left = this.unary();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.tokens[this.i++] as { v: string }).v as '+' | '-';
      left = { n: 'binop', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('+') || this.isOp('-') || this.isOp('~')) {
      const op = (this.tokens[this.i++] as { v: string }).v as '+' | '-' | '~';
      return { n: 'unary', op, operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    let node = this.atom();
    // `set()` is the one call literal_eval reads (an empty set); `(set)()` is the same call.
    let setName = node.n === 'name' && node.v === 'set';
    for (;;) {
      if (this.isOp('(')) {
        this.i++;
        let args = 0;
        while (!this.isOp(')')) {
          this.expr();
          args++;
          if (!this.isOp(',')) break;
          this.i++;
        }
        this.expectOp(')');
        node = setName && args === 0 ? { n: 'emptySet' } : { n: 'other' };
      } else if (this.isOp('[')) {
        this.i++;
        this.expr();
        this.expectOp(']');
        node = { n: 'other' };
      } else if (this.isOp('.')) {
        this.i++;
        if (this.peek().k !== 'name') throw new PySyntaxError('invalid syntax');
        this.i++;
        node = { n: 'other' };
      } else return node;
      setName = false;
    }
  }

  private atom(): Node {
    const t = this.peek();
    if (t.k === 'num') {
      this.i++;
      return { n: 'const', v: t.v };
    }
    if (t.k === 'str') {
      // Adjacent strings are one constant; bytes and str do not mix.
      const parts: Array<Extract<Token, { k: 'str' }>> = [];
      while (this.peek().k === 'str') parts.push(this.tokens[this.i++] as Extract<Token, { k: 'str' }>);
      const known = parts.map((p) => p.v).filter((v) => v !== null);
      if (
        known.some((v) => v.t === 'bytes') &&
        (known.some((v) => v.t === 'str') || known.length < parts.length)
      )
        throw new PySyntaxError('cannot mix bytes and nonbytes literals');
      if (known.length < parts.length) {
        this.fString = true;
        return { n: 'other' };
      }
      if (known[0]?.t === 'bytes')
        return { n: 'const', v: { t: 'bytes', b: known.flatMap((v) => (v.t === 'bytes' ? v.b : [])) } };
      return { n: 'const', v: { t: 'str', s: known.map((v) => (v.t === 'str' ? v.s : '')).join('') } };
    }
    if (t.k === 'name') {
      this.i++;
      if (t.v === 'True' || t.v === 'False') return { n: 'const', v: { t: 'bool', b: t.v === 'True' } };
      if (t.v === 'None') return { n: 'const', v: { t: 'none' } };
      if (KEYWORDS.has(t.v)) throw new PySyntaxError('invalid syntax');
      return { n: 'name', v: t.v };
    }
    if (t.k === 'op') {
      if (t.v === '...') {
        this.i++;
        return { n: 'const', v: { t: 'ellipsis' } };
      }
      if (t.v === '(') {
        this.i++;
        if (this.isOp(')')) {
          this.i++;
          return { n: 'tuple', items: [] };
        }
        const first = this.expr();
        if (this.isOp(')')) {
          this.i++;
          return first;
        }
        const items = [first];
        while (this.isOp(',')) {
          this.i++;
          if (this.isOp(')')) break;
          items.push(this.expr());
        }
        this.expectOp(')');
        return { n: 'tuple', items };
      }
      if (t.v === '[') {
        this.i++;
        const items: Node[] = [];
        while (!this.isOp(']')) {
          items.push(this.expr());
          if (!this.isOp(',')) break;
          this.i++;
        }
        this.expectOp(']');
        return { n: 'list', items };
      }
      if (t.v === '{') {
        this.i++;
        if (this.isOp('}')) {
          this.i++;
          return { n: 'dict', keys: [], values: [] };
        }
        const first = this.expr();
        if (this.isOp(':')) {
          this.i++;
          const keys = [first];
          const values = [this.expr()];
          while (this.isOp(',')) {
            this.i++;
            if (this.isOp('}')) break;
            keys.push(this.expr());
            this.expectOp(':');
            values.push(this.expr());
          }
          this.expectOp('}');
          return { n: 'dict', keys, values };
        }
        const items = [first];
        while (this.isOp(',')) {
          this.i++;
          if (this.isOp('}')) break;
          items.push(this.expr());
        }
        this.expectOp('}');
        return { n: 'set', items };
      }
    }
    throw new PySyntaxError('invalid syntax');
  }
}

const KEYWORDS = new Set([
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);

// ---------------------------------------------------------------------------------------------------
// literal_eval's _convert, in its order (a TypeError found before a ValueError escapes)

function isNumber(v: PyValue): boolean {
  return v.t === 'int' || v.t === 'float' || v.t === 'complex';
}

function convertNum(node: Node): PyValue {
  if (node.n !== 'const' || !isNumber(node.v)) throw new PyValueError('malformed node or string');
  return node.v;
}

function convertSignedNum(node: Node): PyValue {
  if (node.n === 'unary' && node.op !== '~') {
    const v = convertNum(node.operand);
    if (node.op === '+') return v;
    if (v.t === 'int') return { t: 'int', n: -v.n };
    if (v.t === 'float') return { t: 'float', n: -v.n };
    return v;
  }
  return convertNum(node);
}

function hashable(v: PyValue): boolean {
  if (v.t === 'list' || v.t === 'dict' || v.t === 'set') return false;
  if (v.t === 'tuple') return v.items.every(hashable);
  return true;
}

function unhashable(v: PyValue): never {
  const t = v.t === 'tuple' ? (v.items.find((x) => !hashable(x))?.t ?? 'list') : v.t;
  throw new PyTypeError(`unhashable type: '${t}'`);
}

function convert(node: Node): PyValue {
  switch (node.n) {
    case 'const':
      return node.v;
    case 'tuple':
    case 'list':
      return { t: node.n, items: node.items.map(convert) };
    case 'set': {
      const items: PyValue[] = [];
      for (const x of node.items) {
        const v = convert(x);
        if (!hashable(v)) unhashable(v);
        items.push(v);
      }
      return { t: 'set', items };
    }
    case 'emptySet':
      return { t: 'set', items: [] };
    case 'dict': {
      const entries: Array<[PyValue, PyValue]> = [];
      for (const [i, k] of node.keys.entries()) {
        const key = convert(k);
        const value = convert(node.values[i] as Node);
        if (!hashable(key)) unhashable(key);
        entries.push([key, value]);
      }
      return { t: 'dict', entries };
    }
    case 'binop': {
      const left = convertSignedNum(node.left);
      const right = convertNum(node.right);
      if ((left.t === 'int' || left.t === 'float') && right.t === 'complex') return { t: 'complex' };
      return convertSignedNum(node);
    }
    default:
      return convertSignedNum(node);
  }
}

// ---------------------------------------------------------------------------------------------------
// The value in JSON terms (what Ansible's to_text(…, nonstring='passthru') and a JSON dump make of it)

class Unsupported extends Error {}

/** Python's repr() of a float, which json.dumps uses for a float dict key. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const exp = Number.parseInt(expText, 10);
  const digits = mant.replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${int}.${frac || '0'}`;
}

function utf8(bytes: number[]): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** A dict key as a JSON dump writes it, and what Python compares it by (1 == 1.0 == True). */
function keyOf(v: PyValue): { text: string; eq: string } {
  switch (v.t) {
    case 'str':
      return { text: v.s, eq: `s${v.s}` };
    case 'int':
      return { text: String(v.n), eq: `n${v.n}` };
    case 'bool':
      return { text: String(v.b), eq: `n${v.b ? 1 : 0}` };
    case 'none':
      return { text: 'null', eq: 'none' };
    case 'float':
      return {
        text: pyFloatRepr(v.n),
        eq: Number.isInteger(v.n) ? `n${BigInt(v.n)}` : `f${v.n}`,
      };
    default:
      throw new Unsupported(v.t === 'tuple' ? 'a dict with a tuple as a key' : `a dict with ${v.t} keys`);
  }
}

const WHAT: Partial<Record<PyValue['t'], string>> = {
  set: 'a set',
  complex: 'a complex number',
  ellipsis: 'Ellipsis (`...`)',
  bytes: 'bytes',
};

function toJson(v: PyValue, top: boolean): unknown {
  switch (v.t) {
    case 'str':
      return v.s;
    case 'bytes': {
      const s = top ? utf8(v.b) : null;
      if (s === null) throw new Unsupported(top ? 'bytes that are not UTF-8' : 'bytes');
      return s;
    }
    case 'int': {
      const n = Number(v.n);
      if (!Number.isFinite(n)) throw new Unsupported('an integer too large for JSON');
      return n;
    }
    case 'float':
      if (!Number.isFinite(v.n)) throw new Unsupported('a float too large for JSON (inf)');
      return v.n;
    case 'bool':
      return v.b;
    case 'none':
      return null;
    case 'tuple':
    case 'list':
      return v.items.map((x) => toJson(x, false));
    case 'dict': {
      // Python keeps the first key and the last value of keys that compare equal.
      const out = new Map<string, { text: string; value: PyValue }>();
      for (const [k, value] of v.entries) {
        const key = keyOf(k);
        const prev = out.get(key.eq);
        if (prev) prev.value = value;
        else out.set(key.eq, { text: key.text, value });
      }
      const obj: Record<string, unknown> = {};
      for (const { text, value } of out.values())
        Object.defineProperty(obj, text, {
          value: toJson(value, false),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return obj;
    }
    default:
      throw new Unsupported(WHAT[v.t] ?? v.t);
  }
}

/** What Ansible's INI plugin makes of a variable's value (`_parse_value`). */
export function literalEval(text: string): PyLiteral {
  const source = text.replace(/^[ \t]+/, '');
  let node: Node;
  const seen: Seen = { named: false };
  try {
    if (source.includes('\0')) throw new PySyntaxError('source code string cannot contain null bytes');
    const p = new ExprParser(tokenize(source, seen));
    node = p.top();
    if (p.fString) return { kind: 'text', value: text };
  } catch (e) {
    if (e instanceof PySyntaxError || e instanceof RangeError) return { kind: 'text', value: text };
    throw e;
  }
  let value: PyValue;
  try {
    value = convert(node);
  } catch (e) {
    if (e instanceof PyValueError) return { kind: 'text', value: text };
    if (e instanceof PyTypeError) return { kind: 'error', message: e.message };
    throw e;
  }
  if (seen.named)
    return {
      kind: 'unsupported',
      value: text,
      what: 'a string with a `\\N{…}` escape (kernelfile does not carry Unicode character names)',
    };
  try {
    return { kind: 'value', value: toJson(value, true) };
  } catch (e) {
    if (e instanceof Unsupported) return { kind: 'unsupported', value: text, what: e.message };
    throw e;
  }
}
