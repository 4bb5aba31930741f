#!/usr/bin/env bash
# NTFS and FAT capture benchmark of issue 12.
#
# Builds an NTFS partition (mkntfs over random garbage, files copied in with
# ntfscp, a pagefile.sys of PAGEFILE_MIB random bytes) and a FAT32 one
# (mkfs.vfat over garbage, files by mcopy), each in a GPT disk file, then
# captures each disk, R times (median reported), with
#   after:     fleetcast image create DISK IMG --level L      (this tree)
#   before:    the same command of --before BIN (a build without the NTFS/FAT
#              probes: every non-zero 4 KiB block)
#   reference: partclone.ntfs|fat -c -s PART -o - | zstd -T0 -L
# and prints stored bytes, image bytes and capture seconds as markdown.
#
# Not a timed test: run it by hand as root. See bench/README.md.
# The reference capture is `bash -c '...' _ ARGS`: the single quotes are intended.
# shellcheck disable=SC2016

set -euo pipefail

FLEETCAST=$(dirname "$0")/../../build/cli/fleetcast BEFORE="" RUNS=3 LEVEL=3
PART_MIB=1024 FILES_MIB=256 PAGEFILE_MIB=512 # the volumes: see the report's last line

usage() {
    cat <<EOF
usage: $0 [options]
  --before BIN       a fleetcast without the NTFS/FAT probes (e.g. main before issue 12)
  --fleetcast BIN    the fleetcast measured as "after" (default $FLEETCAST)
  --runs R           repetitions, median reported (default $RUNS)
  --level L          zstd level of every capture (default $LEVEL)
  --help             this text
EOF
}

while (($#)); do
    case $1 in
    --before) BEFORE=$2; shift 2 ;;
    --fleetcast) FLEETCAST=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --level) LEVEL=$2; shift 2 ;;
    --help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 64 ;;
    esac
done
((EUID == 0)) || { echo "run as root (partclone reads the partition files)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/fc-fsbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export FLEETCAST_HOME=$W/home MTOOLS_SKIP_CHECK=1

# files DIR : FILES_MIB of files, half random, half text.
files() {
    python3 - "$1" "$FILES_MIB" <<'PY'
import os, random, sys
rnd = random.Random(7)
root, left = sys.argv[1], int(sys.argv[2]) << 20
os.makedirs(root)
i = 0
while left > 0:
    n = min(left, rnd.choice([3000, 60000, 900000, 6 << 20]))
    text = (b"line %d of a text file in the benchmark\n" % i) * (n // 40 + 1)
    with open("%s/f%04d.%s" % (root, i, "bin" if i % 2 else "txt"), "wb") as f:
        f.write(rnd.randbytes(n) if i % 2 else text[:n])
    left -= n
    i += 1
PY
}

# disk PART DISK : a GPT disk file holding PART at 1 MiB.
disk() {
    truncate -s $(((PART_MIB + 2) << 20)) "$2"
    printf 'label: gpt\nstart=1MiB, size=%dMiB\n' "$PART_MIB" | sfdisk -q "$2"
    dd if="$1" of="$2" bs=1M seek=1 conv=notrunc,sparse status=none
}

echo "building the volumes in $W" >&2
files "$W/files"
head -c $((PART_MIB << 20)) /dev/urandom >"$W/ntfs.part"
mkntfs -q -f -F "$W/ntfs.part"
for f in "$W"/files/*; do ntfscp "$W/ntfs.part" "$f" "$(basename "$f")"; done
head -c $((PAGEFILE_MIB << 20)) /dev/urandom >"$W/pagefile.sys"
ntfscp "$W/ntfs.part" "$W/pagefile.sys" pagefile.sys
rm -f "$W/pagefile.sys"
head -c $((PART_MIB << 20)) /dev/urandom >"$W/fat.part"
mkfs.vfat -F 32 "$W/fat.part" >/dev/null
mcopy -s -i "$W/fat.part" "$W"/files/* ::/
disk "$W/ntfs.part" "$W/ntfs.disk"
disk "$W/fat.part" "$W/fat.disk"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# capture NAME CMD... : runs CMD RUNS times; prints "median seconds" and
# leaves the last output in $W/NAME.out.
capture() {
    local name=$1 i t0
    shift
    for ((i = 0; i < RUNS; i++)); do
        sync
        t0=$(date +%s.%N)
        "$@" >"$W/$name.out"
        awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN {printf "%.2f\n", a - b}'
    done | median
}

row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

echo "| volume | capture | stored MiB | image MiB | seconds (median of $RUNS) |"
echo "|---|---|---|---|---|"
for fs in ntfs fat; do
    for who in after before; do
        bin=$FLEETCAST
        if [[ $who == before ]]; then
            [[ -n $BEFORE ]] || continue
            bin=$BEFORE
        fi
        s=$(capture "$fs-$who" "$bin" image create "$W/$fs.disk" "$W/$fs-$who.fcimg" --level "$LEVEL" --json --quiet)
        stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored_bytes"])' "$W/$fs-$who.out")
        row "$fs" "fleetcast ($who)" "$(mib "$stored")" "$(mib "$(stat -c %s "$W/$fs-$who.fcimg")")" "$s"
        rm -f "$W/$fs-$who.fcimg"
    done
    pc=partclone.$fs
    s=$(capture "$fs-pc" bash -c '"$1" -c -q -s "$2" -o - 2>/dev/null | zstd -T0 -"$3" -q -c >"$4"' \
        _ "$pc" "$W/$fs.part" "$LEVEL" "$W/$fs.pcz")
    row "$fs" "$pc \| zstd -$LEVEL" "-" "$(mib "$(stat -c %s "$W/$fs.pcz")")" "$s"
    rm -f "$W/$fs.pcz"
done
echo
echo "partition ${PART_MIB} MiB over random garbage, ${FILES_MIB} MiB of files; NTFS with a ${PAGEFILE_MIB} MiB pagefile.sys"
