# shellcheck shell=bash
# Helpers of the PXE tests (test-pxe.sh, test-pxe-uefi.sh, ...): QEMU VMs on the lab's switch
# (tests/lab/lab.sh), their serial consoles, and the artifacts kept when a test fails. Source it
# after lib.sh and the lab. vm_start uses the caller's ACCEL, VM_LIMIT and MAC[NAME], and sets
# VM_PID[NAME]; vm_wait sets VM_RC[NAME].
PXE_TEST=$(basename "$0" .sh)
# The PXE tests' initramfs at zstd -3: pxe build's default -19 costs ~40 CPU-s more for an
# initramfs 1.3x the size, on CI's two busy cores, and the guests boot either. test-pxe unsets
# it, so the production level stays tested.
export FC_INITRAMFS_ZSTD_LEVEL=3
# shellcheck disable=SC2034 # VM_RC is for the caller
declare -A VM_PID=() VM_RC=()

# The lab's exit trap runs lab_cleanup_hook: keep lib.sh's (logs on failure) and add ours.
eval "_mc_$(declare -f lab_cleanup_hook)"
# shellcheck disable=SC2317 # called by the lab's exit trap
lab_cleanup_hook() {
	if ((FAILED > 0)) || [[ -z ${MC_FINISHED:-} ]]; then pxe_keep_artifacts; fi
	_mc_lab_cleanup_hook
}

# pxe_keep_artifacts: serial consoles, server, DHCP and TFTP logs, boot files to
# meson-logs/<test>/.
# shellcheck disable=SC2317 # called by the lab's exit trap
pxe_keep_artifacts() {
	local dir
	if [[ -n ${FC_BUILD_ROOT:-} && -d $FC_BUILD_ROOT/meson-logs ]]; then
		dir=$FC_BUILD_ROOT/meson-logs/$PXE_TEST
	elif [[ -d meson-logs ]]; then
		dir=$PWD/meson-logs/$PXE_TEST
	else
		dir=$(mktemp -d "/tmp/fc-$PXE_TEST.XXXXXX")
	fi
	rm -rf "$dir" && mkdir -p "$dir" || return 0
	cp "$T"/*.log "$T"/*.json "$T"/tftp/pxelinux.cfg/* "$T"/tftp/grub/* "$dir"/ 2>/dev/null
	echo "# artifacts (serial consoles, logs): $dir"
}

# pick_kernel: the newest Debian kernel that has its modules (not the host's running kernel).
pick_kernel() {
	local k best=''
	for k in /boot/vmlinuz-*; do
		[[ -f $k && -d /lib/modules/${k#/boot/vmlinuz-}/kernel ]] && best=$k
	done
	[[ -n $best ]] || die "no /boot/vmlinuz-* with /lib/modules: install linux-image-amd64"
	echo "$best"
}

# pxe_append TFTP: the kernel command line of the PXE menu's imaging entry (what pxelinux
# would pass).
pxe_append() {
	sed -n 's/^ *APPEND //p' "$1/pxelinux.cfg/default" | head -n 1
}

# vm_start NAME BOOT DISK... : start a VM in the switch namespace (serial $T/NAME.serial.log),
# bounded by VM_LIMIT seconds. BOOT n: network first on tap NAME (e1000); c: its disk only;
# k: the PXE tree $TFTP's kernel, initramfs and command line given directly, as the firmware
# would have, its only NIC a USB network adapter (usb-net on qemu-xhci) on tap NAME (QEMU's
# firmware cannot PXE-boot over USB). Disks on IDE, or NVMe with VM_DISK=nvme; VM_EXTRA: more
# QEMU arguments.
vm_start() {
	local name=$1 boot=$2 d i=0
	local -a args=(-accel "$ACCEL" -m 384 -smp 1 -display none -monitor none -no-reboot
		-serial "file:$T/$name.serial.log")
	shift 2
	case $boot in
	n)
		lab_tap "$name" || die "lab_tap $name"
		args+=(-boot order=n -netdev "tap,id=n0,ifname=$name,script=no,downscript=no"
			-device "e1000,netdev=n0,mac=${MAC[$name]}")
		;;
	k)
		lab_tap "$name" || die "lab_tap $name"
		# shellcheck disable=SC2054 # commas inside QEMU's -device arguments
		args+=(-kernel "$TFTP/vmlinuz" -initrd "$TFTP/initramfs.img" -append "$(pxe_append "$TFTP")"
			-nic none -netdev "tap,id=n0,ifname=$name,script=no,downscript=no"
			-device qemu-xhci,id=xhci -device "usb-net,bus=xhci.0,netdev=n0,mac=${MAC[$name]}")
		;;
	*) args+=(-boot order=c -nic none) ;;
	esac
	for d in "$@"; do
		if [[ ${VM_DISK:-ide} == nvme ]]; then
			args+=(-drive "file=$d,format=raw,if=none,id=d$i" -device "nvme,drive=d$i,serial=fc$i")
		else
			args+=(-drive "file=$d,format=raw,if=ide,index=$i")
		fi
		i=$((i + 1))
	done
	args+=(${VM_EXTRA[@]+"${VM_EXTRA[@]}"})
	VM_PID[$name]=$(lab_bg sw "$T/$name.qemu.log" timeout -k 5 "$VM_LIMIT" \
		qemu-system-x86_64 "${args[@]}") || die "cannot start $name"
}

# vm_wait TIMEOUT NAMES... : wait for the VMs (one deadline); exit codes in VM_RC (124: killed).
vm_wait() {
	local end=$((SECONDS + $1)) name rc left
	shift
	for name in "$@"; do
		left=$((end - SECONDS))
		((left > 0)) || left=1
		rc=0
		lab_wait "${VM_PID[$name]}" "$left" || rc=$?
		# shellcheck disable=SC2034 # VM_RC is for the caller
		VM_RC[$name]=$rc
	done
}

# console NAME: the VM's serial log without escape sequences.
console() {
	sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$T/$1.serial.log" 2>/dev/null | tr -d '\r'
}

# status_loop NAMES...: every 30 s, the last fleetcast line of each console (until killed).
status_loop() {
	local n line
	while sleep 30; do
		for n in "$@"; do
			line=$(console "$n" | grep -a -E '^(fleetcast|receiving)' | tail -n 1 | cut -c1-110)
			log "$n: ${line:-(booting)}"
		done
	done
}


# vms_wait_imaged TIMEOUT NAMES...: wait for the VMs of an imaging phase (a status line per VM
# every 30 s meanwhile), then for fleetcastd (SRV_RC).
vms_wait_imaged() {
	local limit=$1 status_pid
	shift
	status_loop "$@" &
	status_pid=$!
	vm_wait "$limit" "$@"
	mc_wait_server 30
	kill "$status_pid" 2>/dev/null
	wait "$status_pid" 2>/dev/null
}

# pxe_services TFTP: in the lab's srv, dnsmasq handing out addresses and the boot file
# pxelinux.0, and in.tftpd serving TFTP (their logs $T/dnsmasq.log, $T/tftpd.log).
pxe_services() {
	lab_bg srv "$T/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root \
		--interface=eth0 --bind-interfaces --dhcp-range=10.77.1.100,10.77.1.200,255.255.254.0,1h \
		--dhcp-boot=pxelinux.0,fcsrv,10.77.0.1 --dhcp-leasefile="$T/leases" --log-dhcp >/dev/null ||
		die "cannot start dnsmasq"
	lab_bg srv "$T/tftpd.log" in.tftpd -L -u root -v -s "$1" -a "10.77.0.1:69" >/dev/null ||
		die "cannot start in.tftpd"
}
