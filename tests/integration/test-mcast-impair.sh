#!/bin/bash
# Issue 3: burst loss and reordering. For the whole session every machine's
# link drops everything for 200 ms of every second (lab_burst); once, m1's link
# is cut for 3 s mid-session (lab_cut); m4 and m5 sit behind the lab's relay,
# which holds 30% of the UDP frames back 5-7 ms so that later ones overtake
# them. Every receiver exits 0 with a disk byte-identical to the reference
# restore; fleetcastd exits 0 with all of them done.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 240 "$@"
mc_init

N=5
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 8 / 1000000))M # a pass of about 8 s

lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
lab_relay_create 30 5 2 || die "lab_relay_create"
lab_relay_attach m4 m5 || die "lab_relay_attach"

mc_server -- --rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-stall 40 --verbose
log "session $SESSION, rate cap $RATE; bursts on all links, m4 and m5 behind the relay"
BURST_PID=$(lab_burst all 200 1000 200) || die "lab_burst"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_log "$T/srv.log" 'waiting -> sending' 60 || fail "the session started"
if mc_wait_progress 25 60; then
	log "cutting m1's link for 3 s at $(mc_progress)% written"
	lab_cut m1 on || fail "lab_cut m1 on"
	sleep 3
	lab_cut m1 off || fail "lab_cut m1 off"
	pass "m1's link was cut for 3 s mid-session (at $(mc_progress)% written after it)"
else
	fail "the receivers reached 25% of the chunks within 60 s (at $(mc_progress)%)"
fi
mc_wait_recvs 180 "${MACHINES[@]}"
mc_wait_server 30
lab_kill "$BURST_PID"
lab_relay_stop

for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
check "the relay held back (reordered) frames" grep -Eq 'held=[1-9]' "$LAB_DIR/relay.history.log"
for m in "${MACHINES[@]}"; do
	log "$m: lost $(mc_rx_stat "$m" 'd["pkts_lost"]') of $(mc_rx_stat "$m" 'd["pkts_received"]') received, rejoins $(mc_rx_stat "$m" 'd["rejoins"]')"
done
log "server: data_pkts $(mc_srv_stat 'd["data_pkts"]'), repair_pkts $(mc_srv_stat 'd["repair_pkts"]'), catchup_pkts $(mc_srv_stat 'd["catchup_pkts"]')"
lost1=$(mc_rx_stat m1 'd["pkts_lost"]')
check "m1 lost packets in the cut and the bursts ($lost1)" test "${lost1//none/0}" -gt 0
mc_finish
