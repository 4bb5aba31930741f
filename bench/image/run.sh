#!/usr/bin/env bash
# Capture/restore benchmark of issue 2.
#
# Builds its own test filesystem (a bare ext4 file, no partition table, populated
# with mixed content, free blocks full of garbage), then, side by side in the same
# run, repeated R times (median reported):
#   capture:  partclone.ext4 -c -s FS -o - | zstd -T0 -L      vs  fleetcast image create FS IMG --level L
#   restore:  fleetcast image restore IMG TARGET              vs  dd (same byte count, conv=fsync)
#             (and, for reference, zstd -dc | partclone.ext4 -r)
# Prints a markdown report on stdout and, with --out FILE, writes it to FILE too.
#
# Not a timed test: run it by hand as root on an otherwise idle machine.
# See bench/README.md.

# The timed steps are `bash -c '...' _ ARGS`: the single quotes are intended.
# shellcheck disable=SC2016

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

RUNS=3
LEVEL=3
DISK_MIB=1024
DATA_MIB=400
FLEETCAST=""
OUT=""
WORK_PARENT=${TMPDIR:-/tmp}
DROP=1
BASELINE_ONLY=0
KEEP=0
CREATE_ARGS=()
CHUNK_SIZES=()

usage() {
    cat <<EOF
usage: $0 [options]
  --out FILE         also write the markdown report to FILE
  --runs R           repetitions, median reported (default $RUNS)
  --level N          zstd level used by both tools (default $LEVEL); partclone+zstd
                     is always also run at -3
  --disk-mib N       size of the test ext4 filesystem in MiB (default $DISK_MIB)
  --data-mib N       approximate size of the content put into it (default $DATA_MIB)
  --fleetcast PATH   fleetcast binary (default: $REPO/build-bench/cli/fleetcast,
                     then $REPO/build/cli/fleetcast)
  --workdir DIR      where the temporary directory is made (default \$TMPDIR or /tmp);
                     must be on a real disk, not tmpfs, for the restore numbers to mean anything
  --no-drop-caches   do not drop the page cache between steps
  --baseline-only    run without fleetcast (partclone+zstd and dd only)
  --create-arg ARG   extra argument for \`fleetcast image create\` (repeatable),
                     e.g. --create-arg --chunk-size=4194304 to try a variant
  --chunk-sizes "LIST" also capture and restore with each of these chunk sizes in MiB
                     (e.g. "1 2 4 8"), every run, and report size and times per chunk size
  --keep             keep the temporary directory
EOF
}

die() { echo "run.sh: $*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --out) OUT=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --level) LEVEL=${2:?}; shift 2 ;;
        --disk-mib) DISK_MIB=${2:?}; shift 2 ;;
        --data-mib) DATA_MIB=${2:?}; shift 2 ;;
        --fleetcast) FLEETCAST=${2:?}; shift 2 ;;
        --workdir) WORK_PARENT=${2:?}; shift 2 ;;
        --no-drop-caches) DROP=0; shift ;;
        --baseline-only) BASELINE_ONLY=1; shift ;;
        --keep) KEEP=1; shift ;;
        --create-arg) CREATE_ARGS+=("${2:?}"); shift 2 ;;
        --chunk-sizes) read -r -a CHUNK_SIZES <<<"${2:?}"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

for v in RUNS LEVEL DISK_MIB DATA_MIB; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a positive integer"
done
((RUNS >= 1)) || die "--runs must be >= 1"
((LEVEL >= 1 && LEVEL <= 19)) || die "--level must be 1..19"
((DATA_MIB >= 16)) || die "--data-mib must be >= 16"
((DATA_MIB * 100 <= DISK_MIB * 80)) || die "--data-mib must be at most 80% of --disk-mib"
for cs in "${CHUNK_SIZES[@]}"; do
    if ! [[ $cs =~ ^[0-9]+$ ]] || ((cs < 1 || cs > 16)); then die "--chunk-sizes takes MiB values 1..16"; fi
done
((${#CHUNK_SIZES[@]} == 0 || !BASELINE_ONLY)) || die "--chunk-sizes needs fleetcast (not --baseline-only)"

missing=()
for c in partclone.ext4 zstd mke2fs dumpe2fs e2fsck /usr/bin/time dd tar find split sort awk; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]})); then
    die "missing: ${missing[*]} -- install with: apt-get install -y partclone zstd e2fsprogs time"
fi

if ((!BASELINE_ONLY)); then
    if [[ -z $FLEETCAST ]]; then
        for c in "$REPO/build-bench/cli/fleetcast" "$REPO/build/cli/fleetcast"; do
            if [[ -x $c ]]; then FLEETCAST=$c; break; fi
        done
    fi
    [[ -n $FLEETCAST && -x $FLEETCAST ]] ||
        die "fleetcast binary not found (build it, pass --fleetcast PATH, or use --baseline-only)"
    FLEETCAST=$(realpath "$FLEETCAST")
fi

DROP_NOTE="yes: \`sync; echo 3 > /proc/sys/vm/drop_caches\` before every timed step"
if ((DROP)); then
    if ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
        DROP=0
        DROP_NOTE="no: /proc/sys/vm/drop_caches is not writable (not root?); source and images may be cached"
    fi
else
    DROP_NOTE="no (--no-drop-caches); source and images may be served from the page cache"
fi

W=$(mktemp -d "$WORK_PARENT/fcbench.XXXXXX")
cleanup() {
    if ((KEEP)); then echo "run.sh: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
mkdir -p "$W/logs" "$W/tree"
export FLEETCAST_HOME="$W/fleetcast-home"

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

drop_caches() {
    if ((DROP)); then
        sync
        echo 3 >/proc/sys/vm/drop_caches
    fi
}

# ---------------------------------------------------------------- test filesystem

MIB=1048576
DISK=$W/disk.ext4
DISK_BYTES=$((DISK_MIB * MIB))
DATA_BYTES=$((DATA_MIB * MIB))

# Fixed byte stream so that `sort -R` picks the same sample on every run.
head -c 65536 /dev/zero | tr '\0' 'x' >"$W/seed"

# copy_sample BUDGET_BYTES MAX_FILE_BYTES DEST DIR... : copies a deterministic random
# sample of the regular files under DIR... (at most MAX_FILE_BYTES each) into DEST, up to
# BUDGET_BYTES in total. Prints the number of bytes copied.
copy_sample() {
    local budget=$1 maxf=$2 dest=$3
    shift 3
    local dirs=()
    for d in "$@"; do [[ -d $d ]] && dirs+=("$d"); done
    mkdir -p "$dest"
    if ((${#dirs[@]} == 0)); then echo 0; return; fi
    find "${dirs[@]}" -xdev -type f -readable -size -"$((maxf / 1024))"k -printf '%s\t%p\n' 2>/dev/null |
        sort -R --random-source="$W/seed" |
        awk -F'\t' -v b="$budget" '$1 > 0 && t + $1 <= b { t += $1; print substr($2, 2) } END { print t > "/dev/stderr" }' \
            2>"$W/copy.total" >"$W/copy.list"
    tar -C / --ignore-failed-read -cf - --verbatim-files-from -T "$W/copy.list" 2>/dev/null |
        tar -C "$dest" -xf -
    cat "$W/copy.total"
}

# fill FILE BYTES SRC_CMD... : FILE gets exactly BYTES bytes, cycling the output of SRC_CMD.
fill_cycle() {
    local file=$1 bytes=$2 src=$3
    : >"$file"
    while (($(stat -c %s "$file") < bytes)); do cat "$src" >>"$file"; done
    truncate -s "$bytes" "$file"
}

log "building test content (~$DATA_MIB MiB) in $W"
T=$W/tree
pct() { echo $((DATA_BYTES * $1 / 100)); }

# 1. many small-to-medium real text files (docs, headers, scripts; some of them .gz)
copy_sample "$(pct 20)" $((2 * MIB)) "$T/usr/share" /usr/share/doc /usr/include /usr/share/perl /usr/share/perl5 /usr/lib/python3 /usr/lib/python3.11 >"$W/n.docs"
# 2. binaries: shared libraries and executables
copy_sample "$(pct 30)" $((8 * MIB)) "$T/usr/lib" /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/bin /usr/sbin /usr/libexec >"$W/n.bin"

# text pool: man pages, uncompressed (falls back to headers if there are none)
find /usr/share/man -type f -name '*.gz' 2>/dev/null | sort | head -n 4000 |
    xargs -r zcat -f 2>/dev/null | head -c $((48 * MIB)) >"$W/text.pool" || true
if (($(stat -c %s "$W/text.pool") < MIB)); then
    find /usr/include /usr/share -type f -name '*.h' -o -type f -name '*.txt' 2>/dev/null | sort | head -n 20000 |
        xargs -r cat 2>/dev/null | head -c $((48 * MIB)) >"$W/text.pool" || true
fi
(($(stat -c %s "$W/text.pool") > 0)) || die "could not build a text pool from /usr/share/man or /usr/include"

# 3. large text files (logs, dumps)
mkdir -p "$T/var/log"
fill_cycle "$W/text.big" "$(pct 15)" "$W/text.pool"
split -b $((4 * MIB)) -d -a 3 "$W/text.big" "$T/var/log/app.log."
rm -f "$W/text.big"

# 4. many small text files (a few hundred bytes to a few KiB)
mkdir -p "$T/home/user/notes"
head -c "$(pct 5)" "$W/text.pool" | split -l 37 -d -a 5 - "$T/home/user/notes/note-"

# 5. incompressible data: a few large files (media, archives) and small ones
mkdir -p "$T/home/user/media" "$T/home/user/cache"
for i in 1 2 3 4; do
    head -c $(($(pct 20) / 4)) /dev/urandom >"$T/home/user/media/video$i.mkv"
done
for sz in 1024 3072 6144 12288 24576; do
    mkdir -p "$T/home/user/cache/$sz"
    head -c $(($(pct 5) / 5)) /dev/urandom | split -b "$sz" -d -a 5 - "$T/home/user/cache/$sz/obj-"
done

# 6. partly compressible data (base64 of random: ~75% after compression)
mkdir -p "$T/srv/db"
head -c $(($(pct 5) * 3 / 4)) /dev/urandom | base64 >"$T/srv/db/blob.b64"

NFILES=$(find "$T" -type f | wc -l)
TREE_BYTES=$(du -sb "$T" | cut -f1)

log "filling $DISK_MIB MiB with garbage, then mke2fs -t ext4 -d"
head -c $((64 * MIB)) /dev/urandom >"$W/garbage.pool"
fill_cycle "$DISK" "$DISK_BYTES" "$W/garbage.pool"
rm -f "$W/garbage.pool" "$W/text.pool"
# nodiscard: keep the garbage in free blocks (mke2fs would punch holes in a file);
# no lazy init: inode tables and journal are zeroed as on a long-lived filesystem.
mke2fs -q -F -t ext4 -b 4096 -L fcbench -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
    -d "$T" "$DISK" >"$W/logs/mke2fs.log" 2>&1 || { cat "$W/logs/mke2fs.log" >&2; die "mke2fs failed"; }
rm -rf "$T"
e2fsck -fn "$DISK" >"$W/logs/e2fsck.src.log" 2>&1 || { cat "$W/logs/e2fsck.src.log" >&2; die "source fs not clean"; }

sb() { dumpe2fs -h "$DISK" 2>/dev/null | awk -F: -v k="$1" '$1 == k { gsub(/ /, "", $2); print $2 }'; }
BLOCKS=$(sb "Block count")
FREE=$(sb "Free blocks")
BS=$(sb "Block size")
USED_BYTES=$(((BLOCKS - FREE) * BS))

# ---------------------------------------------------------------- measurement helpers

declare -A R # R[metric] = space-separated values, one per run

add() { R[$1]="${R[$1]:-} $2"; }

# timed NAME CMD... : runs CMD, records wall (s), cpu (user+sys, s), maxrss (KiB)
timed() {
    local name=$1
    shift
    local t1
    T0=$EPOCHREALTIME
    if ! /usr/bin/time -f '%U %S %M' -o "$W/time.out" "$@"; then
        echo "run.sh: step '$name' failed: $*" >&2
        tail -n 20 "$W/logs/$name.err" 2>/dev/null >&2 || true
        exit 1
    fi
    t1=$EPOCHREALTIME
    local u s m
    read -r u s m <"$W/time.out"
    add "$name.wall" "$(awk -v a="$T0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    add "$name.cpu" "$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')"
    add "$name.rss" "$m"
}

median() {
    tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g |
        awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.15g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
med() { median "${R[$1]:-}"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# json_field FILE KEY: a top-level number of fleetcast's --json output.
json_field() {
    if command -v jq >/dev/null 2>&1; then
        jq -r --arg k "$2" '.[$k] // empty' "$1"
    else # the top-level key comes before the per-partition ones
        tr -d '\n' <"$1" | grep -o "\"$2\"[[:space:]]*:[[:space:]]*[0-9.eE+-]*" | head -n 1 | sed 's/.*:[[:space:]]*//'
    fi
}

LEVELS=(3)
((LEVEL != 3)) && LEVELS+=("$LEVEL")

capture_partclone() { # level
    local lv=$1
    rm -f "$W/pc$lv.zst"
    drop_caches
    timed "pc$lv" bash -c 'set -o pipefail
        partclone.ext4 -c -s "$1" -o - -L "$2/logs/partclone.log" 2>>"$2/logs/pc$3.err" |
            zstd -T0 -"$3" -q -f -o "$2/pc$3.zst" 2>>"$2/logs/pc$3.err"' _ "$DISK" "$W" "$lv"
    add "pc$lv.size" "$(stat -c %s "$W/pc$lv.zst")"
}

# partclone's wall time includes a wait for its progress thread, which sleeps in
# whole seconds (-f, default 2 s) and is joined after the last block is written:
# up to 2 s of idle time at the end. This variant measures, in the same pipeline
# plus a `head -c` that ends the stream at partclone's (known) image size, the
# time until zstd has written the last compressed byte.
capture_partclone_data() { # level
    local lv=$1
    rm -f "$W/pcd.zst" "$W/pcd.end"
    drop_caches
    timed "pcd" bash -c 'set -o pipefail
        partclone.ext4 -c -s "$1" -o - -L "$2/logs/partclone.log" 2>>"$2/logs/pcd.err" | head -c "$4" |
            { zstd -T0 -"$3" -q -f -o "$2/pcd.zst" 2>>"$2/logs/pcd.err"; r=$?; echo "$EPOCHREALTIME" >"$2/pcd.end"; exit $r; }
        ' _ "$DISK" "$W" "$lv" "$PC_RAW_BYTES"
    add pcd.dwall "$(awk -v a="$T0" -v b="$(cat "$W/pcd.end")" 'BEGIN { printf "%.3f", b - a }')"
    add pcd.size "$(stat -c %s "$W/pcd.zst")"
}

# capture_fleetcast [NAME [ARG...]]: `fleetcast image create` into $W/NAME.fcimg (default
# NAME fc, with the --create-arg arguments); measurements under NAME.
capture_fleetcast() {
    local name=${1:-fc}
    local -a args=("${CREATE_ARGS[@]}")
    if (($# > 1)); then args=("${@:2}"); fi
    rm -f "$W/$name.fcimg"
    drop_caches
    timed "$name" bash -c 'f=$1 d=$2 w=$3 l=$4 n=$5; shift 5
        "$f" image create "$d" "$w/$n.fcimg" --key "$w/key.key" --level "$l" --quiet --json "$@" \
            >"$w/$n.json" 2>>"$w/logs/$n.err"' _ "$FLEETCAST" "$DISK" "$W" "$LEVEL" "$name" "${args[@]}"
    add "$name.size" "$(stat -c %s "$W/$name.fcimg")"
    local v
    for f in stored_bytes compressed_bytes seconds chunk_count; do
        v=$(json_field "$W/$name.json" "$f")
        [[ -n $v || $f == chunk_count ]] || die "fleetcast --json has no \"$f\": $(cat "$W/$name.json")"
        add "$name.$f" "${v:-nan}"
    done
}

# restore_fleetcast [NAME]: `fleetcast image restore` of $W/NAME.fcimg into $W/target.NAME,
# measured as NAME's restore (NAMEr; fcr for the default).
restore_fleetcast() {
    local name=${1:-fc}
    rm -f "$W/target.$name"
    drop_caches
    timed "${name}r" bash -c '"$1" image restore "$2/$3.fcimg" "$2/target.$3" --quiet \
        >>"$2/logs/$3r.err" 2>&1' _ "$FLEETCAST" "$W" "$name"
}

# The --chunk-sizes variants: capture and restore at each chunk size, in this run's order.
chunk_variants() {
    local cs
    for cs in "${CHUNK_SIZES[@]}"; do
        capture_fleetcast "c$cs" "${CREATE_ARGS[@]}" "--chunk-size=$((cs * MIB))"
        restore_fleetcast "c$cs"
        if ((run == 1)); then
            # untimed: the restored filesystem is the source's, at every chunk size
            if ! e2fsck -fn "$W/target.c$cs" >"$W/logs/e2fsck.c$cs.log" 2>&1 ||
                [[ $(partclone.ext4 -c -s "$W/target.c$cs" -o - -L "$W/logs/partclone.log" 2>/dev/null | cksum) != "$PC_SRC_SUM" ]]; then
                CHUNK_CHECK+=" **${cs} MiB: restored target DIFFERS or is not clean**"
            fi
        fi
        rm -f "$W/target.c$cs" "$W/c$cs.fcimg"
    done
}

restore_dd() { # bytes
    rm -f "$W/target.dd"
    drop_caches
    timed dd bash -c 'dd if=/dev/zero of="$1/target.dd" bs=4M count="$2" iflag=count_bytes conv=fsync \
        2>>"$1/logs/dd.err"' _ "$W" "$1"
    rm -f "$W/target.dd"
}

restore_partclone() {
    rm -f "$W/target.pc"
    truncate -s "$DISK_BYTES" "$W/target.pc"
    drop_caches
    timed pcr bash -c 'set -o pipefail
        zstd -dc -q "$1/pc$2.zst" |
            partclone.ext4 -r -s - -O "$1/target.pc" -L "$1/logs/partclone.log" >/dev/null 2>>"$1/logs/pcr.err"
        ' _ "$W" "$LEVEL"
    rm -f "$W/target.pc"
}

# ---------------------------------------------------------------- runs

CHECK_NOTE="not run (--baseline-only)"
CHUNK_CHECK=""
if ((!BASELINE_ONLY)); then
    "$FLEETCAST" key gen --out "$W/key" >"$W/logs/keygen.log" 2>&1 ||
        { cat "$W/logs/keygen.log" >&2; die "fleetcast key gen failed"; }
fi

# partclone's image is deterministic: its size (for capture_partclone_data) and
# hash (to check the restored target) are taken once, untimed.
PC_SRC_SUM=$(partclone.ext4 -c -s "$DISK" -o - -L "$W/logs/partclone.log" 2>/dev/null | cksum)
PC_RAW_BYTES=$(cut -d' ' -f2 <<<"$PC_SRC_SUM")
((PC_RAW_BYTES > 0)) || die "partclone.ext4 -c of the test filesystem failed (see $W/logs/partclone.log)"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 1; run <= RUNS; run++)); do
    log "run $run/$RUNS: capture"
    # Alternate the order so that neither side always runs first.
    if ((run % 2)) || ((BASELINE_ONLY)); then
        for lv in "${LEVELS[@]}"; do capture_partclone "$lv"; done
        ((BASELINE_ONLY)) || capture_fleetcast
    else
        capture_fleetcast
        for lv in "${LEVELS[@]}"; do capture_partclone "$lv"; done
    fi
    capture_partclone_data "$LEVEL"

    log "run $run/$RUNS: restore"
    if ((BASELINE_ONLY)); then
        restore_dd "$USED_BYTES"
    else
        nbytes=$(json_field "$W/fc.json" stored_bytes)
        if ((run % 2)); then
            restore_fleetcast
            restore_dd "$nbytes"
        else
            restore_dd "$nbytes"
            restore_fleetcast
        fi
        if ((run == 1)); then
            # Untimed correctness check: the restored filesystem is clean and every block
            # partclone would copy is identical (partclone's image is deterministic).
            log "run 1: checking the restored target"
            CHECK_NOTE=""
            if e2fsck -fn "$W/target.fc" >"$W/logs/e2fsck.fc.log" 2>&1; then
                CHECK_NOTE+="e2fsck -fn clean"
            else
                CHECK_NOTE+="**e2fsck -fn FAILED** (see logs)"
            fi
            if [[ $(partclone.ext4 -c -s "$W/target.fc" -o - -L "$W/logs/partclone.log" 2>/dev/null | cksum) == "$PC_SRC_SUM" ]]; then
                CHECK_NOTE+="; used blocks identical to the source (partclone images of source and target match)"
            else
                CHECK_NOTE+="; **used blocks DIFFER from the source** (partclone images of source and target differ)"
            fi
        fi
        rm -f "$W/target.fc"
        chunk_variants
    fi
    restore_partclone
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

mib() { calc "%.1f" "$1 / $MIB"; }
BASE=pc$LEVEL
if ((BASELINE_ONLY)); then DD_BYTES=$USED_BYTES; else DD_BYTES=$(med fc.stored_bytes); fi
mbps() { calc "%.1f" "$DD_BYTES / $MIB / $1"; }

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
WORK_FS=$(df -PT "$W" | awk 'NR == 2 { print $2 " on " $1 }')
PC_VER=$(partclone.ext4 -v 2>&1 | head -n 1 | sed 's/^[^:]*: *//; s/ *(.*//')
ZSTD_VER=$(zstd -V 2>&1 | grep -o 'v[0-9.]*' | head -n 1)
FC_VER="n/a"
if ((!BASELINE_ONLY)); then FC_VER=$("$FLEETCAST" --version 2>/dev/null | head -n 1 | sed 's/^fleetcast *//' || true); fi
[[ -n $FC_VER ]] || FC_VER="unknown"

# The --chunk-sizes table: per chunk size, the image against partclone+zstd at this level
# and the capture and restore times (medians; restore as a share of dd's time, same bytes).
chunk_report() {
    local cs n
    echo "#### Chunk size (\`--chunk-size\`, every run; medians)"
    echo
    echo "Check of each restored target (run 1): ${CHUNK_CHECK:-e2fsck -fn clean and used blocks identical to the source at every size}."
    echo
    echo "| Chunk size | Chunks | Image (MiB) | Image / partclone+zstd -$LEVEL | Capture wall (s) | Capture CPU (s) | Capture / partclone+zstd -$LEVEL | Capture max RSS (MiB) | Restore wall (s) | Restore CPU (s) | Restore % of dd | Restore max RSS (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for cs in "${CHUNK_SIZES[@]}"; do
        n=c$cs
        echo "| $cs MiB | $(med "$n.chunk_count") | $(mib "$(med "$n.size")") | **$(calc "%.4f" "$(med "$n.size") / $(med "$BASE.size")")** |" \
            "$(med "$n.wall") | $(med "$n.cpu") | $(calc "%.2f" "$(med "$n.wall") / $(med "$BASE.wall")") | $(calc "%.0f" "$(med "$n.rss") / 1024") |" \
            "$(med "${n}r.wall") | $(med "${n}r.cpu") | $(calc "%.0f" "100 * $(med dd.wall) / $(med "${n}r.wall")")% | $(calc "%.0f" "$(med "${n}r.rss") / 1024") |"
    done
    echo
}

goal() { # value op limit
    if awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then echo "met"; else echo "**not met**"; fi
}

report() {
    echo "### Image capture and restore — run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- Machine: $(nproc) CPUs ($CPU_MODEL), kernel $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "- Work directory: $WORK_FS (\`$W\`)"
    echo "- Tools: partclone $PC_VER, zstd $ZSTD_VER, fleetcast $FC_VER${FLEETCAST:+ (\`$FLEETCAST\`)}"
    echo "- Command: \`bench/image/run.sh --runs $RUNS --level $LEVEL --disk-mib $DISK_MIB --data-mib $DATA_MIB${CREATE_ARGS[*]:+ --create-arg ${CREATE_ARGS[*]}}${CHUNK_SIZES[*]:+ --chunk-sizes \"${CHUNK_SIZES[*]}\"}\`"
    echo "- Load average (1/5/15 min) before the first timed step: $LOAD_BEFORE; after the last: $LOAD_AFTER"
    echo "- Test filesystem: bare ext4 (no partition table), $DISK_MIB MiB, 4 KiB blocks, $NFILES files / $(mib "$TREE_BYTES") MiB of content (real docs/headers/scripts, binaries, man-page text, random data, base64); free blocks filled with random garbage; $(mib "$USED_BYTES") MiB in use"
    echo "- Page cache dropped: $DROP_NOTE"
    echo "- Median of $RUNS runs. Wall = elapsed time; CPU = user+sys of all processes of the step."
    echo "- Restored image check (run 1): $CHECK_NOTE"
    echo
    echo "#### Capture"
    echo
    echo "| Tool | Output (MiB) | Wall (s) | CPU (s) | Max RSS (MiB) | Size / partclone+zstd -$LEVEL | Wall / partclone+zstd -$LEVEL |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    local lv
    for lv in "${LEVELS[@]}"; do
        echo "| \`partclone.ext4 -c \| zstd -T0 -$lv\` | $(mib "$(med "pc$lv.size")") | $(med "pc$lv.wall") | $(med "pc$lv.cpu") | $(calc "%.0f" "$(med "pc$lv.rss") / 1024") | $(calc "%.3f" "$(med "pc$lv.size") / $(med "$BASE.size")") | $(calc "%.2f" "$(med "pc$lv.wall") / $(med "$BASE.wall")") |"
    done
    echo "| same, time to the last compressed byte (without partclone's final progress-thread wait)² | $(mib "$(med pcd.size)") | $(med pcd.dwall) | $(med pcd.cpu) | $(calc "%.0f" "$(med pcd.rss) / 1024") | $(calc "%.3f" "$(med pcd.size) / $(med "$BASE.size")") | $(calc "%.2f" "$(med pcd.dwall) / $(med "$BASE.wall")") |"
    if ((!BASELINE_ONLY)); then
        echo "| \`fleetcast image create --level $LEVEL${CREATE_ARGS[*]:+ ${CREATE_ARGS[*]}}\` | $(mib "$(med fc.size)") | $(med fc.wall) | $(med fc.cpu) | $(calc "%.0f" "$(med fc.rss) / 1024") | **$(calc "%.3f" "$(med fc.size) / $(med "$BASE.size")")** | **$(calc "%.2f" "$(med fc.wall) / $(med "$BASE.wall")")** |"
    fi
    echo
    echo "² partclone joins its progress thread after the last block; that thread sleeps in whole seconds (\`-f\`, default 2), so partclone's exit — and the stock pipeline's wall time — comes up to 2 s after the data is done. This row runs the same pipeline with \`head -c <partclone image size>\` before zstd and stops the clock when zstd exits."
    echo
    if ((!BASELINE_ONLY)); then
        echo "fleetcast --json (median): stored_bytes $(med fc.stored_bytes) ($(mib "$(med fc.stored_bytes)") MiB; filesystem in use: $USED_BYTES), compressed_bytes $(med fc.compressed_bytes), seconds $(med fc.seconds)."
        echo
    fi
    if ((${#CHUNK_SIZES[@]})); then chunk_report; fi
    echo "#### Restore ($(mib "$DD_BYTES") MiB of disk data)"
    echo
    echo "| Step | Wall (s) | CPU (s) | MiB/s of disk data | % of dd |"
    echo "|---|---:|---:|---:|---:|"
    echo "| \`dd if=/dev/zero bs=4M conv=fsync\` (same byte count) | $(med dd.wall) | $(med dd.cpu) | $(mbps "$(med dd.wall)") | 100% |"
    if ((!BASELINE_ONLY)); then
        echo "| \`fleetcast image restore\` | $(med fcr.wall) | $(med fcr.cpu) | $(mbps "$(med fcr.wall)") | **$(calc "%.0f" "100 * $(med dd.wall) / $(med fcr.wall)")%** |"
    fi
    echo "| \`zstd -dc \| partclone.ext4 -r\` (reference, no fsync; includes partclone's progress-thread wait²) | $(med pcr.wall) | $(med pcr.cpu) | $(mbps "$(med pcr.wall)") | $(calc "%.0f" "100 * $(med dd.wall) / $(med pcr.wall)")% |"
    echo
    if ((!BASELINE_ONLY)); then
        local sr tmr tmd rr
        sr=$(calc "%.3f" "$(med fc.size) / $(med "$BASE.size")")
        tmr=$(calc "%.2f" "$(med fc.wall) / $(med "$BASE.wall")")
        tmd=$(calc "%.2f" "$(med fc.wall) / $(med pcd.dwall)")
        rr=$(calc "%.0f" "100 * $(med dd.wall) / $(med fcr.wall)")
        echo "#### Goals (issue 2)"
        echo
        echo "| Goal | Measured | Result |"
        echo "|---|---:|---|"
        echo "| image no bigger than partclone+zstd -$LEVEL (ratio ≤ 1) | $sr | $(goal "$sr" "<=" 1) |"
        echo "| capture no slower than partclone+zstd -$LEVEL (ratio ≤ 1), stock pipeline | $tmr | $(goal "$tmr" "<=" 1) |"
        echo "| capture no slower than partclone+zstd -$LEVEL (ratio ≤ 1), to the last compressed byte² | $tmd | $(goal "$tmd" "<=" 1) |"
        echo "| restore ≥ 80% of dd | $rr% | $(goal "$rr" ">=" 80) |"
        echo
    fi
    echo "<details><summary>Per-run wall times (s)</summary>"
    echo
    echo "| Step | Runs |"
    echo "|---|---|"
    local k
    local -a ks=("${LEVELS[@]/#/pc}" pcd fc fcr dd pcr)
    for k in "${CHUNK_SIZES[@]}"; do ks+=("c$k" "c${k}r"); done
    for k in "${ks[@]}"; do
        [[ -n ${R[$k.wall]:-} ]] && echo "| $k | ${R[$k.wall]# } |"
    done
    echo "| pcd (to last compressed byte) | ${R[pcd.dwall]# } |"
    echo
    echo "</details>"
}

if [[ -n $OUT ]]; then
    report | tee "$OUT"
else
    report
fi
