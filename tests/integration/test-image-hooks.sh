#!/bin/bash
# Issue 12, per-image hooks: fleetcastd packs IMG.hooks/ (beside the image
# file) once per session and seals the tar's BLAKE2b-256 in every JOIN_ACK;
# each receiver fetches the tar over the TCP control port, checks it against
# that hash before unpacking anything, and runs its hooks with the machine's
# record in their environment. A netns lab, fleetcastd --daemon, three
# machines named by the inventory (lab-a):
#   m1, m2  the image's hooks run: 10-record writes the FC_ environment,
#           20-order appends after it; README (mode 0644) is carried but not
#           run
#   m3      behind a rogue on the path (hooks_tamper.py, an nft DNAT of its
#           TCP to the server): the tar it gets has one byte changed. It is
#           refused before anything runs: m3 exits 11, its disk written but
#           the machine failed, the reason in its log, the server's log and
#           the API
# Also: a hooks directory holding a symbolic link is refused when the
# session is created (nothing but regular files is packed).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 240 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
command -v nft >/dev/null || die "nft is missing (scripts/install-deps.sh: nftables)"

con_image 4
IMAGE_ID=$("$FLEETCAST" image info "$IMG" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image_id"])')
HOOKS=$IMG.hooks
mkdir -p "$HOOKS"
# shellcheck disable=SC2016 # $FC_HOSTNAME is the hook's, expanded when it runs
printf '#!/bin/sh\nenv | grep ^FC_ | sort >%s/rec.$FC_HOSTNAME\necho 10 >>%s/order.$FC_HOSTNAME\n' \
	"$T" "$T" >"$HOOKS/10-record"
# shellcheck disable=SC2016 # the same
printf '#!/bin/sh\necho 20 >>%s/order.$FC_HOSTNAME\n' "$T" >"$HOOKS/20-order"
printf '#!/bin/sh\ntouch %s/readme-ran\n' "$T" >"$HOOKS/README"
chmod 0755 "$HOOKS/10-record" "$HOOKS/20-order"
chmod 0644 "$HOOKS/README"

lab_create 3 || die "lab_create"
con_daemon --verbose
declare -A MAC
for m in m1 m2 m3; do MAC[$m]=$(lab_exec "$m" cat /sys/class/net/eth0/address); done
must fc_srv labs add lab-a --server "$CON_URL"
for m in m1 m2 m3; do
	must fc_srv machines add "${MAC[$m]}" --name "pc-$m" --lab lab-a --server "$CON_URL"
done

# --- a hooks directory with a link in it: the session is refused
cp "$IMG" "$T/linked.fcimg"
mkdir -p "$T/linked.fcimg.hooks"
ln -s /etc/passwd "$T/linked.fcimg.hooks/10-link"
CREATE=(session create --group 239.77.12.1:9000 --iface eth0 --rate 100M --min-receivers 3
	--max-wait 60 --server "$CON_URL")
run fc_srv "${CREATE[@]}" --image "$T/linked.fcimg"
assert_eq 1 "$RC" "session create with a link in IMG.hooks/: refused (exit 1)"
assert_stderr "image hooks .*10-link: not a regular file" "the error names the link"

run fc_srv "${CREATE[@]}" --image "$IMG"
assert_eq 0 "$RC" "session create (the image has hooks)"
SID=$(head -1 "$T/out")
log "session $SID"
assert_match "session $SID: image hooks from $HOOKS \(4096-byte tar" "$(cat "$T/srv.log")" \
	"fleetcastd packed IMG.hooks/ (3 small files: a header and a block each, 2 end blocks)"
printf '#!/bin/sh\nexit 0\n' >"$T/later"
cp "$T/later" "$HOOKS/30-added-later" # after the session was made: not in its tar

# --- m3's TCP to the server goes through the rogue
M3=$(lab_addr m3)
lab_bg m3 "$T/rogue.log" python3 "$IT_DIR/hooks_tamper.py" "$M3" 7999 0x4fc >/dev/null
mc_wait_log "$T/rogue.log" listening 10 || die "hooks_tamper.py did not start: $(cat "$T/rogue.log")"
lab_exec m3 nft -f - <<-EOF || die "nft in m3"
	table ip fc_rogue {
		chain out {
			type nat hook output priority -100;
			meta mark != 0x4fc ip daddr 10.77.0.1 meta l4proto tcp dnat to $M3:7999
		}
	}
EOF

for m in m1 m2 m3; do mc_recv "$m"; done
mc_wait_recvs 150 m1 m2 m3
for m in m1 m2; do
	assert_eq 0 "${MC_RC[$m]}" "$m: fleetcast-recv exit 0" || MC_BAD+=("$m")
done
assert_eq 11 "${MC_RC[m3]}" "m3 (tampered tar): exit 11, the disk written, the machine failed" ||
	MC_BAD+=(m3)

# --- the hooks ran on m1 and m2, with each machine's record
for m in m1 m2; do
	for k in "FC_MAC=${MAC[$m]}" "FC_HOSTNAME=pc-$m" FC_LAB=lab-a "FC_SESSION=$SID" \
		"FC_IMAGE=$IMAGE_ID" "FC_DISK=$T/$m.img" FC_IDENTITY=skipped; do
		check "$m: the image's hook saw $k" grep -qxF "$k" "$T/rec.pc-$m"
	done
	assert_eq "10 20" "$(tr '\n' ' ' <"$T/order.pc-$m" | sed 's/ $//')" "$m: hooks ran in name order"
	check "$m: its log says the tar matched its sealed hash" \
		grep -q 'image hooks: 3 files, 4096-byte tar matches its sealed hash' "$T/$m.log"
	check "$m: hooks run, all exited 0" grep -q 'hooks: 2 run from .*fleetcast-hooks-.*, all exited 0' "$T/$m.log"
	check "$m: its disk is the image" quiet cmp "$T/$m.img" "$REF"
	dir=$(grep -o 'hooks: 2 run from [^,]*' "$T/$m.log" | cut -d' ' -f5)
	check "$m: the unpacked hooks ($dir) are removed after the run" test -n "$dir" -a ! -e "$dir"
done
check "README (mode 0644 in the tar) was not run" test ! -e "$T/readme-ran"
check "a hook added to IMG.hooks/ after the session was made is not served" \
	grep -q 'hooks: 2 run from' "$T/m1.log"

# --- m3 refused the altered tar before running anything
check "the rogue altered m3's HOOKS answer" grep -q 'tampered with a HOOKS answer' "$T/rogue.log"
check "m3 ran none of the hooks" test ! -e "$T/rec.pc-m3" -a ! -e "$T/order.pc-m3"
check "m3's log gives the reason" grep -q 'does not match the hash sealed in JOIN_ACK' "$T/m3.log"
check "the session ends" wait_api "/api/v1/sessions/$SID" "d['session']['state'] == 'finished'" 30
check_json "{x['name']: x['state'] for x in d['machines']} == {'m1': 'done', 'm2': 'done', 'm3': 'failed'}" \
	"API: m1 and m2 done, m3 failed"
check_json "[x['error'] for x in d['machines'] if x['name'] == 'm3'][0].startswith('image hooks: the tar received does not match')" \
	"API: m3's error says the hooks tar did not match"
assert_match "machine m3.*FAILED: image hooks: the tar received does not match" "$(cat "$T/srv.log")" \
	"the server log names m3's failure"
mc_finish
