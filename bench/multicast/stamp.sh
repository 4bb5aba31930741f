#!/usr/bin/env bash
# bench/multicast/stamp.sh PREFIX CMD...: run CMD for the multicast benchmark and record
#   PREFIX.log   CMD's stdout and stderr, each line prefixed with the wall clock (epoch seconds
#                with microseconds) at which it was read: when a receiver joined, when the
#                transfer started, when a machine was done;
#   PREFIX.time  GNU time's "%e %U %S %M" (elapsed, user, sys seconds; peak RSS in KiB of the
#                largest single process) on its last line. CPU includes every child CMD waited
#                for: for `bash -c 'a | b | c'` it is the whole pipeline, and %M is the largest
#                of its processes;
#   PREFIX.end   "EPOCH EXIT_STATUS" once CMD has ended.
# Exits with CMD's status. Started by run.sh inside a lab namespace with lab_bg.
set -uo pipefail

p=${1:?usage: stamp.sh PREFIX CMD...}
shift
printf '%s\n' "$EPOCHREALTIME" >"$p.start"
/usr/bin/time -f '%e %U %S %M' -o "$p.time" "$@" 2>&1 |
    while IFS= read -r line || [[ -n $line ]]; do
        printf '%s %s\n' "$EPOCHREALTIME" "$line"
    done >"$p.log"
rc=${PIPESTATUS[0]}
printf '%s %s\n' "$EPOCHREALTIME" "$rc" >"$p.end.tmp" && mv "$p.end.tmp" "$p.end"
exit "$rc"
