#!/bin/bash
# Issue 10: Wake-on-LAN. Three machines are "off": in each namespace a
# listener (tests/lab/wol_listener.py) stands in for the NIC, taking only a
# well-formed magic packet for its own MAC, and starts fleetcast-recv on it.
# fleetcastd --daemon holds a session waiting for 3; `fleetcast wake` asks it
# to wake the three MACs. On the wire (a raw-socket capture on srv's eth0,
# tests/lab/wol_capture.py) every magic packet is checked: 102 bytes, 0xFF x6
# then the machine's MAC x16, to the lab's broadcast address 10.77.1.255 and
# the broadcast Ethernet address, UDP port 9, from the server; six rounds
# per MAC at 0, 2, 5, 15, 30 and 60 s. The receivers start on them, the
# session runs and every disk equals the reference restore. The API refuses
# bad wake requests (400), the viewer token (403), no token (401).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 200 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init

con_image 16
lab_create 3 || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon
declare -A MAC
for m in "${MACHINES[@]}"; do
	MAC[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address) || die "no MAC for $m"
	log "$m: MAC ${MAC[$m]}"
done

# --- the API refuses what is not a wake request
GOOD='{"iface":"eth0","macs":["'"${MAC[m1]}"'"]}'
req POST /api/v1/wake "$GOOD"
expect 401 "wake without a token"
req POST /api/v1/wake "$GOOD" "$VIEWER"
expect 403 "wake with the viewer token"
req POST /api/v1/wake '{"iface":"eth0","macs":["52:54:00:zz:00:01"]}' "$TOKEN"
expect 400 "wake: a MAC that is not hex"
req POST /api/v1/wake '{"iface":"eth0","macs":["01:00:5e:00:00:01"]}' "$TOKEN"
expect 400 "wake: a multicast MAC (no NIC has one)"
req POST /api/v1/wake '{"iface":"eth0","macs":[]}' "$TOKEN"
expect 400 "wake: no MACs"
req POST /api/v1/wake '{"macs":["'"${MAC[m1]}"'"]}' "$TOKEN"
expect 400 "wake: no iface"
req POST /api/v1/wake '{"iface":"nosuch0","macs":["'"${MAC[m1]}"'"]}' "$TOKEN"
expect 400 "wake: an interface that does not exist"
req POST /api/v1/wake '{"iface":"eth0","macs":["'"${MAC[m1]}"'"],"colour":"red"}' "$TOKEN"
expect 400 "wake: an unknown field"
req POST /api/v1/wake '{"iface":"eth0","addr":"10.77.1.300","macs":["'"${MAC[m1]}"'"]}' "$TOKEN"
expect 400 "wake: a bad address"
MANY=$(python3 -c 'import json; print(json.dumps({"iface":"eth0","macs":["52:54:00:%02x:%02x:01" % (i >> 8, i & 255) for i in range(1025)]}))')
req POST /api/v1/wake "$MANY" "$TOKEN"
expect 400 "wake: 1025 MACs (at most 1024)"
run fc_srv wake --iface eth0 52:54:00:zz:00:01
check "fleetcast wake refuses a bad MAC itself (exit 2)" test "$RC" = 2
run fc_srv wake --help
check "fleetcast wake --help: usage on stdout, exit 0" bash -c "[[ $RC == 0 ]] && grep -q 'usage: fleetcast wake' '$T/out'"
check "no magic packet went out for the refused requests" bash -c "! grep -q 'wake: ' '$T/srv.log'"

# --- a session waiting for the three
run fc_srv session create --server "$CON_URL" --image "$IMG" --group 239.77.0.1:9000 --iface eth0 --rate 200M \
	--min-receivers 3 --max-wait 60
[[ $RC == 0 ]] || die "session create: $(cat "$T/err")"
SESSION=$(<"$T/out")
req GET "/api/v1/sessions/$SESSION"
check_json 'd["session"]["state"] == "waiting" and d["session"]["first_join_at"] is None and d["session"]["start_deadline"] is None' \
	"the session waits; no first join, no start deadline yet"

# --- the wire, and the machines' NICs
for m in "${MACHINES[@]}"; do
	MC_PID[$m]=$(lab_bg "$m" "$T/$m.log" "$LAB_PYTHON" "$SRCDIR/tests/lab/wol_listener.py" \
		--mac "${MAC[$m]}" --timeout 30 -- "$FLEETCAST_RECV" --target "$T/$m.img" \
		"${MC_SERVER_OPT[@]}" --pubkey "$PUB" --name "$m" --stats "$T/$m.json") ||
		die "cannot start the listener in $m"
	mc_wait_log "$T/$m.log" listening 30 || die "$m's listener did not start: $(cat "$T/$m.log")"
done
# Not a wake for them: a magic packet for a MAC that is nobody's, one cut
# short, one with a copy of the MAC changed. Each NIC ignores all three.
lab_exec srv "$LAB_PYTHON" - "${MAC[m1]}" <<'PY' || die "cannot send the decoys"
import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
good = b"\xff" * 6 + mac * 16
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
for pkt in (b"\xff" * 6 + bytes.fromhex("525400000099") * 16, good[:101], good[:50] + b"\x00" + good[51:]):
    s.sendto(pkt, ("10.77.1.255", 9))
PY
# three_ignored M : M's listener has logged the three decoys as ignored (within 15 s).
three_ignored() {
	local i
	for ((i = 0; i < 150; i++)); do
		[[ $(grep -c '^ignored' "$T/$1.log") == 3 ]] && return 0
		sleep 0.1
	done
	return 1
}
for m in "${MACHINES[@]}"; do
	check "$m's NIC ignored the decoys (another MAC, 101 bytes, a copy changed)" three_ignored "$m"
done
check "no machine starts before it is woken" bash -c "! grep -q woken '$T'/m?.log"

# --- wake them, with the wire watched from here on
lab_bg srv "$T/cap.jsonl" "$LAB_PYTHON" "$SRCDIR/tests/lab/wol_capture.py" --iface eth0 --seconds 90 >/dev/null
CAP_PID=$LAB_PID
mc_wait_log "$T/cap.jsonl" listening 30 || die "the capture did not start: $(cat "$T/cap.jsonl")"
T_WAKE=$SECONDS
run fc_srv wake --server "$CON_URL" --iface eth0 "${MAC[m1]}" "${MAC[m2]^^}" "${MAC[m3]//:/-}"
assert_eq 0 "$RC" "fleetcast wake exits 0 (MACs with colons, upper case, dashes)"
assert_match '^wake: 3 machines on eth0 to 10\.77\.1\.255:9, 6 rounds until [0-9:]{8} \(job [0-9]+\)$' "$(cat "$T/out")" \
	"fleetcast wake says what it asked"
mc_wait_recvs 60 "${MACHINES[@]}"
for m in "${MACHINES[@]}"; do
	check "$m was woken by the server's magic packet" grep -q 'woken by 10.77.0.1:' "$T/$m.log"
	mc_check_recv "$m"
done
check "the session finished with every machine done" \
	wait_api "/api/v1/sessions/$SESSION" 'd["session"]["state"] == "finished" and d["session"]["result"] == "done" and d["session"]["receivers"]["done"] == 3' 20
check "the API kept the first join (first_join_at set)" jq_ok 'isinstance(d["session"]["first_join_at"], int)'

# --- the six rounds, on the wire
left=$((T_WAKE + 90 - SECONDS)) # 66 s of rounds, with room for a loaded host
((left > 0)) || left=1
check "fleetcastd logged the 6th round" mc_wait_log "$T/srv.log" 'wake: 3 machines on eth0 to 10\.77\.1\.255:9 \(round 6/6\)' "$left"
sleep 1
lab_kill "$CAP_PID"
for r in 1 2 3 4 5 6; do
	check "fleetcastd logged round $r/6 in one line" \
		test "$(grep -c "wake: 3 machines on eth0 to 10.77.1.255:9 (round $r/6)" "$T/srv.log")" = 1
done
cat >"$T/check_wire.py" <<'PY'
import json, sys
cap, macs = sys.argv[1], sys.argv[2:]
pkts = [json.loads(l) for l in open(cap) if l.startswith('{"eth_dst"')]
bad = []
for p in pkts:
    if p["eth_dst"] != "ff:ff:ff:ff:ff:ff": bad.append("Ethernet destination " + p["eth_dst"])
    if p["ip_src"] != "10.77.0.1" or p["ip_dst"] != "10.77.1.255": bad.append("%s -> %s" % (p["ip_src"], p["ip_dst"]))
    if p["dport"] != 9: bad.append("port %d" % p["dport"])
for m in macs:
    want = "ff" * 6 + m.replace(":", "") * 16
    mine = [p for p in pkts if p["payload"] == want]
    if len(mine) != 6:
        bad.append("%s: %d magic packets, not 6 (at %s)" % (m, len(mine), " ".join("%.1f" % p["t"] for p in mine)))
        continue
    at = [p["t"] - mine[0]["t"] for p in mine]
    if any(abs(a - b) > 1.0 for a, b in zip(at, [0, 2, 5, 15, 30, 60])):
        bad.append("%s: rounds at %s s, not 0 2 5 15 30 60" % (m, " ".join("%.1f" % a for a in at)))
good = sum(1 for p in pkts for m in macs if p["payload"] == "ff" * 6 + m.replace(":", "") * 16)
if good != len(pkts): bad.append("%d of %d datagrams to port 9 are not a good magic packet" % (len(pkts) - good, len(pkts)))
print("; ".join(bad) if bad else "ok: %d magic packets" % len(pkts))
sys.exit(1 if bad else 0)
PY
WIRE=$(python3 "$T/check_wire.py" "$T/cap.jsonl" "${MAC[@]}")
assert_eq "ok: 18 magic packets" "$WIRE" \
	"on the wire: 6 magic packets per MAC (102 bytes, FF x6 + MAC x16), to 10.77.1.255 and ff:ff:ff:ff:ff:ff, UDP port 9, from 10.77.0.1, at 0 2 5 15 30 60 s"
lab_kill "$SRV_PID"
mc_finish
