/**
 * Which Kconfig option would lift a dkms.conf's exclusion of the new kernel. Some -dkms packages
 * source the kernel's .config in dkms.conf and, when an option they need is off, set
 * BUILD_EXCLUSIVE_KERNEL to a message ("needs CONFIG_X") rather than a version pattern: no kernel
 * release matches it, so dkms skips the module for every kernel built so. Suggesting "another
 * kernel version" is then wrong; the preflight (preflight.ts) evaluates the conf again with each
 * CONFIG_ symbol it reads set the other way, one at a time, and names those that lift it. Pure.
 */

/** One option set one way: `y` (set) or `n` (not set). */
export interface OptionValue {
  symbol: string;
  value: 'y' | 'n';
}

/** A version requirement the new kernel does not meet, and the options that lift it. */
export interface KernelExclusion {
  /** BUILD_EXCLUSIVE_KERNEL as the conf set it for the new kernel (null: it was _MIN/_MAX or OBSOLETE_BY). */
  pattern: string | null;
  /** The pattern reads as a kernel version pattern; false: a message such as "needs CONFIG_X". */
  versionPattern: boolean;
  /** The CONFIG_ symbols the conf reads, each tried alone the other way (at most MAX_CANDIDATES). */
  tried: string[];
  /** Those of them that, alone, make the conf build for the new kernel. */
  liftedBy: OptionValue[];
}

/** How many symbols of one conf are tried (each is one more evaluation of the conf). */
export const MAX_CANDIDATES = 12;

/** An unmet requirement about the kernel's version (BUILD_EXCLUSIVE_KERNEL, _MIN, _MAX, OBSOLETE_BY). */
export function isVersionRequirement(unmet: string): boolean {
  return /^requires (a kernel|kernel )/.test(unmet);
}

/**
 * A version pattern names versions: digits, no spaces, no CONFIG_ symbol. "needs CONFIG_ACPI_WMI",
 * "NOT_SUPPORTED" or "requires RT kernel" are messages that no release will ever match.
 */
export function looksLikeVersionPattern(p: string): boolean {
  return !/\s/.test(p) && /\d/.test(p) && !/CONFIG_/.test(p);
}

/** The CONFIG_ symbols a dkms.conf mentions, in order of first mention, at most `max`. */
export function configSymbols(conf: string, max = MAX_CANDIDATES): string[] {
  const out: string[] = [];
  for (const m of conf.matchAll(/\bCONFIG_[A-Za-z0-9_]+/g)) {
    if (!out.includes(m[0])) out.push(m[0]);
    if (out.length === max) break;
  }
  return out;
}

/** The value of `symbol` in a .config text (`n` for "is not set" or absent). */
export function configValue(text: string, symbol: string): string {
  const m = new RegExp(`^${symbol}=(.*)$`, 'm').exec(text);
  return m ? (m[1] as string) : 'n';
}

/** The value that differs from the config's: `n` for a symbol set to y or m, else `y`. */
export function otherWay(text: string, symbol: string): OptionValue {
  const v = configValue(text, symbol);
  return { symbol, value: v === 'y' || v === 'm' ? 'n' : 'y' };
}

/** The .config text with `symbol` set to y, or to "is not set", in place of any line it had. */
export function withOption(text: string, o: OptionValue): string {
  const mine = new RegExp(`^(${o.symbol}=.*|# ${o.symbol} is not set)$`);
  const lines = text.split('\n').filter((l) => !mine.test(l));
  while (lines.at(-1) === '') lines.pop();
  lines.push(o.value === 'y' ? `${o.symbol}=y` : `# ${o.symbol} is not set`);
  return `${lines.join('\n')}\n`;
}

/** `CONFIG_X=y` or `CONFIG_X unset`, for messages. */
export function describeOption(o: OptionValue): string {
  return o.value === 'y' ? `${o.symbol}=y` : `${o.symbol} unset`;
}
