/**
 * A minimal initramfs for `verify`: busybox-static, the kernel's own modules plus DKMS-built ones
 * (with `depmod -b` output so busybox modprobe works), and an /init that prints machine-readable
 * markers on the console and reboots (QEMU's -no-reboot turns that into an exit):
 *
 *   KF-VERIFY start
 *   KF-VERIFY uname <release>
 *   KF-VERIFY sigenforce Y|N                whether module signatures are enforced
 *   KF-VERIFY refuse <label> refused <how>  one per copy that must not load (signing)
 *   KF-VERIFY refuse <label> accepted
 *   KF-VERIFY module <name> ok <how>        one per module to load, in order
 *   KF-VERIFY module <name> failed <reason>
 *   KF-VERIFY done
 *
 * The archive is written here (cpio "newc", gzip), not with cpio(1): every entry is owned by root,
 * timestamps are zero (the same input gives the same bytes), and /dev/console exists as a device
 * node without needing mknod rights.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BuildError } from '../compile/errors.js';
import { runLocal } from '../host/local.js';

// ── cpio newc ──────────────────────────────────────────────────────────────────────────────────

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; mode?: number; data: Buffer }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char' | 'block'; mode?: number; major: number; minor: number };

const S_IFMT = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000 } as const;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** A cpio archive in the "newc" format the kernel unpacks; entries in the order given. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const put = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0], nlink = 1) => {
    const nameBuf = Buffer.from(`${name}\0`);
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    const header = `070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`;
    parts.push(Buffer.from(header, 'ascii'), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)));
    parts.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (name === '' || name.split('/').includes('..')) throw new Error(`cpio: bad path ${e.path}`);
    switch (e.type) {
      case 'dir':
        put(name, S_IFMT.dir | (e.mode ?? 0o755), Buffer.alloc(0), [0, 0], 2);
        break;
      case 'file':
        put(name, S_IFMT.file | (e.mode ?? 0o644), e.data);
        break;
      case 'symlink':
        put(name, S_IFMT.symlink | 0o777, Buffer.from(e.target));
        break;
      default:
        put(name, S_IFMT[e.type] | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]);
    }
  }
  // The trailer: mode 0, no data.
  ino = 0;
  put('TRAILER!!!', 0, Buffer.alloc(0), [0, 0], 1);
  return Buffer.concat(parts);
}

/** Every entry under `root` (directories first, then sorted by path), for cpioNewc. */
export async function treeEntries(root: string): Promise<CpioEntry[]> {
  const out: CpioEntry[] = [];
  const walk = async (rel: string) => {
    const names = readdirSync(rel ? join(root, rel) : root).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const p = join(root, r);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push({ path: r, type: 'symlink', target: readlinkSync(p) });
      else if (st.isDirectory()) {
        out.push({ path: r, type: 'dir', mode: st.mode & 0o7777 });
        await walk(r);
      } else if (st.isFile())
        out.push({ path: r, type: 'file', mode: st.mode & 0o7777, data: await readFile(p) });
      // Sockets, fifos and device files in the staging tree are not expected: left out.
    }
  };
  await walk('');
  return out;
}

// ── the verify initramfs ───────────────────────────────────────────────────────────────────────

export const MARKER = 'KF-VERIFY';

/** Module names that reach the /init script: kernel module names, nothing a shell could misread. */
export const MODULE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface VerifyInitramfsOptions {
  /** Where to stage the tree (replaced) and write the image. */
  workDir: string;
  /** The release the modules are installed for (lib/modules/<release>). */
  release: string;
  /** The kernel's modules_install tree for that release, or null. */
  modulesDir: string | null;
  /** Extra module files (DKMS-built) placed under lib/modules/<release>/updates/dkms. */
  extraModules: string[];
  /** Module names the /init loads, in order. */
  load: string[];
  /** Module files /init must fail to load (before `load`), each under a label: `unsigned`, `other-key`. */
  refuse?: { label: string; file: string }[];
  /** A statically linked busybox (default /bin/busybox). */
  busybox?: string;
  /** depmod (default: found on PATH). */
  depmod?: string;
}

export interface VerifyInitramfs {
  path: string;
  size: number;
  /** Things that did not go as planned but do not stop the boot (depmod failed: insmod fallback). */
  warnings: string[];
  seconds: number;
}

/** The /init script. Kept here, whole, so what runs in the VM is readable in one place. */
export const INIT_SCRIPT = `#!/bin/busybox sh
# kernelfile verify: report the running release and load modules, then reboot (QEMU -no-reboot exits).
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Only emergencies (panics) on the console from now on, so kernel messages cannot cut marker lines.
dmesg -n 1 2>/dev/null
M=${MARKER}
echo "$M start"
rel=$(uname -r)
echo "$M uname $rel"
oneline() { printf '%s' "$*" | tr '\\n\\t' '  ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-400; }
loaded() { [ -d "/sys/module/$1" ] || grep -q "^$1 " /proc/modules 2>/dev/null; }
load() {
  m=$1
  u=$(echo "$m" | sed 's/-/_/g')
  if grep -q -e "/$u\\.ko" -e "/$m\\.ko" "/lib/modules/$rel/modules.builtin" 2>/dev/null; then
    echo "$M module $m ok built into the kernel"; return
  fi
  if loaded "$u"; then echo "$M module $m ok already loaded"; return; fi
  out=$(modprobe "$m" 2>&1 </dev/null); rc=$?
  if [ $rc -eq 0 ] && loaded "$u"; then echo "$M module $m ok loaded by modprobe"; return; fi
  why=$(oneline "$out"); why="\${why:-modprobe $m printed nothing} (exit $rc)"
  ko=$(find "/lib/modules/$rel" -name "$m.ko*" -o -name "$u.ko*" 2>/dev/null | head -n 1)
  if [ -n "$ko" ]; then
    out=$(insmod "$ko" 2>&1 </dev/null); rc=$?
    if [ $rc -eq 0 ] && loaded "$u"; then echo "$M module $m ok loaded by insmod ($why)"; return; fi
    why="$why; insmod $ko: $(oneline "$out") (exit $rc)"
  elif [ ! -d "/lib/modules/$rel" ]; then
    why="$why; no /lib/modules/$rel in the initramfs"
  fi
  k=$(dmesg | grep -F -e "$u" -e "$m" | tail -n 3)
  [ -n "$k" ] && why="$why; kernel: $(oneline "$k")"
  echo "$M module $m failed $why"
}
echo "$M sigenforce $(cat /sys/module/module/parameters/sig_enforce 2>/dev/null || echo unknown)"
# Copies that must be refused (module signing enforced): tried before the real modules load.
if [ -f /etc/kf-verify/refuse ]; then
  while read -r label ko; do
    [ -n "$ko" ] || continue
    out=$(insmod "$ko" 2>&1 </dev/null); rc=$?
    k=$(dmesg | grep -i -e "module verification" -e "is rejected" -e "PKCS#7" | tail -n 1 | sed 's/^[[^]]*] *//')
    if [ $rc -eq 0 ]; then echo "$M refuse $label accepted"
    else echo "$M refuse $label refused $(oneline "$out") (exit $rc); kernel: $(oneline "$k")"; fi
  done < /etc/kf-verify/refuse
fi
if [ -f /etc/kf-verify/modules ]; then
  while read -r name; do
    [ -n "$name" ] && load "$name"
  done < /etc/kf-verify/modules
fi
echo "$M dmesg"
dmesg | sed -n '/Run \\/init/,$p' | sed 's/^/kf-dmesg: /'
echo "$M done"
sync
reboot -f
sleep 5
echo "$M reboot-failed"
`;

/** Build the verify initramfs at <workDir>/initrd.img (gzip-compressed cpio newc). */
export async function makeVerifyInitramfs(opts: VerifyInitramfsOptions): Promise<VerifyInitramfs> {
  const t0 = Date.now();
  const busybox = opts.busybox ?? '/bin/busybox';
  await checkStaticBusybox(busybox);
  for (const n of opts.load)
    if (!MODULE_NAME_RE.test(n)) throw new BuildError(`not a kernel module name: ${JSON.stringify(n)}`);

  const root = join(opts.workDir, 'initramfs-root');
  await rm(root, { recursive: true, force: true });
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'dev',
    'proc',
    'sys',
    'tmp',
    'etc/kf-verify',
    'lib/modules',
  ])
    await mkdir(join(root, d), { recursive: true });
  await copyFile(busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  await symlink('busybox', join(root, 'bin/sh'));
  await writeFile(join(root, 'init'), INIT_SCRIPT, { mode: 0o755 });
  await writeFile(join(root, 'etc/kf-verify/modules'), opts.load.map((n) => `${n}\n`).join(''));

  const warnings: string[] = [];
  const modRoot = join(root, 'lib/modules', opts.release);
  if (opts.modulesDir) {
    // The modules_install tree, without its `build` and `source` links into the build machine.
    await cp(opts.modulesDir, modRoot, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) =>
        !(
          src === join(opts.modulesDir as string, 'build') ||
          src === join(opts.modulesDir as string, 'source')
        ),
    });
  }
  if (opts.extraModules.length > 0) {
    await mkdir(join(modRoot, 'updates/dkms'), { recursive: true });
    for (const ko of opts.extraModules) await copyFile(ko, join(modRoot, 'updates/dkms', basename(ko)));
  }
  if (opts.refuse?.length) {
    await mkdir(join(root, 'lib/kf-verify'), { recursive: true });
    const lines: string[] = [];
    for (const r of opts.refuse) {
      if (!/^[a-z-]{1,32}$/.test(r.label))
        throw new BuildError(`not a refusal label: ${JSON.stringify(r.label)}`);
      const inside = `/lib/kf-verify/${r.label}.ko`;
      await copyFile(r.file, join(root, inside));
      lines.push(`${r.label} ${inside}\n`);
    }
    await writeFile(join(root, 'etc/kf-verify/refuse'), lines.join(''));
  }
  if (existsSync(modRoot)) {
    const r = await runLocal([opts.depmod ?? 'depmod', '-b', root, opts.release]);
    if (r.code !== 0)
      warnings.push(
        `depmod -b ${root} ${opts.release} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}; modules will be loaded with insmod`,
      );
  }

  const entries: CpioEntry[] = [
    { path: 'dev', type: 'dir' },
    { path: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600 },
    { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
    ...(await treeEntries(root)).filter((e) => e.path !== 'dev'),
  ];
  const image = gzipSync(cpioNewc(entries), { level: 9 });
  const path = join(opts.workDir, 'initrd.img');
  await writeFile(path, image);
  return { path, size: image.length, warnings, seconds: (Date.now() - t0) / 1000 };
}

/** busybox must be a static x86_64 ELF: the initramfs has no libc. */
async function checkStaticBusybox(path: string): Promise<void> {
  const hint = 'install busybox-static (apt-get install busybox-static)';
  if (!existsSync(path))
    throw new BuildError(`${path} not found: verify needs a statically linked busybox`, hint);
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1)
      throw new BuildError(`${path} is not a 64-bit little-endian ELF executable`, hint);
    if (head.readUInt16LE(18) !== 62) throw new BuildError(`${path} is not an x86_64 executable`, hint);
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++)
      if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */)
        throw new BuildError(`${path} is dynamically linked: the initramfs has no C library`, hint);
  } finally {
    await fh.close();
  }
}
