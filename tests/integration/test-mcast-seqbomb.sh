#!/bin/bash
# Issue 8: one DATA packet with a far-future sequence number. A host on the LAN follows the
# stream on the group (anyone may join it), and halfway through the session sends ONE DATA
# packet whose header is right in every way (session id, a chunk, block, index, k and length
# that fit the cut) but whose seq is 1,000,000 ahead of the stream, with the server's source
# address and port (tests/lab/hostile.py seqbomb: a raw socket, IP_HDRINCL; any host on a LAN
# without source-address filtering can do the same). Under wire v1 this one packet credited
# ~1 M lost packets to every receiver and the server dropped them all.
# A second attacked run sends a pair 60,000 ahead, the second packet confirming the jump.
# Asserted, each time: no receiver dropped or failed, no receiver reports the jump as loss,
# every disk byte-identical to the reference restore, and the session time within 1.5x (+8 s)
# of a fault-free run of the same session in the same lab, measured first.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 330 "$@"
mc_init
# shellcheck source=hostile-lib.sh
. "$IT_DIR/hostile-lib.sh"

N=5
log "building a 128 MiB sample disk and its image"
mc_image sample 128 300
RATE=$(($(fsize "$IMG") * 8 / 8 / 1000000))M # a pass of about 8 s

lab_create "$N" || die "lab_create"
lab_add evil 10.77.0.66 || die "lab_add evil"
lab_loss_all 1 || die "lab_loss_all"
mapfile -t MACHINES < <(lab_machines)
HL_SRV_ARGS=(--rate "$RATE" --min-receivers "$N" --max-wait 60 --drop-stall 40 --verbose)

hl_clean_run clean "${MACHINES[@]}"

# attacked LABEL JUMP COUNT : a run of the same session with COUNT consecutive forged DATA
# packets JUMP ahead of the stream, then every check.
attacked() {
	local label=$1 jump=$2 count=$3 m rc counts at lost clean_lost
	hl_reset "${MACHINES[@]}"
	mc_server "$label" -- "${HL_SRV_ARGS[@]}"
	log "$label: session $SESSION, $count forged DATA +$jump"
	EVIL_PID=$(lab_bg evil "$T/$label-evil.log" "$LAB_PYTHON" "$HOSTILE" seqbomb \
		--server 10.77.0.1:7650 --info "$T/info.json" --at 0.5 --jump "$jump" --count "$count" \
		--duration 150 --idle 4 --seed 8) || die "cannot start hostile.py"
	mc_wait_log "$T/$label-evil.log" '^hostile: session' 25 || fail "$label: hostile.py learned the session"
	for m in "${MACHINES[@]}"; do mc_recv "$m"; done
	mc_wait_recvs 150 "${MACHINES[@]}"
	mc_wait_server 30
	rc=0
	lab_wait "$EVIL_PID" 20 || rc=$?
	assert_eq 0 "$rc" "$label: hostile.py ran to the end"
	counts=$(tail -1 "$T/$label-evil.log")
	log "$label: hostile.py: $counts"
	assert_eq "$count" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("bombs", 0))' "$counts" 2>/dev/null)" \
		"$label: hostile.py sent $count far-future DATA, spoofed from the server"
	at=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("at_chunk", -1))' "$counts" 2>/dev/null)
	check "$label: it went out mid-session (chunk $at of $CHUNKS)" test "${at:--1}" -ge $((CHUNKS / 3))
	for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
	assert_eq 0 "$SRV_RC" "$label: fleetcastd exit code"
	assert_eq "$N" "$(mc_srv_stat 'd["receivers_done"]')" "$label: stats: receivers_done"
	assert_eq 0 "$(mc_srv_stat 'd["receivers_failed"] + d["receivers_dropped"]')" "$label: stats: none failed or dropped"
	check "$label: no receiver was dropped (server log)" bash -c "! grep -q 'DROPPED' '$T/$label.log'"
	lost=$(mc_srv_stat 'max(r["pkts_lost"] for r in d["receivers"])')
	clean_lost=$(mc_srv_stat 'max(r["pkts_lost"] for r in d["receivers"])' "$T/clean.json")
	log "$label: most lost packets a receiver reported: $lost (fault-free run: $clean_lost)"
	check "$label: no receiver reports the jump as loss ($lost < $clean_lost + 4096 + 1000)" \
		test "${lost:-0}" -lt $((clean_lost + 4096 + 1000))
	hl_figures "$label" "${MACHINES[@]}"
	check "$label: session time $HL_SECS s within 1.5x (+8 s) of the fault-free $CLEAN_SECS s" \
		hl_within "$HL_SECS" 1.5
}

# The issue's case: one packet a million ahead. Then a pair 60000 ahead, the second confirming
# the first as a receiver confirms a real long cut or a restarted server: the next real packet,
# far behind, must undo it.
attacked seqbomb 1000000 1
attacked seqpair 60000 2
mc_finish
