/**
 * Version ordering as the UAPI version format specifies and systemd-boot uses to sort boot entries
 * (rpmvercmp with explicit separators). Strings are cut into numeric or alphabetic segments, each
 * optionally prefixed: `~` (pre-release, oldest), `-` (version/release separator), `^` (patched),
 * `.` (point release); no prefix is newest. Numbers compare by value, letters as text, a longer
 * string (more segments) is newer. Other characters only separate. Used for kernel releases too.
 *   122.1 < 123~rc1-1 < 123 < 123-a < 123-1 < 123^post1 < 123.1-1 < 123a-1 < 124-1
 */

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c);
const isVersionChar = (c: string) => isDigit(c) || isAlpha(c) || '~-^.'.includes(c);
const cmp = (x: number | string, y: number | string) => (x < y ? -1 : x > y ? 1 : 0);

export function compareVersions(a: string, b: string): number {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isVersionChar(a[i] as string)) i++;
    while (j < b.length && !isVersionChar(b[j] as string)) j++;
    // `~`: the side that has it is older; when both have it, go on after it.
    if (a[i] === '~' || b[j] === '~') {
      const r = cmp(Number(a[i] !== '~'), Number(b[j] !== '~'));
      if (r) return r;
      i++;
      j++;
    }
    if (i >= a.length || j >= b.length) return cmp(Number(i < a.length), Number(j < b.length));
    for (const sep of ['-', '^', '.']) {
      if (a[i] === sep || b[j] === sep) {
        const r = cmp(Number(a[i] !== sep), Number(b[j] !== sep));
        if (r) return r; // the prefixed side is older ('-' is checked first: 123-1 < 123^post1)
        i++;
        j++;
      }
    }
    const digits = isDigit(a[i]) || isDigit(b[j]);
    const take = digits ? isDigit : isAlpha;
    let ii = i;
    let jj = j;
    while (ii < a.length && take(a[ii])) ii++;
    while (jj < b.length && take(b[jj])) jj++;
    const x = a.slice(i, ii);
    const y = b.slice(j, jj);
    if (digits) {
      const r = cmp(Number(x !== ''), Number(y !== '')); // a number is newer than letters
      if (r) return r;
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      const r2 = cmp(nx.length, ny.length) || cmp(nx, ny);
      if (r2) return r2;
    } else {
      const n = Math.min(x.length, y.length);
      const r = cmp(x.slice(0, n), y.slice(0, n)) || cmp(x.length, y.length);
      if (r) return r;
    }
    i = ii;
    j = jj;
  }
}
