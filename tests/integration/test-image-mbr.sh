#!/bin/bash
# Issue 2: capture an MBR (dos) disk: an ext4 primary, an extended partition
# holding a logical ext4 and a logical raw partition (half random, half
# zeros); restore to a fresh file and check it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DISK=$T/mbr.raw
IMG=$T/mbr.fcimg
OUT=$T/restored.raw

log "building the source disk"
make_tree "$T/tree1" 1200 11
make_tree "$T/tree5" 600 55
truncate -s 256M "$DISK"
must sfdisk -q "$DISK" <<'EOF'
label: dos
start=1MiB, size=96MiB, type=83
start=97MiB, size=144MiB, type=5
start=98MiB, size=64MiB, type=83
start=163MiB, size=16MiB, type=da
EOF
P1=$(part_start "$DISK" 1)
P1_SIZE=$(part_size "$DISK" 1)
P2=$(part_start "$DISK" 2)
P5=$(part_start "$DISK" 5)
P5_SIZE=$(part_size "$DISK" 5)
P6=$(part_start "$DISK" 6)
P6_SIZE=$(part_size "$DISK" 6)
make_ext4 "$T/p1.fs" "$P1_SIZE" "$T/tree1"
make_ext4 "$T/p5.fs" "$P5_SIZE" "$T/tree5"
put "$T/p1.fs" "$DISK" "$P1"
put "$T/p5.fs" "$DISK" "$P5"
garbage "$DISK" "$P6" $((8 * MIB)) # the second half of p6 stays zero
dumpe2fs "$T/p1.fs" >"$T/dump1.txt" 2>/dev/null || die dumpe2fs
dumpe2fs "$T/p5.fs" >"$T/dump5.txt" 2>/dev/null || die dumpe2fs
USED=$(($(ext4_used_bytes "$T/p1.fs") + $(ext4_used_bytes "$T/p5.fs")))
DISK_SIZE=$(fsize "$DISK")

# capture with the default key: created on first use under $FLEETCAST_HOME
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --quiet
check "default key created under FLEETCAST_HOME" test -s "$FLEETCAST_HOME/signing.key" -a -s "$FLEETCAST_HOME/signing.pub"
assert_eq 600 "$(stat -c %a "$FLEETCAST_HOME/signing.key" 2>/dev/null)" "default secret key is mode 0600"
DEFKEY=$(sha "$FLEETCAST_HOME/signing.key")
run "$FLEETCAST" key gen
check "key gen without --out refuses to overwrite the default key (exit $RC)" test "$RC" -ne 0
assert_eq "$DEFKEY" "$(sha "$FLEETCAST_HOME/signing.key")" "default key unchanged"
assert_exit 0 "$FLEETCAST" image create "$DISK" "$T/again.fcimg" --quiet
assert_eq "$(jget <("$FLEETCAST" image info "$IMG" --json) 'd["signer"]')" \
	"$(jget <("$FLEETCAST" image info "$T/again.fcimg" --json) 'd["signer"]')" "a second capture reuses the default key"
rm -f "$T/again.fcimg"
assert_exit 0 "$FLEETCAST" image verify "$IMG" --pubkey "$FLEETCAST_HOME/signing.pub"
assert_exit 0 "$FLEETCAST" image verify "$IMG"
assert_exit 0 "$FLEETCAST" image info "$IMG" --json --extents
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json is not a JSON object: $(head -c 300 "$T/info.json")"
assert_eq mbr "$(jget "$T/info.json" 'd["table"]')" "table is mbr"
assert_eq ext4 "$(pget "$T/info.json" "$P1" fs)" "p1 fs is ext4"
assert_eq fs-bitmap "$(pget "$T/info.json" "$P1" method)" "p1 method is fs-bitmap"
assert_eq 1 "$(pget "$T/info.json" "$P1" index)" "p1 index is 1"
assert_eq ext4 "$(pget "$T/info.json" "$P5" fs)" "logical p5 fs is ext4"
assert_eq fs-bitmap "$(pget "$T/info.json" "$P5" method)" "logical p5 method is fs-bitmap"
assert_eq nonzero "$(pget "$T/info.json" "$P6" method)" "logical p6 (raw) method is nonzero"
assert_eq $((8 * MIB)) "$(pget "$T/info.json" "$P6" stored_bytes)" "logical p6: only its non-zero half stored"
check "ext4 p1: exactly the allocated blocks stored" python3 "$PYHELP" ext4cover "$T/info.json" "$P1" "$T/dump1.txt"
check "ext4 p5: exactly the allocated blocks stored" python3 "$PYHELP" ext4cover "$T/info.json" "$P5" "$T/dump5.txt"

IMG_SIZE=$(fsize "$IMG")
log "image $IMG_SIZE bytes for a $DISK_SIZE-byte disk (ext4 used $USED)"
check "image ($IMG_SIZE) < 40% of the disk" test $((IMG_SIZE * 10)) -lt $((DISK_SIZE * 4))
check "image ($IMG_SIZE) < (8 MiB random + ext4 used) x 1.1" test "$IMG_SIZE" -lt $(((8 * MIB + USED) * 11 / 10))

assert_exit 0 "$FLEETCAST" image restore "$IMG" "$OUT" --quiet
assert_eq "$DISK_SIZE" "$(fsize "$OUT" 2>/dev/null)" "restored file has the disk size"
common_image_checks "$T/info.json" "$DISK" "$OUT"
assert_eq "$(sfdisk_dump "$DISK")" "$(sfdisk_dump "$OUT")" "sfdisk -d identical (MBR and EBR chain restored)"
check "MBR sector identical" python3 "$PYHELP" range "$DISK" "$OUT" 0 512
check "extended partition's EBR sectors identical (before p5)" \
	python3 "$PYHELP" nonzero "$DISK" "$OUT" "$P2" $((P5 - P2))
check "second EBR (between p5 and p6) identical" \
	python3 "$PYHELP" nonzero "$DISK" "$OUT" $((P5 + P5_SIZE)) $((P6 - P5 - P5_SIZE))
check "raw logical partition identical" python3 "$PYHELP" range "$DISK" "$OUT" "$P6" "$P6_SIZE"

for n in 1 5; do
	start=$(part_start "$DISK" $n)
	size=$(part_size "$DISK" $n)
	extract "$OUT" "$start" "$size" "$T/r.fs"
	check "p$n: e2fsck -fn clean on the restored ext4" quiet e2fsck -fn "$T/r.fs"
	dump_tree "$T/r.fs" "$T/rdump"
	if same_fs_tree "$T/tree$n" "$T/rdump"; then
		pass "p$n: files read back equal the source tree"
	else
		fail "p$n: files read back equal the source tree: $(head -5 "$T/diff.log" | tr '\n' ';')"
	fi
	rm -rf "$T/rdump" "$T/r.fs"
done

assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"
OFF=$(python3 "$PYHELP" pick "$T/info.json" "$P5" $((P5 + P5_SIZE))) || die "no stored extent in p5"
flip_byte "$OUT" "$OFF"
assert_exit 6 "$FLEETCAST" image compare "$IMG" "$OUT"
assert_stderr 'chunk [0-9]+' "compare names the differing chunk"

finish
