/**
 * Fact family `dkms`: the dkms version and the modules it knows, from the tree dkms keeps (the
 * same information `dkms status` prints, without running dkms: it costs a quarter of a second and
 * writes a temp file on every call). `dkms status` runs only where the tree cannot be read, and
 * `dkms --version` only where the version is not found in the dkms script itself:
 *   /var/lib/dkms/N/V/source                 added
 *   /var/lib/dkms/N/V/KREL/ARCH/             built for KREL
 *   /var/lib/dkms/N/kernel-KREL-ARCH → V/KREL/ARCH   installed into KREL
 * and the sources dkms could add: /usr/src/<name>-<version>/dkms.conf, kept whole (up to 64 KiB)
 * for the planner to evaluate BUILD_EXCLUSIVE_*.
 */
import { parseStatus, sortEntries } from './dkms-status.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, keysWithPrefix, okOutput, parseListing } from './sections.js';
import { parseAssignments } from './shell-words.js';
import type { DkmsEntry, DkmsFacts, DkmsSource } from './types.js';

const script = `
kf_x=; kf_y=
if kf_find dkms; then kf_x=$kf_p; fi
if [ -n "$kf_x" ] && [ -r "$kf_x" ]; then
  kf_y=$(grep -m 1 -o -E '^[[:space:]]*echo \\$"dkms-[0-9][0-9A-Za-z.+~-]*"[[:space:]]*$' "$kf_x" </dev/null) || kf_y=
  kf_y=\${kf_y#*dkms-}; kf_y=\${kf_y%%\\"*}
fi
if [ -n "$kf_y" ]; then kf_val version "dkms-$kf_y"; kf_val "version#rc" 0; else kf_run version dkms --version; fi
if [ -d /var/lib/dkms ] && [ -r /var/lib/dkms ] && [ -x /var/lib/dkms ]; then :; else kf_run status dkms status; fi
# kf_links LINK...: each link's target (link/NAME/kernel-…), from one readlink where it takes
# several (GNU: one line each), else one per link (busybox, a target with a newline, a failure)
kf_links() {
  if [ $# -gt 1 ] && kf_capture readlink -- "$@"; then
    kf_rest=$kf_o$kf__nl; kf_ok=1
    for kf_l in "$@"; do case $kf_rest in *"$kf__nl"*) kf_rest=\${kf_rest#*"$kf__nl"} ;; *) kf_ok= ;; esac; done
    if [ -n "$kf_ok" ] && [ -z "$kf_rest" ]; then
      kf_rest=$kf_o$kf__nl
      for kf_l in "$@"; do
        kf_t=\${kf_rest%%"$kf__nl"*}; kf_rest=\${kf_rest#*"$kf__nl"}; kf_d=\${kf_l%/*}
        kf_val "link/\${kf_d##*/}/\${kf_l##*/}" "$kf_t"
      done
      return 0
    fi
  fi
  for kf_l in "$@"; do kf_d=\${kf_l%/*}; kf_link "link/\${kf_d##*/}/\${kf_l##*/}" "$kf_l"; done
}
kf_ls tree /var/lib/dkms
set --
for kf_m in /var/lib/dkms/*; do
  [ -d "$kf_m" ] && [ ! -L "$kf_m" ] || continue
  kf_n=\${kf_m##*/}
  kf_ls "tree/$kf_n" "$kf_m"
  for kf_l in "$kf_m"/kernel-*; do [ ! -L "$kf_l" ] || set -- "$@" "$kf_l"; done
  for kf_v in "$kf_m"/*; do
    [ -d "$kf_v" ] && [ ! -L "$kf_v" ] || continue
    case \${kf_v##*/} in kernel-*|original_module) continue ;; esac
    kf_ls "tree/$kf_n/\${kf_v##*/}" "$kf_v"
    for kf_k in "$kf_v"/*; do
      case \${kf_k##*/} in build|source|log) continue ;; esac
      [ -d "$kf_k" ] && kf_ls "tree/$kf_n/\${kf_v##*/}/\${kf_k##*/}" "$kf_k"
    done
  done
done
kf_links "$@"
for kf_c in /usr/src/*/dkms.conf; do
  kf_d=\${kf_c%/dkms.conf}
  kf_text "src/\${kf_d##*/}" "$kf_c"
done
`;

const dirs = (s: string | undefined) =>
  (parseListing(s) ?? []).filter((e) => e.type === 'dir' && !e.symlink).map((e) => e.name);

/** What the tree says, for hosts without the dkms command (or where it failed). */
function fromTree(s: Sections): DkmsEntry[] {
  const out: DkmsEntry[] = [];
  const entry = (
    name: string,
    version: string,
    kernel: string | null,
    arch: string | null,
    state: DkmsEntry['state'],
  ): DkmsEntry => ({ name, version, kernel, arch, state, rawState: null, note: null });
  for (const name of dirs(s.tree)) {
    const top = parseListing(s[`tree/${name}`]) ?? [];
    const links = new Map<string, string | null>();
    for (const e of top)
      if (e.symlink && e.name.startsWith('kernel-'))
        links.set(e.name, firstLine(s[`link/${name}/${e.name}`]));
    const versions = top.filter(
      (e) => e.type === 'dir' && !e.symlink && !/^(kernel-|original_module$)/.test(e.name),
    );
    for (const { name: version } of versions) {
      const inV = parseListing(s[`tree/${name}/${version}`]) ?? [];
      const hasSource = inV.some((e) => e.name === 'source' && e.type !== 'dangling');
      const kernels = inV.filter((e) => e.type === 'dir' && !/^(build|source|log)$/.test(e.name));
      let built = 0;
      for (const { name: kernel } of kernels) {
        for (const arch of dirs(s[`tree/${name}/${version}/${kernel}`])) {
          built++;
          const link = `kernel-${kernel}-${arch}`;
          const target = links.get(link);
          const installed =
            target === undefined
              ? false
              : target === null ||
                target.replace(/^.*\/var\/lib\/dkms\/[^/]+\//, '') === `${version}/${kernel}/${arch}`;
          out.push(entry(name, version, kernel, arch, installed ? 'installed' : 'built'));
        }
      }
      if (built === 0) out.push(entry(name, version, null, null, hasSource ? 'added' : 'broken'));
    }
  }
  return sortEntries(out);
}

/** The largest dkms.conf kept in DkmsSource.conf. */
export const DKMS_CONF_MAX_BYTES = 64 * 1024;

function sources(s: Sections): DkmsSource[] {
  return keysWithPrefix(s, 'src/')
    .sort()
    .map((dirName) => {
      const text = s[`src/${dirName}`] ?? '';
      const v = parseAssignments(text);
      const plain = (x: string | undefined) => (x && !/[$#`]/.test(x) ? x : null);
      const name = plain(v.PACKAGE_NAME);
      let version = plain(v.PACKAGE_VERSION);
      if (version === null && name !== null && dirName.startsWith(`${name}-`))
        version = dirName.slice(name.length + 1);
      const conf = Buffer.byteLength(text, 'utf8') <= DKMS_CONF_MAX_BYTES ? text : null;
      return { dir: `/usr/src/${dirName}`, name, version, conf };
    });
}

function parse(s: Sections): DkmsFacts {
  const versionText = firstLine(okOutput(s, 'version'));
  const status = okOutput(s, 'status');
  return {
    version: versionText?.match(/(\d+(?:\.\d+)+)/)?.[1] ?? null,
    from: status !== undefined ? 'status' : 'tree',
    modules: status !== undefined ? parseStatus(status) : fromTree(s),
    sources: sources(s),
  };
}

export const dkms: FactFamily<DkmsFacts> = { name: 'dkms', script, parse };
