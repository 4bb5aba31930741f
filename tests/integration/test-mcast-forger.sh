#!/bin/bash
# Issue 8, "No endless stall": a host on the LAN (tests/lab/forger.py) sends,
# from the server's address, a forged copy of every packet index of every FEC
# block it sees on the group, ahead of the server's own: every block of every
# pass decodes to garbage and its chunk fails its hash. A receiver fetches a
# chunk that failed twice over TCP from the server (CHUNK_REQ, within an
# allowance of 5 % of the chunks + 8), through the same verified write path.
# Each receiver must either finish with a disk identical to the reference
# restore (and have used the TCP fallback) or fail with a clear error by its
# --deadline (the server's --max-time bounds the session): none hangs, none
# writes a byte that is not the image's. Two sessions under the forger: a
# 6-chunk image, within the allowance, that every receiver must finish
# through the fallback; then a 16-chunk one, beyond it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 400 "$@"
mc_init

N=3
DEADLINE=45 # fleetcast-recv --deadline
MAXTIME=60  # fleetcastd --max-time
log "building a 48 MiB sample disk and its image"
mc_image sample 48 150
TCP_ALLOWED=$((CHUNKS * 5 / 100 + 8))
log "$CHUNKS chunks; the server sends each receiver at most $TCP_ALLOWED over TCP"

lab_create "$N" || die "lab_create"
lab_add forger 10.77.0.98 || die "lab_add forger"
mapfile -t MACHINES < <(lab_machines)

# start_forger : forger.py in its host; FORGER_PID.
start_forger() {
	rm -f "$T/forger.log"
	FORGER_PID=$(lab_bg forger "$T/forger.log" "$LAB_PYTHON" "$SRCDIR/tests/lab/forger.py" \
		--spoof 10.77.0.1 --group "$MC_GROUP" --duration $((MAXTIME + 40)) --idle 5) ||
		die "cannot start forger.py"
	mc_wait_log "$T/forger.log" '^forger: listening' 10 || die "forger.py did not start: $(cat "$T/forger.log")"
}

log "session 1: 6 random MiB, 6 chunks: every one can come over TCP"
head -c $((6 * MIB)) /dev/urandom >"$T/tiny.raw"
must "$FLEETCAST" image create "$T/tiny.raw" "$T/tiny.fcimg" --key "$T/key.key" --quiet
must "$FLEETCAST" image restore "$T/tiny.fcimg" "$T/tiny.ref" --pubkey "$PUB"
BIG_IMG=$IMG BIG_REF=$REF IMG=$T/tiny.fcimg REF=$T/tiny.ref
mc_server srv1 -- --rate 8M --min-receivers "$N" --max-wait 30 --max-time "$MAXTIME" --verbose
start_forger
for m in "${MACHINES[@]}"; do mc_recv "$m" --deadline "$DEADLINE"; done
mc_wait_recvs $((DEADLINE + 25)) "${MACHINES[@]}"
mc_wait_server $((MAXTIME + 30))
lab_wait "$FORGER_PID" 30 || true
log "forger.py: $(tail -1 "$T/forger.log")"
for m in "${MACHINES[@]}"; do
	mc_check_recv "$m" 0
	t=$(mc_rx_stat "$m" 'd["tcp_chunks"]')
	log "$m: hash_failures $(mc_rx_stat "$m" 'd["hash_failures"]'), tcp_chunks $t"
	check "$m: used the TCP fallback (tcp_chunks $t)" test "${t//none/0}" -gt 0
	assert_eq done "$(mc_srv_rx "$m" status)" "$m: the server counts it done"
	for f in log json img; do mv "$T/$m.$f" "$T/$m-1.$f" 2>/dev/null; done
done
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "session 1: server stats: every receiver done"
mv "$T/srv.json" "$T/srv1.json"
IMG=$BIG_IMG REF=$BIG_REF

log "session 2: $CHUNKS chunks, beyond the allowance"

mc_server -- --rate 8M --min-receivers "$N" --max-wait 30 --max-time "$MAXTIME" --verbose
log "session $SESSION"
start_forger
T0=$SECONDS
for m in "${MACHINES[@]}"; do mc_recv "$m" --deadline "$DEADLINE"; done
mc_wait_recvs $((DEADLINE + 25)) "${MACHINES[@]}"
took=$((SECONDS - T0))
mc_wait_server $((MAXTIME + 30))
rc=0
lab_wait "$FORGER_PID" 30 || rc=$?
assert_eq 0 "$rc" "forger.py ran to the end"
counts=$(tail -1 "$T/forger.log")
log "forger.py: $counts; receivers ended within $took s"
forged=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["forged_data"])' "$counts" 2>/dev/null || echo 0)
check "forger.py sent forged DATA ($forged packets)" test "$forged" -gt 0
check "every receiver ended by its deadline + 25 s ($took s)" test "$took" -le $((DEADLINE + 25))

# no_bad_byte MACHINE : every 4 KiB block of its target is the reference's or
# still zero (never written): a receiver that gave up wrote only good chunks.
no_bad_byte() {
	python3 - "$T/$1.img" "$REF" <<-'PY'
		import sys
		bad = 0
		with open(sys.argv[1], "rb") as t, open(sys.argv[2], "rb") as r:
		    zero = bytes(4096)
		    while True:
		        a, b = t.read(4096), r.read(4096)
		        if not a and not b:
		            break
		        if a != b and a != zero[:len(a)]:
		            bad += 1
		sys.exit(1 if bad else 0)
	PY
}

done_n=0 tcp=0 hf=0
for m in "${MACHINES[@]}"; do
	rc=${MC_RC[$m]:-none} st=$(mc_srv_rx "$m" status)
	t=$(mc_rx_stat "$m" 'd["tcp_chunks"]') h=$(mc_rx_stat "$m" 'd["hash_failures"]')
	log "$m: exit $rc, server says $st, hash_failures $h, tcp_chunks $t, tcp_fetch_failed $(mc_rx_stat "$m" 'd["tcp_fetch_failed"]'), chunks_written $(mc_rx_stat "$m" 'd["chunks_written"]')"
	tcp=$((tcp + ${t//none/0})) hf=$((hf + ${h//none/0}))
	check "$m: did not hang (exit $rc)" test "$rc" != 124
	if [[ $rc == 0 ]]; then
		done_n=$((done_n + 1))
		mc_check_recv "$m" 0
		assert_eq done "$st" "$m: the server counts it done"
		check "$m: finished through the TCP fallback (tcp_chunks $t)" test "${t//none/0}" -gt 0
		assert_match 'fetched over TCP: verified and written' "$(cat "$T/$m.log")" "$m: its log shows the TCP fallback"
	else
		check "$m: a failure exit code (7 aborted, 8 lost, 9 deadline): $rc" test "$rc" -ge 7 -a "$rc" -le 9
		assert_match 'deadline of [0-9]+ s passed: [0-9]+ of [0-9]+ chunks written, last chunk written .*hash failures.*DATA|session deadline passed|giving up' \
			"$(grep -E 'error' "$T/$m.log")" "$m: a clear error says what it saw"
		check "$m: the server does not count it done ($st)" test "$st" != done
		check "$m: every block of its target is the image's or untouched" no_bad_byte "$m"
	fi
done
assert_eq "$done_n" "$(mc_srv_stat 'd["receivers_done"]')" "server stats: receivers_done = receivers that exited 0"
check "the forgery made chunks fail their hash (sum of hash_failures $hf)" test "$hf" -gt 0
check "receivers fetched chunks over TCP (sum of tcp_chunks $tcp)" test "$tcp" -gt 0
stcp=$(mc_srv_stat 'd["tcp_chunks"]')
check "the server sent chunks over TCP (stats tcp_chunks $stcp)" test "${stcp//none/0}" -ge "$tcp"
assert_match "session $SESSION machine m[0-9]+: chunk [0-9]+ sent over TCP" "$(cat "$T/srv.log")" \
	"the server logs each TCP chunk with session and machine"
stats=()
for m in "${MACHINES[@]}"; do stats+=("$T/$m.json"); done
check "no receiver got more chunks over TCP than its allowance ($TCP_ALLOWED)" \
	python3 -c 'import json,sys; sys.exit(0 if all(json.load(open(f))["tcp_chunks"] <= int(sys.argv[1]) for f in sys.argv[2:]) else 1)' \
	"$TCP_ALLOWED" "${stats[@]}"
mc_finish
