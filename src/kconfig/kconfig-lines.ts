/**
 * A Kconfig file → the logical lines the parser reads: a line ending in `\` continues on the next
 * (unless the `\` is inside a `#` comment); blank and comment lines are skipped; help texts are
 * skipped the way scripts/kconfig/lexer.l does: after `help`, blank lines belong to the help, the
 * first non-blank line sets the help's indentation (a tab advances to the next multiple of 8), and
 * the help ends at the first non-blank line indented less than that, or not at all.
 * Works on offsets into the text: most lines (help, comments) are never copied.
 */

/** Does a line ending in `\` continue, or is that `\` inside a comment? */
function continues(s: string): boolean {
  if (!s.endsWith('\\')) return false;
  if (!s.includes('#')) return true;
  let quote = '';
  for (let i = 0; i < s.length - 1; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return false;
  }
  return true;
}

export class LineReader {
  /** Offset of the next physical line; past the end when done. */
  private pos = 0;
  /** Physical lines consumed. */
  private count = 0;
  /** 1-based number of the first physical line of the logical line `next()` returned last. */
  line = 0;

  constructor(private readonly text: string) {}

  private endOf(start: number): number {
    const e = this.text.indexOf('\n', start);
    return e < 0 ? this.text.length : e;
  }

  private physical(start: number, end: number): string {
    return this.text.charCodeAt(end - 1) === 13
      ? this.text.slice(start, end - 1)
      : this.text.slice(start, end);
  }

  /** Indentation of the line at `start` (tabs to the next multiple of 8); -1 for a blank line. */
  private indent(start: number, end: number): number {
    let w = 0;
    for (let i = start; i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 32) w++;
      else if (c === 9) w = (w & ~7) + 8;
      else if (c !== 13) return c === 35 ? -2 - w : w; // -2-w: a comment at indentation w
    }
    return -1;
  }

  /** The next logical line that is neither blank nor a comment, or undefined at the end. */
  next(): string | undefined {
    const t = this.text;
    while (this.pos <= t.length) {
      const start = this.pos;
      const end = this.endOf(start);
      this.pos = end + 1;
      this.count++;
      if (this.indent(start, end) < 0) continue;
      this.line = this.count;
      let s = this.physical(start, end);
      while (continues(s) && this.pos <= t.length) {
        const e = this.endOf(this.pos);
        s = `${s.slice(0, -1)} ${this.physical(this.pos, e)}`;
        this.pos = e + 1;
        this.count++;
      }
      return s;
    }
    return undefined;
  }

  /** Skip the help text that follows a `help` line just read; returns the number of lines skipped. */
  skipHelp(): number {
    const t = this.text;
    let first = -1;
    let pos = this.pos;
    let count = this.count;
    // Resume after the last non-blank help line: trailing blank lines are not part of the help.
    let endPos = pos;
    let endCount = count;
    while (pos <= t.length) {
      const end = this.endOf(pos);
      const raw = this.indent(pos, end);
      if (raw !== -1) {
        const w = raw < -1 ? -2 - raw : raw; // a comment-looking line inside a help is help text
        if (w === 0 || (first >= 0 && w < first)) break;
        if (first < 0) first = w;
        endPos = end + 1;
        endCount = count + 1;
      }
      pos = end + 1;
      count++;
    }
    const skipped = endCount - this.count;
    this.pos = endPos;
    this.count = endCount;
    return skipped;
  }
}
