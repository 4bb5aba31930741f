# shellcheck shell=bash
# Shared helpers for the fleetcast integration tests. Source it from a test:
#   . "$(dirname "$0")/lib.sh"
#
# Environment: FLEETCAST (the built fleetcast binary, set by meson), SRCDIR
# (the source root, set by meson). Each test gets its own temporary directory
# $T, removed on exit, and its own FLEETCAST_HOME inside it (so the default key
# never touches the real ~/.fleetcast).

set -u -o pipefail
export LC_ALL=C

: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
if [[ -z "${FLEETCAST:-}" || ! -x "$FLEETCAST" ]]; then
	echo "FLEETCAST must name the built fleetcast binary (got '${FLEETCAST:-}')" >&2
	exit 99
fi
export PATH="$PATH:/usr/sbin:/sbin"

IT_DIR="$SRCDIR/tests/integration"
PYHELP="$IT_DIR/compare_extents.py"
MIB=$((1024 * 1024))

T=$(mktemp -d "${TMPDIR:-/tmp}/fc-it.XXXXXX") || exit 99
export FLEETCAST_HOME="$T/home"
LOOPS=()
cleanup() {
	local l
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
	rm -rf -- "$T"
}
# loop_attach FILE : set LOOP to a loop device over FILE (detached on exit);
# fails if loop devices are not available here.
LOOP=
loop_attach() {
	LOOP=$(losetup -f --show "$1" 2>/dev/null) || return 1
	LOOPS+=("$LOOP")
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
FAILED=0

log() { printf '# %s\n' "$*"; }
pass() {
	PASSED=$((PASSED + 1))
	printf 'ok %d - %s\n' "$((PASSED + FAILED))" "$*"
}
fail() {
	FAILED=$((FAILED + 1))
	printf 'not ok %d - %s\n' "$((PASSED + FAILED))" "$*"
}
# check DESCRIPTION CMD... : pass if CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# check_out DESCRIPTION CMD... : like check; a failure line ends with the
# last lines CMD printed (a fsck's complaint, a diff).
check_out() {
	local what=$1
	shift
	if "$@" >"$T/check.log" 2>&1; then
		pass "$what"
	else
		fail "$what: $(tail -5 "$T/check.log" | tr '\n' ';')"
	fi
}
# quiet CMD... : run CMD without output.
quiet() { "$@" >/dev/null 2>&1; }
# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
	if [[ "$1" == "$2" ]]; then
		pass "$3"
	else
		fail "$3 (expected '$1', got '$2')"
	fi
}
# assert_match REGEX STRING DESCRIPTION (extended regex, grep -E, case-insensitive)
assert_match() {
	# A here-string, not printf | grep -q: grep -q exits at the first match, printf can then
	# die of SIGPIPE, and pipefail would call a match a failure.
	if grep -Eqi -- "$1" <<<"$2"; then
		pass "$3"
	else
		fail "$3 (no match for /$1/ in: $(printf '%s' "$2" | head -c 400))"
	fi
}

# run CMD... : run CMD, stdout in $T/out, stderr in $T/err, exit code in RC.
RC=0
run() {
	RC=0
	"$@" >"$T/out" 2>"$T/err" || RC=$?
}
# assert_exit CODE CMD... : run CMD (as `run`) and check its exit code.
# The command's stdout/stderr remain in $T/out and $T/err.
assert_exit() {
	local want=$1
	shift
	run "$@"
	if [[ "$RC" == "$want" ]]; then
		pass "exit $want: ${*##*/}"
	else
		fail "exit $want: ${*##*/} (got $RC; stderr: $(head -c 600 "$T/err"))"
	fi
}
# assert_error_line [WHAT] : the last command wrote exactly one
# 'fleetcast: error: ...' line on stderr (errors are one line).
assert_error_line() {
	local n
	n=$(grep -c '^fleetcast: error: ' "$T/err")
	if [[ "$n" == 1 ]]; then
		pass "stderr has one 'fleetcast: error:' line${1:+ ($1)}"
	else
		fail "stderr has one 'fleetcast: error:' line${1:+ ($1)} (found $n; stderr: $(head -c 400 "$T/err" | tr '\n' '|'))"
	fi
}
# assert_stderr REGEX DESCRIPTION : stderr of the last command matches REGEX.
assert_stderr() { assert_match "$1" "$(cat "$T/err")" "$2"; }

# finish : print the summary line and exit non-zero if anything failed.
finish() {
	echo "$PASSED passed, $FAILED failed"
	if ((FAILED > 0 || PASSED == 0)); then exit 1; fi
	exit 0
}

# die MSG : a set-up step failed (not a fleetcast assertion): stop the test.
die() {
	fail "setup: $*"
	finish
}

# timed STEP CMD... : run a set-up command; die if it fails.
must() {
	if ! "$@" >"$T/setup.log" 2>&1; then
		die "$* ($(tail -c 600 "$T/setup.log"))"
	fi
}

# jget JSONFILE PYEXPR : evaluate a python expression on the parsed JSON `d`
# and print the result (strings plain, everything else as JSON).
jget() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# jtrue JSONFILE PYEXPR : succeeds if PYEXPR is true of the parsed JSON `d`.
jtrue() { [[ $(jget "$1" "$2" 2>/dev/null) == true ]]; }

# is_json FILE : FILE holds exactly one JSON object.
is_json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) else 1)' "$1" 2>/dev/null
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }
fsize() { stat -c %s "$1"; }

# part_field DISK N FIELD : from sfdisk --json, the start or size (FIELD) of
# partition number N of DISK, in bytes.
part_field() {
	sfdisk --json "$1" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
ss = t.get("sectorsize", 512)
n, field = sys.argv[1], sys.argv[2]
for p in t["partitions"]:
    num = p["node"][len(t["device"]):].lstrip("p")
    if num == n:
        print(p[field] * ss)
        break
else:
    sys.exit("no partition %s" % n)
' "$2" "$3"
}
part_start() { part_field "$1" "$2" start; }
part_size() { part_field "$1" "$2" size; }

# extract DISK OFFSET LENGTH OUT : copy a byte range of DISK to a new file OUT.
extract() {
	python3 "$PYHELP" extract "$1" "$2" "$3" "$4"
}
# put FILE DISK OFFSET : write FILE into DISK at byte OFFSET (no truncation).
put() {
	dd if="$1" of="$2" bs=1M seek="$3" oflag=seek_bytes conv=notrunc,sparse status=none
}
# garbage FILE OFFSET LENGTH : overwrite a range of FILE with random bytes.
garbage() {
	head -c "$3" /dev/urandom | dd of="$1" bs=1M seek="$2" oflag=seek_bytes iflag=fullblock conv=notrunc status=none
}
# flip_byte FILE OFFSET : invert one byte of FILE.
flip_byte() {
	python3 - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xFF]))
EOF
}

# make_tree DIR COUNT [SEED] : a tree of about COUNT files of mixed sizes
# (empty, tiny, a few KiB, some of several hundred KiB, two of a couple of MiB;
# random and compressible content), nested directories, symlinks (short and
# long, to a file, to a directory, dangling), a hard link, a sparse file and
# names with spaces.
make_tree() {
	python3 - "$1" "$2" "${3:-1}" <<'EOF'
import os, random, sys
root, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
os.makedirs(root, exist_ok=True)
dirs = [root]
for i in range(max(8, count // 60)):
    parent = rnd.choice(dirs)
    d = os.path.join(parent, "d%03d%s" % (i, " x" if i % 17 == 5 else ""))
    os.makedirs(d, exist_ok=True)
    dirs.append(d)

def content(n):
    if n == 0:
        return b""
    if rnd.random() < 0.5:
        return rnd.randbytes(n)
    line = ("line %d of a compressible file with some text in it\n" % rnd.randrange(1000)).encode()
    return (line * (n // len(line) + 1))[:n]

big = max(4, count // 150)
for i in range(count):
    r = rnd.random()
    if i < 2:
        n = rnd.randrange(2 * 1024 * 1024, 3 * 1024 * 1024)
    elif i < 2 + big:
        n = rnd.randrange(100 * 1024, 800 * 1024)
    elif r < 0.15:
        n = 0
    elif r < 0.55:
        n = rnd.randrange(1, 200)
    else:
        n = rnd.randrange(1024, 8 * 1024)
    path = os.path.join(rnd.choice(dirs), "f%05d.%s" % (i, "bin" if n % 2 else "txt"))
    with open(path, "wb") as f:
        f.write(content(n))

os.symlink("d000", os.path.join(root, "link-to-dir"))
some = [p for p in os.listdir(root) if p.startswith("f")]
os.symlink(some[0] if some else "nothing", os.path.join(root, "link-short"))
os.symlink("../" * 3 + "a/very/long/symlink/target/that/does/not/fit/in/the/inode/" + "z" * 40,
           os.path.join(root, "link-long-dangling"))
with open(os.path.join(root, "hardlink-src"), "wb") as f:
    f.write(rnd.randbytes(5000))
os.link(os.path.join(root, "hardlink-src"), os.path.join(root, "hardlink-dst"))
with open(os.path.join(root, "sparse"), "wb") as f:
    f.truncate(4 * 1024 * 1024)
    f.seek(1024 * 1024 + 123)
    f.write(rnd.randbytes(10000))
with open(os.path.join(root, "name with spaces"), "wb") as f:
    f.write(b"spaces\n")
EOF
}

# tree_bytes DIR : apparent size of the files in DIR, in bytes.
tree_bytes() { du -sb "$1" | cut -f1; }

# make_ext4 FILE SIZE_BYTES TREE : an ext4 filesystem image of SIZE bytes
# populated from TREE. The file is filled with random bytes first and mke2fs
# does not discard, so the filesystem's free blocks hold garbage (they must
# not be stored by a capture).
make_ext4() {
	rm -f "$1"
	garbage "$1" 0 "$2"
	must mke2fs -q -F -t ext4 -E nodiscard -L fc-test -d "$3" "$1" "$(($2 / 1024))k"
	must e2fsck -fn "$1"
}
# make_swap FILE SIZE_BYTES : a swap area over random garbage.
make_swap() {
	rm -f "$1"
	garbage "$1" 0 "$2"
	must mkswap -L fc-swap "$1"
}
# ext4_used_bytes FSFILE : (blocks - free blocks) * block size.
ext4_used_bytes() {
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '
		/^Block count/ {c=$2} /^Free blocks/ {f=$2} /^Block size/ {b=$2}
		END {printf "%d\n", (c - f) * b}'
}

# make_gpt_disk DISK TREE : the standard GPT test disk (512 MiB, sparse):
#   p1 ext4 (256 MiB) populated from TREE, free blocks full of garbage
#   p2 32 MiB of random data, no filesystem
#   p3 swap (32 MiB; the area after the header is garbage)
#   free space after p3 up to the backup GPT, with 100 KiB of random bytes at
#   400 MiB (unpartitioned but non-zero: must be stored)
# The ext4 image is left in DISK.p1 for inspection.
make_gpt_disk() {
	local disk=$1 tree=$2
	rm -f "$disk"
	truncate -s 512M "$disk"
	must sfdisk -q "$disk" <<-'EOF'
		label: gpt
		start=1MiB, size=256MiB, type=linux, name="root"
		start=257MiB, size=32MiB, type=linux, name="raw"
		start=289MiB, size=32MiB, type=swap, name="swap"
	EOF
	make_ext4 "$disk.p1" $((256 * MIB)) "$tree"
	put "$disk.p1" "$disk" "$((1 * MIB))"
	garbage "$disk" $((257 * MIB)) $((32 * MIB))
	make_swap "$T/swap.tmp" $((32 * MIB))
	put "$T/swap.tmp" "$disk" $((289 * MIB))
	rm -f "$T/swap.tmp"
	garbage "$disk" $((400 * MIB)) $((100 * 1024))
}

# dump_tree FSFILE OUTDIR : read every file of an ext4 image back with debugfs.
dump_tree() {
	rm -rf "$2"
	mkdir -p "$2"
	debugfs -R "rdump / $2" "$1" >"$T/debugfs.log" 2>&1
}
# same_tree A B : the two trees are equal (contents and symlinks).
same_tree() {
	diff -r --no-dereference "$1" "$2" >"$T/diff.log" 2>&1
}
# Like same_tree, but ignores lost+found (created by mke2fs, absent from a tree).
same_fs_tree() {
	diff -r --no-dereference -x lost+found "$1" "$2" >"$T/diff.log" 2>&1
}

# pget INFO.json START FIELD : FIELD of the partition entry of `image info
# --json` whose start is START (bytes) and index is not 0; "MISSING" if none.
pget() {
	jget "$1" "next((p.get('$3', 'NOFIELD') for p in d.get('partitions', []) if int(p.get('start', -1)) == $2 and p.get('index') != 0), 'MISSING')"
}

# sfdisk_dump DISK : `sfdisk -d` of DISK without the device names, comparable
# between two disks.
sfdisk_dump() {
	sfdisk -d "$1" 2>&1 | sed -e "s|$1|DISK|g"
}

# common_image_checks INFO.json SOURCE RESTORED : the checks every capture
# must pass: the extents are sane and every stored region is identical in the
# source and the restored disk, the partitions' stored bytes add up, every
# region captured with method "nonzero" is identical as a whole (a fresh
# target holds zeros where nothing was stored, so this covers the skipped
# zero blocks too). An entry that contains other entries (an MBR extended
# partition) is not compared whole: its logical partitions have their own
# methods.
common_image_checks() {
	local info=$1 src=$2 dst=$3
	if python3 "$PYHELP" ranges "$src" "$dst" "$info" >"$T/ranges.log" 2>&1; then
		pass "every stored extent identical ($(tail -1 "$T/ranges.log"))"
	else
		fail "every stored extent identical: $(head -5 "$T/ranges.log" | tr '\n' ';')"
	fi
	assert_eq "$(jget "$info" 'd["stored_bytes"]')" \
		"$(jget "$info" 'sum(int(p["stored_bytes"]) for p in d["partitions"])')" \
		"partitions' stored_bytes add up to stored_bytes"
	assert_eq "$(fsize "$src")" "$(jget "$info" 'd["disk_size"]')" "disk_size is the source's size"
	local start size bad=0
	while read -r start size; do
		[[ -n "$start" ]] || continue
		if ! python3 "$PYHELP" range "$src" "$dst" "$start" "$size" >>"$T/nz.log" 2>&1; then
			bad=1
		fi
	done < <(jget "$info" '"\n".join("%d %d" % (int(p["start"]), int(p["size"])) for p in d["partitions"] if p["method"] == "nonzero" and not any(q is not p and int(p["start"]) <= int(q["start"]) < int(p["start"]) + int(p["size"]) for q in d["partitions"]))')
	if ((bad == 0)); then
		pass "every 'nonzero' region identical as a whole"
	else
		fail "every 'nonzero' region identical as a whole: $(head -3 "$T/nz.log" | tr '\n' ';')"
	fi
}

# ---------------------------------------------------------------------------
# Multicast tests (issue 3, tests/integration/test-mcast-*.sh): a netns lab
# (tests/lab/lab.sh) with fleetcastd in srv and one fleetcast-recv per machine.
# Environment: FLEETCASTD, FLEETCAST_RECV (set by meson). Logs, stats and
# targets of host H are $T/H.log, $T/H.json, $T/H.img.

# mc_bound SECONDS ARGS... : re-run this test (once) under `timeout`, so that a
# hang still ends with the lab removed and the logs printed. Call it first.
mc_bound() {
	[[ -z ${MC_BOUND:-} ]] || return 0
	trap - EXIT
	rm -rf -- "$T"
	export MC_BOUND=1
	exec timeout -k 20 "$1" bash "$0" "${@:2}"
}

# mc_init : check the binaries and root, load the lab.
mc_init() {
	local b
	for b in FLEETCASTD FLEETCAST_RECV; do
		if [[ -z ${!b:-} || ! -x ${!b} ]]; then
			echo "$b must name the built binary (got '${!b:-}')" >&2
			exit 99
		fi
	done
	if ((EUID != 0)); then
		echo "needs root (network namespaces)"
		# In CI (run as root) this cannot happen; never a silent skip there.
		[[ -n ${CI:-} ]] && exit 1
		exit 77
	fi
	# shellcheck source=../lab/lab.sh
	. "$SRCDIR/tests/lab/lab.sh"
	MC_GROUP=239.77.0.1:9000
	MC_SERVER_OPT=(--server 10.77.0.1)
	MC_BAD=()
	declare -gA MC_PID=() MC_RC=()
	MC_T0=$SECONDS
}

# mc_image gpt FILES | sample SIZE_MIB FILES : build the source disk ($T/disk.raw;
# gpt: make_gpt_disk over make_tree FILES; sample: scripts/sample-disk.sh), a
# signed image $IMG (public key $PUB), its info $T/info.json, the reference
# restore $REF. Sets DISK_SIZE, CHUNKS and SRC_PKTS (source packets of one
# pass: sum over chunks of ceil(comp_size / 1448)).
mc_image() {
	case $1 in
	gpt)
		make_tree "$T/tree" "$2"
		make_gpt_disk "$T/disk.raw" "$T/tree"
		rm -rf "$T/tree" "$T/disk.raw.p1"
		;;
	sample) must bash "$SRCDIR/scripts/sample-disk.sh" "$T/disk.raw" "$2" "$3" ;;
	*) die "mc_image: unknown kind $1" ;;
	esac
	IMG=$T/disk.fcimg
	PUB=$T/key.pub
	REF=$T/ref.img
	must "$FLEETCAST" key gen --out "$T/key"
	must "$FLEETCAST" image create "$T/disk.raw" "$IMG" --key "$T/key.key" --quiet
	"$FLEETCAST" image info "$IMG" --json --chunks >"$T/info.json" || die "image info"
	must "$FLEETCAST" image restore "$IMG" "$REF" --pubkey "$PUB"
	DISK_SIZE=$(jget "$T/info.json" 'd["disk_size"]')
	CHUNKS=$(jget "$T/info.json" 'd["chunk_count"]')
	SRC_PKTS=$(jget "$T/info.json" 'sum((c["comp_size"] + 1447) // 1448 for c in d["chunks"])')
	log "image: $(fsize "$IMG") bytes, $CHUNKS chunks, $SRC_PKTS source packets, disk $DISK_SIZE bytes"
}

# mc_wait_log FILE REGEX TIMEOUT_S : wait until FILE has a line matching REGEX (grep -E).
mc_wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# mc_server [NAME] -- ARGS... : start fleetcastd in srv (log $T/NAME.log; NAME
# defaults to srv) with --image, --group, --iface, --stats $T/srv.json, then
# ARGS. Sets SRV_PID and SESSION (from its first log line).
mc_server() {
	local name=srv
	if [[ ${1:-} != -- ]]; then name=$1; shift; fi
	shift
	# shellcheck disable=SC2153 # FLEETCASTD comes from meson
	SRV_PID=$(lab_bg srv "$T/$name.log" "$FLEETCASTD" --image "$IMG" --group "$MC_GROUP" \
		--iface eth0 --stats "$T/srv.json" "$@") || die "cannot start fleetcastd"
	# 60 s: a loaded CI machine can be slow to start a process; a fast start costs nothing.
	mc_wait_log "$T/$name.log" '^fleetcastd: .*session [0-9a-f]{8}: image' 60 ||
		die "fleetcastd did not start: $(head -c 600 "$T/$name.log")"
	# shellcheck disable=SC2034 # for the caller
	SESSION=$(grep -Eom1 'session [0-9a-f]{8}' "$T/$name.log" | cut -d' ' -f2)
}

# mc_recv MACHINE [ARGS...] : start fleetcast-recv in MACHINE writing $T/MACHINE.img
# (with ${MC_SERVER_OPT[@]}, --pubkey, --name, --stats), then ARGS.
mc_recv() {
	local m=$1
	shift
	MC_PID[$m]=$(lab_bg "$m" "$T/$m.log" "$FLEETCAST_RECV" --target "$T/$m.img" \
		"${MC_SERVER_OPT[@]}" --pubkey "$PUB" --name "$m" --stats "$T/$m.json" "$@") ||
		die "cannot start fleetcast-recv in $m"
}

# mc_wait_recvs TIMEOUT_S MACHINES... : wait for the receivers (one deadline for
# all); their exit codes go to MC_RC[MACHINE] (124: killed at the deadline).
mc_wait_recvs() {
	local end=$((SECONDS + $1)) m rc left
	shift
	for m in "$@"; do
		left=$((end - SECONDS))
		((left > 0)) || left=1
		rc=0
		lab_wait "${MC_PID[$m]}" "$left" || rc=$?
		MC_RC[$m]=$rc
	done
}

# mc_wait_server TIMEOUT_S : wait for fleetcastd ($SRV_PID); exit code in SRV_RC.
# shellcheck disable=SC2034 # SRV_RC is for the caller
mc_wait_server() {
	SRV_RC=0
	lab_wait "$SRV_PID" "$1" || SRV_RC=$?
}

# mc_progress [LOG] : the last "chunks N% written" of fleetcastd's status line
# (integer part; 0 if none yet).
mc_progress() {
	local p
	p=$(grep -Eo 'chunks [0-9]+(\.[0-9])?% written' "${1:-$T/srv.log}" | tail -1 | grep -Eo '[0-9]+' | head -1)
	echo "${p:-0}"
}

# mc_wait_progress PCT TIMEOUT_S [LOG] : wait until mc_progress >= PCT (needs
# fleetcastd --verbose: a status line every second).
mc_wait_progress() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(($(mc_progress "${3:-}") >= $1)) && return 0
		sleep 0.1
	done
	return 1
}

# mc_ref_compare : `fleetcast image compare $IMG $REF`, run once per image and
# reference (paths, sizes, inodes, change times). compare reads nothing of a
# file target but its bytes, so a target cmp found identical to REF gets REF's
# answer: 50 receivers need one compare, not 50 (each hashes every stored region).
declare -gA MC_REF_COMPARED=()
mc_ref_compare() {
	local key
	key="$IMG|$REF|$(stat -c '%s %i %.9Z' "$IMG" "$REF" | tr '\n' ' ')"
	if [[ -z ${MC_REF_COMPARED[$key]:-} ]]; then
		MC_REF_COMPARED[$key]=ok
		"$FLEETCAST" image compare "$IMG" "$REF" >"$T/ref.compare" 2>&1 || MC_REF_COMPARED[$key]=failed
	fi
	[[ ${MC_REF_COMPARED[$key]} == ok ]]
}

# mc_check_recv MACHINE [CODE] : MACHINE's receiver exited CODE (default 0) and,
# for 0, its target is byte-identical to the reference restore and passes
# `fleetcast image compare`.
mc_check_recv() {
	local m=$1 want=${2:-0} why=''
	[[ ${MC_RC[$m]:-none} == "$want" ]] || why+="exit ${MC_RC[$m]:-none}, not $want; "
	if [[ $want == 0 ]]; then
		if [[ ! -f $T/$m.img ]]; then
			why+="no target file; "
		else
			if ! cmp "$T/$m.img" "$REF" >"$T/$m.cmp" 2>&1; then
				why+="target differs from the reference restore: $(head -c 200 "$T/$m.cmp"); "
				"$FLEETCAST" image compare "$IMG" "$T/$m.img" >"$T/$m.compare" 2>&1 ||
					why+="image compare failed: $(tail -c 200 "$T/$m.compare"); "
			elif ! mc_ref_compare; then
				why+="image compare failed: $(tail -c 200 "$T/ref.compare"); "
			fi
		fi
	fi
	if [[ -z $why ]]; then
		if [[ $want == 0 ]]; then
			pass "$m: exit 0, target identical to the reference restore, image compare ok"
		else
			pass "$m: exit $want"
		fi
	else
		fail "$m: $why"
		MC_BAD+=("$m")
	fi
}

# mc_rx_stat MACHINE PYEXPR : a field of MACHINE's receiver stats (d), "none" if absent.
mc_rx_stat() {
	if [[ -s $T/$1.json ]]; then jget "$T/$1.json" "$2" 2>/dev/null || echo none; else echo none; fi
}

# mc_kdrops MACHINE... : the packets the receivers' own sockets dropped (kernel_drops, summed):
# a receiver starved of CPU on a loaded host loses those whatever the test does, and they are
# repaired like any other loss, so a bound on repair traffic allows for them.
mc_kdrops() {
	local m kd sum=0
	for m in "$@"; do
		kd=$(mc_rx_stat "$m" 'd.get("kernel_drops", 0)')
		[[ $kd =~ ^[0-9]+$ ]] && sum=$((sum + kd))
	done
	echo "$sum"
}

# mc_srv_rx NAME FIELD [STATS] : FIELD of the server's stats entry of receiver NAME.
mc_srv_rx() {
	jget "${3:-$T/srv.json}" "next((r['$2'] for r in d['receivers'] if r['name'] == '$1'), 'MISSING')" 2>/dev/null ||
		echo none
}

# mc_srv_stat PYEXPR [STATS] : an expression over the server's stats (d).
mc_srv_stat() {
	if [[ -s ${2:-$T/srv.json} ]]; then jget "${2:-$T/srv.json}" "$1" 2>/dev/null || echo none; else echo none; fi
}

# mc_dump_logs : print the server logs and the logs of receivers that failed.
mc_dump_logs() {
	local f m
	MC_DUMPED=1
	for f in "$T"/srv*.log; do
		[[ -f $f ]] || continue
		echo "# ---- ${f##*/} (last 150 lines)"
		tail -n 150 "$f" | sed 's/^/#   /'
	done
	for m in "${MC_BAD[@]}"; do
		[[ -f $T/$m.log ]] || continue
		echo "# ---- $m.log (last 60 lines; stats: $(tr -d '\n' <"$T/$m.json" 2>/dev/null))"
		tail -n 60 "$T/$m.log" | sed 's/^/#   /'
	done
}

# Run by the lab's exit trap: logs of a failed or interrupted test. With
# MC_KEEP_LOGS=DIR, the logs and stats are also copied to DIR.
lab_cleanup_hook() {
	if [[ -n ${MC_KEEP_LOGS:-} ]]; then
		mkdir -p "$MC_KEEP_LOGS" && cp "$T"/*.log "$T"/*.json "$MC_KEEP_LOGS"/ 2>/dev/null
	fi
	if [[ -z ${MC_DUMPED:-} ]] && { ((FAILED > 0)) || [[ -z ${MC_FINISHED:-} ]]; }; then
		echo "# test ended early or failed after $((SECONDS - ${MC_T0:-0})) s"
		mc_dump_logs
	fi
}

# mc_finish : logs on failure, the summary line, exit status.
mc_finish() {
	log "took $((SECONDS - MC_T0)) s"
	((FAILED == 0)) || mc_dump_logs
	MC_FINISHED=1
	finish
}
