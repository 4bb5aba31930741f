#!/bin/bash
# Issue 5: `fleetcast watch` on running lab sessions of fleetcastd --daemon
# --http (3 receivers, rate-capped so a session lasts several seconds):
#  1. not a TTY: plain blocks of lines, no escape codes, every machine
#     listed, progress seen moving, ends by itself with exit 0 when all are
#     done; `watch --json` (one JSON object per line) and `watch` without a
#     session (picks the only/newest one) on the same session;
#  2. a TTY (tmux, 160x50): the table is redrawn in place: every capture of
#     the pane shows one table, and the pane's history holds no older copies;
#     exit 0 at the end;
#  3. a cancelled session: watch ends with exit 1.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 280 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
command -v tmux >/dev/null || die "tmux is missing (scripts/install-deps.sh)"

N=3
TMUX_SOCK=fc-watch-$$
eval "mc_$(declare -f lab_cleanup_hook)"
# shellcheck disable=SC2317 # called by the lab's exit trap
lab_cleanup_hook() {
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	mc_lab_cleanup_hook
}
con_image 24
lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon
W=(watch --server "$CON_URL")

# new_session GROUP : a session that starts when the N machines joined; ID.
new_session() {
	rm -f "$T"/m*.img
	ID=$(fc_srv session create --server "$CON_URL" --image "$IMG" --group "$1" --iface eth0 \
		--rate 16M --min-receivers "$N" --max-wait 300) || die "session create: $ID"
	log "session $ID on $1"
}
start_receivers() {
	local m
	for m in "${MACHINES[@]}"; do mc_recv "$m" --quiet; done
}

# --- 1. not a TTY
new_session 239.77.0.21:9000
lab_bg srv "$T/watch-plain.out" env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "${W[@]}" "$ID" >/dev/null
P_PLAIN=$LAB_PID
lab_bg srv "$T/watch-json.out" env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "${W[@]}" "$ID" --json >/dev/null
P_JSON=$LAB_PID
lab_bg srv "$T/watch-noarg.out" env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "${W[@]}" >/dev/null
P_NOARG=$LAB_PID
sleep 1
start_receivers
rc=0
lab_wait "$P_PLAIN" 120 || rc=$?
assert_eq 0 "$rc" "watch (not a TTY) ends by itself with exit 0 when every machine is done"
rc=0
lab_wait "$P_JSON" 20 || rc=$?
assert_eq 0 "$rc" "watch --json: exit 0"
rc=0
lab_wait "$P_NOARG" 20 || rc=$?
assert_eq 0 "$rc" "watch without SESSION (the only session): exit 0"
mc_wait_recvs 60 "${MACHINES[@]}"
for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done

out=$T/watch-plain.out
check "plain output: no escape codes" bash -c "! grep -q $'\x1b' '$out'"
check "plain output: several blocks (one every ~2 s)" test "$(grep -c '^--- [0-9:]*$' "$out")" -ge 2
check "plain output: not a block per event (at most one per second)" \
	test "$(grep -c '^--- ' "$out")" -le $((SECONDS - MC_T0 + 2))
for m in "${MACHINES[@]}"; do
	check "plain output lists $m" grep -Eq "^$m +10\.77\.1\.[0-9]+ " "$out"
done
check "plain output: a machine seen receiving part-way" \
	grep -Eq '^m[0-9] .* receiving +\[[#.]+\] +([1-9]|[1-9][0-9])\.[0-9]%' "$out"
last=$(awk '/^--- /{b=""} {b=b $0 "\n"} END{printf "%s", b}' "$out")
assert_match "session $ID finished 100\.0%.*3 machines: 3 done" "$last" "the last block: session finished, 3 done"
assert_eq 3 "$(grep -Ec ' done +\[#+\] 100\.0%' <<<"$last")" "the last block: every machine done at 100 %"
assert_match "session $ID finished" "$(cat "$T/watch-noarg.out")" "watch without SESSION followed $ID"

python3 - "$T/watch-json.out" "$ID" >"$T/json.check" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert len(objs) >= 2, "only %d lines" % len(objs)
for o in objs:
    assert o["session"]["id"] == sys.argv[2], o["session"]["id"]
    assert isinstance(o["machines"], list)
    assert all(m["session"] == sys.argv[2] for m in o["machines"])
assert objs[-1]["session"]["state"] == "finished", objs[-1]["session"]["state"]
assert sorted(m["state"] for m in objs[-1]["machines"]) == ["done"] * 3
print("%d lines" % len(objs))
PY
check "watch --json: one JSON object per line, the last one finished with 3 done ($(tail -1 "$T/json.check"))" \
	test $? = 0

# --- 2. a TTY, in tmux
new_session 239.77.0.22:9000
NS=$(lab_ns srv)
tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s watch -x 160 -y 50 \
	"ip netns exec $NS env FLEETCAST_HOME=$FLEETCAST_HOME $FLEETCAST watch --server $CON_URL $ID; echo \"watch-exit=\$?\" >$T/tmux.rc; sleep 600" ||
	die "tmux new-session"
tmux -L "$TMUX_SOCK" set-option -t watch history-limit 5000 >/dev/null
sleep 1
start_receivers
captures=0 bad=0 moving=0
for ((i = 0; i < 600; i++)); do
	[[ -s $T/tmux.rc ]] && break
	tmux -L "$TMUX_SOCK" capture-pane -p -t watch >"$T/pane.txt" 2>/dev/null || break
	captures=$((captures + 1))
	h=$(grep -c '^MACHINE ' "$T/pane.txt")
	s=$(grep -c "^session $ID " "$T/pane.txt")
	[[ $h == 1 && $s == 1 ]] || { bad=$((bad + 1)); cp "$T/pane.txt" "$T/pane.bad.txt"; }
	grep -Eq ' receiving +\[[#.]+\] +([1-9]|[1-9][0-9])\.[0-9]%' "$T/pane.txt" && moving=1
	sleep 0.2
done
mc_wait_recvs 60 "${MACHINES[@]}"
for ((i = 0; i < 50; i++)); do [[ -s $T/tmux.rc ]] && break; sleep 0.2; done
tmux -L "$TMUX_SOCK" capture-pane -p -t watch >"$T/pane.txt"
tmux -L "$TMUX_SOCK" capture-pane -p -S - -E - -t watch >"$T/pane-all.txt"
log "tmux: $captures captures during the session; the pane at the end:"
sed 's/^/#   /' "$T/pane.txt" | grep -v '^#   $'
check "tmux: the captures were taken ($captures)" test "$captures" -ge 5
check "tmux: every capture shows exactly one table ($bad bad: $(head -c 300 "$T/pane.bad.txt" 2>/dev/null | tr '\n' '|'))" test "$bad" = 0
check "tmux: a machine was seen receiving part-way" test "$moving" = 1
assert_eq "watch-exit=0" "$(cat "$T/tmux.rc" 2>/dev/null)" "tmux: watch ended by itself with exit 0"
assert_eq 1 "$(grep -c '^MACHINE ' "$T/pane-all.txt")" "tmux: one table in the whole pane history (redrawn in place, not scrolled)"
assert_match "session $ID finished 100\.0%.*3 machines: 3 done" "$(cat "$T/pane.txt")" "tmux: the final table says finished, 3 done"
for m in "${MACHINES[@]}"; do
	check "tmux: $m done in the final table" grep -Eq "^$m +10\.77\.1\.[0-9]+ +done " "$T/pane.txt"
done
tmux -L "$TMUX_SOCK" kill-server 2>/dev/null

# --- 3. a cancelled session: exit 1
new_session 239.77.0.23:9000
lab_bg srv "$T/watch-cancel.out" env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "${W[@]}" "$ID" >/dev/null
P_CANCEL=$LAB_PID
sleep 1.5
run fc_srv session cancel "$ID" --server "$CON_URL"
assert_eq 0 "$RC" "session cancel: exit 0"
rc=0
lab_wait "$P_CANCEL" 20 || rc=$?
assert_eq 1 "$rc" "watch of a cancelled session ends with exit 1"
assert_match "session $ID aborted" "$(cat "$T/watch-cancel.out")" "watch shows the session aborted"
assert_exit 4 fc_srv watch --server "$CON_URL" ffffffff
assert_exit 1 fc_srv watch --server "http://127.0.0.1:$((CON_PORT + 1))"
mc_finish
