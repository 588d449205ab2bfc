/**
 * The few sh scripts apply runs on a host, each passed as `sh -c SCRIPT kernelfile ARG…` (argv:
 * the arguments are never spliced into the script text). They only sequence the host's own tools
 * (install, tar, depmod, dkms, update-initramfs…) with temp names and renames, so that an
 * interrupted step leaves either the old state or the new one, and running a step again is safe.
 */

/** argv for one of these scripts. */
export const sh = (script: string, ...args: string[]): string[] => [
  'sh',
  '-c',
  script,
  'kernelfile',
  ...args,
];

/**
 * Install a staged build: $1 staging dir, $2 release. /boot files through temp names; the modules
 * tree and the headers unpacked beside their final place and renamed into it.
 */
export const INSTALL_KERNEL = `set -eu
s=$1 r=$2
put() { install -m 0644 "$s/$1" "/boot/.$2-$r.kf-new" && mv -f "/boot/.$2-$r.kf-new" "/boot/$2-$r"; }
swap() { # swap DIR TARBALL: unpack TARBALL into DIR through DIR.kf-new
  rm -rf "$1.kf-new" "$1.kf-old"; mkdir -p "$1.kf-new"
  tar -xf "$2" -C "$1.kf-new" --no-same-owner
  if [ -e "$1" ] || [ -L "$1" ]; then mv "$1" "$1.kf-old"; fi
  mv "$1.kf-new" "$1"; rm -rf "$1.kf-old"
}
mkdir -p /boot /lib/modules /usr/src
put vmlinuz vmlinuz; put System.map System.map; put config config
swap "/usr/src/linux-headers-$r" "$s/headers.tar"
swap "/lib/modules/$r" "$s/modules.tar"
ln -sfn "/usr/src/linux-headers-$r" "/lib/modules/$r/build"
`;

/**
 * Unpack a DKMS module's source: $1 tarball, $2 /usr/src/NAME-VERSION. Owned by root, modes
 * through umask 022 without setuid/setgid, and refused when it holds a device node, FIFO or socket.
 */
export const UNPACK_MODULE = `set -eu
umask 022
rm -rf "$2.kf-new"; mkdir -m 0700 -p "$2.kf-new"
tar -xf "$1" -C "$2.kf-new" --no-same-owner --no-same-permissions
bad=$(find "$2.kf-new" \\( -type b -o -type c -o -type p -o -type s \\) -print | head -n 1)
if [ -n "$bad" ]; then
  rm -rf "$2.kf-new"
  echo "kernelfile: the module source $1 holds a device node, FIFO or socket, \${bad#"$2.kf-new"/}: refused, nothing was installed" >&2
  exit 1
fi
chmod 0755 "$2.kf-new"
rm -rf "$2.kf-old"; if [ -e "$2" ]; then mv "$2" "$2.kf-old"; fi
mv "$2.kf-new" "$2"; rm -rf "$2.kf-old" "$1"
`;

/**
 * Build and install a DKMS module for a release, then confirm with `dkms status`: $1 name,
 * $2 version, $3 release. On failure, the tail of make.log and its path.
 */
export const DKMS_INSTALL = `set -u
n=$1 v=$2 r=$3
log=/var/lib/dkms/$n/$v/build/make.log
fail() {
  echo "kernelfile: $1" >&2
  if [ -f "$log" ]; then echo "--- last lines of $log:" >&2; tail -n 25 "$log" >&2; fi
  exit 1
}
dkms build -m "$n" -v "$v" -k "$r" --force || fail "dkms build of $n/$v for $r failed"
dkms install -m "$n" -v "$v" -k "$r" --force || fail "dkms install of $n/$v for $r failed"
st=$(dkms status -m "$n" -v "$v" -k "$r" 2>/dev/null)
case $st in *installed*) ;; *) fail "dkms status does not show $n/$v installed for $r: \${st:-nothing}" ;; esac
`;

/** Remove a DKMS module from one release (the module stays added for others): $1 name, $2 version, $3 release. */
export const DKMS_REMOVE = `set -u
dkms uninstall -m "$1" -v "$2" -k "$3" >/dev/null 2>&1 || true
dkms unbuild -m "$1" -v "$2" -k "$3" >/dev/null 2>&1 || dkms remove -m "$1" -v "$2" -k "$3" >/dev/null 2>&1 || true
case $(dkms status -m "$1" -v "$2" -k "$3" 2>/dev/null) in *"$3"*) echo "kernelfile: $1/$2 is still in dkms status for $3" >&2; exit 1 ;; esac
`;

/** Fail unless a file exists and is not empty: $1 path, $2 what it is. */
export const CHECK_FILE = `[ -s "$1" ] || { echo "kernelfile: $2 $1 was not created" >&2; exit 1; }`;

/**
 * initramfs-tools hook: forces the modules listed for the release being built into its image and
 * loads them at boot. A release without a list is left alone, so other kernels are unaffected.
 */
export const INITRAMFS_HOOK = `#!/bin/sh
# Written by kernelfile: adds the modules listed in /etc/kernelfile/initramfs/<release>.modules
# to that release's initramfs (initramfs.modules in the kernelfile) and loads them at boot.
# Other kernels are unaffected. A listed module that does not exist fails the build of the image
# (force_load alone would write it into the image and fail at boot).
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
list="/etc/kernelfile/initramfs/\${version}.modules"
[ -r "$list" ] || exit 0
while read -r mod _; do
  case "$mod" in ''|'#'*) continue ;; esac
  if ! modprobe --set-version="\${version}" --show-depends "$mod" >/dev/null 2>&1; then
    echo "E: kernelfile: module $mod not found for kernel \${version}" >&2
    exit 1
  fi
  force_load "$mod"
done < "$list"
exit 0
`;

/**
 * /etc/grub.d script (run by grub-mkconfig): a menu entry for every /etc/kernelfile/grub/*.entry,
 * with the paths made relative to /boot's filesystem and the commands to reach it, as 10_linux does.
 * Every value it prints is one single-quoted GRUB word (q), each kernel argument its own (`arg=`
 * lines; a file from before them has only `options=`, split at spaces): a title, path or argument
 * never ends the command, opens a block or expands a variable (printf, never echo: dash's echo
 * would turn a title's backslashes into escapes). grub-mkconfig checks the whole
 * grub.cfg with grub-script-check before it replaces the old one.
 */
export const GRUB_SCRIPT = `#!/bin/sh
# Written by kernelfile: menu entries for the kernels kernelfile installed, one per
# /etc/kernelfile/grub/*.entry file. Removing this file removes them at the next update-grub.
set -e
prefix=/usr
exec_prefix=/usr
datarootdir=/usr/share
. "$datarootdir/grub/grub-mkconfig_lib"
q() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\\\\\''/g")"; }
for f in /etc/kernelfile/grub/*.entry; do
  [ -f "$f" ] || continue
  id= title= linux= initrd= options= args= n=0
  while IFS= read -r line; do
    case $line in
      id=*) id=\${line#id=} ;; title=*) title=\${line#title=} ;; linux=*) linux=\${line#linux=} ;;
      initrd=*) initrd=\${line#initrd=} ;; options=*) options=\${line#options=} ;;
      arg=*) args="$args $(q "\${line#arg=}")"; n=$((n + 1)) ;;
    esac
  done < "$f"
  [ -n "$id" ] && [ -f "$linux" ] || continue
  if [ "$n" -eq 0 ]; then
    set -f
    for a in $options; do args="$args $(q "$a")"; done
    set +f
  fi
  echo "Found kernelfile entry: $linux" >&2
  printf '%s\\n' "menuentry $(q "$title") --class gnu-linux --id $(q "$id") {"
  prepare_grub_to_access_device "\${GRUB_DEVICE_BOOT}" | sed 's/^/\\t/'
  printf '\\tlinux\\t%s%s\\n' "$(q "$(make_system_path_relative_to_its_root "$linux")")" "$args"
  if [ -n "$initrd" ] && [ -f "$initrd" ]; then printf '\\tinitrd\\t%s\\n' "$(q "$(make_system_path_relative_to_its_root "$initrd")")"; fi
  echo "}"
done
`;

/**
 * Remove an installed release: $1 release, $2 initramfs tool ('' for none). The receipt is
 * deleted by a later step, so an interrupted removal is found and finished by the next apply.
 */
export const REMOVE_KERNEL = `set -eu
r=$1 tool=$2
case $tool in
  initramfs-tools) if command -v update-initramfs >/dev/null 2>&1; then update-initramfs -d -k "$r" >/dev/null 2>&1 || true; fi ;;
esac
rm -f "/boot/vmlinuz-$r" "/boot/System.map-$r" "/boot/config-$r" "/boot/initrd.img-$r" "/boot/initramfs-$r.img"
rm -f "/etc/kernelfile/initramfs/$r.modules" "/etc/kernelfile/mkinitcpio-$r.conf"
rm -f /etc/kernelfile/grub/kernelfile-"$r".entry /etc/kernelfile/grub/kernelfile-"$r"-*.entry
rm -rf "/lib/modules/$r" "/usr/src/linux-headers-$r"
`;

/**
 * Put a new grub.cfg in place: $1 the new file beside it, $2 grub.cfg. The host's grub-script-check
 * (grub2-script-check on Fedora) reads it first when the host has one; on an error the new file is
 * removed and the old grub.cfg stays.
 */
export const INSTALL_GRUB_CFG = `set -u
new=$1 cfg=$2 chk=
for c in grub-script-check grub2-script-check; do
  if command -v "$c" >/dev/null 2>&1; then chk=$c; break; fi
done
if [ -n "$chk" ] && ! out=$("$chk" "$new" 2>&1); then
  rm -f "$new"
  echo "kernelfile: $chk found errors in the new grub.cfg; $cfg is unchanged: $out" >&2
  exit 1
fi
mv -f "$new" "$cfg"
`;

/** The head of a grub.cfg kernelfile writes itself (grub-explicit): grubenv decides the entry. */
export const GRUB_CFG_HEADER = `# Written by kernelfile: grub-probe could not see the root device where kernelfile ran (a
# chroot or an image), so grub-mkconfig could not. Run update-grub on the booted system to
# replace this file with the distribution's menu.
set timeout=5
if [ -s $prefix/grubenv ]; then load_env; fi
if [ "\${next_entry}" ]; then
  set default="\${next_entry}"
  set next_entry=
  save_env next_entry
else
  set default="\${saved_entry}"
fi
insmod part_msdos
insmod part_gpt
insmod ext2
`;

/** /etc/default/grub.d/kernelfile.cfg: GRUB boots saved_entry, which kernelfile sets by entry id. */
export const GRUB_DEFAULT_SAVED =
  '# Written by kernelfile: the default entry is chosen by id (saved_entry in grubenv), never by menu position.\nGRUB_DEFAULT=saved\n';

/**
 * Load a DKMS module built on the controller and install it for a release, then confirm with
 * `dkms status`: $1 the mktarball archive, $2 name, $3 version, $4 release. No compiler needed.
 */
export const DKMS_LOAD_INSTALL = `set -u
t=$1 n=$2 v=$3 r=$4
fail() { echo "kernelfile: $1" >&2; exit 1; }
dkms ldtarball --force "$t" || fail "dkms ldtarball $t failed"
dkms install -m "$n" -v "$v" -k "$r" --force || fail "dkms install of $n/$v for $r failed"
st=$(dkms status -m "$n" -v "$v" -k "$r" 2>/dev/null)
case $st in *installed*) ;; *) fail "dkms status does not show $n/$v installed for $r: \${st:-nothing}" ;; esac
rm -f "$t"
`;
