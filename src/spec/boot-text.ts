/**
 * What a boot entry's title, command line and root device may hold: only what reaches every loader
 * as written. The loaders write them into files read line by line (grub.cfg, BLS entries,
 * /etc/kernelfile/grub/*.entry), GRUB's `linux` command hands the kernel `'`, `"` and `\` escaped
 * with a backslash (the kernel cannot unescape them), and the kernel splits its command line at
 * spaces outside double quotes. What passes here is quoted where it is written (grub-quote.ts).
 */
import { splitKernelArgs } from '../facts/kernel-cmdline.js';

export interface TextProblem {
  message: string;
  hint: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

const describeChar = (c: string) =>
  c === '\n'
    ? 'a line break'
    : c === '\t'
      ? 'a tab'
      : `the control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A menu title: any text on one line. */
export function titleProblem(title: string): TextProblem | null {
  const c = CONTROL.exec(title)?.[0];
  if (c === undefined) return null;
  return {
    message: `the title contains ${describeChar(c)}: a menu title is one line of text`,
    hint: 'write the title on one line, as a plain YAML string',
  };
}

/** A kernel command line: arguments GRUB and the kernel both read as written. */
export function cmdlineProblem(cmdline: string): TextProblem | null {
  const c = CONTROL.exec(cmdline.replace(/\t/g, ' '))?.[0];
  if (c !== undefined)
    return {
      message: `the kernel command line contains ${describeChar(c)}`,
      hint: 'write the command line on one line, as a plain (not `|`) YAML string',
    };
  if (/['\\]/.test(cmdline))
    return {
      message: `the kernel command line contains ${cmdline.includes("'") ? 'a single quote' : 'a backslash'}, which GRUB passes to the kernel escaped with a backslash (the kernel would not see what is written)`,
      hint: 'the kernel knows only double quotes: p="a b" or "a b"',
    };
  for (const arg of splitKernelArgs(cmdline))
    if (arg.includes('"') && !/^"[^"]*"$/.test(arg) && !/^[^"=]+="[^"]*"$/.test(arg))
      return {
        message: `the kernel argument ${arg} has double quotes the kernel does not remove`,
        hint: 'quote a whole argument ("a b") or a whole value (p="a b"), and close every quote',
      };
  return null;
}

const ROOT_FORMS: readonly RegExp[] = [
  /^\/dev\/[A-Za-z0-9._+:@/-]+$/,
  /^UUID=[0-9A-Fa-f-]+$/,
  /^PARTUUID=[0-9A-Fa-f-]+(?:\/PARTNROFF=-?\d+)?$/,
  /^(?:LABEL|PARTLABEL)=[A-Za-z0-9._+:@-]+$/,
  /^ZFS=[A-Za-z0-9._+:@/-]+$/,
  /^\d+:\d+$/,
];

/** A root device as the kernel and the initramfs read root=. */
export function rootProblem(root: string): TextProblem | null {
  if (ROOT_FORMS.some((re) => re.test(root)) && !/(^|\/)\.\.?(\/|$)/.test(root.replace(/^\/dev\//, '')))
    return null;
  return {
    message: `${JSON.stringify(root)} is not a root device: root is /dev/…, UUID=…, PARTUUID=…, LABEL=…, PARTLABEL=…, ZFS=… or MAJOR:MINOR, with no spaces or quotes`,
    hint: 'name the device, e.g. root: /dev/vda1 or root: UUID=8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71 (a label with other characters: use its UUID)',
  };
}
