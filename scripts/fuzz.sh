#!/bin/bash
# Builds the libFuzzer harnesses of tests/fuzz into build-fuzz (CC=clang,
# -Dfuzz=true: ASan+UBSan) and runs each for SECONDS (default 20) on a
# scratch copy of its seed corpus, so nothing is written into the tree; the
# regression cases of tests/fuzz/regressions/<target>/ run once each first.
# Fails if any harness crashes, leaks or breaks a property. Prints one line
# per harness: executions, corpus size at the end, result.
#   scripts/fuzz.sh [SECONDS]    fuzz (CI: scripts/test.sh)
#   scripts/fuzz.sh --seeds      regenerate tests/fuzz/corpus/ from the harnesses' encoders
#   scripts/fuzz.sh --build      only build them (scripts/test.sh, while the tests run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
targets=(packet wol dhcp image manifest chunk parttable fat ustar assemble apijson config)
builddir=build-fuzz
if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang meson setup "$builddir" -Dfuzz=true -Dtests=false --werror >/dev/null
fi
meson compile -C "$builddir" fuzz >/dev/null
[ "$secs" = "--build" ] && exit 0

if [ "$secs" = "--seeds" ]; then
  for t in "${targets[@]}"; do
    rm -rf "tests/fuzz/corpus/$t" && mkdir -p "tests/fuzz/corpus/$t"
    FC_FUZZ_SEEDS="tests/fuzz/corpus/$t" "$builddir/tests/fuzz/fuzz-$t"
  done
  exit 0
fi

# fleetcastd keeps config and API values for the daemon's or the session's
# life (strdup'd, never freed: docs/benchmarks.md, "Fuzzing"), so the two
# server harnesses run without leak detection; every other one with it.
leaks_for() {
  case $1 in apijson | config) echo 0 ;; *) echo 1 ;; esac
}
scratch=$(mktemp -d /tmp/fleetcast-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# fuzz_one TARGET: its regression cases, then SECONDS of fuzzing; writes its
# report to $scratch/TARGET.report, fails if either found a problem.
fuzz_one() {
  local t=$1 exe=$builddir/tests/fuzz/fuzz-$1 result=ok execs rc=0 regressions
  export ASAN_OPTIONS="detect_leaks=$(leaks_for "$t"):abort_on_error=1"
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  exec >"$scratch/$t.report" 2>&1
  regressions=(tests/fuzz/regressions/"$t"/*)
  if [ -e "${regressions[0]}" ] && ! "$exe" "${regressions[@]}" >"$scratch/$t-regress.log" 2>&1; then
    echo "fuzz-$t: a regression case fails again:"
    tail -30 "$scratch/$t-regress.log"
    rc=1
  fi
  mkdir -p "$scratch/$t"
  cp tests/fuzz/corpus/"$t"/* "$scratch/$t/"
  if ! (cd "$scratch" && "$OLDPWD/$exe" "$scratch/$t" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$scratch/$t-" \
    >"$scratch/$t.log" 2>&1); then
    result=CRASH
    rc=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
  printf 'fuzz-%-10s %9s executions, corpus %4s inputs: %s\n' "$t" "${execs:-?}" \
    "$(ls "$scratch/$t" | wc -l)" "$result"
  if [ "$result" = CRASH ]; then
    grep -E 'ERROR|SUMMARY|property failed|^    #[0-9]' "$scratch/$t.log" | head -30
    mkdir -p "build-fuzz/crashes/$t"
    cp "$scratch/$t"-crash-* "$scratch/$t"-leak-* "$scratch/$t"-timeout-* "$scratch/$t"-oom-* \
      "build-fuzz/crashes/$t/" 2>/dev/null || true
    echo "fuzz-$t: inputs kept in build-fuzz/crashes/$t/"
  fi
  return $rc
}

# Each harness is one process on one core: FUZZ_JOBS (default 2, the CI
# machine's cores) of them run at once, each still for SECONDS, so the whole
# run takes about 11 x SECONDS / FUZZ_JOBS. Reports are printed in order.
njobs=${FUZZ_JOBS:-2}
declare -A pid_of=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$njobs" ]; do wait -n || true; done
  fuzz_one "$t" &
  pid_of[$t]=$!
done
status=0
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}" || status=1
  cat "$scratch/$t.report"
done
exit $status
