#!/bin/bash
# Issue 10: fleetcastd --daemon keeps its state in SQLite ($state_dir/fleetcast.db).
#  - The inventory: a lab and its machines imported from a CSV (`fleetcast labs add`,
#    `fleetcast machines import`); a bad line changes nothing.
#  - SIGKILL mid-session, then a restart with the same state directory: the session
#    resumes under the same run, the receivers re-join and finish with correct disks;
#    its history rows are complete and correct (3 machines done, their MACs, the bytes
#    each receiver says it wrote); the inventory is intact and follows the outcome.
#  - `fleetcast report`: the numbers equal what the receivers reported; text, JSON,
#    and HTML opened in headless Chromium.
#  - 100 ended sessions later the daemon's memory is what it was after the first
#    (ended sessions live in the store, not in memory); all 101 runs are in the history.
#  - SIGTERM keeps state: a waiting session is resumed by the next start, --max-wait still
#    counting from its first join before the stop.
#  - --keep-history 30: ended sessions older than that leave the store with their outcomes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 420 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init

N=3
con_image 24
lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
export MALLOC_MMAP_THRESHOLD_=131072 # RSS measures what fleetcastd holds (test-console-history)
con_daemon --verbose
DB=$FLEETCAST_HOME/fleetcast.db
check "the store is $DB" test -s "$DB"

# --- the inventory
declare -A MAC
for m in "${MACHINES[@]}"; do MAC[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address); done
run fc_srv labs add lab-a --note "room 12" --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast labs add lab-a"
{
	echo "mac,name,lab"
	echo "# the lab's three machines"
	for m in "${MACHINES[@]}"; do echo "${MAC[$m]^^},pc-$m,lab-a"; done
} >"$T/lab.csv"
printf 'zz:zz,bad,lab-a\n' >"$T/bad.csv"
run fc_srv machines import "$T/bad.csv" --server "$CON_URL"
assert_eq 1 "$RC" "machines import of a bad MAC: exit 1"
assert_stderr "machine 1: bad MAC" "the error names the line's problem"
run fc_srv machines import "$T/lab.csv" --server "$CON_URL"
assert_eq 0 "$RC" "machines import lab.csv"
assert_match "^3 machines imported" "$(cat "$T/out")" "3 machines imported"
run fc_srv machines list --lab lab-a --json --server "$CON_URL"
check "machines list --lab lab-a: the 3, MACs in lower case, named" \
	jtrue "$T/out" "sorted((m['mac'], m['name']) for m in d['machines']) == sorted([$(for m in "${MACHINES[@]}"; do printf "('%s','pc-%s')," "${MAC[$m]}" "$m"; done)])"
run fc_srv labs remove lab-a --server "$CON_URL"
assert_eq 1 "$RC" "a lab with machines cannot be removed"

# --- a session, SIGKILLed mid-way and resumed
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.4.1:9000","iface":"eth0","rate":"12M","min_receivers":'"$N"',"max_wait":60}' "$TOKEN"
expect 201 "create a session" || die "cannot create: $RESP"
SID=$(jq_get 'd["session"]["id"]') RUN=$(jq_get 'd["session"]["run"]')
log "session $SID, run $RUN"
for m in "${MACHINES[@]}"; do mc_recv "$m" --quiet; done
check "the session reaches 30 % written" \
	wait_api "/api/v1/sessions/$SID" "d['session']['state'] in ('sending', 'repair') and d['session']['progress_pct'] >= 30" 60
log "SIGKILL fleetcastd (pid $SRV_PID)"
lab_kill "$SRV_PID" KILL
sleep 1
mv "$T/srv.log" "$T/srv1.log"
con_daemon --verbose
check "the restarted daemon resumes run $RUN" mc_wait_log "$T/srv.log" "session $SID: resumed \\(run $RUN\\)" 5
mc_wait_recvs 150 "${MACHINES[@]}"
for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
check "the session ends finished" \
	wait_api "/api/v1/sessions/$SID" "d['session']['state'] == 'finished' and d['session']['result'] == 'done'" 20
check_json "d['session']['run'] == '$RUN'" "the same run as before the kill"
EXPECT=$(for m in "${MACHINES[@]}"; do printf "'%s': (%s, 'pc-%s')," "${MAC[$m]}" "$(mc_rx_stat "$m" 'd["bytes_written"]')" "$m"; done)
check_json "len(d['machines']) == $N and all(x['state'] == 'done' and x['verdict'] == 'written' for x in d['machines'])" \
	"its history: $N machines, done, written"
check_json "{x['mac']: (x['bytes_written'], 'pc-' + x['name']) for x in d['machines']} == {$EXPECT}" \
	"each machine once, by its MAC, with the bytes its receiver says it wrote"

run fc_srv machines list --json --server "$CON_URL"
check "the inventory after the restart: the 3 in lab-a, last result done in run $RUN" \
	jtrue "$T/out" "len(d['machines']) == $N and all(m['lab'] == 'lab-a' and m['last_result'] == 'done' and m['last_run'] == '$RUN' and m['name'].startswith('pc-') for m in d['machines'])"
run fc_srv labs list --json --server "$CON_URL"
check "labs list: lab-a with 3 machines" jtrue "$T/out" "d['labs'] == [{'name': 'lab-a', 'note': 'room 12', 'created_at': d['labs'][0]['created_at'], 'machines': 3}]"

# --- the report
run fc_srv report "$SID" --format json --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast report SESSION --format json"
cp "$T/out" "$T/report.json"
check "the report: one session, its summary line says 3 done of 3" \
	jtrue "$T/report.json" "len(d['sessions']) == 1 and '3 done, 0 failed, 0 dropped of 3 machines' in d['sessions'][0]['summary']"
check "the report's bytes and losses are the receivers' own" \
	jtrue "$T/report.json" "{x['mac']: (x['bytes_written'], 'pc-' + x['name']) for x in d['sessions'][0]['machines']} == {$EXPECT} and all(x['pkts_lost'] >= 0 for x in d['sessions'][0]['machines'])"
run fc_srv report --since 1h --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast report --since 1h (text)"
for m in "${MACHINES[@]}"; do
	assert_match "  $m +${MAC[$m]} .* done +written" "$(cat "$T/out")" "the text report has $m done"
done
run fc_srv report --since 1h --format html --out "$T/report.html" --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast report --format html --out FILE"
con_playwright
lab_exec srv env NODE_PATH="$NODE_PATH" HOME="$T" node "$IT_DIR/report-check.mjs" "$T/report.html" \
	--chromium "$CHROMIUM" >"$T/shown.json" 2>"$T/browser.err"
assert_eq 0 "$?" "the HTML report loads in headless Chromium without errors ($(head -c 300 "$T/browser.err"))"
check "Chromium shows session $SID with a row per machine, each done" \
	jtrue "$T/shown.json" "any('$SID' in s['heading'] and len(s['rows']) == $N and all(r[3] == 'done' and r[4] == 'written' for r in s['rows']) for s in d['sessions'])"

lab_exec srv env NODE_PATH="$NODE_PATH" HOME="$T" node "$IT_DIR/report-check.mjs" \
	--history "$CON_URL/history.html" --chromium "$CHROMIUM" >"$T/history.json" 2>"$T/browser.err"
assert_eq 0 "$?" "the console's History page loads in headless Chromium without errors ($(head -c 300 "$T/browser.err"))"
check "History lists session $SID; a click shows its 3 machines done, as the report" \
	jtrue "$T/history.json" "d['sessions'][0]['rows'][0][1] == '$SID' and d['sessions'][0]['rows'][0][2] == 'done' and '3 done, 0 failed, 0 dropped of 3 machines' in d['sessions'][1]['heading'] and sorted(r[0] for r in d['sessions'][1]['rows']) == ['m1', 'm2', 'm3'] and all(r[3] == 'done' for r in d['sessions'][1]['rows'])"

# --- 100 ended sessions: the daemon does not keep them
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status"; }
ASAN=0
grep -qa __asan_init "$FLEETCASTD" && ASAN=1
# SESSIONS FIRST LAST : create and cancel sessions on 239.77.5.FIRST..LAST, from one
# python in srv (a curl and a parse per call would take longer than the daemon).
# shellcheck disable=SC2317 # called through check
sessions() {
	lab_exec srv python3 - "$CON_URL" "$TOKEN" "$IMG" "$1" "$2" <<'PY'
import json, sys, urllib.request
url, token, img, first, last = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def call(path, body):
    rq = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else b"",
                                headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
                                method="POST")
    with urllib.request.urlopen(rq, timeout=15) as r:
        return r.status, json.load(r)
for i in range(first, last + 1):
    st, d = call("/api/v1/sessions", {"image": img, "group": "239.77.5.%d:9000" % i, "iface": "eth0", "min_receivers": 5})
    assert st == 201, (i, st, d)
    st, d = call("/api/v1/sessions/%s/cancel" % d["session"]["id"], None)
    assert st == 200, (i, st, d)
PY
}
check "one session created and cancelled" sessions 1 1
sleep 1
RSS0=$(rss_kib)
check "99 more created and cancelled" sessions 2 100
sleep 1
RSS1=$(rss_kib)
log "RSS after the first ended session $RSS0 KiB, after 100: $RSS1 KiB"
if ((ASAN)); then
	log "ASan build: RSS not compared (freed memory waits in ASan's quarantine)"
else
	# SQLite's page caches (the writer's and each reader's) are bounded
	# (2 MiB each by default); a session kept in memory would be ~40 KiB.
	check "RSS after 100 ended sessions within 2 MiB of after the first: $RSS0 -> $RSS1 KiB" \
		test "$((RSS1 - RSS0))" -lt 2048
fi
req GET "/api/v1/history?limit=1000"
check_json "len(d['sessions']) == 101 and d['sessions'][-1]['id'] == '$SID'" "the history has all 101 runs, the first last"

# --- SIGTERM keeps a waiting session for the next start
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.6.1:9000","iface":"eth0","min_receivers":5,"max_wait":600}' "$TOKEN"
expect 201 "a session that waits"
WID=$(jq_get 'd["session"]["id"]') WRUN=$(jq_get 'd["session"]["run"]')
# One machine joins before the stop: --max-wait counts from its join, also after the restart.
mc_recv "${MACHINES[0]}" --quiet --session "0x$WID"
check "a first receiver joins the waiting session" \
	wait_api "/api/v1/sessions/$WID" "d['session']['first_join_at'] is not None" 30
FIRST_JOIN=$(jq_get 'd["session"]["first_join_at"]')
sleep 2 # a re-join after the restart would be seconds later
lab_kill "$SRV_PID" TERM
rc=0
lab_wait "$SRV_PID" 10 || rc=$?
assert_eq 0 "$rc" "fleetcastd stops on SIGTERM, exit 0 (a clean stop for systemd)"
check "SIGTERM says the sessions are kept" mc_wait_log "$T/srv.log" "terminated: 1 live sessions kept" 1
mv "$T/srv.log" "$T/srv2.log"
con_daemon
check "the next start resumes the waiting session" mc_wait_log "$T/srv.log" "session $WID: resumed \\(run $WRUN\\)" 5
req GET "/api/v1/sessions/$WID"
check_json "d['session']['state'] == 'waiting' and d['session']['run'] == '$WRUN'" "it waits again, same run"
check "its receiver joins it again" wait_api "/api/v1/sessions/$WID" "d['session']['receivers']['active'] == 1" 30
check_json "d['session']['first_join_at'] == $FIRST_JOIN and d['session']['start_deadline'] == $FIRST_JOIN + 600" \
	"--max-wait still counts from the first join before the restart ($FIRST_JOIN)"
req GET "/api/v1/history?limit=1000"
check_json "len(d['sessions']) == 101" "the history is intact after the restart"
lab_kill "$SRV_PID" INT
rc=0
lab_wait "$SRV_PID" 10 || rc=$?
assert_eq 2 "$rc" "fleetcastd stops on Ctrl-C, exit 2 (its session aborted)"
# shellcheck disable=SC2317 # called through check
aborted_in_store() {
	DB=$DB WRUN=$WRUN python3 - <<'PY'
import os, sqlite3, sys
row = sqlite3.connect(os.environ["DB"]).execute("SELECT state FROM sessions WHERE run = ?", (os.environ["WRUN"],)).fetchone()
sys.exit(0 if row == ("aborted",) else 1)
PY
}
check "Ctrl-C aborted the waiting session, in the store too" aborted_in_store
mc_wait_recvs 30 "${MACHINES[0]}"
check "its receiver was told the session ended (exit 7)" test "${MC_RC[${MACHINES[0]}]}" = 7

# --- --keep-history: ended sessions older than it leave the store, with their outcomes
DB=$DB SID=$SID WRUN=$WRUN python3 - <<'PY' || fail "could not age the history"
import os, sqlite3
db = sqlite3.connect(os.environ["DB"])
db.execute("UPDATE sessions SET ended_at = ended_at - 40 * 86400 WHERE id != ? AND run != ?",
           (os.environ["SID"], os.environ["WRUN"]))
db.commit()
PY
mv "$T/srv.log" "$T/srv3.log"
con_daemon --keep-history 30
check "at start, the sessions older than 30 days leave" mc_wait_log "$T/srv.log" "store: 100 ended sessions older than the history kept removed" 10
req GET "/api/v1/history?limit=1000"
check_json "sorted(s['id'] for s in d['sessions']) == sorted(['$SID', '$WID'])" "the history keeps the two recent runs"
# shellcheck disable=SC2317 # called through check
no_orphans() {
	DB=$DB python3 - <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(os.environ["DB"])
orphans = db.execute("SELECT COUNT(*) FROM outcomes WHERE run NOT IN (SELECT run FROM sessions)").fetchone()[0]
kept = db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]
sys.exit(0 if orphans == 0 and kept > 0 else 1)
PY
}
check "their machines' outcomes left with them; the recent ones' stayed" no_orphans
mc_finish
