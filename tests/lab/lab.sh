# shellcheck shell=bash
# tests/lab/lab.sh: the netns lab for fleetcast's integration tests and benchmark. Source it.
#
# Owns: making, impairing and always removing a simulated LAN on one host:
#
#        srv (10.77.0.1)     m1 (10.77.1.1) ... mN (10.77.1.N)     [rogue hosts via lab_add]
#          eth0                eth0               eth0
#           |                   |                  |            one veth pair per host; the switch
#      [srv]---------------- br0 (switch namespace "sw") ---[mN]   side port is named after the host
#                               |
#                     rt0 (tap) | fc-lab-relay (optional, lab_relay_create): holds / reorders UDP
#                     rt1 (tap) |
#                              br1 <- ports of machines moved behind the relay (lab_relay_attach)
#
# Every namespace is named "${LAB_PREFIX}<host>" with LAB_PREFIX="fcl<6 random chars>-", unique per
# lab, so two test runs never collide. All links are made inside the lab's namespaces; the host's
# interfaces, addresses and sysctls are never touched. Subnet 10.77.0.0/23 (machines 10.77.1.1-250),
# multicast groups in 239.0.0.0/8 only. IPv6 is off in the lab so counters show only our traffic.
#
# Impairments live in the switch namespace, per port, so each receiver loses independently:
#   nftables table "bridge fclab", chain forward (bridge forward hook):
#     set cut    (ifname)  drop every frame to or from the port        lab_cut
#     set burst  (ifname)  same, switched on and off by a toggler      lab_burst
#     map rxloss (ifname : jump loss_<port>) random drop of frames *to* the port (receive side)
#   tc tbf on the port (toward the host) and on the host's eth0 (from the host)   lab_rate
# Drops happen before a frame enters the host's veth, so the host's rx counters count what it got.
#
# One lab per shell. Every function works from a subshell too (state is kept in files in $LAB_DIR).
# lab_create installs traps on EXIT, INT and TERM that run `lab_cleanup_hook` (if you define such a
# function), then lab_destroy, then the traps the caller had set before lab_create (so set yours,
# or source tests/integration/lib.sh, first); INT and TERM end the script with status 130 / 143.
# Set LAB_NO_TRAP=1 before lab_create to manage all that yourself. A detached watchdog also
# destroys the lab when the creating shell dies without running its traps (SIGKILL), or after
# LAB_MAX_SECONDS (default 7200), whichever comes first.
#
# A test, in short (see tests/lab/test-lab.sh for every function at work):
#   source "$SRCDIR/tests/lab/lab.sh"
#   lab_create 10                                  # srv + m1..m10; removed however we exit
#   lab_loss_all 2                                 # 2 % random loss into each machine
#   lab_relay_create 20 5 3 && lab_relay_attach m9 m10   # m9, m10 get UDP reordered
#   srv_pid=$(lab_bg srv "$T/srv.log" fleetcastd --iface eth0 --group 239.77.0.1:9000 ...)
#   for m in $(lab_machines); do lab_bg "$m" "$T/$m.log" fleetcast-recv ... >/dev/null; done
#   lab_burst all 200 1000 10 >/dev/null; lab_cut m3 on; sleep 3; lab_cut m3 off
#   lab_wait "$srv_pid" 300; lab_counter srv tx_bytes
#
# Environment: LAB_SNOOPING=1 (IGMP snooping on at creation), LAB_MAX_SECONDS, LAB_NO_TRAP,
#   FC_LAB_RELAY (path of the built fc-lab-relay; else lab_relay_create compiles relay.c with $CC),
#   LAB_PYTHON (python3 used by lab_mcast; default /usr/bin/python3 if present), LAB_RELAY_SEED
#   (the relay's random seed; fixed by default, so a run's reordering is reproducible).
# Needs root and: iproute2 (ip, tc), nftables, bash >= 5, coreutils, util-linux (setsid).

LAB_LIB=$(readlink -f "${BASH_SOURCE[0]}")
LAB_HERE=${LAB_LIB%/*}
LAB_PREFIX=${LAB_PREFIX:-}
LAB_DIR=${LAB_DIR:-}
LAB_PID=
if [[ -z ${LAB_PYTHON:-} ]]; then
    if [[ -x /usr/bin/python3 ]]; then LAB_PYTHON=/usr/bin/python3; else LAB_PYTHON=python3; fi
fi

_lab_die() {
    echo "lab: $*" >&2
    return 1
}

# _lab_need: fail unless a lab exists in this shell.
_lab_need() {
    [[ -n $LAB_PREFIX && -d $LAB_DIR ]] || _lab_die "no lab: call lab_create first"
}

# lab_ns NAME: print the namespace name of host NAME (srv, sw, m1.., or a lab_add name).
lab_ns() {
    _lab_need || return
    local ns="${LAB_PREFIX}${1:?usage: lab_ns NAME}"
    [[ -e /run/netns/$ns ]] || _lab_die "no such lab host: $1" || return
    echo "$ns"
}

# lab_addr NAME: print host NAME's IPv4 address (no prefix length).
lab_addr() {
    _lab_need || return
    local name addr
    while read -r name addr; do
        [[ $name == "$1" ]] && { echo "$addr"; return 0; }
    done <"$LAB_DIR/hosts"
    _lab_die "no such lab host: $1"
}

# lab_machines: print the machine names m1..mN, one per line (not srv, not lab_add hosts).
lab_machines() {
    _lab_need || return
    local i n
    n=$(<"$LAB_DIR/n")
    for ((i = 1; i <= n; i++)); do echo "m$i"; done
}

# _lab_sleep_ms MS: sleep for MS milliseconds (integer).
_lab_sleep_ms() {
    sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# lab_create [N]: make the switch (bridge br0), the server srv (10.77.0.1) and machines m1..mN
# (10.77.1.1..N, N <= 250), each joined to br0 by a veth pair; lo up, route 224.0.0.0/4 dev eth0,
# rp_filter off, IPv6 off. IGMP snooping stays off unless LAB_SNOOPING=1 (see lab_snooping).
# Takes about 30 ms per machine (7 s for 250).
lab_create() {
    local n=${1:-0} i
    [[ $n =~ ^[0-9]+$ ]] && ((n <= 250)) || _lab_die "lab_create: N must be 0..250" || return
    ((EUID == 0)) || _lab_die "lab_create: needs root (network namespaces)" || return
    [[ -z $LAB_PREFIX ]] || _lab_die "lab_create: a lab already exists in this shell" || return
    for i in ip tc nft setsid; do
        command -v "$i" >/dev/null || _lab_die "lab_create: missing command $i" || return
    done
    LAB_DIR=$(mktemp -d /tmp/fclab.XXXXXX) || return
    LAB_PREFIX="fcl${LAB_DIR##*.}-"
    echo "$n" >"$LAB_DIR/n"
    : >"$LAB_DIR/hosts"
    : >"$LAB_DIR/pids"
    [[ -n ${LAB_NO_TRAP:-} ]] || _lab_install_traps
    _lab_start_watchdog || return
    _lab_make_switch || return
    lab_add srv 10.77.0.1 || return
    for ((i = 1; i <= n; i++)); do
        lab_add "m$i" "10.77.1.$i" || return
    done
    if [[ ${LAB_SNOOPING:-0} == 1 ]]; then sleep 1.2; fi # see lab_snooping
}

# The caller's own traps (e.g. tests/integration/lib.sh's `trap cleanup EXIT`) are kept and run
# after ours. _lab_trap_cmd "TRAP_P_OUTPUT": the command in one line of `trap -p SIG` (which must
# be called right in $(...), the one place bash shows the caller's traps).
_lab_trap_cmd() {
    [[ -n $1 ]] || return 0
    eval "set -- $1" # trap -p quotes like the shell: trap -- 'cmd' SIG
    [[ $3 == _lab_on_* ]] || echo "$3"
}

_lab_install_traps() {
    _LAB_PREV_EXIT=$(_lab_trap_cmd "$(trap -p EXIT)")
    _LAB_PREV_INT=$(_lab_trap_cmd "$(trap -p INT)")
    _LAB_PREV_TERM=$(_lab_trap_cmd "$(trap -p TERM)")
    trap '_lab_on_exit' EXIT
    trap '_lab_on_signal INT 130' INT
    trap '_lab_on_signal TERM 143' TERM
}

_lab_on_exit() {
    local rc=$?
    if declare -F lab_cleanup_hook >/dev/null; then lab_cleanup_hook || true; fi
    lab_destroy || true
    if [[ -n ${_LAB_PREV_EXIT:-} ]]; then
        # The caller's handler sees the script's status in $? (a condition, so set -e stays calm).
        if _lab_return "$rc"; then eval "$_LAB_PREV_EXIT"; else eval "$_LAB_PREV_EXIT"; fi
    fi
    exit "$rc"
}

_lab_return() {
    return "$1"
}

# _lab_on_signal SIG STATUS: the caller's handler for SIG if any, else exit STATUS; exiting runs
# _lab_on_exit, which destroys the lab.
_lab_on_signal() {
    local prev="_LAB_PREV_$1"
    if [[ -n ${!prev:-} ]]; then eval "${!prev}"; fi
    exit "$2"
}

# The watchdog is a detached bash (own session, so a kill of our process group spares it) that
# waits for this shell to die, or for LAB_MAX_SECONDS, then tears the lab down by its prefix.
_lab_start_watchdog() {
    local max=${LAB_MAX_SECONDS:-7200}
    # shellcheck disable=SC2016 # expanded by the watchdog's bash, not here
    setsid bash -c 'echo $$ >"$3/watchdog"
        while kill -0 "$1" 2>/dev/null && ((SECONDS < $4)); do sleep 1; done
        source "$5" && _lab_teardown "$2" "$3"' fclab-watchdog \
        "$$" "$LAB_PREFIX" "$LAB_DIR" "$max" "$LAB_LIB" </dev/null >/dev/null 2>&1 &
}

_lab_make_switch() {
    local sw="${LAB_PREFIX}sw"
    ip netns add "$sw" || return
    ip netns exec "$sw" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 || return
    ip -n "$sw" link set lo up || return
    _lab_make_bridge br0 || return
    # One lookup per frame whatever the number of ports: sets and a verdict map keyed by port.
    ip netns exec "$sw" nft -f - <<'EOF' || return
table bridge fclab {
    set cut { type ifname; }
    set burst { type ifname; }
    map rxloss { type ifname : verdict; }
    chain forward {
        type filter hook forward priority 0; policy accept;
        oifname @cut drop
        iifname @cut drop
        oifname @burst drop
        iifname @burst drop
        oifname vmap @rxloss
    }
}
EOF
}

# _lab_make_bridge BR: a bridge in the switch namespace, STP off (ports forward at once).
_lab_make_bridge() {
    local sw="${LAB_PREFIX}sw" snoop=${LAB_SNOOPING:-0}
    [[ $snoop == 1 ]] || snoop=0
    ip -n "$sw" link add "$1" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return
    ip -n "$sw" link set "$1" up || return
    _lab_bridge_snooping "$1" "$snoop"
}

# _lab_bridge_snooping BR 0|1: IGMP snooping off, or on with the bridge as querier (without a
# querier Linux floods all multicast anyway). The bridge starts pruning only a query response
# interval after its querier is switched on: set that to 1 s *first* (the default is 10 s).
_lab_bridge_snooping() {
    local sw="${LAB_PREFIX}sw"
    if (($2)); then
        ip -n "$sw" link set "$1" type bridge mcast_query_response_interval 100 \
            mcast_startup_query_interval 100 || return
    fi
    ip -n "$sw" link set "$1" type bridge mcast_snooping "$2" mcast_querier "$2"
}

# lab_add NAME ADDR: add one more host namespace NAME (1-12 chars [a-z0-9], e.g. a rogue host or a
# late machine) with address ADDR in 10.77.0.0/23, joined to br0 like the others.
lab_add() {
    _lab_need || return
    local name=${1:?usage: lab_add NAME ADDR} addr=${2:?usage: lab_add NAME ADDR}
    local ns="${LAB_PREFIX}$1" sw="${LAB_PREFIX}sw"
    [[ $name =~ ^[a-z][a-z0-9]{0,11}$ && $name != sw ]] || _lab_die "lab_add: bad name $name" ||
        return
    [[ $addr =~ ^10\.77\.[01]\.[0-9]{1,3}$ ]] || _lab_die "lab_add: $addr not in 10.77.0.0/23" ||
        return
    ip netns add "$ns" || return
    echo "$name $addr" >>"$LAB_DIR/hosts"
    # Defaults first, so eth0 is born with them; "all" too, as rp_filter uses max(all, dev).
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 || return
    ip -n "$sw" link add "$name" type veth peer name eth0 netns "$ns" || return
    ip -n "$sw" link set "$name" master br0 up || return
    ip -n "$ns" -batch - <<EOF || return
link set lo up
addr add $addr/23 dev eth0
link set eth0 up
route add 224.0.0.0/4 dev eth0
EOF
}

# lab_snooping on|off: IGMP snooping, with the bridge as querier, on the lab's bridges. Off by
# default: every frame to a group reaches every port. "on" returns once pruning is in force
# (about 1 s); from then on a port gets a group's traffic only after its host joined the group.
lab_snooping() {
    _lab_need || return
    local v br sw="${LAB_PREFIX}sw"
    case ${1:-} in on) v=1 ;; off) v=0 ;; *) _lab_die "usage: lab_snooping on|off" || return ;; esac
    for br in br0 br1; do
        if ! ip -n "$sw" link show "$br" >/dev/null 2>&1; then continue; fi
        _lab_bridge_snooping "$br" "$v" || return
    done
    if ((v)); then sleep 1.2; fi
}

# lab_exec NAME CMD...: run CMD in host NAME's namespace, in the foreground.
lab_exec() {
    local ns
    ns=$(lab_ns "${1:?usage: lab_exec NAME CMD...}") || return
    shift
    ip netns exec "$ns" "$@"
}

# lab_bg NAME LOGFILE CMD...: start CMD in NAME's namespace in the background, stdout and stderr to
# LOGFILE, stdin from /dev/null. Prints the command's own PID (not a wrapper's) and sets LAB_PID
# to it; both `pid=$(lab_bg ...)` and `lab_bg ... >/dev/null; pid=$LAB_PID` work. A small watcher
# subshell records its exit status for lab_wait. lab_destroy kills it in any case.
lab_bg() {
    _lab_need || return
    local ns log=${2:?usage: lab_bg NAME LOGFILE CMD...} tag pid i
    ns=$(lab_ns "$1") || return
    shift 2
    (($# > 0)) || _lab_die "usage: lab_bg NAME LOGFILE CMD..." || return
    tag=$(mktemp "$LAB_DIR/bg.XXXXXX") || return
    (
        trap - EXIT INT TERM # the lab's traps are the creating shell's business, not ours
        ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
        child=$!
        echo "$child" >"$tag.tmp" && mv "$tag.tmp" "$tag"
        rc=0
        wait "$child" || rc=$?
        echo "$rc" >"$LAB_DIR/rc.$child"
    ) </dev/null >/dev/null 2>&1 & # no fd of ours kept open: `$(lab_bg ...)` returns at once
    for ((i = 0; i < 3000; i++)); do # 30 s at most: a loaded host can be slow to fork
        pid=$(<"$tag")
        [[ -n $pid ]] && break
        sleep 0.01
    done
    rm -f "$tag"
    [[ -n $pid ]] || _lab_die "lab_bg: could not start $*" || return
    echo "$pid" >>"$LAB_DIR/pids"
    # shellcheck disable=SC2034 # for the caller
    LAB_PID=$pid
    echo "$pid"
}

# _lab_alive PID: true if PID is a live (not zombie) process in one of this lab's namespaces.
_lab_alive() {
    local ns
    ns=$(ip netns identify "$1" 2>/dev/null) || return 1
    [[ -n $ns && $ns == "$LAB_PREFIX"* ]]
}

# lab_kill PID [SIGNAL]: signal (default TERM) a process started in the lab, wait up to 5 s for it
# to end, then SIGKILL it. Refuses PIDs outside the lab's namespaces; a gone PID is not an error.
lab_kill() {
    _lab_need || return
    local pid=${1:?usage: lab_kill PID [SIGNAL]} sig=${2:-TERM} i
    _lab_alive "$pid" || return 0
    kill -s "$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        _lab_alive "$pid" || return 0
        sleep 0.05
    done
    kill -s KILL "$pid" 2>/dev/null || true
}

# lab_wait PID [TIMEOUT_S]: wait for a lab_bg process to end and return its exit status; after
# TIMEOUT_S (default 60) kill it and return 124.
lab_wait() {
    _lab_need || return
    local pid=${1:?usage: lab_wait PID [TIMEOUT_S]} timeout=${2:-60} i rc
    for ((i = 0; i < timeout * 20; i++)); do
        if [[ -s $LAB_DIR/rc.$pid ]]; then
            rc=$(<"$LAB_DIR/rc.$pid")
            return "$rc"
        fi
        sleep 0.05
    done
    lab_kill "$pid"
    return 124
}

# lab_destroy: kill every process in the lab's namespaces (TERM, then KILL), delete the namespaces
# (which deletes their links and nft rules), stop the watchdog, remove $LAB_DIR. Idempotent.
lab_destroy() {
    [[ -n $LAB_PREFIX ]] || return 0
    local wd=
    [[ -s $LAB_DIR/watchdog ]] && wd=$(<"$LAB_DIR/watchdog")
    _lab_teardown "$LAB_PREFIX" "$LAB_DIR"
    if [[ -n $wd && $wd != "$$" ]] && grep -qa fclab-watchdog "/proc/$wd/cmdline" 2>/dev/null; then
        kill "$wd" 2>/dev/null || true
    fi
    LAB_PREFIX=
    LAB_DIR=
}

# _lab_teardown PREFIX DIR: the part of lab_destroy the watchdog runs too.
_lab_teardown() {
    local prefix=$1 dir=$2 ns i pids left
    local -a mine=()
    [[ -n $prefix ]] || return 0
    for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
        [[ $ns == "$prefix"* ]] && mine+=("$ns")
    done
    for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do # 2 s of TERM, then KILL
        left=0
        for ns in "${mine[@]}"; do
            pids=$(ip netns pids "$ns" 2>/dev/null) || continue
            [[ -n $pids ]] || continue
            left=1
            # shellcheck disable=SC2086 # a list of PIDs
            if ((i == 0)); then kill -TERM $pids 2>/dev/null; elif ((i >= 10)); then
                kill -KILL $pids 2>/dev/null
            fi
        done
        ((left)) || break
        sleep 0.1
    done
    for ns in "${mine[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    [[ -n $dir && $dir == /tmp/fclab.* ]] && rm -rf "$dir"
    return 0
}

# _lab_names NAME: expand "all" to every machine, else check NAME is a lab host; print names.
_lab_names() {
    if [[ $1 == all ]]; then lab_machines; else lab_ns "$1" >/dev/null && echo "$1"; fi
}

# _lab_nft CMD...: nft in the switch namespace.
_lab_nft() {
    ip netns exec "${LAB_PREFIX}sw" nft "$@"
}

# _lab_pct_rule PERCENT: the nft expression that is true for PERCENT % of frames (0.01 steps);
# empty for 100 (numgen's "mod 10000" cannot compare with 10000).
_lab_pct_rule() {
    local p=$1 int frac
    [[ $p =~ ^([0-9]{1,3})(\.([0-9]{1,2}))?$ ]] || _lab_die "bad percentage: $p" || return
    int=${BASH_REMATCH[1]}
    frac=${BASH_REMATCH[3]}00
    frac=${frac:0:2}
    p=$((10#$int * 100 + 10#$frac))
    ((p <= 10000)) || _lab_die "bad percentage: $1" || return
    if ((p < 10000)); then echo "numgen random mod 10000 < $p"; fi # 100%: no condition
}

# lab_loss NAME PERCENT: random loss (0-100, two decimals) of the frames sent *to* host NAME,
# independent per host and per frame. 0 removes it. NAME may be "all" (= lab_loss_all).
lab_loss() {
    _lab_need || return
    local pct=${2:?usage: lab_loss NAME PERCENT} expr name
    expr=$(_lab_pct_rule "$pct") || return
    local names
    names=$(_lab_names "${1:?usage: lab_loss NAME PERCENT}") || return
    {
        for name in $names; do
            echo "add chain bridge fclab loss_$name"
            echo "flush chain bridge fclab loss_$name"
            [[ $pct =~ ^0*(\.0*)?$ ]] || echo "add rule bridge fclab loss_$name $expr drop"
            echo "add element bridge fclab rxloss { \"$name\" : jump loss_$name }"
        done
    } | _lab_nft -f -
}

# lab_loss_all PERCENT: lab_loss on every machine m1..mN (not srv).
lab_loss_all() {
    lab_loss all "${1:?usage: lab_loss_all PERCENT}"
}

# _lab_set_op add|delete SET NAMES...: add or remove ports from an nft set (absent ones ignored).
_lab_set_op() {
    local op=$1 set=$2 name
    shift 2
    for name in "$@"; do
        if [[ $op == add ]]; then
            _lab_nft add element bridge fclab "$set" "{ \"$name\" }" || return
        else
            _lab_nft delete element bridge fclab "$set" "{ \"$name\" }" 2>/dev/null || true
        fi
    done
}

# lab_cut NAME on|off: drop every frame to and from host NAME (a pulled cable), or restore it.
# NAME may be "all" (every machine).
lab_cut() {
    _lab_need || return
    local names
    names=$(_lab_names "${1:?usage: lab_cut NAME on|off}") || return
    # shellcheck disable=SC2086 # a list of names
    case ${2:-} in
    on) _lab_set_op add cut $names ;;
    off) _lab_set_op delete cut $names ;;
    *) _lab_die "usage: lab_cut NAME on|off" ;;
    esac
}

# lab_burst NAME ON_MS PERIOD_MS DURATION_S: for DURATION_S seconds, drop every frame to and from
# NAME ("all": every machine, at the same instants) during the first ON_MS of each PERIOD_MS. Runs
# in the background in the switch namespace on an absolute schedule; prints its PID and sets
# LAB_PID (lab_wait PID waits for the end; lab_kill PID stops it early and clears the rule).
# Its log ($LAB_DIR/burst.PID.log) has a line "on START_US END_US" per burst, from before the rule
# went in to after it was out: on a loaded host nft can take long, so a burst can last longer.
lab_burst() {
    _lab_need || return
    local usage="usage: lab_burst NAME ON_MS PERIOD_MS DURATION_S" names elems='' name log
    local on=${2:?$usage} period=${3:?$usage} dur=${4:?$usage}
    [[ $on =~ ^[0-9]+$ && $period =~ ^[0-9]+$ && $dur =~ ^[0-9]+$ ]] && ((on <= period && period > 0)) ||
        _lab_die "$usage" || return
    names=$(_lab_names "${1:?$usage}") || return
    for name in $names; do elems+="${elems:+, }\"$name\""; done
    # shellcheck disable=SC2016 # expanded by the toggler's bash
    log=$(mktemp "$LAB_DIR/burst.XXXXXX") || return
    lab_bg sw "$log" bash -c '
        add="add element bridge fclab burst { $1 }" del="delete element bridge fclab burst { $1 }"
        trap "nft \"\$del\" 2>/dev/null; exit 0" TERM INT
        now() { local t=${EPOCHREALTIME/[.,]/}; NOW=$((10#$t)); }
        until_us() { now; local d=$(($1 - NOW)); ((d <= 0)) ||
            sleep "$(printf "%d.%06d" $((d / 1000000)) $((d % 1000000)))"; }
        now; start=$NOW end=$((NOW + $4 * 1000000))
        for ((k = 0; start + k * $3 * 1000 < end; k++)); do
            t=$((start + k * $3 * 1000))
            until_us "$t"
            now; went_on=$NOW
            nft "$add"
            off=$((t + $2 * 1000)); ((off < end)) || off=$end
            until_us "$off"
            nft "$del"
            now; echo "on $went_on $NOW"
        done' fclab-burst "$elems" "$on" "$period" "$dur" || return
    ln -s "$log" "$LAB_DIR/burst.$LAB_PID.log"
}

# _lab_rate_bits RATE: RATE like 100mbit, 1gbit, 500kbit, 100M, 1G, or plain bits/s -> bits/s.
_lab_rate_bits() {
    local r=${1,,} num unit
    [[ $r =~ ^([0-9]+)([kmg]?)(bit|bps)?$ ]] || _lab_die "bad rate: $1" || return
    num=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
    [[ ${BASH_REMATCH[3]} == bps ]] && num=$((num * 8)) # tc's meaning: bytes per second
    case $unit in k) num=$((num * 1000)) ;; m) num=$((num * 1000000)) ;; g) num=$((num * 1000000000)) ;; esac
    ((num > 0)) || _lab_die "bad rate: $1" || return
    echo "$num"
}

# lab_rate NAME RATE|off: cap host NAME's link at RATE in each direction with tbf (on the switch
# port toward NAME, and on NAME's eth0 toward the switch); 2 ms of burst, 50 ms of queue.
lab_rate() {
    _lab_need || return
    local name=${1:?usage: lab_rate NAME RATE|off} rate=${2:?usage: lab_rate NAME RATE|off}
    local ns sw="${LAB_PREFIX}sw" bits burst
    ns=$(lab_ns "$name") || return
    if [[ $rate == off ]]; then
        tc -n "$sw" qdisc del dev "$name" root 2>/dev/null || true
        tc -n "$ns" qdisc del dev eth0 root 2>/dev/null || true
        return 0
    fi
    bits=$(_lab_rate_bits "$rate") || return
    burst=$((bits / 8 / 500))
    ((burst >= 4096)) || burst=4096 # at least a couple of full frames
    tc -n "$sw" qdisc replace dev "$name" root tbf rate "${bits}bit" burst "$burst" latency 50ms &&
        tc -n "$ns" qdisc replace dev eth0 root tbf rate "${bits}bit" burst "$burst" latency 50ms
}

# lab_counters NAME: print host NAME's eth0 counters on one line:
#   rx_bytes=B rx_packets=P tx_bytes=B tx_packets=P rx_dropped=D
# (what reached it after the lab's drops / what it put on the wire).
lab_counters() {
    local ns
    ns=$(lab_ns "${1:?usage: lab_counters NAME}") || return
    # shellcheck disable=SC2016 # expanded inside the namespace
    ip netns exec "$ns" sh -c 'cd /sys/class/net/eth0/statistics &&
        for f in rx_bytes rx_packets tx_bytes tx_packets rx_dropped; do
            printf "%s=%s " "$f" "$(cat "$f")"; done; echo'
}

# lab_counter NAME FIELD: print one of lab_counters' fields, e.g. lab_counter srv tx_bytes.
lab_counter() {
    local line f
    line=$(lab_counters "${1:?usage: lab_counter NAME FIELD}") || return
    for f in $line; do
        [[ ${f%%=*} == "${2:?usage: lab_counter NAME FIELD}" ]] && { echo "${f#*=}"; return 0; }
    done
    _lab_die "lab_counter: no field $2"
}

# lab_mcast NAME ARGS...: run tests/lab/mcast.py (numbered UDP sender / counting receiver) in
# NAME's namespace in the foreground; see that file for ARGS.
lab_mcast() {
    lab_exec "${1:?usage: lab_mcast NAME ARGS...}" "$LAB_PYTHON" "$LAB_HERE/mcast.py" "${@:2}"
}

# _lab_relay_bin: print the relay's path: $FC_LAB_RELAY, else relay.c compiled into $LAB_DIR.
_lab_relay_bin() {
    if [[ -n ${FC_LAB_RELAY:-} ]]; then
        [[ -x $FC_LAB_RELAY ]] || _lab_die "FC_LAB_RELAY=$FC_LAB_RELAY is not executable" || return
        echo "$FC_LAB_RELAY"
        return 0
    fi
    local bin="$LAB_DIR/fc-lab-relay"
    if [[ ! -x $bin ]]; then
        "${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -o "$bin" "$LAB_HERE/relay.c" ||
            _lab_die "cannot build $LAB_HERE/relay.c; set FC_LAB_RELAY" || return
    fi
    echo "$bin"
}

# lab_relay_create HOLD_PCT DELAY_MS [JITTER_MS [BASE_MS]]: make (once) bridge br1 and two taps,
# rt0 in br0 and rt1 in br1, and (re)start fc-lab-relay between them: each UDP frame, in both
# directions, is held with probability HOLD_PCT % for DELAY_MS + random 0..JITTER_MS, so later
# frames overtake it; BASE_MS delays every UDP frame (order kept). Other frames (ARP, IGMP, TCP)
# cross at once. Nothing is dropped. Calling it again restarts the relay with the new values
# (hosts behind it see a gap of a few ms). Then put machines behind it with lab_relay_attach.
# The relay's counters are written to $LAB_DIR/relay.log when it stops; lab_relay_stop appends
# them to $LAB_DIR/relay.history.log, so the counters of every run so far are there.
lab_relay_create() {
    _lab_need || return
    local usage="usage: lab_relay_create HOLD_PCT DELAY_MS [JITTER_MS [BASE_MS]]"
    local hold=${1:?$usage} delay=${2:?$usage} jitter=${3:-0} base=${4:-0} bin pid
    local sw="${LAB_PREFIX}sw" tap
    bin=$(_lab_relay_bin) || return
    if ! ip -n "$sw" link show br1 >/dev/null 2>&1; then
        _lab_make_bridge br1 || return
        for tap in rt0 rt1; do
            ip -n "$sw" tuntap add dev "$tap" mode tap || return
            # a deep queue: the bridge may flood faster than the relay reads for a moment
            ip -n "$sw" link set "$tap" txqueuelen 10000 || return
        done
        ip -n "$sw" link set rt0 master br0 up && ip -n "$sw" link set rt1 master br1 up || return
    fi
    lab_relay_stop
    pid=$(lab_bg sw "$LAB_DIR/relay.log" "$bin" --tap0 rt0 --tap1 rt1 --hold "$hold" \
        --delay "$delay" --jitter "$jitter" --base "$base" --seed "${LAB_RELAY_SEED:-1}" \
        --max-seconds "${LAB_MAX_SECONDS:-7200}") || return
    echo "$pid" >"$LAB_DIR/relay.pid"
    # Until both taps have carrier, i.e. the relay holds them: 20 s, for a CI machine whose two
    # cores run a QEMU guest and the sanitizer build beside this (5 s were once not enough).
    local end=$((SECONDS + 20))
    while ((SECONDS < end)); do
        if ! ip -n "$sw" link show rt0 | grep -q NO-CARRIER &&
            ! ip -n "$sw" link show rt1 | grep -q NO-CARRIER; then
            return 0
        fi
        _lab_alive "$pid" || break
        sleep 0.05
    done
    _lab_die "relay did not start in 20 s ($( _lab_alive "$pid" && echo "still running" || echo "exited")): $(cat "$LAB_DIR/relay.log")"
}

# lab_relay_stop: stop the relay process (counters: $LAB_DIR/relay.history.log); hosts behind
# it are cut off until lab_relay_create or lab_relay_detach.
lab_relay_stop() {
    _lab_need || return
    [[ -s $LAB_DIR/relay.pid ]] || return 0
    lab_kill "$(<"$LAB_DIR/relay.pid")"
    rm -f "$LAB_DIR/relay.pid"
    cat "$LAB_DIR/relay.log" >>"$LAB_DIR/relay.history.log" 2>/dev/null || true
}

# lab_relay_attach NAME...: move hosts' switch ports from br0 to br1: they keep their address
# and see the same groups and hosts, through the relay. lab_relay_detach NAME... moves them back.
# Loss, cuts and rate caps stay in force (they are per port).
lab_relay_attach() {
    _lab_need || return
    local name
    for name in "$@"; do
        lab_ns "$name" >/dev/null && ip -n "${LAB_PREFIX}sw" link set "$name" master br1 || return
    done
}

lab_relay_detach() {
    _lab_need || return
    local name
    for name in "$@"; do
        lab_ns "$name" >/dev/null && ip -n "${LAB_PREFIX}sw" link set "$name" master br0 || return
    done
}

# lab_relay_destroy: move every host behind the relay back to br0, stop the relay, delete br1 and
# the taps. Idempotent.
lab_relay_destroy() {
    _lab_need || return
    local sw="${LAB_PREFIX}sw" port
    ip -n "$sw" link show br1 >/dev/null 2>&1 || return 0
    for port in $(ip -n "$sw" -o link show master br1 | cut -d: -f2 | cut -d@ -f1); do
        [[ $port == rt1 ]] || ip -n "$sw" link set "$port" master br0
    done
    lab_relay_stop
    ip -n "$sw" link del rt0 2>/dev/null || true
    ip -n "$sw" link del rt1 2>/dev/null || true
    ip -n "$sw" link del br1
}

# lab_tap NAME: add a tap port NAME (1-15 chars [a-z0-9], not a host's name) to the switch bridge
# br0, for a virtual machine: run QEMU in the switch namespace (lab_bg sw ...) with
# `-netdev tap,id=...,ifname=NAME,script=no,downscript=no`. The port has carrier once QEMU holds
# the tap; deleting the switch namespace (lab_destroy) removes it.
lab_tap() {
    _lab_need || return
    local name=${1:?usage: lab_tap NAME} sw="${LAB_PREFIX}sw"
    [[ $name =~ ^[a-z][a-z0-9]{0,14}$ && $name != br[01] ]] || _lab_die "lab_tap: bad name $name" ||
        return
    ip -n "$sw" tuntap add dev "$name" mode tap || return
    ip -n "$sw" link set "$name" master br0 up
}
