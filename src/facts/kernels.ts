/**
 * Fact family `kernels`: every installed release, from /boot file names and /lib/modules/REL
 * trees, one entry per release. Arch names its images after the package (vmlinuz-linux) and keeps
 * the package name in /lib/modules/REL/pkgbase: that file maps images to releases. The sizes of
 * the files in /boot come from one `stat -L -c '%s %n'` (coreutils and busybox alike).
 */
import { type BootFile, classifyBootFile, initramfsVariant } from './boot-files.js';
import type { FactFamily, Sections } from './protocol.js';
import { firstLine, keysWithPrefix, type ListEntry, parseListing } from './sections.js';
import type { BuildLink, InstalledKernel, KernelModulesDir } from './types.js';
import { compareVersions } from './version.js';

const script = `
kf_ls boot /boot
set --
for kf_x in /boot/*; do
  case $kf_x in *"$kf__nl"*) continue ;; esac
  [ -f "$kf_x" ] && set -- "$@" "$kf_x"
done
[ $# -eq 0 ] || kf_run sizes stat -L -c '%s %n' -- "$@"
kf_ls modules /lib/modules
for kf_m in /lib/modules/*; do
  [ -d "$kf_m" ] || continue
  kf_ls "modules/\${kf_m##*/}" "$kf_m"
  kf_text "pkgbase/\${kf_m##*/}" "$kf_m/pkgbase"
done
`;

function modulesDir(release: string, entries: ListEntry[]): KernelModulesDir {
  const find = (n: string) => entries.find((e) => e.name === n);
  const build = find('build');
  const state: BuildLink = !build ? 'absent' : build.type === 'dangling' ? 'dangling' : 'present';
  const image = find('vmlinuz');
  return {
    dir: `/lib/modules/${release}`,
    build: state,
    modulesDep: find('modules.dep')?.type === 'file',
    image: image?.type === 'file' ? `/lib/modules/${release}/vmlinuz` : null,
  };
}

const empty = (release: string): InstalledKernel => ({
  release,
  pkgbase: null,
  image: null,
  vmlinux: null,
  systemMap: null,
  config: null,
  initramfs: null,
  initramfsExtra: [],
  modules: null,
  bootBytes: null,
});

/**
 * The `sizes` section: file name (in /boot) → bytes. Lines are `<bytes> <path>`; a file stat could
 * not read (gone meanwhile, a dangling link) has no line, and its release no bootBytes.
 */
export function parseSizes(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const m = line.match(/^(\d+) (.*\/)?([^/]+)$/);
    if (m) out.set(m[3] as string, Number(m[1]));
  }
  return out;
}

function bootBytes(k: InstalledKernel, sizes: Map<string, number>): number | null {
  const files = [k.image, k.vmlinux, k.systemMap, k.config, k.initramfs, ...k.initramfsExtra].filter(
    (f): f is string => f?.startsWith('/boot/') ?? false,
  );
  if (files.length === 0) return null;
  let total = 0;
  for (const f of files) {
    const size = sizes.get(f.slice('/boot/'.length));
    if (size === undefined) return null;
    total += size;
  }
  return total;
}

/** pkgbase → release. When two trees claim one package, the complete and newest one owns the image. */
function pkgbases(s: Sections, modules: Map<string, KernelModulesDir>): Map<string, string> {
  const out = new Map<string, string>();
  const rank = (r: string) => {
    const m = modules.get(r);
    return (m?.modulesDep ? 2 : 0) + (m?.image ? 1 : 0);
  };
  for (const release of keysWithPrefix(s, 'pkgbase/').sort(compareVersions)) {
    const base = firstLine(s[`pkgbase/${release}`]);
    if (!base) continue;
    const held = out.get(base);
    if (held === undefined || rank(release) >= rank(held)) out.set(base, release);
  }
  return out;
}

function parse(s: Sections): InstalledKernel[] {
  const kernels = new Map<string, InstalledKernel>();
  const get = (r: string) => {
    const k = kernels.get(r) ?? empty(r);
    kernels.set(r, k);
    return k;
  };
  const modules = new Map<string, KernelModulesDir>();
  for (const release of keysWithPrefix(s, 'modules/')) {
    const entries = parseListing(s[`modules/${release}`]);
    if (entries) modules.set(release, modulesDir(release, entries));
  }
  const byPkgbase = pkgbases(s, modules);
  for (const [release, dir] of modules) get(release).modules = dir;
  for (const [base, release] of byPkgbase) get(release).pkgbase = base;

  const files = (parseListing(s.boot) ?? [])
    .filter((e) => e.type === 'file')
    .map((e) => classifyBootFile(e.name))
    .filter((f): f is BootFile => f !== null);
  const place = (f: BootFile, release: string) => {
    const k = get(release);
    const path = `/boot/${f.name}`;
    if (f.kind === 'initramfs' && k.initramfs !== null) k.initramfsExtra.push(path);
    else k[f.kind] = path;
  };
  const variants: BootFile[] = [];
  for (const f of files) {
    if (f.kind === 'initramfs' && initramfsVariant(f.stem)) variants.push(f);
    else place(f, byPkgbase.get(f.stem) ?? f.stem);
  }
  for (const f of variants) {
    const v = initramfsVariant(f.stem);
    const base = v ? (byPkgbase.get(v.base) ?? v.base) : f.stem;
    if (v && kernels.has(base)) get(base).initramfsExtra.push(`/boot/${f.name}`);
    else place(f, byPkgbase.get(f.stem) ?? f.stem);
  }
  const sizes = parseSizes(s.sizes);
  for (const k of kernels.values()) {
    k.initramfsExtra.sort();
    k.bootBytes = bootBytes(k, sizes);
  }
  return [...kernels.values()].sort((a, b) => compareVersions(a.release, b.release));
}

export const kernels: FactFamily<InstalledKernel[]> = { name: 'kernels', script, parse };
