#!/bin/bash
# Issue 10 ("A real service"): every program and every subcommand answers
# --help on stdout with exit 0, --version, and refuses an unknown flag by
# name with exit 64, without taking the next argument as its value and
# without doing anything. The subcommands are walked from
# `fleetcast --list-commands` (the table `fleetcast --help` is printed from),
# so a command added later is checked too. No root needed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
for b in FLEETCASTD FLEETCAST_RECV; do
	[[ -n ${!b:-} && -x ${!b} ]] || { echo "$b must name the built binary" >&2; exit 99; }
done

VERSION_RE='^fleetcast(d|-recv)? [0-9]+\.[0-9]+\.[0-9]+$'

# help_ok WHAT CMD... : exit 0, text on stdout (a usage line), nothing on stderr.
help_ok() {
	local what=$1
	shift
	run "$@"
	if [[ $RC == 0 && -s $T/out && ! -s $T/err ]] && grep -q '^usage:' "$T/out"; then
		pass "$what --help: exit 0, usage on stdout"
	else
		fail "$what --help: exit $RC, stdout $(wc -c <"$T/out") bytes, stderr: $(head -c 300 "$T/err")"
	fi
}

# version_ok WHAT CMD... : exit 0, one line "PROGRAM X.Y.Z" on stdout.
version_ok() {
	local what=$1
	shift
	run "$@"
	if [[ $RC == 0 ]] && [[ $(cat "$T/out") =~ $VERSION_RE ]]; then
		pass "$what --version"
	else
		fail "$what --version: exit $RC, stdout '$(head -c 100 "$T/out")'"
	fi
}

# unknown_ok WHAT CMD... : exit 64 and stderr names --no-such-flag (and not
# the argument after it, which must not have been taken as its value).
unknown_ok() {
	local what=$1
	shift
	run "$@"
	if [[ $RC == 64 ]] && grep -q 'unknown option --no-such-flag\b' "$T/err" &&
		! grep -q 'NEXTARG' "$T/err" && [[ ! -s $T/out ]]; then
		pass "$what: an unknown flag is refused by name (exit 64)"
	else
		fail "$what: unknown flag: exit $RC, stderr: $(head -c 300 "$T/err")"
	fi
}

log "fleetcast"
help_ok "fleetcast" "$FLEETCAST" --help
version_ok "fleetcast" "$FLEETCAST" --version
unknown_ok "fleetcast" "$FLEETCAST" --no-such-flag NEXTARG
run "$FLEETCAST" --list-commands
mapfile -t CMDS <"$T/out"
check "fleetcast --list-commands lists the commands (${#CMDS[@]})" test "${#CMDS[@]}" -ge 15
# Every command word of `fleetcast --help` is in the list walked below.
"$FLEETCAST" --help | sed -n 's/^  \([a-z][a-z-]*\)\( \([a-z][a-z-]*\)\)\{0,1\}.*/\1/p' | sort -u >"$T/groups"
missing=$(while read -r g; do printf '%s\n' "${CMDS[@]}" | grep -q "^$g\b" || echo "$g"; done <"$T/groups")
assert_eq "" "$missing" "every command of fleetcast --help is in --list-commands"

for cmd in "${CMDS[@]}"; do
	read -ra words <<<"$cmd"
	help_ok "fleetcast $cmd" "$FLEETCAST" "${words[@]}" --help
	grep -q "^usage: fleetcast $cmd\b" "$T/out" || fail "fleetcast $cmd --help: not its own usage line"
	version_ok "fleetcast $cmd" "$FLEETCAST" "${words[@]}" --version
	unknown_ok "fleetcast $cmd" "$FLEETCAST" "${words[@]}" --no-such-flag NEXTARG
	unknown_ok "fleetcast $cmd (--flag=value)" "$FLEETCAST" "${words[@]}" --no-such-flag=NEXTARG
	# a group's own --help lists its subcommands
	if ((${#words[@]} > 1)); then
		run "$FLEETCAST" "${words[0]}" --help
		grep -q "^  $cmd\b" "$T/out" || fail "fleetcast ${words[0]} --help does not list $cmd"
	fi
done

# An unknown flag does nothing: no image written, no key made.
"$FLEETCAST" image create /dev/null "$T/x.fcimg" --no-such-flag NEXTARG >/dev/null 2>&1
check "image create with an unknown flag wrote nothing" test ! -e "$T/x.fcimg"
"$FLEETCAST" key gen --out "$T/k" --no-such-flag >/dev/null 2>&1
check "key gen with an unknown flag made no key" test ! -e "$T/k.key"
# Other usage errors keep their status (2) and a line.
assert_exit 2 "$FLEETCAST" image create "$T/only-one-operand"
assert_exit 2 "$FLEETCAST" session frobnicate

log "fleetcastd"
help_ok "fleetcastd" "$FLEETCASTD" --help
help_ok "fleetcastd (--help after other flags)" "$FLEETCASTD" --daemon --help
version_ok "fleetcastd" "$FLEETCASTD" --version
unknown_ok "fleetcastd" "$FLEETCASTD" --no-such-flag NEXTARG
unknown_ok "fleetcastd (after --daemon)" "$FLEETCASTD" --daemon --no-such-flag NEXTARG
unknown_ok "fleetcastd (--flag=value)" "$FLEETCASTD" --daemon --no-such-flag=NEXTARG
unknown_ok "fleetcastd (last argument)" "$FLEETCASTD" --daemon --no-such-flag
assert_exit 64 "$FLEETCASTD" --daemon --rate
assert_stderr '--rate needs a value' "fleetcastd: a flag without its value is named"
assert_exit 64 "$FLEETCASTD" --daemon=yes
assert_stderr '--daemon takes no value' "fleetcastd: a flag that takes no value"
printf 'rate = 900M\nno-such-setting = 1\n' >"$T/bad.conf"
assert_exit 64 "$FLEETCASTD" --daemon --config "$T/bad.conf"
assert_stderr "bad.conf:2: unknown setting 'no-such-setting'" "fleetcastd: an unknown config line is named"
printf 'readback = perhaps\n' >"$T/bad.conf"
assert_exit 64 "$FLEETCASTD" --daemon --config "$T/bad.conf"
assert_stderr "bad.conf:1: readback takes yes or no" "fleetcastd: a yes/no setting takes yes or no"
printf 'rate = 900M\nreadback = yes\nmax-wait = 300\n' >"$T/good.conf"
assert_exit 0 "$FLEETCASTD" --daemon --config "$T/good.conf" --check-config
assert_match 'settings are valid' "$(cat "$T/out")" "fleetcastd --check-config says the file is valid"

log "fleetcast-recv"
help_ok "fleetcast-recv" "$FLEETCAST_RECV" --help
version_ok "fleetcast-recv" "$FLEETCAST_RECV" --version
unknown_ok "fleetcast-recv" "$FLEETCAST_RECV" --target "$T/t.img" --no-such-flag NEXTARG
unknown_ok "fleetcast-recv (--flag=value)" "$FLEETCAST_RECV" --target "$T/t.img" --no-such-flag=NEXTARG
check "fleetcast-recv with an unknown flag wrote no target" test ! -e "$T/t.img"
assert_exit 2 "$FLEETCAST_RECV" --target
assert_stderr '--target needs a value' "fleetcast-recv: a flag without its value is named"
finish
