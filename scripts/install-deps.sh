#!/bin/bash
# Installs every Debian 12 package fleetcast needs to build, run its demo,
# its tests and its benchmarks. Idempotent; needs root.
set -euo pipefail

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config
  # the fuzz build (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # libraries (docs/dependencies.md says why each one)
  libzstd-dev libsodium-dev libext2fs-dev comerr-dev ntfs-3g-dev libisal-dev
  libuv1-dev libjansson-dev libmicrohttpd-dev libpcap-dev libsqlite3-dev check
  libcurl4-openssl-dev
  # tools the tests and the demo drive (ntfs-3g: mkntfs, ntfscp, ntfscat, ntfsfix,
  # ntfscluster for test-image-ntfs, test-winidentity and test-identity; dosfstools and
  # mtools below for test-image-fat)
  e2fsprogs fdisk util-linux python3 zstd coreutils ntfs-3g
  # the console tests: curl, a real browser (chromium; playwright-core comes
  # from npm at test time into ~/.cache/fleetcast-node), a terminal (tmux)
  curl chromium nodejs tmux
  # the netns lab and the reference tools of the benchmarks
  iproute2 iputils-ping nftables iperf udpcast partclone time jq
  # PXE (fleetcast pxe build, tests/integration/test-pxe.sh): QEMU and its PXE ROMs, pxelinux,
  # syslinux for the test's bootable master disk, the kernel and tools the initramfs is made
  # of, dnsmasq (DHCP) and in.tftpd, run by the test inside its namespaces; busybox's udhcpc
  # also plays the PXE ROMs of tests/integration/test-pxe-watch.sh (the watcher: libpcap-dev)
  qemu-system-x86 ipxe-qemu pxelinux syslinux-common syslinux mtools dosfstools
  busybox-static linux-image-amd64 cpio kmod dnsmasq-base tftpd-hpa tftp-hpa
  # UEFI PXE with Secure Boot (pxe build's UEFI tree, tests/integration/test-pxe-uefi.sh):
  # Microsoft-signed shim, Debian-signed GRUB (network and disk images), OVMF with Secure
  # Boot and Microsoft's keys for the test's VMs
  shim-signed grub-efi-amd64-signed ovmf
  # the firmware Debian main ships for the initramfs' drivers (pxe/mkinitramfs.sh copies what
  # its modules name; test-pxe-drivers.sh)
  firmware-linux-free
  # the installed service (tests/integration/test-install.sh): systemd-analyze verify and
  # systemd-sysusers, man (--warnings on the man pages), useradd/userdel for its users
  systemd man-db passwd
)
# Debian's npm, unless npm is there already (NodeSource's nodejs bundles it
# and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get)" >&2
  exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# tftpd-hpa's service would take UDP port 69 on the host; fleetcast only needs its binary.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet tftpd-hpa 2>/dev/null; then
  systemctl disable --now tftpd-hpa || true
fi
