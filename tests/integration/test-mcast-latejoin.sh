#!/bin/bash
# Issue 3: a receiver joins after 40 % of the image has gone out. Two receivers
# start the session (rate capped so that the first pass takes about 16 s); the
# third starts once fleetcastd's status line shows at least 40 % of the chunks
# written, which leaves it about 9 s to join before the first two are done (a
# receiver on a loaded CI machine has taken over 5 s from its start to JOIN). It finishes with a correct disk, the server logs it as joined late,
# and the server's catch-up pass resent what it had missed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 200 "$@"
mc_init

log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
# About 16 s for one pass: image bits / 16 s, in Mbit/s.
RATE=$(($(fsize "$IMG") * 8 / 16 / 1000000))M

lab_create 3 || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"

mc_server -- --rate "$RATE" --min-receivers 2 --max-wait 60 --drop-stall 40 --verbose
log "session $SESSION, rate cap $RATE: m1 and m2 start it"
mc_recv m1
mc_recv m2
mc_wait_log "$T/srv.log" 'waiting -> sending' 60 || fail "the session started"
t0=$SECONDS
if mc_wait_progress 40 60; then
	pass "the first receivers reached $(mc_progress)% of the chunks ($((SECONDS - t0)) s into the pass)"
else
	fail "the first receivers reached 40% of the chunks within 60 s (at $(mc_progress)%)"
fi
mc_recv m3
log "m3 started at $(mc_progress)% written"
mc_wait_recvs 120 m1 m2 m3
mc_wait_server 30

for m in m1 m2 m3; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_match "machine m3( \([^)]*\))?: joined as receiver [0-9a-f]+ \(late\)" \
	"$(cat "$T/srv.log")" "the server log says m3 joined late"
check "m1 did not join late" grep -Eq 'machine m1 \(.*\): joined as receiver [0-9a-f]+,' "$T/srv.log"
assert_eq 3 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
catchup=$(mc_srv_stat 'd["catchup_pkts"]')
log "data_pkts $(mc_srv_stat 'd["data_pkts"]'), catchup_pkts $catchup, repair_pkts $(mc_srv_stat 'd["repair_pkts"]'), image $SRC_PKTS source packets"
check "the catch-up pass resent what m3 missed (catchup_pkts $catchup >= 30% of $SRC_PKTS)" \
	test "$((${catchup//none/0} * 10))" -ge "$((SRC_PKTS * 3))"
mc_finish
