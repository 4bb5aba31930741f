#!/bin/bash
# Issue 8: a NAK flood and a JOIN flood. A host on the LAN (tests/lab/hostile.py flood), from 20 %
# of the session on, multicasts 100 NAKs a second to the group, each of 32 entries asking for
# whole blocks (needed = k) with a seq_seen far in the future, under random receiver ids and now
# and then the id of a real receiver (learnt from its NAKs) with a tag it cannot compute; and
# sends 1024 JOINs with random names (1000 a second, half from its own address, half with spoofed
# sources from the machines' subnet) to the server. Under wire v1 each such NAK made the server
# multicast thousands of repair packets and 1024 JOINs filled the receiver table.
# A real machine (m5) starts once the flood has begun and must still join and finish.
# Asserted: repair packets within the fault-free run's (same lab, same late machine) plus a small
# margin; the flood's NAKs counted as unauthenticated; JOINs over the answer rate dropped; m5 joined
# and finished; the session finished; every disk right; session time within 1.5x (+8 s) of the
# fault-free run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 270 "$@"
mc_init
# shellcheck source=hostile-lib.sh
. "$IT_DIR/hostile-lib.sh"

N=4
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 8 / 1000000))M # a pass of about 8 s

lab_create $((N + 1)) || die "lab_create"
lab_add evil 10.77.0.66 || die "lab_add evil"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t ALL < <(lab_machines)
MACHINES=("${ALL[@]:0:N}")
LATE=${ALL[N]}
HL_SRV_ARGS=(--rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-stall 40 --verbose)

# The fault-free run: the same session, the late machine started at 20 %.
HL_LATE=$LATE hl_clean_run clean "${MACHINES[@]}"

mc_server -- "${HL_SRV_ARGS[@]}"
log "attacked run: session $SESSION"
EVIL_PID=$(lab_bg evil "$T/hostile.log" "$LAB_PYTHON" "$HOSTILE" flood --server 10.77.0.1:7650 \
	--info "$T/info.json" --at 0.2 --nak-pps 100 --joins 1024 --join-pps 1000 --duration 150 \
	--idle 4 --seed 10) || die "cannot start hostile.py"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_log "$T/hostile.log" '^hostile: session' 25 || fail "hostile.py learned the session"
mc_wait_log "$T/hostile.log" '^hostile: flood started' 60 || fail "the flood started"
sleep 0.5 # in the middle of the JOIN flood (1000 a second for 1 s)
mc_recv "$LATE"
log "$LATE started during the flood"
mc_wait_recvs 150 "${ALL[@]}"
mc_wait_server 30
rc=0
lab_wait "$EVIL_PID" 20 || rc=$?
assert_eq 0 "$rc" "hostile.py ran to the end"
counts=$(tail -1 "$T/hostile.log")
log "hostile.py: $counts"
jc() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$counts" "$1" 2>/dev/null || echo 0; }
naks=$(jc naks)
joins=$(jc joins)
check "hostile.py sent a NAK flood ($naks NAKs of 32 entries)" test "$naks" -ge 300
assert_eq 1024 "$joins" "hostile.py sent 1024 JOINs"

for m in "${ALL[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code: the session finished"
assert_eq $((N + 1)) "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done (the late machine too)"
assert_eq 0 "$(mc_srv_stat 'd["receivers_failed"] + d["receivers_dropped"]')" "stats: none failed or dropped"
assert_eq done "$(mc_srv_rx "$LATE" status)" "the late machine $LATE joined and finished"
nu=$(mc_srv_stat 'd.get("naks_unauth", "none")')
log "server: naks $(mc_srv_stat 'd["naks"]'), naks_unauth $nu, auth_fail $(mc_srv_stat 'd.get("auth_fail")'), joins_refused $(mc_srv_stat 'd.get("joins_refused")'), rejects $(mc_srv_stat 'd["rejects"]')"
check "the flood's NAKs were counted as unauthenticated ($nu >= $((naks / 2)))" test "${nu//none/0}" -ge $((naks / 2))
# 1024 JOINs in a second are more than fleetcastd answers (300 a second after a burst of 600:
# each costs a sealed box on the loop that paces the sender); the rest are dropped unanswered.
jt=$(mc_srv_stat 'd.get("joins_throttled", 0)')
check "the JOIN flood was throttled ($jt JOINs not answered)" test "${jt//none/0}" -gt 0
hl_figures flood "${ALL[@]}"
# The margin is the run-to-run spread of repair at 1 % random loss (seen: 589 to 983 packets for
# the same session), plus what the receivers' own sockets dropped in the attacked run (on the CI
# machine a QEMU guest shares the two cores: seen 1995 repairs against 694); answering the flood
# as wire v1 did would cost thousands of packets a second.
limit=$(python3 -c 'import sys; r, d, k = map(int, sys.argv[1:]); print(r + max(r, d // 25, 200) + k)' "$CLEAN_REPAIR" "$CLEAN_DATA" "$HL_KDROPS")
check "repair packets $HL_REPAIR within the fault-free run's $CLEAN_REPAIR + margin + $HL_KDROPS socket drops ($limit)" test "$HL_REPAIR" -le "$limit"
check "session time $HL_SECS s within 1.5x (+8 s) of the fault-free $CLEAN_SECS s" hl_within "$HL_SECS" 1.5
mc_finish
