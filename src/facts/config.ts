/**
 * Fact family `config`: the running kernel's configuration, from /proc/config.gz (decompressed to
 * stdout: never to a file) or else /boot/config-$(uname -r). An image (\`kf_image\` set) runs no
 * kernel: its config is that of the newest kernel kernelfile installed in it (the newest receipt),
 * /boot/config-REL, so the plan compares the kernelfile with the image's installed build.
 *
 * And the configs of the builds kernelfile installed last: /boot/config-REL for the releases of
 * the INSTALLED_CONFIGS newest receipts in /var/lib/kernelfile (by modification time: apply writes
 * a receipt last), each at most INSTALLED_CONFIG_MAX_BYTES. A plan compares the new configuration
 * with its kernelfile's installed build rather than with whatever kernel the host runs. The file
 * the running config was read from is not sent twice (`same:REL`), nor one equal to
 * /proc/config.gz (compared on the host with cmp, when it has one).
 *
 * Nor is /proc/config.gz sent again in the boot it was last read in: given that boot id (kf_kboot),
 * a host still in it answers `proc-kept`, and gather fills in the text the controller kept
 * (src/engine/kept-per-boot.ts).
 */
import { configValues } from '../kconfig/config.js';
import { STATE_DIR } from '../receipt/paths.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, okOutput } from './sections.js';
import type { InstalledConfig, RunningConfig } from './types.js';

/** How many of the newest receipts have their config read (the two kf_newest finds). */
export const INSTALLED_CONFIGS = 2;
/** The largest installed config read (a distribution's full config is about 300 KB). */
export const INSTALLED_CONFIG_MAX_BYTES = 8 * 1024 * 1024;

const script = `
# kf_newest: kf_r1 and kf_r2, the two newest receipts, as \`ls -t … | head -n 2\` names them: found
# by the shell's test -nt (no process), by ls when that cannot tell (the same time at the shell's
# resolution, a symlink or other than a regular file, a name with a newline)
kf_newest() {
  kf_r1=; kf_r2=; kf_o=
  set -- ${STATE_DIR}/*.json
  [ -e "$1" ] || return 0
  for kf_f in "$@"; do
    case $kf_f in *"$kf__nl"*) kf_o=ls; break ;; esac
    if [ -L "$kf_f" ] || [ ! -f "$kf_f" ]; then kf_o=ls; break
    elif [ -z "$kf_r1" ]; then kf_r1=$kf_f
    elif [ "$kf_f" -nt "$kf_r1" ]; then kf_r2=$kf_r1; kf_r1=$kf_f
    elif [ ! "$kf_r1" -nt "$kf_f" ]; then kf_o=ls; break
    elif [ -z "$kf_r2" ] || [ "$kf_f" -nt "$kf_r2" ]; then kf_r2=$kf_f
    elif [ ! "$kf_r2" -nt "$kf_f" ]; then kf_o=ls; break
    fi
  done
  [ -n "$kf_o" ] || return 0
  kf_capture ls -t "$@"
  kf_r1=\${kf_o%%"$kf__nl"*}; kf_r2=
  case $kf_o in *"$kf__nl"*) kf_o=\${kf_o#*"$kf__nl"}; kf_r2=\${kf_o%%"$kf__nl"*} ;; esac
}
kf_newest
kf_from=
if [ -n "\${kf_image-}" ]; then
  if [ -n "$kf_r1" ]; then
    kf_f=\${kf_r1##*/}; kf_f=\${kf_f%.json}
    kf_val image-release "$kf_f"
    kf_cat boot "/boot/config-$kf_f" && kf_from=boot:$kf_f
  fi
else
  kf_proc release /proc/sys/kernel/osrelease uname -r
  kf_crel=; IFS= read -r kf_crel </proc/sys/kernel/osrelease || kf_crel=$(uname -r)
  kf_c_ok=
  kf_b=; [ -n "\${kf_kboot-}" ] && IFS= read -r kf_b </proc/sys/kernel/random/boot_id
  if [ -n "$kf_b" ] && [ "$kf_b" = "$kf_kboot" ] && [ -r /proc/config.gz ]; then
    kf_val proc-kept "$kf_b"; kf_c_ok=1; kf_from=proc:$kf_crel
  elif [ -r /proc/config.gz ]; then
    if kf_run proc gzip -dc /proc/config.gz || kf_run proc zcat /proc/config.gz; then
      kf_c_ok=1; kf_from=proc:$kf_crel
    fi
  elif [ -e /proc/config.gz ]; then
    kf_denied proc /proc/config.gz
  fi
  if [ -z "$kf_c_ok" ] && [ -n "$kf_crel" ]; then
    kf_cat boot "/boot/config-$kf_crel" && kf_from=boot:$kf_crel
  fi
fi
for kf_f in "$kf_r1" "$kf_r2"; do
  [ -n "$kf_f" ] || continue
  kf_f=\${kf_f##*/}; kf_f=\${kf_f%.json}; kf_p=/boot/config-$kf_f
  if [ "$kf_from" = "boot:$kf_f" ]; then
    kf_val "same:$kf_f" running
  elif [ ! -f "$kf_p" ]; then
    kf_val "missing:$kf_f" "$kf_p"
  elif [ ! -r "$kf_p" ]; then
    kf_denied "installed:$kf_f" "$kf_p"
  elif [ "$kf_from" = "proc:$kf_f" ] && gzip -dc /proc/config.gz | cmp -s - "$kf_p"; then
    kf_val "same:$kf_f" running
  else
    kf_h "installed:$kf_f"; head -c ${INSTALLED_CONFIG_MAX_BYTES + 1} "$kf_p" </dev/null; echo
  fi
done
`;

/**
 * Parsed configs by text: the hosts of a fleet run a few kernels, so most share one parse and one
 * (frozen) options object, whose canonical JSON gather.ts then computes once (canonicalJson).
 */
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

const parsed = new Map<string, Readonly<Record<string, string>>>();

function options(text: string): Record<string, string> {
  const hit = parsed.get(text);
  if (hit) return hit as Record<string, string>;
  const out = configValues(text);
  if (parsed.size < 64) parsed.set(text, Object.freeze(out));
  return out;
}

function running(s: Sections): RunningConfig {
  if (s['image-release'] !== undefined) {
    const release = firstLine(s['image-release']);
    if (release !== null && RELEASE.test(release) && s.boot !== undefined)
      return { source: `/boot/config-${release}`, options: options(s.boot) };
    return { source: null, options: {} };
  }
  const proc = okOutput(s, 'proc');
  if (proc !== undefined) return { source: '/proc/config.gz', options: options(proc) };
  const release = firstLine(okOutput(s, 'release'));
  if (s.boot !== undefined && release !== null)
    return { source: `/boot/config-${release}`, options: options(s.boot) };
  return { source: null, options: {} };
}

/** The installed configs, in the order the script printed them (newest receipt first). */
function installed(s: Sections, run: RunningConfig): InstalledConfig[] {
  const out: InstalledConfig[] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(s)) {
    const m = /^(same|missing|installed):(.*?)(#denied)?$/.exec(key);
    if (!m) continue;
    const [, kind, release = '', denied] = m;
    if (!RELEASE.test(release) || seen.has(release)) continue;
    seen.add(release);
    const path = `/boot/config-${release}`;
    const failed = (error: string): InstalledConfig => ({ release, path, options: null, error });
    const text = s[key] ?? '';
    if (kind === 'missing') out.push(failed('missing'));
    else if (denied) out.push(failed('not readable by the gathering user'));
    else if (kind === 'same')
      out.push(
        run.source !== null
          ? { release, path, options: run.options, error: null }
          : failed('not read (the same file as the running config, which could not be parsed)'),
      );
    else if (Buffer.byteLength(text, 'utf8') > INSTALLED_CONFIG_MAX_BYTES)
      out.push(failed(`larger than ${INSTALLED_CONFIG_MAX_BYTES / 1024 / 1024} MiB: not read`));
    else out.push({ release, path, options: options(text), error: null });
  }
  return out;
}

function parse(s: Sections): RunningConfig {
  const run = running(s);
  return { ...run, installed: installed(s, run) };
}

export const config: FactFamily<RunningConfig> = { name: 'config', script, parse };
