#!/usr/bin/env bash
# Installs the Debian 12 packages the test suites need (run as root, or it uses sudo).
# The list grows with the suites; each package says what needs it.
set -euo pipefail

packages=(
  linux-source-6.1 # the real kernel source the end-to-end suite validates, patches and builds
  xz-utils         # unpacking it
  patch            # checking that example patches apply
  debootstrap            # test/helpers/rootfs.ts: builds the Debian 12 root that SSH test hosts serve
  debian-archive-keyring # debootstrap checks bookworm's Release file with it (debootstrap only recommends it)
  ca-certificates        # debootstrap, when this machine's apt mirror is https
  tar                    # rootfs.ts: caches the built root as a tarball
  util-linux             # sshd.ts, rootfs.ts: unshare, nsenter, setpriv (namespaces that clean up after themselves)
  mount                  # mount (overlayfs, proc, sysfs, devpts) inside those private mount namespaces
  openssh-client         # sshd.ts: ssh-keygen, ssh-agent, ssh-add; test/integration: ssh, sftp (sshd comes from inside the Debian root)
)

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
echo "test dependencies present: ${packages[*]}"
