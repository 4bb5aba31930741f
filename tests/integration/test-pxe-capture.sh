#!/bin/bash
# Issue 12: a machine captured over the network from PXE. A QEMU VM (TCG, BIOS, e1000) whose
# disk is the sample master disk network-boots; fleetcastd --daemon --tftp-root has a capture
# armed for its MAC (`fleetcast capture create`), so its pxelinux.cfg/01-<mac> boots the
# initramfs with fleetcast.mode=capture; pxe/init runs fleetcast-recv --capture of /dev/sda to
# fleetcast.server=, then powers off (pxe build --after poweroff). Checks: the VM powers off by
# itself and its console says the capture is done; the uploaded image verifies with the
# server's capture key and restores byte-identical to what `fleetcast image create` makes of
# the same disk file; the machine's boot file now boots its local disk; the capture is done.
# 79 s at low load (pxe build 14 s, PXE boot and capture 38 s). Serial logs and the server's
# are kept in meson-logs/test-pxe-capture/ on failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 1500 "$@"
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
# shellcheck source=pxe-lib.sh
. "$(dirname "$0")/pxe-lib.sh"

for t in qemu-system-x86_64 dnsmasq in.tftpd; do
	command -v "$t" >/dev/null || die "missing $t: run scripts/install-deps.sh"
done
[[ -f /usr/lib/PXELINUX/pxelinux.0 ]] || die "missing pxelinux: run scripts/install-deps.sh"

SRV_ADDR=10.77.0.1
ACCEL=tcg
declare -A MAC=([cap1]=52:54:00:fc:0c:01)
OUT=$T/captured.fcimg

KERNEL=$(pick_kernel)
log "kernel $KERNEL; a 48 MiB sample master disk and its image made locally (the reference)"
mc_image sample 48 100

TFTP=$T/tftp
t0=$SECONDS
assert_exit 0 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --key "$PUB" --server "$SRV_ADDR" \
	--after poweroff --append "fleetcast.failwait=5 fleetcast.wait=300"
log "pxe build took $((SECONDS - t0)) s"

lab_create 0 || die "lab_create"
pxe_services "$TFTP" # dnsmasq (DHCP only) and in.tftpd in srv (pxe-lib.sh)
con_daemon --tftp-root "$TFTP" --capture-dir "$T" # captures are written only there
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"

run fc_srv capture create --mac "${MAC[cap1]}" --out "$(basename "$OUT")"
assert_eq 0 "$RC" "capture create"
BOOTFILE=$TFTP/pxelinux.cfg/01-${MAC[cap1]//:/-}
check "its boot file starts the initramfs in capture mode" grep -q 'fleetcast.mode=capture' "$BOOTFILE"

VM_LIMIT=1100
t1=$SECONDS
vm_start cap1 n "$T/disk.raw"
status_loop cap1 &
STATUS_PID=$!
vm_wait "$VM_LIMIT" cap1
kill "$STATUS_PID" 2>/dev/null
wait "$STATUS_PID" 2>/dev/null
log "PXE boot and capture took $((SECONDS - t1)) s"

out=$(console cap1)
assert_eq 0 "${VM_RC[cap1]}" "cap1: QEMU ended by itself (power off), not killed"
assert_match 'capture of /dev/sda done: the server verified and signed the image' "$out" \
	"cap1: its console says the capture is done"
check "the image is there" test -s "$OUT"
run "$FLEETCAST" image verify "$OUT" --pubkey "$FLEETCAST_HOME/capture.pub"
assert_eq 0 "$RC" "the image verifies with the server's capture key"
run "$FLEETCAST" image restore "$OUT" "$T/captured.img" --pubkey "$FLEETCAST_HOME/capture.pub"
assert_eq 0 "$RC" "restore of the captured image"
check "restored byte-identical to the local image create's restore" cmp -s "$REF" "$T/captured.img"
assert_match 'LOCALBOOT 0' "$(cat "$BOOTFILE" 2>&1)" "cap1: its boot file now boots the local disk"
req GET /api/v1/captures "" "$VIEWER"
check_json "d['captures'][0]['state'] == 'done'" "the capture shows done"

mc_finish
