#!/bin/bash
# Issue 12: an NTFS partition by its used clusters. A GPT disk with an NTFS
# partition made by mkntfs over random garbage (its free clusters must not be
# stored), files copied in with ntfscp, among them a large pagefile.sys and a
# swapfile.sys (their data is don't-care: not stored, said in image info):
# captured, restored, ntfsfix -n clean, every file equal (ntfscat). Then a
# "hibernated" volume (hiberfil.sys starting with a hibernation signature) is
# refused with the fix in the message, and captured with --force.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DISK=$T/disk.raw
IMG=$T/disk.fcimg
OUT=$T/restored.raw
P1=$((1 * MIB))
P1_SIZE=$((320 * MIB))
PAGEFILE=$((128 * MIB))
SWAPFILE=$((8 * MIB))

for tool in mkntfs ntfscp ntfscat ntfsfix ntfscluster ntfsinfo; do
	command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh: ntfs-3g)"
done

# make_files DIR : the files to copy in: random and compressible, from empty
# to a few MiB.
make_files() {
	python3 - "$1" <<'PY'
import os, random, sys
rnd = random.Random(12)
os.makedirs(sys.argv[1], exist_ok=True)
for i in range(40):
    n = [0, 1, 700, 5000, 70000, 300000, 2500000][i % 7] + rnd.randrange(100)
    data = rnd.randbytes(n) if i % 2 else (b"text in an NTFS file %d\n" % i * (n // 20 + 1))[:n]
    with open(os.path.join(sys.argv[1], "file%02d.%s" % (i, "bin" if i % 2 else "txt")), "wb") as f:
        f.write(data)
PY
}

# ntfs_info PARTFILE FIELD : a number from ntfscluster -i.
ntfs_info() {
	ntfscluster -i "$1" 2>/dev/null | awk -F: -v k="$2" '$1 ~ "^" k " *$" {print $2 + 0}'
}

# set_dirty PARTFILE : set VOLUME_IS_DIRTY in $Volume's record (3) of both
# $MFT and $MFTMirr (ntfs-3g compares them), as Windows leaves a volume that
# was not shut down cleanly. The record's update sequence is undone and
# redone around the change.
set_dirty() {
	python3 - "$1" <<'PY'
import struct, sys

def patch(f, off, size):
    f.seek(off)
    r = bytearray(f.read(size))
    assert r[:4] == b"FILE", "no MFT record at %d" % off
    usa_ofs, usa_cnt = struct.unpack_from("<HH", r, 4)
    usn = bytes(r[usa_ofs:usa_ofs + 2])
    for i in range(1, usa_cnt):
        r[i * 512 - 2:i * 512] = r[usa_ofs + 2 * i:usa_ofs + 2 * i + 2]
    a = struct.unpack_from("<H", r, 0x14)[0]
    while True:
        kind, length = struct.unpack_from("<II", r, a)
        assert kind != 0xFFFFFFFF, "no VOLUME_INFORMATION"
        if kind == 0x70:
            flags = a + struct.unpack_from("<H", r, a + 0x14)[0] + 10
            struct.pack_into("<H", r, flags, struct.unpack_from("<H", r, flags)[0] | 1)
            break
        a += length
    for i in range(1, usa_cnt):
        r[usa_ofs + 2 * i:usa_ofs + 2 * i + 2] = r[i * 512 - 2:i * 512]
        r[i * 512 - 2:i * 512] = usn
    f.seek(off)
    f.write(r)

with open(sys.argv[1], "r+b") as f:
    boot = f.read(512)
    sector, per_cluster = struct.unpack_from("<HB", boot, 11)
    cluster = sector * per_cluster
    mft, mirr = struct.unpack_from("<QQ", boot, 0x30)
    c = struct.unpack_from("<b", boot, 0x40)[0]
    rec = c * cluster if c > 0 else 1 << -c
    for lcn in (mft, mirr):
        patch(f, lcn * cluster + 3 * rec, rec)
PY
}

log "building the source disk"
make_files "$T/files"
truncate -s 512M "$DISK"
printf 'label: gpt\nstart=1MiB, size=320MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="windows"\n' |
	sfdisk -q "$DISK" >"$T/setup.log" 2>&1 || die "sfdisk: $(cat "$T/setup.log")"
garbage "$T/p1" 0 "$P1_SIZE"
must mkntfs -q -f -F -L fc-win "$T/p1"
for f in "$T"/files/*; do
	must ntfscp "$T/p1" "$f" "$(basename "$f")"
done
head -c "$PAGEFILE" /dev/urandom >"$T/pagefile.sys"
head -c "$SWAPFILE" /dev/urandom >"$T/swapfile.sys"
must ntfscp "$T/p1" "$T/pagefile.sys" pagefile.sys
must ntfscp "$T/p1" "$T/swapfile.sys" swapfile.sys
rm -f "$T/pagefile.sys" "$T/swapfile.sys"
must ntfsfix -n "$T/p1"
VOL=$(ntfs_info "$T/p1" "bytes per volume")
FREE=$(ntfs_info "$T/p1" "bytes of free space")
CLUSTER=$(ntfs_info "$T/p1" "bytes per cluster")
[[ -n $VOL && -n $FREE && ${CLUSTER:-0} -gt 0 ]] || die "ntfscluster -i gave no volume figures"
USED=$((VOL - FREE))
cp "$T/p1" "$T/p1.clean"
put "$T/p1" "$DISK" "$P1"
rm -f "$T/p1"
DONTCARE=$(((PAGEFILE + SWAPFILE + CLUSTER - 1) / CLUSTER * CLUSTER))
log "NTFS: $USED bytes in use of $VOL (cluster $CLUSTER), of which $DONTCARE pagefile/swapfile"

# --- capture
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --json
cp "$T/out" "$T/create.json"
assert_eq "$DONTCARE" "$(jget "$T/create.json" 'd.get("dontcare_bytes")')" "create --json: dontcare_bytes"
assert_exit 0 "$FLEETCAST" image verify "$IMG"
assert_exit 0 "$FLEETCAST" image info "$IMG" --json --extents
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json is not a JSON object: $(head -c 300 "$T/info.json")"
assert_eq ntfs "$(pget "$T/info.json" "$P1" fs)" "p1 fs is ntfs"
assert_eq fs-bitmap "$(pget "$T/info.json" "$P1" method)" "p1 method is fs-bitmap (\$Bitmap)"
assert_eq "$DONTCARE" "$(pget "$T/info.json" "$P1" dontcare_bytes)" \
	"p1 dontcare_bytes = pagefile.sys + swapfile.sys, whole clusters"
assert_eq "$DONTCARE" "$(jget "$T/info.json" 'd["dontcare_bytes"]')" "image dontcare_bytes"
assert_eq 2 "$(jget "$T/info.json" 'd["manifest_version"]')" "manifest version 2 (an NTFS region)"
STORED=$(pget "$T/info.json" "$P1" stored_bytes)
# The used clusters, minus the don't-care files, plus the backup boot sector
# past the last cluster: free clusters (random garbage here) add nothing.
assert_eq $((USED - DONTCARE + P1_SIZE - VOL)) "$STORED" \
	"p1 stores exactly the used clusters but pagefile/swapfile data, and the backup boot sector"
check "p1 stored ($STORED) < a tenth of the partition" test $((STORED * 10)) -lt "$P1_SIZE"
assert_match "pagefile.sys 128.0 MiB, swapfile.sys 8.0 MiB" "$(pget "$T/info.json" "$P1" note)" \
	"p1 note names the don't-care files and their sizes"
assert_exit 0 "$FLEETCAST" image info "$IMG"
assert_match "not stored: 136.0 MiB of pagefile" "$(cat "$T/out")" "image info says what was not stored"
IMG_SIZE=$(fsize "$IMG")
check "image ($IMG_SIZE) < stored bytes + 1 MiB" test "$IMG_SIZE" -lt $((STORED + MIB))

# --- restore and check the filesystem
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$OUT" --quiet
common_image_checks "$T/info.json" "$DISK" "$OUT"
extract "$OUT" "$P1" "$P1_SIZE" "$T/r.p1"
check_out "ntfsfix -n clean on the restored NTFS" ntfsfix -n "$T/r.p1"
bad=0
for f in "$T"/files/*; do
	if ! ntfscat "$T/r.p1" "$(basename "$f")" 2>/dev/null | cmp -s - "$f"; then
		bad=$((bad + 1))
		log "differs: $(basename "$f")"
	fi
done
assert_eq 0 "$bad" "every file read back with ntfscat equals its source ($(find "$T/files" -type f | wc -l) files)"
# A fresh target holds zeros where nothing was stored: the pagefile's data
# reads back as zeros, its entry and size kept.
assert_eq "$PAGEFILE" "$(ntfscat "$T/r.p1" pagefile.sys 2>/dev/null | wc -c)" \
	"restored pagefile.sys keeps its size (entry and MFT record stored)"
check "restored pagefile.sys data is not the master's (not stored: zeros)" \
	test -z "$(ntfscat "$T/r.p1" pagefile.sys 2>/dev/null | tr -d '\0' | head -c 1)"
assert_exit 0 "$FLEETCAST" image compare "$IMG" "$OUT"
rm -f "$T/r.p1" "$OUT"

# --- a hibernated volume: refused with the fix, unless --force
for sig in hibr HIBR wake; do
	cp "$T/p1.clean" "$T/p1"
	{
		printf '%s' "$sig"
		head -c $((4 * MIB)) /dev/urandom
	} >"$T/hiberfil.sys"
	must ntfscp "$T/p1" "$T/hiberfil.sys" hiberfil.sys
	put "$T/p1" "$DISK" "$P1"
	assert_exit 1 "$FLEETCAST" image create "$DISK" "$T/hib.fcimg" --quiet
	assert_stderr "hibernated.*shut down with fast start-up off, or run chkdsk /f" \
		"'$sig': refused, the message says how to fix it"
	assert_error_line "'$sig' refused"
	check "'$sig': no image written" test ! -e "$T/hib.fcimg"
	check "'$sig': no partial file left" test -z "$(find "$T" -maxdepth 1 -name 'hib.fcimg.partial-*')"
done
assert_exit 0 "$FLEETCAST" image create "$DISK" "$T/hib.fcimg" --quiet --force
assert_stderr "warning: .*hibernated.*--force" "--force: captured with a warning"
assert_exit 0 "$FLEETCAST" image info "$T/hib.fcimg" --json
cp "$T/out" "$T/hib.json"
assert_match "hibernated.*--force" "$(jget "$T/hib.json" 'next(p["note"] for p in d["partitions"] if p["index"] == 1)')" \
	"--force: the region note says the volume was hibernated"
# hiberfil.sys is 4 MiB + 4 bytes: its first cluster (the header) is stored.
assert_eq $((DONTCARE + 4 * MIB)) "$(jget "$T/hib.json" 'd["dontcare_bytes"]')" \
	"hiberfil.sys data don't-care but for its first cluster (the header)"

# --- a volume marked dirty (not cleanly shut down): refused the same way
cp "$T/p1.clean" "$T/p1"
set_dirty "$T/p1" || die "could not set the dirty flag"
assert_match "Volume Flags: 0x0001 DIRTY" "$(ntfsinfo -m -f "$T/p1" 2>/dev/null)" "precondition: ntfsinfo sees the dirty flag"
put "$T/p1" "$DISK" "$P1"
assert_exit 1 "$FLEETCAST" image create "$DISK" "$T/dirty.fcimg" --quiet
assert_stderr "marked dirty.*run chkdsk /f" "dirty: refused, the message says how to fix it"
check "dirty: no image written" test ! -e "$T/dirty.fcimg"
assert_exit 0 "$FLEETCAST" image create "$DISK" "$T/dirty.fcimg" --quiet --force
assert_eq fs-bitmap "$(jget <("$FLEETCAST" image info "$T/dirty.fcimg" --json) \
	'next(p["method"] for p in d["partitions"] if p["index"] == 1)')" "dirty with --force: still by its clusters"

assert_exit 64 "$FLEETCAST" image verify "$T/hib.fcimg" --force
assert_exit 64 "$FLEETCAST" image restore "$T/hib.fcimg" "$T/x.raw" --force --quiet
check "restore --force refused before writing" test ! -e "$T/x.raw"

finish
