/**
 * Text written into GRUB script (grub.cfg): every value is one single-quoted word. In GRUB's
 * grammar, as in sh, nothing inside single quotes is special (`$`, `;`, `{`, `}`, `"`, `\`, `#`),
 * and a single quote is written as `'\''` (close, an escaped quote, reopen). The kernel command line
 * becomes one word per argument: GRUB's `linux` joins them again for the kernel, so `$` and `;`
 * arrive as written and never expand or end the command.
 */
import { kernelArgs } from '../../facts/kernel-cmdline.js';

export const grubQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A command line as `linux` arguments: each argument the kernel reads, unquoted, as one quoted word. */
export const grubArgs = (cmdline: string): string => kernelArgs(cmdline).map(grubQuote).join(' ');

/** One argument per line for /etc/kernelfile/grub/*.entry (`arg=` lines), each as the kernel reads it. */
export const entryArgLines = (cmdline: string): string =>
  kernelArgs(cmdline)
    .map((a) => `arg=${a}\n`)
    .join('');
