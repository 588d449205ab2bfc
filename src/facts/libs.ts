/**
 * Fact family `libs`: which shared libraries the host's dynamic loader can find, and its glibc
 * version. What a kernel's headers need to build a module there: their host tools (objtool,
 * modpost, fixdep, sign-file) are dynamically linked on the controller, and a host without, say,
 * libelf.so.1 cannot run objtool, so `dkms build` fails half-way through an apply.
 *
 * The library directories are listed rather than `ldconfig -p` read: the cache can name a file
 * that is gone (a removed package, an image edited without ldconfig), and the loader fails there.
 * A name counts when it resolves (`[ -e ]` follows links: a dangling one does not). Directories
 * come from a fixed list and /etc/ld.so.conf.d/*.conf (plain absolute paths only). One glob per
 * directory (`l*`, the names sorted out by `case`: each glob reads the directory again), no process
 * per file; with a merged /usr, /lib/X is not listed again beside /usr/lib/X.
 */
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, okOutput } from './sections.js';
import type { LibFacts } from './types.js';

const script = `
kf_run glibc getconf GNU_LIBC_VERSION
kf_dirs='/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib'
for kf_f in /etc/ld.so.conf.d/*.conf; do
  [ -f "$kf_f" ] && [ -r "$kf_f" ] || continue
  while read -r kf_l kf_rest || [ -n "$kf_l" ]; do
    case $kf_l in /*[!A-Za-z0-9/._+-]*) ;; /*) kf_dirs="$kf_dirs $kf_l" ;; esac
  done <"$kf_f"
done
kf_seen=' '
for kf_d in $kf_dirs; do
  case $kf_seen in *" $kf_d "*) continue ;; esac
  kf_seen="$kf_seen$kf_d "
  # merged /usr: /lib is a link to usr/lib, and /usr/lib/... is listed anyway
  case $kf_d in /lib | /lib/* | /lib64 | /lib64/*)
    kf_top=\${kf_d#/}; kf_top=/\${kf_top%%/*}
    if [ -L "$kf_top" ]; then case " $kf_dirs " in *" /usr$kf_d "*) continue ;; esac; fi ;;
  esac
  [ -d "$kf_d" ] || continue
  [ -r "$kf_d" ] && [ -x "$kf_d" ] || { kf_denied "dir:$kf_d" "$kf_d"; continue; }
  kf_h "dir:$kf_d"
  for kf_e in "$kf_d"/l*; do
    case \${kf_e#"$kf_d"/} in
      *"$kf__nl"*) ;;
      lib*.so.*|ld-*.so.*|libc-*.so) [ -e "$kf_e" ] && printf '%s\\n' "\${kf_e##*/}" ;;
    esac
  done
  echo
done
`;

const GLIBC = /^\d+\.\d+(?:\.\d+)?$/;

function parse(s: Sections): LibFacts | null {
  const dirs = Object.keys(s)
    .filter((k) => k.startsWith('dir:') && !/#(rc|stderr|denied)$/.test(k))
    .map((k) => k.slice(4));
  if (dirs.length === 0) return null;
  const names = new Set<string>();
  for (const d of dirs)
    for (const line of (s[`dir:${d}`] ?? '').split('\n'))
      if (/^[A-Za-z0-9._+-]+$/.test(line)) names.add(line);
  // `getconf GNU_LIBC_VERSION`: "glibc 2.36"; else glibc before 2.34 names its file libc-2.31.so.
  const fromGetconf = firstLine(okOutput(s, 'glibc'))?.match(/^glibc (\S+)$/)?.[1];
  const fromFile = [...names]
    .map((n) => n.match(/^libc-(\d+\.\d+(?:\.\d+)?)\.so$/)?.[1])
    .find((v) => v !== undefined);
  const glibc = fromGetconf && GLIBC.test(fromGetconf) ? fromGetconf : (fromFile ?? null);
  return {
    dirs: dirs.sort(),
    sonames: [...names].filter((n) => !/^libc-.*\.so$/.test(n)).sort(),
    glibc,
  };
}

export const libs: FactFamily<LibFacts | null> = { name: 'libs', script, parse };
