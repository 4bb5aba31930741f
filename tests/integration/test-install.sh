#!/bin/bash
# Issue 10 ("A real service"): the installed tree and the systemd unit.
#  1. `meson install --destdir` puts the binaries, pxe/, the unit, the
#     sysusers.d file, the config example and the man pages where they
#     belong; the example's lines are the --config format (all of them
#     uncommented pass `fleetcastd --check-config`); `fleetcast pxe build`
#     knows the installed pxe/ directory.
#  2. `systemd-analyze verify` passes on the installed unit, warnings and all.
#  3. The unit's ExecStart runs as the `fleetcast` user made from the
#     installed sysusers.d file, with the unit's sandbox: under systemd-run
#     when PID 1 is systemd, otherwise emulated in a private mount namespace
#     (setpriv: its user, group, capabilities, no new privileges, umask; the
#     whole file system read-only but the state directory, owned and with the
#     mode of StateDirectory=; /home and /root empty; a private /tmp). It
#     serves a session, created by an admin in the `fleetcast` group through
#     the installed CLI with no token copied, to a receiver in a netns lab;
#     the token files are 0640 with the daemon's group; a user outside the
#     group is refused with a message naming the group.
#  4. ExecReload (SIGHUP) applies a changed rate to new sessions, says what
#     needs a restart, and a bad file is refused with the settings kept.
# Everything made (users, group, mounts, files) is removed at the end, also
# on failure. Needs root.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 280 "$@"
mc_init
: "${FC_BUILD_ROOT:?FC_BUILD_ROOT must name the meson build directory}"

ROOT=
ADM=fc-adm-$$
OTHER=fc-oth-$$
MADE_USER=
USER_WAS_MADE=
MADE_STATEDIR=
UNIT_NAME=

# Removes what the test made outside $T. Idempotent; runs on any exit.
# shellcheck disable=SC2317 # also run by the exit traps
install_cleanup() {
	[[ -n $UNIT_NAME ]] && systemctl stop "$UNIT_NAME" >/dev/null 2>&1
	[[ -n ${HOLDER:-} ]] && kill "$HOLDER" 2>/dev/null
	[[ -n ${SRV_PID:-} ]] && kill "$SRV_PID" 2>/dev/null
	for u in "$ADM" "$OTHER"; do
		getent passwd "$u" >/dev/null && userdel "$u" >/dev/null 2>&1
	done
	if [[ -n $MADE_USER ]]; then
		getent passwd fleetcast >/dev/null && userdel fleetcast >/dev/null 2>&1
		getent group fleetcast >/dev/null && groupdel fleetcast >/dev/null 2>&1
		MADE_USER=
	fi
	# made by the test: the emulation's mount point (its bind mount was only
	# the holder's), or what systemd made for the transient unit
	if [[ -n $MADE_STATEDIR ]]; then
		rm -rf -- "$STATEDIR" && MADE_STATEDIR=
	fi
	[[ -n $ROOT ]] && rm -rf -- "$ROOT"
	ROOT=
	HOLDER=
	SRV_PID=
}
# shellcheck disable=SC2317 # run by the lab's exit trap
lab_cleanup_hook() {
	install_cleanup
	if [[ -z ${MC_DUMPED:-} ]] && { ((FAILED > 0)) || [[ -z ${MC_FINISHED:-} ]]; }; then
		echo "# test ended early or failed after $((SECONDS - ${MC_T0:-0})) s"
		mc_dump_logs
	fi
}
trap 'install_cleanup; cleanup' EXIT

# build_opt NAME : a meson option of the build, an absolute path for the directories.
build_opt() {
	python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
v = o[sys.argv[1]]
print(v if sys.argv[1] == "prefix" or os.path.isabs(v) else os.path.join(o["prefix"], v))' "$1" <"$T/options.json"
}
# installed NAME_REGEX : where meson installs the file whose destination matches.
installed() {
	python3 -c '
import json, re, sys
print("\n".join(d for d in json.load(sys.stdin).values() if re.search(sys.argv[1], d)))' "$1" <"$T/installed.json"
}

# ---------------------------------------------------------------------------- 1. the tree
# Not under /tmp: the unit's PrivateTmp hides the host's /tmp from the daemon.
ROOT=$(mktemp -d /run/fc-install.XXXXXX) || die "mktemp"
chmod 0755 "$ROOT"
must meson install -C "$FC_BUILD_ROOT" --destdir "$ROOT" --no-rebuild --quiet
meson introspect "$FC_BUILD_ROOT" --buildoptions >"$T/options.json" || die "meson introspect"
meson introspect "$FC_BUILD_ROOT" --installed >"$T/installed.json" || die "meson introspect"
BINDIR=$(build_opt bindir)
SYSCONFDIR=$(build_opt sysconfdir)
MANDIR=$(build_opt mandir)
PXEDIR=$(build_opt datadir)/fleetcast/pxe
STATEDIR=$(build_opt localstatedir)/lib/fleetcast
UNIT=$(installed '/fleetcastd\.service$')
SYSUSERS=$(installed '/sysusers\.d/fleetcast\.conf$')
log "prefix $(build_opt prefix), unit $UNIT, sysusers $SYSUSERS"
for f in "$BINDIR/fleetcast" "$BINDIR/fleetcastd" "$BINDIR/fleetcast-recv"; do
	check "installed: $f (executable)" test -x "$ROOT$f"
done
for f in "$PXEDIR/mkinitramfs.sh" "$PXEDIR/init" "$PXEDIR/udhcpc.script" \
	"$SYSCONFDIR/fleetcast/fleetcastd.conf" "$MANDIR/man1/fleetcast.1" \
	"$MANDIR/man8/fleetcastd.8" "$MANDIR/man8/fleetcast-recv.8"; do
	check "installed: $f" test -s "$ROOT$f"
done
assert_match '/systemd/system/fleetcastd\.service$' "$UNIT" "the unit goes into a systemd system unit directory"
assert_match '/sysusers\.d/fleetcast\.conf$' "$SYSUSERS" "the user goes into a sysusers.d directory"
check "installed: $UNIT" test -s "$ROOT$UNIT"
check "installed: $SYSUSERS" test -s "$ROOT$SYSUSERS"
assert_eq /etc/fleetcast/fleetcastd.conf "$SYSCONFDIR/fleetcast/fleetcastd.conf" \
	"the config is /etc/fleetcast/fleetcastd.conf (the unit's ConfigurationDirectory)"
assert_eq /var/lib/fleetcast "$STATEDIR" "the CLI's service token dir is the unit's StateDirectory"
for page in "$MANDIR/man1/fleetcast.1" "$MANDIR/man8/fleetcastd.8" "$MANDIR/man8/fleetcast-recv.8"; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$ROOT$page" 2>&1 >/dev/null)
	assert_eq "" "$out" "man ${page##*/}: no roff warnings"
done
assert_match "$PXEDIR" "$("$ROOT$BINDIR/fleetcast" pxe build --help)" "fleetcast pxe build names the installed pxe/"
CONF=$ROOT$SYSCONFDIR/fleetcast/fleetcastd.conf
check "the config example is all comments" bash -c "! grep -v '^#' '$CONF' | grep -q ."
# Its settings uncommented (but the session's own and those naming files
# that do not exist here) are the --config format.
sed -n '/^## /!s/^# \([a-z-]* = \)/\1/p' "$CONF" | grep -Ev '^(image|group|iface|tftp-root) ' >"$T/all.conf"
check "the example has settings ($(wc -l <"$T/all.conf"))" test "$(wc -l <"$T/all.conf")" -ge 15
assert_exit 0 "$ROOT$BINDIR/fleetcastd" --daemon --config "$T/all.conf" --check-config
# A reinstall keeps the administrator's config.
echo "# mine" >>"$CONF"
must meson install -C "$FC_BUILD_ROOT" --destdir "$ROOT" --no-rebuild --quiet
check "a reinstall keeps the edited config" grep -q '^# mine' "$CONF"
check "a reinstall puts the new example next to it" test -s "$CONF.example"
rm -f "$CONF.example"

# ---------------------------------------------------------------------------- 2. the unit
unit_get() { sed -n "s/^$1=//p" "$ROOT$UNIT" | tail -1; }
EXEC=$(unit_get ExecStart)
assert_eq "$BINDIR/fleetcastd --daemon --config /etc/fleetcast/fleetcastd.conf" "$EXEC" "ExecStart"
for kv in User=fleetcast Group=fleetcast StateDirectory=fleetcast ConfigurationDirectory=fleetcast \
	ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	AmbientCapabilities=CAP_NET_RAW "ExecReload=/bin/kill -HUP \$MAINPID"; do
	assert_eq "${kv#*=}" "$(unit_get "${kv%%=*}")" "unit: $kv"
done
# verify checks ExecStart's program and Documentation's man page on this
# host: the copy verified differs only in where the program is (under the
# destdir), and man looks in the destdir.
mkdir -p "$T/unit" && sed "s#^ExecStart=$BINDIR/#ExecStart=$ROOT$BINDIR/#" "$ROOT$UNIT" >"$T/unit/fleetcastd.service"
run env MANPATH="$ROOT$MANDIR" systemd-analyze verify "$T/unit/fleetcastd.service"
assert_eq "0:" "$RC:$(cat "$T/err")" "systemd-analyze verify: exit 0, no warning"

# ---------------------------------------------------------------------------- 3. the service
if getent passwd fleetcast >/dev/null || getent group fleetcast >/dev/null; then
	log "the fleetcast user or group exists already: used, and left in place"
else
	MADE_USER=1
	USER_WAS_MADE=1
	must systemd-sysusers "$ROOT$SYSUSERS"
fi
check "sysusers made the fleetcast user in the fleetcast group" \
	test "$(id -gn fleetcast 2>/dev/null)" = fleetcast
assert_match 'nologin$' "$(getent passwd fleetcast)" "the fleetcast user has no login shell"
must useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group \
	--groups fleetcast "$ADM"
must useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$OTHER"

log "a 32 MiB image, readable by the service"
mc_image sample 32 100
mkdir -p "$ROOT/srv" && cp "$IMG" "$ROOT/srv/master.fcimg" && chmod 0644 "$ROOT/srv/master.fcimg"
lab_create 1 || die "lab_create"
NS=$(lab_ns srv)

STATE_MODE=$(unit_get StateDirectoryMode)
# ExecStart with its paths under the destdir
read -ra ARGV <<<"$EXEC"
for i in "${!ARGV[@]}"; do [[ ${ARGV[i]} == /* ]] && ARGV[i]=$ROOT${ARGV[i]}; done
# as USER CMD... : run CMD as USER (its groups) in the service's namespaces,
# with a clean environment (no FLEETCAST_HOME: the CLI looks where an admin's would).
as() {
	local u=$1
	shift
	nsenter -t "$HOLDER" -m -n -- setpriv --reuid "$u" --regid "$(id -g "$u")" \
		--init-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@"
}

[[ -e $STATEDIR ]] || MADE_STATEDIR=1
if [[ $(ps -o comm= -p 1) == systemd ]]; then
	log "PID 1 is systemd: the unit's [Service] settings through systemd-run"
	UNIT_NAME=fc-test-$$
	props=(-p "NetworkNamespacePath=/run/netns/$NS")
	while IFS= read -r line; do props+=(-p "$line"); done < <(sed -n '/^\[Service\]/,/^\[/{/^[A-Z][A-Za-z]*=/p}' "$ROOT$UNIT" |
		grep -Ev '^(ExecStart|ExecReload|Type|Restart|RestartSec)=')
	must systemd-run --unit "$UNIT_NAME" "${props[@]}" "${ARGV[@]}"
	SRV_PID=$(systemctl show -p MainPID --value "$UNIT_NAME")
	SVC_STATE=$STATEDIR
	HOLDER=$SRV_PID # the CLI runs in the daemon's namespaces
	srvlog() { journalctl -u "$UNIT_NAME" --no-pager -o cat; }
else
	log "PID 1 is $(ps -o comm= -p 1), not systemd: the unit's sandbox emulated"
	SVC_STATE=$ROOT/state
	mkdir -m "$STATE_MODE" "$SVC_STATE" && chown fleetcast:fleetcast "$SVC_STATE"
	[[ -n $MADE_STATEDIR ]] && mkdir -p "$STATEDIR"
	# A namespace holder in the lab's srv: its own mounts, the lab's network.
	HOLDER=$(lab_bg srv "$T/holder.log" unshare -m --propagation private sleep 600)
	for ((i = 0; i < 300; i++)); do
		[[ $(readlink "/proc/$HOLDER/exe") == */sleep ]] && break
		sleep 0.1
	done
	sb() { nsenter -t "$HOLDER" -m -n -- "$@"; }
	must sb mount --bind "$SVC_STATE" "$STATEDIR" # StateDirectory=fleetcast
	# ProtectSystem=strict: every mount read-only but the API file systems
	# and the state directory.
	sb findmnt -rno TARGET | grep -Ev "^(/proc|/sys|/dev)(/|$)|^$STATEDIR$" >"$T/mounts"
	while read -r mp; do sb mount -o remount,bind,ro "$mp" 2>/dev/null; done <"$T/mounts"
	for d in /home /root /run/user; do # ProtectHome=yes
		[[ -d $d ]] && sb mount -t tmpfs -o ro,mode=0755 tmpfs "$d"
	done
	for d in /tmp /var/tmp; do # PrivateTmp=yes
		sb mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	caps=$(unit_get AmbientCapabilities | tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g')
	# shellcheck disable=SC2016 # expanded by that bash
	SRV_PID=$(lab_bg srv "$T/srv.log" nsenter -t "$HOLDER" -m -- setpriv \
		--reuid fleetcast --regid fleetcast --init-groups --no-new-privs \
		--inh-caps "-all,$caps" --ambient-caps "$caps" --bounding-set "-all,$caps" \
		bash -c 'umask "$1"; shift; exec env -i PATH=/usr/bin:/bin STATE_DIRECTORY="$0" "$@"' \
		"$STATEDIR" "$(unit_get UMask)" "${ARGV[@]}")
	srvlog() { cat "$T/srv.log"; }
fi
for ((i = 0; i < 600; i++)); do # 60 s: a loaded CI machine can be slow to start it
	srvlog | grep -q 'console: http://' && break
	sleep 0.1
done
srvlog >"$T/srv.log.now"
assert_match 'console: http://127\.0\.0\.1:7680/' "$(cat "$T/srv.log.now")" "the service's console listens"
assert_match '^Uid:\s+'"$(id -u fleetcast)"'\s' "$(cat "/proc/$SRV_PID/status")" "the daemon runs as the fleetcast user"
check "the daemon has the unit's ambient capability CAP_NET_RAW and no other" \
	grep -q '^CapAmb:.*0000000000002000$' "/proc/$SRV_PID/status"
check "the daemon cannot gain privileges (NoNewPrivileges)" grep -q '^NoNewPrivs:.*1$' "/proc/$SRV_PID/status"
# the sandbox holds: the state dir is writable, the rest is not
check "sandbox: the state directory is writable for fleetcast" as fleetcast touch "$STATEDIR/probe"
if as fleetcast touch "$ROOT/probe" 2>/dev/null; then
	fail "sandbox: the installed tree is writable"
else
	pass "sandbox: the installed tree is read-only"
fi
as fleetcast rm -f "$STATEDIR/probe"
assert_match "API api\.token created: $STATEDIR/api\.token \(mode 0640" "$(cat "$T/srv.log.now")" \
	"the token is made in the state directory"
assert_eq "640 fleetcast fleetcast" "$(stat -c '%a %U %G' "$SVC_STATE/api.token" 2>&1)" "api.token: 0640, fleetcast:fleetcast"
assert_eq "640 fleetcast fleetcast" "$(stat -c '%a %U %G' "$SVC_STATE/viewer.token" 2>&1)" "viewer.token: 0640, fleetcast:fleetcast"
assert_match "store: $STATEDIR/fleetcast\.db" "$(cat "$T/srv.log.now")" "the store is opened in the state directory"
assert_eq fleetcast "$(stat -c '%U' "$SVC_STATE/fleetcast.db" 2>&1)" "the store file is the fleetcast user's"

log "an admin in the fleetcast group creates a session; a receiver in m1 is imaged"
FC=$ROOT$BINDIR/fleetcast
as "$ADM" "$FC" session create --image "$ROOT/srv/master.fcimg" --group 239.77.0.1:9000 \
	--iface eth0 --min-receivers 1 >"$T/create.out" 2>"$T/create.err"
SESSION=$(grep -Eo '[0-9a-f]{8}' "$T/create.out" | head -1)
check "$ADM (in the group) creates a session with the service's token ($(head -c 200 "$T/create.err"))" test -n "$SESSION"
MC_PID[m1]=$(lab_bg m1 "$T/m1.log" "$ROOT$BINDIR/fleetcast-recv" --target "$T/m1.img" \
	--server 10.77.0.1 --pubkey "$PUB" --name m1 --stats "$T/m1.json")
mc_wait_recvs 90 m1
mc_check_recv m1
as "$ADM" "$FC" session list >"$T/list.out" 2>"$T/list.err"
assert_eq 0 "$?" "$ADM runs fleetcast session list (no token copied)"
assert_match "$SESSION" "$(cat "$T/list.out")" "the list shows the session"
as "$ADM" "$FC" session show "$SESSION" --json >"$T/show.json" 2>&1
assert_eq 1 "$(jget "$T/show.json" 'sum(m["state"] == "done" for m in d["machines"])' 2>&1)" \
	"the service saw m1 done"
as "$OTHER" "$FC" session list >"$T/other.out" 2>"$T/other.err"
assert_eq 1 "$?" "$OTHER (not in the group): fleetcast session list exits 1"
assert_match "cannot read the token file $STATEDIR/api\.token: Permission denied.*'fleetcast' group" \
	"$(cat "$T/other.err")" "$OTHER is told the token is the fleetcast group's"

# ---------------------------------------------------------------------------- 4. reload
# rate_of ID : the rate cap of session ID, as the API says.
rate_of() {
	as "$ADM" "$FC" session show "$1" --json >"$T/s.json" 2>&1
	jget "$T/s.json" 'd["session"]["rate_cap_bps"]' 2>/dev/null
}
new_session() {
	as "$ADM" "$FC" session create --image "$ROOT/srv/master.fcimg" --group "$1" --iface eth0 \
		--min-receivers 5 2>&1 | grep -Eo '[0-9a-f]{8}' | head -1
}
reload() { # the unit's ExecReload, $MAINPID being the daemon
	local n
	n=$(srvlog | grep -c 'reload')
	local -a cmd
	read -ra cmd <<<"$(unit_get ExecReload | sed "s/\$MAINPID/$SRV_PID/")"
	"${cmd[@]}"
	for ((i = 0; i < 300; i++)); do
		(($(srvlog | grep -c 'reload') > n)) && break
		sleep 0.1
	done
	srvlog | grep 'reload' | tail -1
}
S1=$(new_session 239.77.0.2:9002)
assert_eq 100000000 "$(rate_of "$S1")" "before the reload a new session has the default rate"
printf 'rate = 250M\nhttp = 127.0.0.1:7681\n' >>"$CONF"
line=$(reload)
assert_match 'reloaded /etc/fleetcast/fleetcastd\.conf|reloaded .*fleetcastd\.conf' "$line" "SIGHUP: the config is read again"
assert_match 'rate \(Mbit/s\) 100 -> 250' "$line" "the reload line says the rate changed"
assert_match 'needs a restart, not applied: http 127\.0\.0\.1:7680 -> 127\.0\.0\.1:7681' "$line" \
	"the reload line says the console address needs a restart"
S2=$(new_session 239.77.0.3:9003)
assert_eq 250000000 "$(rate_of "$S2")" "after the reload a new session has the new rate"
assert_eq 100000000 "$(rate_of "$S1")" "the session made before keeps its rate"
printf 'no-such-setting = 1\n' >>"$CONF"
line=$(reload)
assert_match 'reload of .*fleetcastd\.conf refused: the settings in use are kept' "$line" "a bad file is refused"
assert_match "unknown setting 'no-such-setting'" "$(srvlog)" "the bad line is named"
S3=$(new_session 239.77.0.4:9004)
assert_eq 250000000 "$(rate_of "$S3")" "after the refused reload the settings in use are kept"
check "the daemon is still running" kill -0 "$SRV_PID"

# ---------------------------------------------------------------------------- cleanup
kill "$SRV_PID" 2>/dev/null
[[ -n $UNIT_NAME ]] || lab_wait "$SRV_PID" 15 || true
install_cleanup
check "the test's users are gone" bash -c "! getent passwd '$ADM' && ! getent passwd '$OTHER'"
[[ -z $USER_WAS_MADE ]] || check "the fleetcast user is gone (made by the test)" bash -c "! getent passwd fleetcast"
check "the installed tree is gone" test ! -e "$ROOT"
mc_finish
