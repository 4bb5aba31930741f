#!/bin/bash
# Issue 3: a receiver whose target (an existing file) is smaller than the
# image's disk is refused: it exits 4 and leaves the file untouched, the server
# log names the machine and the sizes, and the other receivers finish with
# correct disks.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 180 "$@"
mc_init

log "building a 128 MiB sample disk and its image"
mc_image sample 128 300

lab_create 4 || die "lab_create"
lab_loss_all 1 || die "lab_loss_all"
GOOD=(m1 m2 m4)

# m3's target: 1 MiB short of the disk, full of a pattern.
small=$((DISK_SIZE - MIB))
yes 'fleetcast toosmall pattern 0123456789' | head -c "$small" >"$T/m3.img"
before=$(sha "$T/m3.img")

mc_server -- --rate 100M --min-receivers 3 --max-wait 60
log "session $SESSION; m3's target is $small bytes, the disk $DISK_SIZE"
mc_recv m3
for m in "${GOOD[@]}"; do mc_recv "$m"; done
mc_wait_recvs 120 m3 "${GOOD[@]}"
mc_wait_server 30

mc_check_recv m3 4
assert_eq "$before" "$(sha "$T/m3.img")" "m3's target is unchanged (sha256)"
assert_eq "$small" "$(fsize "$T/m3.img")" "m3's target keeps its size"
assert_match "machine m3( \([^)]*\))?: refused: target disk is" "$(cat "$T/srv.log")" \
	"the server log shows the refusal, naming m3"
assert_match "too small|smaller than" "$(cat "$T/m3.log")" "m3 says its target is too small"
for m in "${GOOD[@]}"; do mc_check_recv "$m"; done
assert_eq 0 "$SRV_RC" "fleetcastd exit code (the refused machine never joined)"
assert_eq 3 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
assert_eq MISSING "$(mc_srv_rx m3 status)" "stats: m3 is not a receiver of the session"
mc_finish
