/**
 * Fact family `config`: the running kernel's configuration, from /proc/config.gz (decompressed to
 * stdout: never to a file) or else /boot/config-$(uname -r). An image (\`kf_image\` set) runs no
 * kernel: its config is that of the newest kernel kernelfile installed in it (the newest receipt),
 * /boot/config-REL, so the plan compares the kernelfile with the image's installed build.
 */
import { parseConfig } from '../kconfig/config.js';
import { STATE_DIR } from '../receipt/paths.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, okOutput } from './sections.js';
import type { RunningConfig } from './types.js';

const script = `
if [ -n "\${kf_image-}" ]; then
  kf_f=$(ls -t ${STATE_DIR}/*.json 2>/dev/null | head -n 1)
  if [ -n "$kf_f" ]; then
    kf_f=\${kf_f##*/}; kf_f=\${kf_f%.json}
    kf_val image-release "$kf_f"
    kf_cat boot "/boot/config-$kf_f"
  fi
  exit 0
fi
kf_run release uname -r
kf_c_ok=
if [ -r /proc/config.gz ]; then
  if kf_run proc gzip -dc /proc/config.gz || kf_run proc zcat /proc/config.gz; then kf_c_ok=1; fi
elif [ -e /proc/config.gz ]; then
  kf_denied proc /proc/config.gz
fi
if [ -z "$kf_c_ok" ] && kf_r=$(uname -r); then kf_cat boot "/boot/config-$kf_r"; fi
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
  const out: Record<string, string> = {};
  for (const e of parseConfig(text).entries) out[e.symbol] = e.value;
  if (parsed.size < 64) parsed.set(text, Object.freeze(out));
  return out;
}

function parse(s: Sections): RunningConfig {
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

export const config: FactFamily<RunningConfig> = { name: 'config', script, parse };
