#!/bin/bash
# The main job on the built-in sample: make a sample master disk, capture it
# into a signed image, verify it with the public key, restore it to several
# target disks, check each against the image and the master, and print what
# happened. Everything lives in lab-out/ (or $FC_DEMO_DIR).
#   demo.sh [TARGETS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
ntargets=${1:-3}
out=${FC_DEMO_DIR:-lab-out}

./scripts/install-deps.sh
./scripts/build.sh build
fc=build/cli/fleetcast
mkdir -p "$out"
table_of() { sfdisk -d "$1" | grep -v '^device:' | sed 's/^[^ ]* :/:/'; }
export FLEETCAST_HOME=$PWD/$out/home

echo "== 1. sample master disk: GPT, ext4 with ~3000 files, raw data, swap, free space"
[ -f "$out/master.img" ] || ./scripts/sample-disk.sh "$out/master.img" 512 3000
sfdisk -l "$out/master.img" | sed -n '/^Device/,$p'

echo "== 2. signing key"
[ -f "$out/lab.key" ] || "$fc" key gen --out "$out/lab"

echo "== 3. capture"
rm -f "$out/master.fcimg"
"$fc" image create "$out/master.img" "$out/master.fcimg" --key "$out/lab.key"

echo "== 4. verify with the public key only"
"$fc" image verify "$out/master.fcimg" --pubkey "$out/lab.pub"

echo "== 5. restore to $ntargets target disks"
results=()
for i in $(seq 1 "$ntargets"); do
  t="$out/target$i.img"
  rm -f "$t"
  start=$(date +%s.%N)
  "$fc" image restore "$out/master.fcimg" "$t" --pubkey "$out/lab.pub" --quiet
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  "$fc" image compare "$out/master.fcimg" "$t" --quiet
  # An independent check: the restored ext4 is clean and the tables match.
  off=$(sfdisk -d "$t" | awk '/start=/{gsub(/[=,]/," "); print $4; exit}')
  dd if="$t" of="$out/part1.tmp" bs=512 skip="$off" count=$((256 * 2048)) status=none
  e2fsck -fn "$out/part1.tmp" >/dev/null 2>&1 && fsck=clean || fsck=ERRORS
  rm -f "$out/part1.tmp"
  [ "$(table_of "$t")" = "$(table_of "$out/master.img")" ] && table=same || table=DIFFERENT
  results+=("$(printf '%-14s %-8s %-10s %-8s %s' "target$i" ok "$table" "$fsck" "$secs")")
done

echo "== summary"
"$fc" image info "$out/master.fcimg" | sed -n '/^stored/,$p'
printf '%-14s %-8s %-10s %-8s %s\n' disk compare table e2fsck seconds
printf '%s\n' "${results[@]}"
