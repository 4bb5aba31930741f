#!/bin/bash
# Makes the sample master disk used by the demo and the lab: a GPT disk file
# with an ext4 root filled with a few thousand files of mixed sizes and
# content, a partition of random data with no filesystem, a swap partition
# and free space at the end. Garbage is written first so that the ext4
# filesystem's free blocks are not zero, as on a disk that has been used.
#   sample-disk.sh PATH [SIZE_MIB (default 512)] [FILES (default 3000)]
set -euo pipefail

out=$1
size_mib=${2:-512}
nfiles=${3:-3000}
ext_mib=$((size_mib / 2))
raw_mib=$((size_mib / 16))
swap_mib=$((size_mib / 32))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A tree of mixed files: text (compressible), binaries, random (not
# compressible), empty and tiny ones, nested directories, a symlink.
make_tree() {
  local dir=$1 n=$2 i sub
  local texts=(/usr/share/common-licenses/*) bins=() f
  # Regular files only: /usr/bin/X11 is a link to "." once x11-common is
  # installed (chromium pulls it in), and head cannot read a directory.
  for f in /usr/bin/*; do [[ -f $f && ! -L $f ]] && bins+=("$f"); done
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    sub=$dir/d$((i % 37))/e$((i % 5))
    mkdir -p "$sub"
    case $((i % 8)) in
      0) : >"$sub/empty$i" ;;
      1) echo "file $i" >"$sub/tiny$i.txt" ;;
      2 | 3) head -c $(((i * 7919) % 65536 + 1)) "${texts[i % ${#texts[@]}]}" >"$sub/text$i.txt" ;;
      4 | 5) head -c $(((i * 104729) % 200000 + 1)) "${bins[i % ${#bins[@]}]}" >"$sub/bin$i" ;;
      6) head -c $(((i * 31) % 8192 + 1)) /dev/urandom >"$sub/rand$i" ;;
      7) head -c $(((i % 64 == 15) ? 2097152 : 65536)) /dev/urandom >"$sub/big$i" ;;
    esac
  done
  ln -s d0/e0/tiny1.txt "$dir/link-to-tiny"
}

rm -f "$out"
truncate -s "${size_mib}M" "$out"
# Non-zero garbage where the ext4 will go: its free blocks must not be zero.
head -c $((ext_mib / 4))M /dev/urandom | dd of="$out" bs=1M seek=$((1 + ext_mib / 2)) conv=notrunc status=none
printf 'label: gpt\n,%sM,L\n,%sM,L\n,%sM,S\n' "$ext_mib" "$raw_mib" "$swap_mib" | sfdisk -q "$out"
start() { sfdisk -d "$out" | awk -v p="$1" '$1 ~ p"$" {gsub(/[=,]/," "); print $4}'; }
make_tree "$work/tree" "$nfiles"
mke2fs -q -t ext4 -F -d "$work/tree" -E offset=$(($(start 1) * 512)) "$out" "${ext_mib}M"
dd if=/dev/urandom of="$out" bs=1M seek=$(($(start 2) / 2048)) count="$raw_mib" conv=notrunc status=none
truncate -s "${swap_mib}M" "$work/swap"
mkswap -q "$work/swap" >/dev/null
dd if="$work/swap" of="$out" bs=1M seek=$(($(start 3) / 2048)) conv=notrunc status=none
