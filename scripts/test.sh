#!/bin/bash
# The whole test suite: installs what it needs, builds (normal, ASan+UBSan,
# and the fuzzers'), runs every unit and integration test in the normal build
# and the unit and image tests under the sanitizers, then fuzzes the parsers.
# Needs root (apt-get, loop-free disk images, network namespaces). Prints
# meson's summaries.
#
# Under 30 minutes on a 2-core machine (docs/testing.md, "Where the time
# goes"): the QEMU tests (suite qemu: TCG keeps a core busy) run one at a time
# in a second meson run beside the rest, which spends most of its time
# waiting on timers and networks, two at a time, longest first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
# The sanitizer and fuzzer builds compile (niced) while the first tests,
# which mostly wait, run; their suites wait for them.
nice -n 10 bash -c './scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false &&
  ./scripts/fuzz.sh --build' &
builds_pid=$!
status=0
# Both runs use the build made above (--no-rebuild: two ninjas must not work
# on one directory at once); the QEMU run logs to meson-logs/qemu.txt and
# prints its summary at the end.
qemu_out=build/meson-logs/qemu-console.txt
meson test -C build --no-rebuild --print-errorlogs --num-processes 1 --suite qemu \
  --logbase qemu >"$qemu_out" 2>&1 &
qemu_pid=$!
trap 'kill "$qemu_pid" "$builds_pid" 2>/dev/null || true' EXIT
meson test -C build --no-rebuild --print-errorlogs --num-processes 2 --no-suite qemu || status=1
wait "$builds_pid" || { echo "test.sh: the ASan+UBSan or the fuzzer build failed" >&2; exit 1; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 2 --suite unit \
  --suite image || status=1
# libFuzzer harnesses (tests/fuzz), 20 s each, two at a time: about 2 minutes.
./scripts/fuzz.sh 20 || status=1
wait "$qemu_pid" || status=1
echo "QEMU tests (suite qemu, one at a time; $qemu_out):"
cat "$qemu_out"
exit $status
