/**
 * Fact family `initramfs`: which generator builds this host's initramfs, and the images in /boot.
 * With one generator installed, it is the one. With several, the distribution's convention decides
 * (Debian: initramfs-tools, Fedora/RHEL/SUSE: dracut, Arch: mkinitcpio), then which has its config.
 */
import { classifyBootFile } from './boot-files.js';
import type { FactFamily, Sections } from './protocol.js';
import { entryType, firstLine, parseListing } from './sections.js';
import { distroFamily, OS_RELEASE_SCRIPT, parseOsRelease } from './system.js';
import type { InitramfsFacts, InitramfsTool } from './types.js';

const TOOLS: { tool: InitramfsTool; command: string; config: string[]; distros: string[] }[] = [
  {
    tool: 'initramfs-tools',
    command: 'update-initramfs',
    config: ['/etc/initramfs-tools'],
    distros: ['debian', 'ubuntu'],
  },
  {
    tool: 'dracut',
    command: 'dracut',
    config: ['/etc/dracut.conf', '/etc/dracut.conf.d'],
    distros: ['fedora', 'rhel', 'centos', 'suse', 'opensuse', 'gentoo', 'void'],
  },
  {
    tool: 'mkinitcpio',
    command: 'mkinitcpio',
    config: ['/etc/mkinitcpio.conf', '/etc/mkinitcpio.d'],
    distros: ['arch'],
  },
];

const script = `
${TOOLS.map((t) => `kf_tool tool:${t.tool} ${t.command}`).join('\n')}
for kf_x in ${TOOLS.flatMap((t) => t.config).join(' ')}; do kf_exists "etc:$kf_x" "$kf_x"; done
${OS_RELEASE_SCRIPT}
kf_ls boot /boot
`;

function decide(s: Sections, available: InitramfsFacts['available']): InitramfsTool | null {
  if (available.length <= 1) return available[0]?.tool ?? null;
  const family = distroFamily(parseOsRelease(s['os-release']));
  const present = TOOLS.filter((t) => available.some((a) => a.tool === t.tool));
  for (const d of family) {
    const byDistro = present.find((t) => t.distros.includes(d));
    if (byDistro) return byDistro.tool;
  }
  const configured = present.find((t) => t.config.some((c) => entryType(s[`etc:${c}`]) !== null));
  return (configured ?? present[0])?.tool ?? null;
}

function parse(s: Sections): InitramfsFacts {
  const available = TOOLS.flatMap((t) => {
    const path = firstLine(s[`tool:${t.tool}`]);
    return path ? [{ tool: t.tool, path }] : [];
  });
  const images = (parseListing(s.boot) ?? [])
    .filter((e) => e.type === 'file' && classifyBootFile(e.name)?.kind === 'initramfs')
    .map((e) => `/boot/${e.name}`)
    .sort();
  return { tool: decide(s, available), available, images };
}

export const initramfs: FactFamily<InitramfsFacts> = { name: 'initramfs', script, parse };
