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
        message: `unterminated string ${v}`,
        hint: 'close the string with `"`; escape inner quotes as `\\"`',
      };
    }
    return null;
  }
  const lower = v.toLowerCase();
  if (BOOLISH[lower] || lower === 'y' || lower === 'm' || lower === 'n') {
    const want = BOOLISH[lower] ?? lower;
    return { severity: 'error', message: `\`${v}\` is not a Kconfig value`, hint: `use \`${want}\`` };
  }
  if (v === '')
    return {
      severity: 'error',
      message: 'missing value after `=`',
      hint: 'use y, m, n, a number or a "string"',
    };
  return {
    severity: 'error',
    message: `\`${v}\` is not a Kconfig value`,
    hint: `use y, m, n, a number, or a string in double quotes: "${v.replace(/["\\]/g, '\\$&')}"`,
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
            message: `\`${sym}\` is not a Kconfig symbol name`,
            hint: `symbol names are upper case: \`${sym.toUpperCase()}\``,
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
        message: `not a config line: \`${trimmed}\``,
        hint: 'lines are `CONFIG_NAME=value`, `# CONFIG_NAME is not set`, or comments starting with #',
      });
      return;
    }
    if (!SYMBOL.test(name)) {
      const cleaned = name.trim();
      const upper = cleaned.toUpperCase();
      let hint: string;
      if (cleaned !== name) hint = `remove the spaces around \`=\`: \`${cleaned}=${value.trim()}\``;
      else if (SYMBOL.test(upper)) hint = `symbol names are upper case: \`${upper}\``;
      else if (/^[A-Z0-9_]+$/.test(upper))
        hint = `symbols in a .config start with CONFIG_: \`CONFIG_${upper}\``;
      else hint = 'lines are `CONFIG_NAME=value` or `# CONFIG_NAME is not set`';
      problems.push({
        severity: 'error',
        line,
        column: 1,
        message: `\`${cleaned}\` is not a Kconfig symbol; Kconfig would silently ignore this line`,
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
        hint: `write \`${name}=${value.trim()}\``,
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

/** The values of a .config as a map, `CONFIG_X` → value as written (the last line for a symbol wins). */
export function configValues(text: string): Record<string, KconfigValue> {
  const out: Record<string, KconfigValue> = {};
  for (const e of parseConfig(text).entries) out[e.symbol] = e.value;
  return out;
}
