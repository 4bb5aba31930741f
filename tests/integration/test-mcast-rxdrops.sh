#!/bin/bash
# Issue 9 (session 6): loss a receiver's own kernel causes is counted and
# reported. Four receivers share one CPU (taskset) with a small data-socket
# buffer (--rcvbuf 65536) at 500 Mbit/s, so the kernel drops datagrams on
# their sockets while they wait for the CPU. Each receiver's --stats counts
# those drops (kernel_drops, from SO_RXQ_OVFL), its PROGRESS reports at least
# as much loss as the kernel dropped and as its sequence gaps show
# (pkts_lost_reported), and the server's stats show the loss it was told;
# every disk is still identical to `fleetcast image restore`. The drop rule
# is kept out of it (--drop-loss 95): a receiver losing over half its
# packets for 10 s is dropped, which is not what this test is about.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 280 "$@"
mc_init
command -v taskset >/dev/null || die "taskset (util-linux) is missing"

N=4
log "building a 64 MiB sample disk and its image"
mc_image sample 64 200

# Every receiver on CPU 0: they wait for each other, their sockets fill.
cat >"$T/recv-one-cpu" <<EOS
#!/bin/bash
exec taskset -c 0 "$FLEETCAST_RECV" "\$@"
EOS
chmod +x "$T/recv-one-cpu"
FLEETCAST_RECV="$T/recv-one-cpu"

lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
mc_server -- --rate 500M --min-receivers "$N" --max-wait 30 --drop-loss 95
for m in "${MACHINES[@]}"; do mc_recv "$m" --rcvbuf 65536; done
mc_wait_recvs 200 "${MACHINES[@]}"
mc_wait_server 30

total=0
for m in "${MACHINES[@]}"; do
	mc_check_recv "$m"
	drops=$(jget "$T/$m.json" "d['kernel_drops']")
	lost=$(jget "$T/$m.json" "d['pkts_lost']")
	reported=$(jget "$T/$m.json" "d['pkts_lost_reported']")
	naks=$(jget "$T/$m.json" "d['naks_sent']")
	log "$m: kernel_drops $drops, pkts_lost (sequence) $lost, reported $reported, NAKs $naks, server saw $(mc_srv_rx "$m" pkts_lost)"
	check "$m reports at least the kernel's drops ($reported >= $drops)" test "$reported" -ge "$drops"
	check "$m reports at least its sequence gaps ($reported >= $lost)" test "$reported" -ge "$lost"
	if ((drops > 0)); then
		check "the server was told $m's loss" test "$(mc_srv_rx "$m" pkts_lost)" -gt 0
	fi
	total=$((total + drops))
done
check "the kernel dropped datagrams on the receivers' sockets, and they counted them ($total)" \
	test "$total" -gt 0
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
log "rate control: $(grep -c 'rate down' "$T/srv.log") back-offs"
grep -E 'rate down' "$T/srv.log" | head -3 | sed 's/^/# /' || true
mc_finish
