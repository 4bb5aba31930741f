#!/bin/bash
# Issue 12: FAT32 and FAT16 by the FAT itself. An MBR disk with a FAT32
# partition (an EFI system partition's kind) and a FAT16 one, each made by
# mkfs.vfat over random garbage (free clusters must not be stored) and filled
# with a tree of files by mtools (mcopy): captured, restored, fsck.vfat -n
# clean, every file equal (mcopy back out), the stored bytes exactly the
# metadata and the used clusters fsck.vfat counts.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DISK=$T/disk.raw
IMG=$T/disk.fcimg
OUT=$T/restored.raw

for tool in mkfs.vfat fsck.vfat mcopy; do
	command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh: dosfstools, mtools)"
done
export MTOOLS_SKIP_CHECK=1

# fat_tree DIR SEED : a make_tree tree FAT can hold (no symlinks).
fat_tree() {
	make_tree "$1" 500 "$2"
	find "$1" -type l -delete
}

# fat_geom PARTFILE : "DATA_START CLUSTER_BYTES USED_CLUSTERS" from fsck.vfat.
fat_geom() {
	fsck.vfat -n -v "$1" 2>/dev/null | awk '
		/Data area starts at byte/ {d=$6}
		/bytes per cluster/ {c=$1}
		/clusters$/ {split($(NF-1), u, "/")}
		END {print d, c, u[1]}'
}

log "building the source disk"
truncate -s 320M "$DISK"
printf 'label: dos\nstart=1MiB, size=160MiB, type=c\nstart=161MiB, size=96MiB, type=e\n' |
	sfdisk -q "$DISK" >"$T/setup.log" 2>&1 || die "sfdisk: $(cat "$T/setup.log")"
declare -A BITS=([1]=32 [2]=16) START SIZE GEOM
for n in 1 2; do
	START[$n]=$(part_start "$DISK" $n)
	SIZE[$n]=$(part_size "$DISK" $n)
	garbage "$T/p$n" 0 "${SIZE[$n]}"
	must mkfs.vfat -F "${BITS[$n]}" -n "FC-FAT${BITS[$n]}" "$T/p$n"
	fat_tree "$T/tree$n" "$n"
	must mcopy -s -i "$T/p$n" "$T/tree$n"/* ::/
	must fsck.vfat -n "$T/p$n"
	GEOM[$n]=$(fat_geom "$T/p$n")
	log "p$n: FAT${BITS[$n]}, data start / cluster / used clusters: ${GEOM[$n]}"
	put "$T/p$n" "$DISK" "${START[$n]}"
	rm -f "$T/p$n"
done

# --- capture
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --quiet
assert_exit 0 "$FLEETCAST" image verify "$IMG"
assert_exit 0 "$FLEETCAST" image info "$IMG" --json --extents
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json is not a JSON object: $(head -c 300 "$T/info.json")"
for n in 1 2; do
	assert_eq "fat${BITS[$n]}" "$(pget "$T/info.json" "${START[$n]}" fs)" "p$n fs is fat${BITS[$n]}"
	assert_eq fs-bitmap "$(pget "$T/info.json" "${START[$n]}" method)" "p$n method is fs-bitmap (the FAT)"
	read -r data cluster used <<<"${GEOM[$n]}"
	[[ -n $used ]] || die "fsck.vfat -v gave no geometry for p$n"
	STORED=$(pget "$T/info.json" "${START[$n]}" stored_bytes)
	assert_eq $((data + used * cluster)) "$STORED" \
		"p$n stores the reserved sectors, FATs, root directory and the $used used clusters, no free one"
	check "p$n stored ($STORED) < half the partition (the free space is garbage)" \
		test $((STORED * 2)) -lt "${SIZE[$n]}"
done
assert_eq 2 "$(jget "$T/info.json" 'd["manifest_version"]')" "manifest version 2 (FAT regions)"

# --- restore and check each filesystem
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$OUT" --quiet
common_image_checks "$T/info.json" "$DISK" "$OUT"
for n in 1 2; do
	extract "$OUT" "${START[$n]}" "${SIZE[$n]}" "$T/r.p$n"
	check_out "p$n: fsck.vfat -n clean on the restored FAT${BITS[$n]}" fsck.vfat -n "$T/r.p$n"
	mkdir -p "$T/back$n"
	must mcopy -s -n -i "$T/r.p$n" '::/*' "$T/back$n/"
	check_out "p$n: every file copied back out with mcopy equals the source tree" \
		diff -r --no-dereference "$T/tree$n" "$T/back$n"
	rm -rf "$T/back$n" "$T/r.p$n"
done
assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"

# --- a FAT boot sector broken on the master: stored by non-zero blocks, said
printf '\xff\xff' | dd of="$DISK" bs=1 seek=$((START[2] + 11)) conv=notrunc status=none # bytes per sector
assert_exit 0 "$FLEETCAST" image create "$DISK" "$T/bad.fcimg" --quiet
assert_stderr "partition 2: FAT boot sector invalid" "a damaged FAT boot sector: a warning"
assert_exit 0 "$FLEETCAST" image info "$T/bad.fcimg" --json
cp "$T/out" "$T/bad.json"
assert_eq nonzero "$(pget "$T/bad.json" "${START[2]}" method)" "damaged p2 falls back to non-zero blocks"
assert_match "FAT boot sector invalid.*non-zero blocks" "$(pget "$T/bad.json" "${START[2]}" note)" \
	"damaged p2: the region note says why"
assert_eq fat32 "$(pget "$T/bad.json" "${START[1]}" fs)" "p1 still by its FAT"

finish
