#!/bin/bash
# Issue 2: capture a GPT disk (ext4 from a tree of a few thousand files, a
# partition of random data, swap, free space), verify, restore to a fresh
# file, and check the restored disk byte by byte and file by file.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DISK=$T/disk.raw
IMG=$T/disk.fcimg
OUT=$T/restored.raw
KEY=$T/keys/ops

log "building the source disk"
make_tree "$T/tree" 3000
make_gpt_disk "$DISK" "$T/tree"
DISK_SIZE=$(fsize "$DISK")
P1=$(part_start "$DISK" 1)
P1_SIZE=$(part_size "$DISK" 1)
P2=$(part_start "$DISK" 2)
P2_SIZE=$(part_size "$DISK" 2)
P3=$(part_start "$DISK" 3)
USED=$(ext4_used_bytes "$DISK.p1")
dumpe2fs "$DISK.p1" >"$T/dumpe2fs.txt" 2>/dev/null || die "dumpe2fs"
log "disk $DISK_SIZE bytes; ext4 at $P1 uses $USED bytes; tree $(tree_bytes "$T/tree") bytes"

# --- keys
mkdir -p "$T/keys"
assert_exit 0 "$FLEETCAST" key gen --out "$KEY"
assert_eq 600 "$(stat -c %a "$KEY.key" 2>/dev/null)" "secret key file is mode 0600"
check "public key file written" test -s "$KEY.pub"
KEYSUM=$(sha "$KEY.key")
run "$FLEETCAST" key gen --out "$KEY"
check "key gen refuses to overwrite (exit $RC)" test "$RC" -ne 0
assert_eq "$KEYSUM" "$(sha "$KEY.key")" "refused key gen left the key unchanged"
assert_exit 0 "$FLEETCAST" key gen --out "$KEY" --force
check "key gen --force replaced the key" test "$KEYSUM" != "$(sha "$KEY.key")"

# --- capture
SECONDS=0
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --key "$KEY.key" --json
log "capture took ${SECONDS}s"
cp "$T/out" "$T/create.json"
check "create --json prints one JSON object" is_json "$T/create.json"
check "image file exists" test -s "$IMG"
check "no partial file left" test -z "$(find "$T" -maxdepth 1 -name 'disk.fcimg.partial-*')"

assert_exit 0 "$FLEETCAST" image verify "$IMG" --pubkey "$KEY.pub"

assert_exit 0 "$FLEETCAST" image info "$IMG" --json --extents --chunks
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json is not a JSON object: $(head -c 300 "$T/info.json")"
assert_eq gpt "$(jget "$T/info.json" 'd["table"]')" "table is gpt"
assert_eq "$DISK_SIZE" "$(jget "$T/info.json" 'd["disk_size"]')" "disk_size"
for f in image_id chunk_count stored_bytes disk_size; do
	assert_eq "$(jget "$T/info.json" "d['$f']")" "$(jget "$T/create.json" "d.get('$f')")" \
		"create --json and info agree on $f"
done
for f in compressed_bytes seconds; do
	check "create --json has $f" test "$(jget "$T/create.json" "'$f' in d")" = true
done
for f in format_version compressed_bytes created source tool_version; do
	check "info has $f" test "$(jget "$T/info.json" "'$f' in d")" = true
done
SIGNER=$(jget "$T/info.json" 'd["signer"]')
check "signer ($SIGNER) is the key's public key" grep -qi -- "${SIGNER:-none}" "$KEY.pub"

assert_eq ext4 "$(pget "$T/info.json" "$P1" fs)" "p1 fs is ext4"
assert_eq fs-bitmap "$(pget "$T/info.json" "$P1" method)" "p1 method is fs-bitmap"
assert_eq 1 "$(pget "$T/info.json" "$P1" index)" "p1 index is 1"
assert_eq nonzero "$(pget "$T/info.json" "$P2" method)" "p2 (random) method is nonzero"
assert_eq 2 "$(pget "$T/info.json" "$P2" index)" "p2 index is 2"
assert_eq "$P2_SIZE" "$(pget "$T/info.json" "$P2" stored_bytes)" "p2 stored whole (random data has no zero block)"
assert_eq swap "$(pget "$T/info.json" "$P3" fs)" "p3 fs is swap"
assert_eq swap-header "$(pget "$T/info.json" "$P3" method)" "p3 method is swap-header"
P3_STORED=$(pget "$T/info.json" "$P3" stored_bytes)
check "p3 stores only the swap header ($P3_STORED bytes <= 64 KiB)" test "$P3_STORED" -gt 0 -a "$P3_STORED" -le 65536
assert_eq "$USED" "$(pget "$T/info.json" "$P1" stored_bytes)" "p1 stored_bytes == ext4 used bytes"
check "regions outside partitions are index 0 / nonzero entries" \
	test "$(jget "$T/info.json" 'all(p["method"] == "nonzero" for p in d["partitions"] if p["index"] == 0) and any(p["index"] == 0 for p in d["partitions"])')" = true
if python3 "$PYHELP" ext4cover "$T/info.json" "$P1" "$T/dumpe2fs.txt" >"$T/cover.log" 2>&1; then
	pass "ext4: allocated blocks stored, free (garbage) blocks not stored"
else
	fail "ext4: allocated blocks stored, free (garbage) blocks not stored: $(tr '\n' ';' <"$T/cover.log")"
fi

# --- size
IMG_SIZE=$(fsize "$IMG")
log "image $IMG_SIZE bytes for a $DISK_SIZE-byte disk"
check "image ($IMG_SIZE) < 40% of the disk ($DISK_SIZE)" test $((IMG_SIZE * 10)) -lt $((DISK_SIZE * 4))
BOUND=$(((P2_SIZE + USED) * 11 / 10))
check "image ($IMG_SIZE) < (random partition + ext4 used) x 1.1 ($BOUND)" test "$IMG_SIZE" -lt "$BOUND"

# --- restore to a fresh file
SECONDS=0
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$OUT" --pubkey "$KEY.pub" --quiet
log "restore took ${SECONDS}s"
assert_eq "$DISK_SIZE" "$(fsize "$OUT" 2>/dev/null)" "restored file has the disk size"

common_image_checks "$T/info.json" "$DISK" "$OUT"
assert_eq "$(sfdisk_dump "$DISK")" "$(sfdisk_dump "$OUT")" "sfdisk -d identical"
check "protective MBR + primary GPT (first 34 sectors) identical" \
	python3 "$PYHELP" range "$DISK" "$OUT" 0 $((34 * 512))
check "backup GPT (last 33 sectors) identical" \
	python3 "$PYHELP" range "$DISK" "$OUT" $((DISK_SIZE - 33 * 512)) $((33 * 512))
check "random partition identical" python3 "$PYHELP" range "$DISK" "$OUT" "$P2" "$P2_SIZE"
check "swap header page identical" python3 "$PYHELP" range "$DISK" "$OUT" "$P3" 4096
check "non-zero bytes in the free space after the partitions identical" \
	python3 "$PYHELP" range "$DISK" "$OUT" $((400 * MIB)) $((100 * 1024))

extract "$OUT" "$P1" "$P1_SIZE" "$T/r.p1"
if e2fsck -fn "$T/r.p1" >"$T/fsck.log" 2>&1; then
	pass "e2fsck -fn clean on the restored ext4"
else
	fail "e2fsck -fn clean on the restored ext4: $(tail -5 "$T/fsck.log" | tr '\n' ';')"
fi
dump_tree "$T/r.p1" "$T/rdump"
if same_fs_tree "$T/tree" "$T/rdump"; then
	pass "files read back with debugfs rdump equal the source tree"
else
	fail "files read back with debugfs rdump equal the source tree: $(head -5 "$T/diff.log" | tr '\n' ';')"
fi
rm -rf "$T/rdump" "$T/r.p1"

# --- compare
assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"
# A byte changed outside every stored region (zeros after the partitions) is "don't care".
flip_byte "$OUT" $((350 * MIB))
assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"
flip_byte "$OUT" $((350 * MIB))
# A byte changed inside a stored region of the ext4 partition.
OFF=$(python3 "$PYHELP" pick "$T/info.json" "$P1" $((P1 + P1_SIZE))) || die "no stored extent in p1"
flip_byte "$OUT" "$OFF"
assert_exit 6 "$FLEETCAST" image compare "$IMG" "$OUT"
CHUNK=$(python3 "$PYHELP" chunk-of "$T/info.json" "$OFF")
assert_stderr "chunk $CHUNK([^0-9]|\$)" "compare names the chunk holding byte $OFF (chunk $CHUNK)"

# --- --zero-free and --discard exclude each other: a usage error, nothing written
assert_exit 2 "$FLEETCAST" image restore "$IMG" "$T/both.raw" --zero-free --discard --quiet
check "usage error wrote no target" test ! -e "$T/both.raw"

# --- restore --zero-free over a disk full of garbage gives the same disk as a fresh restore
flip_byte "$OUT" "$OFF"
garbage "$T/dirty.raw" 0 "$DISK_SIZE"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/dirty.raw" --pubkey "$KEY.pub" --zero-free --quiet
check "restore --zero-free over garbage == restore to a fresh file" cmp -s "$OUT" "$T/dirty.raw"
rm -f "$T/dirty.raw"

# --- restore over garbage without --zero-free still gives a clean filesystem
garbage "$T/dirty.raw" 0 "$DISK_SIZE"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/dirty.raw" --quiet
extract "$T/dirty.raw" "$P1" "$P1_SIZE" "$T/d.p1"
check "restore over garbage (no --zero-free): e2fsck -fn clean" quiet e2fsck -fn "$T/d.p1"
rm -f "$T/dirty.raw" "$T/d.p1"

finish
