#!/bin/bash
# Issue 8, disk safety and secure defaults on the machines.
#   restore  over an old, larger disk full of garbage with an old backup GPT header in its last
#            sector, an md superblock and LVM/ZFS-like labels in the swap partition's unstored
#            space: those areas read zero afterwards (the last sector holds the disk's own
#            backup GPT, moved there: issue 11), the stored regions equal the image (image
#            compare), the rest of the old data is still there; with --zero-free every
#            unstored byte is zero and the disk equals a fresh restore but for its GPT.
#   session  one multicast session to three such disks: a file (ends cleared), a file with
#            fleetcast-recv --zero-free (all unstored zero), and a loop block device written
#            with --insecure (BLKZEROOUT path).
#   secure   fleetcast-recv refuses a block device without --pubkey (exit 2, names --insecure)
#            and leaves it untouched; `fleetcast pxe build` refuses without --key and builds
#            with --insecure-any-signer (fleetcast.insecure=1), --image-id and per-MAC entries
#            (--machine), keeps a machine fleetcastd imaged on its local disk, and `pxe reset`
#            no longer writes files itself (fleetcastd does, from its inventory: test-boot).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 580 "$@"
mc_init
UNSTORED=$IT_DIR/unstored.py

log "building the GPT test disk and its image"
mc_image gpt 200
"$FLEETCAST" image info "$IMG" --json --extents >"$T/ext.json" || die "image info --extents"
P3=$(part_start "$T/disk.raw" 3)
P3_END=$((P3 + $(part_size "$T/disk.raw" 3)))
OLD_SIZE=$((DISK_SIZE + 8 * MIB)) # the old disk is larger than the image's

# dirty FILE : an old disk of OLD_SIZE bytes of garbage with what would confuse a machine later.
dirty() {
	[[ -f $T/old.raw ]] || garbage "$T/old.raw" 0 "$OLD_SIZE"
	rm -f "$1"
	cp --sparse=never "$T/old.raw" "$1" || die "cp old.raw"
	# A backup GPT header in the last sector (firmware and the kernel look there).
	printf 'EFI PART\0\0\1\0' | dd of="$1" bs=1 seek=$((OLD_SIZE - 512)) conv=notrunc status=none
	# md superblock 1.2 magic, 4 KiB into the swap partition (past the stored swap header).
	printf '\xfc\x4e\x2b\xa9' | dd of="$1" bs=1 seek=$((P3 + 4096)) conv=notrunc status=none
	# An LVM label and a ZFS-like label near the partition's end.
	printf 'LABELONE\0\0\0\0\0\0\0\0LVM2 001' | dd of="$1" bs=1 seek=$((P3_END - 300 * 1024)) \
		conv=notrunc status=none
	printf '\x0c\xb1\xba\0\0\0\0\0' | dd of="$1" bs=1 seek=$((P3_END - 8192)) conv=notrunc status=none
}

# no_labels FILE WHAT : the planted labels are gone, the stored regions equal the image.
no_labels() {
	check "$2: the old backup GPT header replaced by the disk's own, moved to its end" \
		eval "sfdisk --verify '$1' 2>&1 | grep -q 'No errors detected' && [[ \$(tail -c 512 '$1' | od -An -tu8 -j24 -N8 | tr -d ' ') == $((OLD_SIZE / 512 - 1)) ]]"
	check "$2: md magic gone" eval "! dd if='$1' bs=1 skip=$((P3 + 4096)) count=4 status=none | grep -aq \$'\\xfc\\x4e\\x2b\\xa9'"
	check "$2: LVM label gone" eval "! dd if='$1' bs=4096 skip=$(((P3_END - 300 * 1024) / 4096)) count=1 status=none | grep -aq LABELONE"
	check "$2: ends of the disk and of every partition: zero where not stored" \
		python3 "$UNSTORED" edges "$T/ext.json" "$1"
	check "$2: image compare" quiet "$FLEETCAST" image compare "$IMG" "$1"
}

# ---------------------------------------------------------------------------- restore

dirty "$T/r1.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/r1.img" --pubkey "$PUB" --quiet
assert_stderr 'cleared .* not stored by the image' "restore logs what it cleared in one line"
assert_eq 1 "$(grep -c 'cleared' "$T/err")" "one line"
no_labels "$T/r1.img" "restore"
check "restore: old data elsewhere kept without --zero-free (middle of swap)" \
	python3 "$UNSTORED" nonzero "$T/r1.img" $((P3 + 8 * MIB)) "$MIB"
assert_eq "$OLD_SIZE" "$(fsize "$T/r1.img")" "restore: the target keeps its size"

dirty "$T/r2.img"
assert_exit 0 "$FLEETCAST" image restore "$IMG" "$T/r2.img" --pubkey "$PUB" --zero-free --quiet
no_labels "$T/r2.img" "restore --zero-free"
check "restore --zero-free: every unstored byte zero, to the end of the old disk" \
	python3 "$UNSTORED" all "$T/ext.json" "$T/r2.img"
# shellcheck disable=SC2317 # called through check
same_but_gpt() { # the GPT fitted to the bigger disk: LBA 0's table, LBA 1, the old backup header
	cmp -s -n 446 "$1" "$REF" && cmp -s -i 1024 -n $((DISK_SIZE - 1536)) "$1" "$REF"
}
check "restore --zero-free: equals a fresh restore (but for its GPT)" same_but_gpt "$T/r2.img"
rm -f "$T/r1.img" "$T/r2.img"

# ---------------------------------------------------------------------------- secure defaults

dirty "$T/loop.raw"
loop_attach "$T/loop.raw" || die "no loop device (losetup)"
before=$(sha "$T/loop.raw")
assert_exit 2 "$FLEETCAST_RECV" --target "$LOOP" --server 127.0.0.1:9 --discover-timeout 1
assert_stderr "refusing .*block device.*--pubkey.*--insecure" "recv names --pubkey and --insecure"
assert_eq "$before" "$(sha "$T/loop.raw")" "the refused block device is untouched"
assert_exit 8 "$FLEETCAST_RECV" --target "$T/f.img" --server 127.0.0.1:9 --discover-timeout 1
assert_stderr "no --pubkey.*any signer" "a file target without --pubkey: allowed, with a warning"
assert_exit 64 "$FLEETCAST_RECV" --target "$T/f.img" --no-such-flag
assert_stderr "no-such-flag" "recv names an unknown flag"

# ---------------------------------------------------------------------------- session

lab_create 3 || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"
dirty "$T/m1.img"
dirty "$T/m2.img"
mc_server -- --rate 100M --min-receivers 3 --max-wait 60
log "session $SESSION: m1 file, m2 file --zero-free, m3 loop device --insecure"
mc_recv m1
mc_recv m2 --zero-free
MC_PID[m3]=$(lab_bg m3 "$T/m3.log" "$FLEETCAST_RECV" --target "$LOOP" "${MC_SERVER_OPT[@]}" \
	--insecure --name m3 --stats "$T/m3.json") || die "cannot start fleetcast-recv in m3"
mc_wait_recvs 150 m1 m2 m3
mc_wait_server 30
for m in m1 m2 m3; do assert_eq 0 "${MC_RC[$m]}" "$m: fleetcast-recv exit code"; done
assert_match 'cleared .* not stored by the image' "$(cat "$T/m1.log")" "m1 logs what it cleared"
no_labels "$T/m1.img" "m1"
check "m1: old data elsewhere kept (no --zero-free)" \
	python3 "$UNSTORED" nonzero "$T/m1.img" $((P3 + 8 * MIB)) "$MIB"
no_labels "$T/m2.img" "m2 (--zero-free)"
check "m2: every unstored byte zero" python3 "$UNSTORED" all "$T/ext.json" "$T/m2.img"
check "m2: equals a fresh restore (but for its GPT)" same_but_gpt "$T/m2.img"
sync
no_labels "$LOOP" "m3 (loop device)"
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_eq 3 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"

# ---------------------------------------------------------------------------- pxe build

KERNEL=''
for k in /boot/vmlinuz-*; do
	[[ -f $k && -d /lib/modules/${k#/boot/vmlinuz-}/kernel ]] && KERNEL=$k
done
[[ -n $KERNEL ]] || die "no /boot/vmlinuz-* with /lib/modules: install linux-image-amd64"
TFTP=$T/tftp
export FC_INITRAMFS_ZSTD_LEVEL=3 # this test boots nothing: build the initramfs fast
ID=$(jget "$T/info.json" 'd["image_id"]')
M1=52:54:00:fc:0b:01 M2=52:54:00:fc:0b:02 M3=52:54:00:fc:0b:03
F1=$TFTP/pxelinux.cfg/01-52-54-00-fc-0b-01 F2=$TFTP/pxelinux.cfg/01-52-54-00-fc-0b-02
assert_exit 2 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL"
assert_stderr "needs --key PUB.*--insecure-any-signer" "pxe build without --key: refused, says why"
check "refused pxe build wrote nothing" test ! -e "$TFTP"
assert_exit 2 "$FLEETCAST" pxe build "$TFTP" --key "$PUB" --insecure-any-signer
assert_exit 2 "$FLEETCAST" pxe build "$TFTP" --key "$PUB" --image-id 1234
assert_exit 2 "$FLEETCAST" pxe build "$TFTP" --key "$PUB" --machine "$M1:disk=/dev/sda,colour=red"
assert_exit 0 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --insecure-any-signer \
	--image-id "$ID" --machine "$M1:disk=/dev/sdb" --machine "$M2:disk=/dev/nvme0n1,image=${ID//?/a}"
assert_stderr "ANY key" "pxe build --insecure-any-signer warns"
menu=$(cat "$TFTP/pxelinux.cfg/default")
assert_match "APPEND .*fleetcast.image=$ID fleetcast.insecure=1" "$menu" "menu: image pinned, insecure said"
check "no trusted key in the initramfs" eval "! zstdcat '$TFTP/initramfs.img' 2>/dev/null | cpio -t --quiet 2>/dev/null | grep -q trusted.pub"
assert_match '^# fleetcast pxe build:' "$(head -n 1 "$F1")" "01-<mac> of M1 written by pxe build"
assert_match "APPEND .*fleetcast.disk=/dev/sdb fleetcast.image=$ID fleetcast.insecure=1" "$(cat "$F1")" \
	"M1: its own disk, the default image"
assert_match "ONTIMEOUT fleetcast" "$(cat "$F1")" "M1: images unattended"
assert_match "APPEND .*fleetcast.disk=/dev/nvme0n1 fleetcast.image=${ID//?/a} " "$(cat "$F2")" \
	"M2: its own disk and image"

# M1 imaged: fleetcastd's file (as server/pxecfg.c writes it: local boot, the entry kept).
kept=$(sed -n 's/^ *APPEND //p' "$F1")
printf '# fleetcastd: machine %s imaged by session 01020304 on now: boot its local disk.\n# x\nDEFAULT local\nPROMPT 0\nTIMEOUT 0\nLABEL local\n  LOCALBOOT 0\nLABEL fleetcast\n  KERNEL vmlinuz\n  INITRD initramfs.img\n  APPEND %s\n' \
	"$M1" "$kept" >"$F1"
echo "DEFAULT mine" >"$TFTP/pxelinux.cfg/01-52-54-00-fc-0b-03"
assert_exit 1 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --insecure-any-signer \
	--machine "$M3:disk=/dev/sda"
assert_stderr "not written by fleetcast: left alone" "pxe build leaves a file it did not write"
assert_eq "DEFAULT mine" "$(cat "$TFTP/pxelinux.cfg/01-52-54-00-fc-0b-03")" "that file is unchanged"
assert_exit 0 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --insecure-any-signer \
	--machine "$M1:disk=/dev/sdc"
assert_match '^DEFAULT local' "$(cat "$F1")" "M1 imaged: still boots its local disk after a rebuild"
assert_match 'APPEND .*fleetcast.disk=/dev/sdc' "$(cat "$F1")" "M1: its kept entry updated"
# Setting it back to deploy goes through fleetcastd (its inventory decides: test-boot, test-pxe).
assert_exit 2 "$FLEETCAST" pxe reset "$M1" --tftp-root "$TFTP"
assert_stderr "no longer takes --tftp-root" "pxe reset --tftp-root: refused by name, says why"
assert_match '^DEFAULT local' "$(cat "$F1")" "M1's file untouched by the refused reset"

mc_finish
