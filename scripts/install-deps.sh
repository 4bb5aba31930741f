#!/bin/bash
# Installs every Debian 12 package fleetcast needs to build, run its demo,
# its tests and its benchmarks. Idempotent; needs root.
set -euo pipefail

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config
  # libraries (docs/dependencies.md says why each one)
  libzstd-dev libsodium-dev libext2fs-dev comerr-dev libisal-dev
  libuv1-dev libjansson-dev libmicrohttpd-dev libpcap-dev check
  # tools the tests and the demo drive
  e2fsprogs fdisk util-linux python3 zstd coreutils
  # the netns lab and the reference tools of the benchmarks
  iproute2 nftables iperf udpcast partclone time
)

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
