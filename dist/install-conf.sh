#!/bin/sh
# meson install: CONF into DIR as fleetcastd.conf, unless one is there
# already (the administrator's): then as fleetcastd.conf.example.
set -eu
conf=$1
dir=${DESTDIR:-}$2
mkdir -p "$dir"
if [ -e "$dir/fleetcastd.conf" ]; then
	install -m 0644 "$conf" "$dir/fleetcastd.conf.example"
	echo "kept $dir/fleetcastd.conf; the new example is fleetcastd.conf.example"
else
	install -m 0644 "$conf" "$dir/fleetcastd.conf"
fi
