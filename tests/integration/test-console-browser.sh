#!/bin/bash
# Issue 5: the dashboard in a real browser. Debian's chromium (headless),
# driven by playwright-core from npm (browser-check.mjs), runs in the lab's
# srv namespace next to fleetcastd --daemon --http 127.0.0.1:PORT, while a
# session of 6 receivers runs: the page lists the session, shows the 6
# machines as tiles, "Start now" (token asked once) starts the session, a
# tile's progress moves between two samples, every machine reaches done.
# A capture armed for a machine that is not in the lab is listed in the
# Captures panel as armed, and turns cancelled live when it is cancelled.
# Screenshots are kept: $FC_BUILD_ROOT/meson-logs/console-dashboard.png (and
# -running.png), else in $FC_ARTIFACTS or /tmp.
# playwright-core is installed with npm into a cache directory if missing:
# $FC_NODE_CACHE (default ~/.cache/fleetcast-node); never a bundled browser.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
mc_bound 380 "$@"
mc_init
# shellcheck source=console-lib.sh
. "$IT_DIR/console-lib.sh"
# Not loopback: reads need a token, so the page is opened with the viewer
# token in its address (?token=), and "Start now" asks for the write token.
CON_ADDR=10.77.0.1
con_init

con_playwright

ART=${FC_ARTIFACTS:-}
[[ -z $ART && -n ${FC_BUILD_ROOT:-} && -d $FC_BUILD_ROOT/meson-logs ]] && ART=$FC_BUILD_ROOT/meson-logs
[[ -n $ART ]] || ART=/tmp
mkdir -p "$ART"
SHOT=$ART/console-dashboard.png
rm -f "$SHOT" "${SHOT%.png}-running.png"

N=6
con_image 48
lab_create "$N" || die "lab_create"
mapfile -t MACHINES < <(lab_machines)
# shellcheck disable=SC2119 # no extra daemon arguments
con_daemon

# A session that would wait for 50 machines: the browser starts it.
req POST /api/v1/sessions '{"image":"'"$IMG"'","group":"239.77.0.31:9000","iface":"eth0","rate":"24M","min_receivers":50,"max_wait":600}' "$TOKEN"
expect 201 "create the session" || die "cannot create the session: $RESP"
ID=$(jq_get 'd["session"]["id"]')
log "session $ID; the browser loads $CON_URL/ in srv"

# A capture armed over the API: the page must list it.
CAP_MAC=52:54:00:fc:0c:01
req POST /api/v1/captures '{"mac":"'"$CAP_MAC"'","out":"captured.fcimg"}' "$TOKEN"
expect 201 "arm a capture for $CAP_MAC" || die "cannot arm the capture: $RESP"

# The last machine's name has markup and a byte that is not UTF-8: the
# tile must show it as text, escaped.
ODD_NAME=$'<i>odd</i>-\xff'
lab_bg srv "$T/browser.log" env NODE_PATH="$NODE_PATH" HOME="$T" node "$IT_DIR/browser-check.mjs" \
	--url "$CON_URL/?token=$VIEWER" --machines "$N" --token "$TOKEN" --click-start --session "$ID" \
	--expect-name '<i>odd</i>-\xff' \
	--expect-capture "$CAP_MAC" --capture-out captured.fcimg --screenshot "$SHOT" --chromium "$CHROMIUM" --timeout 150 >/dev/null
BROWSER=$LAB_PID
sleep 2
for m in "${MACHINES[@]:0:N-1}"; do mc_recv "$m" --quiet; done
mc_recv "${MACHINES[N - 1]}" --quiet --name "$ODD_NAME"
rc=0
lab_wait "$BROWSER" 300 || rc=$?
mc_wait_recvs 60 "${MACHINES[@]}"

# The browser's own checks count as ours.
while read -r line; do
	case $line in
	"ok "*) pass "${line#ok * - }" ;;
	"not ok "*) fail "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$T/browser.log"
grep -Ev '^(ok|not ok|#) ' "$T/browser.log" | head -20 | sed 's/^/# browser: /'
assert_eq 0 "$rc" "browser-check.mjs exit status"
for m in "${MACHINES[@]}"; do mc_check_recv "$m"; done
req GET "/api/v1/sessions/$ID" "" "$VIEWER"
check_json 'd["session"]["state"] == "finished" and d["session"]["receivers"]["done"] == '"$N" "the session finished with $N done (API)"
check "a screenshot was kept: $SHOT" test -s "$SHOT"
log "screenshots: $SHOT ${SHOT%.png}-running.png"
mc_finish
