/**
 * What is left of a GRUB script line once its quoted words are taken out (each word becomes `''`):
 * GRUB's special characters there (`;`, `$`, `{`, `}`, `|`, `&`, `<`, `>`, `#`) would end the
 * command, open a block, expand a variable or start a comment. Single-quoted text and backslash
 * escapes only (what kernelfile writes).
 */
export function unquotedGrub(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return `${out}<unterminated>`;
      // 'a'\''b' is one word: one '' for it.
      if (!out.endsWith("''")) out += "''";
      i = end;
    } else if (c === '\\') {
      if (!out.endsWith("''")) out += "''";
      i++;
    } else out += c;
  }
  return out;
}

/** A menu entry kernelfile writes, its values taken out: only these commands, no other syntax. */
export const ENTRY_LINE =
  /^(menuentry '' --class gnu-linux --id '' \{|search [-\w= ]*''|insmod ext2|linux\t''( '')*|initrd\t''|\})$/;
