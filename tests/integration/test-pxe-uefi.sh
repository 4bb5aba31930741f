#!/bin/bash
# Issue 11: UEFI machines with Secure Boot on PXE-boot Debian's signed chain (shim -> GRUB's
# signed network image -> Debian's signed kernel -> the fleetcast initramfs) and are imaged in
# the same session as a BIOS machine; then they boot their new disk with Secure Boot still on.
# QEMU under TCG only (-accel tcg), in the test's own namespaces (tests/lab/lab.sh), with
# dnsmasq handing out the boot file by client architecture (option 93: 7/9 shimx64.efi, else
# pxelinux.0), in.tftpd serving the root `fleetcast pxe build` made, fleetcastd --tftp-root.
#
#   master   a GPT disk made here (mkfs.vfat + mtools, nothing mounted): an EFI system
#            partition with signed shim as \EFI\BOOT\BOOTX64.EFI, signed GRUB beside it
#            (grubx64.efi) and a grub.cfg that prints FLEETCAST-UEFI-CLONE-OK and GRUB's
#            lockdown state (lockdown=y: the firmware said Secure Boot is on) and halts;
#            a partition of random data
#   phase 1  uefi1, uefi2 (q35, OVMF_CODE_4M.secboot.fd + a copy of OVMF_VARS_4M.ms.fd:
#            Microsoft's keys enrolled, SMM on; virtio-net with OVMF's own PXE) and bios1
#            (pc, e1000, pxelinux) network-boot and are imaged in one session; checks: the
#            UEFI consoles show shim fetching grubx64.efi and the kernel saying "Kernel is
#            locked down from EFI Secure Boot" (the firmware's state, no mokutil); every disk
#            equals a fresh `fleetcast image restore`; fleetcastd wrote both per-MAC files
#            (pxelinux.cfg/01-<mac>, grub/grub.cfg-01-<mac>) saying boot the local disk
#   phase 2  uefi1 boots its disk alone (no NIC): shim -> GRUB -> the marker, lockdown=y;
#            uefi2 network-boots again, NIC first: its GRUB file chainloads its disk's shim
#            (marker, lockdown=y) and it is not imaged again
# Time on 2 cores shared with other work (TCG, load average 18-24): 455-511 s (pxe build 70-83 s,
# phase 1 296-346 s, phase 2 58-74 s); 157 s at load 3. Serial logs, the server's, DHCP and TFTP
# logs and the boot files are kept in meson-logs/test-pxe-uefi/ on failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 1750 "$@"
mc_init
# shellcheck source=pxe-lib.sh
. "$(dirname "$0")/pxe-lib.sh"

OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
SHIM=/usr/lib/shim/shimx64.efi.signed
GRUB=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
for t in qemu-system-x86_64 dnsmasq in.tftpd mcopy mmd mkfs.vfat sfdisk; do
	command -v "$t" >/dev/null || die "missing $t: run scripts/install-deps.sh"
done
for f in "$OVMF_CODE" "$OVMF_VARS" "$SHIM" "$GRUB"; do
	[[ -f $f ]] || die "missing $f: run scripts/install-deps.sh (ovmf, shim-signed, grub-efi-amd64-signed)"
done

DISK_MIB=40
SRV_ADDR=10.77.0.1
ACCEL=tcg
declare -A MAC=([uefi1]=52:54:00:fc:0b:01 [uefi2]=52:54:00:fc:0b:02 [bios1]=52:54:00:fc:0b:03)
UEFI=(uefi1 uefi2)
ALL=(uefi1 uefi2 bios1)
MARKER="FLEETCAST-UEFI-CLONE-OK"

# make_master DISK: the GPT disk of the top of this file.
make_master() {
	local disk=$1 esp="$1@@1M"
	rm -f "$disk"
	truncate -s "${DISK_MIB}M" "$disk"
	must sfdisk -q "$disk" <<-'EOF'
		label: gpt
		start=1MiB, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP
		start=17MiB, size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data
	EOF
	must mkfs.vfat -F 16 -n FCESP --offset 2048 "$disk" $((16 * 1024))
	must mmd -i "$esp" ::/EFI ::/EFI/BOOT
	must mcopy -i "$esp" "$SHIM" ::/EFI/BOOT/BOOTX64.EFI
	must mcopy -i "$esp" "$GRUB" ::/EFI/BOOT/grubx64.efi
	# Debian's GRUB reads $cmdpath/grub.cfg when there is no /EFI/debian; $lockdown is "y"
	# when the firmware runs with Secure Boot on.
	# shellcheck disable=SC2016 # $lockdown is GRUB's
	printf 'echo "%s lockdown=$lockdown"\nhalt\n' "$MARKER" >"$T/esp-grub.cfg"
	must mcopy -i "$esp" "$T/esp-grub.cfg" ::/EFI/BOOT/grub.cfg
	garbage "$disk" $((17 * MIB)) $((4 * MIB))
}

# uefi_start NAME TAP DISK: a Secure Boot q35 VM (serial $T/NAME.serial.log). TAP: a new tap
# port of the lab's switch for its NIC, first in the boot order, the disk second; -: no NIC.
uefi_start() {
	local name=$1 tap=$2
	# shellcheck disable=SC2054 # QEMU's commas
	local -a args=(-accel tcg -machine q35,smm=on
		-global driver=cfi.pflash01,property=secure,value=on
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$T/$name.vars.fd"
		-m 512 -smp 1 -display none -monitor none -no-reboot -serial "file:$T/$name.serial.log"
		-drive "file=$3,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0,bootindex=2)
	cp "$OVMF_VARS" "$T/$name.vars.fd"
	if [[ $tap != - ]]; then
		lab_tap "$tap" || die "lab_tap $tap"
		args+=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
			-device "virtio-net-pci,netdev=n0,mac=${MAC[$name]},romfile=,bootindex=1")
	else
		args+=(-nic none)
	fi
	VM_PID[$name]=$(lab_bg sw "$T/$name.qemu.log" timeout -k 5 "$VM_LIMIT" \
		qemu-system-x86_64 "${args[@]}") || die "cannot start $name"
}

# ---------------------------------------------------------------------------- set up

KERNEL=$(pick_kernel)
log "kernel $KERNEL"
make_master "$T/master.raw"
IMG=$T/master.fcimg PUB=$T/key.pub REF=$T/ref.img
must "$FLEETCAST" key gen --out "$T/key"
must "$FLEETCAST" image create "$T/master.raw" "$IMG" --key "$T/key.key" --quiet
must "$FLEETCAST" image restore "$IMG" "$REF" --pubkey "$PUB" --quiet
log "master: ${DISK_MIB} MiB GPT disk, image $(fsize "$IMG") bytes"

TFTP=$T/tftp
t0=$SECONDS
# loglevel=6 after `quiet`: the kernel's notice that it is locked down reaches the console.
assert_exit 0 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --key "$PUB" --after poweroff \
	--append "loglevel=6 fleetcast.failwait=5 fleetcast.wait=300"
cp "$T/out" "$T/pxe-build.log"
check "pxe build: no 'not signed' warning for Debian's kernel" eval "! grep -q 'is not signed' '$T/err'"
log "pxe build took $((SECONDS - t0)) s"
for f in pxelinux.0 pxelinux.cfg/default shimx64.efi grubx64.efi grub/grub.cfg vmlinuz \
	initramfs.img; do
	[[ -s $TFTP/$f ]] || fail "pxe build made $f"
done
check "shimx64.efi is shim-signed's, unchanged" cmp -s "$SHIM" "$TFTP/shimx64.efi"
check "grubx64.efi is GRUB's signed network image" \
	cmp -s /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed "$TFTP/grubx64.efi"
check "vmlinuz is Debian's signed kernel, unchanged" cmp -s "$KERNEL" "$TFTP/vmlinuz"
menu=$(cat "$TFTP/grub/grub.cfg")
# shellcheck disable=SC2016 # GRUB's variables, as written
assert_match 'configfile "\$fc_mine"' "$menu" "grub.cfg hands a machine to its own file first"
pxe_args=$(sed -n 's/^ *APPEND //p' "$TFTP/pxelinux.cfg/default" | head -n 1)
grub_args=$(sed -n "s/^ *linux \/vmlinuz //p" "$TFTP/grub/grub.cfg" | tr -d "'")
assert_eq "$pxe_args" "$grub_args" "GRUB and pxelinux menus: the same kernel command line"

lab_create 0 || die "lab_create"
lab_bg srv "$T/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root \
	--interface=eth0 --bind-interfaces --dhcp-range=10.77.1.100,10.77.1.200,255.255.254.0,1h \
	--dhcp-match=set:efi64,option:client-arch,7 --dhcp-match=set:efi64,option:client-arch,9 \
	--dhcp-boot=tag:efi64,shimx64.efi,fcsrv,$SRV_ADDR \
	--dhcp-boot=tag:!efi64,pxelinux.0,fcsrv,$SRV_ADDR \
	--dhcp-leasefile="$T/leases" --log-dhcp >/dev/null || die "cannot start dnsmasq"
lab_bg srv "$T/tftpd.log" in.tftpd -L -u root -v -s "$TFTP" -a "$SRV_ADDR:69" >/dev/null ||
	die "cannot start in.tftpd"
mc_server -- --min-receivers 3 --max-wait 900 --rate 20M --drop-silent 90 \
	--tftp-root "$TFTP" --verbose

# ---------------------------------------------------------------------------- phase 1

VM_LIMIT=1100
for vm in "${ALL[@]}"; do truncate -s "${DISK_MIB}M" "$T/$vm.disk"; done
t1=$SECONDS
for vm in "${UEFI[@]}"; do uefi_start "$vm" "$vm" "$T/$vm.disk"; done
vm_start bios1 n "$T/bios1.disk"
vms_wait_imaged "$VM_LIMIT" "${ALL[@]}"
log "phase 1 (PXE boot and imaging, 2 UEFI + 1 BIOS) took $((SECONDS - t1)) s"

for vm in "${ALL[@]}"; do
	out=$(console "$vm")
	assert_eq 0 "${VM_RC[$vm]}" "$vm: QEMU ended by itself (power off), not killed"
	assert_match 'fleetcast: DONE: /dev/[a-z]+ written and verified' "$out" "$vm: console says DONE"
	check "$vm: disk identical to a fresh restore" cmp -s "$T/$vm.disk" "$REF"
	check "$vm: fleetcast image compare" quiet "$FLEETCAST" image compare "$IMG" "$T/$vm.disk"
	f=$TFTP/pxelinux.cfg/01-${MAC[$vm]//:/-}
	assert_match 'LOCALBOOT 0' "$(cat "$f" 2>&1)" "$vm: fleetcastd's ${f##*/} boots the local disk"
	f=$TFTP/grub/grub.cfg-01-${MAC[$vm]//:/-}
	g=$(cat "$f" 2>&1)
	assert_match '^# fleetcastd: machine .*: local \(imaged by session' "$(head -n 1 "$f" 2>&1)" \
		"$vm: grub/${f##*/} written by fleetcastd"
	assert_match '^set default=local$' "$g" "$vm: grub/${f##*/} boots the local disk by default"
	assert_match '^set timeout=0$' "$g" "$vm: grub/${f##*/} without waiting"
	# shellcheck disable=SC2016 # GRUB's variable, as written
	assert_match 'chainloader \$f' "$g" "$vm: grub/${f##*/} chainloads the disk's boot loader"
done
for vm in "${UEFI[@]}"; do
	out=$(console "$vm")
	assert_match 'NBP filename is shimx64.efi' "$out" "$vm: OVMF got shimx64.efi (client-arch 7)"
	assert_match 'Fetching Netboot Image grubx64.efi' "$out" "$vm: shim fetched grubx64.efi"
	assert_match 'fleetcast: loading the kernel and the initramfs' "$out" "$vm: GRUB ran the menu"
	assert_match 'Kernel is locked down from EFI Secure Boot' "$out" \
		"$vm: the kernel booted with Secure Boot on (locked down)"
done
out=$(console bios1)
assert_match 'PXELINUX 6' "$out" "bios1: booted pxelinux.0 (client-arch 0)"
check "bios1: not in Secure Boot" eval "! grep -aq 'locked down from EFI' '$T/bios1.serial.log'"
assert_eq 0 "$SRV_RC" "fleetcastd exit code (every receiver done)"
assert_eq 3 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done (2 UEFI + 1 BIOS)"

# ---------------------------------------------------------------------------- phase 2

VM_LIMIT=600
for vm in "${UEFI[@]}"; do mv "$T/$vm.serial.log" "$T/$vm.pxe.serial.log"; done
t2=$SECONDS
uefi_start uefi1 - "$T/uefi1.disk"
uefi_start uefi2 uefi2again "$T/uefi2.disk"
vm_wait "$VM_LIMIT" "${UEFI[@]}"
log "phase 2 (boot the clones: disk alone, and network first) took $((SECONDS - t2)) s"
for vm in "${UEFI[@]}"; do
	assert_eq 0 "${VM_RC[$vm]}" "$vm: QEMU ended by itself (GRUB's halt), not killed"
	assert_match "$MARKER lockdown=y" "$(console "$vm")" \
		"$vm: its cloned disk boots shim -> GRUB with Secure Boot on"
done
out=$(console uefi2)
assert_match 'Fetching Netboot Image grubx64.efi' "$out" "uefi2: network-booted first"
assert_match 'fleetcast: booting the local disk: \(hd[0-9],gpt1\)/EFI/BOOT/BOOTX64.EFI' "$out" \
	"uefi2: its GRUB file sent it to the local disk"
check "uefi2: not imaged again" eval "! console uefi2 | grep -aq 'fleetcast: loading the kernel'"

mc_finish
