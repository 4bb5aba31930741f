#!/bin/bash
# Issue 2: a whole-disk ext4 without a partition table (mke2fs on the disk
# itself): the table is "none", the ext4 is still found and captured by its
# block bitmaps, and the restored disk is a clean, identical filesystem.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DISK=$T/whole.raw
IMG=$T/whole.fcimg
OUT=$T/restored.raw

log "building the source disk"
make_tree "$T/tree" 2000 7
make_ext4 "$DISK" $((256 * MIB)) "$T/tree"
dumpe2fs "$DISK" >"$T/dump.txt" 2>/dev/null || die dumpe2fs
USED=$(ext4_used_bytes "$DISK")
DISK_SIZE=$(fsize "$DISK")

assert_exit 0 "$FLEETCAST" key gen --out "$T/k"
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --key "$T/k.key" --level 3 --threads 2 --json
cp "$T/out" "$T/create.json"
check "create --json prints one JSON object" is_json "$T/create.json"
assert_exit 0 "$FLEETCAST" image verify "$IMG" --pubkey "$T/k.pub"
assert_exit 0 "$FLEETCAST" image info "$IMG" --json --extents
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json is not a JSON object: $(head -c 300 "$T/info.json")"
assert_eq none "$(jget "$T/info.json" 'd["table"]')" "table is none"
assert_eq "[[0, $DISK_SIZE, \"ext4\", \"fs-bitmap\"]]" \
	"$(jget "$T/info.json" '[[int(p["start"]), int(p["size"]), p["fs"], p["method"]] for p in d["partitions"]]')" \
	"one entry covering the disk: ext4 by fs-bitmap"
assert_eq "$USED" "$(jget "$T/info.json" 'd["stored_bytes"]')" "stored_bytes == ext4 used bytes"
check "exactly the allocated blocks stored" python3 "$PYHELP" ext4cover "$T/info.json" 0 "$T/dump.txt"
IMG_SIZE=$(fsize "$IMG")
log "image $IMG_SIZE bytes for a $DISK_SIZE-byte disk (ext4 used $USED)"
check "image ($IMG_SIZE) < 40% of the disk" test $((IMG_SIZE * 10)) -lt $((DISK_SIZE * 4))
check "image ($IMG_SIZE) < ext4 used x 1.1" test "$IMG_SIZE" -lt $((USED * 11 / 10))

assert_exit 0 "$FLEETCAST" image restore "$IMG" "$OUT" --pubkey "$T/k.pub" --json
cp "$T/out" "$T/restore.json"
check "restore --json prints one JSON object" is_json "$T/restore.json"
assert_eq "$DISK_SIZE" "$(fsize "$OUT" 2>/dev/null)" "restored file has the disk size"
common_image_checks "$T/info.json" "$DISK" "$OUT"
if e2fsck -fn "$OUT" >"$T/fsck.log" 2>&1; then
	pass "e2fsck -fn clean on the restored disk"
else
	fail "e2fsck -fn clean on the restored disk: $(tail -5 "$T/fsck.log" | tr '\n' ';')"
fi
assert_eq "$(dumpe2fs -h "$DISK" 2>/dev/null)" "$(dumpe2fs -h "$OUT" 2>/dev/null)" "dumpe2fs -h identical"
dump_tree "$OUT" "$T/rdump"
if same_fs_tree "$T/tree" "$T/rdump"; then
	pass "files read back equal the source tree"
else
	fail "files read back equal the source tree: $(head -5 "$T/diff.log" | tr '\n' ';')"
fi

# Restoring onto an existing, larger file is allowed. Past the image's disk
# the old bytes stay, but for the target's last MiB, where an old disk keeps
# its backup GPT and RAID/LVM labels: that is always cleared (issue 8).
truncate -s $((DISK_SIZE + 3 * MIB)) "$T/big.raw"
garbage "$T/big.raw" "$DISK_SIZE" $((3 * MIB))
MID=$(dd if="$T/big.raw" bs=1M skip=$((DISK_SIZE / MIB)) count=2 status=none | sha256sum)
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/big.raw" --quiet
assert_eq "$MID" "$(dd if="$T/big.raw" bs=1M skip=$((DISK_SIZE / MIB)) count=2 status=none | sha256sum)" \
	"bytes after the disk size untouched, up to the target's last MiB"
assert_eq "$(head -c "$MIB" /dev/zero | sha256sum)" "$(tail -c "$MIB" "$T/big.raw" | sha256sum)" \
	"the target's last MiB cleared (an old backup GPT or RAID label would be there)"
check "restored onto a larger file: first disk_size bytes == fresh restore" \
	python3 "$PYHELP" range "$OUT" "$T/big.raw" 0 "$DISK_SIZE"

assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"

finish
