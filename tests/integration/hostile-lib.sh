# shellcheck shell=bash
# Shared by the hostile-host tests of issue 8 (test-mcast-seqbomb, -spoof, -flood): a
# fault-free run and an attacked run of the same session in the same lab, and the figures
# they print. Source after lib.sh, mc_init and mc_image; the hostile host is
# tests/lab/hostile.py.

HOSTILE=$SRCDIR/tests/lab/hostile.py

# hl_reset : forget the previous run's targets, receiver stats and logs.
hl_reset() {
	local m
	for m in "$@"; do rm -f "$T/$m.img" "$T/$m.json" "$T/$m.log"; done
	rm -f "$T/srv.json"
}

# hl_srv_secs [STATS] : the session's duration as fleetcastd's stats give it.
hl_srv_secs() { mc_srv_stat 'round(d["seconds"], 1)' "${1:-}"; }

# hl_clean_run NAME MACHINES... : a fault-free session (server args in HL_SRV_ARGS), its stats
# kept in $T/NAME.json, its duration in CLEAN_SECS, its repair and data packets in CLEAN_REPAIR
# and CLEAN_DATA. With HL_LATE=MACHINE, that one starts once 20 % is written (the server needs
# --verbose). Every disk must be right.
hl_clean_run() {
	local name=$1 m
	shift
	hl_reset "$@" ${HL_LATE:-}
	mc_server "$name" -- "${HL_SRV_ARGS[@]}"
	log "fault-free run: session $SESSION"
	for m in "$@"; do mc_recv "$m"; done
	if [[ -n ${HL_LATE:-} ]]; then
		mc_wait_progress 20 60 "$T/$name.log" || fail "fault-free run: 20 % written within 60 s"
		mc_recv "$HL_LATE"
	fi
	mc_wait_recvs 150 "$@" ${HL_LATE:-}
	mc_wait_server 30
	for m in "$@" ${HL_LATE:-}; do mc_check_recv "$m"; done
	assert_eq 0 "$SRV_RC" "fault-free run: fleetcastd exit code"
	cp "$T/srv.json" "$T/$name.json"
	CLEAN_SECS=$(hl_srv_secs "$T/$name.json")
	CLEAN_REPAIR=$(mc_srv_stat 'd["repair_pkts"]' "$T/$name.json")
	CLEAN_DATA=$(mc_srv_stat 'd["data_pkts"]' "$T/$name.json")
	log "fault-free run: $CLEAN_SECS s, repair_pkts $CLEAN_REPAIR, data_pkts $CLEAN_DATA"
	hl_reset "$@" ${HL_LATE:-}
}

# hl_figures TEST MACHINES... : the figures of the attacked run (stats in $T/srv.json) against
# the fault-free one, as one line docs/benchmarks.md quotes:
#   figures: TEST disks right R/N, session S s vs fault-free C s (xRATIO), repair P / data D
#   packets (fault-free P0 / D0)
hl_figures() {
	local name=$1 m right=0 secs repair data
	shift
	for m in "$@"; do
		[[ ${MC_RC[$m]:-x} == 0 ]] && cmp -s "$T/$m.img" "$REF" && right=$((right + 1))
	done
	secs=$(hl_srv_secs)
	repair=$(mc_srv_stat 'd["repair_pkts"]')
	data=$(mc_srv_stat 'd["data_pkts"]')
	HL_SECS=$secs
	HL_REPAIR=$repair
	# Packets the receivers' own sockets dropped (a starved receiver on a loaded host): a loss
	# the attack did not cause, repaired like any other.
	HL_KDROPS=$(mc_kdrops "$@")
	echo "# figures: $name disks right $right/$#, session $secs s vs fault-free $CLEAN_SECS s" \
		"(x$(python3 -c "print('%.2f' % ($secs / max($CLEAN_SECS, 0.1)))")), repair $repair / data $data" \
		"packets (fault-free $CLEAN_REPAIR / $CLEAN_DATA), receivers' socket drops $HL_KDROPS"
}

# hl_within SECS LIMIT_FACTOR : SECS <= CLEAN_SECS * LIMIT_FACTOR + 8. The 8 s are the noise of
# a shared 2-core machine whose load changes between the two runs (a QEMU guest booting, a
# compiler): the session's end waits for every receiver's fsync and hashing. A session an
# attack stalls is held far longer (--drop-stall 40).
hl_within() {
	python3 -c 'import sys; s, c, f = map(float, sys.argv[1:]); sys.exit(0 if s <= c * f + 8 else 1)' \
		"$1" "$CLEAN_SECS" "$2"
}

# hl_checkval : the whole-disk check value the server expects (common/checkval.c): BLAKE2b-256
# over the chunks' raw hashes, each BLAKE2b-256 of the chunk's extents read from the reference
# restore, as any host that fetched the public manifest and knows the image could compute it.
hl_checkval() {
	"$FLEETCAST" image info "$IMG" --json --chunks --extents >"$T/info-ext.json" || return 1
	python3 - "$T/info-ext.json" "$REF" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
ext = d["extents"]
total = hashlib.blake2b(digest_size=32)
i = 0
with open(sys.argv[2], "rb") as f:
    for c in d["chunks"]:
        h = hashlib.blake2b(digest_size=32)
        for off, ln in ext[i:i + c["extents"]]:
            f.seek(off)
            h.update(f.read(ln))
        i += c["extents"]
        total.update(h.digest())
print(total.hexdigest())
EOF
}
