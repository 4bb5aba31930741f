#!/bin/bash
# Issue 8: spoofed control packets. A host on the LAN (tests/lab/hostile.py control) learns the
# session from ANNOUNCE and the receivers' ids and addresses from their NAKs to the group (half a
# second cut early in the pass makes sure they ask), then,
# from 20 % of the session on, five times a second apart:
#   * for every receiver: a DONE with the image's right whole-disk check value (computed here as
#     the server does, common/checkval.c, from the public manifest's chunks), a PROGRESS with a
#     huge seq saying "done, nothing lost", and an ABORT, all with the receiver's own source
#     address and port (a raw socket, IP_HDRINCL: any host on a LAN without source-address
#     filtering can do the same), to the server's control port;
#   * ABORTs with the server's address and control port as source, sprayed over each receiver's
#     ports: the ports seen in its NAKs plus those a sniffer on the path would see (read here
#     with ss in the machines' namespaces), each +-200;
#   * JOINs named after the victim m1's MAC, from m1's address (spoofed) and from its own.
# And the same host runs a real fleetcast-recv named after m1's MAC: it joins and finishes for
# real, from its own address.
# Asserted: no machine is marked done or failed by the forgeries (server stats, log); the
# forgeries were counted as authentication failures; a pxelinux.cfg/01-<mac> file of a machine
# (fleetcastd --tftp-root) never appears before that machine's own receiver has checked its disk
# (the directory is polled every 0.1 s during the session), m1's file is never written for the
# impostor; every disk right; session time within 1.5x (+8 s) of a fault-free run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 270 "$@"
mc_init
# shellcheck source=hostile-lib.sh
. "$IT_DIR/hostile-lib.sh"

N=4
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 8 / 1000000))M # a pass of about 8 s
CHECK=$(hl_checkval) || die "cannot compute the check value"
log "whole-disk check value $CHECK"

lab_create "$N" || die "lab_create"
lab_add evil 10.77.0.66 || die "lab_add evil"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)
TFTP=$T/tftp
mkdir -p "$TFTP/pxelinux.cfg"
declare -A MAC_OF=()
for m in "${MACHINES[@]}" evil; do
	MAC_OF[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address | tr ':' '-')
done
VICTIM=m1
VICTIM_MAC=$(lab_exec "$VICTIM" cat /sys/class/net/eth0/address)
log "victim $VICTIM, MAC $VICTIM_MAC; evil's MAC ${MAC_OF[evil]}"
HL_SRV_ARGS=(--rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-stall 40 --verbose
	--tftp-root "$TFTP")

hl_clean_run clean "${MACHINES[@]}"
rm -f "$TFTP"/pxelinux.cfg/01-*

HL_SRV_ARGS=(--rate "$RATE" --min-receivers $((N + 1)) --max-wait 60 --drop-stall 40 --verbose
	--tftp-root "$TFTP")
mc_server -- "${HL_SRV_ARGS[@]}"
log "attacked run: session $SESSION"
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_recv evil --name "$VICTIM_MAC"
mc_wait_log "$T/srv.log" "machine $VICTIM .*joined as receiver" 30 || fail "$VICTIM joined"
sleep 1
ports=()
for m in "${MACHINES[@]}"; do
	addr=$(lab_addr "$m")
	while read -r p; do ports+=("$addr:$p"); done < <(lab_exec "$m" ss -Huan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
done
PORTS=$(
	IFS=,
	echo "${ports[*]}"
)
log "receivers' UDP ports (as a sniffer sees them): $PORTS"
EVIL_PID=$(lab_bg evil "$T/hostile.log" "$LAB_PYTHON" "$HOSTILE" control --server 10.77.0.1:7650 \
	--info "$T/info.json" --at 0.2 --check "$CHECK" --rounds 5 --ports "$PORTS" --spray 200 \
	--victim-ip "$(lab_addr "$VICTIM")" --victim-name "$VICTIM_MAC" --duration 150 --idle 4 --seed 9) ||
	die "cannot start hostile.py"
# Adaptive parity repairs 1 % loss with next to no NAK, and hostile.py learns the receivers
# from their NAKs: half a second of lost packets, early in the pass, makes every receiver ask.
mc_wait_log "$T/srv.log" 'waiting -> sending' 30 || fail "the attacked session started"
sleep 1
lab_cut all on
sleep 0.5
lab_cut all off

# Poll the boot files while the receivers run: a file for machine M may only appear once M's own
# receiver has checked its disk.
declare -A SEEN=()
early=()
end=$((SECONDS + 150))
while ((SECONDS < end)); do
	left=0
	for m in "${MACHINES[@]}" evil; do [[ -s $LAB_DIR/rc.${MC_PID[$m]} ]] || left=1; done
	for m in "${MACHINES[@]}" evil; do
		f=$TFTP/pxelinux.cfg/01-${MAC_OF[$m]}
		[[ -z ${SEEN[$m]:-} && -e $f ]] || continue
		SEEN[$m]=$SECONDS
		grep -q 'whole-disk check value matches' "$T/$m.log" || early+=("$m")
	done
	((left)) || break
	sleep 0.1
done
mc_wait_recvs 10 "${MACHINES[@]}" evil
mc_wait_server 30
rc=0
lab_wait "$EVIL_PID" 20 || rc=$?
assert_eq 0 "$rc" "hostile.py ran to the end"
counts=$(tail -1 "$T/hostile.log")
log "hostile.py: $counts"
jc() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$counts" "$1" 2>/dev/null || echo 0; }
learnt=$(jc receivers_learnt)
check "hostile.py learnt receivers from their NAKs ($learnt)" test "$learnt" -gt 0
for k in done progress abort_to_server abort_sprayed join_victim; do
	v=$(jc "$k")
	check "hostile.py sent $k packets ($v)" test "$v" -gt 0
done

assert_eq "" "${early[*]}" "no 01-<mac> file before that machine's own disk check"
for m in "${MACHINES[@]}" evil; do
	check "01-${MAC_OF[$m]} written for $m at the end" test -e "$TFTP/pxelinux.cfg/01-${MAC_OF[$m]}"
done
assert_match "as machine $VICTIM, " "$(head -3 "$TFTP/pxelinux.cfg/01-${MAC_OF[$VICTIM]}")" \
	"$VICTIM's boot file names $VICTIM, not the impostor"
assert_match "as machine $VICTIM_MAC, " "$(head -3 "$TFTP/pxelinux.cfg/01-${MAC_OF[evil]}")" \
	"the impostor's boot file is under its own MAC"

for m in "${MACHINES[@]}" evil; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_eq $((N + 1)) "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
assert_eq 0 "$(mc_srv_stat 'd["receivers_failed"] + d["receivers_dropped"]')" "stats: none failed or dropped"
check "no FAILED or DROPPED in the server log" bash -c "! grep -Eq 'FAILED|DROPPED' '$T/srv.log'"
af=$(mc_srv_stat 'd.get("auth_fail", "none")')
log "server: auth_fail $af, rejects $(mc_srv_stat 'd["rejects"]'), joins_refused $(mc_srv_stat 'd.get("joins_refused")')"
check "the server counted the forgeries as authentication failures ($af)" test "${af//none/0}" -gt 0
rej=0
for m in "${MACHINES[@]}"; do
	r=$(mc_rx_stat "$m" 'd["rejects"]')
	rej=$((rej + ${r//none/0}))
done
check "the receivers rejected the sprayed ABORTs (sum of rejects $rej > 0)" test "$rej" -gt 0
hl_figures spoof "${MACHINES[@]}" evil
check "session time $HL_SECS s within 1.5x (+8 s) of the fault-free $CLEAN_SECS s" hl_within "$HL_SECS" 1.5
mc_finish
