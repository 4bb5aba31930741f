#!/bin/bash
# Issue 11, disks bigger than the master's (file-based: 270 s on the shared, loaded 2-core machine).
#   master   96 MiB GPT: p1 ext4 16 MiB, p2 swap 8 MiB, p3 ext4 (the rest) with ~300 files
#   restore  to a file twice the size without --grow: sfdisk --verify clean (the backup GPT at
#            the file's end), the partitions exactly the master's, image compare ok (the GPT
#            fitted to the disk left out), JSON gpt_moved; a target of the same size is
#            byte-identical to the master's restore (untouched)
#   --grow   p3 fills the disk (to the last usable LBA), sfdisk --verify clean, e2fsck -fn
#            clean, the filesystem as big as its partition, every file equal (debugfs rdump),
#            p1 and p2 unchanged; JSON and text say "done"
#   results  --grow-part 1 (not the last): "not possible: another partition lies after it",
#            exit 0, table the master's; swap last (a second master): its header grown,
#            UUID and label kept; a smaller target refused in human units
#   NTFS     (issue 12) an NTFS last partition (mkntfs + ntfscp) grown through ntfsresize:
#            JSON and text say "done", the volume (ntfsresize --info) fills the partition,
#            ntfsfix -n clean, no chkdsk mark left (ntfsinfo), every file equal (ntfscat),
#            p1 and p2 unchanged; a hibernated volume captured with --force: "not possible:
#            the NTFS volume is hibernated or marked dirty" with the fix, exit 0, not grown
#   session  fleetcastd --grow to two receivers writing files twice the size in the netns
#            lab: both grown (e2fsck clean, files equal), the server logs "grow: done" per
#            machine and its stats show it beside the verdict; then a --grow session of the
#            NTFS image: the receiver's NTFS grown the same way, the server logs it
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 300 "$@"
mc_init
for t in sfdisk mkswap mke2fs e2fsck resize2fs debugfs dumpe2fs losetup blkid mkntfs ntfscp \
	ntfscat ntfsfix ntfsinfo ntfsresize; do
	command -v "$t" >/dev/null || die "missing $t: run scripts/install-deps.sh"
done

SIZE=$((96 * MIB))
P3=$((25 * MIB))

# gpt_disk DISK LAST_KIND : p1 ext4 16 MiB, p2 swap 8 MiB, p3 LAST_KIND (ext4 with the tree,
# swap, or ntfs with the files of $T/nfiles) to the end.
GROW_TABLE='label: gpt
start=1MiB, size=16MiB, type=linux, name="boot"
start=17MiB, size=8MiB, type=swap, name="swap"
start=25MiB, type=linux, name="root"'
gpt_disk() {
	local disk=$1
	rm -f "$disk" && truncate -s "$SIZE" "$disk" && must sfdisk -q "$disk" <<<"$GROW_TABLE"
	P3_SIZE=$(part_size "$disk" 3)
	make_ext4 "$T/p1.fs" $((16 * MIB)) "$T/small"
	put "$T/p1.fs" "$disk" "$MIB"
	make_swap "$T/p2.swap" $((8 * MIB))
	put "$T/p2.swap" "$disk" $((17 * MIB))
	case $2 in
	ext4)
		make_ext4 "$T/p3.fs" "$P3_SIZE" "$T/tree"
		put "$T/p3.fs" "$disk" "$P3"
		;;
	swap)
		make_swap "$T/p3.swap" "$P3_SIZE"
		put "$T/p3.swap" "$disk" "$P3"
		;;
	ntfs)
		make_ntfs "$T/p3.ntfs" "$P3_SIZE"
		put "$T/p3.ntfs" "$disk" "$P3"
		;;
	esac
}

# make_ntfs FILE SIZE : an NTFS volume holding the files of $T/nfiles (ntfscp: no FUSE).
make_ntfs() {
	local f
	rm -f "$1" && truncate -s "$2" "$1"
	must mkntfs -q -f -F -L fc-win "$1"
	for f in "$T"/nfiles/*; do must ntfscp "$1" "$f" "$(basename "$f")"; done
}

# part_out DISK N OUT : partition N of DISK copied to OUT.
part_out() {
	dd if="$1" of="$3" bs=1M iflag=skip_bytes,count_bytes skip="$(part_start "$1" "$2")" \
		count="$(part_size "$1" "$2")" status=none
}

# partitions DISK : the partition lines of sfdisk -d (start, size, type, uuid, name).
partitions() { sfdisk_dump "$1" | grep '^DISK'; }

# grown DISK WHAT : p3 ends at the disk's last usable LBA; its ext4 is clean, as big as the
# partition, and holds the master's files; p1 and p2 are the master's.
grown() {
	local disk=$1 what=$2 last fs_bytes
	check "$what: sfdisk --verify clean" eval "sfdisk --verify '$disk' 2>&1 | grep -q 'No errors detected'"
	last=$(sfdisk -d "$disk" | sed -n 's/^last-lba: //p')
	assert_eq $((last + 1)) $(($(part_start "$disk" 3) / 512 + $(part_size "$disk" 3) / 512)) \
		"$what: p3 ends at the last usable LBA ($last)"
	part_out "$disk" 3 "$T/grown.fs"
	check "$what: e2fsck -fn clean" quiet e2fsck -fn "$T/grown.fs"
	fs_bytes=$(dumpe2fs -h "$T/grown.fs" 2>/dev/null | awk -F: '/^Block count/ {c=$2} /^Block size/ {b=$2} END {print c * b}')
	check "$what: the filesystem fills its partition ($fs_bytes of $(part_size "$disk" 3) bytes)" \
		test $(($(part_size "$disk" 3) - fs_bytes)) -lt 4096
	dump_tree "$T/grown.fs" "$T/grown.tree"
	check "$what: every file equal (debugfs rdump)" same_fs_tree "$T/tree" "$T/grown.tree"
	check "$what: p1 and p2 unchanged" cmp -s -i "$MIB" -n $((24 * MIB)) "$disk" "$REF"
	rm -rf "$T/grown.fs" "$T/grown.tree"
}

# ntfs_grown DISK WHAT : p3 ends at the disk's last usable LBA; its NTFS volume fills it
# (ntfsresize --info: less than a cluster left, the backup boot sector's), ntfsfix -n is
# clean, no chkdsk mark is left, every file reads back equal; p1 and p2 are the master's.
ntfs_grown() {
	local disk=$1 what=$2 last vol bad=0 f
	check "$what: sfdisk --verify clean" eval "sfdisk --verify '$disk' 2>&1 | grep -q 'No errors detected'"
	last=$(sfdisk -d "$disk" | sed -n 's/^last-lba: //p')
	assert_eq $((last + 1)) $(($(part_start "$disk" 3) / 512 + $(part_size "$disk" 3) / 512)) \
		"$what: p3 ends at the last usable LBA ($last)"
	part_out "$disk" 3 "$T/grown.ntfs"
	vol=$(ntfsresize --info --no-progress-bar "$T/grown.ntfs" 2>&1 | sed -n 's/^Current volume size: *\([0-9]*\) bytes.*/\1/p')
	check "$what: the NTFS volume fills its partition (${vol:-?} of $(part_size "$disk" 3) bytes)" \
		test -n "$vol" -a $(($(part_size "$disk" 3) - ${vol:-0})) -lt 4096
	check "$what: bigger than the master's volume" test "${vol:-0}" -gt "$P3_SIZE"
	check_out "$what: ntfsfix -n clean" ntfsfix -n "$T/grown.ntfs"
	assert_match 'Volume Flags: 0x0000' "$(ntfsinfo -m "$T/grown.ntfs" 2>&1)" \
		"$what: not left marked for chkdsk (ntfsinfo opens it, flags clear)"
	for f in "$T"/nfiles/*; do
		ntfscat "$T/grown.ntfs" "$(basename "$f")" 2>/dev/null | cmp -s - "$f" || bad=$((bad + 1))
	done
	assert_eq 0 "$bad" "$what: every file equal (ntfscat, $(find "$T/nfiles" -type f | wc -l) files)"
	check "$what: p1 and p2 unchanged" cmp -s -i "$MIB" -n $((24 * MIB)) "$disk" "$T/ntfs.ref"
	rm -f "$T/grown.ntfs"
}

# ---------------------------------------------------------------------------- master

make_tree "$T/small" 20 2
make_tree "$T/tree" 300 3
gpt_disk "$T/master.raw" ext4
IMG=$T/master.fcimg PUB=$T/key.pub REF=$T/ref.img
must "$FLEETCAST" key gen --out "$T/key"
must "$FLEETCAST" image create "$T/master.raw" "$IMG" --key "$T/key.key" --quiet
must "$FLEETCAST" image restore "$IMG" "$REF" --pubkey "$PUB" --quiet
log "master: $SIZE bytes GPT, image $(fsize "$IMG") bytes"

# ---------------------------------------------------------------------------- restore

truncate -s $((2 * SIZE)) "$T/plain.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/plain.img" --pubkey "$PUB" --json
assert_eq true "$(jget "$T/out" 'd["gpt_moved"]')" "restore --json: gpt_moved"
assert_eq MISSING "$(jget "$T/out" 'd.get("grow", "MISSING")')" "restore --json: no grow without --grow"
assert_match "backup GPT moved to the disk's end" "$(cat "$T/err")" "restore logs the move"
check "without --grow: sfdisk --verify clean" eval "sfdisk --verify '$T/plain.img' 2>&1 | grep -q 'No errors detected'"
assert_eq "$(partitions "$T/master.raw")" "$(partitions "$T/plain.img")" \
	"without --grow: the partitions are the master's"
assert_eq $((2 * SIZE / 512 - 34)) "$(sfdisk -d "$T/plain.img" | sed -n 's/^last-lba: //p')" \
	"without --grow: LastUsableLBA at the disk's end"
assert_exit 0 "$FLEETCAST" image compare "$IMG" "$T/plain.img"
assert_match 'GPT headers and entries .* not compared' "$(cat "$T/err")" "compare says what it leaves out"
check "without --grow: p3 byte-identical to the master's restore" \
	cmp -s -i "$P3" -n "$P3_SIZE" "$T/plain.img" "$REF"

truncate -s "$SIZE" "$T/same.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/same.img" --pubkey "$PUB" --grow --quiet
check "a target of the master's size: identical to its restore (not moved, not grown)" \
	cmp -s "$T/same.img" "$REF"
rm -f "$T/same.img"

truncate -s $((2 * SIZE)) "$T/grow.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/grow.img" --pubkey "$PUB" --grow --json
assert_eq true "$(jget "$T/out" 'd["grow"]["done"]')" "restore --grow --json: grow done"
assert_match '^partition 3 \(ext4\) .* -> .*: done$' "$(jget "$T/out" 'd["grow"]["detail"]')" \
	"restore --grow --json: what grew"
grown "$T/grow.img" "--grow"
rm -f "$T/plain.img" "$T/grow.img"

# ---------------------------------------------------------------------------- results

truncate -s $((2 * SIZE)) "$T/p1.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/p1.img" --pubkey "$PUB" --grow-part 1
assert_match 'grow partition 1: not possible: another partition lies after it \(partition 2\)' \
	"$(cat "$T/out")" "--grow-part 1: not possible, says why"
assert_eq "$(partitions "$T/master.raw")" "$(partitions "$T/p1.img")" "--grow-part 1: table the master's"
rm -f "$T/p1.img"
assert_exit 2 "$FLEETCAST" image restore "$IMG" "$T/x.img" --grow-part 0
assert_stderr '--grow-part takes a partition number' "--grow-part 0 refused"

gpt_disk "$T/swap.raw" swap
must "$FLEETCAST" image create "$T/swap.raw" "$T/swap.fcimg" --key "$T/key.key" --quiet
truncate -s $((2 * SIZE)) "$T/swap.img"
assert_exit 0 "$FLEETCAST" image restore "$T/swap.fcimg" "$T/swap.img" --pubkey "$PUB" --grow
assert_match 'grow partition 3 \(swap\) .*: done' "$(cat "$T/out")" "swap last: grown"
part_out "$T/swap.raw" 3 "$T/sw.before"
part_out "$T/swap.img" 3 "$T/sw.after"
assert_eq "$(blkid -s UUID -o value "$T/sw.before") fc-swap" \
	"$(blkid -s UUID -o value "$T/sw.after") $(blkid -s LABEL -o value "$T/sw.after")" \
	"swap: UUID and label kept"
assert_eq $(($(fsize "$T/sw.after") / 4096 - 1)) \
	"$(od -An -tu4 -j 1028 -N 4 "$T/sw.after" | tr -d ' ')" "swap: its header's last page is the partition's"
check "swap: sfdisk --verify clean" eval "sfdisk --verify '$T/swap.img' 2>&1 | grep -q 'No errors detected'"
rm -f "$T"/swap.* "$T"/sw.*

truncate -s $((SIZE / 2)) "$T/small.img"
assert_exit 4 "$FLEETCAST" image restore "$IMG" "$T/small.img" --pubkey "$PUB" --grow
assert_stderr 'is 48\.0 MiB \([0-9]+ bytes\), smaller than the image.s disk of 96\.0 MiB' \
	"a smaller target refused, sizes in human units"

# ---------------------------------------------------------------------------- NTFS

mkdir -p "$T/nfiles"
for n in 0 1 700 5000 70000 300000 2500000; do head -c "$n" /dev/urandom >"$T/nfiles/f$n.bin"; done
printf 'text in an NTFS file\n' >"$T/nfiles/readme.txt"
gpt_disk "$T/ntfs.raw" ntfs
cp "$T/p3.ntfs" "$T/p3.clean"
must "$FLEETCAST" image create "$T/ntfs.raw" "$T/ntfs.fcimg" --key "$T/key.key" --quiet
must "$FLEETCAST" image restore "$T/ntfs.fcimg" "$T/ntfs.ref" --pubkey "$PUB" --quiet
truncate -s $((2 * SIZE)) "$T/ntfs.img"
assert_exit 0 "$FLEETCAST" image restore "$T/ntfs.fcimg" "$T/ntfs.img" --pubkey "$PUB" --grow --json
assert_eq "true|done" "$(jget "$T/out" 'json.dumps(d["grow"]["done"]) + "|" + d["grow"]["result"]')" \
	"NTFS last: grow done (JSON)"
assert_match '^partition 3 \(ntfs\) .* -> .*: done$' "$(jget "$T/out" 'd["grow"]["detail"]')" \
	"NTFS last: what grew (JSON detail)"
ntfs_grown "$T/ntfs.img" "NTFS --grow"
rm -f "$T/ntfs.img"

# ntfsresize refusing (a stand-in first in PATH): the grow step fails, its output is in
# the error line, and the table is left as the image has it (the test run comes first).
mkdir -p "$T/fakebin"
printf '#!/bin/sh\necho "simulated: cannot resize" >&2\nexit 1\n' >"$T/fakebin/ntfsresize"
chmod +x "$T/fakebin/ntfsresize"
truncate -s $((2 * SIZE)) "$T/ntfs.img"
assert_exit 0 env PATH="$T/fakebin:$PATH" "$FLEETCAST" image restore "$T/ntfs.fcimg" "$T/ntfs.img" \
	--pubkey "$PUB" --grow --json
assert_eq "false|failed" "$(jget "$T/out" 'json.dumps(d["grow"]["done"]) + "|" + d["grow"]["result"]')" \
	"ntfsresize failing: grow failed, the restore still succeeds"
assert_stderr 'ntfsresize --no-action ended with status 1: simulated: cannot resize' \
	"ntfsresize failing: its output in the error line"
assert_eq "$(partitions "$T/ntfs.raw")" "$(partitions "$T/ntfs.img")" "ntfsresize failing: table not grown"
rm -rf "$T/ntfs.img" "$T/fakebin"

# A hibernated volume (Windows fast start-up), captured anyway with --force: its last
# writes are in hiberfil.sys, so it is not grown, and the result says how to fix it.
cp "$T/p3.clean" "$T/p3.ntfs"
{ printf 'hibr' && head -c $((MIB)) /dev/urandom; } >"$T/hiberfil.sys"
must ntfscp "$T/p3.ntfs" "$T/hiberfil.sys" hiberfil.sys
put "$T/p3.ntfs" "$T/ntfs.raw" "$P3"
must "$FLEETCAST" image create "$T/ntfs.raw" "$T/hib.fcimg" --key "$T/key.key" --quiet --force
truncate -s $((2 * SIZE)) "$T/hib.img"
assert_exit 0 "$FLEETCAST" image restore "$T/hib.fcimg" "$T/hib.img" --pubkey "$PUB" --grow
assert_match 'grow partition 3: not possible: the NTFS volume is hibernated .*shut it down with fast start-up off or run chkdsk /f' \
	"$(cat "$T/out")" "hibernated NTFS: not possible, says why and how to fix it, exit 0"
assert_eq "$(partitions "$T/ntfs.raw")" "$(partitions "$T/hib.img")" "hibernated NTFS: not grown"
rm -f "$T"/hib.* "$T/hiberfil.sys" "$T/p3.ntfs"


# ---------------------------------------------------------------------------- session

lab_create 2 || die "lab_create"
mc_server -- --rate 200M --min-receivers 2 --max-wait 30 --grow
for m in m1 m2; do truncate -s $((2 * SIZE)) "$T/$m.img"; done
mc_recv m1
mc_recv m2
mc_wait_recvs 120 m1 m2
mc_wait_server 30
for m in m1 m2; do
	assert_eq 0 "${MC_RC[$m]}" "$m: fleetcast-recv exit code"
	assert_match 'grow: partition 3 \(ext4\) .*: done' "$(cat "$T/$m.log")" "$m: its log says it grew"
	assert_match "machine $m( \([^)]*\))?: grow: done" "$(cat "$T/srv.log")" "server log: $m grew"
	assert_eq "True|done" "$(mc_srv_stat "next('%s|%s' % (r['grow']['done'], r['grow']['result']) for r in d['receivers'] if r['name'] == '$m')")" \
		"stats: $m's grow beside its verdict"
	assert_eq written "$(mc_srv_rx "$m" verdict)" "stats: $m's verdict (the image as written)"
	grown "$T/$m.img" "$m"
done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"

# The NTFS image in a --grow session: the receiver grows it as restore does.
IMG=$T/ntfs.fcimg
rm -f "$T/m1.img" && truncate -s $((2 * SIZE)) "$T/m1.img"
mc_server srv2 -- --rate 200M --min-receivers 1 --grow
mc_recv m1
mc_wait_recvs 120 m1
mc_wait_server 30
assert_eq 0 "${MC_RC[m1]}" "NTFS session: fleetcast-recv exit code"
assert_match 'grow: partition 3 \(ntfs\) .*: done' "$(cat "$T/m1.log")" "NTFS session: m1's log says it grew"
assert_match "machine m1( \([^)]*\))?: grow: done" "$(cat "$T/srv2.log")" "NTFS session: the server logs m1 grew"
ntfs_grown "$T/m1.img" "NTFS session m1"
assert_eq 0 "$SRV_RC" "NTFS session: fleetcastd exit code"
mc_finish
