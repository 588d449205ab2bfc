/**
 * Fact family `tools`: where each command kernelfile may run lives. `command -v` first, then the
 * sbin directories, since a non-root PATH often lacks /usr/sbin and /sbin (depmod, dkms, grubby).
 */
import type { FactFamily, Sections } from './protocol.js';
import { firstLine } from './sections.js';
import { TOOL_NAMES, type ToolFacts } from './types.js';

const script = `
for kf_x in ${TOOL_NAMES.join(' ')}; do kf_tool "$kf_x" "$kf_x"; done
`;

function parse(s: Sections): ToolFacts {
  const out = {} as ToolFacts;
  for (const name of TOOL_NAMES) out[name] = firstLine(s[name]);
  return out;
}

export const tools: FactFamily<ToolFacts> = { name: 'tools', script, parse };
