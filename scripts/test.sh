#!/bin/bash
# The whole test suite: installs what it needs, builds twice (normal, and
# ASan+UBSan), runs every unit and integration test in the normal build and
# the unit and image tests under the sanitizers, then fuzzes the parsers. Needs root (apt-get,
# loop-free disk images, network namespaces). Prints meson's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
./scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit --suite image \
  || status=1
# libFuzzer harnesses (tests/fuzz), 20 s each: about 3 minutes.
./scripts/fuzz.sh 20 || status=1
exit $status
