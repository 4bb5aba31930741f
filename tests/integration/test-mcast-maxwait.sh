#!/bin/bash
# Issue 10: --max-wait counts from the first join (udpcast's meaning), not
# from the session's creation. fleetcastd --daemon in srv, sessions made with
# `fleetcast session create`, receivers in m1..m3.
#  A: --min-receivers 3 --max-wait 45; the first receiver joins 50 s after
#     creation (the old rule started right then, for one machine); it
#     does not start; the API says start_deadline = first_join_at + 45; the
#     second and third follow a few seconds later; sending starts when the
#     third joins ("3 of 3"), none of them late; all three disks are right.
#  B: --min-receivers 3 --max-wait 10; created 20 s before its first
#     receiver, a second follows 3 s after it, the third never: sending
#     starts 10 s after the first join ("max-wait 10 s after the first
#     join"), not at once; the disks are right.
# Joins are waited for generously (a loaded machine starts a receiver
# slowly); the times asserted are fleetcastd's own (its API's first_join_at,
# start_deadline and started_at), not when the test saw something.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 220 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init

con_image 8
lab_create 3 || die "lab_create"
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon

# create GROUP MIN MAXWAIT : a session over the API; its id in SESSION, creation time in T_CREATED.
create() {
	run fc_srv session create --server "$CON_URL" --image "$IMG" --group "$1" --iface eth0 --rate 200M \
		--min-receivers "$2" --max-wait "$3"
	[[ $RC == 0 ]] || die "session create: $(cat "$T/err")"
	SESSION=$(<"$T/out")
	T_CREATED=$SECONDS
}
# join MACHINE : start its receiver and wait until fleetcastd took it; the time in T_JOIN.
join() {
	start "$1"
	mc_wait_log "$T/srv.log" "session $SESSION machine $1 \(.*\): joined as receiver" 45 ||
		die "$1 did not join session $SESSION"
	T_JOIN=$SECONDS
}
# start MACHINE : start its receiver.
start() {
	rm -f "$T/$1.img" "$T/$1.json"
	mc_recv "$1"
}
sending_line() { grep -E "session $SESSION: waiting -> sending" "$T/srv.log"; }
still_waiting() { ! sending_line >/dev/null && jq_ok 'd["session"]["state"] == "waiting"'; }
# wait_until S : sleep until S seconds after T_CREATED.
wait_until() {
	local left=$((T_CREATED + $1 - SECONDS))
	((left > 0)) && sleep "$left"
	return 0
}

log "A: min 3, max-wait 45; the first receiver 50 s after creation"
create 239.77.0.1:9000 3 45
A=$SESSION
wait_until 50
req GET "/api/v1/sessions/$A"
check "A: 50 s after creation, nobody joined: still waiting, no start deadline" \
	jq_ok 'd["session"]["state"] == "waiting" and d["session"]["start_deadline"] is None and d["session"]["first_join_at"] is None'
join m1
T_FIRST=$T_JOIN
sleep 2
req GET "/api/v1/sessions/$A"
check "A: the first join does not start it (the old rule did: max-wait had passed since creation)" still_waiting
check "A: start_deadline = first_join_at + 45" \
	jq_ok 'isinstance(d["session"]["first_join_at"], int) and d["session"]["start_deadline"] == d["session"]["first_join_at"] + 45'
check "A: first_join_at is the join, not the creation" \
	jq_ok 'd["session"]["first_join_at"] - d["session"]["created_at"] >= 48'
start m2
sleep 2
start m3
mc_wait_log "$T/srv.log" "session $A: waiting -> sending" 50
T_SEND=$SECONDS
assert_match "session $A: waiting -> sending \(3 of 3 receivers joined\)" "$(sending_line)" \
	"A: sending started when the third joined, $((T_SEND - T_FIRST)) s after the first"
failed_before=$FAILED
check "A: the three joined before sending started, none late" \
	bash -c "! grep -E 'session $A machine .*\(late\)' '$T/srv.log' && [[ \$(grep -cE 'session $A machine m[123] .*joined as receiver' '$T/srv.log') == 3 ]]"
if ((FAILED > failed_before)); then
	# Seen twice on a loaded CI machine with max-wait 25 (a receiver joined more than 21 s
	# after its start, its log showing nothing but the usual steps): what they did.
	for m in m2 m3; do sed "s/^/# $m: /" "$T/$m.log" | head -40; done
fi
mc_wait_recvs 90 m1 m2 m3
for m in m1 m2 m3; do mc_check_recv "$m"; done
check "A finished, every machine done" wait_api "/api/v1/sessions/$A" 'd["session"]["state"] == "finished" and d["session"]["result"] == "done"' 15

log "B: min 3, max-wait 10; the first receiver 20 s after creation, a second 3 s later, no third"
create 239.77.0.2:9000 3 10
B=$SESSION
wait_until 20
join m1
T_FIRST=$T_JOIN
sleep 3
start m2
sleep 3
req GET "/api/v1/sessions/$B"
# On a loaded host the sleeps can stretch past max-wait: then the API's times below are the
# check that it did not start at once.
if ((SECONDS - T_FIRST < 8)); then # 2 s short of max-wait: the join was seen late, SECONDS is whole
	check "B: 6 s after the first join (26 s after creation): still waiting" still_waiting
else
	log "B: $((SECONDS - T_FIRST)) s went by after the first join (loaded host): not checked that it still waits"
fi
mc_wait_log "$T/srv.log" "session $B: waiting -> sending" 30
assert_match "session $B: waiting -> sending \(max-wait 10 s after the first join, with [12] of 3 receivers\)" \
	"$(sending_line)" "B: started by max-wait, without the third"
req GET "/api/v1/sessions/$B"
# fleetcastd's own times (whole seconds of the wall clock): 10 s, give or take the rounding.
check "B: sending started 10 s after the first join (started_at - first_join_at in 9..11), not at once" \
	jq_ok '9 <= d["session"]["started_at"] - d["session"]["first_join_at"] <= 11'
mc_wait_recvs 90 m1 m2
for m in m1 m2; do mc_check_recv "$m"; done
lab_kill "$SRV_PID"
mc_finish
