#!/bin/bash
# tests/lab/test-lab.sh: self-test of the netns lab (tests/lab/lab.sh) and its relay.
#
# Proves each lab function does what the integration tests rely on: multicast reaches every
# machine; per-receiver random loss is independent and near the asked rate; cuts and bursts drop
# everything and then stop; tbf caps throughput; the relay reorders yet delivers everything, and
# keeps order at hold 0; lab_bg/lab_kill/lab_wait track the real PIDs; IGMP snooping prunes;
# lab_destroy leaves nothing behind. Needs root. Prints "N passed, M failed"; non-zero on failure.
set -euo pipefail
trap 'echo "test-lab.sh: line $LINENO: failed: $BASH_COMMAND" >&2' ERR

# Bounded: the whole run is capped; timeout signals our process group, our traps clean up.
if [[ -z ${FCLAB_SELFTEST_TIMED:-} ]]; then
    FCLAB_SELFTEST_TIMED=1 exec timeout -k 15 170 bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
source "$here/lab.sh"

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    echo "ok   - $*"
}
bad() {
    failed=$((failed + 1))
    echo "FAIL - $*"
}
# check DESC CMD...: one assertion; CMD's output is shown only when it fails. CMD runs in a
# subshell, so it must not be meant to change this shell's state.
check() {
    local desc=$1
    shift
    local out
    if out=$("$@" 2>&1); then ok "$desc"; else
        bad "$desc"
        [[ -z $out ]] || echo "       ${out//$'\n'/$'\n'       }"
    fi
}
between() { (($1 >= $2 && $1 <= $3)); }
not() { ! "$@"; }

# recv NAME ADDR PORT ARGS...: start a counting receiver in NAME; waits until it listens.
# Sets R_PID and R_LOG.
recv() {
    local name=$1 i
    R_LOG="$T/recv.$name.$3.log"
    lab_bg "$name" "$R_LOG" "$LAB_PYTHON" "$LAB_HERE/mcast.py" recv "${@:2}" >/dev/null
    R_PID=$LAB_PID
    for ((i = 0; i < 600; i++)); do # 30 s: python starts slowly on a loaded host
        grep -q READY "$R_LOG" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "receiver in $name did not start: $(cat "$R_LOG")" >&2
    return 1
}
# field LOG NAME: a number from a receiver's last line ("received=R unique=U inversions=I").
field() {
    local f
    for f in $(tail -n 1 "$1"); do
        [[ ${f%%=*} == "$2" ]] && { echo "${f#*=}"; return 0; }
    done
    echo -1
}
# send NAME ADDR PORT COUNT PPS: numbered datagrams from NAME.
send() {
    lab_mcast "$1" send "$2" "$3" "$4" --pps "$5" >/dev/null
}
# rx_start PORT COUNT DEADLINE_S NAMES...: counting receivers for group 239.77.0.1:PORT in NAMES;
# each stops at COUNT, after 3 s without a datagram, or when rx_collect ends it (one that gets
# nothing); DEADLINE_S only bounds a run that goes wrong.
declare -A U I rx_pid rx_log
rx_start() {
    local port=$1 count=$2 deadline=$3 name
    shift 3
    rx_names=("$@")
    for name in "$@"; do
        recv "$name" 239.77.0.1 "$port" --expect "$count" --idle 3 --deadline "$deadline" \
            --dump "$T/dump.$name.$port"
        rx_pid[$name]=$R_PID rx_log[$name]=$R_LOG
    done
}
# rx_collect: once the sender is done, wait 5 s for rx_start's receivers to end by themselves,
# then end the rest (SIGTERM: they print their counts); the distinct numbers NAME received go to
# U[NAME], its out-of-order arrivals to I[NAME], the numbers themselves are in $T/dump.NAME.PORT.
rx_collect() {
    local name end=$((SECONDS + 5))
    for name in "${rx_names[@]}"; do
        while ((SECONDS < end)) && _lab_alive "${rx_pid[$name]}"; do sleep 0.1; done
        lab_kill "${rx_pid[$name]}"
        lab_wait "${rx_pid[$name]}" 25 || true
        U[$name]=$(field "${rx_log[$name]}" unique)
        I[$name]=$(field "${rx_log[$name]}" inversions)
    done
}
# round PORT COUNT PPS NAMES...: rx_start, srv sends COUNT numbered datagrams, rx_collect.
round() {
    local port=$1 count=$2 pps=$3
    shift 3
    rx_start "$port" "$count" $((count / pps + 60)) "$@"
    send srv 239.77.0.1 "$port" "$count" "$pps"
    rx_collect
}
loss_pct() { echo $((100 - 100 * $1 / $2)); }

t0=${EPOCHREALTIME/[.,]/}
host_links_before=$(ip -o link show | cut -d: -f2 | sort)

echo "# lab_create 3"
lab_create 3
prefix=$LAB_PREFIX
dir=$LAB_DIR
T=$LAB_DIR/selftest # logs; go with the lab, whatever ends it
mkdir "$T"
check "5 namespaces named $prefix*" test "$(ip netns list | grep -c "^$prefix")" -eq 5
check "m3 has 10.77.1.3/23" lab_exec m3 ip -o addr show dev eth0 to 10.77.1.3/23
check "m1 has the multicast route" lab_exec m1 ip route get 239.77.0.1
check "rp_filter off in m2" test "$(lab_exec m2 sysctl -n net.ipv4.conf.eth0.rp_filter)" = 0
check "unicast m1 -> srv (ping)" lab_exec m1 ping -c 1 -W 2 10.77.0.1
check "lab_addr srv" test "$(lab_addr srv)" = 10.77.0.1

echo "# multicast reaches every machine"
round 5001 500 5000 m1 m2 m3
check "m1 got 500/500" test "${U[m1]}" -eq 500
check "m2 got 500/500" test "${U[m2]}" -eq 500
check "m3 got 500/500" test "${U[m3]}" -eq 500
check "no reordering on the bridge" test "$((I[m1] + I[m2] + I[m3]))" -eq 0

echo "# lab_loss: 100% on m1, 20% on m2, none on m3"
lab_loss m1 100
lab_loss m2 20
rx_before=$(lab_counter m1 rx_packets)
round 5002 2000 4000 m1 m2 m3
rx_after=$(lab_counter m1 rx_packets)
check "m1 got nothing (${U[m1]})" test "${U[m1]}" -eq 0
check "m1's rx counter barely moved ($((rx_after - rx_before)))" test $((rx_after - rx_before)) -lt 20
check "m2 lost $(loss_pct "${U[m2]}" 2000)% (8..35)" between "$(loss_pct "${U[m2]}" 2000)" 8 35
check "m3 got 2000/2000" test "${U[m3]}" -eq 2000

echo "# lab_loss_all 20: each receiver loses on its own"
lab_loss_all 20
round 5003 2000 4000 m1 m2 m3
for m in m1 m2 m3; do
    check "$m lost $(loss_pct "${U[$m]}" 2000)% (8..35)" between "$(loss_pct "${U[$m]}" 2000)" 8 35
done
check "m1 and m2 lost different packets" not cmp -s "$T/dump.m1.5003" "$T/dump.m2.5003"
check "lab_loss_all leaves srv's link alone" not grep -q srv <(lab_exec sw nft list map bridge fclab rxloss)
lab_loss_all 0
round 5004 300 3000 m1 m2 m3
check "lab_loss_all 0: all got 300/300" test $((U[m1] + U[m2] + U[m3])) -eq 900

echo "# lab_cut"
lab_cut m1 on
round 5005 300 3000 m1 m2
check "cut m1 got nothing" test "${U[m1]}" -eq 0
check "m2 still got 300/300" test "${U[m2]}" -eq 300
check "cut m1 cannot reach srv" not lab_exec m1 ping -c 1 -W 1 10.77.0.1
lab_cut m1 off
round 5006 300 3000 m1
check "uncut m1 got 300/300" test "${U[m1]}" -eq 300
check "uncut m1 reaches srv" lab_exec m1 ping -c 1 -W 2 10.77.0.1

# gaps FILE COUNT: the runs of numbers 0..COUNT-1 missing from FILE (sorted, one per line).
gaps() {
    awk -v n="$2" 'BEGIN { prev = -1 } { if ($1 > prev + 1) g++; prev = $1 }
        END { if (prev < n - 1) g++; print g + 0 }' "$1"
}
echo "# lab_burst m2 200 1000 4 (20% of the time, for 4 s; 3 s of data sent within)"
# What is asserted is the shape, not the share: losses come in 2..5 runs (3 s of data, a burst
# a second), not scattered. On a loaded host a burst lasts as long as nft takes to add and
# remove the rule (the toggler logs each one), so the share is only bounded loosely, and the
# receivers wait 3 s, not 1, before taking a silence for the end.
for name in m2 m3; do
    recv "$name" 239.77.0.1 5007 --expect 3000 --idle 3 --deadline 60 --dump "$T/dump.$name.5007"
    rx_pid[$name]=$R_PID rx_log[$name]=$R_LOG
done
rx_names=(m2 m3)
burst=$(lab_burst m2 200 1000 4)
send srv 239.77.0.1 5007 3000 1000
rx_collect
check "burst toggler ended by itself" lab_wait "$burst" 10
awk '{ printf "#   burst on for %d ms\n", ($3 - $2) / 1000 }' "$dir/burst.$burst.log" || true
check "m2 lost $(loss_pct "${U[m2]}" 3000)% (5..70)" between "$(loss_pct "${U[m2]}" 3000)" 5 70
check "m2's losses are $(gaps "$T/dump.m2.5007" 3000) runs (2..5)" \
    between "$(gaps "$T/dump.m2.5007" 3000)" 2 5
check "m3 got 3000/3000" test "${U[m3]}" -eq 3000
check "burst set empty afterwards" test "$(lab_exec sw nft list set bridge fclab burst | grep -c elements)" -eq 0
round 5008 300 3000 m2
check "m2 gets 300/300 after the burst" test "${U[m2]}" -eq 300

echo "# lab_rate m1 10mbit; iperf -u -b 50M to the group"
lab_rate m1 10mbit
lab_bg m1 "$T/iperf.m1.log" iperf -s -u -B 239.77.0.6 -p 5009 >/dev/null
ip1=$LAB_PID
lab_bg m2 "$T/iperf.m2.log" iperf -s -u -B 239.77.0.6 -p 5009 >/dev/null
ip2=$LAB_PID
sleep 0.3
# The rates over the stream's middle: from 1 s after m2 first sees it, for about 2 s of its 5
# (timed with the clock: on a loaded host iperf starts late and sleeps run long).
b2=$(lab_counter m2 rx_bytes)
ipc=$(lab_bg srv "$T/iperf.srv.log" iperf -c 239.77.0.6 -p 5009 -u -b 50M -l 1400 -t 5 -T 2)
for ((i = 0; i < 300; i++)); do (($(lab_counter m2 rx_bytes) > b2 + 100000)) && break; sleep 0.1; done
sleep 1
b1=$(lab_counter m1 rx_bytes) b2=$(lab_counter m2 rx_bytes) ts=${EPOCHREALTIME/[.,]/}
sleep 2
a1=$(lab_counter m1 rx_bytes) a2=$(lab_counter m2 rx_bytes) te=${EPOCHREALTIME/[.,]/}
lab_wait "$ipc" 30 || true
us=$((te - ts))
mbit1=$(((a1 - b1) * 8 / us)) mbit2=$(((a2 - b2) * 8 / us))
check "capped m1 received $mbit1 Mbit/s (< 15)" test "$mbit1" -lt 15
check "capped m1 received $mbit1 Mbit/s (> 5)" test "$mbit1" -gt 5
check "uncapped m2 received $mbit2 Mbit/s (> 30)" test "$mbit2" -gt 30
lab_kill "$ip1"
lab_kill "$ip2"
lab_rate m1 off
check "lab_rate off removes the qdiscs" not grep -q tbf <(lab_exec m1 tc qdisc show dev eth0)

echo "# relay: hold 30% for 5+0..2 ms, m3 behind it"
lab_relay_create 30 5 2
lab_relay_attach m3
check "m3 behind the relay reaches srv (ping, ARP)" lab_exec m3 ping -c 1 -W 2 10.77.0.1
round 5010 2000 4000 m1 m3
check "relay: m3 got 2000/2000" test "${U[m3]}" -eq 2000
check "relay: m3 saw ${I[m3]} out-of-order packets (> 0)" test "${I[m3]}" -gt 0
check "direct m1 got 2000/2000 in order" test "${U[m1]}" -eq 2000 -a "${I[m1]}" -eq 0
recv srv 10.77.0.1 5011 --expect 1000 --idle 3 --deadline 60
upid=$R_PID ulog=$R_LOG
send m3 10.77.0.1 5011 1000 4000
lab_wait "$upid" 25 || true
check "relay: unicast m3 -> srv 1000/1000" test "$(field "$ulog" unique)" -eq 1000
check "relay: unicast reordered too ($(field "$ulog" inversions))" test "$(field "$ulog" inversions)" -gt 0
lab_relay_create 0 0
round 5012 2000 4000 m3
check "relay hold 0: m3 got 2000/2000" test "${U[m3]}" -eq 2000
check "relay hold 0: in order" test "${I[m3]}" -eq 0
lab_relay_stop
check "relay counters: frames held by the first run" grep -Eq 'held=[1-9]' "$dir/relay.history.log"
check "relay counters: none held at hold 0" grep -Eq 'dir 0->1 .* held=0 ' "$dir/relay.log"
lab_relay_destroy
round 5013 300 3000 m3
check "m3 back on br0 after lab_relay_destroy: 300/300" test "${U[m3]}" -eq 300

echo "# lab_bg / lab_kill / lab_wait"
p=$(lab_bg m1 "$T/sleep.log" sleep 60)
check "lab_bg printed the real PID (sleep)" grep -q '^sleep' "/proc/$p/cmdline"
check "the PID lives in m1" test "$(ip netns identify "$p")" = "${prefix}m1"
lab_kill "$p"
check "lab_kill ended it" not _lab_alive "$p"
rc=0
lab_wait "$p" 5 || rc=$?
check "lab_wait reports 143 (TERM)" test "$rc" -eq 143
p=$(lab_bg m2 "$T/exit.log" sh -c 'exit 3')
rc=0
lab_wait "$p" 5 || rc=$?
check "lab_wait reports exit code 3" test "$rc" -eq 3
p=$(lab_bg m2 "$T/sleep2.log" sleep 60)
rc=0
lab_wait "$p" 1 || rc=$?
check "lab_wait times out with 124" test "$rc" -eq 124
check "... and killed it" not _lab_alive "$p"

echo "# lab_snooping on: a machine that did not join gets nothing"
lab_snooping on
recv m1 239.77.0.14 5014 --expect 1000 --idle 3 --deadline 60
spid=$R_PID slog=$R_LOG
sleep 0.2
before=$(lab_counter m2 rx_packets)
send srv 239.77.0.14 5014 1000 4000
lab_wait "$spid" 25 || true
after=$(lab_counter m2 rx_packets)
check "snooping: member m1 got 1000/1000" test "$(field "$slog" unique)" -eq 1000
check "snooping: non-member m2 got $((after - before)) packets (< 50)" test $((after - before)) -lt 50
lab_snooping off

echo "# lab_destroy"
watchdog=$(<"$dir/watchdog")
mapfile -t pids <"$dir/pids"
lab_destroy
check "no namespace left" test "$(ip netns list | grep -c "^$prefix")" -eq 0
check "host links unchanged" test "$(ip -o link show | cut -d: -f2 | sort)" = "$host_links_before"
alive=0
for p in "${pids[@]}"; do [[ -d /proc/$p/ns ]] && alive=$((alive + 1)); done
check "no lab process left ($alive of ${#pids[@]})" test "$alive" -eq 0
sleep 0.2
check "watchdog gone" test ! -d "/proc/$watchdog/ns"
check "state dir removed" test ! -e "$dir"
check "lab_destroy is idempotent" lab_destroy

t1=${EPOCHREALTIME/[.,]/}
echo "# took $(((t1 - t0) / 1000)) ms"
echo "$passed passed, $failed failed"
((failed == 0))
