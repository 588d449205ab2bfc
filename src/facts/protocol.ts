/**
 * The section protocol of the facts script. The host runs one POSIX sh script (dash, busybox ash)
 * that only reads. Every fact is printed as a header line `<NONCE> <family> <key>` followed by its
 * content and one extra newline; the nonce is random per gather, so no file content can pass for
 * a header. Families run with stdin and stderr on /dev/null: a failing family loses its own keys
 * only, and a missing file or tool is an absent key, never an error. A family runs in the script's
 * own shell (no fork) when its fragment holds nothing that could end that shell or change what the
 * next family sees (exit, a special built-in such as shift or set -e, \${x?}, a bare IFS=, …:
 * see inPlace); any other fragment gets a subshell of its own, as every family once did.
 * Families that share the shell set every variable they read.
 *
 * Key conventions: `<key>#rc` holds the exit status of a command run by kf_run; `<key>#stderr`
 * the standard error of one run by kf_run_err (when it printed any); `<key>#denied` holds a path
 * that exists but could not be read (facts gathered without root).
 */
import { BOOT_ID } from '../receipt/decode.js';

/** The keys of one family: key → content exactly as printed. */
export type Sections = Record<string, string>;

/** A fact family: an sh fragment using the prelude, and a pure parse of its sections. */
export interface FactFamily<T> {
  readonly name: string;
  readonly script: string;
  parse(sections: Sections): T;
}

/** The pseudo-family of the trailer line printed after every family has run. */
export const END_FAMILY = '-';
const NONCE = /^[A-Za-z0-9_]{8,64}$/;

/**
 * The sh functions every family uses. Variables start with kf_ (family scripts must not assign
 * kf__nonce or kf__fam). No function writes anywhere but stdout: no temp files, no here-documents.
 */
export function prelude(nonce: string): string {
  if (!NONCE.test(nonce)) throw new Error(`bad nonce ${JSON.stringify(nonce)}: 8-64 of [A-Za-z0-9_]`);
  return `LC_ALL=C; export LC_ALL
PATH="\${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
kf__nonce='${nonce}'
kf__fam=-
kf__nl='
'
# kf_h KEY: the header line of a section
kf_h() { printf '%s %s %s\\n' "$kf__nonce" "$kf__fam" "$1"; }
# kf_val KEY VALUE: a section holding VALUE
kf_val() { kf_h "$1"; printf '%s\\n' "$2"; }
# kf_denied KEY PATH: PATH exists but this user cannot read it
kf_denied() { if [ -e "$2" ] || [ -L "$2" ]; then kf_val "$1#denied" "$2"; fi; return 1; }
# kf_cat KEY PATH: a readable file's content
kf_cat() {
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_h "$1"; cat "$2" </dev/null; echo
}
# kf_line KEY PATH: a one-line file's line (the shell's own read: no process started; /proc, ids)
kf_line() {
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_l=; IFS= read -r kf_l <"$2" || [ -n "$kf_l" ] || return 1
  kf_val "$1" "$kf_l"
}
# kf_slurp MAX: kf_b=its stdin, read by the shell itself (no process), whole lines while kf_b holds
# at most MAX bytes; returns 1 when there is more (stdin then stands after kf_b's last line). The
# shell reads one byte per read(2): for small files only. (NUL bytes are dropped: text has none.)
kf_slurp() {
  kf_b=; kf__l=
  while IFS= read -r kf__l; do
    kf_b=$kf_b$kf__l$kf__nl; kf__l=
    [ \${#kf_b} -le "$1" ] || return 1
  done
  kf_b=$kf_b$kf__l
}
# kf_text KEY PATH [LIMIT [BUDGET]]: a text file's content, exactly what cat (head -c LIMIT) prints:
# read by the shell itself when it is under BUDGET (default 4 KiB) bytes (no process; kf_read=1,
# the text in kf_b), else the rest by cat (head; kf_read empty)
kf_text() {
  kf_read=
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_h "$1"
  {
    if kf_slurp "\${4:-4096}"; then
      if [ -z "\${3-}" ] || [ \${#kf_b} -le "$3" ]; then kf_read=1; printf %s "$kf_b"; else head -c "$3" "$2"; fi
    elif [ -z "\${3-}" ]; then printf %s "$kf_b"; cat
    elif [ \${#kf_b} -le "$3" ]; then printf %s "$kf_b"; head -c $(($3 - \${#kf_b}))
    else head -c "$3" "$2"
    fi
  } <"$2"
  echo
}
# kf_grab KEY PATH [LIMIT]: a text file's content as cat (head -c LIMIT) prints it, less its trailing
# newlines and NUL bytes ($(...) drops them: for files read line by line), read whole by that one
# process into kf_b (kf_read=1): for files of a kilobyte and more (grubenv, /etc/default/grub, dkms's
# framework.conf), where the shell's read of one byte per read(2) costs more than a process
# (several times more on overlayfs: containers, image roots)
kf_grab() {
  kf_read=
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  if [ -n "\${3-}" ]; then kf_b=$(head -c "$3" "$2" </dev/null); else kf_b=$(cat "$2" </dev/null); fi
  kf_read=1
  kf_h "$1"; printf '%s\n' "$kf_b"
}
# kf_proc KEY PATH CMD ARGS...: a one-line /proc file as if CMD had printed it (KEY#rc 0), else CMD's output
kf_proc() {
  kf_q=$1; kf_pf=$2; shift 2
  if kf_line "$kf_q" "$kf_pf"; then kf_val "$kf_q#rc" 0; else kf_run "$kf_q" "$@"; fi
}
# kf_tv PATH: kf_t=d, f, o (other), or ld, lf, l- for a symlink to a directory, to a file, dangling
# (a variable, not output: a command substitution would start a process)
kf_tv() {
  if [ -L "$1" ]; then
    if [ -d "$1" ]; then kf_t=ld; elif [ -e "$1" ]; then kf_t=lf; else kf_t=l-; fi
  elif [ -d "$1" ]; then kf_t=d
  elif [ -f "$1" ]; then kf_t=f
  elif [ -e "$1" ]; then kf_t=o
  else return 1
  fi
}
# kf_type PATH: PATH's type (see kf_tv), printed
kf_type() { kf_tv "$1" && printf %s "$kf_t"; }
# kf_exists KEY PATH: PATH's type (see kf_tv), if it exists
kf_exists() { kf_tv "$2" && kf_val "$1" "$kf_t"; }
# kf_ls KEY DIR: one line per entry, "<type> <name>" (dot files and names with newlines skipped)
kf_ls() {
  [ -d "$2" ] || return 1
  [ -r "$2" ] && [ -x "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_h "$1"
  for kf_e in "$2"/*; do
    case $kf_e in *"$kf__nl"*) continue ;; esac
    kf_type "$kf_e" && printf ' %s\\n' "\${kf_e##*/}"
  done
  echo
}
# kf_link KEY PATH: a symlink's target (needs readlink, which busybox and coreutils have)
kf_link() { [ -L "$2" ] && kf_t=$(readlink "$2") && kf_val "$1" "$kf_t"; }
# kf_hex KEY PATH: a binary file (an EFI variable) as hex bytes
kf_hex() {
  [ -f "$2" ] || return 1
  [ -r "$2" ] || { kf_denied "$1" "$2"; return 1; }
  kf_h "$1"; od -An -v -tx1 "$2" </dev/null; echo
}
# kf__dirs: where kf_find looks, in order: PATH, then the sbin directories a non-root PATH may lack;
# absolute directories only, each once (a command not found is looked for in each of them)
kf__dirs=; kf_ifs=$IFS; IFS=:
for kf_d in $PATH /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  case $kf_d in /*) ;; *) continue ;; esac
  case :$kf__dirs: in *:"$kf_d":*) continue ;; esac
  kf__dirs=$kf__dirs\${kf__dirs:+:}$kf_d
done
IFS=$kf_ifs
# kf_find NAME: kf_p=the path of a command, the first in kf__dirs
# (no command substitution: on a small VM a fork costs more than the whole lookup)
kf_find() {
  kf_p=; kf_ifs=$IFS; IFS=:
  for kf_d in $kf__dirs; do
    if [ -f "$kf_d/$1" ] && [ -x "$kf_d/$1" ]; then kf_p=$kf_d/$1; IFS=$kf_ifs; return 0; fi
  done
  IFS=$kf_ifs; return 1
}
# kf_which NAME: the path of a command, printed
kf_which() { kf_find "$1" && printf '%s\\n' "$kf_p"; }
# kf_tool KEY NAME: the path of a command, if present
kf_tool() { kf_find "$2" && kf_val "$1" "$kf_p"; }
# kf_run KEY CMD ARGS...: the command's stdout (stderr dropped), then KEY#rc its exit status
kf_run() {
  kf_k=$1; shift
  kf_find "$1" || return 127; kf_c=$kf_p
  shift
  kf_h "$kf_k"; "$kf_c" "$@" </dev/null; kf_r=$?; echo
  kf_val "$kf_k#rc" "$kf_r"
  return $kf_r
}
# kf_capture CMD ARGS...: kf_o=the command's stdout (no stdin, stderr dropped, trailing newlines
# removed as by $(...)), its exit status returned (127: not found); for output the shell cuts up
kf_capture() {
  kf_o=
  kf_find "$1" || return 127
  shift
  kf_o=$("$kf_p" "$@" </dev/null 2>/dev/null)
}
# kf_run_err KEY CMD ARGS...: as kf_run, and KEY#stderr its standard error when it printed any
# (held in a variable: fd 3 carries stdout past the command substitution, no temp file)
kf_run_err() {
  kf_k=$1; shift
  kf_find "$1" || return 127; kf_c=$kf_p
  shift
  kf_h "$kf_k"
  { kf_e=$("$kf_c" "$@" </dev/null 2>&1 >&3 3>&-); kf_r=$?; } 3>&1
  echo
  kf_val "$kf_k#rc" "$kf_r"
  [ -z "$kf_e" ] || kf_val "$kf_k#stderr" "$kf_e"
  return $kf_r
}
`;
}

/**
 * Can a fragment run in the script's own shell (a `{ …; }` group: no fork) and still lose only its
 * own keys when it fails? Only if it can neither end the shell nor change what later families see.
 * Conservative: any of these words or forms sends it to a subshell:
 *  - exit, exec, shift, trap, set with an option (set -- is fine), readonly, unset, export, eval,
 *    `.`, source, alias, umask, ulimit, cd (but `cd /`): they end a non-interactive shell on an
 *    error, or change its state for good;
 *  - return outside the fragment's own function definitions;
 *  - `\${x?…}` (an expansion error ends the shell), arithmetic other than `$((kf_x ± …))` counters;
 *  - a bare `IFS=…` assignment (one that prefixes a command, `IFS= read`, is fine);
 *  - a definition of one of the prelude's functions.
 * Whole-line comments are not looked at.
 */
export function inPlace(script: string): boolean {
  const code = script
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  // a command word: after a line start, ;, &, |, (, { or `, and ends at a blank, ; or & (a `case`
  // pattern such as `build|source)` is no command)
  const word = (w: string) => new RegExp(`(^|[\\s;&|({\`])(${w})(?=$|[\\s;&])`, 'm');
  const forbidden = [
    word('exit|exec|shift|trap|readonly|unset|export|eval|source|alias|umask|ulimit|local|typeset|declare'),
    word('\\.'),
    /(^|[\s;&|({`])set\s+[-+](?!-($|[\s;&|)]))/m,
    /(^|[\s;&|({`])cd(?!\s+\/(\s|$|;|&|\|))(\s|$)/m,
    /\$\{[A-Za-z_][A-Za-z0-9_]*:?\?/,
    /(^\s*|[;&|]\s*|\b(then|do|else)\s+)IFS=\S*\s*($|;|&&|\|\||\}|\))/m,
  ];
  if (forbidden.some((re) => re.test(code))) return false;
  for (const m of code.matchAll(/\$\(\(([^)]*)\)\)/g))
    if (!/^\s*kf_[a-z0-9_]+(\s*[+-]\s*(\d+|\$\{#kf_[a-z0-9_]+\}))+\s*$/.test(m[1] as string)) return false;
  // Function definitions: a prelude function redefined would change it for later families; return
  // is fine inside a definition (one line, or to a `}` alone at the start of a line).
  const defined = [...code.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)/gm)].map((m) => m[1] as string);
  if (defined.some((name) => PRELUDE_FUNCTIONS.has(name))) return false;
  const outside = code
    .replace(/^\s*[A-Za-z_][A-Za-z0-9_]*\s*\(\)\s*\{.*\}\s*$/gm, '')
    .replace(/^\s*[A-Za-z_][A-Za-z0-9_]*\s*\(\)\s*\{\s*$[\s\S]*?^\}\s*$/gm, '');
  return !word('return').test(outside);
}

/** The names of the prelude's functions. */
const PRELUDE_FUNCTIONS = new Set(
  [...prelude('kfPRELUDENAMES').matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\(\)/gm)].map((m) => m[1] as string),
);

/**
 * One family's fragment, isolated: no stdin (it would eat the script), no stderr; in the script's
 * own shell when inPlace allows, else in a subshell of its own.
 */
export function familyBlock(name: string, script: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`bad family name ${name}`);
  const key = `${name}\0${script}`;
  const known = blocks.get(key);
  if (known !== undefined) return known;
  const [open, close] = inPlace(script) ? ['{', '}'] : ['(', ')'];
  const block = `kf__fam=${name}
${open}
${script.trim()}
${close} </dev/null 2>/dev/null\n`;
  blocks.set(key, block);
  return block;
}

/** Each family's block, made once per process: a fleet gathers every host with the same ones. */
const blocks = new Map<string, string>();

/** What the facts script is told besides its nonce. */
export interface ScriptOptions {
  /** The host is a root filesystem directory. */
  image?: boolean;
  /** The boot id whose running config the controller keeps. */
  knownBoot?: string;
  /** The boot id, the tool (an absolute path) and the uid of the grub-probe answer the controller keeps. */
  keptProbe?: { bootId: string; tool: string; uid: string };
}

/** A uid as put into the script. */
export const UID = /^[0-9]{1,10}$/;

/** A tool's path as put into the script: absolute, of characters a shell word needs no quoting for. */
export const SAFE_TOOL_PATH = /^\/[A-Za-z0-9._+/-]{1,255}$/;

/** The whole script: prelude, every family, then the trailer that proves the output is complete. */
export function composeScript(
  nonce: string,
  families: readonly { name: string; script: string }[],
  opts: ScriptOptions = {},
): string {
  // kf_image: the host is a root filesystem directory (families skip what only a running kernel has).
  // kf_kboot: the boot id of the host's last gather whose running config the controller keeps;
  // kf_kpboot, kf_kprobe, kf_kpuid: the boot id, the tool and the uid of the grub-probe answer it
  // keeps. Only a boot id's form, an absolute path of safe characters and digits go into the script.
  const kboot = opts.knownBoot && BOOT_ID.test(opts.knownBoot) ? `kf_kboot='${opts.knownBoot}'\n` : '';
  const kp = opts.keptProbe;
  const kprobe =
    kp && BOOT_ID.test(kp.bootId) && SAFE_TOOL_PATH.test(kp.tool) && UID.test(kp.uid)
      ? `kf_kpboot='${kp.bootId}'\nkf_kprobe='${kp.tool}'\nkf_kpuid='${kp.uid}'\n`
      : '';
  return `${prelude(nonce)}${opts.image ? 'kf_image=1\n' : ''}${kboot}${kprobe}${familiesBody(families)}`;
}

/**
 * Every family's block and the trailer, joined once per list of families (a fleet's hosts get the
 * same list: the families' fragments are constants): a host's script is then its prelude, its
 * options and this one string.
 */
function familiesBody(families: readonly { name: string; script: string }[]): string {
  const known = bodies.get(families);
  // the same list with the same fragments (a list changed since is joined again)
  if (
    known &&
    known.parts.length === families.length &&
    known.parts.every((p, i) => p.name === families[i]?.name && p.script === families[i]?.script)
  )
    return known.body;
  const parts = families.map((f) => ({ name: f.name, script: f.script }));
  const body = `${parts.map((f) => familyBlock(f.name, f.script)).join('')}kf__fam=${END_FAMILY}\nkf_val end ok\n`;
  bodies.set(families, { parts, body });
  return body;
}

const bodies = new WeakMap<
  readonly { name: string; script: string }[],
  { parts: { name: string; script: string }[]; body: string }
>();

/**
 * Cut the script's output into family → key → content. Anything before the first header (a login
 * banner, a chatty .bashrc) is ignored. A section's content is the text between its header line
 * and the next header, minus the newline the script adds after every section.
 */
export function splitSections(output: string, nonce: string): Record<string, Sections> {
  const out: Record<string, Sections> = {};
  const prefix = `${nonce} `;
  // The output's final newline ends its last line; it is not part of the last section.
  const text = output.endsWith('\n') ? output.slice(0, -1) : output;
  // Header lines are found with indexOf, and contents cut out as they are: a host's output holds
  // a whole kernel config (thousands of lines) that splitting into lines would copy line by line.
  const marker = `\n${prefix}`;
  /** The header line starting at `at`, if it is one (`<nonce> <family> <key>`). */
  const headerAt = (at: number) => {
    if (!text.startsWith(prefix, at)) return null;
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    const rest = text.slice(at + prefix.length, end);
    const sp = rest.indexOf(' ');
    return sp > 0 ? { family: rest.slice(0, sp), key: rest.slice(sp + 1), end } : null;
  };
  /** The next header line after position `from` (which is inside a line). */
  const nextHeader = (from: number) => {
    for (let i = text.indexOf(marker, from); i >= 0; i = text.indexOf(marker, i + 1)) {
      const h = headerAt(i + 1);
      if (h) return { at: i + 1, ...h };
    }
    return null;
  };
  const first = headerAt(0);
  let h = first ? { at: 0, ...first } : nextHeader(0);
  while (h) {
    const next = nextHeader(h.end);
    // The content: from after the header's newline to before the next header's (none: empty).
    const content = h.end >= text.length ? '' : text.slice(h.end + 1, next ? next.at - 1 : text.length);
    const family = out[h.family] ?? {};
    family[h.key] = content;
    out[h.family] = family;
    h = next;
  }
  return out;
}

/** Did the script run to its end (the trailer is present)? */
export function isComplete(sections: Record<string, Sections>): boolean {
  return sections[END_FAMILY]?.end === 'ok';
}

/** The paths reported as unreadable (`<key>#denied`) across all families. */
export function deniedPaths(sections: Record<string, Sections>): string[] {
  const paths = new Set<string>();
  for (const family of Object.values(sections))
    for (const [key, value] of Object.entries(family)) if (key.endsWith('#denied')) paths.add(value.trim());
  return [...paths].sort();
}
