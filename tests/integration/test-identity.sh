#!/bin/bash
# Issue 12, identity: every clone gets its own host name, an empty machine-id
# and no SSH host keys, set by fleetcast-recv in the written ext4 root
# without mounting it; site hooks run after, and a failing one fails its
# machine visibly. A GPT master with an ext4 root (/etc/os-release, hostname
# "master", a machine-id, SSH host keys) goes to four machines of a netns lab
# through fleetcastd --daemon:
#   m1  named by the inventory (pc-inv-1, lab-a); a hook that records its
#       environment exits 0 after 6 s, longer than --drop-stall 4 (a machine
#       running its hooks is finishing, not stalled)
#   m2  named by the inventory (pc-inv-2) and by the session's --names list
#       (pc-list-2): the list wins
#   m3  no name from the server: fleetcast-recv --hostname fallback-3 (the
#       PXE kernel argument's way); hooks 10-env, 20-fail (exit 3), 30-after
#   m4  an inventory name that is no host name ("bad_name"): none given, the
#       disk keeps the master's identity
# Read back with debugfs from each disk file; e2fsck -fn clean; the API and
# `fleetcast machines` say what identity each got; m3 failed with "hook
# 20-fail exited 3" and 30-after never ran.
# Then a Windows master (an NTFS system volume and an NTFS data volume) to m1
# and m2 with two names: each clone's \Windows\Panther\unattend.xml names
# its machine (ntfscat), the rest of the master's answer file kept, ntfsfix -n
# clean, the data volume untouched; the API, the server log and `fleetcast
# report` say what was set.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 360 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
for t in debugfs e2fsck mke2fs sfdisk; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh: e2fsprogs, fdisk)"
done

ROOT_OFF=$((1 * MIB))
# master_disk : $T/disk.raw, GPT: p1 ext4 (40 MiB) holding a small Debian-like root.
master_disk() {
	local tree=$T/tree t
	mkdir -p "$tree/etc/ssh" "$tree/usr/share/data"
	printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' >"$tree/etc/os-release"
	echo master >"$tree/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tmaster\n::1\tlocalhost ip6-localhost\n' >"$tree/etc/hosts"
	echo 4f9c2b1e0d8a47f6b3c5e7a9d1f20304 >"$tree/etc/machine-id"
	for t in rsa ecdsa ed25519; do
		head -c 2000 /dev/urandom >"$tree/etc/ssh/ssh_host_${t}_key"
		echo "ssh-$t AAAA master" >"$tree/etc/ssh/ssh_host_${t}_key.pub"
	done
	echo "PermitRootLogin no" >"$tree/etc/ssh/sshd_config"
	head -c $((3 * MIB)) /dev/urandom >"$tree/usr/share/data/blob"
	truncate -s 64M "$T/disk.raw"
	must sfdisk -q "$T/disk.raw" <<-'EOF'
		label: gpt
		start=1MiB, size=40MiB, type=linux, name="root"
	EOF
	must mke2fs -q -F -t ext4 -d "$tree" "$T/root.ext4" 40M
	put "$T/root.ext4" "$T/disk.raw" "$ROOT_OFF"
	rm -rf "$tree" "$T/root.ext4"
}
master_disk
IMG=$T/disk.fcimg
PUB=$T/key.pub # mc_recv's --pubkey
must "$FLEETCAST" key gen --out "$T/key"
must "$FLEETCAST" image create "$T/disk.raw" "$IMG" --key "$T/key.key" --quiet
IMAGE_ID=$("$FLEETCAST" image info "$IMG" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image_id"])')

lab_create 4 || die "lab_create"
con_daemon --verbose --drop-stall 4
declare -A MAC
for m in m1 m2 m3 m4; do MAC[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address); done
must fc_srv labs add lab-a --server "$CON_URL"
must fc_srv machines add "${MAC[m1]}" --name pc-inv-1 --lab lab-a --server "$CON_URL"
must fc_srv machines add "${MAC[m2]}" --name pc-inv-2 --server "$CON_URL"
must fc_srv machines add "${MAC[m4]}" --name bad_name --server "$CON_URL"

# --- the session's names list: checked by fleetcastd, line by line
printf 'mac,hostname\n# the list wins over the inventory\n%s,pc-list-2\n' "${MAC[m2]^^}" >"$T/names.csv"
printf '%s,pc-ok\n%s,bad_name\n' "${MAC[m1]}" "${MAC[m2]}" >"$T/bad-names.csv"
CREATE=(session create --image "$IMG" --group 239.77.12.1:9000 --iface eth0 --rate 200M
	--min-receivers 4 --max-wait 60 --server "$CON_URL")
run fc_srv "${CREATE[@]}" --names "$T/bad-names.csv"
assert_eq 1 "$RC" "session create --names with a bad host name: refused (exit 1)"
assert_stderr "names line 2: 'bad_name' is not a host name" "the error names the line and the name"
run fc_srv "${CREATE[@]}" --names "$T/names.csv"
assert_eq 0 "$RC" "session create --names names.csv"
SID=$(head -1 "$T/out")
log "session $SID"

# --- hooks
mkdir -p "$T/hooks-ok" "$T/hooks-fail"
# Longer than --drop-stall: a machine running its hooks has every chunk written and is
# finishing, not stalled.
printf '#!/bin/sh\nsleep 6\nenv | grep ^FC_ | sort >%s/m1.env\n' "$T" >"$T/hooks-ok/10-env"
printf '#!/bin/sh\nenv | grep ^FC_ | sort >%s/m3.env\n' "$T" >"$T/hooks-fail/10-env"
printf '#!/bin/sh\necho "20-fail: giving up" >&2\nexit 3\n' >"$T/hooks-fail/20-fail"
printf '#!/bin/sh\ntouch %s/m3.after\n' "$T" >"$T/hooks-fail/30-after"
printf '#!/bin/sh\ntouch %s/m1.disabled\n' "$T" >"$T/hooks-ok/05-x.disabled" # not a hook name
echo "not executable" >"$T/hooks-ok/README"
chmod +x "$T"/hooks-ok/[0-9]* "$T"/hooks-fail/*

mc_recv m1 --hooks "$T/hooks-ok"
mc_recv m2
mc_recv m3 --hostname fallback-3 --hooks "$T/hooks-fail" --hook-timeout 20
mc_recv m4
mc_wait_recvs 120 m1 m2 m3 m4
for m in m1 m2 m4; do
	assert_eq 0 "${MC_RC[$m]}" "$m: fleetcast-recv exit 0" || MC_BAD+=("$m")
done
assert_eq 11 "${MC_RC[m3]}" "m3: exit 11 (disk written and checked, a hook failed)" || MC_BAD+=(m3)

# --- what the disks hold
# fs_cat MACHINE PATH : the file in MACHINE's root, through debugfs (no mount).
fs_cat() { debugfs -R "cat $2" "$T/$1.img?offset=$ROOT_OFF" 2>/dev/null; }
fs_ls() { debugfs -R "ls $2" "$T/$1.img?offset=$ROOT_OFF" 2>/dev/null; }
# shellcheck disable=SC2317 # called through check
no_host_keys() { ! grep -q ssh_host_ <<<"$(fs_ls "$1" /etc/ssh)"; }
declare -A WANT=([m1]=pc-inv-1 [m2]=pc-list-2 [m3]=fallback-3)
for m in m1 m2 m3; do
	assert_eq "${WANT[$m]}" "$(fs_cat "$m" /etc/hostname)" "$m: /etc/hostname (debugfs)"
	assert_match "^127\.0\.1\.1	${WANT[$m]}$" "$(fs_cat "$m" /etc/hosts)" "$m: the 127.0.1.1 line of /etc/hosts"
	assert_match "^127\.0\.0\.1	localhost$" "$(fs_cat "$m" /etc/hosts)" "$m: the rest of /etc/hosts kept"
	assert_eq 0 "$(fs_cat "$m" /etc/machine-id | wc -c)" "$m: /etc/machine-id empty"
	check "$m: /etc/machine-id still exists" grep -qw machine-id <<<"$(fs_ls "$m" /etc)"
	check "$m: no SSH host key left" no_host_keys "$m"
	check "$m: sshd_config kept" grep -qw sshd_config <<<"$(fs_ls "$m" /etc/ssh)"
done
assert_eq master "$(fs_cat m4 /etc/hostname)" "m4 (no valid name given): /etc/hostname untouched"
assert_eq 4f9c2b1e0d8a47f6b3c5e7a9d1f20304 "$(fs_cat m4 /etc/machine-id)" "m4: machine-id untouched"
for m in m1 m2 m3 m4; do
	dd if="$T/$m.img" of="$T/$m.root" bs=1M skip=1 count=40 status=none
	check "$m: e2fsck -fn clean after the edits" quiet e2fsck -fn "$T/$m.root"
	rm -f "$T/$m.root"
done
check "m4's disk is the image, byte for byte (nothing edited)" quiet "$FLEETCAST" image compare "$IMG" "$T/m4.img"

# --- hooks: environment, order, the failure
for k in "FC_DISK=$T/m1.img" "FC_MAC=${MAC[m1]}" FC_HOSTNAME=pc-inv-1 FC_LAB=lab-a \
	"FC_SESSION=$SID" "FC_IMAGE=$IMAGE_ID" FC_IDENTITY=done; do
	check "m1's hook saw $k" grep -qxF "$k" "$T/m1.env"
done
check "m3's hook 10-env ran, with its fallback name" grep -qx FC_HOSTNAME=fallback-3 "$T/m3.env"
check "m3's hook 30-after did not run after 20-fail failed" test ! -e "$T/m3.after"
check "a file whose name is not a hook's (05-x.disabled) was not run" test ! -e "$T/m1.disabled"
check "m3's log says the hook failed" grep -q 'hook 20-fail exited 3' "$T/m3.log"

# --- the server shows it
check "the session ends" wait_api "/api/v1/sessions/$SID" "d['session']['state'] == 'finished'" 20
check_json "{x['name']: (x['state'], x['hostname'], x['identity']) for x in d['machines']} == \
{'m1': ('done', 'pc-inv-1', 'done'), 'm2': ('done', 'pc-list-2', 'done'), \
'm3': ('failed', None, 'failed'), 'm4': ('done', None, None)}" \
	"API: each machine's state, host name given and identity"
check_json "[x['error'] for x in d['machines'] if x['name'] == 'm3'] == ['hook 20-fail exited 3']" \
	"API: m3's error is the hook's"
assert_match "machine m3.*FAILED: hook 20-fail exited 3" "$(cat "$T/srv.log")" "the server log names the hook"
assert_match "machine m1.*host name set to pc-inv-1" "$(cat "$T/srv.log")" "the server log says m1's identity"
run fc_srv machines --session "$SID" --server "$CON_URL"
assert_match "pc-list-2 done" "$(cat "$T/out")" "fleetcast machines: m2's IDENTITY column"

# --- Windows: a GPT disk with a "Windows" NTFS system volume (\Windows\System32\config\SYSTEM
# and the master's own Panther\unattend.xml) and an NTFS data volume, to m1 and m2 named by the
# session's names list; each clone's answer file names its machine, the rest of it kept.
WIN_OFF=$((1 * MIB)) DATA_OFF=$((26 * MIB))
MASTER_XML='<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
    <settings pass="specialize">
        <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
            <ComputerName>MASTER-PC</ComputerName>
            <RegisteredOrganization>Fleetcast Lab</RegisteredOrganization>
        </component>
    </settings>
    <settings pass="oobeSystem">
        <component name="Microsoft-Windows-International-Core" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
            <UserLocale>de-DE</UserLocale>
        </component>
    </settings>
</unattend>'
# win_disk : $T/win.raw, GPT: p1 NTFS "Windows" (24 MiB), p2 NTFS data (16 MiB).
win_disk() {
	local basic=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
	truncate -s 64M "$T/win.raw"
	truncate -s 24M "$T/win.p1"
	truncate -s 16M "$T/win.p2"
	must sfdisk -q "$T/win.raw" <<-EOF
		label: gpt
		start=1MiB, size=24MiB, type=$basic, name="windows"
		start=26MiB, size=16MiB, type=$basic, name="data"
	EOF
	must mkntfs -q -F -Q -L windows "$T/win.p1"
	must mkntfs -q -F -Q -L data "$T/win.p2"
	must "$FC_NTFS_MKDIR" "$T/win.p1" Windows/System32/config Windows/Panther
	head -c 65536 /dev/urandom >"$T/SYSTEM"
	printf '%s\n' "$MASTER_XML" >"$T/master-unattend.xml"
	must ntfscp "$T/win.p1" "$T/SYSTEM" Windows/System32/config/SYSTEM
	must ntfscp "$T/win.p1" "$T/master-unattend.xml" Windows/Panther/unattend.xml
	echo "data, not Windows" >"$T/readme.txt"
	must ntfscp "$T/win.p2" "$T/readme.txt" readme.txt
	put "$T/win.p1" "$T/win.raw" "$WIN_OFF"
	put "$T/win.p2" "$T/win.raw" "$DATA_OFF"
}
for t in mkntfs ntfscp ntfscat ntfsfix; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh: ntfs-3g)"
done
[[ -x ${FC_NTFS_MKDIR:-} ]] || die "FC_NTFS_MKDIR (tests/tools/fc-ntfs-mkdir) not set: run through meson test"
win_disk
must "$FLEETCAST" image create "$T/win.raw" "$T/win.fcimg" --key "$T/key.key" --quiet
printf '%s,LAB-07\n%s,lab-08.example.org\n' "${MAC[m1]}" "${MAC[m2]}" >"$T/win-names.csv"
run fc_srv session create --image "$T/win.fcimg" --group 239.77.12.2:9000 --iface eth0 --rate 200M \
	--min-receivers 2 --max-wait 60 --names "$T/win-names.csv" --server "$CON_URL"
assert_eq 0 "$RC" "session create of the Windows image with a names list"
WSID=$(head -1 "$T/out")
rm -f "$T/m1.img" "$T/m2.img"
mc_recv m1
mc_recv m2
mc_wait_recvs 120 m1 m2
for m in m1 m2; do
	assert_eq 0 "${MC_RC[$m]}" "windows $m: fleetcast-recv exit 0" || MC_BAD+=("$m")
done
# part MACHINE OFF MIB NAME : the partition alone, for ntfsfix and ntfscat.
part() { dd if="$T/$1.img" of="$T/$1.$4" bs=1M skip=$(($2 / MIB)) count="$3" status=none; }
declare -A WIN=([m1]=LAB-07 [m2]=lab-08)
for m in m1 m2; do
	part "$m" "$WIN_OFF" 24 win
	part "$m" "$DATA_OFF" 16 data
	xml=$(ntfscat "$T/$m.win" Windows/Panther/unattend.xml 2>/dev/null)
	assert_match "<ComputerName>${WIN[$m]}</ComputerName>" "$xml" "windows $m: unattend.xml names ${WIN[$m]} (ntfscat)"
	assert_eq 1 "$(grep -c '<ComputerName>' <<<"$xml")" "windows $m: one ComputerName, the master's replaced"
	assert_match "<RegisteredOrganization>Fleetcast Lab</RegisteredOrganization>" "$xml" "windows $m: the master's other specialize settings kept"
	assert_match "<UserLocale>de-DE</UserLocale>" "$xml" "windows $m: the master's oobeSystem pass kept"
	check "windows $m: ntfsfix -n clean on the system volume" quiet ntfsfix -n "$T/$m.win"
	check "windows $m: the data volume (no \\Windows) untouched" cmp -s "$T/$m.data" "$T/win.p2"
	check "windows $m: the SYSTEM hive untouched" cmp -s "$T/SYSTEM" <(ntfscat "$T/$m.win" Windows/System32/config/SYSTEM 2>/dev/null)
done
check "the Windows session ends" wait_api "/api/v1/sessions/$WSID" "d['session']['state'] == 'finished'" 20
check_json "{x['name']: (x['identity'], x['identity_detail']) for x in d['machines']} == \
{'m1': ('done', 'windows: unattend ComputerName=LAB-07 (partition 1)'), \
'm2': ('done', 'windows: unattend ComputerName=lab-08 (partition 1)')}" \
	"API: identity and identity_detail say what was set where"
assert_match "machine m1.*host name set to LAB-07 \(windows: unattend ComputerName=LAB-07" "$(cat "$T/srv.log")" \
	"the server log says what m1's identity step did"
# report_has : the session's text report (from the store, written by its own thread) has m2's
# host name and identity.
# shellcheck disable=SC2317 # called through check
report_has() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run fc_srv report "$WSID" --server "$CON_URL"
		grep -Eq "  m2 .* lab-08\.example\.org +windows: unattend ComputerName=lab-08 \(partition 1\)" "$T/out" &&
			return 0
		sleep 0.5
	done
	cat "$T/out" "$T/err" >&2
	return 1
}
check "fleetcast report: m2's host name and identity, from the store" report_has
mc_finish
