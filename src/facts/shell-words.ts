/**
 * Just enough of sh word syntax for the files facts read: /etc/os-release, /etc/default/grub,
 * dkms.conf, grubenv-free GRUB script lines (grub.cfg quotes the way sh does). Quotes are removed
 * and escapes applied; `$var`, `${var}`, `$(…)` and backquotes are kept as written, never expanded.
 */

/** Split one line into words; an unquoted `#` at the start of a word begins a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const add = (s: string) => {
    word = (word ?? '') + s;
  };
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === '#' && word === null) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      const stop = end < 0 ? line.length : end;
      add(line.slice(i + 1, stop));
      i = stop + 1;
    } else if (c === '"') {
      i++;
      let s = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1] as string)) {
          s += line[i + 1];
          i += 2;
        } else s += line[i++];
      }
      add(s);
      i++;
    } else if (c === '\\') {
      if (i + 1 < line.length) add(line[i + 1] as string);
      i += 2;
    } else if (c === '`' || (c === '$' && line[i + 1] === '(')) {
      const end = closing(line, i);
      add(line.slice(i, end));
      i = end;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Index just past the `…` or $(…) starting at i (to the end of the line when unterminated). */
function closing(line: string, i: number): number {
  if (line[i] === '`') {
    const end = line.indexOf('`', i + 1);
    return end < 0 ? line.length : end + 1;
  }
  let depth = 0;
  for (let j = i + 1; j < line.length; j++) {
    if (line[j] === '(') depth++;
    else if (line[j] === ')' && --depth === 0) return j + 1;
  }
  return line.length;
}

const ASSIGN = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * `NAME=value` lines as sh would assign them (later lines win); other lines are ignored. The value
 * is the first word after `=` (`A=b c` would run `c` in sh; we keep `b`).
 */
export function parseAssignments(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = raw.trim().match(ASSIGN);
    if (!m) continue;
    const rest = m[2] as string;
    out[m[1] as string] = /^\s/.test(rest) ? '' : (shellWords(rest)[0] ?? '');
  }
  return out;
}
