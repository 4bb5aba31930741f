#!/usr/bin/env bash
# Multicast transport benchmark of issue 3: fleetcast against udpcast and a raw multicast
# blast (iperf 2, no reliability), side by side in the same run, in the netns lab of
# tests/lab/lab.sh.
#
# For each point of the matrix (N receivers x random loss on each receiver's link) it makes a
# fresh lab (srv + m1..mN behind one bridge, every link capped with tbf: 1000 Mbit, 100 Mbit from
# 50 receivers up), sets the loss, and runs, one after the other:
#   iperf      iperf -s -u -B GROUP -P 1 in every machine, iperf -c GROUP -u -b RATE -l 1400 -T 1
#              -n IMAGE_BYTES from srv (at 0% loss only, unless --iperf-all-loss);
#   udpcast    udp-sender --file IMAGE ... --max-bitrate RATE --min-receivers N, udp-receiver in
#              every machine (the very same bytes: the fleetcast image file);
#   fleetcast  fleetcastd --image IMAGE ... --rate RATE --min-receivers N, fleetcast-recv in every
#              machine, each writing and verifying a disk;
#   clonezilla the whole job as Clonezilla SE does it, for the master's ext4 partition: the stored
#              `partclone.ext4 -c | zstd -3` stream (made once, before the matrix) piped into
#              udp-sender (same rate cap and conventions as udpcast), and in every machine
#              `udp-receiver | zstd -d | partclone.ext4 -r` into a partition-sized file.
# Each run is capped (--timeout, default 600 s); one that does not finish is reported with how
# far it got. Measured per run: transfer time (start of data to the last receiver done), first
# join to last receiver done, bytes srv put on the wire (its eth0 tx counter) / image bytes,
# CPU time (user+sys) of the sender and, summed, of the receivers, and for fleetcast the
# server's counters (--stats) and its rate backoffs; image and disk bytes per second, CPU per
# receiver per disk GB, peak RSS, control bytes. The report (markdown, stdout and --out) gives
# each as a ratio to udpcast, to the Clonezilla pipeline and to the "ceiling": the better of the
# blast and udpcast at 0% loss with the same N, measured in the same run; and the goals of
# issues 3 and 9.
#
# Not a timed test: run it by hand, as root, on an otherwise idle machine. See bench/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAMP=$HERE/stamp.sh

usage() {
    cat <<EOF
usage: $0 [options]
  --quick              fast sanity run: N = 1 10, loss 0 1, a 128 MiB disk
  --out FILE           also write the markdown report to FILE
  --receivers "LIST"   receiver counts (default "1 10 50 100")
  --loss "LIST"        random loss in % on each receiver's link (default "0 1 5")
  --size MIB           size of the sample disk (default 512; --quick 128)
  --files N            files in its ext4 partition (default 3000; --quick 800)
  --image IMG          use this image instead of making one (needs --pubkey)
  --pubkey PUB         its signer's public key
  --timeout S          cap of each run in seconds (default 600)
  --tools "LIST"       subset of "iperf udpcast clonezilla fleetcast" (default all four)
  --disk RAW           the raw master disk of --image (the clonezilla tool needs its ext4
                       partition; without --image the sample disk is used)
  --iperf-all-loss     run the blast at every loss, not only at 0%
  --compare K          targets checked per run (default 3): fleetcast with \`fleetcast image
                       compare\`, clonezilla with partclone.ext4 -c (and e2fsck -fn on the first)
  --build DIR          meson build dir with the binaries (default: build-mb, build-bench, build)
  --workdir DIR        where the temporary directory goes (default /var/tmp)
  --target-dir DIR     where receivers write (default /dev/shm when it has room, else the workdir)
  --keep               keep the temporary directory (logs, stats, image)
  --report-from DIR    only make the report again, from a directory kept with --keep
EOF
}

die() {
    echo "run.sh: $*" >&2
    exit 2
}
say() { echo "run.sh: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Small helpers shared by the driver and the per-point process.

# fnum EXPR: evaluate a float expression with awk (mawk-compatible), print with %.Nf (default 2).
fcalc() {
    awk -v p="${2:-2}" "BEGIN { v = ($1); printf \"%.\" p \"f\", v }"
}

# cpu_of PREFIX: user+sys seconds from a stamp.sh .time file (0 if missing).
cpu_of() {
    local line=
    [[ -s $1.time ]] && line=$(tail -n 1 "$1.time")
    awk -v l="$line" 'BEGIN { n = split(l, a, " "); if (n >= 3) printf "%.2f", a[2] + a[3]; else print "0" }'
}
# time_field PREFIX N: field N of a stamp.sh .time file's last line (2 user, 3 sys, 4 peak RSS
# KiB), 0 if missing.
time_field() {
    local line=
    [[ -s $1.time ]] && line=$(tail -n 1 "$1.time")
    awk -v l="$line" -v f="$2" 'BEGIN { n = split(l, a, " "); print (n >= f ? a[f] + 0 : 0) }'
}

# end_of PREFIX: "EPOCH RC" of a stamp.sh run, or nothing.
end_ts() { [[ -s $1.end ]] && cut -d' ' -f1 "$1.end"; }
end_rc() { if [[ -s $1.end ]]; then cut -d' ' -f2 "$1.end"; else echo none; fi; }

# first_ts LOG REGEX / last_ts LOG REGEX: timestamp of the first / last matching stamped line.
first_ts() { { grep -E -- "$2" "$1" 2>/dev/null || true; } | head -n 1 | cut -d' ' -f1; }
last_ts() { { grep -E -- "$2" "$1" 2>/dev/null || true; } | tail -n 1 | cut -d' ' -f1; }

# wait_ends DEADLINE_SECONDS PREFIX...: wait until every PREFIX.end exists, or until $SECONDS
# reaches DEADLINE_SECONDS (then return 1).
wait_ends() {
    local deadline=$1 p all
    shift
    while true; do
        all=1
        for p in "$@"; do [[ -e $p.end ]] || { all=0; break; }; done
        ((all)) && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# stop_tools: TERM the benchmarked programs in this lab's namespaces (their stamp.sh wrappers
# then record how they ended), then wait a little for the wrappers.
stop_tools() {
    local ns pid comm
    for ns in $(ip netns list | cut -d' ' -f1); do
        [[ $ns == "$LAB_PREFIX"* ]] || continue
        for pid in $(ip netns pids "$ns"); do
            comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
            case $comm in
            fleetcastd | fleetcast-recv | udp-sender | udp-receiver | iperf | zstd | partclone.ext4)
                kill -TERM "$pid" 2>/dev/null || true ;;
            esac
        done
    done
}

# result KEY=VALUE...: append one result line (a run of one tool at this point).
# Also records how many network namespaces not of this lab existed at the end (other labs or
# tests running beside the benchmark skew it) and the 1-minute load average.
result() {
    local other
    other=$(ip netns list | cut -d' ' -f1 | grep -c -v -e "^$LAB_PREFIX" -e '^$' || true)
    echo "$* other_ns=$other load1=$(cut -d' ' -f1 /proc/loadavg)" >>"$BENCH_RESULTS"
}

# ---------------------------------------------------------------------------------------------
# One point of the matrix, in its own process and its own lab: run_point N LOSS DIR.

run_point() {
    local n=$1 loss=$2 dir=$3 m tool
    # shellcheck source-path=SCRIPTDIR source=../../tests/lab/lab.sh
    source "$REPO/tests/lab/lab.sh"
    export LAB_MAX_SECONDS=$((5 * BENCH_TIMEOUT + 600))
    lab_create "$n"
    RATE=$(link_rate "$n") MAXWAIT=$(max_wait "$n")
    lab_rate srv "${RATE}mbit"
    for m in $(lab_machines); do lab_rate "$m" "${RATE}mbit"; done
    if [[ $loss != 0 ]]; then lab_loss_all "$loss"; fi
    MACHINES=$(lab_machines)
    for tool in $BENCH_TOOLS; do
        mkdir -p "$dir/$tool"
        say "N=$n loss=$loss%: $tool"
        case $tool in
        iperf) if [[ $loss == 0 || $BENCH_IPERF_ALL == 1 ]]; then run_iperf "$n" "$loss" "$dir/iperf"; fi ;;
        udpcast) run_udpcast "$n" "$loss" "$dir/udpcast" ;;
        fleetcast) run_fleetcast "$n" "$loss" "$dir/fleetcast" ;;
        clonezilla) run_clonezilla "$n" "$loss" "$dir/clonezilla" ;;
        esac
        sleep 1 # let the last packets and timers of one tool die down before the next
    done
}

# max_wait N: how long the senders wait for all N receivers to join before starting without
# the rest (--max-wait): 60 s, or 2 s per receiver beyond 30 (starting 100 receivers' tools
# takes tens of seconds on a loaded 2-core machine). Only a limit: with all N joined they start.
max_wait() {
    if (($1 > 30)); then echo $((2 * $1)); else echo 60; fi
}

# link_rate N: Mbit/s of each link (and of the senders' caps) for N receivers.
link_rate() {
    if (($1 >= 50)); then echo 100; else echo 1000; fi
}

# bg HOST PREFIX CMD...: start CMD in HOST under stamp.sh.
bg() {
    local host=$1 p=$2
    shift 2
    lab_bg "$host" "$p.bg" bash "$STAMP" "$p" "$@" >/dev/null
}

# wait_run DIR: wait for srv and every machine of a run, stopping them at the timeout.
# Sets RUN_TIMED_OUT=1 if it had to.
wait_run() {
    local d=$1 m
    local -a ps=("$d/srv")
    for m in $MACHINES; do ps+=("$d/$m"); done
    RUN_TIMED_OUT=0
    if ! wait_ends "$RUN_DEADLINE" "${ps[@]}"; then
        RUN_TIMED_OUT=1
        say "  timed out after $BENCH_TIMEOUT s: stopping"
        stop_tools
        wait_ends $((SECONDS + 15)) "${ps[@]}" || true
    fi
}

# sum_cpu DIR: summed user+sys seconds of every machine's process of a run.
sum_cpu() {
    local d=$1 m t=0
    for m in $MACHINES; do t=$(fcalc "$t + $(cpu_of "$d/$m")"); done
    echo "$t"
}

# cpu_more DIR: the common key=value fields of a run: the sender's user and system seconds
# apart, the largest peak RSS (KiB) of a receiver's processes, and the bytes srv received
# (receivers -> server) during the run (RX0 set before it).
cpu_more() {
    local d=$1 m r rss=0
    for m in $MACHINES; do
        r=$(time_field "$d/$m" 4)
        ((r > rss)) && rss=$r
    done
    echo "cpu_su=$(time_field "$d/srv" 2) cpu_ss=$(time_field "$d/srv" 3) rss_r=$rss" \
        "srv_rx=$(($(lab_counter srv rx_bytes) - RX0))"
}

run_iperf() {
    local n=$1 loss=$2 d=$3 m i tx0 tx1 line iv lt rx sent goods='' fracs='' got=0
    local grp=239.77.1.1 cstart cend
    RX0=$(lab_counter srv rx_bytes)
    for m in $MACHINES; do bg "$m" "$d/$m" iperf -s -u -B "$grp" -P 1; done
    for m in $MACHINES; do # until every receiver has joined the group
        for ((i = 0; i < 100; i++)); do
            grep -q 'UDP buffer size' "$d/$m.log" 2>/dev/null && break
            sleep 0.1
        done
    done
    sleep 0.5
    tx0=$(lab_counter srv tx_bytes)
    RUN_DEADLINE=$((SECONDS + BENCH_TIMEOUT))
    bg srv "$d/srv" iperf -c "$grp" -u -b "${RATE}M" -l 1400 -T 1 -n "$BENCH_IMG_BYTES"
    # the receivers end on the client's FIN; one that lost all of them is stopped 15 s after
    wait_ends "$RUN_DEADLINE" "$d/srv" || true
    RUN_DEADLINE=$((SECONDS + 15))
    wait_run "$d"
    tx1=$(lab_counter srv tx_bytes)
    sent=$(grep -oE 'Sent [0-9]+ datagrams' "$d/srv.log" | grep -oE '[0-9]+' | tail -n 1 || true)
    line=$(grep -E ' sec ' "$d/srv.log" | tail -n 1 || true)
    iv=$(grep -oE '[0-9.]+-[0-9.]+ sec' <<<"$line" | head -n 1 || true)
    cstart=${iv%%-*} cend=${iv#*-} cend=${cend% sec}
    # per receiver: goodput (datagrams received x 1400 B / its interval) and share received
    for m in $MACHINES; do
        line=$(grep -E '\(.*%\)' "$d/$m.log" | tail -n 1 || true)
        iv=$(grep -oE '[0-9.]+-[0-9.]+ sec' <<<"$line" | head -n 1 || true)
        lt=$(grep -oE -- '-?[0-9]+/ *[0-9]+ +\(' <<<"$line" | tr -d ' (' || true)
        if [[ -n $iv && -n $lt ]]; then
            rx=$((${lt#*/} - ${lt%%/*}))
            goods+="$(fcalc "$rx * 1400 / ((${iv#*-} + 0) - ${iv%%-*} + 1e-9)" 0) "
            fracs+="$(fcalc "$rx / ${sent:-1}" 4) "
            got=$((got + 1))
        else
            goods+="0 " fracs+="0 "
        fi
    done
    local med mean
    med=$(tr ' ' '\n' <<<"$goods" | grep . | sort -n | awk '{a[NR] = $1} END { print (NR ? a[int((NR + 1) / 2)] : 0) }')
    mean=$(tr ' ' '\n' <<<"$fracs" | grep . | awk '{s += $1} END { printf "%.4f", NR ? s / NR : 0 }')
    local status=ok time=NA
    if ((med > 0)); then time=$(fcalc "$BENCH_IMG_BYTES / $med" 2); else status=failed; fi
    result "tool=iperf n=$n loss=$loss rate=$RATE status=$status time=$time" \
        "send_s=$(fcalc "${cend:-0} - ${cstart:-0}" 2) goodput=$med rx_frac=$mean reports=$got/$n" \
        "wire=$((tx1 - tx0)) cpu_s=$(cpu_of "$d/srv") cpu_r=$(sum_cpu "$d") $(cpu_more "$d")"
}

run_udpcast() {
    local n=$1 loss=$2 d=$3 m tx0 tx1 done_n=0 t_end=0 t rc sizes='' sz
    local data=239.77.2.1 rdv=239.77.2.2
    tx0=$(lab_counter srv tx_bytes) RX0=$(lab_counter srv rx_bytes)
    RUN_DEADLINE=$((SECONDS + BENCH_TIMEOUT))
    bg srv "$d/srv" udp-sender --file "$BENCH_IMG" --interface eth0 --mcast-data-address "$data" \
        --mcast-rdv-address "$rdv" --max-bitrate "${RATE}m" --min-receivers "$n" --max-wait "$MAXWAIT" \
        --nokbd --no-progress
    sleep 0.3
    for m in $MACHINES; do
        bg "$m" "$d/$m" udp-receiver --interface eth0 --mcast-rdv-address "$rdv" \
            --file "$BENCH_TDIR/udp.$m" --nokbd --no-progress
    done
    wait_run "$d"
    tx1=$(lab_counter srv tx_bytes)
    for m in $MACHINES; do
        rc=$(end_rc "$d/$m")
        sz=$(stat -c %s "$BENCH_TDIR/udp.$m" 2>/dev/null || echo 0)
        sizes+="$sz "
        if [[ $rc == 0 && $sz == "$BENCH_IMG_BYTES" ]]; then
            done_n=$((done_n + 1))
            t=$(end_ts "$d/$m")
            t_end=$(fcalc "($t > $t_end) ? $t : $t_end" 6)
        fi
    done
    local first m1=${MACHINES%%$'\n'*} same=no
    cmp -s "$BENCH_IMG" "$BENCH_TDIR/udp.$m1" && same=yes
    local t_start t_conn status=ok xfer=NA join=NA
    t_start=$(first_ts "$d/srv.log" 'Starting transfer')
    t_conn=$(first_ts "$d/srv.log" 'New connection')
    if ((done_n < n)); then
        status=dnf
    else
        xfer=$(fcalc "$t_end - ${t_start:-0}" 2)
        join=$(fcalc "$t_end - ${t_conn:-0}" 2)
    fi
    first=$(tr ' ' '\n' <<<"$sizes" | grep . | sort -n | head -n 1)
    local med
    med=$(tr ' ' '\n' <<<"$sizes" | grep . | sort -n | awk '{a[NR] = $1} END { print (NR ? a[int((NR + 1) / 2)] : 0) }')
    local ran
    ran=$(fcalc "$(end_ts "$d/srv" || echo "$EPOCHREALTIME") - ${t_start:-$(<"$d/srv.start")}" 0)
    result "tool=udpcast n=$n loss=$loss rate=$RATE status=$status time=$xfer join=$join" \
        "done=$done_n/$n timed_out=$RUN_TIMED_OUT ran_s=$ran got_min=$(fcalc "100 * $first / $BENCH_IMG_BYTES" 1)" \
        "got_med=$(fcalc "100 * $med / $BENCH_IMG_BYTES" 1) sender_rc=$(end_rc "$d/srv") m1_identical=$same" \
        "connected=$(grep -c 'New connection' "$d/srv.log" || true)" \
        "wire=$((tx1 - tx0)) cpu_s=$(cpu_of "$d/srv") cpu_r=$(sum_cpu "$d") $(cpu_more "$d")"
    rm -f "$BENCH_TDIR"/udp.m*
}

run_fleetcast() {
    local n=$1 loss=$2 d=$3 m tx0 tx1 ok_n=0 rc i=0
    tx0=$(lab_counter srv tx_bytes) RX0=$(lab_counter srv rx_bytes)
    RUN_DEADLINE=$((SECONDS + BENCH_TIMEOUT))
    bg srv "$d/srv" "$BENCH_FCD" --image "$BENCH_IMG" --group 239.77.3.1:9000 --iface eth0 \
        --rate "${RATE}M" --min-receivers "$n" --max-wait "$MAXWAIT" --stats "$d/stats.json"
    sleep 0.3
    for m in $MACHINES; do
        bg "$m" "$d/$m" "$BENCH_FCR" --target "$BENCH_TDIR/fc.$m" --server 10.77.0.1 \
            --iface eth0 --name "$m" --pubkey "$BENCH_PUB" --quiet --stats "$d/$m.json"
    done
    wait_run "$d"
    tx1=$(lab_counter srv tx_bytes)
    for m in $MACHINES; do
        rc=$(end_rc "$d/$m")
        if [[ $rc == 0 ]]; then ok_n=$((ok_n + 1)); fi
    done
    # `fleetcast image compare` on a sample: the first, the middle and the last machine
    local sample=() cmp_ok=0 cmp_n=0
    sample=(1 $(((n + 1) / 2)) "$n")
    local seen=' '
    for i in "${sample[@]}"; do
        [[ $seen == *" $i "* ]] && continue
        seen+="$i "
        ((cmp_n < BENCH_COMPARE)) || break
        cmp_n=$((cmp_n + 1))
        if "$BENCH_FC" image compare "$BENCH_IMG" "$BENCH_TDIR/fc.m$i" --pubkey "$BENCH_PUB" \
            --quiet >>"$d/compare.log" 2>&1; then
            cmp_ok=$((cmp_ok + 1))
        else
            echo "m$i: differs or incomplete" >>"$d/compare.log"
        fi
    done
    local s=$d/stats.json t_join t_send t_pass t_done status=ok xfer=NA join=NA pass=NA
    t_join=$(first_ts "$d/srv.log" 'joined as receiver')
    t_send=$(first_ts "$d/srv.log" 'waiting -> sending')
    t_pass=$(first_ts "$d/srv.log" 'sending -> repair')
    t_done=$(last_ts "$d/srv.log" 'done, disk verified')
    if [[ -n $t_pass && -n $t_send ]]; then pass=$(fcalc "$t_pass - $t_send" 2); fi
    local done_srv=0
    [[ -s $s ]] && done_srv=$(jq -r '.receivers_done' "$s")
    if ((ok_n < n || done_srv < n)) || [[ -z $t_done ]]; then
        status=dnf
    else
        xfer=$(fcalc "$t_done - $t_send" 2)
        join=$(fcalc "$t_done - $t_join" 2)
    fi
    local js='' k
    if [[ -s $s ]]; then
        for k in seconds data_pkts fec_pkts repair_pkts catchup_pkts wire_bytes naks naks_stale rounds \
            receivers_done receivers_failed receivers_dropped; do
            js+="st_$k=$(jq -r ".$k" "$s") "
        done
        js+="st_state=$(jq -r '.state' "$s") "
        js+="chunks_min=$(jq -r '[.receivers[].chunks_done] | min // 0' "$s") "
        js+="lost_max=$(jq -r '[.receivers[].pkts_lost] | max // 0' "$s") "
        # Control traffic on srv's link: everything but the multicast DATA packets. Received
        # (receivers -> server: JOIN, PROGRESS, NAK, DONE, TCP requests) is srv_rx; sent, the
        # tx counter (Ethernet frames) less the DATA packets' frames (--stats wire_bytes counts
        # IP+UDP; + 14 bytes of Ethernet header each).
        local pk wb
        pk=$(jq -r '.data_pkts + .fec_pkts + .repair_pkts + .catchup_pkts' "$s")
        wb=$(jq -r '.wire_bytes' "$s")
        js+="data_l2=$((wb + 14 * pk)) ctrl_down=$((tx1 - tx0 - wb - 14 * pk)) "
    fi
    result "tool=fleetcast n=$n loss=$loss rate=$RATE status=$status time=$xfer join=$join" \
        "pass_s=$pass exit0=$ok_n/$n compared=$cmp_ok/$cmp_n timed_out=$RUN_TIMED_OUT server_rc=$(end_rc "$d/srv")" \
        "backoffs=$(grep -c 'rate down to' "$d/srv.log" || true)" \
        "wire=$((tx1 - tx0)) cpu_s=$(cpu_of "$d/srv") cpu_r=$(sum_cpu "$d") $(cpu_more "$d") $js"
    rm -f "$BENCH_TDIR"/fc.m*
}

# The Clonezilla SE pipeline. The partclone+zstd stream of the master's ext4 partition was made
# once before the matrix (Clonezilla captures, then deploys): the timed part is the deploy, and
# the stored file is piped into udp-sender rather than partclone run again during the timing.
# Every receiver writes a partition-sized file, made before the run (the partition exists).
run_clonezilla() {
    local n=$1 loss=$2 d=$3 m tx0 tx1 ok_n=0 t_end=0 t rc i
    local data=239.77.4.1 rdv=239.77.4.2
    for m in $MACHINES; do
        rm -f "$BENCH_TDIR/cz.$m"
        truncate -s "$BENCH_CZ_PART" "$BENCH_TDIR/cz.$m"
    done
    tx0=$(lab_counter srv tx_bytes) RX0=$(lab_counter srv rx_bytes)
    RUN_DEADLINE=$((SECONDS + BENCH_TIMEOUT))
    # shellcheck disable=SC2016 # expanded by the inner bash
    # Its own port base: a udp-sender of the udpcast run before can still be answering on
    # udpcast's default ports ("Bad server reply ... Other transfer in progress?", seen at 5 %).
    bg srv "$d/srv" bash -c 'set -o pipefail; cat "$1" | udp-sender --interface eth0 --portbase 9300 \
        --mcast-data-address "$2" --mcast-rdv-address "$3" --max-bitrate "$4" --min-receivers "$5" \
        --max-wait "$6" --nokbd --no-progress' _ "$BENCH_CZ_ZST" "$data" "$rdv" "${RATE}m" "$n" "$MAXWAIT"
    sleep 0.3
    for m in $MACHINES; do
        # shellcheck disable=SC2016
        bg "$m" "$d/$m" bash -c 'set -o pipefail; udp-receiver --interface eth0 --portbase 9300 \
            --mcast-rdv-address "$1" --nokbd --no-progress | zstd -d -q |
            partclone.ext4 -r -q -s - -O "$2" -L "$3"' _ "$rdv" "$BENCH_TDIR/cz.$m" "$d/$m.partclone.log"
    done
    wait_run "$d"
    tx1=$(lab_counter srv tx_bytes)
    for m in $MACHINES; do
        rc=$(end_rc "$d/$m")
        if [[ $rc == 0 ]]; then
            ok_n=$((ok_n + 1))
            t=$(end_ts "$d/$m")
            t_end=$(fcalc "($t > $t_end) ? $t : $t_end" 6)
        fi
    done
    # The result of a sample of receivers (first, middle, last): partclone.ext4 -c of the target
    # gives the master's partclone image (it is deterministic: every used block is the same), and
    # e2fsck -fn of the first is clean.
    local sample=(1 $(((n + 1) / 2)) "$n") seen=' ' cmp_ok=0 cmp_n=0 fsck=no
    for i in "${sample[@]}"; do
        [[ $seen == *" $i "* ]] && continue
        seen+="$i "
        ((cmp_n < BENCH_COMPARE)) || break
        cmp_n=$((cmp_n + 1))
        if [[ $(partclone.ext4 -c -q -s "$BENCH_TDIR/cz.m$i" -o - -L "$d/check.partclone.log" 2>/dev/null |
            cksum) == "$BENCH_CZ_SUM" ]]; then
            cmp_ok=$((cmp_ok + 1))
        else
            echo "m$i: differs from the master or incomplete" >>"$d/compare.log"
        fi
    done
    e2fsck -fn "$BENCH_TDIR/cz.m1" >"$d/e2fsck.log" 2>&1 && fsck=yes
    local t_start t_conn status=ok xfer=NA join=NA
    t_start=$(first_ts "$d/srv.log" 'Starting transfer')
    t_conn=$(first_ts "$d/srv.log" 'New connection')
    if ((ok_n < n)) || [[ -z $t_start ]]; then
        status=dnf
    else
        xfer=$(fcalc "$t_end - $t_start" 2)
        join=$(fcalc "$t_end - ${t_conn:-$t_start}" 2)
    fi
    local ran
    ran=$(fcalc "$(end_ts "$d/srv" || echo "$EPOCHREALTIME") - ${t_start:-$(<"$d/srv.start")}" 0)
    result "tool=clonezilla n=$n loss=$loss rate=$RATE status=$status time=$xfer join=$join" \
        "done=$ok_n/$n timed_out=$RUN_TIMED_OUT ran_s=$ran sender_rc=$(end_rc "$d/srv")" \
        "compared=$cmp_ok/$cmp_n fsck_m1=$fsck connected=$(grep -c 'New connection' "$d/srv.log" || true)" \
        "wire=$((tx1 - tx0)) cpu_s=$(cpu_of "$d/srv") cpu_r=$(sum_cpu "$d") $(cpu_more "$d")"
    rm -f "$BENCH_TDIR"/cz.m*
}

if [[ ${1:-} == --_point ]]; then
    run_point "$2" "$3" "$4"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# The report.

# rget TOOL N LOSS KEY: a value from the results (empty if none).
rget() {
    awk -v t="tool=$1" -v n="n=$2" -v l="loss=$3" -v k="$4" '
        { ok = 0; for (i = 1; i <= NF; i++) if ($i == t) ok++; else if ($i == n) ok++; else if ($i == l) ok++ }
        ok == 3 { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) }
        END { print v }' "$BENCH_RESULTS"
}
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
# ratio A B [DECIMALS]: A / B, or "—" if either is missing.
ratio() {
    if isnum "$1" && isnum "$2" && [[ $(fcalc "$2 > 0" 0) == 1 ]]; then fcalc "$1 / $2" "${3:-2}"; else echo "—"; fi
}
mb() { fcalc "$1 / 1048576" 1; }
# img_of TOOL / disk_of TOOL: the bytes TOOL sends (its image file) and writes to each receiver's
# disk (0: not a disk).
img_of() { if [[ $1 == clonezilla ]]; then echo "$CZ_IMG_BYTES"; else echo "$IMG_BYTES"; fi; }
disk_of() {
    case $1 in
    clonezilla) echo "$CZ_DISK_BYTES" ;;
    fleetcast) echo "$STORED" ;;
    *) echo 0 ;;
    esac
}
# rate TOOL N LOSS imgs|disk: image or disk MB/s (10^6 bytes) of a run, or "—".
rate() {
    local tm b
    tm=$(rget "$1" "$2" "$3" time)
    if [[ $4 == img ]]; then b=$(img_of "$1"); else b=$(disk_of "$1"); fi
    if isnum "$tm" && ((b > 0)) && [[ $(fcalc "$tm > 0" 0) == 1 ]]; then
        fcalc "$b / $tm / 1000000" "$([[ $(fcalc "$b / $tm < 1e7" 0) == 1 ]] && echo 2 || echo 1)"
    else
        echo "—"
    fi
}
# cpu_gb TOOL N LOSS: CPU seconds per receiver per GB (10^9 bytes) written to its disk, or "—".
cpu_gb() {
    local cr b
    cr=$(rget "$1" "$2" "$3" cpu_r) b=$(disk_of "$1")
    if isnum "$cr" && ((b > 0)); then fcalc "$cr / $2 / ($b / 1e9)" 2; else echo "—"; fi
}
# rss_mib TOOL N LOSS: the largest receiver process's peak RSS in MiB, or "—".
rss_mib() {
    local r
    r=$(rget "$1" "$2" "$3" rss_r)
    if isnum "$r" && ((r > 0)); then fcalc "$r / 1024" 1; else echo "—"; fi
}

# ceiling N: "TOOL TIME WIRE CPU_S CPU_R" of the better of the blast and udpcast at 0% loss.
ceiling() {
    local n=$1 bt ut
    bt=$(rget iperf "$n" 0 time) ut=$(rget udpcast "$n" 0 time)
    local best='' bestt=''
    if isnum "$bt"; then best=iperf bestt=$bt; fi
    if isnum "$ut" && { [[ -z $best ]] || [[ $(fcalc "$ut < $bt" 0) == 1 ]]; }; then best=udpcast bestt=$ut; fi
    [[ -n $best ]] || { echo "— — — — —"; return; }
    echo "$best $bestt $(rget "$best" "$n" 0 wire) $(rget "$best" "$n" 0 cpu_s) $(rget "$best" "$n" 0 cpu_r)"
}

report() {
    local n l t st tm jn wire cs cr extra
    echo "## Multicast transport (issues 3 and 9)"
    echo
    echo "Machine: $(nproc) cores, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
        "kernel $(uname -r), $(awk '/^MemTotal:/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo);" \
        "run $RUN_DATE, matrix in $ELAPSED s."
    echo
    echo "Command: \`$CMDLINE\`"
    echo
    echo "Image: $(mb "$IMG_BYTES") MiB file ($CHUNKS chunks) of a $(mb "$DISK_BYTES") MiB sample disk" \
        "($(mb "$STORED") MiB stored; \`scripts/sample-disk.sh\`), sent as is by iperf, udpcast and fleetcast." \
        "Links capped with tbf at 1000 Mbit (100 Mbit from 50 receivers up), senders capped at the" \
        "same rate; loss is random, independent, on each receiver's link. Receivers write to" \
        "$([[ $TDIR == /dev/shm/* ]] && echo "tmpfs (/dev/shm)" || echo "$TDIR"); each run capped at $TIMEOUT s."
    if [[ " $TOOLS " == *" clonezilla "* ]]; then
        echo
        echo "Clonezilla SE pipeline: the master's ext4 partition ($(mb "$CZ_PART") MiB, $(mb "$CZ_DISK_BYTES") MiB in use)" \
            "as \`partclone.ext4 -c | zstd -3\`: a $(mb "$CZ_IMG_BYTES") MiB stream, captured once before the matrix" \
            "in $CZ_CAPTURE_S s (not timed in the runs); each run pipes that file into \`udp-sender\` (same rate cap" \
            "as udpcast) and every receiver runs \`udp-receiver | zstd -d | partclone.ext4 -r\` into a" \
            "partition-sized file. It carries only the ext4 partition, fleetcast's image the whole disk" \
            "(partition table, the ext4 partition's same $(mb "$CZ_DISK_BYTES") MiB, a raw partition of random data," \
            "the swap header): compare bytes per second, not times."
    fi
    local busy
    busy=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^other_ns=/ && $i != "other_ns=0") c++ } END { print c + 0 }' "$BENCH_RESULTS")
    if ((busy > 0)); then
        echo
        echo "**Warning:** during $busy run(s) other network namespaces (another lab or test) existed on"
        echo "the machine: those numbers are skewed (see other_ns and load1 in the .results file)."
    fi
    echo
    echo "### Measurements"
    echo
    echo "Time: start of data (udpcast: \"Starting transfer\"; fleetcast: waiting → sending) to the last"
    echo "receiver done (udpcast: its exit; fleetcast: the server's \"done, disk verified\"); join→done"
    echo "counts from the first receiver's connection/join. Blast: time = image bytes / median"
    echo "receiver goodput (it delivers only what arrives). Wire = bytes on srv's eth0 (tx counter) /"
    echo "image bytes. Repair = (repair + catch-up packets) / data packets (fleetcast's --stats); in"
    echo "parentheses for udpcast: its extra wire bytes over its own run at 0% loss. CPU = user+sys"
    echo "seconds (GNU time) of the sender, and summed over the receivers. \"First pass\": fleetcast's"
    echo "start of data to the end of its first pass over the image (then repairs and catch-up)."
    echo "Clonezilla: time from udp-sender's \"Starting transfer\" to the last receiver's pipeline exit"
    echo "(partclone -r done: this includes partclone's wait of up to 2 s for its progress thread);"
    echo "its CPU per receiver is udp-receiver + zstd -d + partclone.ext4 -r together. Image MB/s ="
    echo "bytes of the file the tool sends / time; disk MB/s = bytes each receiver writes (fleetcast:"
    echo "the image's stored bytes; clonezilla: the partition's blocks in use) / time; CPU/GB = CPU"
    echo "seconds per receiver per GB written; RSS = the largest peak RSS of a receiver's processes."
    echo
    echo "| N | loss | tool | result | time s | join→done s | image MB/s | disk MB/s | wire/image | repair % | CPU sender s (user+sys) | CPU receivers s | CPU/receiver/disk GB s | receiver RSS MiB | notes |"
    echo "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            for t in $TOOLS; do
                st=$(rget "$t" "$n" "$l" status)
                [[ -n $st ]] || continue
                tm=$(rget "$t" "$n" "$l" time) jn=$(rget "$t" "$n" "$l" join)
                wire=$(rget "$t" "$n" "$l" wire) cs=$(rget "$t" "$n" "$l" cpu_s) cr=$(rget "$t" "$n" "$l" cpu_r)
                local rep='—' res=$st
                case $t in
                iperf)
                    extra="receivers got $(fcalc "100 * $(rget iperf "$n" "$l" rx_frac)" 1)% of the datagrams; sender $(rget iperf "$n" "$l" send_s) s"
                    res="blast" ;;
                udpcast)
                    local w0
                    w0=$(rget udpcast "$n" 0 wire)
                    if [[ $l != 0 ]] && isnum "$w0" && isnum "$wire"; then
                        rep="($(fcalc "100 * ($wire / $w0 - 1)" 1))"
                    fi
                    extra="done $(rget udpcast "$n" "$l" "done")"
                    local conn
                    conn=$(rget udpcast "$n" "$l" connected)
                    if [[ -n $conn && $conn != "$n" ]]; then
                        extra+="; only $conn of $n receivers connected (the sender started without the rest after --max-wait $(max_wait "$n") s; they waited until stopped)"
                    fi
                    if [[ $st == dnf ]]; then
                        res="**did not finish**"
                        extra+="; stopped after $(rget udpcast "$n" "$l" ran_s) s of transfer with receivers at min $(rget udpcast "$n" "$l" got_min)% / median $(rget udpcast "$n" "$l" got_med)% of the image"
                    fi ;;
                fleetcast)
                    local dp rp cp
                    dp=$(rget fleetcast "$n" "$l" st_data_pkts) rp=$(rget fleetcast "$n" "$l" st_repair_pkts)
                    cp=$(rget fleetcast "$n" "$l" st_catchup_pkts)
                    isnum "$dp" && isnum "$rp" && rep=$(fcalc "100 * ($rp + ${cp:-0}) / $dp" 2)
                    extra="exit 0: $(rget fleetcast "$n" "$l" exit0), compare ok: $(rget fleetcast "$n" "$l" compared); first pass $(rget fleetcast "$n" "$l" pass_s) s; repair $rp, catch-up $cp pkts; rate backoffs $(rget fleetcast "$n" "$l" backoffs)"
                    if [[ $st == dnf ]]; then
                        res="**did not finish**"
                        extra+="; ended after $(fcalc "0$(rget fleetcast "$n" "$l" st_seconds)" 0) s of session: $(rget fleetcast "$n" "$l" st_receivers_dropped) receiver(s) dropped, slowest at $(rget fleetcast "$n" "$l" chunks_min)/$CHUNKS chunks"
                    fi
                    if [[ -n $(rget fleetcast "$n" "$l" reconstructed) ]]; then
                        extra+="; this line was rebuilt from the run's logs and stats (wire from the server's stats)"
                    fi ;;
                clonezilla)
                    local w0
                    w0=$(rget clonezilla "$n" 0 wire)
                    if [[ $l != 0 ]] && isnum "$w0" && isnum "$wire"; then
                        rep="($(fcalc "100 * ($wire / $w0 - 1)" 1))"
                    fi
                    extra="done $(rget clonezilla "$n" "$l" "done"); partclone images equal to the master's: $(rget clonezilla "$n" "$l" compared); e2fsck -fn m1 clean: $(rget clonezilla "$n" "$l" fsck_m1)"
                    if [[ $st == dnf ]]; then
                        res="**did not finish**"
                        extra+="; stopped after $(rget clonezilla "$n" "$l" ran_s) s of transfer"
                    fi ;;
                esac
                local cu
                cu=$(rget "$t" "$n" "$l" cpu_su)
                [[ -n $cu ]] && cs+=" ($cu+$(rget "$t" "$n" "$l" cpu_ss))"
                echo "| $n | $l% | $t | $res | $tm | ${jn:-—} | $(rate "$t" "$n" "$l" img) | $(rate "$t" "$n" "$l" disk) |" \
                    "$(ratio "$wire" "$(img_of "$t")" 3) | $rep | $cs | $cr | $(cpu_gb "$t" "$n" "$l") | $(rss_mib "$t" "$n" "$l") | $extra |"
            done
        done
    done
    echo
    echo "### fleetcast as a ratio to udpcast and to the ceiling"
    echo
    echo "Ceiling per N = the faster of the blast and udpcast at 0% loss, same run. \"% of ceiling\" ="
    echo "ceiling time / fleetcast time (throughput). Ratios < 1 mean fleetcast took less."
    echo
    echo "| N | loss | fleetcast s | udpcast s | ceiling s (tool) | time ×udpcast | time ×ceiling | % of ceiling | wire ×udpcast | wire ×ceiling | CPU sender ×udpcast | CPU receivers ×udpcast | CPU sender ×ceiling | CPU receivers ×ceiling | verified |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for n in $RECEIVERS; do
        local c ct cw ccs ccr ctool
        read -r ctool ct cw ccs ccr <<<"$(ceiling "$n")"
        for l in $LOSSES; do
            [[ -n $(rget fleetcast "$n" "$l" status) ]] || continue
            local ft ut uw ucs ucr fw fcs fcr tu pc ver
            ft=$(rget fleetcast "$n" "$l" time) ut=$(rget udpcast "$n" "$l" time)
            fw=$(rget fleetcast "$n" "$l" wire) uw=$(rget udpcast "$n" "$l" wire)
            fcs=$(rget fleetcast "$n" "$l" cpu_s) fcr=$(rget fleetcast "$n" "$l" cpu_r)
            ucs=$(rget udpcast "$n" "$l" cpu_s) ucr=$(rget udpcast "$n" "$l" cpu_r)
            tu=$(ratio "$ft" "$ut")
            if [[ $(rget fleetcast "$n" "$l" status) == dnf ]]; then ft="DNF" tu="—"; fi
            if [[ $(rget udpcast "$n" "$l" status) == dnf ]]; then
                if isnum "$ft"; then tu="< $(ratio "$ft" "$(rget udpcast "$n" "$l" ran_s)") (udpcast DNF)"; fi
                ut="DNF"
            fi
            pc=$(ratio "$ct" "$ft" 3)
            isnum "$pc" && pc="$(fcalc "100 * $pc" 0)%"
            ver="$(rget fleetcast "$n" "$l" exit0) exit 0, $(rget fleetcast "$n" "$l" compared) compared"
            echo "| $n | $l% | ${ft} | ${ut:-—} | $ct ($ctool) | $tu | $(ratio "$ft" "$ct") | $pc |" \
                "$(ratio "$fw" "$uw") | $(ratio "$fw" "$cw") | $(ratio "$fcs" "$ucs") | $(ratio "$fcr" "$ucr") |" \
                "$(ratio "$fcs" "$ccs") | $(ratio "$fcr" "$ccr") | $ver |"
        done
    done
    echo
    goals
    echo
    issue9
}

# The goals of issue 3, met or not, from the numbers above.
goals() {
    local n l ft ut st pc rp dp cp lim
    echo "### Goals of issue 3"
    echo
    echo "| goal | point | measured | met |"
    echo "|---|---|---|---|"
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            st=$(rget fleetcast "$n" "$l" status)
            [[ -n $st && -n $(rget udpcast "$n" "$l" status) ]] || continue
            ft=$(rget fleetcast "$n" "$l" time) ut=$(rget udpcast "$n" "$l" time)
            local m="—" ok=no
            if [[ $st == ok && $(rget udpcast "$n" "$l" status) == dnf ]]; then
                m="fleetcast $ft s, udpcast did not finish"; ok=yes
            elif isnum "$ft" && isnum "$ut"; then
                m="$ft s vs $ut s (×$(ratio "$ft" "$ut"))"
                [[ $(fcalc "$ft < $ut" 0) == 1 ]] && ok=yes
            elif [[ $st != ok ]]; then
                m="fleetcast did not finish"
            fi
            echo "| faster than udpcast | N=$n, $l% | $m | $ok |"
        done
    done
    for n in $RECEIVERS; do
        ((n == 10 || n == 50)) || continue
        for l in $LOSSES; do
            [[ $l == 1 ]] || continue
            local ct
            read -r _ ct _ _ _ <<<"$(ceiling "$n")"
            ft=$(rget fleetcast "$n" "$l" time)
            pc=$(ratio "$ct" "$ft" 3)
            local ok=no m="—"
            if isnum "$pc"; then
                m="$(fcalc "100 * $pc" 0)% ($ft s vs ceiling $ct s)"
                [[ $(fcalc "$pc >= 0.9" 0) == 1 ]] && ok=yes
            fi
            echo "| ≥ 90% of the ceiling at 1% loss | N=$n | $m | $ok |"
        done
    done
    for n in $RECEIVERS; do
        case $n in 10) lim=2.5 ;; 50) lim=3 ;; *) continue ;; esac
        for l in $LOSSES; do
            [[ $l != 0 ]] || continue
            dp=$(rget fleetcast "$n" "$l" st_data_pkts) rp=$(rget fleetcast "$n" "$l" st_repair_pkts)
            cp=$(rget fleetcast "$n" "$l" st_catchup_pkts)
            if ! isnum "$dp" || ! isnum "$rp"; then continue; fi
            local pct ok=no
            pct=$(fcalc "100 * ($rp + ${cp:-0}) / $dp" 2)
            [[ $(fcalc "$pct <= $lim * $l" 0) == 1 ]] && ok=yes
            echo "| repair ≤ ${lim}× loss | N=$n, $l% | $pct% of data (limit $(fcalc "$lim * $l" 1)%) | $ok |"
        done
    done
}

# The tables of issue 9: fleetcast against the Clonezilla SE pipeline and udpcast, per byte, and
# the issue's goals, met or not.
issue9() {
    local n l fs cs us fim ci ui fd czd
    echo "### fleetcast against the Clonezilla SE pipeline and udpcast (issue 9)"
    echo
    echo "Image MB/s = bytes of the file each tool sends / time; disk MB/s = bytes written to each"
    echo "receiver's disk / time; CPU/GB = CPU seconds per receiver per GB written (clonezilla:"
    echo "udp-receiver + zstd -d + partclone.ext4 -r). Ratios > 1 mean fleetcast moves more bytes per"
    echo "second (×) or, for CPU, spends more per byte."
    echo
    echo "| N | loss | image MB/s fleetcast | clonezilla | udpcast | image ×clonezilla | image ×udpcast | disk MB/s fleetcast | clonezilla | disk ×clonezilla | CPU/GB fleetcast s | clonezilla s | CPU/GB ×clonezilla | receiver RSS MiB fleetcast / clonezilla / udpcast |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            [[ -n $(rget fleetcast "$n" "$l" status) ]] || continue
            fim=$(rate fleetcast "$n" "$l" img) ci=$(rate clonezilla "$n" "$l" img) ui=$(rate udpcast "$n" "$l" img)
            fd=$(rate fleetcast "$n" "$l" disk) czd=$(rate clonezilla "$n" "$l" disk)
            fs=$(cpu_gb fleetcast "$n" "$l") cs=$(cpu_gb clonezilla "$n" "$l")
            [[ $(rget clonezilla "$n" "$l" status) == dnf ]] && ci=DNF czd=DNF
            [[ $(rget udpcast "$n" "$l" status) == dnf ]] && ui=DNF
            [[ $(rget fleetcast "$n" "$l" status) == dnf ]] && fim=DNF fd=DNF
            us="$(rss_mib fleetcast "$n" "$l") / $(rss_mib clonezilla "$n" "$l") / $(rss_mib udpcast "$n" "$l")"
            echo "| $n | $l% | $fim | ${ci:-—} | ${ui:-—} | $(ratio "$fim" "$ci") | $(ratio "$fim" "$ui") | $fd | ${czd:-—} |" \
                "$(ratio "$fd" "$czd") | $fs | $cs | $(ratio "$fs" "$cs") | $us |"
        done
    done
    echo
    echo "### Goals of issue 9"
    echo
    echo "| goal | point | measured | met |"
    echo "|---|---|---|---|"
    local st cst ust ok m r
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            st=$(rget fleetcast "$n" "$l" status) cst=$(rget clonezilla "$n" "$l" status)
            [[ -n $st && -n $cst ]] || continue
            fim=$(rate fleetcast "$n" "$l" img) ci=$(rate clonezilla "$n" "$l" img) ok=no m="—"
            if [[ $st != ok ]]; then
                m="fleetcast did not finish"
            elif [[ $cst == dnf ]]; then
                m="fleetcast $fim MB/s, the Clonezilla pipeline did not finish"; ok=yes
            elif isnum "$fim" && isnum "$ci"; then
                r=$(ratio "$fim" "$ci")
                m="$fim vs $ci MB/s (×$r)"
                [[ $(fcalc "$r >= 1.5" 0) == 1 ]] && ok=yes
            fi
            echo "| image MB/s ≥ 1.5× the Clonezilla pipeline's | N=$n, $l% | $m | $ok |"
        done
    done
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            st=$(rget fleetcast "$n" "$l" status) ust=$(rget udpcast "$n" "$l" status)
            [[ -n $st && $ust == ok ]] || continue
            fim=$(rate fleetcast "$n" "$l" img) ui=$(rate udpcast "$n" "$l" img) ok=no m="fleetcast did not finish"
            if [[ $st == ok ]] && isnum "$fim" && isnum "$ui"; then
                m="$fim vs $ui MB/s (×$(ratio "$fim" "$ui"))"
                [[ $(fcalc "$fim >= $ui" 0) == 1 ]] && ok=yes
            fi
            echo "| image MB/s ≥ udpcast-to-/dev/null where it finishes | N=$n, $l% | $m | $ok |"
        done
    done
    local ct ft pc
    if [[ " $RECEIVERS " == *" 10 "* && " $LOSSES " == *" 1 "* && -n $(rget fleetcast 10 1 status) ]]; then
        read -r _ ct _ _ _ <<<"$(ceiling 10)"
        ft=$(rget fleetcast 10 1 time) pc=$(ratio "$ct" "$ft" 3) ok=no m="—"
        if isnum "$pc"; then
            m="$(fcalc "100 * $pc" 0)% ($ft s vs ceiling $ct s)"
            [[ $(fcalc "$pc >= 0.9" 0) == 1 ]] && ok=yes
        fi
        echo "| ≥ 90% of the ceiling at 1% loss | N=10 | $m | $ok |"
    fi
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            fs=$(cpu_gb fleetcast "$n" "$l") cs=$(cpu_gb clonezilla "$n" "$l")
            if ! isnum "$fs" || ! isnum "$cs"; then continue; fi
            ok=no
            [[ $(fcalc "$fs <= $cs" 0) == 1 ]] && ok=yes
            echo "| receiver CPU per disk byte ≤ the Clonezilla pipeline's | N=$n, $l% | $fs vs $cs s/GB (×$(ratio "$fs" "$cs")) | $ok |"
        done
    done
    if [[ " $RECEIVERS " == *" 1 "* && " $LOSSES " == *" 5 "* && -n $(rget fleetcast 1 5 status) ]]; then
        local ut
        ft=$(rget fleetcast 1 5 time) ut=$(rget udpcast 1 5 time) ok=no m="—"
        if [[ $(rget fleetcast 1 5 status) != ok ]]; then
            m="fleetcast did not finish"
        elif [[ $(rget udpcast 1 5 status) == dnf ]]; then
            m="fleetcast $ft s, udpcast did not finish"; ok=yes
        elif isnum "$ft" && isnum "$ut"; then
            m="$ft s vs $ut s (×$(ratio "$ft" "$ut"))"
            [[ $(fcalc "$ft <= 1.2 * $ut" 0) == 1 ]] && ok=yes
        fi
        echo "| N=1 at 5% loss ≤ 1.2× udpcast's time | N=1, 5% | $m | $ok |"
    fi
    # Server CPU as the work grows: user time per image MB against N=1's, at each loss; system
    # time (the kernel's fan-out into every namespace happens in the sender's context) as a
    # growth factor next to udp-sender's.
    local u1 s1 us1 u sy usy lo hi grow
    for l in $LOSSES; do
        u1=$(rget fleetcast 1 "$l" cpu_su)
        isnum "$u1" || continue
        lo='' hi='' m=''
        s1=$(rget fleetcast 1 "$l" cpu_ss) us1=$(rget udpcast 1 "$l" cpu_ss)
        grow=''
        for n in $RECEIVERS; do
            ((n <= 50)) || continue
            u=$(rget fleetcast "$n" "$l" cpu_su)
            isnum "$u" || continue
            r=$(fcalc "($u / ($IMG_BYTES / 1e6)) / ($u1 / ($IMG_BYTES / 1e6) + 1e-9)" 2)
            m+="N=$n $(fcalc "1000 * $u / ($IMG_BYTES / 1e6)" 2) ms/MB (×$r); "
            [[ -z $lo || $(fcalc "$r < $lo" 0) == 1 ]] && lo=$r
            [[ -z $hi || $(fcalc "$r > $hi" 0) == 1 ]] && hi=$r
            sy=$(rget fleetcast "$n" "$l" cpu_ss) usy=$(rget udpcast "$n" "$l" cpu_ss)
            grow+="N=$n fleetcastd ×$(ratio "$sy" "$s1"), udp-sender ×$(ratio "$usy" "$us1"); "
        done
        ok=no
        [[ -n $lo && $(fcalc "$lo >= 0.8 && $hi <= 1.2" 0) == 1 ]] && ok=yes
        echo "| server user CPU per image byte flat from N=1 to 50 (±20%) | $l% | ${m%; } | $ok |"
        echo "| (server system CPU growth against N=1, for comparison with udp-sender's) | $l% | ${grow%; } | — |"
    done
    local up down dl
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            up=$(rget fleetcast "$n" "$l" srv_rx) down=$(rget fleetcast "$n" "$l" ctrl_down) dl=$(rget fleetcast "$n" "$l" data_l2)
            if ! isnum "$up" || ! isnum "$dl" || ! [[ $down =~ ^-?[0-9]+$ ]]; then continue; fi
            pc=$(fcalc "100 * ($up + $down) / $dl" 2) ok=no
            [[ $(fcalc "$pc <= 1" 0) == 1 ]] && ok=yes
            ((n == 50)) || ok="— (goal at N=50)"
            echo "| control bytes ≤ 1% of data bytes | N=$n, $l% | $pc% (to srv $up B, from srv $down B, data frames $dl B) | $ok |"
        done
    done
    local rmax=0 rv
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            rv=$(rget fleetcast "$n" "$l" rss_r)
            isnum "$rv" && ((rv > rmax)) && rmax=$rv
        done
    done
    if ((rmax > 0)); then
        echo "| receiver memory bounded and stated | all points | fleetcast-recv peak RSS ≤ $(fcalc "$rmax / 1024" 1) MiB for a $(mb "$IMG_BYTES") MiB image ($CHUNKS chunks); the bound by design is in client/assemble.h | stated |"
    fi
}

# ---------------------------------------------------------------------------------------------
# The driver: options, the image, the matrix, the report.

QUICK=0
OUT=''
RECEIVERS=''
LOSSES=''
SIZE=''
FILES=''
IMAGE=''
PUBKEY=''
TIMEOUT=600
TOOLS='iperf udpcast clonezilla fleetcast'
DISK=''
IPERF_ALL=0
COMPARE=3
BUILD=''
WORK_PARENT=/var/tmp
TDIR=''
KEEP=0
REPORT_FROM=''
CMDLINE="bench/multicast/run.sh $*"

while (($#)); do
    case $1 in
    --quick) QUICK=1; shift ;;
    --out) OUT=${2:?}; shift 2 ;;
    --receivers) RECEIVERS=${2:?}; shift 2 ;;
    --loss) LOSSES=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --files) FILES=${2:?}; shift 2 ;;
    --image) IMAGE=${2:?}; shift 2 ;;
    --disk) DISK=${2:?}; shift 2 ;;
    --pubkey) PUBKEY=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --tools) TOOLS=${2:?}; shift 2 ;;
    --iperf-all-loss) IPERF_ALL=1; shift ;;
    --compare) COMPARE=${2:?}; shift 2 ;;
    --build) BUILD=${2:?}; shift 2 ;;
    --workdir) WORK_PARENT=${2:?}; shift 2 ;;
    --target-dir) TDIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --report-from) REPORT_FROM=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
if ((QUICK)); then
    : "${RECEIVERS:=1 10}" "${LOSSES:=0 1}" "${SIZE:=128}" "${FILES:=800}"
else
    : "${RECEIVERS:=1 10 50 100}" "${LOSSES:=0 1 5}" "${SIZE:=512}" "${FILES:=3000}"
fi
for n in $RECEIVERS; do
    if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 250)); then die "bad receiver count $n"; fi
done
for l in $LOSSES; do [[ $l =~ ^[0-9]{1,2}(\.[0-9]{1,2})?$ ]] || die "bad loss $l"; done
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "bad --timeout"
for t in $TOOLS; do [[ $t =~ ^(iperf|udpcast|clonezilla|fleetcast)$ ]] || die "bad tool $t"; done
[[ -z $IMAGE || -n $PUBKEY ]] || die "--image needs --pubkey"
CZ=0
[[ " $TOOLS " == *" clonezilla "* ]] && CZ=1
if ((CZ)) && [[ -n $IMAGE && -z $DISK && -z $REPORT_FROM ]]; then
    die "the clonezilla tool needs the master disk of --image: --disk RAW (or --tools without it)"
fi

if [[ -n $REPORT_FROM ]]; then
    # Only the report again, from a directory kept with --keep (its meta and results files).
    [[ -s $REPORT_FROM/meta && -f $REPORT_FROM/results ]] || die "no meta/results in $REPORT_FROM"
    # shellcheck source=/dev/null
    source "$REPORT_FROM/meta"
    BENCH_RESULTS=$REPORT_FROM/results
else
    ((EUID == 0)) || die "needs root (network namespaces)"
    for c in ip tc nft jq /usr/bin/time udp-sender udp-receiver iperf partclone.ext4 zstd e2fsck; do
        command -v "$c" >/dev/null ||
            die "missing $c (apt-get install udpcast iperf time jq iproute2 nftables partclone zstd e2fsprogs)"
    done
    if [[ -z $BUILD ]]; then
        for b in build-mb build-bench build; do
            if [[ -x $REPO/$b/server/fleetcastd ]]; then BUILD=$REPO/$b; break; fi
        done
    fi
    [[ -n $BUILD ]] || die "no build dir with server/fleetcastd; use --build"
    BUILD=$(cd "$BUILD" && pwd)
    FCD=$BUILD/server/fleetcastd FCR=$BUILD/client/fleetcast-recv FC=$BUILD/cli/fleetcast
    for b in "$FCD" "$FCR" "$FC"; do [[ -x $b ]] || die "missing $b (meson compile -C $BUILD)"; done

    W=$(mktemp -d "$WORK_PARENT/fleetcast-mcast-bench.XXXXXX")
    cleanup() {
        if ((KEEP)); then say "kept $W"; else rm -rf "$W"; fi
        if [[ -n ${TDIR_MADE:-} ]]; then rm -rf "$TDIR_MADE"; fi
    }
    trap cleanup EXIT

    # The image: the sample disk of scripts/sample-disk.sh, or the one given.
    if [[ -z $IMAGE ]]; then
        say "making a ${SIZE} MiB sample disk and its image in $W"
        bash "$REPO/scripts/sample-disk.sh" "$W/disk.img" "$SIZE" "$FILES" >/dev/null
        "$FC" key gen --out "$W/key" >/dev/null
        "$FC" image create "$W/disk.img" "$W/image.fc" --key "$W/key.key" --quiet
        DISK=$W/disk.img
        IMAGE=$W/image.fc PUBKEY=$W/key.pub
    fi
    IMAGE=$(readlink -f "$IMAGE") PUBKEY=$(readlink -f "$PUBKEY")
    INFO=$("$FC" image info "$IMAGE" --json)
    # The Clonezilla pipeline's stream: partclone.ext4 -c | zstd -3 of the master's ext4
    # partition (the image's first ext4 partition, cut out of the raw disk), made once, untimed
    # for the matrix (its capture time is reported for information).
    CZ_IMG_BYTES=0 CZ_DISK_BYTES=0 CZ_PART=0 CZ_CAPTURE_S=NA CZ_SUM=''
    if ((CZ)); then
        read -r pstart psize CZ_DISK_BYTES < <(jq -r '[.partitions[] | select(.fs == "ext4")][0] |
            "\(.start) \(.size) \(.stored_bytes)"' <<<"$INFO")
        [[ $pstart =~ ^[0-9]+$ ]] || die "the image has no ext4 partition for the clonezilla tool"
        say "clonezilla: the ext4 partition ($psize bytes at $pstart) through partclone.ext4 -c | zstd -3"
        dd if="$DISK" of="$W/master.ext4" bs=1M iflag=skip_bytes,count_bytes skip="$pstart" \
            count="$psize" status=none
        CZ_PART=$psize
        t0=$EPOCHREALTIME
        partclone.ext4 -c -q -s "$W/master.ext4" -o - -L "$W/partclone-capture.log" 2>/dev/null |
            zstd -3 -T0 -q -o "$W/cz.pcl.zst" || die "partclone.ext4 -c | zstd failed ($W/partclone-capture.log)"
        CZ_CAPTURE_S=$(fcalc "$EPOCHREALTIME - $t0" 2)
        CZ_SUM=$(partclone.ext4 -c -q -s "$W/master.ext4" -o - -L "$W/partclone-capture.log" 2>/dev/null | cksum)
        CZ_IMG_BYTES=$(stat -c %s "$W/cz.pcl.zst")
        rm -f "$W/master.ext4"
    fi
    [[ $DISK == "$W/disk.img" ]] && rm -f "$DISK"
    IMG_BYTES=$(stat -c %s "$IMAGE")
    DISK_BYTES=$(jq -r .disk_size <<<"$INFO")
    STORED=$(jq -r .stored_bytes <<<"$INFO")
    CHUNKS=$(jq -r .chunk_count <<<"$INFO")
    MAXN=$(tr ' ' '\n' <<<"$RECEIVERS" | grep . | sort -n | tail -n 1)

    # Where receivers write: RAM (/dev/shm) when the biggest point fits with room to spare, so the
    # numbers are the transport's and not this machine's disk's; else the workdir.
    if [[ -z $TDIR ]]; then
        need=$((MAXN * (STORED > IMG_BYTES ? STORED : IMG_BYTES)))
        ((MAXN * CZ_DISK_BYTES > need)) && need=$((MAXN * CZ_DISK_BYTES))
        avail=$(($(df -B1 --output=avail /dev/shm 2>/dev/null | tail -n 1 || echo 0)))
        memavail=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024))
        if ((need + (1 << 30) < avail && need + (4 << 30) < memavail)); then
            TDIR=$(mktemp -d /dev/shm/fleetcast-mcast-bench.XXXXXX)
            TDIR_MADE=$TDIR
        else
            TDIR=$W/targets
            mkdir -p "$TDIR"
        fi
    fi
    TDIR=$(readlink -f "$TDIR")

    export BENCH_IMG=$IMAGE BENCH_PUB=$PUBKEY BENCH_IMG_BYTES=$IMG_BYTES BENCH_TIMEOUT=$TIMEOUT
    export BENCH_TOOLS=$TOOLS BENCH_IPERF_ALL=$IPERF_ALL BENCH_COMPARE=$COMPARE BENCH_TDIR=$TDIR
    export BENCH_FCD=$FCD BENCH_FCR=$FCR BENCH_FC=$FC BENCH_RESULTS=$W/results
    export BENCH_CZ_ZST=$W/cz.pcl.zst BENCH_CZ_PART=$CZ_PART BENCH_CZ_SUM=$CZ_SUM
    : >"$BENCH_RESULTS"

    say "image $IMAGE: $IMG_BYTES bytes ($CHUNKS chunks, $STORED bytes of a $DISK_BYTES-byte disk);" \
        "targets in $TDIR; each run capped at $TIMEOUT s"
    T0=$SECONDS
    for n in $RECEIVERS; do
        for l in $LOSSES; do
            mkdir -p "$W/p-$n-$l"
            # Its own process (and lab): the lab's traps clean up however it ends; bounded overall.
            timeout -k 30 $((4 * TIMEOUT + 300)) bash "$0" --_point "$n" "$l" "$W/p-$n-$l" ||
                say "point N=$n loss=$l% ended with status $?"
        done
    done
    ELAPSED=$((SECONDS - T0))
    RUN_DATE=$(date -u -d "@$(($(date +%s) - ELAPSED))" '+%Y-%m-%d %H:%M UTC')
    say "matrix done in $ELAPSED s"
    # What the report needs, so that --report-from can make it again from the kept directory.
    {
        for v in RECEIVERS LOSSES TOOLS TIMEOUT CMDLINE IMG_BYTES DISK_BYTES STORED CHUNKS TDIR ELAPSED \
            CZ_IMG_BYTES CZ_DISK_BYTES CZ_PART CZ_CAPTURE_S; do
            printf '%s=%q\n' "$v" "${!v}"
        done
        printf 'RUN_DATE=%q\n' "$RUN_DATE"
    } >"$W/meta"
fi

if [[ -n $OUT ]]; then
    report | tee "$OUT"
    cp "$BENCH_RESULTS" "$OUT.results" # the raw key=value lines, one per run
else
    report
fi
