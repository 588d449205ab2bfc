/**
 * Fact family `boot`: the boot loader, its menu, the default entry and the one-time entry.
 *   GRUB          /boot/grub{,2}/grub.cfg, grubenv, /etc/default/grub (+ grub.d/*.cfg)
 *   BLS           {/boot,/efi,/boot/efi}/loader/entries/*.conf and loader/loader.conf
 *   EFI variables LoaderEntryDefault, LoaderEntryOneShot (systemd-boot), when readable
 *   grub-probe    `grub-probe --target=device /` (or grub2-probe): fails where grub-mkconfig would;
 *                 once per boot (its answer is kept on the controller: engine/kept-per-boot.ts)
 * Loader: GRUB reading BLS entries with grubby present (Fedora/RHEL) → 'grubby'; a loader.conf →
 * 'systemd-boot'; grub.cfg or grub-mkconfig/update-grub → 'grub'; BLS entries and bootctl → 'systemd-boot'.
 */
import {
  type BlsEntry,
  decodeEfiString,
  findByPattern,
  parseBlsEntry,
  parseKeyValues,
  sortBls,
} from './bls.js';
import { type GrubCfg, parseGrubCfg, parseGrubenv } from './grub-cfg.js';
import { buildMenu, effectiveDefault, expandEnv, findEntry, flatten, type MenuNode } from './grub-menu.js';
import type { FactFamily, Sections } from './protocol.js';
import { entryType, exitCode, firstLine, keysWithPrefix } from './sections.js';
import { parseAssignments } from './shell-words.js';
import type {
  BootEntry,
  BootFacts,
  BootLoader,
  BootTool,
  GrubFacts,
  GrubProbe,
  SystemdBootFacts,
} from './types.js';

const GRUB_CFGS = ['/boot/grub/grub.cfg', '/boot/grub2/grub.cfg'];
const GRUBENVS = ['/boot/grub/grubenv', '/boot/grub2/grubenv'];
const LOADER_DIRS = ['/boot', '/efi', '/boot/efi'];
const EFIVARS = '/sys/firmware/efi/efivars';
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
const TOOLS: BootTool[] = [
  'grubby',
  'bootctl',
  'grub-mkconfig',
  'grub2-mkconfig',
  'update-grub',
  'grub-reboot',
  'grub2-reboot',
  'grub-set-default',
  'grub2-set-default',
  'grub-editenv',
  'grub2-editenv',
  'grub-probe',
  'grub2-probe',
  'kernel-install',
];

const script = `
for kf_x in ${GRUB_CFGS.join(' ')}; do kf_cat "grub.cfg:$kf_x" "$kf_x"; done
for kf_x in ${GRUBENVS.join(' ')}; do kf_grab "grubenv:$kf_x" "$kf_x"; done
kf_grab default-grub:/etc/default/grub /etc/default/grub
for kf_x in /etc/default/grub.d/*.cfg; do kf_text "default-grub:$kf_x" "$kf_x"; done
for kf_d in ${LOADER_DIRS.join(' ')}; do
  kf_text "loader.conf:$kf_d/loader/loader.conf" "$kf_d/loader/loader.conf"
  kf_ls "entries:$kf_d/loader/entries" "$kf_d/loader/entries"
  for kf_x in "$kf_d"/loader/entries/*.conf; do kf_text "entry:$kf_x" "$kf_x"; done
done
for kf_x in ${TOOLS.join(' ')}; do kf_tool "tool:$kf_x" "$kf_x"; done
# kf_kprobe, kf_kpboot, kf_kpuid: the probe the controller keeps for this host, by that tool in that
# boot as that user (the root device does not change while a kernel runs; what grub-probe may open
# depends on the user): answered by probe-kept, not run again. kf_u: the uid the system family read.
kf_b=; [ -n "\${kf_kprobe-}" ] && IFS= read -r kf_b </proc/sys/kernel/random/boot_id
if [ -n "$kf_b" ] && [ "$kf_b" = "$kf_kpboot" ] && [ -n "\${kf_u-}" ] && [ "$kf_u" = "$kf_kpuid" ] &&
  { kf_find grub-probe || kf_find grub2-probe; } && [ "$kf_p" = "$kf_kprobe" ]; then
  kf_val probe-kept "$kf_b"
elif kf_which grub-probe >/dev/null; then kf_run_err probe grub-probe --target=device /
else kf_run_err probe grub2-probe --target=device /
fi
kf_exists efi /sys/firmware/efi
for kf_x in LoaderEntryDefault LoaderEntryOneShot; do kf_hex "efivar:$kf_x" "${EFIVARS}/$kf_x-${LOADER_GUID}"; done
`;

/** BLS entries from every loader directory; the same id seen twice (a bind mount, a symlink) counts once. */
function readBls(s: Sections): BootEntry[] {
  const byId = new Map<string, BlsEntry>();
  for (const file of keysWithPrefix(s, 'entry:')) {
    const e = parseBlsEntry(file, s[`entry:${file}`] ?? '');
    if (!byId.has(e.entry.id)) byId.set(e.entry.id, e);
  }
  return sortBls([...byId.values()]);
}

interface GrubRead {
  facts: GrubFacts | null;
  cfg: GrubCfg | null;
  /** grub.cfg / grubenv exist but could not be read. */
  cfgDenied: boolean;
  envDenied: boolean;
}

/** The `probe` key (kf_run_err): null when neither grub-probe nor grub2-probe ran. */
export function readProbe(s: Sections): GrubProbe | null {
  const rc = exitCode(s, 'probe');
  if (rc === null) return null;
  const device = firstLine(s.probe);
  if (rc === 0 && device !== null) return { ok: true, device, error: null };
  const error = firstLine(s['probe#stderr']) ?? (rc === 0 ? 'printed no device' : `exit status ${rc}`);
  return { ok: false, device: null, error };
}

function readGrub(s: Sections, tools: BootFacts['tools']): GrubRead {
  const cfgPath = GRUB_CFGS.find((p) => s[`grub.cfg:${p}`] !== undefined) ?? null;
  const cfg = cfgPath ? parseGrubCfg(s[`grub.cfg:${cfgPath}`] ?? '') : null;
  const envFile = GRUBENVS.find((p) => s[`grubenv:${p}`] !== undefined) ?? null;
  const env = envFile ? parseGrubenv(s[`grubenv:${envFile}`] ?? '') : {};
  const defaults = keysWithPrefix(s, 'default-grub:').sort((a, b) =>
    a === '/etc/default/grub' ? -1 : b === '/etc/default/grub' ? 1 : a < b ? -1 : 1,
  );
  const settings: Record<string, string> = {};
  for (const f of defaults) Object.assign(settings, parseAssignments(s[`default-grub:${f}`] ?? ''));
  const cfgDenied = cfgPath === null && GRUB_CFGS.some((p) => s[`grub.cfg:${p}#denied`] !== undefined);
  const envDenied = envFile === null && GRUBENVS.some((p) => s[`grubenv:${p}#denied`] !== undefined);
  const present =
    cfgPath !== null ||
    cfgDenied ||
    envFile !== null ||
    tools['grub-mkconfig'] !== null ||
    tools['grub2-mkconfig'] !== null ||
    tools['update-grub'] !== null;
  if (!present) return { facts: null, cfg: null, cfgDenied, envDenied };
  return {
    cfg,
    cfgDenied,
    envDenied,
    facts: {
      cfg: cfgPath,
      blscfg: cfg?.blscfg ?? false,
      cfgDefault: cfg?.default ?? null,
      env,
      envFile,
      settings,
      probe: readProbe(s),
    },
  };
}

function readSystemdBoot(s: Sections): SystemdBootFacts {
  const loaderConf = LOADER_DIRS.map((d) => `${d}/loader/loader.conf`).find(
    (p) => s[`loader.conf:${p}`] !== undefined,
  );
  const kv = parseKeyValues(loaderConf ? (s[`loader.conf:${loaderConf}`] ?? '') : '');
  const last = (k: string) => kv.get(k)?.at(-1) ?? null;
  return {
    loaderConf: loaderConf ?? null,
    default: last('default'),
    timeout: last('timeout'),
    efiDefault: decodeEfiString(s[`efivar:LoaderEntryDefault`]),
    efiOneShot: decodeEfiString(s[`efivar:LoaderEntryOneShot`]),
  };
}

function decideLoader(
  grub: GrubFacts | null,
  bls: BootEntry[],
  sd: SystemdBootFacts,
  tools: BootFacts['tools'],
) {
  let loader: BootLoader | null = null;
  if (grub && tools.grubby && (grub.blscfg || bls.length > 0)) loader = 'grubby';
  else if (sd.loaderConf) loader = 'systemd-boot';
  else if (grub) loader = 'grub';
  else if (bls.length > 0 && tools.bootctl) loader = 'systemd-boot';
  return loader;
}

/**
 * GRUB's default: what grub.cfg sets (grubenv's saved_entry expanded); without a readable grub.cfg,
 * GRUB_DEFAULT. null when it depends on a file that could not be read: unknown, not entry 0.
 */
function grubDefaultValue(grub: GrubFacts, read: GrubRead): string | null {
  if (read.cfg) {
    const raw = read.cfg.default ?? '0';
    return raw.includes('$') && read.envDenied ? null : expandEnv(raw, grub.env);
  }
  const setting = grub.settings.GRUB_DEFAULT ?? (read.cfgDenied ? null : '0');
  if (setting !== 'saved') return setting;
  return read.envDenied ? null : (grub.env.saved_entry ?? '0');
}

function parse(s: Sections): BootFacts {
  const tools = Object.fromEntries(TOOLS.map((t) => [t, firstLine(s[`tool:${t}`])])) as BootFacts['tools'];
  const read = readGrub(s, tools);
  const { facts: grub, cfg } = read;
  const bls = readBls(s);
  const sd = readSystemdBoot(s);
  const loader = decideLoader(grub, bls, sd, tools);
  const usesGrub = loader === 'grub' || loader === 'grubby' || (loader === null && cfg !== null);
  let menu: MenuNode[] = [];
  if (usesGrub) {
    // Without a readable grub.cfg, BLS entries are the best guess at the menu (Fedora/RHEL).
    const items = cfg ? cfg.items : bls.length > 0 ? [{ kind: 'blscfg' as const }] : [];
    menu = buildMenu(items, grub?.cfg ?? '', bls);
  }
  const entries = usesGrub ? flatten(menu) : bls;
  let def: string | null = null;
  let oneshot: string | null = null;
  if (usesGrub && grub) {
    const value = grubDefaultValue(grub, read);
    def = value === null ? null : (effectiveDefault(menu, value)?.id ?? null);
    const next = grub.env.next_entry;
    if (next) oneshot = findEntry(menu, next)?.id ?? next;
  } else if (loader === 'systemd-boot') {
    // systemd-boot tries LoaderEntryDefault, then loader.conf's pattern, then takes the first entry.
    // (`@saved` means LoaderEntryLastBooted, which is not gathered.)
    const find = (p: string | null) => (p && p !== '@saved' ? findByPattern(bls, p) : null);
    def = (find(sd.efiDefault) ?? find(sd.default) ?? bls[0])?.id ?? null;
    oneshot = sd.efiOneShot?.replace(/\.conf$/, '') ?? null;
  }
  return {
    loader,
    efi: entryType(s.efi) !== null,
    entries,
    default: def,
    oneshot,
    grub,
    systemdBoot: loader === 'systemd-boot' || sd.loaderConf ? sd : null,
    tools,
  };
}

export const boot: FactFamily<BootFacts> = { name: 'boot', script, parse };
