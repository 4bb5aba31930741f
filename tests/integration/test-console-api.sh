#!/bin/bash
# Issue 5: fleetcastd's HTTP API (docs/api.md), every call, with curl, on
# fleetcastd --daemon --http 127.0.0.1:PORT in the lab's srv namespace:
# health, the dashboard files, sessions create/list/show/start/cancel,
# machines, events; the token (file mode 0640, the daemon's group; 401
# without or with a wrong one on every changing call); bad JSON, unknown field, wrong type, missing
# field (400), a body over 64 KiB (413), unknown session (404), start/cancel
# in the wrong state (409). Then the `fleetcast session|machines` CLI, and a
# lab session of 3 receivers driven through the API to done.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 280 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init

N=3
con_image 24
lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon
log "fleetcastd API at $CON_URL (in srv), token $FLEETCAST_HOME/api.token"

# --- the token file, health, the dashboard files
assert_eq "640 $(id -gn)" "$(stat -c "%a %G" "$FLEETCAST_HOME/api.token")" "the token file has mode 0640 and the daemon's group"
check "the token is not empty and has no spaces" test "${#TOKEN}" -ge 16 -a "${TOKEN// /}" == "$TOKEN"
check "fleetcastd logged the token file's path" grep -q "$FLEETCAST_HOME/api.token" "$T/srv.log"
req GET /api/v1/health
expect 200 "GET /api/v1/health"
check_json 'd["ok"] is True and isinstance(d["version"], str)' "health: ok true and a version"
for f in / /app.js /style.css; do
	req GET "$f"
	expect 200 "GET $f (the dashboard)"
done
req GET /
assert_match 'fleetcast' "$RESP" "GET / is the dashboard page"
check "the page loads nothing from another host" bash -c "! grep -Eiq '(src|href)=\"(https?:)?//' '$T/resp'"
req GET /api/v1/nothing-here
expect 404 "an unknown path"

# --- an empty daemon
req GET /api/v1/sessions
expect 200 "GET /api/v1/sessions (none yet)"
check_json 'd["sessions"] == []' "no session yet"
req GET /api/v1/machines
expect 200 "GET /api/v1/machines (none yet)"
check_json 'd["machines"] == []' "no machine yet"

# --- create: refused without or with a wrong token, then accepted
BODY_A='{"image":"'"$IMG"'","group":"239.77.0.5:9000","iface":"eth0","rate":"20M","min_receivers":50,"max_wait":600,"fec":0,"readback":true,"start":"policy"}'
req POST /api/v1/sessions "$BODY_A"
expect 401 "create without a token"
req POST /api/v1/sessions "$BODY_A" "not-the-token"
expect 401 "create with a wrong token"
req GET /api/v1/sessions
check_json 'd["sessions"] == []' "refused creates created nothing"
req POST /api/v1/sessions "$BODY_A" "$TOKEN"
expect 201 "create session A (policy start)"
A=$(jq_get 'd["session"]["id"]')
check_json 'd["session"]["state"] == "waiting"' "A is waiting"
check_json 'd["session"]["image"] == "'"$IMG"'" and d["session"]["group"] == "239.77.0.5:9000" and d["session"]["iface"] == "eth0"' "A: image, group, iface as asked"
check_json 'd["session"]["rate_cap_bps"] == 20000000 and d["session"]["min_receivers"] == 50 and d["session"]["max_wait"] == 600' "A: rate 20M = 20000000 bit/s, min_receivers, max_wait"
check_json 'all(k in d["session"] for k in ["image_bytes","rate_bps","bytes_sent","data_pkts","repair_pkts","catchup_pkts","repair_pct","progress_pct","eta_seconds","receivers","created_at","started_at","ended_at","fec"])' "A: every Session field of docs/api.md"
check_json 'd["session"]["readback"] is True and d["session"]["zero_free"] is False and d["session"]["parity_pct"] == 0' "A: readback asked, zero_free not, no parity before any loss figure"
check_json 'sorted(d["session"]["receivers"]) == ["active","done","dropped","failed"]' "A: receivers by state"
check_json 'd["session"]["started_at"] is None and d["session"]["ended_at"] is None' "A: not started, not ended"
assert_match '^[0-9a-f]{8}$' "$A" "A has an id like 397d95a6"

check "A is listed" wait_api /api/v1/sessions "any(s['id'] == '$A' for s in d['sessions'])" 3
req GET "/api/v1/sessions/$A"
expect 200 "GET /api/v1/sessions/A"
check_json 'd["session"]["id"] == "'"$A"'" and d["machines"] == []' "show A: the session and no machines"

# --- bad requests
req POST /api/v1/sessions '{"image": "x", "group": ' "$TOKEN"
expect 400 "create with bad JSON"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.6:9000","iface":"eth0","colour":"red"}' "$TOKEN"
expect 400 "create with an unknown field"
assert_match 'colour' "$RESP" "the error names the unknown field"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.6:9000","iface":"eth0","min_receivers":"many"}' "$TOKEN"
expect 400 "create with a wrong type (min_receivers a string)"
req POST /api/v1/sessions '{"image":5,"group":"239.77.0.6:9000","iface":"eth0"}' "$TOKEN"
expect 400 "create with a wrong type (image a number)"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.6:9000","iface":"eth0","readback":"yes"}' "$TOKEN"
expect 400 "create with a wrong type (readback a string)"
assert_match 'readback must be true or false' "$RESP" "it says readback takes a boolean"
req POST /api/v1/sessions '{"group":"239.77.0.6:9000","iface":"eth0"}' "$TOKEN"
expect 400 "create without image"
req POST /api/v1/sessions '["not", "an", "object"]' "$TOKEN"
expect 400 "create with an array for a body"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.6:9000","iface":"eth0","start":"tomorrow"}' "$TOKEN"
expect 400 "create with start neither policy nor now"
python3 -c 'import json; print(json.dumps({"image": "x" * 70000, "group": "239.77.0.6:9000", "iface": "eth0"}))' >"$T/big.json"
req POST /api/v1/sessions "@$T/big.json" "$TOKEN"
expect 413 "create with a body over 64 KiB"
req POST /api/v1/sessions "@$T/big.json"
check "a body over 64 KiB without a token: 401 or 413 (got $CODE)" test "$CODE" = 401 -o "$CODE" = 413
# Sessions that cannot start: it is discarded (freed when its handles have closed, from the
# loop, not inside the request), the daemon goes on.
req POST /api/v1/sessions '{"image":"'"$T"'/none.fcimg","group":"239.77.0.6:9000","iface":"eth0"}' "$TOKEN"
expect 400 "create with an image that does not exist"
assert_match 'cannot open image' "$RESP" "it says why"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.6:9000","iface":"nosuch0"}' "$TOKEN"
expect 400 "create on an interface that does not exist"
req GET /api/v1/sessions
check_json 'len(d["sessions"]) == 1' "bad requests created nothing"
check "fleetcastd is still running" kill -0 "$SRV_PID"

# --- unknown session
req GET /api/v1/sessions/ffffffff
expect 404 "GET an unknown session"
req POST /api/v1/sessions/ffffffff/start "" "$TOKEN"
expect 404 "start an unknown session"
req POST /api/v1/sessions/ffffffff/cancel "" "$TOKEN"
expect 404 "cancel an unknown session"
req GET "/api/v1/machines?session=ffffffff"
check "machines of an unknown session: 404 or an empty list (got $CODE)" \
	bash -c "[[ $CODE == 404 ]] || { [[ $CODE == 200 ]] && grep -q '\"machines\": *\[\]' '$T/resp'; }"

# --- start and cancel need the token
for action in start cancel; do
	req POST "/api/v1/sessions/$A/$action"
	expect 401 "$action A without a token"
	req POST "/api/v1/sessions/$A/$action" "" "wrong$TOKEN"
	expect 401 "$action A with a wrong token"
done
req GET "/api/v1/sessions/$A"
check_json 'd["session"]["state"] == "waiting"' "A still waiting after the refused calls"

# --- events: the first progress event carries the whole state
lab_exec srv curl -sN --max-time 3 -H 'Accept: text/event-stream' "$CON_URL/api/v1/events" >"$T/events.txt" 2>/dev/null
check "events: an 'event: progress' line within 3 s" grep -q '^event: progress' "$T/events.txt"
python3 - "$T/events.txt" "$A" >"$T/events.check" 2>&1 <<'PY'
import json, sys
ev, ok = None, False
for line in open(sys.argv[1]):
    line = line.rstrip("\r\n")
    if line.startswith("event:"):
        ev = line[6:].strip()
    elif line.startswith("data:") and ev == "progress":
        d = json.loads(line[5:])
        ok = isinstance(d["machines"], list) and any(s["id"] == sys.argv[2] for s in d["sessions"])
        break
sys.exit(0 if ok else 1)
PY
check "events: the progress event's data is JSON with sessions (A) and machines" test $? = 0

# --- cancel A, then the wrong-state calls
req POST "/api/v1/sessions/$A/cancel" "" "$TOKEN"
expect 200 "cancel A"
check_json 'd["session"]["state"] == "aborted"' "A is aborted"
req POST "/api/v1/sessions/$A/cancel" "" "$TOKEN"
expect 409 "cancel A again (already ended)"
req POST "/api/v1/sessions/$A/start" "" "$TOKEN"
expect 409 "start A (not waiting)"

# --- the CLI against the same daemon
run fc_srv session list --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast session list: exit 0"
assert_match "$A +aborted" "$(cat "$T/out")" "session list shows A aborted"
run fc_srv session list --server "$CON_URL" --json
check "session list --json is the API's JSON" python3 -c "import json,sys; d=json.load(open('$T/out')); sys.exit(0 if d['sessions'][0]['id']=='$A' else 1)"
run fc_srv session show "$A" --server "$CON_URL"
assert_match "session: +$A \(aborted\)" "$(cat "$T/out")" "session show A"
assert_exit 4 fc_srv session show ffffffff --server "$CON_URL"
assert_error_line "unknown session"
assert_stderr 'HTTP 404' "the error line says 404"
assert_exit 1 fc_srv session cancel "$A" --server "$CON_URL" --token wrong
assert_stderr 'token refused' "a wrong token: 'token refused'"
assert_error_line "wrong token"
assert_exit 1 fc_srv session list --server "http://127.0.0.1:$((CON_PORT + 1))"
assert_stderr "cannot reach fleetcastd at http://127.0.0.1:$((CON_PORT + 1))" "no daemon: 'cannot reach fleetcastd at URL'"
assert_exit 2 fc_srv session create --server "$CON_URL" --image "$IMG"
assert_exit 2 fc_srv session frobnicate
assert_exit 2 fc_srv session show
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"
run fc_srv session list
assert_eq 0 "$RC" "the server from \$FLEETCAST_HOME/cli.conf"
echo "token-file = $T/nonexistent" >>"$FLEETCAST_HOME/cli.conf"
assert_exit 1 fc_srv session list
assert_stderr "cannot read the token file $T/nonexistent" "cli.conf's token-file is used"
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"

# --- session B: 3 receivers driven through the API (CLI create, API start)
run fc_srv session create --server "$CON_URL" --image "$IMG" --group 239.77.0.7:9000 --iface eth0 \
	--rate 40M --min-receivers 50 --max-wait 600 --readback --json
assert_eq 0 "$RC" "fleetcast session create: exit 0 (stderr: $(head -c 300 "$T/err"))"
B=$(jget "$T/out" 'd["session"]["id"]' 2>/dev/null)
assert_match '^[0-9a-f]{8}$' "$B" "session create --json gives B's id"
for m in "${MACHINES[@]}"; do mc_recv "$m" --quiet; done
check "the $N machines join B and wait" \
	wait_api "/api/v1/machines?session=$B" "len(d['machines']) == $N and all(m['state'] == 'waiting' for m in d['machines'])" 30
check_json 'all(k in m for m in d["machines"] for k in ["session","id","name","mac","ip","state","progress_pct","rate_bps","repairs_requested","pkts_lost","last_seen","disk_size","error"])' "machines: every Machine field of docs/api.md"
check_json 'sorted(m["name"] for m in d["machines"]) == ["m1","m2","m3"] and all(m["ip"].startswith("10.77.1.") for m in d["machines"])' "machines: names and addresses"
run fc_srv machines --session "$B"
assert_eq 0 "$RC" "fleetcast machines --session B: exit 0"
assert_eq "$N" "$(grep -c ' waiting ' "$T/out")" "fleetcast machines lists the $N waiting machines"
req POST "/api/v1/sessions/$B/start" "" "$TOKEN"
expect 200 "start B now (policy not met)"
check_json 'd["session"]["state"] in ("sending", "repair", "finished")' "B is sending after start"
req POST "/api/v1/sessions/$B/start" "" "$TOKEN"
expect 409 "start B again"
check "every machine of B reaches done in GET /api/v1/machines" \
	wait_api "/api/v1/machines?session=$B" "len(d['machines']) == $N and all(m['state'] == 'done' and m['progress_pct'] >= 100 for m in d['machines'])" 120
mc_wait_recvs 60 "${MACHINES[@]}"
for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
check "B ends finished" wait_api "/api/v1/sessions/$B" "d['session']['state'] == 'finished'" 10
check_json 'd["session"]["receivers"] == {"active": 0, "done": 3, "failed": 0, "dropped": 0}' "B: 3 done, none failed or dropped"
check_json 'd["session"]["started_at"] and d["session"]["ended_at"] and d["session"]["ended_at"] >= d["session"]["started_at"] and d["session"]["bytes_sent"] > 0 and d["session"]["data_pkts"] > 0' "B: times and counters"
req GET /api/v1/machines
check_json 'len(d["machines"]) == 3 and all(m["session"] == "'"$B"'" for m in d["machines"])' "GET /api/v1/machines: B's machines (A had none)"
check_json 'all(m["verdict"] == "readback" for m in d["machines"])' "B was created with --readback: every machine's verdict is its disk read back"
req POST "/api/v1/sessions/$B/cancel" "" "$TOKEN"
expect 409 "cancel B once finished"
check "fleetcastd --daemon still running after the sessions ended" kill -0 "$SRV_PID"
mc_finish
