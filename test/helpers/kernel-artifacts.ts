/**
 * A REAL artifacts directory, in the layout `kernelfile build` produces (see src/build/verify-artifacts.ts),
 * for tests that boot or build against a kernel: Debian's linux-source-6.1 on tinyconfig plus
 * examples/qemu-tiny/fragments/qemu.config, `LOCALVERSION=-kfverify`, bzImage and modules:
 *
 *   manifest.json  vmlinuz  System.map  config  build.log
 *   modules/lib/modules/<release>/     modules_install output
 *   headers/                           source + generated files merged, for `make -C headers M=dir modules`
 *
 * Built once (about 2.5 minutes on 2 cores) and cached as
 * `${KERNELFILE_TEST_CACHE:-$HOME/.cache/kernelfile-tests}/verify-artifacts-<hash>`, keyed by the
 * recipe (the source tarball's size and mtime, the fragment, the scripts below). Parallel vitest
 * workers share it through a lock file; a build happens in a temporary directory renamed at the end,
 * so an interrupted one is never mistaken for a finished one. Delete the directory to rebuild.
 *
 * The source is unpacked outside any git repository (the cache directory): inside one, the kernel's
 * setlocalversion would append `+` to the release.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { note, requireCommands, runOk, secs, sweepStale, withFileLock } from './proc.js';
import { testCacheDir } from './rootfs.js';

export const KERNEL_SOURCE_TARBALL = '/usr/src/linux-source-6.1.tar.xz';
export const LOCALVERSION = '-kfverify';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FRAGMENT = join(REPO, 'examples/qemu-tiny/fragments/qemu.config');
export const HELLO_MODULE = join(REPO, 'examples/qemu-tiny/modules/hello');

/** Configure and build; args: SRC BUILD FRAGMENT JOBS LOCALVERSION LOG. */
const BUILD_SH = `set -eu
src=$1 obj=$2 frag=$3 jobs=$4 lv=$5 log=$6
mk() { make -C "$src" O="$obj" ARCH=x86_64 LOCALVERSION="$lv" "$@"; }
{
  mk tinyconfig
  (cd "$src" && scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$frag")
  mk olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
# merge_config.sh -m never reports dropped values: compare requested and effective ourselves.
bad=0
while IFS= read -r line; do
  case $line in
    CONFIG_*=*) grep -qxF "$line" "$obj/.config" || { echo "dropped by Kconfig: $line" >&2; bad=1; } ;;
  esac
done <"$frag"
[ $bad = 0 ] || exit 1
mk -j"$jobs" bzImage modules >>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
`;

/** Source-tree files plus the build's generated ones; args: SRC BUILD OUT SRCARCH. */
const HEADERS_SH = `set -eu
src=$1 obj=$2 out=$3 arch=$4
mkdir -p "$out"
(cd "$src" && {
  find . \\( -path ./Documentation -o -path ./tools -o -path ./.git \\) -prune -o \\
    \\( -name 'Makefile*' -o -name 'Kconfig*' -o -name 'Kbuild*' -o -name '*.pl' \\) -type f -print
  find include "arch/$arch/include" scripts -type f
  find "arch/$arch" -maxdepth 1 -type f -name 'Makefile*'
  if [ -d tools/include ]; then find tools/include -type f; fi
} | sort -u | cpio -pdm --quiet "$out")
cp "$obj/.config" "$obj/Module.symvers" "$out/"
(cd "$obj" && {
  find include/generated include/config "arch/$arch/include/generated" -type f
  find scripts -type f ! -name '*.o' ! -name '.*.cmd' ! -name '*.a'
  if [ -f tools/objtool/objtool ]; then echo tools/objtool/objtool; fi
} | sort -u | cpio -pdmu --quiet "$out")
`;

function recipe() {
  const st = statSync(KERNEL_SOURCE_TARBALL);
  return {
    v: 1,
    source: { path: KERNEL_SOURCE_TARBALL, size: st.size, mtime: Math.floor(st.mtimeMs) },
    fragment: readFileSync(FRAGMENT, 'utf8'),
    base: 'tinyconfig',
    localversion: LOCALVERSION,
    build: BUILD_SH,
    headers: HEADERS_SH,
  };
}

let pending: Promise<string> | undefined;

/** The path of a ready artifacts directory (shared: read-only by convention). */
export function ensureKernelArtifacts(): Promise<string> {
  pending ??= prepare().catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function prepare(): Promise<string> {
  requireCommands('the test kernel', [
    [KERNEL_SOURCE_TARBALL, 'linux-source-6.1'],
    ['make', 'make'],
    ['gcc', 'build-essential'],
    ['flex', 'flex'],
    ['bison', 'bison'],
    ['bc', 'bc'],
    ['/usr/include/libelf.h', 'libelf-dev'],
    ['/usr/include/openssl/ssl.h', 'libssl-dev'],
    ['cpio', 'cpio'],
    ['depmod', 'kmod'],
    ['xz', 'xz-utils'],
  ]);
  const hash = createHash('sha256').update(JSON.stringify(recipe())).digest('hex').slice(0, 16);
  const cache = testCacheDir();
  const name = `verify-artifacts-${hash}`;
  const dir = join(cache, name);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  await mkdir(cache, { recursive: true });
  return withFileLock(
    join(cache, `${name}.lock`),
    async () => {
      if (existsSync(join(dir, 'manifest.json'))) return dir;
      await sweepStale('.tmp', cache);
      const tmp = await mkdtemp(join(cache, `.tmp-${process.pid}-`));
      try {
        await build(tmp, hash);
        await rename(join(tmp, 'artifacts'), dir);
        return dir;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
    // A cold build takes minutes: the default 30-minute lock wait covers it.
    { onWait: (pid) => note(`test kernel: waiting for process ${pid}, which is building ${name}`) },
  );
}

async function build(tmp: string, hash: string): Promise<void> {
  note(`test kernel: building linux-source-6.1 tinyconfig + qemu.config (once; later runs use the cache)`);
  const src = join(tmp, 'src');
  const obj = join(tmp, 'build');
  const art = join(tmp, 'artifacts');
  await mkdir(src);
  await mkdir(obj);
  await mkdir(art);
  const t0 = Date.now();
  let t = t0;
  await runOk(['tar', '-xJf', KERNEL_SOURCE_TARBALL, '--strip-components=1', '-C', src]);
  note(`test kernel: unpacked in ${secs(Date.now() - t)}`);

  t = Date.now();
  const jobs = String(Math.max(2, availableParallelism()));
  const log = join(art, 'build.log');
  await runOk(['sh', '-c', BUILD_SH, 'kf-build', src, obj, FRAGMENT, jobs, LOCALVERSION, log]);
  const release = (await readFile(join(obj, 'include/config/kernel.release'), 'utf8')).trim();
  const version = (await runOk(['make', '-s', '-C', src, 'kernelversion'])).stdout.trim();
  if (release !== `${version}${LOCALVERSION}`)
    throw new Error(
      `the test kernel's release is ${release}, expected ${version}${LOCALVERSION} (was the source unpacked inside a git repository?)`,
    );
  note(
    `test kernel: ${release} configured and built (bzImage modules, -j${jobs}) in ${secs(Date.now() - t)}`,
  );

  t = Date.now();
  const mk = ['make', '-C', src, `O=${obj}`, 'ARCH=x86_64', `LOCALVERSION=${LOCALVERSION}`];
  await runOk([...mk, `INSTALL_MOD_PATH=${join(art, 'modules')}`, 'modules_install']);
  const modDir = join(art, 'modules/lib/modules', release);
  // Links back into the build directory, which is about to go.
  await rm(join(modDir, 'build'), { force: true });
  await rm(join(modDir, 'source'), { force: true });
  await cp(join(obj, 'arch/x86/boot/bzImage'), join(art, 'vmlinuz'));
  await cp(join(obj, 'System.map'), join(art, 'System.map'));
  await cp(join(obj, '.config'), join(art, 'config'));
  await runOk(['sh', '-c', HEADERS_SH, 'kf-headers', src, obj, join(art, 'headers'), 'x86']);
  note(`test kernel: modules_install + headers tree in ${secs(Date.now() - t)}`);

  // The headers tree must build an out-of-tree module the way dkms will (on a copy: nothing is
  // written into the repository).
  t = Date.now();
  const hello = join(tmp, 'hello-check');
  await cp(HELLO_MODULE, hello, { recursive: true });
  await runOk(['make', '-C', join(art, 'headers'), `M=${hello}`, 'modules']);
  if (!existsSync(join(hello, 'kernelfile_hello.ko')))
    throw new Error('the headers tree built no kernelfile_hello.ko from examples/qemu-tiny/modules/hello');
  note(`test kernel: headers tree builds the hello module (${secs(Date.now() - t)})`);

  const files = [];
  for (const f of ['vmlinuz', 'System.map', 'config', 'build.log']) {
    const data = await readFile(join(art, f));
    files.push({ path: f, sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
  }
  const manifest = {
    formatVersion: 1,
    buildId: `test-${hash}`,
    release,
    version,
    arch: 'x86_64',
    kernelArch: 'x86',
    image: 'vmlinuz',
    modules: true,
    files,
    createdBy: 'test/helpers/kernel-artifacts.ts',
  };
  await writeFile(join(art, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const count = (await readdir(modDir)).length;
  note(
    `test kernel: artifacts ready (${count} entries in modules/lib/modules/${release}) in ${secs(Date.now() - t0)} in all`,
  );
}
