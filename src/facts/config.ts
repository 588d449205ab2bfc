/**
 * Fact family `config`: the running kernel's configuration, from /proc/config.gz (decompressed to
 * stdout: never to a file) or else /boot/config-$(uname -r).
 */
import { parseConfig } from '../kconfig/config.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, okOutput } from './sections.js';
import type { RunningConfig } from './types.js';

const script = `
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
  const proc = okOutput(s, 'proc');
  if (proc !== undefined) return { source: '/proc/config.gz', options: options(proc) };
  const release = firstLine(okOutput(s, 'release'));
  if (s.boot !== undefined && release !== null)
    return { source: `/boot/config-${release}`, options: options(s.boot) };
  return { source: null, options: {} };
}

export const config: FactFamily<RunningConfig> = { name: 'config', script, parse };
