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
	if printf '%s\n' "$2" | grep -Eqi -- "$1"; then
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
