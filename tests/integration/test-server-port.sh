#!/bin/bash
# Issue 9 (a session's life owned by libuv): fleetcastd whose control port is taken — UDP or
# TCP, by another program in the same network namespace — ends with one clear error naming the
# port and what to do, and exit status 2; not with libuv's "uv_close: Assertion" and a core
# dump (exit 134), as it did when it closed signal handles it had never opened. The same with
# the console's port taken (--http). In a namespace of its own, so no real port is touched.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 120 "$@"
mc_init

log "building a small sample disk and its image"
mc_image sample 48 60
lab_create 0 || die "lab_create"

# hold PROTO PORT : a program in srv holding PROTO (udp|tcp) PORT; sets HOLD_PID.
hold() {
	HOLD_PID=$(lab_bg srv "$T/hold-$1-$2.log" python3 -c '
import socket, sys, time
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("0.0.0.0", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen(1)
print("holding", flush=True)
time.sleep(60)' "$1" "$2") || die "cannot start the port holder"
	mc_wait_log "$T/hold-$1-$2.log" '^holding' 10 || die "the holder did not bind $1 $2"
}

# try NAME ARGS... : run fleetcastd in srv with the test's session and ARGS, bounded.
try() {
	local name=$1
	shift
	RC=0
	lab_exec srv timeout 20 "$FLEETCASTD" --image "$IMG" --group "$MC_GROUP" --iface eth0 \
		"$@" >"$T/$name.out" 2>&1 || RC=$?
}

for proto in udp tcp; do
	hold "$proto" 7650
	try "$proto"
	kill "$HOLD_PID" 2>/dev/null
	lab_wait "$HOLD_PID" 5 || true
	out=$(cat "$T/$proto.out")
	assert_eq 2 "$RC" "$proto port 7650 taken: exit status 2"
	assert_match "${proto^^} port 7650: address already in use \(another fleetcastd, or another program" \
		"$out" "$proto port 7650 taken: says which port, and what to do"
	check "$proto port 7650 taken: no libuv assertion, no core dump" \
		bash -c "! grep -q 'Assertion' '$T/$proto.out'"
done

hold tcp 7680
try http --daemon --http 127.0.0.1:7680
kill "$HOLD_PID" 2>/dev/null
lab_wait "$HOLD_PID" 5 || true
assert_eq 2 "$RC" "console port taken: exit status 2"
check "console port taken: no libuv assertion, no core dump, no hang" \
	bash -c "! grep -q 'Assertion' '$T/http.out'"
log "console port taken: $(tr '\n' ' ' <"$T/http.out" | head -c 300)"

# A session that cannot start (no such interface): discarded through its handles' close
# callbacks, then a clear error and exit 2.
try noiface --iface nosuch0
assert_eq 2 "$RC" "a session on an interface that does not exist: exit status 2"
assert_match 'interface nosuch0 not found' "$(cat "$T/noiface.out")" "it says which interface"
check "no libuv assertion, no core dump" bash -c "! grep -q 'Assertion' '$T/noiface.out'"

# With the ports free again it starts (and serves until stopped): the refusals were the ports.
FREE_PID=$(lab_bg srv "$T/free.out" "$FLEETCASTD" --image "$IMG" --group "$MC_GROUP" --iface eth0 \
	--max-wait 1 --min-receivers 1 --verbose) || die "cannot start fleetcastd"
check "with the ports free, fleetcastd started its session" \
	mc_wait_log "$T/free.out" '^fleetcastd: .*session [0-9a-f]{8}: image' 60
sleep 2 # a refused port ends it at once, with exit status 2
check "and it still serves 2 s later" kill -0 "$FREE_PID"
lab_kill "$FREE_PID"
mc_finish
