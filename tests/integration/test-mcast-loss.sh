#!/bin/bash
# Issue 3: 10 receivers, 2% random loss into each, one multicast session of a
# multi-chunk image of the ext4 GPT disk of the image tests. The receivers find
# the server by multicast discovery. Every receiver exits 0 with a target
# byte-identical to `fleetcast image restore` of the image; fleetcastd exits 0
# and counts 10 receivers done.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 280 "$@"
mc_init

N=10
log "building the GPT test disk and its image"
mc_image gpt 300
((CHUNKS > 1)) || die "the image has $CHUNKS chunk(s); want several"

lab_create "$N" || die "lab_create"
lab_loss_all 2 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)

mc_server -- --rate 200M --min-receivers "$N" --max-wait 60 --verbose
log "session $SESSION; $N receivers with 2% loss, discovering the server"
# shellcheck disable=SC2034 # read by mc_recv (lib.sh)
MC_SERVER_OPT=() # no --server: multicast discovery
t0=$SECONDS
for m in "${MACHINES[@]}"; do mc_recv "$m"; done
mc_wait_recvs 180 "${MACHINES[@]}"
mc_wait_server 30
log "session took $((SECONDS - t0)) s"

for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code"
check "fleetcastd wrote its stats" is_json "$T/srv.json"
assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
assert_eq 0 "$(mc_srv_stat 'd["receivers_failed"] + d["receivers_dropped"]')" "stats: none failed or dropped"
assert_eq "$N" "$(mc_srv_stat 'sum(r["status"] == "done" for r in d["receivers"])')" \
	"stats: every receiver entry has status done"
lost=$(mc_srv_stat 'sum(r["pkts_lost"] for r in d["receivers"])')
data=$(mc_srv_stat 'd["data_pkts"]')
repair=$(mc_srv_stat 'd["repair_pkts"]')
log "data_pkts $data, repair_pkts $repair, receivers lost $lost packets in all"
check "the receivers did lose packets ($lost)" test "${lost:-0}" -gt 0
check "repairs were sent ($repair)" test "${repair:-0}" -gt 0
assert_eq "$SRC_PKTS" "$data" "data_pkts is the image's source packets"
mc_finish
