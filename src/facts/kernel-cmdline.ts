/**
 * The kernel command line as Linux splits it (lib/cmdline.c next_arg): arguments are separated by
 * spaces outside double quotes, and a quoted argument (`"a b"`) or value (`p="a b"`) loses its
 * quotes. GRUB's `linux` command takes one script word per argument and hands the kernel the words
 * joined by spaces, a word with a space in it wrapped in double quotes: so a command line written
 * with kernel quoting and one read back from grub.cfg are compared argument by argument, unquoted.
 */

/** The arguments of a command line, as written (quotes kept). */
export function splitKernelArgs(cmdline: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of cmdline) {
    if (c === '"') quoted = !quoted;
    if (!quoted && /\s/.test(c)) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** One argument as the kernel reads it: `"a b"` → `a b`, `p="a b"` → `p=a b`. */
export function unquoteKernelArg(arg: string): string {
  const whole = /^"([^"]*)"?$/.exec(arg);
  if (whole) return whole[1] as string;
  const value = /^([^"=]+=)"([^"]*)"?$/.exec(arg);
  if (value) return `${value[1]}${value[2]}`;
  return arg;
}

/** The arguments the kernel gets, unquoted. */
export const kernelArgs = (cmdline: string | null | undefined): string[] =>
  splitKernelArgs(cmdline ?? '').map(unquoteKernelArg);

/** The same arguments in the same order. */
export function sameKernelArgs(a: string | null | undefined, b: string | null | undefined): boolean {
  const x = kernelArgs(a);
  const y = kernelArgs(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** GRUB `linux` words back to a command line: as GRUB passes them, a word with a space quoted. */
export const cmdlineFromWords = (words: readonly string[]): string =>
  words.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ');
