# shellcheck shell=bash disable=SC2034 # variables for the tests that source this
# Shared by the console tests (issue 5: test-console-*.sh): fleetcastd in API
# mode (--daemon --http 127.0.0.1:PORT) in the lab's srv namespace, curl and
# the `fleetcast` CLI run there too, receivers in m1..mN. Source after lib.sh.

# con_init : root, the binaries, curl, the lab (mc_init). fleetcastd listens
# on $CON_ADDR (default 127.0.0.1; set it before con_init), reached at
# $CON_URL (127.0.0.1 for 0.0.0.0).
con_init() {
	mc_init
	command -v curl >/dev/null || die "curl is missing (scripts/install-deps.sh)"
	CON_PORT=$((17000 + RANDOM % 2000)) # the srv namespace is ours: any port is free
	CON_ADDR=${CON_ADDR:-127.0.0.1}
	CON_URL=http://${CON_ADDR/#0.0.0.0/127.0.0.1}:$CON_PORT
	MC_SERVER_OPT=(--server 10.77.0.1)
}

# con_image DATA_MIB : a disk file of twice DATA_MIB with DATA_MIB of random
# (incompressible) data, its signed image $IMG, public key $PUB, and the
# reference restore $REF. Fast, and the session's length is set by --rate.
con_image() {
	local mib=$1
	IMG=$T/disk.fcimg PUB=$T/key.pub REF=$T/ref.img
	head -c $((mib * MIB)) /dev/urandom >"$T/disk.raw"
	truncate -s $((2 * mib * MIB)) "$T/disk.raw"
	must "$FLEETCAST" key gen --out "$T/key"
	must "$FLEETCAST" image create "$T/disk.raw" "$IMG" --key "$T/key.key" --quiet
	must "$FLEETCAST" image restore "$IMG" "$REF" --pubkey "$PUB"
	log "image: $(fsize "$IMG") bytes"
}

# con_daemon [ARGS...] : fleetcastd --daemon --http $CON_ADDR:$CON_PORT in srv
# (log $T/srv.log), FLEETCAST_HOME=$T/home; waits until the token files
# exist (write token $TOKEN, viewer token $VIEWER) and /api/v1/health
# answers.
con_daemon() {
	local end=$((SECONDS + 60)) # a loaded CI machine can be slow to start it
	mkdir -p "$FLEETCAST_HOME"
	SRV_PID=$(lab_bg srv "$T/srv.log" "$FLEETCASTD" --daemon --http "$CON_ADDR:$CON_PORT" "$@") ||
		die "cannot start fleetcastd"
	while ((SECONDS < end)) && kill -0 "$SRV_PID" 2>/dev/null; do
		if [[ -s $FLEETCAST_HOME/api.token && -s $FLEETCAST_HOME/viewer.token ]] &&
			lab_exec srv curl -sf --max-time 2 -H "Authorization: Bearer $(<"$FLEETCAST_HOME/viewer.token")" \
				"$CON_URL/api/v1/health" >/dev/null 2>&1; then
			TOKEN=$(<"$FLEETCAST_HOME/api.token")
			VIEWER=$(<"$FLEETCAST_HOME/viewer.token")
			return 0
		fi
		sleep 0.1
	done
	die "fleetcastd --daemon --http did not answer: $(head -c 800 "$T/srv.log")"
}

# req METHOD PATH [BODY|@FILE] [TOKEN] : curl in srv; status in CODE, body in
# $T/resp (and RESP).
req() {
	local args=(-s -o "$T/resp" -w '%{http_code}' -X "$1" --max-time 15)
	[[ -n ${4:-} ]] && args+=(-H "Authorization: Bearer $4")
	[[ -n ${3:-} ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	CODE=$(lab_exec srv curl "${args[@]}" "$CON_URL$2") || CODE=000
	RESP=$(head -c 2000 "$T/resp" 2>/dev/null)
}

# expect CODE DESCRIPTION : the last req answered CODE; a 4xx/5xx must carry
# {"error": "text"}.
expect() {
	if [[ $CODE != "$1" ]]; then
		fail "$2: HTTP $1 (got $CODE: $RESP)"
		return 1
	fi
	if [[ $1 -ge 400 ]] && ! jq_ok 'isinstance(d.get("error"), str) and d["error"] != ""'; then
		fail "$2: HTTP $1 with a JSON {\"error\": text} (got: $RESP)"
		return 1
	fi
	pass "$2: HTTP $1"
}

# jq_ok PYEXPR : the last reply's JSON (d) satisfies PYEXPR.
jq_ok() {
	python3 - "$T/resp" "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 1)
PY
}
# jq_get PYEXPR : print a value of the last reply's JSON (d).
jq_get() { jget "$T/resp" "$1" 2>/dev/null || echo none; }
# check_json PYEXPR DESCRIPTION
check_json() {
	if jq_ok "$1"; then pass "$2"; else fail "$2 (reply: $RESP)"; fi
}

# fc_srv ARGS... : the fleetcast CLI in srv, talking to our fleetcastd.
fc_srv() {
	lab_exec srv env FLEETCAST_HOME="$FLEETCAST_HOME" "$FLEETCAST" "$@"
}

# wait_api PATH PYEXPR TIMEOUT_S : poll GET PATH until its JSON satisfies PYEXPR.
wait_api() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		req GET "$1"
		[[ $CODE == 200 ]] && jq_ok "$2" && return 0
		sleep 0.25
	done
	return 1
}

# con_playwright : node, npm and Debian's chromium ($CHROMIUM), and
# playwright-core (installed once into a cache; NODE_PATH set to it) to drive
# the browser. A missing tool fails in CI (never a silent skip), else skips.
con_playwright() {
	local lock
	CHROMIUM=${FC_CHROMIUM:-/usr/bin/chromium}
	for tool in node npm "$CHROMIUM"; do
		command -v "$tool" >/dev/null || {
			echo "$tool is missing (scripts/install-deps.sh installs chromium, nodejs, npm)"
			# In CI a missing tool is a failure, never a silent skip.
			[[ -n ${CI:-} ]] && exit 1
			exit 77
		}
	done

	# playwright-core, once, into the cache (the npm registry must be reachable).
	NODE_CACHE=${FC_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetcast-node}
	mkdir -p "$NODE_CACHE" || die "cannot make $NODE_CACHE"
	# Three tests call this and meson runs them side by side: the lock lets
	# one install while the others wait for it, instead of two npm runs
	# writing the same node_modules.
	exec {lock}>"$NODE_CACHE/.install.lock" || die "cannot open $NODE_CACHE/.install.lock"
	flock -w 300 "$lock" || die "playwright-core's install by another test took over 300 s"
	if [[ ! -f $NODE_CACHE/node_modules/playwright-core/package.json ]]; then
		log "installing playwright-core into $NODE_CACHE"
		# Newer playwright-core needs Node 20; Debian 12's own nodejs is 18.
		PW=playwright-core@1
		(($(node -p 'process.versions.node.split(".")[0]') < 20)) && PW=playwright-core@1.49.1
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 240 npm install --no-audit --no-fund --no-save \
			--prefix "$NODE_CACHE" "$PW" >"$T/npm.log" 2>&1 ||
			die "npm install playwright-core failed: $(tail -c 600 "$T/npm.log")"
	fi
	exec {lock}>&-
	export NODE_PATH=$NODE_CACHE/node_modules
	log "playwright-core $(jget "$NODE_PATH/playwright-core/package.json" 'd["version"]'), $("$CHROMIUM" --version 2>/dev/null | head -1)"
}
