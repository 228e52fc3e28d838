#!/bin/bash
# The web console (ui/) in a real browser: pxed serves it at /ui/ from its
# HTTP port (ui-dir: the repository's ui/), and Debian's chromium, driven
# headless by playwright-core (npm, pinned in tests/console/package-lock.json;
# never a browser of Playwright's own), runs in the client namespace and
# reaches pxed over the lab's veth like any machine on the network.  tests/console/console.mjs
# logs in, registers a host, assigns a deploy, watches its progress bar
# move while a test agent (curl, as in imaging_api.sh) reports progress,
# opens the boot timeline of a machine whose task failed (a real DHCP
# client, a TFTP download and HTTP downloads from its own namespace, then
# a failed result) and finds the failed step marked and explained, walks
# every page with the keyboard, and saves screenshots of every page at
# 1280x800 and 390x844 in build/console-shots/ for review.
LAB_ID=${LAB_ID:-co$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
NODE_CHECKS=30
lab_plan $((NODE_CHECKS + 5))

TOP=$(pwd)
SHOTS=$TOP/build/console-shots
NPM_DIR=$TOP/build/console-npm
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
started=$(date +%s)

# --- the browser's libraries: npm ci from the pinned lock file ----------------
command -v node >/dev/null && command -v npm >/dev/null && [ -x "$CHROMIUM" ] ||
	{ not_ok "setup: node, npm and $CHROMIUM (scripts/deps.sh)"; exit 1; }
mkdir -p "$NPM_DIR"
cp tests/console/package.json tests/console/package-lock.json "$NPM_DIR/"
(cd "$NPM_DIR" && timeout 300 npm ci --no-audit --no-fund --prefer-offline --loglevel=error >npm.log 2>&1) ||
	{ cat "$NPM_DIR/npm.log"; not_ok "setup: npm ci (playwright-core)"; exit 1; }

# --- pxed with DHCP, serving the console -------------------------------------------
lab_up || { not_ok "setup: lab_up"; exit 1; }
mkdir -p "$LAB_ROOT/bootenv"
make_file undionly.kpxe 70000
make_file bootenv/vmlinuz 300000
make_file bootenv/initrd 500000
chmod -R a+rX "$LAB_ROOT"
pxed_start --dhcp-range 192.0.2.100,192.0.2.150,1h --boot bios=undionly.kpxe --ui-dir "$TOP/ui" ||
	{ not_ok "setup: pxed_start"; exit 1; }
TOKEN=$(cat "$LAB_DIR/state/api-token")
OUT=$LAB_DIR/out
mkdir -p "$OUT"

# api METHOD PATH TOKEN [curl args...]: prints "STATUS BODY"
api() {
	local method=$1 path=$2 token=$3 auth=()
	shift 3
	[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
	in_cli timeout 30 curl -sS -X "$method" "${auth[@]}" -o "$OUT/body" -w '%{http_code}' "$@" "$URL$path"
	echo " $(cat "$OUT/body" 2>/dev/null)"
}
code() { echo "${1%% *}"; }

UI_PATH=/ui/
ctype=$(in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$URL$UI_PATH")
check "pxed serves the console's page at /ui/ as HTML ($ctype)" eq "$ctype" "200 text/html; charset=utf-8"

# --- an image to deploy: a capture made by a test agent ------------------------------
ctl host add 52:54:00:c0:00:01 src1 >/dev/null || { not_ok "setup: host src1"; exit 1; }
ctl task capture src1 golden >/dev/null || { not_ok "setup: capture task"; exit 1; }
CT=$(token_of 52:54:00:c0:00:01)
api GET /api/v1/agent/task "$CT" >/dev/null
head -c 3000000 /dev/urandom >"$OUT/c1"
zstd -q -f "$OUT/c1" -o "$OUT/c1.zst"
S1=$(sha256sum <"$OUT/c1" | cut -c1-64)
r=$(api PUT "/api/v1/agent/chunks/$S1" "$CT" --data-binary "@$OUT/c1.zst")
[ "$(code "$r")" = 201 ] || { not_ok "setup: chunk upload ($r)"; exit 1; }
printf '{"format":1,"name":"golden","created":1700000000,"disk":{"size":67108864,"sector_size":512,"table":"none"},"chunk_size":4194304,"partitions":[],"table_chunks":[],"chunks":[[0,3000000,"%s"]]}' \
	"$S1" >"$OUT/manifest"
r=$(api PUT /api/v1/agent/manifest "$CT" --data-binary "@$OUT/manifest")
[ "$(code "$r")" = 201 ] || { not_ok "setup: manifest ($r)"; exit 1; }
r=$(api POST /api/v1/agent/result "$CT" -d '{"ok":true,"message":"captured"}')
[ "$(code "$r")" = 204 ] || { not_ok "setup: capture result ($r)"; exit 1; }
for i in 2 3 4 5; do ctl host add "52:54:00:c0:00:0$i" "lab$i" >/dev/null; done
r=$(api POST /api/v1/tokens "$TOKEN" -d '{"name":"console-read","scope":"read"}')
READ_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "${r#* }") ||
	{ not_ok "setup: a read token ($r)"; exit 1; }

# --- a machine that boots and fails: its own namespace on the lab's bridge ------------
FAILED_MAC=52:54:00:c0:00:66
FAILED_MESSAGE="disk /dev/sda: I/O error at sector 2048"
MNS=pxm-$LAB_ID
lab_attach "$MNS" eth0 || { not_ok "setup: the machine's namespace"; exit 1; }
ip -n "$MNS" link set eth0 address $FAILED_MAC
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] && ip addr add "$ip/${mask:-24}" dev "$interface"
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
in_m() { ip netns exec "$MNS" "$@"; }
in_m timeout 20 busybox udhcpc -i eth0 -n -q -f -t 4 -T 2 -s "$LAB_DIR/udhcpc.sh" \
	-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 >"$LAB_DIR/udhcpc.log" 2>&1 ||
	{ not_ok "setup: the machine's DHCP lease"; exit 1; }
in_m timeout 20 curl -sS -o /dev/null tftp://192.0.2.1/undionly.kpxe ||
	{ not_ok "setup: the machine's TFTP download"; exit 1; }
# the loop stores its boot events in batches (within half a second): the
# machine's next steps come after them, as they would after iPXE started
tftp_seen() { json "/api/v1/clients/$FAILED_MAC" '["events"][-1]["kind"]' 2>/dev/null | grep -qx tftp-done; }
for i in $(seq 1 50); do tftp_seen && break; sleep 0.2; done
tftp_seen || { not_ok "setup: the machine's TFTP download in its timeline"; exit 1; }
ctl host add $FAILED_MAC >/dev/null || { not_ok "setup: the machine's host"; exit 1; }
r=$(api POST /api/v1/tasks "$TOKEN" -d "{\"host\":\"$FAILED_MAC\",\"type\":\"wipe\"}")
[ "$(code "$r")" = 201 ] || { not_ok "setup: the machine's task ($r)"; exit 1; }
FT=$(in_m timeout 10 curl -sS "$URL/api/v1/boot/$FAILED_MAC.ipxe" | sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p')
for f in vmlinuz initrd; do in_m timeout 20 curl -sS -o /dev/null "$URL/bootenv/$f"; done
mt() { in_m timeout 20 curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FT" "$@"; }
[ "$(mt "$URL/api/v1/agent/task")" = 200 ] || { not_ok "setup: the machine's agent fetched its task"; exit 1; }
mt -X POST -d '{"phase":"wipe","bytes":1048576,"total":67108864}' "$URL/api/v1/agent/progress" >/dev/null
[ "$(mt -X POST -d "{\"ok\":false,\"message\":\"$FAILED_MESSAGE\",\"log\":\"wipe: pass 1\\nwipe: $FAILED_MESSAGE\"}" \
	"$URL/api/v1/agent/result")" = 204 ] || { not_ok "setup: the machine's failed result"; exit 1; }

# --- the browser --------------------------------------------------------------------
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
in_cli env HOME="$LAB_DIR" PXED_URL="$URL" PXED_TOKEN="$TOKEN" PXED_UI_PATH="$UI_PATH" SHOTS="$SHOTS" \
	FAILED_MAC="$FAILED_MAC" FAILED_MESSAGE="$FAILED_MESSAGE" IMAGE=golden READ_TOKEN="$READ_TOKEN" PROFILE="$LAB_DIR/chromium-profile" \
	CHROMIUM="$CHROMIUM" PLAYWRIGHT_CORE="$NPM_DIR/node_modules/playwright-core/index.mjs" \
	timeout 300 node tests/console/console.mjs >"$LAB_DIR/node.out" 2>&1
node_rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) echo "# ${line#\# }" ;;
	esac
done <"$LAB_DIR/node.out"
check "the browser script ran to its end (exit $node_rc)" [ "$node_rc" -eq 0 ]
shots=$(find "$SHOTS" -name '*.png' | wc -l)
check "screenshots of every page at 1280 and 390 px in build/console-shots ($shots)" [ "$shots" -ge 16 ]
check "pxed stops cleanly" pxed_stop
check "no sanitizer report in pxed's log" pxed_log_clean
echo "# console.sh ran in $(($(date +%s) - started)) s"
