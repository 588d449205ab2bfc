/**
 * The tokens of one logical Kconfig line (continuations already joined), as the kernel's
 * scripts/kconfig/lexer.l reads them: words ([A-Za-z0-9_-], with preprocessor macros `$(…)` kept
 * whole, spaces and commas inside included), "double" or 'single' quoted strings with backslash
 * escapes, the operators `&& || ! = != < <= > >= ( )`, and `#` to the end of the line as a comment.
 */

export type Op = '&&' | '||' | '!' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '(' | ')';

export type Token =
  | { t: 'word'; v: string; col: number }
  | { t: 'str'; v: string; col: number }
  | { t: 'op'; v: Op; col: number };

export interface Tokenized {
  tokens: Token[];
  /** Characters Kconfig would warn about and ignore, or an unterminated string. */
  problems: { col: number; message: string }[];
}

function isWordChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 /* _ */ ||
    c === 45 /* - */
  );
}

/** Index just past the `)` that closes the `$(` at `i`, or the line's end. */
function macroEnd(s: string, i: number): number {
  let depth = 0;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '(') depth++;
    else if (s[j] === ')' && --depth === 0) return j + 1;
  }
  return s.length;
}

const TWO: Record<string, Op> = { '&&': '&&', '||': '||', '!=': '!=', '<=': '<=', '>=': '>=' };
const ONE: Record<string, Op> = { '!': '!', '=': '=', '<': '<', '>': '>', '(': '(', ')': ')' };

/** Tokenize `s`; `col` values are 1-based. */
export function tokenize(s: string): Tokenized {
  const tokens: Token[] = [];
  const problems: Tokenized['problems'] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35 /* # */) break;
    if (isWordChar(c) || (c === 36 /* $ */ && s[i + 1] === '(')) {
      const start = i;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (isWordChar(d)) i++;
        else if (d === 36 && s[i + 1] === '(') i = macroEnd(s, i);
        else break;
      }
      tokens.push({ t: 'word', v: s.slice(start, i), col: start + 1 });
      continue;
    }
    if (c === 34 || c === 39 /* " ' */) {
      const start = i;
      let escaped = false;
      i++;
      while (i < n && s.charCodeAt(i) !== c) {
        if (s.charCodeAt(i) === 92 /* \\ */ && i + 1 < n) {
          escaped = true;
          i++;
        }
        i++;
      }
      const raw = s.slice(start + 1, Math.min(i, n));
      if (i >= n) problems.push({ col: start + 1, message: 'unterminated string' });
      i++;
      tokens.push({ t: 'str', v: escaped ? raw.replace(/\\(.)/g, '$1') : raw, col: start + 1 });
      continue;
    }
    const op = TWO[s.slice(i, i + 2)] ?? ONE[s[i] as string];
    if (op) {
      tokens.push({ t: 'op', v: op, col: i + 1 });
      i += op.length;
      continue;
    }
    problems.push({ col: i + 1, message: `ignoring unsupported character '${s[i]}'` });
    i++;
  }
  return { tokens, problems };
}
