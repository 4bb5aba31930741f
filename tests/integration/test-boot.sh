#!/bin/bash
# Issue 10: boot actions. fleetcastd --daemon --tftp-root is the one writer of machines' boot
# files, from each machine's action in the inventory (common/bootaction.c):
#   - at start it takes the action of files an earlier fleetcastd wrote for machines the
#     inventory has not decided (a one-shot server, an upgrade), and rewrites the decided ones
#     (a TFTP root made again by pxe build gets them back);
#   - `fleetcast machines boot ACTION MAC...|--lab` writes each action's file: local
#     (LOCALBOOT), capture and shell (straight into the initramfs with fleetcast.mode=),
#     deploy (the file goes: the menu images it; with --image, a file pinning that image,
#     kept across actions and restarts until --image none);
#   - `fleetcast pxe reset MAC|--all` sets local machines back to deploy;
#   - refused with clear errors: a bad action or MAC (nothing changed), a file fleetcast did
#     not write (left alone), a TFTP root without the menu;
#   - fleetcastd without --tftp-root keeps the actions and says no file was written.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 120 "$@"
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
con_init
lab_create 0 || die "lab_create"

TFTP=$T/tftp
CFG=$TFTP/pxelinux.cfg
mkdir -p "$CFG"
printf '# fleetcast pxe build: menu\nLABEL fleetcast\n  KERNEL vmlinuz\n  APPEND console=ttyS0 fleetcast.server=10.77.0.1\n' >"$CFG/default"
A=52:54:00:0b:00:0a B=52:54:00:0b:00:0b C=52:54:00:0b:00:0c OLD=52:54:00:0b:00:01 FOREIGN=52:54:00:0b:00:99
bootfile() { local m=${1//:/-}; echo "$CFG/01-$m"; }
# A file a one-shot fleetcastd wrote after imaging OLD, and one somebody else wrote.
printf '# fleetcastd: machine %s imaged by session 1234abcd\nDEFAULT local\nPROMPT 0\nTIMEOUT 0\nLABEL local\n  LOCALBOOT 0\n' \
	"$OLD" >"$(bootfile $OLD)"
echo "DEFAULT wds" >"$(bootfile $FOREIGN)"

con_daemon --tftp-root "$TFTP"
echo "server = $CON_URL" >"$FLEETCAST_HOME/cli.conf"
check "at start: OLD's action taken from its file" grep -q "machine $OLD: boot action local, from " "$T/srv.log"
must fc_srv labs add lab-b
for m in $A $B; do must fc_srv machines add "$m" --lab lab-b; done
must fc_srv machines add "$C"

run fc_srv machines list --json
check "inventory: OLD local, the new ones undecided (null: the menu)" jtrue "$T/out" \
	"{m['mac']: m['boot_action'] for m in d['machines']} == {'$OLD': 'local', '$A': None, '$B': None, '$C': None}"
run fc_srv machines boot local --lab lab-b
assert_eq 0 "$RC" "machines boot local --lab lab-b"
assert_match "machine $A: boot action local" "$(cat "$T/out")" "it names each machine"
for m in $A $B; do check "$m: LOCALBOOT" grep -q 'LOCALBOOT 0' "$(bootfile $m)"; done
check "$C, not in lab-b, untouched" test ! -e "$(bootfile $C)"
run fc_srv machines boot capture "$C"
assert_eq 0 "$RC" "machines boot capture C"
check "C: straight into the initramfs in capture mode" grep -q 'APPEND console=ttyS0 fleetcast.server=10.77.0.1 fleetcast.mode=capture' "$(bootfile $C)"
check "C: no menu, no timeout" bash -c "grep -q '^DEFAULT fleetcast' '$(bootfile $C)' && ! grep -q MENU '$(bootfile $C)'"
run fc_srv machines boot shell "$C"
check "C: shell mode, one mode only" bash -c "grep -q 'fleetcast.mode=shell\$' '$(bootfile $C)' && ! grep -q capture '$(bootfile $C)'"
IMG_ID=0123456789abcdef0123456789abcdef
run fc_srv machines boot deploy "$C" --image "$IMG_ID"
check "C: deploy pinned to an image: the menu with fleetcast.image=" bash -c \
	"grep -q 'ONTIMEOUT fleetcast' '$(bootfile $C)' && grep -q 'fleetcast.image=$IMG_ID' '$(bootfile $C)' && ! grep -q 'mode=' '$(bootfile $C)'"
run fc_srv machines boot deploy "$C"
check "C: deploy keeps the pin it was given" grep -q "fleetcast.image=$IMG_ID" "$(bootfile $C)"

run fc_srv pxe reset "$A"
assert_eq 0 "$RC" "pxe reset A"
check "A: its file went (the menu images it)" test ! -e "$(bootfile $A)"
run fc_srv pxe reset --all
assert_eq 0 "$RC" "pxe reset --all"
check "B and OLD, local, were set to deploy: their files went" bash -c "[[ ! -e '$(bootfile $B)' && ! -e '$(bootfile $OLD)' ]]"
check "C (deploy already) was not touched" grep -q "fleetcast.image=$IMG_ID" "$(bootfile $C)"

# Refusals: nothing changed, and the error says why.
run fc_srv machines boot reboot "$A"
assert_eq 2 "$RC" "an unknown action is a usage error"
assert_stderr "deploy|local|capture|shell" "it lists the actions"
run fc_srv machines boot local "$A" 52:54:00:zz:00:01
assert_eq 2 "$RC" "a bad MAC is a usage error, before anything is asked"
assert_stderr "'52:54:00:zz:00:01' is not a MAC address" "it names the bad one"
req POST /api/v1/boot '{"macs":["'$B'","52:54:00:zz:00:01"],"action":"capture"}' "$TOKEN"
expect 400 "the daemon refuses a bad MAC too"
check_json "'macs[1] is not a MAC' in d['error']" "it names the bad one"
check "and B, before it in the list, was not changed" test ! -e "$(bootfile $B)"
run fc_srv machines boot local "$FOREIGN"
assert_eq 1 "$RC" "a file fleetcast did not write: refused"
assert_stderr "cannot be written" "it says the files cannot be written"
check "the foreign file is left alone" grep -q '^DEFAULT wds$' "$(bootfile $FOREIGN)"
check "the daemon's log says whose file it is" grep -q "01-52-54-00-0b-00-99 was not written by fleetcast: left alone" "$T/srv.log"
run fc_srv machines boot local "$A" --lab lab-b
assert_eq 2 "$RC" "MACs and --lab together: a usage error"
run fc_srv pxe reset "$A" --tftp-root "$TFTP"
assert_eq 2 "$RC" "pxe reset --tftp-root: refused by name (the daemon writes the files)"
req POST /api/v1/boot '{"macs":["'$A'"],"action":"local","when":"now"}' "$TOKEN"
expect 400 "an unknown field is refused"
req POST /api/v1/boot '{"macs":["'$A'"],"action":"local"}' "$VIEWER"
check "the viewer token cannot set boot actions" test "$CODE" = 401 -o "$CODE" = 403

# A restart rewrites every decided machine's file: the TFTP root made again.
run fc_srv machines boot local "$A"
lab_kill "$SRV_PID" TERM
rm -f "$CFG"/01-52-54-00-0b-00-0*
mv "$T/srv.log" "$T/srv1.log"
# shellcheck disable=SC2119 # no extra arguments
con_daemon --tftp-root "$TFTP"
check "after a restart A's LOCALBOOT is written again" grep -q 'LOCALBOOT 0' "$(bootfile $A)"
check "and C's pinned deploy" grep -q "fleetcast.image=$IMG_ID" "$(bootfile $C)"
check "B (deploy, nothing pinned) has no file" test ! -e "$(bootfile $B)"
run fc_srv machines boot deploy "$C" --image none
check "--image none drops C's pin: its file goes" test ! -e "$(bootfile $C)"

# Without --tftp-root the actions are kept, and the CLI says no file was written.
lab_kill "$SRV_PID" TERM
mv "$T/srv.log" "$T/srv2.log"
# shellcheck disable=SC2119
con_daemon
run fc_srv machines boot local "$B"
assert_eq 0 "$RC" "machines boot without --tftp-root"
assert_match "no --tftp-root: no boot files were written" "$(cat "$T/out")" "the CLI says no file was written"
run fc_srv machines list --json
check "the inventory has B local all the same" jtrue "$T/out" \
	"[m['boot_action'] for m in d['machines'] if m['mac'] == '$B'] == ['local']"
mc_finish
