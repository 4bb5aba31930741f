#!/bin/bash
# Issue 3: a rogue host on the LAN (tests/lab/rogue.py) learns the session id
# from the server's ANNOUNCE and, while the data flows, injects forged DATA
# (right session id, header and cut, wrong payload) for chunks just ahead of
# the stream, and garbage packets to the group and to the server's control
# port. Every disk is still byte-identical to the reference restore; the
# receivers' counters show the rejects and the failed chunk hashes; the
# server's counters show the garbage it got.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 240 "$@"
mc_init

N=4
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 8 / 1000000))M # a pass of about 8 s

lab_create "$N" || die "lab_create"
lab_add rogue 10.77.0.99 || die "lab_add rogue"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)

mc_server -- --rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-stall 40 --verbose
log "session $SESSION, rate cap $RATE"
ROGUE_PID=$(lab_bg rogue "$T/rogue.log" "$LAB_PYTHON" "$SRCDIR/tests/lab/rogue.py" \
	--server 10.77.0.1:7650 --info "$T/info.json" --pps 300 --forge-share 0.3 --ahead 2 --per-block 1 \
	--duration 150 --idle 3 --seed 7) || die "cannot start rogue.py"
mc_wait_log "$T/rogue.log" '^rogue: session' 20 || fail "rogue.py learned the session"
assert_match "^rogue: session $SESSION " "$(cat "$T/rogue.log")" "rogue.py learned the session id from ANNOUNCE"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_recvs 200 "${MACHINES[@]}"
mc_wait_server 30
rc=0
lab_wait "$ROGUE_PID" 20 || rc=$?
assert_eq 0 "$rc" "rogue.py ran to the end"
counts=$(tail -1 "$T/rogue.log")
log "rogue.py: $counts"

for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
forged=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["forged_data"])' "$counts" 2>/dev/null || echo 0)
garbage=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["garbage_group"] + d["garbage_server"])' "$counts" 2>/dev/null || echo 0)
check "rogue.py sent forged DATA during the session ($forged)" test "$forged" -gt 0
check "rogue.py sent garbage during the session ($garbage)" test "$garbage" -gt 0
rej=0 hf=0
for m in "${MACHINES[@]}"; do
	r=$(mc_rx_stat "$m" 'd["rejects"]')
	h=$(mc_rx_stat "$m" 'd["hash_failures"]')
	log "$m: rejects $r, hash_failures $h, pkts_duplicate $(mc_rx_stat "$m" 'd["pkts_duplicate"]')"
	rej=$((rej + ${r//none/0})) hf=$((hf + ${h//none/0}))
done
check "the receivers rejected packets (sum of rejects $rej > 0)" test "$rej" -gt 0
check "forged DATA reached a decode and failed its chunk hash (sum of hash_failures $hf > 0)" test "$hf" -gt 0
srej=$(mc_srv_stat 'd["rejects"]')
rrej=$(mc_srv_stat 'd["receiver_rejects"]')
log "server: rejects $srej, receiver_rejects $rrej, repair_pkts $(mc_srv_stat 'd["repair_pkts"]'), catchup_pkts $(mc_srv_stat 'd["catchup_pkts"]')"
check "the server rejected the garbage it got (rejects $srej > 0)" test "${srej//none/0}" -gt 0
check "the server saw the receivers' rejects (receiver_rejects $rrej > 0)" test "${rrej//none/0}" -gt 0
mc_finish
