#!/bin/bash
# Issue 12, capture over the network (first part): fleetcastd --daemon arms a capture for one
# machine (`fleetcast capture create`), which uploads its disk file with `fleetcast-recv
# --capture` from its own namespace:
#   - arming sets the machine's boot action to capture; the API lists the capture;
#   - a peer that is not the armed MAC is refused (exit 7) and logged, and no image appears;
#   - a forged chunk (bytes that do not match its hashes) is refused with status 7, nothing kept;
#   - an upload killed mid-way leaves no final image and no partial file, the capture shows
#     failed; a rerun completes;
#   - the uploaded image verifies with the server's capture key (STATE_DIR/capture.pub),
#     and restores byte-identical to what `fleetcast image create` makes of the same disk file;
#   - afterwards the machine's boot action is local, the capture done with its bytes;
#   - `capture list` shows it; `capture cancel` sets the boot action to local, and a cancelled
#     capture takes no upload;
#   - out is confined to the capture directory (default STATE_DIR/images): an absolute path
#     elsewhere, "..", a symbolic link (a directory on the way, or the image's own name) and an
#     existing image are refused by the CLI and the API (400, with the reason); --overwrite
#     replaces an image; an absolute path inside the directory is taken; a directory swapped
#     for a symbolic link after arming fails the upload, nothing written through it;
#   - a capture cancelled while its upload runs (m1's link slowed): the receiver stops and says
#     the server closed the upload, no image and no partial file remain, the boot action is
#     local, `capture list` says cancelled; a rerun then completes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 400 "$@"
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
lab_create 2 || die "lab_create"

log "a 64 MiB sample disk and its image made locally (the reference)"
mc_image sample 64 200
STATE=$FLEETCAST_HOME # fleetcastd's state directory by default
CAPDIR=$STATE/images  # and its capture directory
OUT=$CAPDIR/captured.fcimg
# shellcheck disable=SC2119 # no extra flags: the state directory is $FLEETCAST_HOME
con_daemon
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"
MAC1=$(lab_exec m1 cat /sys/class/net/eth0/address)

# up MACHINE LOG [ARGS] : fleetcast-recv --capture of the sample disk, foreground, exit in RC.
up() {
	RC=0
	lab_exec "$1" timeout 200 "$FLEETCAST_RECV" --capture --source "$T/disk.raw" --server 10.77.0.1 \
		"${@:3}" >"$2" 2>&1 || RC=$?
}

# no_partial NAME : no NAME.partial-* left in the capture directory.
# slow_upload LOG : m1's link slowed to 8 Mbit/s (about 13 s for the image), its upload
# started in the background (pid in UPID) and seen running, a chunk taken.
slow_upload() {
	lab_rate m1 8mbit || die "lab_rate"
	lab_bg m1 "$1" "$FLEETCAST_RECV" --capture --source "$T/disk.raw" --server 10.77.0.1 >/dev/null
	UPID=$LAB_PID
	if wait_api /api/v1/captures "any(c['mac'] == '$MAC1' and c['state'] == 'uploading' and c['chunks'] >= 1 for c in d['captures'])" 60; then
		pass "the upload is running (a chunk taken)"
	else
		fail "the upload never took a chunk: $RESP"
	fi
}

# shellcheck disable=SC2317 # called through check
no_partial() { ! ls "$CAPDIR/$1".partial-* >/dev/null 2>&1; }

run fc_srv capture create --mac "$MAC1" --out captured.fcimg --level 3
assert_eq 0 "$RC" "capture create"
assert_match "machine $MAC1: capture armed into $OUT" "$(cat "$T/out")" "it says what it armed"
run fc_srv machines list --json
check "m1's boot action is capture" jtrue "$T/out" \
	"any(m['mac'] == '$MAC1' and m['boot_action'] == 'capture' for m in d['machines'])"
req GET /api/v1/captures "" "$VIEWER"
check_json "d['captures'][0]['state'] == 'armed' and d['captures'][0]['mac'] == '$MAC1'" \
	"GET /api/v1/captures: armed"

log "m2 is not the armed machine: refused"
up m2 "$T/m2.log"
assert_eq 7 "$RC" "m2's upload is refused (exit 7)"
assert_match "no capture armed" "$(cat "$T/m2.log")" "m2 says why"
check "the server logs the refusal with m2's address" grep -q "capture upload from 10.77.1.2 .*refused" "$T/srv.log"
check "no image from m2" test ! -e "$OUT"

log "m1's upload killed mid-way (its link slowed to 8 Mbit/s: about 13 s for the image)"
slow_upload "$T/m1-killed.log"
kill -9 "$UPID" 2>/dev/null
lab_rate m1 off
if wait_api /api/v1/captures "d['captures'][0]['state'] == 'failed'" 30; then
	pass "the cut upload shows failed"
else
	fail "the cut upload did not fail: $RESP"
fi
check "no final image after the cut" test ! -e "$OUT"
check "no partial file left" no_partial captured.fcimg
check "the server logs the failure and the removal" grep -q "machine $MAC1 .*capture failed.*partial image is removed" "$T/srv.log"

log "a forged upload from m1's address: a chunk whose bytes do not match its hashes"
lab_exec m1 timeout 30 python3 "$IT_DIR/capture_forge.py" 10.77.0.1 7650 >"$T/forge.out" 2>&1
assert_eq "0 7" "$(tr '\n' ' ' <"$T/forge.out" | sed 's/ $//')" "HELLO taken (0), the bad chunk refused (7: verify)"
check "the server logs the bad chunk" grep -q "machine $MAC1 .*capture failed: .*hash" "$T/srv.log"
check "no image from the forged upload" test ! -e "$OUT"
check "no partial file left" no_partial captured.fcimg

log "m1 again: the rerun completes"
up m1 "$T/m1.log"
assert_eq 0 "$RC" "m1's upload"
assert_match "the server verified and signed the image" "$(cat "$T/m1.log")" "m1 says it is done"
check "the image is there" test -s "$OUT"
check "no partial file left" no_partial captured.fcimg
check "the server made its capture key" test -s "$STATE/capture.pub"
run "$FLEETCAST" image verify "$OUT" --pubkey "$STATE/capture.pub"
assert_eq 0 "$RC" "the image verifies with the server's capture key"
run "$FLEETCAST" image verify "$OUT" --pubkey "$PUB"
assert_eq 3 "$RC" "and not with another key"
run "$FLEETCAST" image restore "$OUT" "$T/captured.img" --pubkey "$STATE/capture.pub"
assert_eq 0 "$RC" "restore of the captured image"
check "restored byte-identical to the local image create's restore" cmp -s "$REF" "$T/captured.img"
"$FLEETCAST" image info "$OUT" --json --chunks >"$T/cinfo.json" || fail "image info"
check "the same chunks (sizes, compressed sizes, extents) as image create made" python3 - "$T/info.json" "$T/cinfo.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda d: [(c["raw_size"], c["comp_size"], c["extents"]) for c in d["chunks"]]
sys.exit(0 if key(a) == key(b) and a["disk_size"] == b["disk_size"] else 1)
PY
run "$FLEETCAST" image compare "$OUT" "$T/disk.raw"
assert_eq 0 "$RC" "image compare: the source disk holds every stored region"
if wait_api /api/v1/captures "d['captures'][0]['state'] == 'done' and d['captures'][0]['bytes'] > 0" 10; then
	pass "the capture shows done with its bytes"
else
	fail "the capture is not done: $RESP"
fi
run fc_srv machines list --json
check "m1's boot action is back to local" jtrue "$T/out" \
	"any(m['mac'] == '$MAC1' and m['boot_action'] == 'local' for m in d['machines'])"
check "the server logs the completed capture" grep -q "machine $MAC1 .*capture complete: $OUT" "$T/srv.log"
run fc_srv capture list
assert_eq 0 "$RC" "capture list"
assert_match "machine $MAC1: capture done into $OUT" "$(cat "$T/out")" "capture list shows it done"

log "out stays in the capture directory"
mkdir -p "$CAPDIR/lab1" "$T/outside"
ln -sfn "$T/outside" "$CAPDIR/escape"
ln -sfn "$T/outside/x.fcimg" "$CAPDIR/link.fcimg"
MAC2=$(lab_exec m2 cat /sys/class/net/eth0/address)
for bad in "$T/elsewhere.fcimg|capture directory .*not $T/elsewhere.fcimg" \
	"../up.fcimg|no '\.\.'" "lab1/../../up.fcimg|no '\.\.'" "lab1//x.fcimg|empty parts" \
	"escape/x.fcimg|symbolic link" "nodir/x.fcimg|does not exist" \
	"link.fcimg|is there already and is not a file" "captured.fcimg|an image named 'captured.fcimg' is there already"; do
	run fc_srv capture create --mac "$MAC2" --out "${bad%%|*}"
	assert_eq 1 "$RC" "capture create --out ${bad%%|*}: refused"
	assert_stderr "${bad#*|}" "capture create --out ${bad%%|*}: says why"
done
req POST /api/v1/captures "{\"mac\": \"$MAC2\", \"out\": \"../../etc/x.fcimg\"}" "$TOKEN"
expect 400 "POST /api/v1/captures with out ../../etc/x.fcimg"
check_json "'..' in d['error']" "the API's 400 says why"
req POST /api/v1/captures "{\"mac\": \"$MAC2\", \"out\": \"x.fcimg\", \"overwrite\": 1}" "$TOKEN"
expect 400 "POST /api/v1/captures with a non-boolean overwrite"
check "nothing written outside the capture directory" test -z "$(ls -A "$T/outside")"
run fc_srv capture create --mac "$MAC2" --out captured.fcimg --overwrite
assert_eq 0 "$RC" "capture create --overwrite: an existing image may be replaced"
run fc_srv capture create --mac "$MAC2" --out "$CAPDIR/lab1/abs.fcimg"
assert_eq 0 "$RC" "an absolute path inside the capture directory is taken"
assert_match "capture armed into $CAPDIR/lab1/abs.fcimg" "$(cat "$T/out")" "... as that file"
log "a directory swapped for a symbolic link after arming: the upload fails, nothing outside"
mv "$CAPDIR/lab1" "$CAPDIR/lab1.real"
ln -s "$T/outside" "$CAPDIR/lab1"
up m2 "$T/m2-swap.log"
check "m2's upload is refused (exit $RC)" test "$RC" -ne 0
check "nothing written through the link" test -z "$(ls -A "$T/outside")"
check "the server logs why" grep -q "machine $MAC2: out 'lab1/abs.fcimg': .*symbolic link" "$T/srv.log"
rm "$CAPDIR/lab1" "$CAPDIR/escape" "$CAPDIR/link.fcimg"
mv "$CAPDIR/lab1.real" "$CAPDIR/lab1"

log "a capture cancelled while its upload runs (m1's link at 8 Mbit/s)"
CXL=$CAPDIR/cancelled.fcimg
run fc_srv capture create --mac "$MAC1" --out cancelled.fcimg
assert_eq 0 "$RC" "capture create cancelled.fcimg"
slow_upload "$T/m1-cancel.log"
run fc_srv capture cancel "$MAC1"
assert_eq 0 "$RC" "capture cancel while uploading"
RC=0
lab_wait "$UPID" 60 || RC=$?
lab_rate m1 off
check "the receiver stops with an error (exit $RC)" test "$RC" -ne 0 -a "$RC" -ne 124
assert_match "the server closed the upload at chunk [0-9]+ \(the capture was cancelled" \
	"$(cat "$T/m1-cancel.log")" "the receiver says the server closed the upload, and why it may have"
if mc_wait_log "$T/srv.log" "machine $MAC1 .*capture upload stopped: cancelled by the operator; its partial image is removed" 20; then
	pass "the server logs the stopped upload and the partial file's removal"
else
	fail "the server did not log the stopped upload: $(grep "$MAC1" "$T/srv.log" | tail -3)"
fi
check "no image after the cancel" test ! -e "$CXL"
check "no partial file after the cancel" no_partial cancelled.fcimg
run fc_srv machines list --json
check "m1's boot action is local after the cancel" jtrue "$T/out" \
	"any(m['mac'] == '$MAC1' and m['boot_action'] == 'local' for m in d['machines'])"
run fc_srv capture list
assert_match "machine $MAC1: capture cancelled into $CXL.*cancelled by the operator" "$(cat "$T/out")" \
	"capture list says cancelled"
check "the server logs the cancel" grep -q "machine $MAC1: capture cancelled by the operator" "$T/srv.log"
run fc_srv capture create --mac "$MAC1" --out cancelled.fcimg
assert_eq 0 "$RC" "re-armed after the cancel"
up m1 "$T/m1-after.log"
assert_eq 0 "$RC" "the rerun after the cancel completes"
run "$FLEETCAST" image verify "$CXL" --pubkey "$STATE/capture.pub"
assert_eq 0 "$RC" "its image verifies with the capture key"
check "no partial file after the rerun" no_partial cancelled.fcimg

log "a capture armed for m2, then cancelled"
run fc_srv capture create --mac "$MAC2" --out m2.fcimg
assert_eq 0 "$RC" "capture create for m2"
run fc_srv capture cancel "$MAC2"
assert_eq 0 "$RC" "capture cancel"
assert_match "machine $MAC2: capture cancelled" "$(cat "$T/out")" "it says cancelled"
run fc_srv machines list --json
check "m2's boot action is local after the cancel" jtrue "$T/out" \
	"any(m['mac'] == '$MAC2' and m['boot_action'] == 'local' for m in d['machines'])"
run fc_srv capture cancel "$MAC2"
assert_eq 4 "$RC" "cancelling it again: not found (exit 4)"
assert_stderr "no capture armed or running for $MAC2" "it says why"
up m2 "$T/m2b.log"
assert_eq 7 "$RC" "a cancelled capture takes no upload"
check "no image from the cancelled capture" test ! -e "$CAPDIR/m2.fcimg"
mc_finish
