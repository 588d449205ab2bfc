/**
 * The lock file beside a kernelfile (`kernelfile.yaml` → `kernelfile.lock`): what its builds resolved
 * to, written when missing (or with --update-lock), compared on every plan, apply and build. Without
 * --locked a difference is a warning; with it (CI) the command stops before anything is built or
 * changed. The pure parts (format, comparison) are in src/lock/.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BUILD_RECIPE, configDigest, type Prepared } from '../compile/build.js';
import { writeAtomic } from '../compile/cache.js';
import { contentDigest, sha256Text } from '../compile/hash.js';
import { readRegularSync } from '../compile/read-file.js';
import type { HostFacts } from '../facts/types.js';
import { lockDifferences, mergeLock } from '../lock/compare.js';
import { decodeLock, MAX_LOCK_BYTES, renderLock } from '../lock/lockfile.js';
import type {
  LockDifference,
  LockError,
  LockFile,
  LockModule,
  LockReport,
  LockSource,
  LockState,
} from '../lock/types.js';
import { UserError } from './errors.js';
import { type Loaded, resolverOf, validSpec } from './kernelfile.js';
import type { FleetHost } from './planning.js';
import { STDIN_DISPLAY } from './read-kernelfile.js';

export type { LockDifference, LockFile, LockReport, LockState } from '../lock/types.js';

export interface LockOptions {
  /** Refuse when the lock is missing, unreadable or differs (CI). */
  locked?: boolean;
  /** Write what was resolved now, differences accepted. */
  update?: boolean;
  /** Write the lock when it is missing (default true; a read-only check passes false). */
  writeMissing?: boolean;
}

/** `dir/kernelfile.yaml` → `dir/kernelfile.lock` (as absolute or relative as the kernelfile's path). */
export function lockPathOf(kernelfileAbs: string): string {
  const name = basename(kernelfileAbs).replace(/\.ya?ml$/i, '');
  return join(dirname(kernelfileAbs), `${name}.lock`);
}

/** The tree digests computed in this process, by the source's cheap fingerprint. */
const treeDigests = new Map<string, Promise<string>>();

async function lockSource(loaded: Loaded, p: Prepared): Promise<LockSource> {
  const src = p.spec.kernel.source;
  const s = p.source;
  const where: LockSource =
    'url' in src ? { url: src.url } : 'git' in src ? { git: src.git } : { path: src.path };
  if (s.kind === 'git') return { ...where, commit: s.commit };
  if (s.kind === 'tarball')
    return { ...where, sha256: s.sha256, ...(p.signatureSha256 ? { signature: p.signatureSha256 } : {}) };
  // A tree given by path: its content, not the fingerprint (paths, sizes, times) the cache uses.
  let digest = treeDigests.get(s.key);
  if (!digest) {
    digest = contentDigest(resolverOf(loaded)((src as { path: string }).path));
    treeDigests.set(s.key, digest);
  }
  return { ...where, tree: await digest };
}

/** What the kernelfile resolved to in these builds (one per architecture or running config) and hosts. */
export async function resolvedLock(
  loaded: Loaded,
  builds: readonly Prepared[],
  hosts: readonly HostFacts[] = [],
): Promise<LockFile> {
  const { spec } = validSpec(loaded);
  const first = builds[0];
  if (!first) throw new Error('resolvedLock: no build');
  const resolve = resolverOf(loaded);
  const modules: LockModule[] = [];
  for (const m of spec.modules ?? []) {
    if ('path' in m) {
      modules.push({
        name: m.name,
        version: m.version,
        path: m.path,
        sha256: await contentDigest(resolve(m.path)),
      });
      continue;
    }
    const confs = hosts.flatMap((h) =>
      h.dkms.sources
        .filter((s) => s.name === m.name && s.version === m.version && s.conf !== null)
        .map((s) => sha256Text(s.conf as string)),
    );
    modules.push({
      name: m.name,
      version: m.version,
      installed: true,
      ...(confs.length ? { dkmsConf: confs } : {}),
    });
  }
  const [compiler = first.toolchain, linker = ''] = first.toolchain.split(' | ');
  return {
    lockVersion: 1,
    recipe: BUILD_RECIPE,
    source: await lockSource(loaded, first),
    patches: first.patches.map((x) => ({ path: x.name, sha256: x.sha256, strip: x.strip })),
    config: {
      base:
        first.configFiles.base ?? (typeof spec.config?.base === 'string' ? spec.config.base : 'defconfig'),
      fragments: first.configFiles.fragments,
    },
    modules,
    toolchain: { compiler, linker: linker || '(unknown)' },
    ...(first.signing ? { signing: { certificate: first.signing.certificateSha256 } } : {}),
    builds: builds.map((b) => ({
      arch: b.arch,
      buildId: b.buildId,
      release: b.release,
      config: configDigest(b.config.text),
    })),
  };
}

/** Read the lock beside `loaded`'s kernelfile: undefined when there is none. */
export function readLock(lockPath: string): { lock?: LockFile; error?: LockError } {
  if (!existsSync(lockPath)) return {};
  const r = readRegularSync(lockPath, MAX_LOCK_BYTES);
  if (!r.ok) return { error: { message: r.message, line: 1, column: 1 } };
  const d = decodeLock(r.bytes.toString('utf8'));
  return d.ok ? { lock: d.lock } : { error: d.error };
}

/**
 * Compare what `loaded` resolved to (its builds, and the hosts planned) with its lock, and write the
 * lock as the options say. Never throws for a lock that does not hold: the report says so.
 */
export async function checkLock(
  loaded: Loaded,
  builds: readonly Prepared[],
  hosts: readonly HostFacts[],
  o: LockOptions = {},
): Promise<LockReport> {
  const kernelfile = loaded.kf.display;
  if (kernelfile === STDIN_DISPLAY)
    // No file beside it: nothing is compared or written; --locked cannot be satisfied.
    return { kernelfile, path: '-', state: 'missing', differences: [], refused: o.locked === true };
  const file = lockPathOf(loaded.kf.abs);
  // Named as the user named the kernelfile (relative to where they are, or absolute).
  const path = lockPathOf(kernelfile);
  const now = await resolvedLock(loaded, builds, hosts);
  const { lock: was, error } = readLock(file);
  const report = (
    state: LockState,
    differences: LockDifference[] = [],
    extra: Partial<LockReport> = {},
  ): LockReport => ({
    kernelfile,
    path,
    state,
    differences,
    refused: o.locked === true && state !== 'unchanged',
    ...extra,
  });
  const write = (lock: LockFile) => writeAtomic(file, renderLock(lock));
  if (error) {
    if (o.update) {
      write(now);
      return report('updated', [], { error });
    }
    return report('invalid', [], { error });
  }
  if (!was) {
    if (o.locked || o.writeMissing === false) return report('missing');
    write(now);
    return report('written');
  }
  const differences = lockDifferences(was, now);
  if (o.update && !o.locked) {
    const merged = mergeLock(was, now);
    if (renderLock(merged) === renderLock(was)) return report('unchanged');
    write(merged);
    return report('updated', differences);
  }
  return differences.length ? report('differs', differences) : report('unchanged');
}

/** The error a refused lock stops a command with. */
export function lockRefusal(reports: readonly LockReport[]): UserError | null {
  const bad = reports.filter((r) => r.refused);
  if (!bad.length) return null;
  const r = bad[0] as LockReport;
  const what =
    r.state === 'missing'
      ? `${r.path} does not exist`
      : r.state === 'invalid'
        ? `${r.path}:${r.error?.line}:${r.error?.column}: ${r.error?.message}`
        : `${r.path} does not hold: ${r.differences.map((d) => d.message).join('; ')}`;
  return new UserError(
    `--locked: ${what}${bad.length > 1 ? ` (and ${bad.length - 1} more lock file(s))` : ''}`,
    r.state === 'missing'
      ? `run \`kernelfile lock ${r.kernelfile}\` and commit ${r.path}`
      : `if the change is intended, run \`kernelfile lock ${r.kernelfile}\` (or add --update-lock) and commit ${r.path}`,
  );
}

/** Each kernelfile's lock checked against what its planned hosts resolved to (one report per kernelfile). */
export async function checkLocks(hosts: readonly FleetHost[], o: LockOptions): Promise<LockReport[]> {
  const by = new Map<string, { loaded: Loaded; builds: Map<string, Prepared>; facts: HostFacts[] }>();
  for (const h of hosts) {
    if (!h.ok) continue;
    const key = h.loaded.kf.abs;
    const g = by.get(key) ?? { loaded: h.loaded, builds: new Map<string, Prepared>(), facts: [] };
    by.set(key, g);
    g.builds.set(h.prepared.buildId, h.prepared);
    g.facts.push(h.facts);
  }
  const out: LockReport[] = [];
  for (const g of by.values()) out.push(await checkLock(g.loaded, [...g.builds.values()], g.facts, o));
  return out;
}
