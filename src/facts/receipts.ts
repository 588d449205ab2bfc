/**
 * Fact family `receipts`: what kernelfile installed on this host, /var/lib/kernelfile/<release>.json
 * (written by apply), checked against its sidecar <release>.sha256 (`sha256sum` format: the files
 * that must not change), and the journals of applies still under way, pending/<release>.json.
 * Both are decoded by src/receipt (typed, validated); one that cannot be read or is refused is
 * reported by name with the reason, never fatal.
 *
 * Drift: `sha256sum -c SIDECAR` without --quiet (busybox has none), run from / so a relative path
 * cannot resolve against the login directory. A listed file drifted unless sha256sum printed
 * `PATH: OK` for it: GNU prints `PATH: FAILED` or `PATH: FAILED open or read` (missing or
 * unreadable), busybox `PATH: FAILED` for both; either exits 1 then. Any other exit status (the
 * tool is broken, or refused its arguments) means "not checked": null.
 *
 * Unless nothing changed: apply keeps <release>.stat, the listed files as `stat` saw them when it
 * wrote the receipt (size, mtime, ctime, inode). When `stat` still prints exactly that (compared on
 * the host with cmp), no file was written, replaced or touched since (a write changes the ctime,
 * which only the kernel sets), and the files are not hashed again: `same:<sidecar>`, no drift. A
 * distribution kernel's sidecar lists thousands of modules, hundreds of MB to hash on every gather.
 */
import { type Decoded, decodeJournal, decodeReceipt, decodeTrial } from '../receipt/decode.js';
import { PENDING_DIR, STAT_FILES_SH, STAT_FORMAT, STATE_DIR, TRIALS_DIR } from '../receipt/paths.js';
import type { FactFamily, Sections } from './protocol.js';
import { exitCode, keysWithPrefix, parseListing } from './sections.js';
import type { JournalRecord, ReceiptFacts, ReceiptRecord, TrialRecord } from './types.js';

export const RECEIPT_DIR = STATE_DIR;
export { PENDING_DIR };

/*
 * Per sidecar: its text (so parse knows every listed path), the check, and a `#denied` mark for
 * each listed file this user cannot read (so an unreadable System.map shows as a rights problem in
 * HostFacts.unreadable, not only as drift). The `while read` takes a last line without newline too.
 *
 * The stat record: does `STAT_FILES_SH | cmp -s - RECORD` hold? For sidecars the shell has read
 * (under 8 KiB: kf_read), the names are cut out as `cut -c67-` does (66 characters of sum and
 * separator) and stat runs once for the names of all of them; when it prints one line per name
 * (every file there), each sidecar's lines are compared with its record by the shell, byte for byte
 * (a longer record is not read to its end); else each such sidecar gets a stat of its own. A larger
 * sidecar is checked with STAT_FILES_SH itself. A sidecar whose name holds a newline is skipped.
 *   kf_names: kf_o=the names in kf_b (a sidecar's text), one a line; kf_n how many.
 *   kf_stats NAMES: kf_o=stat's lines for NAMES (one a line), each ending in a newline.
 *   kf_lines TEXT: kf_k=how many lines TEXT holds (each ending in a newline).
 *   kf_same RECORD TEXT: RECORD holds exactly TEXT.
 */
const Q66 = '?'.repeat(66);
const script = `
# from /: a relative path in a sidecar is relative to / (nothing here when / cannot be entered)
cd / && {
kf_ls dir ${RECEIPT_DIR}
for kf_x in ${RECEIPT_DIR}/*.json; do kf_text "file:\${kf_x##*/}" "$kf_x"; done
kf_names() {
  kf_o=; kf_n=0; kf_nr=$kf_b
  while [ -n "$kf_nr" ]; do
    kf_l=\${kf_nr%%"$kf__nl"*}; kf_nr=\${kf_nr#"$kf_l"}; kf_nr=\${kf_nr#"$kf__nl"}
    if [ \${#kf_l} -gt 66 ]; then kf_o=$kf_o\${kf_l#${Q66}}$kf__nl; else kf_o=$kf_o$kf__nl; fi
    kf_n=$((kf_n + 1))
  done
}
kf_stats() {
  kf_sr=$1; set --
  while [ -n "$kf_sr" ]; do set -- "$@" "\${kf_sr%%"$kf__nl"*}"; kf_sr=\${kf_sr#*"$kf__nl"}; done
  kf_o=
  [ $# -eq 0 ] || kf_capture stat -c '${STAT_FORMAT}' -- "$@"
  [ -z "$kf_o" ] || kf_o=$kf_o$kf__nl
}
kf_lines() {
  kf_k=0; kf_lr=$1
  while [ -n "$kf_lr" ]; do kf_lr=\${kf_lr#*"$kf__nl"}; kf_k=$((kf_k + 1)); done
}
kf_same() { kf_slurp "\${#2}" <"$1" && [ "$kf_b" = "$2" ]; }
kf_check=; kf_stat=; kf_all=; kf_counts=
for kf_x in ${RECEIPT_DIR}/*.sha256; do
  case $kf_x in *"$kf__nl"*) continue ;; esac
  kf_text "sidecar:\${kf_x##*/}" "$kf_x" '' 8192 || continue
  kf_s=\${kf_x%.sha256}.stat
  if [ ! -f "$kf_s" ] || [ ! -r "$kf_s" ]; then
    kf_check=$kf_check$kf_x$kf__nl
  elif [ -z "$kf_read" ]; then
    set -- "$kf_x"
    if ${STAT_FILES_SH} | cmp -s - "$kf_s"; then kf_val "same:\${kf_x##*/}" 1; else kf_check=$kf_check$kf_x$kf__nl; fi
  else
    kf_names; kf_all=$kf_all$kf_o; kf_stat=$kf_stat$kf_x$kf__nl; kf_counts="$kf_counts $kf_n"
  fi
done
if [ -n "$kf_stat" ]; then
  kf_stats "$kf_all"; kf_out=$kf_o
  kf_lines "$kf_out"; kf_k1=$kf_k
  kf_lines "$kf_all"
  kf_pr=$kf_stat
  for kf_n in $kf_counts; do
    kf_x=\${kf_pr%%"$kf__nl"*}; kf_pr=\${kf_pr#*"$kf__nl"}
    if [ "$kf_k1" -eq "$kf_k" ]; then
      kf_t=
      while [ "$kf_n" -gt 0 ]; do kf_t=$kf_t\${kf_out%%"$kf__nl"*}$kf__nl; kf_out=\${kf_out#*"$kf__nl"}; kf_n=$((kf_n - 1)); done
    elif kf_slurp 8192 <"$kf_x"; then
      kf_names; kf_stats "$kf_o"; kf_t=$kf_o
    else
      kf_check=$kf_check$kf_x$kf__nl; continue
    fi
    if kf_same "\${kf_x%.sha256}.stat" "$kf_t"; then kf_val "same:\${kf_x##*/}" 1; else kf_check=$kf_check$kf_x$kf__nl; fi
  done
fi
kf_pr=$kf_check
while [ -n "$kf_pr" ]; do
  kf_x=\${kf_pr%%"$kf__nl"*}; kf_pr=\${kf_pr#*"$kf__nl"}
  kf_run "check:\${kf_x##*/}" sha256sum -c "$kf_x"
  while IFS= read -r kf_l || [ -n "$kf_l" ]; do
    kf_p=\${kf_l#* }; kf_p=\${kf_p#[ *]}
    [ -z "$kf_p" ] || [ -r "$kf_p" ] || kf_denied "unreadable:$kf_p" "$kf_p"
  done <"$kf_x"
done
kf_ls pending-dir ${PENDING_DIR}
for kf_x in ${PENDING_DIR}/*.json; do kf_text "pending:\${kf_x##*/}" "$kf_x"; done
kf_ls trials-dir ${TRIALS_DIR}
for kf_x in ${TRIALS_DIR}/*.json; do kf_text "trial:\${kf_x##*/}" "$kf_x"; done
}
`;

/** GNU sha256sum writes a name holding `\` or a newline escaped, the line starting with `\`. */
function unescapeName(name: string): string {
  return name.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** The paths a sidecar lists, in order, once each; relative ones as seen from / (where the check runs). */
export function sidecarPaths(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = line.match(/^(\\?)[0-9a-fA-F]{64} [ *](.+)$/);
    if (!m) continue;
    const path = m[1] ? unescapeName(m[2] as string) : (m[2] as string);
    out.add(path.startsWith('/') ? path : `/${path}`);
  }
  return [...out];
}

/**
 * The listed files `sha256sum -c` did not report OK; null when it did not run (no sha256sum) or
 * ended in a way that says nothing about the files (exit status other than 0 or 1).
 */
export function parseDrift(
  sidecar: string | undefined,
  check: string | undefined,
  rc: number | null,
): string[] | null {
  if (sidecar === undefined || check === undefined || (rc !== 0 && rc !== 1)) return null;
  const ok = new Set<string>();
  for (const raw of check.split('\n')) {
    if (!raw.endsWith(': OK')) continue;
    const name = raw.startsWith('\\') ? unescapeName(raw.slice(1, -4)) : raw.slice(0, -4);
    ok.add(name.startsWith('/') ? name : `/${name}`);
  }
  return sidecarPaths(sidecar).filter((p) => !ok.has(p));
}

function byFile(a: { file: string }, b: { file: string }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** The JSON files of one directory: decoded, or an error each (refused, unreadable, not a file). */
function readJsonFiles<T>(
  s: Sections,
  dir: string,
  listingKey: string,
  prefix: string,
  decode: (text: string, fileName: string) => Decoded<T>,
  errors: ReceiptFacts['errors'],
): { file: string; release: string; data: T }[] {
  const out: { file: string; release: string; data: T }[] = [];
  const read = new Set(keysWithPrefix(s, prefix));
  for (const name of [...read].sort()) {
    const file = `${dir}/${name}`;
    const d = decode(s[`${prefix}${name}`] ?? '', name);
    if (d.ok) out.push({ file, release: name.replace(/\.json$/, ''), data: d.value });
    else errors.push({ file, error: d.error });
  }
  for (const e of parseListing(s[listingKey]) ?? [])
    if (e.name.endsWith('.json') && !read.has(e.name))
      errors.push({
        file: `${dir}/${e.name}`,
        error: e.type === 'file' ? 'not readable by the gathering user' : `not a regular file (${e.type})`,
      });
  return out;
}

function parse(s: Sections): ReceiptFacts {
  const errors: ReceiptFacts['errors'] = [];
  const receipts: ReceiptRecord[] = readJsonFiles(s, RECEIPT_DIR, 'dir', 'file:', decodeReceipt, errors).map(
    ({ file, release, data }) => {
      const sidecar = `${release}.sha256`;
      // Every listed file as stat saw it when the receipt was written: none changed since.
      const same = s[`same:${sidecar}`] === '1' && s[`sidecar:${sidecar}`] !== undefined;
      const drift = same
        ? []
        : parseDrift(s[`sidecar:${sidecar}`], s[`check:${sidecar}`], exitCode(s, `check:${sidecar}`));
      return { file, release, data, drift };
    },
  );
  const pending: JournalRecord[] = readJsonFiles(
    s,
    PENDING_DIR,
    'pending-dir',
    'pending:',
    decodeJournal,
    errors,
  ).map(({ file, release, data }) => ({ file, release, data, drift: null }));
  const trials: TrialRecord[] = readJsonFiles(s, TRIALS_DIR, 'trials-dir', 'trial:', decodeTrial, errors);
  errors.sort(byFile);
  return { receipts, pending, trials, errors };
}

export const receipts: FactFamily<ReceiptFacts> = { name: 'receipts', script, parse };
