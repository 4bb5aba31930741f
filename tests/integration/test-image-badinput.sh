#!/bin/bash
# Issue 2: bad input gets a clear error, the right exit code, and nothing
# claimed as success: truncated images, flipped bytes in chunks / manifest /
# signature, a wrong public key, a target too small, an unreadable source, a
# corrupt partition table, a corrupt ext4 superblock, an interrupted capture.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# --- a small GPT disk: p1 ext4 (40 MiB, a few MiB of files), p2 8 MiB random
DISK=$T/small.raw
IMG=$T/small.fcimg
make_tree "$T/tree" 800 3
truncate -s 64M "$DISK"
must sfdisk -q "$DISK" <<'EOF'
label: gpt
start=1MiB, size=40MiB, type=linux
start=41MiB, size=8MiB, type=linux
EOF
P1=$(part_start "$DISK" 1)
P1_SIZE=$(part_size "$DISK" 1)
P2=$(part_start "$DISK" 2)
make_ext4 "$T/p1.fs" "$P1_SIZE" "$T/tree"
put "$T/p1.fs" "$DISK" "$P1"
garbage "$DISK" "$P2" $((8 * MIB))
DISK_SIZE=$(fsize "$DISK")

assert_exit 0 "$FLEETCAST" key gen --out "$T/a"
assert_exit 0 "$FLEETCAST" key gen --out "$T/b"
assert_exit 0 "$FLEETCAST" image create "$DISK" "$IMG" --key "$T/a.key" --quiet
assert_exit 0 "$FLEETCAST" image verify "$IMG" --pubkey "$T/a.pub"
assert_exit 0 "$FLEETCAST" image info "$IMG" --json --chunks --extents
cp "$T/out" "$T/info.json"
is_json "$T/info.json" || die "info --json --chunks is not a JSON object: $(head -c 300 "$T/info.json")"
NCHUNKS=$(jget "$T/info.json" 'len(d.get("chunks", []))')
assert_eq "$(jget "$T/info.json" 'd["chunk_count"]')" "$NCHUNKS" "--chunks lists chunk_count chunks"
check "at least 4 chunks to damage ($NCHUNKS)" test "$NCHUNKS" -ge 4
((NCHUNKS >= 2)) || die "need chunk offsets from 'image info --json --chunks'"
check "chunks are listed by index, back to back in the file" test "$(jget "$T/info.json" '(
all(c["index"] == i for i, c in enumerate(d["chunks"])) and
all(a["file_offset"] + a["comp_size"] == b["file_offset"] for a, b in zip(d["chunks"], d["chunks"][1:])))')" = true
S=$(fsize "$IMG")
K=$((NCHUNKS / 2))
KOFF=$(jget "$T/info.json" "d['chunks'][$K]['file_offset'] + d['chunks'][$K]['comp_size'] // 2")
LAST=$((NCHUNKS - 1))
LOFF=$(jget "$T/info.json" "d['chunks'][$LAST]['file_offset'] + d['chunks'][$LAST]['comp_size'] - 1")
FIRST_DATA=$(jget "$T/info.json" 'd["chunks"][0]["file_offset"]')
CHUNKS_END=$((LOFF + 1))
# docs/image-format.md: header, chunks, manifest, 112-byte signature block.
SIGBLOCK=112
MANIFEST_MID=$(((CHUNKS_END + S - SIGBLOCK) / 2))
log "image $S bytes, $NCHUNKS chunks from $FIRST_DATA to $CHUNKS_END, manifest up to $((S - SIGBLOCK))"

# A restore target holding a known pattern, the disk's size: a refused
# restore must leave it as it was.
python3 -c '
import sys
with open(sys.argv[1], "wb") as f:
    blk = bytes(range(256)) * 4096
    n = int(sys.argv[2])
    while n > 0:
        f.write(blk[:n]); n -= len(blk)' "$T/pattern.raw" "$DISK_SIZE"
PATTERN_SUM=$(sha "$T/pattern.raw")
target_unchanged() {
	assert_eq "$PATTERN_SUM $DISK_SIZE" "$(sha "$T/pattern.raw") $(fsize "$T/pattern.raw")" \
		"restore target unchanged ($1)"
}

# bad_image WHAT FILE [CHUNK] : verify, info and restore all reject FILE
# (exit 3, an error line); verify names CHUNK if given; a refused restore does
# not create a new target, and leaves an existing one unchanged when the
# damage is in the header, the manifest or the signature.
bad_image() {
	local what=$1 f=$2 chunk=${3:-}
	assert_exit 3 "$FLEETCAST" image verify "$f" --pubkey "$T/a.pub"
	assert_error_line "verify, $what"
	if [[ -n "$chunk" ]]; then
		assert_stderr "chunk $chunk([^0-9]|\$)" "verify names chunk $chunk ($what)"
	fi
	assert_exit 3 "$FLEETCAST" image verify "$f"
	if [[ -z "$chunk" ]]; then
		assert_exit 3 "$FLEETCAST" image info "$f" --json
		check "info prints no JSON on failure ($what)" test ! -s "$T/out"
	fi
	rm -f "$T/new.raw"
	assert_exit 3 "$FLEETCAST" image restore "$f" "$T/new.raw" --pubkey "$T/a.pub" --quiet
	assert_error_line "restore, $what"
	if [[ -z "$chunk" ]]; then
		check "refused restore created no target ($what)" test ! -e "$T/new.raw"
	fi
	assert_exit 3 "$FLEETCAST" image restore "$f" "$T/pattern.raw" --pubkey "$T/a.pub" --quiet
	if [[ -z "$chunk" ]]; then
		target_unchanged "$what"
	elif [[ "$(sha "$T/pattern.raw")" != "$PATTERN_SUM" ]]; then
		log "note: restore wrote to the target before finding bad $what (allowed; restoring the pattern)"
		cp "$T/pattern.raw.orig" "$T/pattern.raw"
	fi
}
cp "$T/pattern.raw" "$T/pattern.raw.orig"

# --- truncated images
for cut in 0 100 $((FIRST_DATA + 10)) "$KOFF" "$CHUNKS_END" "$MANIFEST_MID" $((S - SIGBLOCK)) $((S - 60)) $((S - 1)); do
	head -c "$cut" "$IMG" >"$T/cut.fcimg"
	log "truncated at $cut of $S"
	bad_image "truncated at $cut" "$T/cut.fcimg"
done
cp "$IMG" "$T/long.fcimg"
printf 'x' >>"$T/long.fcimg"
log "one byte appended"
bad_image "one byte appended" "$T/long.fcimg"

# --- flipped bytes in chunks
cp "$IMG" "$T/flip.fcimg"
flip_byte "$T/flip.fcimg" "$KOFF"
log "byte flipped in chunk $K at $KOFF"
bad_image "flipped byte in chunk $K" "$T/flip.fcimg" "$K"
flip_byte "$T/flip.fcimg" "$LOFF"
log "and in the last chunk $LAST: the first bad chunk is still $K"
bad_image "flipped bytes in chunks $K and $LAST" "$T/flip.fcimg" "$K"
cp "$IMG" "$T/flip0.fcimg"
flip_byte "$T/flip0.fcimg" "$FIRST_DATA"
bad_image "flipped first byte of chunk 0" "$T/flip0.fcimg" 0
cp "$IMG" "$T/flipl.fcimg"
flip_byte "$T/flipl.fcimg" "$LOFF"
bad_image "flipped last byte of chunk $LAST" "$T/flipl.fcimg" "$LAST"

# --- flipped bytes in the header, the manifest and the signature block
for spot in header:0 header:20 manifest:$((CHUNKS_END + 3)) manifest:$MANIFEST_MID manifest:$((S - SIGBLOCK - 1)) \
	signature:$((S - 1)) signature:$((S - 40)) signature:$((S - 90)); do
	cp "$IMG" "$T/flip.fcimg"
	flip_byte "$T/flip.fcimg" "${spot#*:}"
	log "byte flipped in the ${spot%%:*} at ${spot#*:}"
	bad_image "flipped byte in the ${spot%%:*} at ${spot#*:}" "$T/flip.fcimg"
	if [[ "${spot%%:*}" != header ]]; then
		assert_exit 3 "$FLEETCAST" image verify "$T/flip.fcimg" --pubkey "$T/a.pub"
		assert_stderr 'signature|manifest|signed' "the error says the signature/manifest is bad (${spot})"
	fi
done

# --- a wrong public key
assert_exit 3 "$FLEETCAST" image verify "$IMG" --pubkey "$T/b.pub"
assert_error_line "wrong public key"
assert_stderr 'key|sign' "the error is about the key/signer"
assert_exit 3 "$FLEETCAST" image restore "$IMG" "$T/pattern.raw" --pubkey "$T/b.pub" --quiet
target_unchanged "wrong public key"
rm -f "$T/new.raw"
assert_exit 3 "$FLEETCAST" image restore "$IMG" "$T/new.raw" --pubkey "$T/b.pub" --quiet
check "restore with a wrong key created no target" test ! -e "$T/new.raw"
printf 'not a key\n' >"$T/junk.pub"
run "$FLEETCAST" image verify "$IMG" --pubkey "$T/junk.pub"
check "verify with a malformed public key file fails (exit $RC)" test "$RC" -ne 0
assert_error_line "malformed public key"
run "$FLEETCAST" image verify "$IMG" --pubkey "$T/nonexistent.pub"
check "verify with a missing public key file fails (exit $RC)" test "$RC" -ne 0
run "$FLEETCAST" image create "$DISK" "$T/nokey.fcimg" --key "$T/nonexistent.key"
check "create with a missing secret key fails (exit $RC)" test "$RC" -ne 0
check "create with a missing key wrote no image" test ! -e "$T/nokey.fcimg"
run "$FLEETCAST" image create "$DISK" "$T/nokey.fcimg" --key "$T/b.pub"
check "create with a public key as --key fails (exit $RC)" test "$RC" -ne 0

# --- a target too small
head -c $((DISK_SIZE - 512)) "$T/pattern.raw" >"$T/small-target.raw"
SMALL_SUM=$(sha "$T/small-target.raw")
assert_exit 4 "$FLEETCAST" image restore "$IMG" "$T/small-target.raw" --pubkey "$T/a.pub" --quiet
assert_error_line "target too small"
assert_eq "$SMALL_SUM $((DISK_SIZE - 512))" "$(sha "$T/small-target.raw") $(fsize "$T/small-target.raw")" \
	"too-small target file unchanged (content and size)"
assert_exit 4 "$FLEETCAST" image restore "$IMG" "$T/small-target.raw" --pubkey "$T/a.pub" --zero-free --quiet
assert_eq "$SMALL_SUM" "$(sha "$T/small-target.raw")" "too-small target unchanged with --zero-free"
if loop_attach "$T/small-target.raw"; then
	assert_exit 4 "$FLEETCAST" image restore "$IMG" "$LOOP" --pubkey "$T/a.pub" --quiet
	assert_eq "$SMALL_SUM" "$(sha "$LOOP")" "too-small block device unchanged"
	# and a block device large enough works
	truncate -s $((DISK_SIZE + MIB)) "$T/dev-target.raw"
	if loop_attach "$T/dev-target.raw"; then
		assert_exit 0 "$FLEETCAST" image restore "$IMG" "$LOOP" --pubkey "$T/a.pub" --quiet
		assert_exit 0 "$FLEETCAST" image compare "$IMG" "$LOOP"
		check "restore to a block device: stored extents identical" \
			python3 "$PYHELP" ranges "$DISK" "$LOOP" "$T/info.json"
	fi
else
	log "loop devices unavailable: block-device targets not tested"
fi

# --- an unreadable source
assert_exit 5 "$FLEETCAST" image create "$T/does-not-exist" "$T/x.fcimg" --quiet
assert_error_line "nonexistent source"
check "no image written for a nonexistent source" test -z "$(find "$T" -maxdepth 1 -name 'x.fcimg*')"
mkdir "$T/adir"
assert_exit 5 "$FLEETCAST" image create "$T/adir" "$T/x.fcimg" --quiet
assert_error_line "directory as source"
check "no image written for a directory source" test -z "$(find "$T" -maxdepth 1 -name 'x.fcimg*')"
assert_exit 2 "$FLEETCAST" image create "$DISK"
assert_exit 2 "$FLEETCAST" image frobnicate

# --- a corrupt partition table: both GPT headers overwritten with garbage
cp --sparse=always "$DISK" "$T/badgpt.raw"
garbage "$T/badgpt.raw" 512 512
garbage "$T/badgpt.raw" $((DISK_SIZE - 512)) 512
assert_exit 0 "$FLEETCAST" image create "$T/badgpt.raw" "$T/badgpt.fcimg" --key "$T/a.key" --quiet
assert_stderr 'fall' "corrupt GPT: capture warns it falls back"
assert_exit 0 "$FLEETCAST" image verify "$T/badgpt.fcimg" --pubkey "$T/a.pub"
assert_exit 0 "$FLEETCAST" image info "$T/badgpt.fcimg" --json --extents
cp "$T/out" "$T/badgpt.json"
assert_eq none "$(jget "$T/badgpt.json" 'd.get("table")')" "corrupt GPT: table none"
assert_eq "[[0, $DISK_SIZE, \"nonzero\"]]" \
	"$(jget "$T/badgpt.json" '[[int(p["start"]), int(p["size"]), p["method"]] for p in d.get("partitions", [])]')" \
	"corrupt GPT: one nonzero region over the whole disk"
assert_exit 0 "$FLEETCAST" image restore "$T/badgpt.fcimg" "$T/badgpt.out" --pubkey "$T/a.pub" --quiet
check "corrupt GPT: restored disk identical to the source (every non-zero byte)" cmp -s "$T/badgpt.raw" "$T/badgpt.out"
rm -f "$T/badgpt.raw" "$T/badgpt.out" "$T/badgpt.fcimg"

# --- a corrupt ext4 superblock: (a) garbled but with its magic, (b) zeroed
for variant in garbled zeroed; do
	cp --sparse=always "$DISK" "$T/badsb.raw"
	if [[ $variant == garbled ]]; then
		# zero the primary superblock except s_magic (bytes 56-57)
		dd if=/dev/zero of="$T/badsb.raw" bs=1 seek=$((P1 + 1024)) count=56 conv=notrunc status=none
		dd if=/dev/zero of="$T/badsb.raw" bs=1 seek=$((P1 + 1024 + 58)) count=$((1024 - 58)) conv=notrunc status=none
	else
		dd if=/dev/zero of="$T/badsb.raw" bs=1 seek=$((P1 + 1024)) count=1024 conv=notrunc status=none
	fi
	assert_exit 0 "$FLEETCAST" image create "$T/badsb.raw" "$T/badsb.fcimg" --key "$T/a.key" --quiet
	assert_stderr 'fall' "ext4 superblock $variant: capture warns it falls back"
	assert_exit 0 "$FLEETCAST" image verify "$T/badsb.fcimg" --pubkey "$T/a.pub"
	assert_exit 0 "$FLEETCAST" image info "$T/badsb.fcimg" --json --extents
	cp "$T/out" "$T/badsb.json"
	assert_eq gpt "$(jget "$T/badsb.json" 'd.get("table")')" "ext4 superblock $variant: table still gpt"
	assert_eq nonzero "$(pget "$T/badsb.json" "$P1" method)" "ext4 superblock $variant: p1 method nonzero"
	check "ext4 superblock $variant: p1 note non-empty ($(pget "$T/badsb.json" "$P1" note))" \
		test -n "$(pget "$T/badsb.json" "$P1" note)" -a "$(pget "$T/badsb.json" "$P1" note)" != MISSING
	assert_exit 0 "$FLEETCAST" image restore "$T/badsb.fcimg" "$T/badsb.out" --pubkey "$T/a.pub" --quiet
	if python3 "$PYHELP" nonzero "$T/badsb.raw" "$T/badsb.out" "$P1" "$P1_SIZE" >"$T/nz.log" 2>&1; then
		pass "ext4 superblock $variant: every non-zero 4 KiB block of p1 restored ($(cat "$T/nz.log"))"
	else
		fail "ext4 superblock $variant: every non-zero 4 KiB block of p1 restored: $(cat "$T/nz.log")"
	fi
	common_image_checks "$T/badsb.json" "$T/badsb.raw" "$T/badsb.out"
	rm -f "$T/badsb.raw" "$T/badsb.out" "$T/badsb.fcimg"
done

# --- an interrupted capture: a slow capture (random data at zstd level 19)
garbage "$T/big.raw" 0 $((96 * MIB))
for sig in KILL:0.3 INT:0.5 TERM:0.5; do
	rm -f "$T"/big.fcimg*
	RC=0
	# --foreground: signal fleetcast only, not this shell's process group
	(timeout --foreground -s "${sig%%:*}" "${sig#*:}" "$FLEETCAST" image create "$T/big.raw" "$T/big.fcimg" \
		--key "$T/a.key" --level 19 --quiet >/dev/null 2>"$T/err") 2>/dev/null || RC=$?
	check "SIG${sig%%:*} after ${sig#*:}s: capture did not report success (exit $RC)" test "$RC" -ne 0
	check "SIG${sig%%:*}: no $T/big.fcimg" test ! -e "$T/big.fcimg"
	n=0
	for p in "$T"/big.fcimg.partial-*; do
		[[ -e "$p" ]] || continue
		n=$((n + 1))
		assert_exit 3 "$FLEETCAST" image verify "$p" --pubkey "$T/a.pub"
		assert_exit 3 "$FLEETCAST" image verify "$p"
	done
	log "SIG${sig%%:*}: $n partial file(s) left"
done

finish
