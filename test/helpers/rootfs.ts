/**
 * A Debian 12 (bookworm) root filesystem for tests that need a real Linux host to converge:
 * debootstrap minbase + openssh-server, sudo, dkms, initramfs-tools (with the busybox and zstd it
 * recommends), grub-pc-bin, kmod, libelf1, and the users alice (sudo without a password) and bob
 * (sudo with a password, BOB_PASSWORD).
 *
 * Built once per recipe and cached as a tarball in
 * `${KERNELFILE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernelfile-tests}`, keyed by a hash
 * of the recipe (suite, variant, mirror, packages, and the scripts below), then extracted once into a
 * directory beside it, which later runs reuse. Parallel vitest workers share it through a lock file.
 *
 * Nothing is mounted on this machine: debootstrap and the chroot steps run inside
 * `unshare --mount --pid --fork --kill-child`, so their proc/sys/dev mounts and every process they
 * start vanish with them, on success, failure or kill alike (and `setpriv --pdeathsig` kills them
 * when the test process dies). A build is written to a temp directory and renamed at the end, so an
 * interrupted build leaves nothing that a later run would mistake for a finished one.
 *
 * The extracted root is shared and READ-ONLY BY CONVENTION: use it as an overlay lower layer (what
 * sshd.ts does) or copy it with copyRoot(). Delete its directory to have the tarball re-extracted.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isolated,
  makeCacheEntry,
  note,
  PATH_ENV,
  requireCommands,
  requireRoot,
  runOk,
  secs,
  sweepStale,
} from './proc.js';

export const SUITE = 'bookworm';
export const VARIANT = 'minbase';

/**
 * What the root adds to debootstrap's minbase (with --no-install-recommends). busybox and zstd are
 * what initramfs-tools recommends (a default Debian install has them): its initramfs shell, and its
 * default compression (COMPRESS=zstd; without zstd it falls back to gzip). libelf1: kernel headers
 * built elsewhere run their tools/objtool when DKMS compiles a module (Debian's linux-kbuild
 * package depends on it too). curl: hosts fetch a build's files from the artifact store
 * (cache.store) themselves.
 */
export const ROOT_PACKAGES = [
  'openssh-server',
  'sudo',
  'dkms',
  'initramfs-tools',
  'busybox',
  'zstd',
  'grub-pc-bin',
  'kmod',
  'libelf1',
  'curl',
];

/** bob's password (sudo asks for it); alice has no password and sudo without one. */
export const BOB_PASSWORD = 'kernelfile-bob-1';

/** The users the root has besides root. */
export const ROOT_USERS = ['alice', 'bob'] as const;

/** Capabilities no process of a test host ever gets: nothing in it can load modules into, reboot,
 * or set the clock of this machine's kernel, or do raw I/O on its hardware. */
export const DROPPED_CAPS = '-sys_module,-sys_boot,-sys_time,-sys_rawio';

/**
 * sh snippet: a private /dev for the root in "$m" (a tmpfs with the usual nodes and a devpts
 * instance of its own), so nothing inside the root can reach this machine's disks.
 */
export const MOUNT_DEV_SH = [
  'mount -t tmpfs -o nosuid,noexec,mode=0755,size=8m kf-dev "$m/dev"',
  'mknod -m 0666 "$m/dev/null" c 1 3; mknod -m 0666 "$m/dev/zero" c 1 5; mknod -m 0666 "$m/dev/full" c 1 7',
  'mknod -m 0666 "$m/dev/random" c 1 8; mknod -m 0666 "$m/dev/urandom" c 1 9; mknod -m 0666 "$m/dev/tty" c 5 0',
  'mkdir -m 0755 "$m/dev/pts"; mkdir -m 1777 "$m/dev/shm"',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 kf-devpts "$m/dev/pts"',
  'ln -s pts/ptmx "$m/dev/ptmx"; ln -s /proc/self/fd "$m/dev/fd"',
  'ln -s /proc/self/fd/0 "$m/dev/stdin"; ln -s /proc/self/fd/1 "$m/dev/stdout"; ln -s /proc/self/fd/2 "$m/dev/stderr"',
].join('\n');

/** sh snippet, in a build namespace: proc, a read-only sysfs and a private /dev for a chroot into "$m". */
export const CHROOT_MOUNTS_SH = [
  'mount -t proc -o nosuid,nodev,noexec kf-proc "$m/proc"',
  'mount -t sysfs -o ro,nosuid,nodev,noexec kf-sys "$m/sys"',
  MOUNT_DEV_SH,
].join('\n');

/** sh snippet: `in_root CMD...` runs CMD chrooted into "$m" as root, with a clean environment. */
export const IN_ROOT_SH = `in_root() { chroot "$m" /usr/bin/env -i PATH=${PATH_ENV} HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"; }`;

/** sh snippet: no package script run in the root "$m" may start a daemon (a policy-rc.d that says no). */
export const NO_DAEMONS_SH = [
  `printf '#!/bin/sh\\n# kernelfile test root: package scripts never start daemons\\nexit 101\\n' > "$m/usr/sbin/policy-rc.d"`,
  'chmod 0755 "$m/usr/sbin/policy-rc.d"',
].join('\n');

/** sh snippet: a smaller root "$m": no documentation, manual pages or translations (now, nor from later installs). */
export const SLIM_SH = [
  `printf '%s\\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' > "$m/etc/dpkg/dpkg.cfg.d/kernelfile-slim"`,
  'find "$m/usr/share/doc" -type f ! -name copyright -delete; rm -rf "$m/usr/share/man"/* "$m/usr/share/info"/*',
  'find "$m/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +',
].join('\n');

/**
 * sh snippet (after IN_ROOT_SH): install the packages "$@" into the root without recommends, then
 * empty apt's cache. The machine's mirror may be a dated snapshot: its Release file is accepted as
 * this machine's apt does.
 */
export const APT_INSTALL_SH = [
  'in_root apt-get -q -o Acquire::Check-Valid-Until=false update',
  'in_root apt-get install -y -q --no-install-recommends "$@"',
  'in_root apt-get clean',
].join('\n');

/** In the build namespace: mounts for the chroot, then packages and users. Args: ROOT BOBPW PKG... */
const CONFIGURE_SH = [
  'set -eu',
  'm=$1; bobpw=$2; shift 2',
  CHROOT_MOUNTS_SH,
  IN_ROOT_SH,
  // No package script may start a daemon, now or when a test installs packages into a host later.
  NO_DAEMONS_SH,
  SLIM_SH,
  APT_INSTALL_SH,
  // alice: sudo without a password. Her password field is "*" (no password), not "!" (locked): sshd
  // without PAM refuses every login, keys included, to a locked account.
  'in_root useradd --create-home --shell /bin/bash alice',
  "in_root usermod --password '*' alice",
  'printf \'alice ALL=(ALL:ALL) NOPASSWD: ALL\\n\' > "$m/etc/sudoers.d/kernelfile-alice"',
  'chmod 0440 "$m/etc/sudoers.d/kernelfile-alice"',
  // bob: in group sudo, which asks for his password.
  'in_root useradd --create-home --shell /bin/bash --groups sudo bob',
  'printf "bob:%s\\n" "$bobpw" | in_root chpasswd',
  'in_root visudo -c -q',
  'mkdir -p -m 0755 "$m/run/sshd"',
  'echo kernelfile-test > "$m/etc/hostname"',
  // Each test host gets host keys of its own: none may be shared through the image.
  'rm -f "$m"/etc/ssh/ssh_host_*',
].join('\n');

const UNSHARE_BUILD = isolated();

const TAR_OPTS = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];

/** The cache directory for built roots. */
export function testCacheDir(): string {
  const env = process.env;
  if (env.KERNELFILE_TEST_CACHE) return env.KERNELFILE_TEST_CACHE;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kernelfile-tests');
}

/**
 * The Debian mirror this machine's apt uses (KERNELFILE_TEST_MIRROR overrides): the first `URIs:`
 * of a deb822 stanza for bookworm in /etc/apt/sources.list.d/*.sources, else the first
 * `deb URI bookworm` line of /etc/apt/sources.list{,.d/*.list}. Never a built-in internet host.
 */
export function aptMirror(): string {
  if (process.env.KERNELFILE_TEST_MIRROR) return process.env.KERNELFILE_TEST_MIRROR;
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  for (const f of files.filter((f) => f.endsWith('.sources'))) {
    for (const stanza of read(join(dir, f)).split(/\n\s*\n/)) {
      const field = (name: string) =>
        new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || !field('Suites').includes(SUITE)) continue;
      if (/^Enabled:\s*no/im.test(stanza)) continue;
      const uri = field('URIs')[0];
      if (uri && /^(https?|file):/.test(uri)) return uri;
    }
  }
  const lists = [
    '/etc/apt/sources.list',
    ...files.filter((f) => f.endsWith('.list')).map((f) => join(dir, f)),
  ];
  for (const p of lists) {
    for (const line of read(p).split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m?.[1] && m[2] === SUITE && /^(https?|file):/.test(m[1])) return m[1];
    }
  }
  throw new Error(
    `no Debian ${SUITE} mirror found in this machine's apt sources (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list): set KERNELFILE_TEST_MIRROR`,
  );
}

/** Everything that decides the root's content; its hash names the cached tarball. */
function recipe(mirror: string) {
  return {
    v: 1,
    debootstrap: ['--variant', VARIANT, SUITE, mirror],
    packages: ROOT_PACKAGES,
    configure: CONFIGURE_SH,
    bobPassword: BOB_PASSWORD,
  };
}

let pending: Promise<string> | undefined;

/**
 * The path of a ready Debian bookworm root (shared, read-only by convention). Builds it on first use
 * (about a minute, printed with timings), else reuses the extracted cache or extracts the tarball.
 */
export function ensureDebianRoot(): Promise<string> {
  pending ??= prepare().catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function prepare(): Promise<string> {
  requireRoot('the Debian test root');
  requireCommands('the Debian test root', [
    ['debootstrap', 'debootstrap'],
    ['/usr/share/keyrings/debian-archive-keyring.gpg', 'debian-archive-keyring'],
    ['unshare', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['tar', 'tar'],
  ]);
  const mirror = aptMirror();
  const hash = createHash('sha256')
    .update(JSON.stringify(recipe(mirror)))
    .digest('hex')
    .slice(0, 16);
  const cache = testCacheDir();
  const name = `debian-${SUITE}-${hash}`;
  const rootDir = join(cache, name);
  const tarball = join(cache, `${name}.tar`);
  const ready = () => (existsSync(join(rootDir, 'etc/debian_version')) ? rootDir : undefined);
  return makeCacheEntry({
    cache,
    name,
    ready,
    onWait: (pid) => note(`Debian root: waiting for process ${pid}, which is preparing ${name}`),
    make: async (tmp) => {
      const t0 = Date.now();
      if (existsSync(tarball)) {
        await mkdir(join(tmp, 'root'));
        await runOk(['tar', ...TAR_OPTS, '-C', join(tmp, 'root'), '-xpf', tarball]);
        const size = (await stat(tarball)).size;
        note(
          `Debian root: extracted cached ${name}.tar (${Math.round(size / 2 ** 20)} MiB) in ${secs(Date.now() - t0)}`,
        );
      } else {
        await build(join(tmp, 'root'), mirror, name);
        const t1 = Date.now();
        await runOk(['tar', ...TAR_OPTS, '-C', join(tmp, 'root'), '-cf', join(tmp, 'root.tar'), '.']);
        await rename(join(tmp, 'root.tar'), tarball);
        const size = (await stat(tarball)).size;
        note(
          `Debian root: cached as ${tarball} (${Math.round(size / 2 ** 20)} MiB) in ${secs(Date.now() - t1)}`,
        );
        note(`Debian root: first build took ${secs(Date.now() - t0)} in all`);
      }
      await rename(join(tmp, 'root'), rootDir);
      return rootDir;
    },
  });
}

async function build(root: string, mirror: string, name: string): Promise<void> {
  note(`Debian root: building ${name} from ${mirror} (once; later runs use the cache)`);
  let t = Date.now();
  await runOk([...UNSHARE_BUILD, 'debootstrap', '--variant', VARIANT, SUITE, root, mirror]);
  note(`Debian root: debootstrap --variant=${VARIANT} ${SUITE}: ${secs(Date.now() - t)}`);
  t = Date.now();
  await runOk([
    ...UNSHARE_BUILD,
    'sh',
    '-c',
    CONFIGURE_SH,
    'kf-configure',
    root,
    BOB_PASSWORD,
    ...ROOT_PACKAGES,
  ]);
  note(`Debian root: apt-get install ${ROOT_PACKAGES.join(' ')} + users: ${secs(Date.now() - t)}`);
}

/**
 * A private writable copy of a root (`cp -a --reflink=auto`), as a plain directory that anything
 * can use, e.g. the `root:DIR` transport, which mounts inside it. Costs a full copy (reflinks where the
 * filesystem has them); SSH hosts use a cheap overlay instead (sshd.ts).
 */
export async function copyRoot(base: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  requireRoot('copyRoot');
  await sweepStale('kernelfile-root');
  const tmp = await mkdtemp(join(tmpdir(), `kernelfile-root-${process.pid}-`));
  const dir = join(tmp, 'root');
  await runOk(['cp', '-a', '--reflink=auto', base, dir]);
  return { dir, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}
