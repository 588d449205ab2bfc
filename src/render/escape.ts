/**
 * Host strings (titles from grub.cfg, command lines, module lists from receipts, error messages)
 * shown on a terminal or in a plan: control characters and the characters that reorder or hide
 * text never reach the reader as they are. Pure.
 */
import type { AttributeValue } from '../plan/types.js';

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional controls
 * (U+200E/F, U+202A–U+202E, U+2066–U+2069) that make a terminal or a browser show text other than
 * it is.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One character as an escape: `\n`, `\t`, `\x1b`, `\u202e`. */
export function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text with every unsafe character written as its escape (everything else as it is). */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** At most `max` items of a list are shown; the rest are counted. */
export const MAX_LIST_ITEMS = 8;

/** A string as a quoted value: `"…"` with `"` and `\` escaped and every unsafe character too. */
export function quote(s: string): string {
  return `"${printable(s.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

/** An attribute value as a plan shows it: strings quoted, lists in brackets, null as `(none)`. */
export function showValue(v: AttributeValue): string {
  if (v === null) return '(none)';
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) {
    const shown = v.slice(0, MAX_LIST_ITEMS).map(quote);
    if (v.length > MAX_LIST_ITEMS) shown.push(`… ${v.length - MAX_LIST_ITEMS} more`);
    return `[${shown.join(', ')}]`;
  }
  return String(v);
}

/** Terraform's symbol for one attribute: `+` set where there was none, `-` removed, `~` changed. */
export function attributeSymbol(a: { before: AttributeValue; after: AttributeValue }): '+' | '-' | '~' {
  return a.before === null ? '+' : a.after === null ? '-' : '~';
}

/** `~ cmdline: "a" → "b"`, `+ trial: "id"`, `- root: "UUID=…"` (the name is the kernelfile's, escaped too). */
export function attributeLine(a: { name: string; before: AttributeValue; after: AttributeValue }): string {
  const sym = attributeSymbol(a);
  const name = printable(a.name);
  if (sym === '+') return `+ ${name}: ${showValue(a.after)}`;
  if (sym === '-') return `- ${name}: ${showValue(a.before)}`;
  return `~ ${name}: ${showValue(a.before)} → ${showValue(a.after)}`;
}
