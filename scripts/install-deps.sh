#!/usr/bin/env bash
# Installs the Debian 12 packages kernelfile needs to build and verify kernels, with --tests those
# the test suites need too, and with --bench those the benchmarks need besides (run as root, or it
# uses sudo). Each package says what needs it.
set -euo pipefail

# What kernelfile itself uses on this machine (the controller) to build and verify kernels.
packages=(
  linux-source-6.1      # Debian's kernel source: what examples/qemu-tiny builds
  xz-utils patch        # unpacking sources, applying patches
  build-essential       # gcc, make
  bc flex bison         # the kernel's own build needs them
  libelf-dev libssl-dev # objtool and the module signing tools in the kernel build (sign-file, extract-cert)
  openssl sbsigntool    # signing: key pairs (verify's throwaway key), signing.image (sbsign, sbverify)
  cpio kmod             # modules_install and depmod; verify's initramfs
  dkms                  # verify builds DKMS modules with it (in isolated trees, never this machine's)
  qemu-system-x86       # verify boots the kernel (TCG)
  busybox-static        # verify's initramfs
  gnupg gpgv git        # signature checks of sources; git sources
  debootstrap debian-archive-keyring ca-certificates # scripts/quickstart.sh: a throwaway Debian root to apply to
  e2fsprogs             # scripts/quickstart.sh: mke2fs -d makes the disk image the VM boots
  util-linux libcap2-bin # root:DIR hosts: unshare (private namespaces) and capsh (capabilities dropped before the image's binaries run)
  distcc                # build.distcc: the distcc client compiles go through (distccd itself runs on the build hosts)
)

# With --tests (or --bench): what the test suites need besides.
if [ "${1:-}" = "--tests" ] || [ "${1:-}" = "--bench" ]; then
  packages+=(
    tar                    # rootfs.ts: caches the built root as a tarball
    util-linux             # sshd.ts, rootfs.ts: unshare, nsenter, setpriv (namespaces that clean up after themselves)
    mount                  # mount (overlayfs, proc, sysfs, devpts) inside those private mount namespaces
    openssh-client         # sshd.ts: ssh-keygen, ssh-agent, ssh-add; ssh and sftp (sshd comes from inside the Debian root)
    iproute2               # sshd.ts { netns: true }: ip netns/link/route/neigh (hosts with addresses of their own), ss -K (cutNetwork)
    grub-common            # grub-script-check.test.ts: grub-script-check, GRUB's own parser, reads the grub.cfg kernelfile writes
    qemu-utils             # machines.ts: qemu-img (the VMs' qcow2 base images and per-test overlays)
    fdisk                  # machines-image.ts: sfdisk partitions the VM disk image (a file: no loop devices)
    dosfstools mtools      # machines-image.ts: mkfs.vfat -C makes the VMs' EFI system partition as a file, mtools reads it
    ovmf                   # machines.ts: the UEFI firmware (OVMF_CODE_4M.fd, OVMF_VARS_4M.fd) the systemd-boot VMs boot
    diffoscope-minimal     # reproducible-diff.test.ts: build --check-reproducible shows what differs with it when installed
    zsh fish               # completion.test.ts: the scripts of `kernelfile completion zsh|fish` run in the real shells
    gcc-11                 # distcc.test.ts: the other compiler a distcc host has (its probe is refused); distccd comes with distcc
    docker-registry        # registry.ts: a real OCI distribution registry (cache.store) on loopback and the namespaces
    apache2-utils          # registry.ts: htpasswd -B, the registry's Basic auth users
    openssl                # registry.ts: the registry's self-signed TLS certificate and the token service's key
  )
fi

# With --bench: the test packages (the benchmarks start the same SSH hosts), and the peers that
# `npm run bench` measures kernelfile against. The tests never need these.
if [ "${1:-}" = "--bench" ]; then
  packages+=(
    ansible-core           # bench/fleet.ts: `ansible all -m setup` is the baseline for `plan --inventory`
    time                   # bench/fleet.ts: GNU time (/usr/bin/time -f %M), the controller's CPU and peak RSS
  )
fi

run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  run apt-get update -qq
  run apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "present: ${packages[*]}"
