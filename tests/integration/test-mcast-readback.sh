#!/bin/bash
# Issue 9: the read-back is a choice. By default a receiver's verdict is every
# chunk verified and written, then a successful fsync, and it does not read
# the disk back; a session started with `fleetcastd --readback` (ANNOUNCE flag)
# or a receiver run with `fleetcast-recv --readback` reads every stored region
# back after fsync for the check value. Both ways every disk is identical to
# `fleetcast image restore`, and the server's log says which verdict it got.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 240 "$@"
mc_init

READ='syncing and reading the disk back'
MATCH_READ='whole-disk check value matches the image \(disk read back\)'
NO_READ='syncing \(no read-back\)'

log "building a 64 MiB sample disk and its image"
mc_image sample 64 200

lab_create 2 || die "lab_create"

# shellcheck disable=SC2317 # called through check
# did_read_back MACHINE : its log says it read the disk back, and not the opposite.
did_read_back() {
	grep -q -- "$READ" "$T/$1.log" && grep -Eq -- "$MATCH_READ" "$T/$1.log" &&
		! grep -Eq -- "$NO_READ" "$T/$1.log"
}
# shellcheck disable=SC2317 # called through check
# did_not_read_back MACHINE : its log says it finished without the second pass.
did_not_read_back() {
	grep -Eq -- "$NO_READ" "$T/$1.log" && ! grep -q -- "$READ" "$T/$1.log" &&
		grep -q 'whole-disk check value matches the image (every chunk verified' "$T/$1.log"
}

log "session 1: fleetcastd --readback asks every receiver for the read-back"
mc_server -- --rate 200M --min-receivers 2 --max-wait 30 --readback
mc_recv m1
mc_recv m2
mc_wait_recvs 90 m1 m2
mc_wait_server 30
for m in m1 m2; do
	mc_check_recv "$m"
	check "$m read the disk back (the session's ANNOUNCE flag)" did_read_back "$m"
	assert_match "machine $m( \([^)]*\))?: done, disk verified \(read back after fsync" "$(cat "$T/srv.log")" \
		"the server log shows $m's read-back verdict"
	assert_eq readback "$(mc_srv_rx "$m" verdict)" "stats/API: $m's verdict"
done
assert_eq 0 "$SRV_RC" "session 1: fleetcastd exit code"

log "session 2: no --readback on the server; only m1 asks for it itself"
rm -f "$T/m1.img" "$T/m2.img"
mc_server -- --rate 200M --min-receivers 2 --max-wait 30
mc_recv m1 --readback
mc_recv m2
mc_wait_recvs 90 m1 m2
mc_wait_server 30
mc_check_recv m1
mc_check_recv m2
check "m1 read the disk back (fleetcast-recv --readback)" did_read_back m1
check "m2 did not read the disk back (the default)" did_not_read_back m2
assert_match "machine m1( \([^)]*\))?: done, disk verified \(read back after fsync" "$(cat "$T/srv.log")" \
	"the server log shows m1's read-back verdict"
assert_match "machine m2( \([^)]*\))?: done, disk verified \(every chunk checked before writing, synced; no read-back" \
	"$(cat "$T/srv.log")" "the server log shows m2's verdict without read-back"
assert_eq readback "$(mc_srv_rx m1 verdict)" "stats/API: m1's verdict"
assert_eq written "$(mc_srv_rx m2 verdict)" "stats/API: m2's verdict"
assert_eq 0 "$SRV_RC" "session 2: fleetcastd exit code"
mc_finish
