#!/bin/bash
# Issue 8 (Console): the console's guards, on fleetcastd --daemon --http
# 0.0.0.0:PORT in the lab's srv namespace, reached from srv (loopback) and
# from a lab machine (m1, not loopback):
#  1. Host check: a foreign Host (DNS rebinding) is refused with 421 and a
#     JSON error, on the API, the dashboard and the changing calls; the
#     listen addresses, localhost, --http-host and the config file's
#     http-host names are accepted;
#  2. security headers (CSP, X-Frame-Options, nosniff, Referrer-Policy) on
#     JSON, the dashboard and the event stream;
#  3. tokens: the viewer token (viewer.token) reads, from the header or
#     ?token=, and never writes (403); the write token is refused in ?token=
#     (403); reads without a token only from loopback;
#  4. a machine named with bytes that are not UTF-8 is listed, escaped as
#     \xNN, in /api/v1/machines and in the event stream;
#  5. limits: 200 event streams from 20 addresses all stream while GETs are
#     answered within 2 s; one address gets 16 streams, the rest are refused;
#     the total is capped at 256; an event stream ends after
#     --http-stream-seconds (retry: line for the browser's reconnect).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 400 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
CON_ADDR=0.0.0.0
con_init

STREAM_S=30
con_image 8
lab_create 1 || die "lab_create"
echo "http-host = from-config.example" >"$T/fc.conf"
con_daemon --http-host FleetCast.Lab.Example --config "$T/fc.conf" --http-stream-seconds "$STREAM_S"
LAN_URL=http://10.77.0.1:$CON_PORT

# hreq HOST_HEADER METHOD PATH [CURL ARGS...] : curl in srv with that Host;
# status in CODE, body in $T/resp (RESP).
hreq() {
	local host=$1 method=$2 path=$3
	shift 3
	CODE=$(lab_exec srv curl -s -o "$T/resp" -w '%{http_code}' --max-time 10 -X "$method" \
		-H "Host: $host" "$@" "$CON_URL$path") || CODE=000
	RESP=$(head -c 2000 "$T/resp" 2>/dev/null)
}
# mreq METHOD PATH [CURL ARGS...] : curl from m1 (not loopback) to 10.77.0.1.
mreq() {
	local method=$1 path=$2
	shift 2
	CODE=$(lab_exec m1 curl -s -o "$T/resp" -w '%{http_code}' --max-time 10 -X "$method" "$@" \
		"$LAN_URL$path") || CODE=000
	RESP=$(head -c 2000 "$T/resp" 2>/dev/null)
}

# --- 1. Host check
for h in evil.example "evil.example:$CON_PORT" "127.0.0.1.evil.example:$CON_PORT" "localhost.evil.example" \
	"fleetcast.lab.example.evil.example" "[::1]:$CON_PORT"; do
	hreq "$h" GET /api/v1/machines
	expect 421 "GET /api/v1/machines with the foreign Host '$h' is refused"
done
hreq evil.example GET /
expect 421 "the dashboard with a foreign Host is refused"
hreq evil.example GET /api/v1/events
expect 421 "the event stream with a foreign Host is refused"
BODY='{"image":"'"$IMG"'","group":"239.77.0.41:9000","iface":"eth0","min_receivers":50,"max_wait":600}'
hreq evil.example POST /api/v1/sessions -H "Authorization: Bearer $TOKEN" --data-binary "$BODY"
expect 421 "a create with the write token but a foreign Host is refused"
for h in "127.0.0.1:$CON_PORT" "localhost:$CON_PORT" localhost "10.77.0.1:$CON_PORT" \
	"fleetcast.lab.example:$CON_PORT" "FLEETCAST.LAB.EXAMPLE" "from-config.example"; do
	hreq "$h" GET /api/v1/machines
	expect 200 "GET /api/v1/machines with Host '$h' (listen address, localhost, --http-host, config)"
done
req GET /api/v1/sessions
check_json 'd["sessions"] == []' "the refused create created nothing"

# --- 2. security headers
for p in / /app.js /api/v1/health /api/v1/nothing; do
	lab_exec srv curl -s -o /dev/null -D "$T/hdr" --max-time 5 "$CON_URL$p"
	check "$p: Content-Security-Policy default-src 'self', no inline script" \
		grep -Eiq "^content-security-policy: default-src 'self';.*frame-ancestors 'none'" "$T/hdr"
	check "$p: X-Frame-Options: DENY" grep -Eiq '^x-frame-options: DENY' "$T/hdr"
	check "$p: X-Content-Type-Options: nosniff" grep -Eiq '^x-content-type-options: nosniff' "$T/hdr"
	check "$p: Referrer-Policy: no-referrer" grep -Eiq '^referrer-policy: no-referrer' "$T/hdr"
done
lab_exec srv curl -s -o /dev/null -D "$T/hdr" --max-time 2 "$CON_URL/api/v1/events"
check "the event stream: CSP and nosniff" \
	bash -c "grep -Eiq '^content-security-policy: ' '$T/hdr' && grep -Eiq '^x-content-type-options: nosniff' '$T/hdr'"
req GET /
check "the dashboard has no inline script (CSP without 'unsafe-inline')" \
	bash -c "! grep -Eiq '<script>|<script [^>]*>[^<]|on(click|load|error)=' '$T/resp'"

# --- 3. tokens
assert_eq "640 $(id -gn)" "$(stat -c "%a %G" "$FLEETCAST_HOME/viewer.token")" "viewer.token has mode 0640 and the daemon's group"
check "the viewer token is not the write token" test "${#VIEWER}" -ge 16 -a "$VIEWER" != "$TOKEN"
check "fleetcastd logged viewer.token's path" grep -q "$FLEETCAST_HOME/viewer.token" "$T/srv.log"
req GET /api/v1/sessions
expect 200 "loopback (Host checked): reads without a token"
mreq GET /api/v1/sessions
expect 401 "from the LAN: reads without a token are refused"
mreq GET "/api/v1/sessions?token=$VIEWER"
expect 200 "from the LAN: the viewer token in ?token= reads"
mreq GET /api/v1/sessions -H "Authorization: Bearer $VIEWER"
expect 200 "from the LAN: the viewer token in the header reads"
mreq GET /api/v1/sessions -H "Authorization: Bearer $TOKEN"
expect 200 "from the LAN: the write token in the header reads"
mreq GET "/api/v1/sessions?token=$TOKEN"
expect 403 "the write token in ?token= is refused (a URL leaks to logs)"
req GET "/api/v1/sessions?token=$TOKEN"
expect 403 "the write token in ?token= is refused from loopback too"
mreq GET "/api/v1/sessions?token=wrong$VIEWER"
expect 401 "a wrong ?token= is refused"
lab_exec m1 curl -sN --max-time 3 "$LAN_URL/api/v1/events?token=$VIEWER" >"$T/ev-viewer.txt" 2>/dev/null
check "from the LAN: the event stream with ?token=VIEWER streams" grep -q '^event: progress' "$T/ev-viewer.txt"
mreq POST /api/v1/sessions -H "Authorization: Bearer $VIEWER" -H 'Content-Type: application/json' --data-binary "$BODY"
expect 403 "create with the viewer token (header) is refused"
mreq POST "/api/v1/sessions?token=$VIEWER" -H 'Content-Type: application/json' --data-binary "$BODY"
expect 403 "create with the viewer token (?token=) is refused"
mreq POST "/api/v1/sessions?token=$TOKEN" -H 'Content-Type: application/json' --data-binary "$BODY"
expect 403 "create with the write token in ?token= is refused"
for m in PUT DELETE PATCH; do
	mreq "$m" /api/v1/sessions -H "Authorization: Bearer $VIEWER"
	expect 403 "$m with the viewer token is refused"
done
req POST /api/v1/sessions "$BODY" "$VIEWER"
expect 403 "create with the viewer token from loopback is refused"
req GET /api/v1/sessions
check_json 'd["sessions"] == []' "the viewer token created nothing"
mreq POST /api/v1/sessions -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "$BODY"
expect 201 "create with the write token in the header, from the LAN"
S=$(jq_get 'd["session"]["id"]')
for v in start cancel; do
	req POST "/api/v1/sessions/$S/$v" "" "$VIEWER"
	expect 403 "$v with the viewer token is refused"
done
run fc_srv session list --server "$CON_URL" --token "$VIEWER"
assert_eq 0 "$RC" "fleetcast session list with the viewer token: exit 0"
assert_exit 1 fc_srv session cancel "$S" --server "$CON_URL" --token "$VIEWER"
assert_stderr 'viewer token can only read' "fleetcast session cancel with the viewer token says why"

# --- 4. a name that is not UTF-8
NAME=$'pc-\xff\xfe-<b>7</b>-\xc3\xa9'
mc_recv m1 --quiet --name "$NAME"
check "the machine named with non-UTF-8 bytes is listed" \
	wait_api "/api/v1/machines?session=$S" "len(d['machines']) == 1" 30
check_json 'd["machines"][0]["name"] == "pc-\\xff\\xfe-<b>7</b>-\u00e9"' \
	"its name is escaped (\\xff\\xfe), valid UTF-8 kept (é), nothing dropped ($(jq_get 'd["machines"][0]["name"]'))"
check_json 'd["machines"][0]["ip"].startswith("10.77.1.")' "the machine's other fields are there"
lab_exec srv curl -sN --max-time 3 "$CON_URL/api/v1/events" >"$T/ev-name.txt" 2>/dev/null
python3 - "$T/ev-name.txt" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("data:"):
        d = json.loads(line[5:])
        sys.exit(0 if any(m["name"].startswith("pc-\\xff\\xfe") for m in d.get("machines", [])) else 1)
sys.exit(1)
PY
check "the event stream's progress event lists it too" test $? = 0
req POST "/api/v1/sessions/$S/cancel" "" "$TOKEN"
expect 200 "cancel the session"
mc_wait_recvs 20 m1

# --- 5. limits
# The short streams above are gone within a progress event or two (one a
# second): their slots must be free before counting.
sleep 4
STREAMS=(--ready "$T/streams.ready" --release "$T/streams.release" --out "$T/streams.json" --hold 60)
SPECS=()
for i in $(seq 1 20); do SPECS+=("127.0.1.$i:10"); done
SPECS+=("127.0.2.1:100")
for i in $(seq 1 6); do SPECS+=("127.0.3.$i:10"); done
lab_bg srv "$T/streams.log" python3 "$IT_DIR/console-streams.py" 127.0.0.1 "$CON_PORT" "${STREAMS[@]}" "${SPECS[@]}" >/dev/null
PY_PID=$LAB_PID
for ((i = 0; i < 300; i++)); do [[ -s $T/streams.ready ]] && break; sleep 0.1; done
check "the 360 event streams were opened within 30 s" test -s "$T/streams.ready"
# curl's own time_total: the server's answer, not the start of ip netns exec and curl (slow on a
# loaded host).
read -r CODE secs < <(lab_exec srv curl -s -o "$T/resp" -w '%{http_code} %{time_total}\n' --max-time 15 \
	"$CON_URL/api/v1/sessions" || echo 000 15)
RESP=$(head -c 300 "$T/resp")
ms=$(python3 -c "print(int(float('$secs') * 1000))" 2>/dev/null || echo 99999)
expect 200 "GET /api/v1/sessions while the event streams are open"
check "it was answered within 2 s (${ms} ms)" test "$ms" -lt 2000
CODE=$(lab_exec srv curl -s -o "$T/resp" -w '%{http_code}' --max-time 10 --interface 127.0.1.1 "$CON_URL/api/v1/machines") || CODE=000
RESP=$(head -c 300 "$T/resp")
expect 200 "GET from an address holding 10 streams"
CODE=$(lab_exec srv curl -s -o "$T/resp" -w '%{http_code}' --max-time 10 --interface 127.0.2.1 "$CON_URL/api/v1/health") || CODE=000
RESP=$(head -c 300 "$T/resp")
expect 200 "GET from the address that asked for 100 streams"
lab_exec srv curl -s -o "$T/resp" -w '%{http_code}' --max-time 5 "$CON_URL/api/v1/events" >"$T/code" 2>/dev/null
RESP=$(head -c 300 "$T/resp") CODE=$(<"$T/code")
expect 503 "one more event stream over the total cap: 503"
touch "$T/streams.release"
lab_wait "$PY_PID" 30 || true
log "streams: $(cat "$T/streams.json" 2>/dev/null)"
python3 - "$T/streams.json" >"$T/streams.check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = [v for k, v in d.items() if k.startswith("127.0.1.")]
b = d["127.0.2.1:100"]
c = [v for k, v in d.items() if k.startswith("127.0.3.")]
print("A streaming %d still open %d; B streaming %d refused %d closed %d; C streaming %d" % (
    sum(v["streaming"] for v in a), sum(v["still_open"] for v in a), b["streaming"], b["refused"],
    b["closed"], sum(v["streaming"] for v in c)))
assert len(a) == 20 and all(v["streaming"] == 10 for v in a), "A: not all 200 streamed"
assert sum(v["still_open"] for v in a) == 200, "A: some closed early"
assert b["streaming"] == 16 and b["refused"] + b["closed"] == 84, "B: not 16 per address"
assert sum(v["streaming"] for v in c) == 256 - 216, "C: the total cap is not 256"
PY
check "200 streams from 20 addresses all streamed and stayed open; 16 for one address; 256 in all ($(head -1 "$T/streams.check"))" \
	test "$(tail -1 "$T/streams.check")" = "$(head -1 "$T/streams.check")"
check "fleetcastd is still running" kill -0 "$SRV_PID"

# An event stream's lifetime: it ends by itself (EventSource reconnects).
# The released streams' slots come free when fleetcastd next writes to them
# (within its 1 s heartbeat): wait, bounded, until a stream is taken again.
for ((i = 0; i < 20; i++)); do
	code=$(lab_exec srv curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$CON_URL/api/v1/events" 2>/dev/null)
	[[ $code == 200 ]] && break
	sleep 0.5
done
assert_eq 200 "$code" "event streams are taken again once the others are gone"
t0=$SECONDS
rc=0
lab_exec srv curl -sN --max-time $((STREAM_S + 40)) "$CON_URL/api/v1/events" >"$T/ev-life.txt" 2>/dev/null || rc=$?
took=$((SECONDS - t0))
assert_eq 0 "$rc" "an event stream is ended by fleetcastd, not by curl's timeout"
check "it lasted about --http-stream-seconds ($took s for $STREAM_S)" test "$took" -ge $((STREAM_S - 2)) -a "$took" -le $((STREAM_S + 20))
check "it starts with 'retry:' so the browser reconnects" grep -q '^retry: [0-9]' "$T/ev-life.txt"
req GET /api/v1/health
expect 200 "the API answers after the streams are gone"
mc_finish
