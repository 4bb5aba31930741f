#!/bin/bash
# Issue 3: a receiver is killed mid-way (SIGKILL). The other four finish with
# correct disks; fleetcastd drops the silent one (--drop-silent 5), says so in
# its log and its stats, and exits 1 (not every receiver done).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 200 "$@"
mc_init

N=5
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 10 / 1000000))M # a pass of about 10 s

lab_create "$N" || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)
OTHERS=(m1 m2 m4 m5)

mc_server -- --rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-silent 5 --verbose
log "session $SESSION, rate cap $RATE"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_log "$T/srv.log" 'waiting -> sending' 60 || fail "the session started"
mc_wait_progress 30 40 || fail "the receivers reached 30% of the chunks within 40 s"
log "killing m3 (pid ${MC_PID[m3]}) at $(mc_progress)% written"
lab_kill "${MC_PID[m3]}" KILL
mc_wait_recvs 120 "${OTHERS[@]}" m3
mc_wait_server 60

assert_eq 137 "${MC_RC[m3]}" "m3 died of SIGKILL"
for m in "${OTHERS[@]}"; do mc_check_recv "$m"; done
assert_eq 1 "$SRV_RC" "fleetcastd exits 1 (a receiver was dropped)"
assert_match "machine m3( \([^)]*\))?: DROPPED: silent" "$(cat "$T/srv.log")" \
	"the server log says m3 was DROPPED for silence"
assert_eq dropped "$(mc_srv_rx m3 status)" "stats: m3's status"
assert_eq 1 "$(mc_srv_stat 'd["receivers_dropped"]')" "stats: receivers_dropped"
assert_eq 4 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
for m in "${OTHERS[@]}"; do
	assert_eq "done" "$(mc_srv_rx "$m" status)" "stats: $m's status"
done
m3_chunks=$(mc_srv_rx m3 chunks_done)
check "stats: m3 was incomplete when dropped ($m3_chunks of $CHUNKS chunks)" test "${m3_chunks//none/0}" -lt "$CHUNKS"
mc_finish
