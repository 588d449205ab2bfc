/**
 * Reading a build's artifacts directory (what `kernelfile build` produces and hosts receive):
 *
 *   <dir>/manifest.json          { formatVersion: 1, buildId, release, arch, kernelArch, image, modules, files }
 *   <dir>/<image>                the boot image (bzImage on x86), `vmlinuz` by convention
 *   <dir>/System.map
 *   <dir>/config                 the effective .config
 *   <dir>/modules/lib/modules/<release>/   `make modules_install INSTALL_MOD_PATH=<dir>/modules`
 *   <dir>/headers/               one tree (source + generated files) for `make -C headers M=... modules`
 *   <dir>/build.log
 *
 * This is the reader `verify` uses; it checks what it relies on and names what is missing.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { BuildError } from '../compile/errors.js';
import { sha256File } from '../compile/hash.js';

export const ARTIFACTS_FORMAT_VERSION = 1;

/** One file listed in manifest.json, relative to the artifacts directory. */
export interface ArtifactFile {
  path: string;
  sha256: string;
  size: number;
}

/** manifest.json as far as the readers here rely on it (unknown fields are kept, not checked). */
export interface ArtifactsManifest {
  formatVersion: number;
  buildId: string;
  release: string;
  arch: string;
  kernelArch?: string;
  image: string;
  modules: boolean;
  files: ArtifactFile[];
  [key: string]: unknown;
}

/** What a reader needs from an artifacts directory; every path is absolute. */
export interface ArtifactsInfo {
  /** The artifacts directory. */
  dir: string;
  buildId: string;
  /** The kernel release (`uname -r` of the built kernel). */
  release: string;
  /** The target architecture as `uname -m` names it (`x86_64`). */
  arch: string;
  /** The kernel's SRCARCH (`x86`), when the manifest says. */
  kernelArch?: string;
  /** The boot image (`<dir>/vmlinuz`). */
  image: string;
  /** `<dir>/modules/lib/modules/<release>`; null when the kernel has no loadable modules. */
  modulesDir: string | null;
  /** `<dir>/headers`, the tree out-of-tree modules build against; null when the artifacts have none. */
  headersDir: string | null;
  /** The effective kernel configuration (the text of `<dir>/config`). */
  configText: string;
  manifest: ArtifactsManifest;
}

const RELEASE_RE = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

const bad = (dir: string, what: string, hint?: string) =>
  new BuildError(`${dir} is not a usable kernelfile artifacts directory: ${what}`, hint);

/** A path from the manifest: relative, inside the directory. */
function inside(dir: string, rel: unknown, field: string): string {
  if (typeof rel !== 'string' || rel === '' || isAbsolute(rel) || normalize(rel).startsWith('..'))
    throw bad(
      dir,
      `manifest.json: ${field} must be a relative path inside the directory (got ${JSON.stringify(rel)})`,
    );
  return join(dir, rel);
}

/** Read and check an artifacts directory. `verifyChecksums` re-hashes every file the manifest lists. */
export async function loadArtifacts(
  dirIn: string,
  opts: { verifyChecksums?: boolean } = {},
): Promise<ArtifactsInfo> {
  const dir = resolve(dirIn);
  const manifestPath = join(dir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(manifestPath, 'utf8');
  } catch {
    throw bad(dir, 'no manifest.json', 'point at a directory that `kernelfile build` produced');
  }
  let m: ArtifactsManifest;
  try {
    m = JSON.parse(raw) as ArtifactsManifest;
  } catch (e) {
    throw bad(dir, `manifest.json is not valid JSON (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null) throw bad(dir, 'manifest.json is not an object');
  if (m.formatVersion !== ARTIFACTS_FORMAT_VERSION)
    throw bad(
      dir,
      `manifest.json has formatVersion ${JSON.stringify(m.formatVersion)}, this kernelfile reads ${ARTIFACTS_FORMAT_VERSION}`,
    );
  if (typeof m.release !== 'string' || !RELEASE_RE.test(m.release))
    throw bad(dir, `manifest.json: release ${JSON.stringify(m.release)} is not a kernel release`);
  if (typeof m.arch !== 'string' || m.arch === '') throw bad(dir, 'manifest.json: arch is missing');
  const image = inside(dir, m.image ?? 'vmlinuz', 'image');
  if (!isFile(image)) throw bad(dir, `the boot image ${image} is missing`);

  let configText: string;
  try {
    configText = await readFile(join(dir, 'config'), 'utf8');
  } catch {
    throw bad(dir, `${join(dir, 'config')} is missing`);
  }

  let modulesDir: string | null = null;
  if (m.modules) {
    modulesDir = join(dir, 'modules', 'lib', 'modules', m.release);
    if (!isDir(modulesDir))
      throw bad(dir, `manifest.json says the kernel has modules but ${modulesDir} is missing`);
  }
  const headers = join(dir, 'headers');
  const headersDir = isDir(headers) ? headers : null;

  const files = Array.isArray(m.files) ? m.files : [];
  if (opts.verifyChecksums) {
    for (const f of files) {
      const p = inside(dir, f.path, 'files[].path');
      if (!isFile(p)) throw bad(dir, `${f.path} is listed in manifest.json but missing`);
      const sum = await sha256File(p);
      if (sum !== f.sha256)
        throw bad(dir, `${f.path} does not match manifest.json (sha256 ${sum}, expected ${f.sha256})`);
    }
  }

  return {
    dir,
    buildId: typeof m.buildId === 'string' ? m.buildId : '',
    release: m.release,
    arch: m.arch,
    ...(typeof m.kernelArch === 'string' ? { kernelArch: m.kernelArch } : {}),
    image,
    modulesDir,
    headersDir,
    configText,
    manifest: { ...m, files },
  };
}

/** The value of CONFIG_<name> in a .config text: `y`, `m`, a string, or undefined when unset. */
export function configValue(configText: string, symbol: string): string | undefined {
  const name = symbol.startsWith('CONFIG_') ? symbol : `CONFIG_${symbol}`;
  const re = new RegExp(`^${name}=(.*)$`, 'm');
  const v = re.exec(configText)?.[1];
  if (v === undefined) return undefined;
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
