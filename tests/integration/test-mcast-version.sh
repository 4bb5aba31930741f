#!/bin/bash
# Issue 9 (session 6): a peer of another wire version is told, by name, not silently ignored
# (docs/protocol.md, "Versioning"). A JOIN and a DISCOVER of version 2 sent to fleetcastd
# (version 3) each get a version refusal, the server's 14-byte header with its version, and
# the server logs the refusal naming both versions. A fleetcast-recv whose server answers
# with a version-4 refusal stops with exit 7, naming both versions.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 200 "$@"
mc_init

PEER="$IT_DIR/version_peer.py"
log "building a 64 MiB sample disk and its image"
mc_image sample 64 200
lab_create 2 || die "lab_create"
mc_server -- --min-receivers 1

M1=$(lab_addr m1)
M1_RE=${M1//./\\.}
ask() { lab_exec m1 python3 "$PEER" ask 10.77.0.1:7650 "$1" 2; }
answer=$(ask join)
log "JOIN v2 answered with $answer"
assert_eq 14 "$(jget <(echo "$answer") "d.get('len')")" "the refusal is the header alone"
assert_eq 3 "$(jget <(echo "$answer") "d.get('version')")" "it carries the server's version"
assert_eq 4 "$(jget <(echo "$answer") "d.get('type')")" "a JOIN is answered as by JOIN_ACK"
mc_wait_log "$T/srv.log" \
	"JOIN from $M1_RE:[0-9]+ speaks wire protocol version 2, this fleetcastd version 3: refused" 5 ||
	fail "the server log names the JOIN's version and its own"
sleep 1.2 # one line a second at most
answer=$(ask discover)
log "DISCOVER v2 answered with $answer"
assert_eq 14 "$(jget <(echo "$answer") "d.get('len')")" "the refusal to a DISCOVER is the header alone"
assert_eq 2 "$(jget <(echo "$answer") "d.get('type')")" "a DISCOVER is answered as by ANNOUNCE"
mc_wait_log "$T/srv.log" "DISCOVER from $M1_RE:[0-9]+ speaks wire protocol version 2" 5 ||
	fail "the server log names the DISCOVER's version"
kill -INT "$SRV_PID"
mc_wait_server 20

log "a server of version 4 (version_peer.py in m2) answers the receiver in m1"
M2=$(lab_addr m2)
PEER_PID=$(lab_bg m2 "$T/peer.log" python3 "$PEER" serve 7650 4 30) || die "version_peer.py serve"
sleep 0.5
rc=0
lab_exec m1 timeout 60 "$FLEETCAST_RECV" --target "$T/m1.img" --server "$M2" --pubkey "$PUB" \
	--name m1 --discover-timeout 20 >"$T/m1.log" 2>&1 || rc=$?
assert_eq 7 "$rc" "fleetcast-recv's exit status (refused)"
assert_match "fleetcastd at $M2 speaks wire protocol version 4, this fleetcast-recv version 3: refused" \
	"$(cat "$T/m1.log")" "the receiver names both versions"
check "nothing was written to the target" test ! -s "$T/m1.img"
lab_kill "$PEER_PID" 2>/dev/null || true
mc_finish
