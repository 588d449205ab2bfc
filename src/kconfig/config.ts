/**
 * The kernel's `.config` syntax, as written by Kconfig and read by `merge_config.sh`:
 *   CONFIG_FOO=y | m | n | 123 | -1 | 0x1f | "a \"string\""
 *   # CONFIG_FOO is not set
 * Kconfig silently ignores lines it does not understand (a lower-case `config_foo=y`, `CONFIG_FOO = y`),
 * so a fragment with a typo quietly does nothing. This parser reports such lines with their position.
 */

export type KconfigValue = string; // 'y' | 'm' | 'n' | a number as written | a quoted string as written

export interface ConfigEntry {
  symbol: string; // CONFIG_FOO
  /** The value as it appears after `=` (strings keep their quotes); `n` for "is not set". */
  value: KconfigValue;
  line: number; // 1-based
  column: number; // 1-based column of the value
}

export interface ConfigProblem {
  line: number;
  column: number;
  message: string;
  hint?: string;
  severity: 'error' | 'warning';
}

export interface ParsedConfig {
  entries: ConfigEntry[];
  problems: ConfigProblem[];
}

const SYMBOL = /^CONFIG_[A-Z0-9_]+$/;
const NOT_SET = /^#\s*(CONFIG_[A-Za-z0-9_]+) is not set\s*$/i;
const BOOLISH: Record<string, string> = {
  yes: 'y',
  true: 'y',
  on: 'y',
  no: 'n',
  false: 'n',
  off: 'n',
  module: 'm',
};

/** Longest piece of a file's line quoted in a message. */
export const EXCERPT_CHARS = 40;

/**
 * A line of a user's file as a message may quote it: control characters shown as `?`, and at most
 * EXCERPT_CHARS characters (then `…`). Files that are not Kconfig fragments at all are never
 * quoted (see fragmentShape).
 */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  const chars = [...clean];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : clean;
}

/**
 * Does this text look like a Kconfig fragment (or a whole .config) at all? Not when it is binary,
 * holds a PEM block or an SSH private key, or when most of its lines are not config lines (and
 * none, or few, are): then the caller reports the file once, and quotes none of its lines.
 */
export function fragmentShape(text: string): { ok: true } | { ok: false; why: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: binary content is what is looked for
  const binary = /[\u0000\ufffd]/.test(text) || /[\u0001-\u0008\u000e-\u001a\u001c-\u001f]/.test(text);
  if (binary) return { ok: false, why: 'it is a binary file (NUL or control bytes, or not UTF-8)' };
  if (/^-----BEGIN [A-Z0-9 ]+-----/m.test(text) || /^(?:openssh-key-v1|PuTTY-User-Key-File-)/m.test(text))
    return {
      ok: false,
      why: /PRIVATE KEY|openssh-key-v1|PuTTY/.test(text)
        ? 'it holds a private key (a PEM `-----BEGIN … PRIVATE KEY-----` block or an SSH key); none of its lines is shown'
        : 'it holds a PEM block (`-----BEGIN …-----`: a key or a certificate)',
    };
  let good = 0;
  let bad = 0;
  let firstBad = 0;
  text.split('\n').forEach((raw, i) => {
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    if (/^CONFIG_[A-Za-z0-9_]*\s*=/i.test(t)) good++;
    else {
      bad++;
      if (firstBad === 0) firstBad = i + 1;
    }
  });
  if ((good === 0 && bad > 0) || (bad >= 3 && bad > good))
    return {
      ok: false,
      why: `${bad} of its ${good + bad} lines are not \`CONFIG_NAME=value\` lines (the first is line ${firstBad}); its lines are not shown`,
    };
  return { ok: true };
}

/** Is `v` a value Kconfig accepts as written in a .config line? Returns a problem or null. */
export function checkValue(
  v: string,
): { message: string; hint?: string; severity: 'error' | 'warning' } | null {
  if (v === 'y' || v === 'm' || v === 'n') return null;
  if (/^-?[0-9]+$/.test(v) || /^0[xX][0-9a-fA-F]+$/.test(v)) return null;
  if (v.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(v)) {
      return {
        severity: 'error',
        message: `unterminated string ${excerpt(v)}`,
        hint: 'close the string with `"`; escape inner quotes as `\\"`',
      };
    }
    return null;
  }
  const lower = v.toLowerCase();
  if (BOOLISH[lower] || lower === 'y' || lower === 'm' || lower === 'n') {
    const want = BOOLISH[lower] ?? lower;
    return {
      severity: 'error',
      message: `\`${excerpt(v)}\` is not a Kconfig value`,
      hint: `use \`${want}\``,
    };
  }
  if (v === '')
    return {
      severity: 'error',
      message: 'missing value after `=`',
      hint: 'use y, m, n, a number or a "string"',
    };
  return {
    severity: 'error',
    message: `\`${excerpt(v)}\` is not a Kconfig value`,
    hint: `use y, m, n, a number, or a string in double quotes: "${excerpt(v.replace(/["\\]/g, '\\$&'))}"`,
  };
}

export function parseConfig(text: string): ParsedConfig {
  const entries: ConfigEntry[] = [];
  const problems: ConfigProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.replace(/\r$/, '');
    const trimmed = s.trim();
    if (trimmed === '') return;
    const lead = s.length - s.trimStart().length;
    if (trimmed.startsWith('#')) {
      const m = trimmed.match(NOT_SET);
      if (m) {
        const sym = m[1] as string;
        if (!SYMBOL.test(sym)) {
          problems.push({
            severity: 'error',
            line,
            column: lead + trimmed.indexOf(sym) + 1,
            message: `\`${excerpt(sym)}\` is not a Kconfig symbol name`,
            hint: `symbol names are upper case: \`${excerpt(sym.toUpperCase())}\``,
          });
          return;
        }
        entries.push({ symbol: sym, value: 'n', line, column: lead + 1 });
      }
      return;
    }
    const eq = s.indexOf('=');
    const name = eq >= 0 ? s.slice(0, eq) : s;
    const value = eq >= 0 ? s.slice(eq + 1) : '';
    if (eq < 0) {
      problems.push({
        severity: 'error',
        line,
        column: lead + 1,
        message: `not a config line: \`${excerpt(trimmed)}\``,
        hint: 'lines are `CONFIG_NAME=value`, `# CONFIG_NAME is not set`, or comments starting with #',
      });
      return;
    }
    if (!SYMBOL.test(name)) {
      const cleaned = name.trim();
      const upper = cleaned.toUpperCase();
      let hint: string;
      if (cleaned !== name)
        hint = `remove the spaces around \`=\`: \`${excerpt(`${cleaned}=${value.trim()}`)}\``;
      else if (SYMBOL.test(upper)) hint = `symbol names are upper case: \`${excerpt(upper)}\``;
      else if (/^[A-Z0-9_]+$/.test(upper))
        hint = `symbols in a .config start with CONFIG_: \`CONFIG_${excerpt(upper)}\``;
      else hint = 'lines are `CONFIG_NAME=value` or `# CONFIG_NAME is not set`';
      problems.push({
        severity: 'error',
        line,
        column: 1,
        message: `\`${excerpt(cleaned)}\` is not a Kconfig symbol; Kconfig would silently ignore this line`,
        hint,
      });
      return;
    }
    if (value !== value.trim() && !value.trim().startsWith('"')) {
      problems.push({
        severity: 'error',
        line,
        column: eq + 2,
        message: 'whitespace around the value; Kconfig would not read it',
        hint: `write \`${excerpt(`${name}=${value.trim()}`)}\``,
      });
      return;
    }
    const bad = checkValue(value);
    if (bad) {
      problems.push({ ...bad, line, column: eq + 2 });
      return;
    }
    entries.push({ symbol: name, value, line, column: eq + 2 });
  });
  return { entries, problems };
}

/** The value a kernelfile `set:` entry stands for, in .config syntax. */
export function formatSetValue(v: string | number): string {
  if (typeof v === 'number') return String(v);
  if (v === 'y' || v === 'm' || v === 'n') return v;
  if (/^0[xX][0-9a-fA-F]+$/.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One .config line: `CONFIG_X=value`, or `# CONFIG_X is not set` for n (what merge_config.sh reads). */
export function formatConfigLine(symbol: string, value: KconfigValue): string {
  return value === 'n' ? `# ${symbol} is not set` : `${symbol}=${value}`;
}

/** A fragment in .config syntax, one line per entry in order; parseConfig reads it back unchanged. */
export function serialiseConfig(entries: readonly { symbol: string; value: KconfigValue }[]): string {
  return entries.map((e) => `${formatConfigLine(e.symbol, e.value)}\n`).join('');
}

/** A `CONFIG_X=value` line that parseConfig takes as it is (a valid value, no whitespace). */
const VALUE_LINE = /^(CONFIG_[A-Z0-9_]+)=(y|m|n|-?[0-9]+|0[xX][0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/**
 * The values of a .config as a map, `CONFIG_X` → value as written (the last line for a symbol wins):
 * exactly the entries of parseConfig(text), without its positions and problems. A host's running
 * config has thousands of lines and every plan reads one or two: one regular expression per line
 * here, about a third of parseConfig's time.
 */
export function configValues(text: string): Record<string, KconfigValue> {
  const out: Record<string, KconfigValue> = {};
  for (const raw of text.split('\n')) {
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = VALUE_LINE.exec(s);
    if (m) {
      out[m[1] as string] = m[2] as string;
      continue;
    }
    const trimmed = s.trim();
    if (!trimmed.startsWith('#')) continue;
    const sym = NOT_SET.exec(trimmed)?.[1];
    if (sym !== undefined && SYMBOL.test(sym)) out[sym] = 'n';
  }
  return out;
}
