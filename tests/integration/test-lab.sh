#!/bin/bash
# Self-test of the netns lab helper; the test itself lives with the lab in tests/lab/.
set -euo pipefail
exec bash "$SRCDIR/tests/lab/test-lab.sh" "$@"
