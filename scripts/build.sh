#!/bin/bash
# Configures and builds into BUILDDIR (default build/) with warnings as
# errors; extra arguments go to `meson setup` (e.g. -Db_sanitize=...).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --werror "$@" >/dev/null
fi
meson compile -C "$builddir" >/dev/null
