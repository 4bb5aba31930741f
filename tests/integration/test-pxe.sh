#!/bin/bash
# Issue 4: bare machines PXE-boot into fleetcast-recv, are imaged in one multicast session, and
# then boot the system they received. Real QEMU VMs (KVM if a short boot probe works, else TCG)
# on a tap bridge inside the test's own namespaces (tests/lab/lab.sh): dnsmasq (DHCP only) and
# in.tftpd serving the TFTP root `fleetcast pxe build` made, and fleetcastd --tftp-root, in srv.
#
#   master   an MBR disk made here: syslinux on a FAT partition booting the Debian kernel and a
#            tiny initramfs whose /init mounts the ext4 root partition (hostname "master", a
#            machine-id, SSH host keys), prints its host name and machine-id (making one when
#            it is empty, as systemd does at first boot) and FLEETCAST-CLONE-OK on ttyS0 and
#            powers off; and a partition of random data; captured with `fleetcast image create`
#   phase 1  vm1..vm3 (blank disks, e1000, network boot first) image themselves in one session
#            (--min-receivers 3, --names: pc-vm1..3 by MAC) and power off; vm2 has its own
#            entry (pxe build --machine: fleetcast.disk=/dev/sda); vm4, whose disk is too
#            small, fails cleanly
#   checks   every disk equals a fresh `fleetcast image restore` outside its root partition,
#            whose identity was set (debugfs: its host name, an empty machine-id, no SSH host
#            keys); three pxelinux.cfg/01-<mac> say LOCALBOOT; the stats say three done; vm4
#            was refused by the server, said why on its console, did not reboot, disk untouched
#   phase 2  vm1..vm3 boot their own disk (no network) and print the marker with three
#            different host names (the names list's) and machine-ids; a copy of vm1's
#            disk network-boots and its 01-<mac> file sends it to the local disk (marker
#            again); vm5 with two disks large enough refuses to guess and reports to a second
#            fleetcastd session (fleetcast-recv --probe and --report-failure)
#   reset    fleetcastd --daemon takes the machines' actions from the files the one-shot
#            servers wrote; `fleetcast pxe reset` sets them back to deploy through it: their
#            files go, a file fleetcast did not write is left alone; vm2's gets its
#            own imaging entry back
# Serial logs of every VM are kept in the meson log dir (meson-logs/test-pxe/) on failure
# (tests/integration/pxe-lib.sh: the VM helpers shared by the PXE tests).
# Environment: FC_PXE_ACCEL=kvm|tcg forces the accelerator.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 1450 "$@"
mc_init
# shellcheck source=pxe-lib.sh
. "$(dirname "$0")/pxe-lib.sh"
unset FC_INITRAMFS_ZSTD_LEVEL # pxe build's own level (-19), the one a site gets

for t in qemu-system-x86_64 dnsmasq in.tftpd syslinux mcopy mkfs.vfat sfdisk cpio busybox; do
	command -v "$t" >/dev/null || die "missing $t: run scripts/install-deps.sh"
done
[[ -f /usr/lib/PXELINUX/pxelinux.0 && -f /usr/lib/syslinux/mbr/mbr.bin ]] ||
	die "missing pxelinux / syslinux-common: run scripts/install-deps.sh"

MB=$((1024 * 1024))
DISK_MIB=64
ROOT_MIB=49 # the root partition: 49..61 MiB
SRV_ADDR=10.77.0.1
declare -A MAC=([vm1]=52:54:00:fc:0a:01 [vm2]=52:54:00:fc:0a:02 [vm3]=52:54:00:fc:0a:03
	[vm4]=52:54:00:fc:0a:04 [vm5]=52:54:00:fc:0a:05 [vm1net]=52:54:00:fc:0a:01)
IMAGED=(vm1 vm2 vm3)

# ---------------------------------------------------------------------------- helpers

# make_marker_initrd OUT KERNEL: busybox, the modules to read an ext4 partition of an IDE disk,
# and an /init that prints the root partition's host name and machine-id (one made the way
# systemd does when the file is empty), then the marker, and powers off.
make_marker_initrd() {
	local root=$T/marker-root kver=${2#*/vmlinuz-} ko m
	mkdir -p "$root"/{bin,dev,proc,mnt,mod}
	cp "$(command -v busybox)" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	# In load order, each once: the IDE disk, then ext4 and the checksum it needs (one module
	# per --show-depends: the words after the first are its parameters).
	for m in ata_piix sd_mod crc32c_generic ext4; do modprobe -S "$kver" --show-depends "$m"; done |
		awk '$1 == "insmod" && !seen[$2]++ {print $2}' >"$T/marker.modules"
	while read -r ko; do cp "$ko" "$root/mod/"; echo "${ko##*/}"; done <"$T/marker.modules" \
		>"$root/mod/order"
	cat >"$root/init" <<-'EOF'
		#!/bin/sh
		B=/bin/busybox
		$B mount -t devtmpfs devtmpfs /dev
		$B mount -t proc proc /proc
		while read -r m; do $B insmod "/mod/$m"; done </mod/order
		i=0
		while [ ! -b /dev/sda3 ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i + 1)); done
		if $B mount -t ext4 /dev/sda3 /mnt; then
			if [ ! -s /mnt/etc/machine-id ]; then
				$B tr -d '-' </proc/sys/kernel/random/uuid >/mnt/etc/machine-id
			fi
			echo "FLEETCAST-HOSTNAME=$($B cat /mnt/etc/hostname)" >/dev/ttyS0
			echo "FLEETCAST-MACHINE-ID=$($B cat /mnt/etc/machine-id)" >/dev/ttyS0
			$B umount /mnt
		else
			echo "FLEETCAST-NO-ROOT: cannot mount /dev/sda3" >/dev/ttyS0
		fi
		echo "FLEETCAST-CLONE-OK: booted from the cloned disk" >/dev/ttyS0
		$B sync
		$B poweroff -f
	EOF
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$1"
}

# make_root_fs OUT: the master's Linux root (ext4, 12 MiB): what identity edits.
make_root_fs() {
	local tree=$T/root-tree t
	mkdir -p "$tree/etc/ssh"
	printf 'ID=debian\nVERSION_ID="12"\n' >"$tree/etc/os-release"
	echo master >"$tree/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tmaster\n' >"$tree/etc/hosts"
	echo 0badc0ffee0000000000000000000042 >"$tree/etc/machine-id"
	for t in rsa ed25519; do
		head -c 1500 /dev/urandom >"$tree/etc/ssh/ssh_host_${t}_key"
		echo "ssh-$t AAAA master" >"$tree/etc/ssh/ssh_host_${t}_key.pub"
	done
	must mke2fs -q -F -t ext4 -d "$tree" "$1" 12M
	rm -rf "$tree"
}

# make_master DISK KERNEL INITRD: the bootable MBR disk (see the top of this file).
make_master() {
	local disk=$1
	rm -f "$disk"
	truncate -s "${DISK_MIB}M" "$disk"
	must sfdisk -q "$disk" <<-'EOF'
		label: dos
		start=1MiB, size=40MiB, type=c, bootable
		start=41MiB, size=8MiB, type=83
		start=49MiB, size=12MiB, type=83
	EOF
	must dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
	must mkfs.vfat -F 16 -n FCCLONE --offset 2048 "$disk" $((40 * 1024))
	must syslinux --install --offset $((2048 * 512)) "$disk"
	printf 'SERIAL 0 115200\nDEFAULT clone\nPROMPT 0\nTIMEOUT 0\nLABEL clone\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND console=ttyS0,115200n8 quiet\n' >"$T/syslinux.cfg"
	must mcopy -i "$disk@@1M" "$2" ::/vmlinuz
	must mcopy -i "$disk@@1M" "$3" ::/initrd.img
	must mcopy -i "$disk@@1M" "$T/syslinux.cfg" ::/syslinux.cfg
	garbage "$disk" $((41 * MB)) $((4 * MB))
	make_root_fs "$T/root.ext4"
	put "$T/root.ext4" "$disk" $((ROOT_MIB * MB))
	rm -f "$T/root.ext4"
}

# pick_accel KERNEL INITRD: kvm if /dev/kvm boots the marker initramfs within 30 s, else tcg
# (on some hosts a guest hangs early under KVM).
pick_accel() {
	if [[ -n ${FC_PXE_ACCEL:-} ]]; then echo "$FC_PXE_ACCEL"; return; fi
	[[ -c /dev/kvm && -w /dev/kvm ]] || { echo tcg; return; }
	timeout -k 5 30 qemu-system-x86_64 -accel kvm -m 256 -display none -monitor none -no-reboot \
		-serial "file:$T/kvm-probe.serial.log" -kernel "$1" -initrd "$2" \
		-append "console=ttyS0 quiet" >"$T/kvm-probe.log" 2>&1 </dev/null
	if grep -q FLEETCAST-CLONE-OK "$T/kvm-probe.serial.log" 2>/dev/null; then echo kvm; else echo tcg; fi
}

# ---------------------------------------------------------------------------- set up

KERNEL=$(pick_kernel)
log "kernel $KERNEL"
make_marker_initrd "$T/marker.img" "$KERNEL"
make_master "$T/master.raw" "$KERNEL" "$T/marker.img"
IMG=$T/master.fcimg PUB=$T/key.pub REF=$T/ref.img
must "$FLEETCAST" key gen --out "$T/key"
must "$FLEETCAST" image create "$T/master.raw" "$IMG" --key "$T/key.key" --quiet
must "$FLEETCAST" image restore "$IMG" "$REF" --pubkey "$PUB" --quiet
log "master: ${DISK_MIB} MiB MBR disk, image $(fsize "$IMG") bytes"

ACCEL=$(pick_accel "$KERNEL" "$T/marker.img")
if [[ $ACCEL == kvm ]]; then P1_LIMIT=300 P2_LIMIT=150; else P1_LIMIT=720 P2_LIMIT=360; fi
log "accelerator: $ACCEL"

TFTP=$T/tftp
t0=$SECONDS
assert_exit 2 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --after poweroff
assert_stderr "needs --key PUB.*--insecure-any-signer" "pxe build without --key: refused, says why"
assert_exit 0 "$FLEETCAST" pxe build "$TFTP" --kernel "$KERNEL" --key "$PUB" --after poweroff \
	--append "fleetcast.failwait=5 fleetcast.wait=200" --machine "${MAC[vm2]}:disk=/dev/sda"
cp "$T/out" "$T/pxe-build.log"
log "pxe build took $((SECONDS - t0)) s: $(grep '^initramfs:' "$T/out")"
for f in pxelinux.0 ldlinux.c32 menu.c32 libutil.c32 libcom32.c32 vmlinuz initramfs.img \
	pxelinux.cfg/default; do
	[[ -s $TFTP/$f ]] || fail "pxe build made $f"
done
assert_match 'e1000\.ko' "$(cat "$T/out")" "pxe build lists the initramfs (e1000 module)"
assert_match 'bin/fleetcast-recv' "$(cat "$T/out")" "pxe build lists fleetcast-recv"
size=$(fsize "$TFTP/initramfs.img")
check "initramfs is small ($((size / MB)) MiB < 32 MiB)" test "$size" -lt $((32 * MB))
assert_match 'ONTIMEOUT fleetcast' "$(cat "$TFTP/pxelinux.cfg/default")" "menu images unattended"
assert_match 'LOCALBOOT 0' "$(cat "$TFTP/pxelinux.cfg/default")" "menu offers the local disk"
assert_match 'APPEND .*fleetcast.disk=/dev/sda' "$(cat "$TFTP/pxelinux.cfg/01-${MAC[vm2]//:/-}")" \
	"vm2: its own entry names its disk"
assert_exit 2 "$FLEETCAST" pxe build "$T/bad" --key "$PUB" --after sometimes

lab_create 0 || die "lab_create"
pxe_services "$TFTP" # dnsmasq (DHCP only) and in.tftpd in srv (pxe-lib.sh)
for vm in "${IMAGED[@]}"; do echo "${MAC[$vm]},pc-$vm"; done >"$T/names.csv"
mc_server -- --min-receivers 3 --max-wait 400 --rate 20M --drop-silent 60 \
	--tftp-root "$TFTP" --names "$T/names.csv" --verbose

# ---------------------------------------------------------------------------- phase 1

VM_LIMIT=$P1_LIMIT
for vm in vm1 vm2 vm3; do truncate -s "${DISK_MIB}M" "$T/$vm.disk"; done
truncate -s 32M "$T/vm4.disk"
garbage "$T/vm4.disk" 0 $((32 * MB))
vm4_before=$(sha "$T/vm4.disk")
t1=$SECONDS
# vm4 first, so the server refuses it while the session still waits for the three.
vm_start vm4 n "$T/vm4.disk"
sleep 8
for vm in "${IMAGED[@]}"; do vm_start "$vm" n "$T/$vm.disk"; done
vms_wait_imaged "$P1_LIMIT" vm4 "${IMAGED[@]}"
log "phase 1 (PXE boot and imaging) took $((SECONDS - t1)) s"

for vm in "${IMAGED[@]}"; do
	out=$(console "$vm")
	assert_eq 0 "${VM_RC[$vm]}" "$vm: QEMU ended by itself (power off), not killed"
	assert_match 'fleetcast: DONE: /dev/sda written and verified' "$out" "$vm: console says DONE"
	assert_match 'reboot: Power down' "$out" "$vm: powered off (fleetcast.after=poweroff)"
	check "$vm: disk identical to a fresh restore before its root partition" \
		cmp -s -n $((ROOT_MIB * MB)) "$T/$vm.disk" "$REF"
	check "$vm: and after it" cmp -s -i $(((ROOT_MIB + 12) * MB)) "$T/$vm.disk" "$REF"
	root="$T/$vm.disk?offset=$((ROOT_MIB * MB))"
	assert_eq "pc-$vm" "$(debugfs -R 'cat /etc/hostname' "$root" 2>/dev/null)" "$vm: its host name (debugfs)"
	assert_eq 0 "$(debugfs -R 'cat /etc/machine-id' "$root" 2>/dev/null | wc -c)" "$vm: machine-id emptied"
	check "$vm: SSH host keys removed" eval "! debugfs -R 'ls /etc/ssh' '$root' 2>/dev/null | grep -q ssh_host_"
	assert_match "machine ${MAC[$vm]}.*host name set to pc-$vm" "$(cat "$T/srv.log")" \
		"$vm: the server log says so"
	f=$TFTP/pxelinux.cfg/01-${MAC[$vm]//:/-}
	if [[ -f $f ]]; then
		assert_match '^# fleetcastd:' "$(head -n 1 "$f")" "$vm: ${f##*/} written by fleetcastd"
		assert_match 'LOCALBOOT 0' "$(cat "$f")" "$vm: ${f##*/} boots the local disk"
		assert_match '^DEFAULT local' "$(cat "$f")" "$vm: ${f##*/} boots it by default"
	else
		fail "$vm: $f exists"
	fi
done
assert_match 'target /dev/sda from fleetcast.disk=' "$(console vm2)" "vm2: took its disk from its entry"
check "vm1: picked its disk itself" eval "! console vm1 | grep -q 'from fleetcast.disk='"
assert_match 'APPEND .*fleetcast.disk=/dev/sda' "$(cat "$TFTP/pxelinux.cfg/01-${MAC[vm2]//:/-}")" \
	"vm2: fleetcastd kept its own entry in its local-boot file"
assert_eq 0 "$SRV_RC" "fleetcastd exit code (every receiver done)"
assert_eq 3 "$(mc_srv_stat 'd["receivers_done"]')" "stats: receivers_done"
assert_eq 0 "$(mc_srv_stat 'd["receivers_failed"] + d["receivers_dropped"]')" "stats: none failed or dropped"
assert_eq 3 "$(grep -Ec 'machine [0-9a-f:]{17}: boot action local \(imaged by session' "$T/srv.log")" "server log: one line per machine set to boot its disk"

out=$(console vm4)
assert_eq 0 "${VM_RC[vm4]}" "vm4: QEMU ended by itself, not killed"
assert_match "machine ${MAC[vm4]} .*refused: target disk is" "$(cat "$T/srv.log")" \
	"vm4: the server logged the refusal"
assert_match 'FAILED: .*smaller than the image' "$out" "vm4: its console says why"
assert_match 'will NOT reboot' "$out" "vm4: its console says it does not reboot"
assert_match 'reboot: Power down' "$out" "vm4: powered off after the pause"
check "vm4: did not reboot" eval "! grep -q 'Restarting system' '$T/vm4.serial.log'"
assert_eq 1 "$(grep -ac 'PXELINUX 6' "$T/vm4.serial.log")" "vm4: network-booted once"
assert_eq "$vm4_before" "$(sha "$T/vm4.disk")" "vm4: disk untouched"
check "vm4: no pxelinux.cfg file" test ! -e "$TFTP/pxelinux.cfg/01-${MAC[vm4]//:/-}"

# ---------------------------------------------------------------------------- phase 2

VM_LIMIT=$P2_LIMIT
for vm in "${IMAGED[@]}"; do mv "$T/$vm.serial.log" "$T/$vm.pxe.serial.log"; done
cp --sparse=always "$T/vm1.disk" "$T/vm1net.disk"
truncate -s "${DISK_MIB}M" "$T/vm5a.disk" "$T/vm5b.disk"
mc_server srv2 -- --min-receivers 1 --max-wait 400 --rate 20M --tftp-root "$TFTP"
t2=$SECONDS
for vm in "${IMAGED[@]}"; do vm_start "$vm" c "$T/$vm.disk"; done
vm_start vm1net n "$T/vm1net.disk"
vm_start vm5 n "$T/vm5a.disk" "$T/vm5b.disk"
vm_wait "$P2_LIMIT" "${IMAGED[@]}" vm1net vm5
log "phase 2 (boot the clones; vm5) took $((SECONDS - t2)) s"
declare -A IDS=()
for vm in "${IMAGED[@]}"; do
	# Each VM's phase-2 console replaced its phase-1 one: this is the boot from its own disk.
	out=$(console "$vm")
	assert_match 'FLEETCAST-CLONE-OK' "$out" "$vm: boots its cloned disk (no network)"
	assert_match "FLEETCAST-HOSTNAME=pc-$vm" "$out" "$vm: boots as pc-$vm (the names list's)"
	id=$(grep -ao 'FLEETCAST-MACHINE-ID=[0-9a-f]*' <<<"$out" | cut -d= -f2)
	assert_match '^[0-9a-f]{32}$' "$id" "$vm: a machine-id made at its first boot"
	IDS[${id:-none}]=$vm
done
assert_eq 3 "${#IDS[@]}" "three different machine-ids"
out=$(console vm1net)
assert_match 'FLEETCAST-CLONE-OK' "$out" "vm1 network boot: 01-<mac> sends it to its local disk"
check "vm1 network boot: not imaged again" eval "! grep -aq 'fleetcast PXE imaging' '$T/vm1net.serial.log'"
out=$(console vm5)
assert_match 'FAILED: several internal disks are large enough' "$out" "vm5: refuses to guess a disk"
assert_match 'reported to the server' "$out" "vm5: told the server"
mc_wait_log "$T/srv2.log" "machine ${MAC[vm5]}: FAILED: several internal disks" 10
assert_match "machine ${MAC[vm5]}: FAILED: several internal disks" "$(cat "$T/srv2.log")" \
	"vm5: the server logged its failure"
check "vm5: disks untouched (still zero)" eval "cmp -s -n $((DISK_MIB * MB)) '$T/vm5a.disk' /dev/zero && cmp -s -n $((DISK_MIB * MB)) '$T/vm5b.disk' /dev/zero"
assert_match 'reboot: Power down' "$out" "vm5: powered off after the pause"

# ---------------------------------------------------------------------------- reset

# Boot actions live in fleetcastd --daemon's inventory: the one-shot servers above have none,
# so the daemon takes the actions of the files they wrote at its start (the upgrade path too),
# and `pxe reset` asks it.
echo "DEFAULT something" >"$TFTP/pxelinux.cfg/01-52-54-00-99-99-99" # not fleetcastd's
API_PORT=$((17000 + RANDOM % 2000))
lab_bg srv "$T/daemon.log" "$FLEETCASTD" --daemon --state-dir "$FLEETCAST_HOME" \
	--http "127.0.0.1:$API_PORT" --tftp-root "$TFTP" >/dev/null || die "cannot start fleetcastd --daemon"
mc_wait_log "$T/daemon.log" 'boot files: ' 15 || die "fleetcastd --daemon: $(head -c 600 "$T/daemon.log")"
for vm in "${IMAGED[@]}"; do
	check "the daemon took $vm's action from its file: local" \
		grep -q "machine ${MAC[$vm]}: boot action local, from " "$T/daemon.log"
done
fc_api() { lab_exec srv env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "$@" --server "http://127.0.0.1:$API_PORT"; }
assert_exit 0 fc_api pxe reset "${MAC[vm1]^^}"
check "pxe reset MAC removed vm1's file (the menu images it)" test ! -e "$TFTP/pxelinux.cfg/01-${MAC[vm1]//:/-}"
assert_exit 1 fc_api pxe reset 52:54:00:99:99:99
assert_match 'DEFAULT something' "$(cat "$TFTP/pxelinux.cfg/01-52-54-00-99-99-99")" "a file fleetcast did not write is left alone"
assert_exit 0 fc_api pxe reset --all
left=$(find "$TFTP/pxelinux.cfg" -name '01-*' -printf '%f\n' | sort | tr '\n' ' ')
# (sorted in the C locale: 01-52-54-00-99-… before vm2's 01-52-54-00-fc-…)
assert_eq "01-52-54-00-99-99-99 01-${MAC[vm2]//:/-} " "$left" "pxe reset --all: every machine set to local back to deploy, the foreign file left"
f=$TFTP/pxelinux.cfg/01-${MAC[vm2]//:/-}
assert_match 'fleetcast.disk=/dev/sda' "$(cat "$f")" "pxe reset --all gave vm2 its own entry back"
assert_match 'ONTIMEOUT fleetcast' "$(cat "$f")" "vm2 images again, with its own settings"
fc_api machines list --json >"$T/inventory.json"
check "the inventory says deploy for the three" jtrue "$T/inventory.json" \
	"sorted(m['boot_action'] for m in d['machines'] if m['mac'] in ('${MAC[vm1]}', '${MAC[vm2]}', '${MAC[vm3]}')) == ['deploy'] * 3"
assert_exit 2 fc_api pxe reset not-a-mac
assert_exit 2 "$FLEETCAST" pxe reset "${MAC[vm1]}" --tftp-root "$TFTP"

mc_finish
