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
#     capture takes no upload.
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
OUT=$T/captured.fcimg
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

run fc_srv capture create --mac "$MAC1" --out "$OUT" --level 3
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
lab_rate m1 8mbit || die "lab_rate"
lab_bg m1 "$T/m1-killed.log" "$FLEETCAST_RECV" --capture --source "$T/disk.raw" --server 10.77.0.1 >/dev/null
KPID=$LAB_PID
if wait_api /api/v1/captures "d['captures'][0]['state'] == 'uploading' and d['captures'][0]['chunks'] >= 1" 60; then
	pass "the upload is running (a chunk taken)"
else
	fail "the upload never took a chunk: $RESP"
fi
kill -9 "$KPID" 2>/dev/null
lab_rate m1 off
if wait_api /api/v1/captures "d['captures'][0]['state'] == 'failed'" 30; then
	pass "the cut upload shows failed"
else
	fail "the cut upload did not fail: $RESP"
fi
check "no final image after the cut" test ! -e "$OUT"
check "no partial file left" bash -c "! ls '$T'/captured.fcimg.partial-* 2>/dev/null | grep -q ."
check "the server logs the failure and the removal" grep -q "machine $MAC1 .*capture failed.*partial image is removed" "$T/srv.log"

log "a forged upload from m1's address: a chunk whose bytes do not match its hashes"
lab_exec m1 timeout 30 python3 "$IT_DIR/capture_forge.py" 10.77.0.1 7650 >"$T/forge.out" 2>&1
assert_eq "0 7" "$(tr '\n' ' ' <"$T/forge.out" | sed 's/ $//')" "HELLO taken (0), the bad chunk refused (7: verify)"
check "the server logs the bad chunk" grep -q "machine $MAC1 .*capture failed: .*hash" "$T/srv.log"
check "no image from the forged upload" test ! -e "$OUT"
check "no partial file left" bash -c "! ls '$T'/captured.fcimg.partial-* 2>/dev/null | grep -q ."

log "m1 again: the rerun completes"
up m1 "$T/m1.log"
assert_eq 0 "$RC" "m1's upload"
assert_match "the server verified and signed the image" "$(cat "$T/m1.log")" "m1 says it is done"
check "the image is there" test -s "$OUT"
check "no partial file left" bash -c "! ls '$T'/captured.fcimg.partial-* 2>/dev/null | grep -q ."
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

log "a capture armed for m2, then cancelled"
MAC2=$(lab_exec m2 cat /sys/class/net/eth0/address)
run fc_srv capture create --mac "$MAC2" --out "$T/m2.fcimg"
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
check "no image from the cancelled capture" test ! -e "$T/m2.fcimg"
mc_finish
