#!/bin/bash
# Issue 8, "secure by default": a rogue server (a second fleetcastd on another
# lab host) answers discovery.
#   (a) its image is signed by another key: receivers with --pubkey refuse it
#       and say why; with the real server also present they image from it.
#   (b) its image is an older one signed by the trusted key, and the receivers
#       pin the current one with --image-id: they refuse it and say which image
#       was offered (and when it was made) and which is pinned; with the real
#       server also present they image from it. A receiver that pins nothing
#       sees two trusted sessions and refuses to guess (exit 10, both listed).
# And fleetcastd --trusted-key refuses to serve an image signed by another key.
# Receivers find the servers by multicast discovery (no --server).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 300 "$@"
mc_init

log "building a 48 MiB sample disk, its image (the old one) and a rogue key"
mc_image sample 48 150
OLD=$IMG
sleep 1.1 # the current image is made a second later: its creation time differs
IMG=$T/current.fcimg # same disk, so $REF is its reference restore too
must "$FLEETCAST" image create "$T/disk.raw" "$IMG" --key "$T/key.key" --quiet
must "$FLEETCAST" key gen --out "$T/rogue"
must "$FLEETCAST" image create "$T/disk.raw" "$T/rogue.fcimg" --key "$T/rogue.key" --quiet
"$FLEETCAST" image info "$IMG" --json >"$T/current.json" || die "image info"
"$FLEETCAST" image info "$OLD" --json >"$T/old.json" || die "image info"
ID=$(jget "$T/current.json" 'd["image_id"]')
OLD_ID=$(jget "$T/old.json" 'd["image_id"]')
[[ $ID =~ ^[0-9a-f]{32}$ && $OLD_ID != "$ID" ]] || die "image ids: '$ID' '$OLD_ID'"

lab_create 5 || die "lab_create"
lab_add rogue 10.77.0.99 || die "lab_add rogue"
# shellcheck disable=SC2034 # read by mc_recv (lib.sh)
MC_SERVER_OPT=() # multicast discovery: every server on the LAN answers

# fleetcastd --trusted-key: an image signed by another key is not served.
assert_exit 3 lab_exec srv "$FLEETCASTD" --image "$T/rogue.fcimg" --group 239.77.0.9:9000 \
	--iface eth0 --trusted-key "$PUB"
assert_stderr 'not signed by the trusted key' "fleetcastd --trusted-key says why it refuses"
# rogue_server IMAGE GROUP : a fleetcastd on the rogue host; nobody should join it.
rogue_server() {
	ROGUE_PID=$(lab_bg rogue "$T/srv-rogue.log" "$FLEETCASTD" --image "$1" --group "$2" \
		--iface eth0 --max-wait 280 --min-receivers 50) || die "cannot start the rogue fleetcastd"
	mc_wait_log "$T/srv-rogue.log" 'session [0-9a-f]{8}: image' 10 ||
		die "the rogue fleetcastd did not start: $(head -c 600 "$T/srv-rogue.log")"
	ROGUE_SESSION=$(grep -Eom1 'session [0-9a-f]{8}' "$T/srv-rogue.log" | cut -d' ' -f2)
}
# refused MACHINE ARGS... : a receiver alone with the rogue; exit code in RC,
# log in $T/MACHINE-refused.log.
refused() {
	local m=$1 pid
	shift
	pid=$(lab_bg "$m" "$T/$m-refused.log" "$FLEETCAST_RECV" --target "$T/$m-refused.img" \
		--pubkey "$PUB" --name "$m" --discover-timeout 4 "$@") || die "cannot start fleetcast-recv"
	RC=0
	lab_wait "$pid" 30 || RC=$?
	REFUSED_LOG=$(cat "$T/$m-refused.log")
	check "$m: nothing written while only the rogue answered" test ! -e "$T/$m-refused.img"
}
# from_real CASE MA MB ARGS... : with the real server started too, receivers
# MA and MB (with ARGS) image from it.
from_real() {
	local c=$1 pair=("$2" "$3") m
	shift 3
	for m in "${pair[@]}"; do mc_recv "$m" "$@"; done
	mc_wait_recvs 120 "${pair[@]}"
	mc_wait_server 30
	for m in "${pair[@]}"; do mc_check_recv "$m"; done
	assert_eq 0 "$SRV_RC" "($c) the real fleetcastd exit code"
}

log "(a) the rogue serves the image signed by another key"
rogue_server "$T/rogue.fcimg" 239.77.0.2:9000
refused m1
assert_eq 3 "$RC" "(a) alone with the rogue: exit 3 (no acceptable image)"
assert_match "refusing server 10\.77\.0\.99: its image [0-9a-f]{32} is signed by [0-9a-f]{16}, not the trusted key" \
	"$REFUSED_LOG" "(a) the receiver says it refuses the rogue and why"
assert_match "no acceptable session within 4 s .*1 session answered: 10\.77\.0\.99 session $ROGUE_SESSION image [0-9a-f]{32} signed by [0-9a-f]{16} \(not the trusted key\)" \
	"$REFUSED_LOG" "(a) at the timeout it says what answered"

mc_server srv-a -- --min-receivers 2 --max-wait 60 --trusted-key "$PUB" # serves it: signed by that key
from_real a m1 m2
assert_match "refusing server 10\.77\.0\.99: its image" "$(cat "$T/m1.log")" \
	"(a) with both present, m1 refused the rogue"
assert_match "session $SESSION m1: server 10\.77\.0\.1 offers image $ID" "$(cat "$T/m1.log")" \
	"(a) and took the real server"
lab_kill "$ROGUE_PID"

log "(b) the rogue serves an older image signed by the trusted key; receivers pin $ID"
rogue_server "$OLD" 239.77.0.3:9000
refused m3 --image-id "$ID"
assert_eq 3 "$RC" "(b) alone with the rogue: exit 3 (no acceptable image)"
assert_match "refusing server 10\.77\.0\.99: it offers image $OLD_ID \(created [0-9-]+ [0-9:]+ UTC\) signed by [0-9a-f]{16}, but image $ID is pinned" \
	"$REFUSED_LOG" "(b) the receiver names the image offered, its creation time, and the pinned one"

mc_server srv-b -- --min-receivers 2 --max-wait 60
amb=$(lab_bg m5 "$T/m5-ambiguous.log" "$FLEETCAST_RECV" --target "$T/m5-ambiguous.img" \
	--pubkey "$PUB" --name m5 --discover-timeout 20) || die "cannot start fleetcast-recv in m5"
from_real b m3 m4 --image-id "$ID"
assert_match "it offers image $OLD_ID .* but image $ID is pinned" "$(cat "$T/m3.log")" \
	"(b) with both present, m3 refused the older image"
rc=0
lab_wait "$amb" 30 || rc=$?
assert_eq 10 "$rc" "(b) unpinned m5 sees two trusted sessions: exit 10"
assert_match "refusing to guess: 2 sessions answered: .*session ($SESSION|$ROGUE_SESSION) .*; .*session ($SESSION|$ROGUE_SESSION) .*name one with --session" \
	"$(cat "$T/m5-ambiguous.log")" "(b) m5 lists both and says to name one with --session"
lab_kill "$ROGUE_PID"
mc_finish
