#!/bin/bash
# Issue 3: 50 receivers, 1% random loss into each, one multicast session of a
# small sample disk. Every target byte-identical to the reference restore;
# fleetcastd exits 0 with 50 receivers done; its counters show repair packets
# under 10% of data packets (erasure-coded repair: resending each lost packet
# would cost about 65%).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 420 "$@"
mc_init

N=50
# 20 Mbit/s: about what this kind of 2-core host can copy into 50 namespaces (see the
# issue's benchmark notes); MC50_RATE overrides it.
RATE=${MC50_RATE:-20M}
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300

lab_create "$N" || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)

mc_server -- --rate "$RATE" --min-receivers "$N" --max-wait 90 --verbose
log "session $SESSION; $N receivers with 1% loss, rate cap $RATE"
t0=$SECONDS
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_log "$T/srv.log" 'waiting -> sending' 90 || fail "the session started (all $N joined)"
t1=$SECONDS
mc_wait_recvs 240 "${MACHINES[@]}"
mc_wait_server 30
log "all joined in $((t1 - t0)) s; the session took $((SECONDS - t1)) s more"

for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
data=$(mc_srv_stat 'd["data_pkts"]')
repair=$(mc_srv_stat 'd["repair_pkts"]')
catchup=$(mc_srv_stat 'd["catchup_pkts"]')
fec=$(mc_srv_stat 'd["fec_pkts"]')
lost=$(mc_srv_stat 'sum(r["pkts_lost"] for r in d["receivers"])')
recvd=$(mc_srv_stat 'sum(r["pkts_received"] for r in d["receivers"])')
ratio=$(python3 -c "print('%.2f' % (100.0 * $repair / $data))" 2>/dev/null || echo none)
log "data_pkts $data, repair_pkts $repair ($ratio% of data), catchup_pkts $catchup, fec_pkts $fec"
log "receivers: $recvd packets received, $lost lost ($(python3 -c "print('%.2f' % (100.0 * $lost / ($lost + $recvd)))" 2>/dev/null)% loss)"
kdrops=$(mc_kdrops "${MACHINES[@]}")
check "repair packets $repair < 10% of data packets $data ($ratio%) + the receivers' socket drops $kdrops" \
	test "$((repair * 10))" -lt "$((${data:-0} + kdrops * 10))"
check "the receivers did lose packets ($lost)" test "${lost:-0}" -gt 0
assert_eq "$SRC_PKTS" "$data" "data_pkts is the image's source packets"
mc_finish
