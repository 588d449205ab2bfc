#!/usr/bin/env bash
# kernelfile's whole loop on the example, without a spare machine (run as root on Debian 12 after
# `scripts/install-deps.sh && npm ci`):
#   1. a throwaway Debian bookworm root filesystem (debootstrap minbase + what a host needs to take
#      a kernel: dkms, initramfs-tools, kmod, GRUB's tools), made once and kept in the work dir;
#   2. `kernelfile plan` and `kernelfile apply examples/qemu-tiny/kernelfile.yaml --host root:DIR`:
#      builds the kernel (about 2.5 min on 2 cores, once), installs it, builds the DKMS module with
#      the root's own dkms, makes the initramfs with its update-initramfs, writes the GRUB entry;
#   3. boots that root under QEMU (TCG) from an ext4 disk image with the installed kernel and
#      initramfs, and prints what the booted system reports: `uname -r` and the loaded modules.
# Options (environment): KERNELFILE_QUICKSTART_DIR (default /var/tmp/kernelfile-quickstart),
# KERNELFILE_MIRROR (default: the bookworm mirror apt uses here, else deb.debian.org).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kf() { node "$repo/bin/kernelfile.cjs" "$@"; }
example=$repo/examples/qemu-tiny/kernelfile.yaml
work=${KERNELFILE_QUICKSTART_DIR:-/var/tmp/kernelfile-quickstart}
root=$work/root
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root (debootstrap, chroot and mke2fs need it)" >&2; exit 1; }
mkdir -p "$work"

mirror() {
  [ -n "${KERNELFILE_MIRROR:-}" ] && { echo "$KERNELFILE_MIRROR"; return; }
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2; exit}')
  [ -n "$m" ] || m=$(grep -hsE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$3 == "bookworm" {print $2; exit}')
  echo "${m:-http://deb.debian.org/debian}"
}

step() { printf '\n== %s\n' "$*"; }

if [ ! -e "$root/.kernelfile-quickstart-ready" ]; then
  step "Debian bookworm root in $root (debootstrap, about a minute)"
  rm -rf "$root.tmp"
  debootstrap --variant=minbase \
    --include=dkms,initramfs-tools,busybox,zstd,kmod,grub-pc-bin,libelf1 \
    bookworm "$root.tmp" "$(mirror)" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  touch "$root.tmp/.kernelfile-quickstart-ready"
  rm -rf "$root" && mv "$root.tmp" "$root"
fi

step "kernelfile plan $example --host root:$root"
kf plan "$example" --host "root:$root" --config-diff none

step "kernelfile apply (builds the kernel once: about 2.5 min on 2 cores)"
kf apply "$example" --host "root:$root" --yes

step "kernelfile apply again: nothing to do"
kf apply "$example" --host "root:$root" --yes | tail -1

release=$(sed -n 's/.*"release": "\(.*\)".*/\1/p' "$root"/var/lib/kernelfile/*.json | head -1)
step "Booting $root under QEMU with its kernel $release and initramfs"
cat >"$root/sbin/kernelfile-quickstart-init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc 2>/dev/null
echo "booted: uname -r = $(uname -r)"
echo "loaded modules:"; cat /proc/modules
busybox reboot -f
EOF
chmod 0755 "$root/sbin/kernelfile-quickstart-init"
img=$work/root.img
size=$(($(du -sm "$root" | cut -f1) * 5 / 4 + 128))
mke2fs -q -F -t ext4 -d "$root" "$img" "${size}M"
timeout 180 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 256 -nographic -no-reboot \
  -kernel "$root/boot/vmlinuz-$release" -initrd "$root/boot/initrd.img-$release" \
  -drive "file=$img,format=raw,if=virtio" \
  -append "console=ttyS0 panic=-1 root=/dev/vda init=/sbin/kernelfile-quickstart-init quiet" |
  tee "$work/console.log" | grep -E '^(booted:|loaded modules:|kernelfile_hello )' || true
grep -q "booted: uname -r = $release" "$work/console.log" &&
  grep -q '^kernelfile_hello ' "$work/console.log" ||
  { echo "quickstart: the VM did not report $release with kernelfile_hello loaded; see $work/console.log" >&2; exit 1; }
printf '\nDone: the root in %s boots %s with the DKMS module kernelfile_hello.\n' "$root" "$release"
