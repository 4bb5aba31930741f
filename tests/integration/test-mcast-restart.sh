#!/bin/bash
# Issue 3: fleetcastd is SIGKILLed mid-session and started again with the same
# arguments. It keeps the session id; the receivers keep what they wrote,
# re-join and finish with correct disks; the restarted server does not resend
# the whole image (data_pkts + catchup_pkts of its run < the image's source
# packets).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 240 "$@"
mc_init

N=4
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 10 / 1000000))M # a pass of about 10 s
ARGS=(--rate "$RATE" --min-receivers "$N" --max-wait 60 --verbose)

lab_create "$N" || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)

mc_server srv -- "${ARGS[@]}"
S1=$SESSION
log "session $S1, rate cap $RATE"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_log "$T/srv.log" 'waiting -> sending' 60 || fail "the session started"
mc_wait_progress 40 40 || fail "the receivers reached 40% of the chunks within 40 s"
at=$(mc_progress)
log "SIGKILL fleetcastd at $at% written"
lab_kill "$SRV_PID" KILL
SRV_RC=0
lab_wait "$SRV_PID" 10 || SRV_RC=$?
assert_eq 137 "$SRV_RC" "the first fleetcastd died of SIGKILL"
check "the killed server wrote no stats" test ! -e "$T/srv.json"
sleep 1
mc_server srv2 -- "${ARGS[@]}"
assert_eq "$S1" "$SESSION" "the restarted server keeps the session id"
mc_wait_recvs 150 "${MACHINES[@]}"
mc_wait_server 30

for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "the restarted fleetcastd exits 0"
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
check "the receivers re-joined with chunks already written" \
	grep -Eq 'joined as receiver [0-9a-f]+( \(late\))?, [1-9][0-9]* of [0-9]+ chunks already written' "$T/srv2.log"
for m in "${MACHINES[@]}"; do
	r=$(mc_rx_stat "$m" 'd["rejoins"]')
	check "$m re-joined (rejoins $r)" test "${r//none/0}" -ge 1
done
data=$(mc_srv_stat 'd["data_pkts"]')
catchup=$(mc_srv_stat 'd["catchup_pkts"]')
log "second run: data_pkts $data + catchup_pkts $catchup; the image has $SRC_PKTS source packets"
check "the restarted server did not resend everything ($data + $catchup < $SRC_PKTS)" \
	test "$((${data//none/0} + ${catchup//none/0}))" -lt "$SRC_PKTS"
check "... but it did send something ($data + $catchup > 0)" \
	test "$((${data//none/0} + ${catchup//none/0}))" -gt 0
mc_finish
