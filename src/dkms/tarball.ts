/**
 * A DKMS module built on the controller for a host without a compiler: the real dkms, in trees of
 * our own (src/dkms/build.ts: this machine's /var/lib/dkms, /usr/src and /lib/modules are
 * never touched), against the build's headers; then `dkms mktarball` packs source and binaries for
 * `dkms ldtarball` on the host.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../compile/errors.js';
import { type BuildSigning, moduleSigner } from '../compile/signing.js';
import { runLocal } from '../host/local.js';
import { buildDkmsModule, dkmsEnv, makeDkmsTrees, treeArgs } from './build.js';

export async function buildDkmsTarball(opts: {
  name: string;
  version: string;
  /** The module source (a directory with dkms.conf, or a tarball of one). */
  from: string;
  release: string;
  /** The build's artifacts directory (its headers/ are what the module builds against). */
  artifactsDir: string;
  workDir: string;
  onLine?: (line: string) => void;
  /** `signing:` with dkms on: the modules are signed here, on the controller, before mktarball. */
  signing?: BuildSigning;
}): Promise<string> {
  const work = join(opts.workDir, `dkms-${opts.name}-${opts.version}-${opts.release}`);
  await mkdir(work, { recursive: true });
  const trees = await makeDkmsTrees(join(work, 'trees'), opts.release);
  const headersDir = join(opts.artifactsDir, 'headers');
  const built = await buildDkmsModule({
    module: { name: opts.name, version: opts.version, path: opts.from },
    headersDir,
    release: opts.release,
    trees,
    workDir: work,
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
    ...(opts.signing?.dkms
      ? {
          sign: moduleSigner(
            opts.signing,
            headersDir,
            await readFile(join(opts.artifactsDir, 'config'), 'utf8').catch(() => ''),
          ),
        }
      : {}),
  });
  if (!built.ok)
    throw new BuildError(
      `${opts.name} ${opts.version} does not build for ${opts.release} on the controller: ${built.detail}`,
      built.makeLog ? `see ${built.makeLog}` : undefined,
      built.logTail ?? [],
    );
  const archive = join(work, `${opts.name}-${opts.version}-${opts.release}.dkms.tar.gz`);
  const argv = [
    'dkms',
    'mktarball',
    '-m',
    opts.name,
    '-v',
    opts.version,
    '-k',
    opts.release,
    ...treeArgs(trees, headersDir),
    `--archive=${archive}`,
  ];
  const full = process.getuid?.() === 0 ? argv : ['unshare', '--user', '--map-root-user', '--', ...argv];
  const r = await runLocal(full, { env: dkmsEnv(trees) });
  if (r.code !== 0)
    throw new BuildError(
      `dkms mktarball of ${opts.name} ${opts.version} failed (exit ${r.code})`,
      undefined,
      `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-10),
    );
  return archive;
}
