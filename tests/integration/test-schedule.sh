#!/bin/bash
# Issue 10: an unattended rollout. A lab of four machines in the inventory,
# three of them real (each a Wake-on-LAN listener standing in for a powered-off
# NIC, tests/lab/wol_listener.py), the fourth never there. A schedule a few
# seconds ahead with --wake: the magic packets are captured on the wire with
# the right payloads (wol_capture.py), the three receivers start on them, the
# session waits for the lab's four and starts --max-wait after the first join,
# the three finish with correct disks, and the report lists all three done and
# the fourth as never joined. The schedule is then done; one for later
# survives a SIGKILL of the daemon, and is cancelled. At the session's end a
# webhook gets its JSON and a mail goes through sendmail, both naming the
# absent machine.
# Boot actions (fleetcastd --tftp-root): the four were set to boot their local disk before;
# the schedule's run sets them to deploy (their files go: the menu images them), the three
# done are set back to local by their good write, and the one that never came gets the
# action it had.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 300 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init

con_image 16
lab_create 3 || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
# The morning's word: a webhook (a small HTTP server in srv keeps each POST's
# body) and a mail through a stand-in sendmail (keeps what it is given).
HOOK_PORT=$((19000 + RANDOM % 1000))
cat >"$T/hook.py" <<'PY'
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
lab_bg srv "$T/hook.log" "$LAB_PYTHON" "$T/hook.py" "$HOOK_PORT" "$T/hook.jsonl" >/dev/null
mc_wait_log "$T/hook.log" listening 10 || die "the webhook server did not start: $(cat "$T/hook.log")"
printf '#!/bin/sh\necho "args: $*" >"%s"\ncat >>"%s"\n' "$T/mail.txt" "$T/mail.txt" >"$T/sendmail"
chmod +x "$T/sendmail"
# The TFTP root `fleetcast pxe build` would make: its menu is what a machine with no file of
# its own boots (pxe build itself is tested by test-pxe).
mkdir -p "$T/tftp/pxelinux.cfg"
printf '# fleetcast pxe build: menu\nLABEL fleetcast\n  KERNEL vmlinuz\n  APPEND console=ttyS0 fleetcast.server=10.77.0.1\n' \
	>"$T/tftp/pxelinux.cfg/default"
con_daemon --notify-url "http://127.0.0.1:$HOOK_PORT/hook" --notify-mail ops@example.org --sendmail "$T/sendmail" \
	--tftp-root "$T/tftp"
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"
declare -A MAC
for m in "${MACHINES[@]}"; do MAC[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address) || die "no MAC for $m"; done
GHOST=52:54:00:00:0f:99
{
	for m in "${MACHINES[@]}"; do echo "${MAC[$m]},pc-$m,lab-a"; done
	echo "$GHOST,pc-ghost,lab-a"
} >"$T/lab.csv"
must fc_srv labs add lab-a
must fc_srv machines import "$T/lab.csv"
# bootfile MAC : its pxelinux file
bootfile() { local m=${1//:/-}; echo "$T/tftp/pxelinux.cfg/01-${m,,}"; }
run fc_srv machines boot local --lab lab-a
assert_eq 0 "$RC" "machines boot local --lab lab-a (stderr: $(head -c 300 "$T/err"))"
for mac in "${MAC[@]}" "$GHOST"; do
	check "$mac boots its local disk before the rollout" grep -q 'LOCALBOOT 0' "$(bootfile "$mac")"
done
run fc_srv machines list --lab lab-a --json
check "the inventory says local for the lab's four" jtrue "$T/out" \
	"len(d['machines']) == 4 and all(m['boot_action'] == 'local' for m in d['machines'])"

for m in "${MACHINES[@]}"; do
	MC_PID[$m]=$(lab_bg "$m" "$T/$m.log" "$LAB_PYTHON" "$SRCDIR/tests/lab/wol_listener.py" \
		--mac "${MAC[$m]}" --timeout 120 -- "$FLEETCAST_RECV" --target "$T/$m.img" \
		"${MC_SERVER_OPT[@]}" --pubkey "$PUB" --name "$m" --stats "$T/$m.json") ||
		die "cannot start the listener in $m"
	mc_wait_log "$T/$m.log" listening 30 || die "$m's listener did not start: $(cat "$T/$m.log")"
done
lab_bg srv "$T/cap.jsonl" "$LAB_PYTHON" "$SRCDIR/tests/lab/wol_capture.py" --iface eth0 --seconds 180 >/dev/null
mc_wait_log "$T/cap.jsonl" listening 30 || die "the capture did not start: $(cat "$T/cap.jsonl")"

DEADLINE=$(date -d '+30 min' +%H:%M)
run fc_srv schedule create --lab lab-a --image "$IMG" --at +20s --wake --group 239.77.8.1:9000 \
	--iface eth0 --rate 200M --max-wait 15 --deadline "$DEADLINE" --json
assert_eq 0 "$RC" "fleetcast schedule create --at +20s --wake (stderr: $(head -c 300 "$T/err"))"
SCHED=$(jget "$T/out" 'd["schedule"]["id"]' 2>/dev/null)
run fc_srv schedule list
assert_match "^$SCHED +lab-a .* once +yes +$DEADLINE " "$(cat "$T/out")" "schedule list shows it waiting"
check "nobody is woken before the time" bash -c "! grep -q woken '$T'/m?.log"

mc_wait_recvs 150 "${MACHINES[@]}"
for m in "${MACHINES[@]}"; do
	check "$m was woken by the server's magic packet" grep -q 'woken by 10.77.0.1:' "$T/$m.log"
	mc_check_recv "$m"
done
for mac in "${MAC[@]}" "$GHOST"; do
	check "the schedule's run set $mac to deploy (its file went: the menu images it)" \
		grep -Eq "machine $mac: boot action deploy \(schedule [0-9]+, session [0-9a-f]{8}\)" "$T/srv.log"
done
check "the session waited for the lab's 4, then started max-wait after the first join" \
	mc_wait_log "$T/srv.log" 'waiting -> sending' 1
SID=$(grep -Eo 'schedule [0-9]+: session [0-9a-f]{8}' "$T/srv.log" | head -1 | awk '{print $4}')
check "the schedule made session $SID" test -n "$SID"
check "the session ends, its machines done" \
	wait_api "/api/v1/sessions/$SID" "d['session']['state'] == 'finished' and d['session']['receivers']['done'] == 3" 30

# The wire: magic packets for the lab's four MACs, to the broadcast address, port 9.
sleep 1
check "magic packets on the wire for each of the lab's 4 MACs: broadcast, 10.77.0.1 -> 10.77.1.255, port 9" \
	python3 - "$T/cap.jsonl" "${MAC[m1]}" "${MAC[m2]}" "${MAC[m3]}" "$GHOST" <<'PY'
import json, sys
pkts = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"eth_dst"')]
ok = [p for p in pkts if p["eth_dst"] == "ff:ff:ff:ff:ff:ff" and p["ip_src"] == "10.77.0.1"
      and p["ip_dst"] == "10.77.1.255" and p["dport"] == 9]
for m in sys.argv[2:]:
    if not any(p["payload"] == "ff" * 6 + m.replace(":", "") * 16 for p in ok):
        print("no magic packet for", m, "in", len(pkts), "captured", file=sys.stderr)
        sys.exit(1)
PY

for m in "${MACHINES[@]}"; do
	check "$m, imaged, boots its local disk again" mc_wait_log "$(bootfile "${MAC[$m]}")" "imaged by session $SID" 10
	check "$m's file: LOCALBOOT" grep -q 'LOCALBOOT 0' "$(bootfile "${MAC[$m]}")"
done
check "pc-ghost, which never came, got its action back: local" \
	mc_wait_log "$(bootfile "$GHOST")" "never joined session $SID" 10
check "pc-ghost's file: LOCALBOOT" grep -q 'LOCALBOOT 0' "$(bootfile "$GHOST")"
# inventory_says PYEXPR : within 10 s, the lab's inventory rows (d) satisfy PYEXPR.
inventory_says() {
	local i
	for ((i = 0; i < 40; i++)); do
		fc_srv machines list --lab lab-a --json >"$T/inv.json" 2>/dev/null && jtrue "$T/inv.json" "$1" && return 0
		sleep 0.25
	done
	return 1
}
check "the inventory: the four local again" inventory_says \
	"len(d['machines']) == 4 and all(m['boot_action'] == 'local' for m in d['machines'])"
run fc_srv report "$SID" --format json
assert_eq 0 "$RC" "fleetcast report SESSION"
check "the report: 3 done and pc-ghost never joined" jtrue "$T/out" \
	"sorted((m['name'], m['state']) for m in d['sessions'][0]['machines']) == [('m1', 'done'), ('m2', 'done'), ('m3', 'done'), ('pc-ghost', 'absent')] and '1 never joined of 4 machines' in d['sessions'][0]['summary']"
check "the webhook got the session's JSON: 3 done, pc-ghost absent" mc_wait_log "$T/hook.jsonl" "$SID" 20
check "the webhook's machines are the report's" jtrue "$T/hook.jsonl" \
	"d['session']['id'] == '$SID' and sorted((m['name'], m['state']) for m in d['machines']) == [('m1', 'done'), ('m2', 'done'), ('m3', 'done'), ('pc-ghost', 'absent')]"
check "a mail went through sendmail -t to ops@example.org" mc_wait_log "$T/mail.txt" '^To: ops@example.org' 10
check "its subject names the session and its result" grep -q "^Subject: fleetcast: session $SID done: 3 done, 0 failed, 0 dropped" "$T/mail.txt"
check "its body lists pc-ghost as absent" grep -Eq "pc-ghost +$GHOST +absent +never joined" "$T/mail.txt"
check "sendmail was run with -t -oi" grep -q '^args: -t -oi' "$T/mail.txt"
run fc_srv schedule list --json
check "the schedule ran once and is done: no longer listed" jtrue "$T/out" "d['schedules'] == []"

# --- a schedule for tomorrow survives the daemon, and is cancelled
run fc_srv schedule create --lab lab-a --image "$IMG" --at "$(date -d '+1 day' '+%Y-%m-%d %H:%M')" \
	--every sun,wed --group 239.77.8.2:9000 --iface eth0 --json
assert_eq 0 "$RC" "a schedule for tomorrow, every Sunday and Wednesday"
LATER=$(jget "$T/out" 'd["schedule"]["id"]' 2>/dev/null)
lab_kill "$SRV_PID" KILL
mv "$T/srv.log" "$T/srv1.log"
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon
run fc_srv schedule list --json
check "after a SIGKILL and a restart, schedule $LATER is still there" jtrue "$T/out" \
	"[s['id'] for s in d['schedules']] == [$LATER] and d['schedules'][0]['every'] == 'sun,wed'"
run fc_srv schedule cancel "$LATER"
assert_eq 0 "$RC" "schedule cancel"
run fc_srv schedule cancel "$LATER"
assert_eq 4 "$RC" "cancelling it again: no such schedule (exit 4)"
# A time long past (a daemon that was down): skipped, not started hours late.
run fc_srv schedule create --lab lab-a --image "$IMG" --at "$(($(date +%s) - 1200))" --group 239.77.8.4:9000 --iface eth0
assert_eq 0 "$RC" "a schedule 20 minutes in the past is taken"
check "it is skipped as missed, no session started" mc_wait_log "$T/srv.log" 'schedule [0-9]+ \(lab lab-a\): missed: fleetcastd was not running at the time' 5
check "no session on its group" bash -c "! grep -q '239.77.8.4' '$T/srv.log'"
run fc_srv schedule create --lab lab-a --image "$IMG" --at +1h --group 239.77.8.3:9000 --iface eth0 --every someday
assert_eq 1 "$RC" "a schedule with a bad --every is refused by the daemon (exit 1)"
assert_stderr "every takes day or weekdays" "the error says what --every takes"
mc_finish
