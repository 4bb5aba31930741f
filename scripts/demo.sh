#!/bin/bash
# The main job on the built-in sample: a simulated lab imaging several
# machines from one master disk in one multicast session, on one host.
#  1. make the sample master disk, a signing key, and the signed image;
#  2. as root: a network-namespace lab (a switch, the server, N machines,
#     1 % random loss on every machine's link); without root: loopback
#     multicast on this host (said so);
#  3. fleetcastd serves the image, one fleetcast-recv per machine writes its
#     own disk file; the server's status line shows live progress;
#  4. every disk is checked against the image and the master, and a summary
#     table is printed.
#   demo.sh [MACHINES (default 8)] [LOSS_PERCENT (default 1)]
# Everything lives in lab-out/ (or $FC_DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
machines=${1:-8}
loss=${2:-1}
out=${FC_DEMO_DIR:-lab-out}
root=$([ "$(id -u)" -eq 0 ] && echo 1 || echo 0)

if [ "$root" = 1 ]; then ./scripts/install-deps.sh; fi
./scripts/build.sh build
fc=$PWD/build/cli/fleetcast
fcd=$PWD/build/server/fleetcastd
fcr=$PWD/build/client/fleetcast-recv
mkdir -p "$out/disks"
out=$(readlink -f "$out")
export FLEETCAST_HOME=$out/home

echo "== 1. sample master disk, key, signed image"
[ -f "$out/master.img" ] || ./scripts/sample-disk.sh "$out/master.img" 512 3000
[ -f "$out/lab.key" ] || "$fc" key gen --out "$out/lab" >/dev/null
[ -f "$out/master.fcimg" ] ||
  "$fc" image create "$out/master.img" "$out/master.fcimg" --key "$out/lab.key" --quiet
"$fc" image info "$out/master.fcimg" | sed -n '/^disk/,/^chunks/p'
rm -f "$out"/disks/*.img "$out"/*.log "$out"/*.json

group=239.77.0.1:9000
pids=()
if [ "$root" = 1 ]; then
  echo "== 2. network-namespace lab: server + $machines machines, $loss % loss on each link"
  # shellcheck source=tests/lab/lab.sh disable=SC1091
  source tests/lab/lab.sh
  lab_create "$machines"
  lab_loss_all "$loss"
  srv_pid=$(lab_bg srv "$out/server.log" "$fcd" --image "$out/master.fcimg" --group "$group" \
    --iface eth0 --rate 200M --min-receivers "$machines" --max-wait 30 --verbose \
    --stats "$out/server.json")
  for m in $(lab_machines); do
    pids+=("$(lab_bg "$m" "$out/$m.log" "$fcr" --target "$out/disks/$m.img" --iface eth0 \
      --pubkey "$out/lab.pub" --name "$m" --quiet --stats "$out/$m.json")")
  done
  wait_pid() { lab_wait "$1" 600; }
else
  echo "== 2. not root: no network namespaces; falling back to loopback multicast on this host"
  "$fcd" --image "$out/master.fcimg" --group "$group" --iface lo --rate 200M \
    --min-receivers "$machines" --max-wait 30 --verbose --stats "$out/server.json" \
    2>"$out/server.log" &
  srv_pid=$!
  sleep 0.5
  for i in $(seq 1 "$machines"); do
    "$fcr" --target "$out/disks/m$i.img" --server 127.0.0.1 --iface lo --pubkey "$out/lab.pub" \
      --name "m$i" --quiet --stats "$out/m$i.json" 2>"$out/m$i.log" &
    pids+=($!)
  done
  wait_pid() { wait "$1"; }
fi

echo "== 3. one multicast session (live progress from the server)"
tail -n +1 -f "$out/server.log" --pid "$srv_pid" 2>/dev/null | grep --line-buffered -E \
  "session [0-9a-f]+: (sending|repair|waiting|finished)|->|DROPPED|FAILED|refused" &
tail_pid=$!
set +e
wait_pid "$srv_pid"
srv_rc=$?
rcs=()
for p in "${pids[@]}"; do
  wait_pid "$p"
  rcs+=($?)
done
set -e
kill "$tail_pid" 2>/dev/null || true

echo "== 4. every disk checked"
"$fc" image restore "$out/master.fcimg" "$out/reference.img" --quiet
printf '%-6s %-5s %-9s %-10s %-8s %s\n' machine exit compare "= restore" seconds "lost pkts"
bad=0
i=0
for m in $(if [ "$root" = 1 ]; then lab_machines; else seq -f 'm%g' 1 "$machines"; fi); do
  d=$out/disks/$m.img
  cmpv=FAIL
  same=FAIL
  [ -f "$d" ] && "$fc" image compare "$out/master.fcimg" "$d" --quiet && cmpv=ok
  [ -f "$d" ] && cmp -s "$d" "$out/reference.img" && same=identical
  secs=$(python3 -c "import json;r=[x for x in json.load(open('$out/server.json'))['receivers'] if x['name']=='$m'];print('%.1f %d'%(r[0]['seconds'],r[0]['pkts_lost']) if r else '- -')" 2>/dev/null || echo "- -")
  read -r secs lost <<<"$secs"
  printf '%-6s %-5s %-9s %-10s %-8s %s\n' "$m" "${rcs[$i]}" "$cmpv" "$same" "$secs" "$lost"
  [ "${rcs[$i]}" = 0 ] && [ "$cmpv" = ok ] && [ "$same" = identical ] || bad=$((bad + 1))
  i=$((i + 1))
done
python3 - "$out/server.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
data = s["data_pkts"] + s["catchup_pkts"]
print("server: %s in %.1f s, %d done, %d failed, %d dropped; %d data packets, %d repair "
      "(%.1f%%), %d catch-up; %.1f MiB on the wire for a %.1f MiB image"
      % (s["state"], s["seconds"], s["receivers_done"], s["receivers_failed"],
         s["receivers_dropped"], s["data_pkts"], s["repair_pkts"],
         100.0 * s["repair_pkts"] / max(data, 1), s["catchup_pkts"],
         s["wire_bytes"] / 2**20, s["image_bytes"] / 2**20))
PY
echo "server exit $srv_rc; $((machines - bad)) of $machines disks verified identical to a local restore"
[ "$bad" = 0 ] && [ "$srv_rc" = 0 ]
