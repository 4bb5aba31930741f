#!/bin/bash
# Issue 10, the passive PXE watcher: fleetcastd --daemon --watch-iface eth0 in
# the lab's server namespace; real DHCP clients (busybox udhcpc) in machine
# namespaces. m1 sends PXE DISCOVERs as a UEFI x64 ROM does (vendor class
# PXEClient:Arch:00007, option 93 = 7, option 97 a UUID), m2 as a BIOS ROM
# (arch 0), m3 plain DHCP without a vendor class. The API (GET /api/v1/pxe),
# `fleetcast pxe seen` and the dashboard's "PXE seen" panel (headless
# chromium) list m1 as "EFI x64" and m2 as "BIOS", newest
# first, "PXE booting", unknown; m3 is not
# listed, only counted; fleetcastd logs one line per machine, not per
# DISCOVER. It never answers: a capture on each machine sees its own
# DISCOVERs go out and nothing come back to port 68 nor any UDP from the
# server, and every udhcpc ends without a lease. A machine that then joins a
# session as a receiver is listed as "receiver", one added to the inventory
# as known, with its name. The lab's machines that never join the session are
# reported with what the watcher heard: PXE-booted during it (and so stuck
# between the firmware and fleetcast-recv), heard only before it, or never. Without CAP_NET_RAW, or on
# a missing interface, fleetcastd refuses to start and says why.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 300 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
command -v busybox >/dev/null || die "busybox is missing (scripts/install-deps.sh)"
command -v setpriv >/dev/null || die "setpriv is missing (util-linux)"

UUID_HEX=004c4c4544003110808036b2c04f573732 # option 97: type 0, then the 16 bytes
UUID_TEXT=4c4c4544-0031-1080-8036-b2c04f573732

con_image 4
lab_create 3 || die "lab_create"
mac_of() { lab_exec "$1" cat /sys/class/net/eth0/address; }
MAC1=$(mac_of m1) MAC2=$(mac_of m2) MAC3=$(mac_of m3) SRV_MAC=$(mac_of srv)
log "m1 $MAC1 (UEFI x64), m2 $MAC2 (BIOS), m3 $MAC3 (no vendor class), srv $SRV_MAC"

# ---- refusals: no CAP_NET_RAW, no such interface ----
# nobody must reach its state directory: $T is root's (0700)
chmod o+x "$T" && mkdir -p "$T/nobody" && chmod 777 "$T/nobody"
run lab_exec srv setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all env FLEETCAST_HOME="$T/nobody" "$FLEETCASTD" --daemon \
	--http "127.0.0.1:$((CON_PORT + 1))" --ctrl-port 7699 --state-dir "$T/nobody" \
	--watch-iface eth0
assert_eq 2 "$RC" "without CAP_NET_RAW fleetcastd --watch-iface exits 2"
assert_stderr 'cannot watch eth0: permission denied.*CAP_NET_RAW' \
	"the refusal names CAP_NET_RAW"
run lab_exec srv "$FLEETCASTD" --daemon --http "127.0.0.1:$((CON_PORT + 1))" --ctrl-port 7699 \
	--watch-iface eth0,fcnosuch0
assert_eq 2 "$RC" "a missing --watch-iface interface: exit 2"
assert_stderr 'cannot watch fcnosuch0: no such interface' "the error names the interface"

# ---- the daemon, watching ----
con_daemon --watch-iface eth0
check "fleetcastd says it watches eth0, passively" \
	mc_wait_log "$T/srv.log" 'pxe: watching eth0 .*nothing is sent' 5
req GET /api/v1/pxe
expect 200 "GET /api/v1/pxe before any boot"
check_json 'd["watching"] == ["eth0"] and d["machines"] == []' "watching eth0, no machine yet"

# sniff M : a capture on M's eth0 until stopped; its pid in SNIFF[M].
declare -A SNIFF=()
sniff() {
	SNIFF[$1]=$(lab_bg "$1" "$T/sniff-$1.json" python3 "$IT_DIR/dhcp_sniff.py" eth0 \
		"$T/sniff-$1.ready") || die "cannot start the capture in $1"
	mc_wait_log "$T/sniff-$1.ready" ready 5 || die "the capture in $1 did not start"
}
# dhcp M ARGS... : busybox udhcpc in M: 3 DISCOVERs 1 s apart, then give up
# (-n) without a lease; its output in $T/udhcpc-M.log, exit status in
# $T/udhcpc-M.rc (it may run in a subshell).
dhcp() {
	local m=$1 rc=0
	shift
	timeout 20 ip netns exec "$(lab_ns "$m")" busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 \
		-s /bin/true "$@" >"$T/udhcpc-$m.log" 2>&1 || rc=$?
	echo "$rc" >"$T/udhcpc-$m.rc"
}
# json_checks FILE : pairs of lines on stdin, a description and a python
# expression over FILE's JSON (d; m1 and m2 the entries of MAC1 and MAC2
# when listed): each pair passes or fails. One python for them all: on a
# loaded machine each start of python costs seconds.
json_checks() {
	local verdict what
	while IFS=$'\t' read -r verdict what; do
		if [[ $verdict == ok ]]; then pass "$what"; else fail "$what"; fi
	done < <(python3 "$IT_DIR/json_checks.py" "$1" "$MAC1" "$MAC2")
}

for m in m1 m2 m3; do sniff "$m"; done
# m1 (UEFI) and m3 (plain DHCP) at once, then m2 (BIOS): m2 is the newest.
dhcp m1 -V PXEClient:Arch:00007:UNDI:003016 -x 0x5d:0007 -x "0x61:$UUID_HEX" &
P1=$!
dhcp m3 -V "" &
P3=$!
wait "$P1" "$P3"
dhcp m2 -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000

check "the API lists m1 and m2" wait_api /api/v1/pxe \
	"{m['mac'] for m in d['machines']} >= {'$MAC1', '$MAC2'}" 10
req GET /api/v1/pxe
cp "$T/resp" "$T/pxe.json"
NOW=$(date +%s)
json_checks "$T/pxe.json" <<EOF
m1: arch EFI x64 (7)
m1['arch'] == 'EFI x64' and m1['arch_code'] == 7
m1: its UUID (option 97)
m1['uuid'] == '$UUID_TEXT'
m1: its vendor class, heard on eth0
m1['vendor'] == 'PXEClient:Arch:00007:UNDI:003016' and m1['iface'] == 'eth0'
m1: DHCPDISCOVER, each of its DISCOVERs counted
m1['message'] == 'DHCPDISCOVER' and m1['count'] >= 3
m1: first and last seen, wall clock
m1['first_seen'] <= m1['last_seen'] and $NOW - 120 <= m1['last_seen'] <= $NOW
m1: PXE booting, not known to the inventory
m1['machine'] == 'PXE booting' and m1['known'] is False
m2: arch BIOS (0), no UUID
m2['arch'] == 'BIOS' and m2['arch_code'] == 0 and m2['uuid'] is None
newest first: m2 booted last
d['machines'][0]['mac'] == '$MAC2'
m3 (DHCP, no vendor class) not listed
'$MAC3' not in [m['mac'] for m in d['machines']]
m3's DHCP counted as other DHCP; every PXE DISCOVER counted
d['counters']['other_dhcp'] >= 1 and d['counters']['pxe'] >= 6
EOF
assert_eq 1 "$(grep -c "pxe: $MAC1 EFI x64 PXE DHCPDISCOVER on eth0" "$T/srv.log")" \
	"one log line for m1, not one per DISCOVER"
assert_eq 1 "$(grep -c "pxe: $MAC2 BIOS PXE DHCPDISCOVER on eth0" "$T/srv.log")" \
	"one log line for m2"
assert_eq 0 "$(grep -c "pxe: $MAC3" "$T/srv.log")" "no log line for m3"

# the CLI
run fc_srv pxe seen --server "$CON_URL"
assert_eq 0 "$RC" "fleetcast pxe seen: exit 0"
assert_match "^$MAC1 +EFI x64 +DHCPDISCOVER +PXE booting .* no +PXEClient:Arch:00007" \
	"$(cat "$T/out")" "fleetcast pxe seen: m1's row"
assert_match "^$MAC2 +BIOS " "$(cat "$T/out")" "fleetcast pxe seen: m2's row"
run fc_srv pxe seen --server "$CON_URL" --json
json_checks "$T/out" <<EOF
fleetcast pxe seen --json: the API's document
d['machines'][0]['mac'] == '$MAC2' and d['watching'] == ['eth0']
EOF

# the dashboard's "PXE seen" panel in a real browser
con_playwright
if lab_exec srv env NODE_PATH="$NODE_PATH" HOME="$T" node "$IT_DIR/pxe-panel-check.mjs" \
	"$CON_URL/" "$MAC1" "$MAC2" --chromium "$CHROMIUM" >"$T/panel.json" 2>"$T/panel.log"; then
	pass "dashboard: the PXE seen panel lists m1 and m2, no page error"
else
	fail "dashboard: the PXE seen panel lists m1 and m2 ($(head -c 400 "$T/panel.json") $(tail -c 300 "$T/panel.log"))"
fi
json_checks "$T/panel.json" <<EOF
dashboard: m1's row, EFI x64, its state (PXE booting; seen after 2 min on a slow machine), unknown
any(r['mac'] == '$MAC1' and r['machine'] in ('PXE booting', 'seen') and r['machine'] in r['text'] and 'EFI x64' in r['text'] and 'unknown' in r['text'] for r in d['rows'])
dashboard: m2's row, BIOS, newest first
d['rows'][0]['mac'] == '$MAC2' and 'BIOS' in d['rows'][0]['text']
EOF

# ---- it never answered ----
for m in m1 m2 m3; do
	lab_kill "${SNIFF[$m]}"
	lab_wait "${SNIFF[$m]}" 10 >/dev/null
	s=$T/sniff-$m.json
	if ! is_json "$s"; then
		fail "$m: capture result ($(head -c 300 "$s"))"
		continue
	fi
	json_checks "$s" <<EOF
$m: the capture saw its DISCOVERs go out
d['dhcp_sent'] >= 3
$m: nothing came back to port 68
d['to_client'] == 0
$m: no UDP from the server
d['udp_from'].get('$SRV_MAC', 0) == 0
EOF
	check "$m: udhcpc got no lease (exit $(cat "$T/udhcpc-$m.rc"))" \
		bash -c "[[ \$(cat '$T/udhcpc-$m.rc') == 1 ]] && grep -q 'no lease' '$T/udhcpc-$m.log'"
done

# ---- the inventory: an adopted machine is known ----
req POST /api/v1/inventory/machines '{"mac":"'"$MAC2"'","name":"pc-bios"}' "$TOKEN"
expect 200 "m2 added to the inventory"
req GET /api/v1/pxe
json_checks "$T/resp" <<EOF
m2, in the inventory, is known, with its name
m2['known'] is True and m2['name'] == 'pc-bios'
m1, not in it, is still unknown
m1['known'] is False and m1['name'] is None
EOF

# ---- a machine that joins a session is a receiver now ----
# The session is lab-w's: m1 joins it; m3 PXE-boots during it and never joins; m2 booted
# before it; a fourth machine is never heard. The report says which is which.
GHOST=52:54:00:00:0e:99
req POST /api/v1/inventory/labs '{"name":"lab-w"}' "$TOKEN"
expect 200 "lab-w added"
req POST /api/v1/inventory/machines '{"machines":[{"mac":"'"$MAC1"'","lab":"lab-w"},{"mac":"'"$MAC2"'","lab":"lab-w"},{"mac":"'"$MAC3"'","lab":"lab-w"},{"mac":"'"$GHOST"'","lab":"lab-w"}]}' "$TOKEN"
expect 200 "m1, m2, m3 and a ghost in lab-w"
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"'"$MC_GROUP"'","iface":"eth0","min_receivers":2,"lab":"lab-w"}' "$TOKEN"
expect 201 "a session of lab-w waiting for 2 receivers"
SID=$(jq_get 'd["session"]["id"]')
mc_recv m1 --quiet
check "m1, a receiver of session $SID, is listed as receiver" wait_api /api/v1/pxe \
	"next(m for m in d['machines'] if m['mac'] == '$MAC1')['machine'] == 'receiver'" 30
json_checks "$T/resp" <<EOF
m2, not a receiver, is not listed as one
m2['machine'] in ('PXE booting', 'seen')
EOF
sleep 1 # m3's boot comes after the session's creation, by the wall clock's seconds
dhcp m3 -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000
req POST "/api/v1/sessions/$SID/cancel" "" "$TOKEN"
expect 200 "cancel the session"
mc_wait_recvs 20 m1
check "the report of session $SID lists its absent machines" wait_api "/api/v1/report?session=$SID" \
	"len([m for m in d['sessions'][0]['machines'] if m['state'] == 'absent']) == 3" 10
json_checks "$T/resp" <<EOF
m3 booted from the network during the session and never joined: the report says so
[m['error'] for m in d['sessions'][0]['machines'] if m['mac'] == '$MAC3'][0].startswith('never joined, but PXE-booted at ')
m2 was heard only before the session
'before this session' in [m['error'] for m in d['sessions'][0]['machines'] if m['mac'] == '$MAC2'][0]
the ghost was never heard
'never heard it boot from the network' in [m['error'] for m in d['sessions'][0]['machines'] if m['mac'] == '$GHOST'][0]
EOF

# reads need what every read needs
req GET /api/v1/pxe "" 0000000000000000000000000000000000000000000000000000000000000000
expect 401 "GET /api/v1/pxe with a wrong token"

lab_kill "$SRV_PID"
mc_wait_server 5
# by itself (not killed: 137, nor still running: 124), its captures closed
check "fleetcastd stops on SIGTERM (exit $SRV_RC)" test "$SRV_RC" -lt 124
assert_eq 0 "$(grep -c 'ERROR: .*Sanitizer' "$T/srv.log")" "no sanitizer error in its log"
mc_finish
