# shellcheck shell=bash
# Helpers of the PXE tests (test-pxe.sh, test-pxe-uefi.sh, ...): QEMU VMs on the lab's switch
# (tests/lab/lab.sh), their serial consoles, and the artifacts kept when a test fails. Source it
# after lib.sh and the lab. vm_start uses the caller's ACCEL, VM_LIMIT and MAC[NAME], and sets
# VM_PID[NAME]; vm_wait sets VM_RC[NAME].
PXE_TEST=$(basename "$0" .sh)
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

# vm_start NAME BOOT DISK... : start a VM in the switch namespace (serial $T/NAME.serial.log),
# bounded by VM_LIMIT seconds. BOOT n: network first on tap NAME (e1000); c: its disk only.
vm_start() {
	local name=$1 boot=$2 d i=0
	local -a args=(-accel "$ACCEL" -m 384 -smp 1 -display none -monitor none -no-reboot
		-serial "file:$T/$name.serial.log")
	shift 2
	if [[ $boot == n ]]; then
		lab_tap "$name" || die "lab_tap $name"
		args+=(-boot order=n -netdev "tap,id=n0,ifname=$name,script=no,downscript=no"
			-device "e1000,netdev=n0,mac=${MAC[$name]}")
	else
		args+=(-boot order=c -nic none)
	fi
	for d in "$@"; do
		args+=(-drive "file=$d,format=raw,if=ide,index=$i")
		i=$((i + 1))
	done
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
