/**
 * A lock against what the kernelfile resolves to now: each difference in words ("patches/0001-x.patch
 * changed: sha256 1a2b3c4d5e6f… → …", "toolchain: gcc 12.2.0 → 13.1.0"), and the lock to write when
 * the user accepts them. Pure.
 */
import type { LockBuild, LockDifference, LockFile, LockFileEntry, LockModule, LockSource } from './types.js';

const short = (sha: string | undefined) => (sha ? `${sha.slice(0, 12)}…` : 'none');

function sourceName(s: LockSource): string {
  return s.url ? `url ${s.url}` : s.git ? `git ${s.git}` : `path ${s.path}`;
}

function sourceDigestParts(s: LockSource): [string, string] {
  if (s.commit) return ['commit', s.commit.slice(0, 12)];
  return s.sha256 ? ['sha256', short(s.sha256)] : ['tree', short(s.tree)];
}

function sourceDigest(s: LockSource): string {
  return sourceDigestParts(s).join(' ');
}

/** "sha256 a… → b…" (or "commit a → tree b" when the kind changed too). */
function digestChange(was: LockSource, now: LockSource): string {
  const [k1, v1] = sourceDigestParts(was);
  const [k2, v2] = sourceDigestParts(now);
  return k1 === k2 ? `${k1} ${v1} → ${v2}` : `${k1} ${v1} → ${k2} ${v2}`;
}

function sourceDifferences(was: LockSource, now: LockSource): LockDifference[] {
  const out: LockDifference[] = [];
  if (sourceName(was) !== sourceName(now))
    out.push({
      subject: 'source',
      message: `source: ${sourceName(was)} (${sourceDigest(was)}) → ${sourceName(now)} (${sourceDigest(now)})`,
    });
  else if (sourceDigest(was) !== sourceDigest(now))
    out.push({
      subject: 'source',
      message: `source ${now.url ?? now.git ?? now.path} changed: ${digestChange(was, now)}`,
    });
  if (was.signature !== now.signature)
    out.push({
      subject: 'source signature',
      message: `source signature ${now.signature && was.signature ? 'changed' : now.signature ? 'added' : 'removed'}: sha256 ${short(was.signature)} → ${short(now.signature)}`,
    });
  return out;
}

/** Ordered files (patches, fragments) compared by path: changed, added, removed, reordered. */
function fileListDifferences<T extends LockFileEntry>(
  what: string,
  was: readonly T[],
  now: readonly T[],
  extra: (a: T, b: T) => string | null = () => null,
): LockDifference[] {
  const out: LockDifference[] = [];
  const before = new Map(was.map((f) => [f.path, f]));
  const after = new Map(now.map((f) => [f.path, f]));
  for (const f of now) {
    const old = before.get(f.path);
    if (!old) out.push({ subject: f.path, message: `${what} added: ${f.path} (sha256 ${short(f.sha256)})` });
    else if (old.sha256 !== f.sha256)
      out.push({
        subject: f.path,
        message: `${f.path} changed: sha256 ${short(old.sha256)} → ${short(f.sha256)}`,
      });
    else {
      const e = extra(old, f);
      if (e) out.push({ subject: f.path, message: `${f.path}: ${e}` });
    }
  }
  for (const f of was)
    if (!after.has(f.path)) out.push({ subject: f.path, message: `${what} removed: ${f.path}` });
  const common = (list: readonly T[], other: Map<string, T>) =>
    list.filter((f) => other.has(f.path)).map((f) => f.path);
  const a = common(was, after);
  const b = common(now, before);
  if (a.join('\0') !== b.join('\0'))
    out.push({
      subject: `${what}es order`,
      message: `${what}es reordered: ${a.join(', ')} → ${b.join(', ')}`,
    });
  return out;
}

function baseText(b: string | LockFileEntry): string {
  return typeof b === 'string' ? b : `${b.path} (sha256 ${short(b.sha256)})`;
}

function moduleText(m: LockModule): string {
  return m.installed ? 'installed on the hosts' : `${m.path} (sha256 ${short(m.sha256)})`;
}

function moduleDifferences(was: readonly LockModule[], now: readonly LockModule[]): LockDifference[] {
  const out: LockDifference[] = [];
  const before = new Map(was.map((m) => [m.name, m]));
  for (const m of now) {
    const subject = `module ${m.name}`;
    const old = before.get(m.name);
    if (!old) {
      out.push({ subject, message: `module added: ${m.name} ${m.version} (${moduleText(m)})` });
      continue;
    }
    if (old.version !== m.version)
      out.push({ subject, message: `module ${m.name}: version ${old.version} → ${m.version}` });
    if (!!old.installed !== !!m.installed || old.path !== m.path)
      out.push({ subject, message: `module ${m.name}: ${moduleText(old)} → ${moduleText(m)}` });
    else if (!m.installed && old.sha256 !== m.sha256)
      out.push({
        subject,
        message: `module ${m.name} ${m.version} (${m.path}) changed: sha256 ${short(old.sha256)} → ${short(m.sha256)}`,
      });
    else if (m.installed && old.dkmsConf?.length) {
      const known = new Set(old.dkmsConf);
      const fresh = (m.dkmsConf ?? []).filter((d) => !known.has(d));
      if (fresh.length)
        out.push({
          subject,
          message: `module ${m.name} ${m.version}: the hosts have a dkms.conf the lock does not (sha256 ${fresh.map(short).join(', ')}; the lock has ${old.dkmsConf.map(short).join(', ')})`,
        });
    }
  }
  const names = new Set(now.map((m) => m.name));
  for (const m of was)
    if (!names.has(m.name))
      out.push({ subject: `module ${m.name}`, message: `module removed: ${m.name} ${m.version}` });
  return out;
}

/** "gcc (Debian 12.2.0-14) 12.2.0" → "gcc 12.2.0": the program and its last version number. */
export function toolShort(line: string): string {
  const name = line.split(/\s+/)[0] ?? line;
  const versions = line.match(/\d+\.\d+(?:\.\d+)*/g);
  return versions ? `${name} ${versions[versions.length - 1]}` : line;
}

function toolDifference(what: string, was: string, now: string): LockDifference | null {
  if (was === now) return null;
  const a = toolShort(was);
  const b = toolShort(now);
  return {
    subject: 'toolchain',
    message: a !== b ? `toolchain: ${a} → ${b}` : `toolchain: ${what} "${was}" → "${now}"`,
  };
}

function buildDifferences(
  was: readonly LockBuild[],
  now: readonly LockBuild[],
  explained: boolean,
): LockDifference[] {
  const out: LockDifference[] = [];
  for (const b of now) {
    if (was.some((w) => w.arch === b.arch && w.buildId === b.buildId)) continue;
    const sameArch = was.filter((w) => w.arch === b.arch);
    const subject = `build ${b.arch}`;
    if (!sameArch.length) {
      out.push({ subject, message: `build ${b.arch} (${b.release}) is not in the lock: a new architecture` });
      continue;
    }
    const old = sameArch.find((w) => w.config !== b.config) ?? sameArch[0];
    const why =
      explained || !old
        ? ''
        : old.config !== b.config
          ? `; the resolved configuration differs (sha256 ${short(old.config)} → ${short(b.config)})`
          : '; the configuration is the same: the kernelfile (make variables, localversion) changed';
    out.push({
      subject,
      message: `build ${b.arch}: build id ${short(old?.buildId)} → ${short(b.buildId)} (release ${old?.release} → ${b.release})${why}`,
    });
  }
  return out;
}

/** Every way `now` differs from the lock `was` (empty: the lock holds). */
export function lockDifferences(was: LockFile, now: LockFile): LockDifference[] {
  const out: LockDifference[] = [];
  if (was.recipe !== now.recipe)
    out.push({
      subject: 'recipe',
      message: `kernelfile's build recipe ${was.recipe} → ${now.recipe}: this kernelfile version builds the same inputs differently`,
    });
  out.push(...sourceDifferences(was.source, now.source));
  out.push(
    ...fileListDifferences('patch', was.patches, now.patches, (a, b) =>
      a.strip !== b.strip ? `strip ${a.strip} → ${b.strip}` : null,
    ),
  );
  if (baseText(was.config.base) !== baseText(now.config.base)) {
    const a = was.config.base;
    const b = now.config.base;
    out.push({
      subject: 'config.base',
      message:
        typeof a !== 'string' && typeof b !== 'string' && a.path === b.path
          ? `${b.path} changed: sha256 ${short(a.sha256)} → ${short(b.sha256)}`
          : `config.base: ${baseText(a)} → ${baseText(b)}`,
    });
  }
  out.push(...fileListDifferences('fragment', was.config.fragments, now.config.fragments));
  out.push(...moduleDifferences(was.modules, now.modules));
  for (const d of [
    toolDifference('compiler', was.toolchain.compiler, now.toolchain.compiler),
    toolDifference('linker', was.toolchain.linker, now.toolchain.linker),
  ])
    if (d) out.push(d);
  if (was.signing?.certificate !== now.signing?.certificate)
    out.push({
      subject: 'signing',
      message: `signing certificate: sha256 ${short(was.signing?.certificate)} → ${short(now.signing?.certificate)}`,
    });
  // A difference above explains a new build id; without one, say what does.
  out.push(...buildDifferences(was.builds, now.builds, out.length > 0));
  return out;
}

/**
 * The lock to write when accepting `now`: what was resolved now, plus what the lock knew that this
 * run did not resolve (builds of other architectures or other hosts' running configs, dkms.conf
 * digests of hosts not planned) as long as nothing they depend on changed.
 */
export function mergeLock(was: LockFile | undefined, now: LockFile): LockFile {
  if (!was) return now;
  const inputsSame = lockDifferences(was, { ...now, builds: was.builds }).length === 0;
  const builds = [...now.builds];
  if (inputsSame)
    for (const b of was.builds)
      if (!now.builds.some((n) => n.arch === b.arch && n.buildId === b.buildId)) builds.push(b);
  const modules = now.modules.map((m) => {
    const old = was.modules.find(
      (o) => o.name === m.name && o.version === m.version && o.installed && m.installed,
    );
    if (!old?.dkmsConf) return m;
    return { ...m, dkmsConf: [...new Set([...(m.dkmsConf ?? []), ...old.dkmsConf])] };
  });
  return { ...now, builds, modules };
}
