#!/bin/bash
# Attacks on the API, each repeated from issue 10 with its bound asserted:
# bodies without credentials refused before they are read (401 at once, no
# memory held), bodies over a route's limit (413 at admission), the memory
# all bodies in flight may hold (503 past http-body-memory-mb), a body
# trickled below http-body-min-rate (cut off), JSON bodies that would build
# huge trees (the shape scan: 400), a cancelled capture that tries to
# publish (nothing published), one deploy token fetching its task over and
# over (one multicast receiver per task), text with escape sequences, a
# forged log line and a cut UTF-8 character (escaped, 200), made-up MACs
# registering hosts (bounded; lists come in pages with a total).  The
# memory bounds are measured on the optimised build (ASan's allocator keeps
# freed memory in quarantine): a 67 MB manifest body of "[{},{},...]" and
# four at once leave pxed's peak under idle + 64 MiB, and the API answers
# within 100 ms meanwhile.
LAB_ID=${LAB_ID:-aa$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
PXED_OPT=${PXED_OPT:-build/pxed}
lab_plan 48

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"

api() {
	local method=$1 path=$2 token=${3:-} auth=()
	shift 3 2>/dev/null || shift $#
	[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
	in_cli timeout 60 curl -sS -X "$method" "${auth[@]}" -o "$OUT/body" \
		-w '%{http_code}' "$@" "$URL$path"
	echo " $(cat "$OUT/body" 2>/dev/null)"
}
code() { echo "${1%% *}"; }
body() { echo "${1#* }"; }
jget() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(eval("v"+sys.argv[2]))' "$(body "$1")" "$2"; }
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$PXED_PID/status"; }
status_field() { pxed_status_field "$1" "$2"; }

# capture_task MAC IMAGE: a running capture task of a new host; its token.
capture_task() {
	ctl host add "$1" >/dev/null || return 1
	ctl task capture "$1" "$2" >/dev/null || return 1
	local t
	t=$(token_of "$1")
	[ -n "$t" ] || return 1
	[ "$(code "$(api GET /api/v1/agent/task "$t")")" = 200 ] || return 1
	echo "$t"
}

# raw_request COUNT HEADERS_FILE SECONDS: open COUNT connections at once,
# send the headers and 1 KiB of body each (never the rest), and print the
# status line each got within SECONDS (or "none").
raw_request() {
	in_cli timeout 30 python3 - "$LAB_SRV_IP" "$1" "$2" "$3" <<'EOF'
import socket, sys, time
host, n, hdr, secs = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], 'rb').read(), float(sys.argv[4])
socks = []
for _ in range(n):
    s = socket.create_connection((host, 80))
    s.sendall(hdr + b'x' * 1024)
    socks.append(s)
deadline = time.time() + secs
for s in socks:
    s.settimeout(max(0.05, deadline - time.time()))
    try:
        line = s.recv(64).split(b'\r\n')[0].decode()
    except socket.timeout:
        line = 'none'
    print(line or 'closed')
for s in socks:
    s.close()
EOF
}

pxed_start --host-register-rate 50 --http-body-memory-mb 64 ||
	{ not_ok "setup: pxed_start"; exit 1; }
TOKEN=$(cat "$LAB_DIR/state/api-token")

# --- 2. credentials before the body ----------------------------------------
printf 'PUT /api/v1/agent/manifest HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n' \
	>"$OUT/noauth.hdr"
rss0=$(pxed_rss_kb)
out=$(raw_request 16 "$OUT/noauth.hdr" 3)
n401=$(grep -c "401" <<<"$out")
check "16 unauthenticated 64 MiB uploads: each 401 at once, before its body" [ "$n401" -eq 16 ]
rss1=$(pxed_rss_kb)
echo "# RSS $rss0 KiB before, $rss1 KiB after"
check "... and pxed holds none of their bodies (RSS grew < 8 MiB)" [ $((rss1 - rss0)) -lt 8192 ]
r=$(api PUT /api/v1/agent/manifest "" --data-binary '{}')
check "a small body without a token: 401" eq "$(code "$r")" 401

# --- a body over its route's limit, refused at admission ----------------------
ctl host add 52:54:00:bb:00:01 >/dev/null || { not_ok "setup: host"; exit 1; }
ctl task shell 52:54:00:bb:00:01 >/dev/null || { not_ok "setup: task"; exit 1; }
ST=$(token_of 52:54:00:bb:00:01)
api GET /api/v1/agent/task "$ST" >/dev/null
python3 -c 'import sys; sys.stdout.write("[" + "{},"*349525 + "{}]")' >"$OUT/mib.json"
r=$(api POST /api/v1/agent/inventory "$ST" --data-binary "@$OUT/mib.json")
check "1 MiB of [{},...] to the inventory: 413 (its limit is 64 KiB)" eq "$(code "$r")" 413
python3 -c 'import sys; sys.stdout.write("{\"x\":[" + "{},"*20000 + "{}]}")' >"$OUT/60k.json"
r=$(api POST /api/v1/agent/inventory "$ST" --data-binary "@$OUT/60k.json")
check "60 KB of {} objects to the inventory: 400, its shape is bounded" eq "$(code "$r")" 400
check "... saying so" has "$(body "$r")" "more than 4096 JSON values"
# a NUL byte stopped the scan where jansson read on: the values after it
# escaped the bound (found by fuzz_json_body)
python3 -c 'import sys; sys.stdout.write("{\"x\":[{}\0" + ",{}"*20000 + "]}")' >"$OUT/nul.json"
r=$(api POST /api/v1/agent/inventory "$ST" --data-binary "@$OUT/nul.json")
check "the same behind a NUL byte: 400 too" eq "$(code "$r")" 400
r=$(api POST /api/v1/hosts "$TOKEN" --data-binary "@$OUT/60k.json")
check "the same to an admin route: 413 (4 KiB)" eq "$(code "$r")" 413

# --- the memory all bodies in flight hold: 503 past it -------------------------
CT=$(capture_task 52:54:00:bb:00:02 cap1) || { not_ok "setup: capture task"; exit 1; }
sha=$(printf '%064d' 0)
printf 'PUT /api/v1/agent/chunks/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 16900000\r\n\r\n' \
	"$sha" "$CT" >"$OUT/chunk.hdr"
out=$(raw_request 6 "$OUT/chunk.hdr" 2)
n503=$(grep -c "503" <<<"$out")
echo "# six 16.9 MB uploads held open: $(tr '\n' ' ' <<<"$out")"
check "6 chunk uploads of 16.9 MB held open with 64 MiB for bodies: 3 answered 503" \
	[ "$n503" -eq 3 ]
check "... counted in pxed_http_bodies_refused_total" \
	[ "$(status_field http bodies_refused)" -eq 3 ]

# --- a body that trickles: cut off ----------------------------------------------
in_cli timeout 30 python3 - "$LAB_SRV_IP" "$sha" "$CT" >"$OUT/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80))
s.sendall(('PUT /api/v1/agent/chunks/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
           'Content-Length: 100000\r\n\r\n' % (sys.argv[2], sys.argv[3])).encode())
sent, t0 = 0, time.time()
try:
    while time.time() - t0 < 25:
        s.sendall(b'x' * 100)       # 100 bytes a second, below 4096
        sent += 100
        time.sleep(1)
    print('still open after 25 s')
except OSError:
    print('closed after %.0f s, %d bytes' % (time.time() - t0, sent))
EOF
SLOW=$!
wait "$SLOW"
echo "# $(cat "$OUT/slow.out")"
check "a body at 100 bytes/s is cut off after the 10 s grace" has "$(cat "$OUT/slow.out")" "closed after 1[0-9]"
check "... counted in pxed_http_bodies_slow_total" [ "$(status_field http bodies_slow)" -ge 1 ]

# --- 3. a cancelled capture publishes nothing -----------------------------------
head -c 4096 /dev/zero >"$OUT/z"
zstd -q -f "$OUT/z" -o "$OUT/z.zst"
ZS=$(sha256sum "$OUT/z" | cut -d' ' -f1)
CT3=$(capture_task 52:54:00:bb:00:03 racey) || { not_ok "setup: capture task"; exit 1; }
r=$(api PUT "/api/v1/agent/chunks/$ZS" "$CT3" --data-binary "@$OUT/z.zst")
check "setup: a chunk uploaded" [ "$(code "$r")" = 201 -o "$(code "$r")" = 200 ]
# 600000 chunks of the same 4 KiB, 64 KiB apart: a valid 52 MB manifest
python3 - "$ZS" 600000 racey >"$OUT/big.json" <<'EOF'
import sys
sha, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = sys.stdout
out.write('{"format":1,"name":"%s","created":1,"chunk_size":4194304,' % name)
out.write('"disk":{"size":%d,"sector_size":512,"table":"none"},' % (n * 65536))
out.write('"partitions":[],"table_chunks":[],"chunks":[')
out.write(','.join('[%d,4096,"%s"]' % (i * 65536, sha) for i in range(n)))
out.write(']}')
EOF
echo "# manifest of $(stat -c %s "$OUT/big.json") bytes"
in_cli timeout 60 curl -sS -X PUT -H "Authorization: Bearer $CT3" --limit-rate 10M \
	--data-binary "@$OUT/big.json" -o "$OUT/race.body" -w '%{http_code}' \
	"$URL/api/v1/agent/manifest" >"$OUT/race.code" 2>&1 &
UP=$!
sleep 1
out=$(ctl task cancel "$(task_of 52:54:00:bb:00:03)")
check "the capture is cancelled while its manifest uploads" has "$out" "cancelled"
wait "$UP"
check "the upload that ends after the cancel: 409" eq "$(cat "$OUT/race.code")" 409
check "... saying nothing was published" has "$(cat "$OUT/race.body")" "nothing published"
check "the image is not listed" eq "$(code "$(api GET /api/v1/images/racey "$TOKEN")")" 404
check "no manifest file was left" [ ! -e "$LAB_DIR/state/images/manifests/racey.json" ]
check "the log has no 'published' line for it" sh -c "! grep -q 'image racey published' '$LAB_DIR/pxed.log'"
left=$(find "$LAB_DIR/state/images/manifests" -name '.upload*' | wc -l)
check "no upload file is left behind" [ "$left" -eq 0 ]

# --- 4. one deploy token, one multicast receiver --------------------------------
CT4=$(capture_task 52:54:00:bb:00:04 mimg) || { not_ok "setup: capture task"; exit 1; }
api PUT "/api/v1/agent/chunks/$ZS" "$CT4" --data-binary "@$OUT/z.zst" >/dev/null
python3 - "$ZS" 4 mimg >"$OUT/small.json" <<'EOF'
import sys
sha, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.stdout.write('{"format":1,"name":"%s","created":1,"chunk_size":4194304,'
    '"disk":{"size":%d,"sector_size":512,"table":"none"},"partitions":[],'
    '"table_chunks":[],"chunks":[%s]}' % (name, n * 65536,
    ','.join('[%d,4096,"%s"]' % (i * 65536, sha) for i in range(n))))
EOF
r=$(api PUT /api/v1/agent/manifest "$CT4" --data-binary "@$OUT/small.json")
check "setup: an image to deploy (201)" [ "$(code "$r")" = 201 ]
api POST /api/v1/agent/result "$CT4" -d '{"ok":true}' >/dev/null
ctl host add 52:54:00:bb:00:05 dep1 >/dev/null
ctl host add 52:54:00:bb:00:06 dep2 >/dev/null
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"ms1","image":"mimg","hosts":["dep1","dep2"],"start_after":600}')
check "setup: a multicast session for dep1 and dep2" [ "$(code "$r")" = 201 ]
D1=$(token_of 52:54:00:bb:00:05)
ids=$(for i in $(seq 1 300); do
	jget "$(api GET /api/v1/agent/task "$D1")" '["multicast"]["receiver"]' 2>/dev/null
done | sort -u | wc -l)
check "300 task fetches with dep1's token: each given a fresh receiver id" eq "$ids" 300
nrx=$(json /api/v1/mcast/ms1 '["receivers"].__len__()')
check "... and one receiver in the session (the old ids revoked)" eq "$nrx" 1
D2=$(token_of 52:54:00:bb:00:06)
r=$(api GET /api/v1/agent/task "$D2")
check "dep2 still gets a multicast receiver id" has "$(body "$r")" '"receiver"'
check "two receivers now" eq "$(json /api/v1/mcast/ms1 '["receivers"].__len__()')" 2
ctl task cancel "$(task_of 52:54:00:bb:00:06)" >/dev/null
check "a cancelled task's receiver leaves the session" \
	eq "$(json /api/v1/mcast/ms1 '["receivers"].__len__()')" 1
ctl mcast cancel ms1 >/dev/null

# --- 5. text from agents: escaped, valid UTF-8 ------------------------------------
ctl host add 52:54:00:bb:00:07 esc >/dev/null
ctl task shell esc >/dev/null
ET=$(token_of 52:54:00:bb:00:07)
api GET /api/v1/agent/task "$ET" >/dev/null
msg=$(python3 -c 'import json; print(json.dumps({"ok": False, "message": "boom\u001b[2J\u001b[H\u001b]52;c;ZXZpbA==\u0007\nFORGED pxed: task 99 done", "log": "a\u001b[31mred\nline2"}))')
r=$(api POST /api/v1/agent/result "$ET" -d "$msg")
check "a result with escape sequences and a newline: 204" eq "$(code "$r")" 204
task_id_of() {   # MAC: its newest task, ended or not
	ctl --json task list | python3 -c 'import json,sys
print([t["id"] for t in json.load(sys.stdin)["tasks"] if t["host"] == sys.argv[1]][0])' "$1"
}
EID=$(task_id_of 52:54:00:bb:00:07)
ctl task list >"$OUT/list.txt"
ctl task show "$EID" >"$OUT/show.txt"
check "pxectl task list prints no ESC byte" sh -c "! grep -q \$(printf '\\033') '$OUT/list.txt'"
check "pxectl task show prints no ESC or BEL byte" sh -c "! grep -q \$(printf '[\\033\\007]') '$OUT/show.txt'"
check "... but shows them escaped" has "$(cat "$OUT/show.txt")" 'boom\\x1b\[2J'
check "... and the log keeps its lines, escaped" has "$(cat "$OUT/show.txt")" 'a\\x1b\[31mred'
check "the forged line is not a line of pxed's log" sh -c "! grep -q '^FORGED' '$LAB_DIR/pxed.log'"
ctl host add 52:54:00:bb:00:08 utf >/dev/null
ctl task shell utf >/dev/null
UT=$(token_of 52:54:00:bb:00:08)
api GET /api/v1/agent/task "$UT" >/dev/null
long=$(python3 -c 'import json; print(json.dumps({"ok": True, "message": "A"*254 + "\u00e9"}))')
api POST /api/v1/agent/result "$UT" -d "$long" >/dev/null
UID2=$(task_id_of 52:54:00:bb:00:08)
check "a message cut inside a character: the task is listed" [ -n "$UID2" ]
r=$(api GET "/api/v1/tasks/$UID2" "$TOKEN")
check "... GET /api/v1/tasks/ID: 200" eq "$(code "$r")" 200
check "... its message is valid UTF-8, cut before the character" \
	eq "$(jget "$r" '["message"]')" "$(printf 'A%.0s' $(seq 1 254))"
check "... pxectl task show works" ctl task show "$UID2"

# --- 6. made-up MACs ----------------------------------------------------------------
n0=$(json "/api/v1/hosts?limit=1" '["total"]')
urls=()
for i in $(seq 0 1999); do
	urls+=("$URL/api/v1/boot/00:00:00:00:$(printf '%02x:%02x' $((i / 256)) $((i % 256))).ipxe")
done
in_cli timeout 120 curl -sS "${urls[@]}" >/dev/null
n1=$(json "/api/v1/hosts?limit=1" '["total"]')
echo "# hosts before $n0, after 2000 fetches of made-up MACs $n1"
check "2000 fetches of made-up MACs register at most host-register-rate (50)" \
	[ $((n1 - n0)) -le 52 -a $((n1 - n0)) -ge 45 ]
check "the others are counted (pxed_api_hosts_refused_total)" \
	[ "$(status_field api hosts_refused)" -ge 1948 ]
check "and logged once" eq "$(grep -c 'not registered: host-register-rate exceeded' "$LAB_DIR/pxed.log")" 1
ip -n "$LAB_SRV" addr add 203.0.113.1/24 dev s0
ip -n "$LAB_CLI" addr add 203.0.113.2/24 dev c0
in_cli timeout 10 curl -sS --interface 203.0.113.2 -o /dev/null \
	"$URL/api/v1/boot/00:00:00:00:ff:01.ipxe"
check "meanwhile a machine on another subnet still registers (a bucket per subnet)" \
	eq "$(json /api/v1/hosts/00:00:00:00:ff:01 '["mac"]')" 00:00:00:00:ff:01
# every host once, across pages of 7
seen=$(in_cli timeout 60 python3 - "$URL" "$TOKEN" <<'EOF'
import json, sys, urllib.request
url, after, macs, total = sys.argv[1], "", [], None
auth = {"Authorization": "Bearer " + sys.argv[2]}
for _ in range(1000):
    req = urllib.request.Request(url + "/api/v1/hosts?limit=7" + ("&after=" + after if after else ""), headers=auth)
    page = json.load(urllib.request.urlopen(req))
    macs += [h["mac"] for h in page["hosts"]]
    total = page["total"]
    if page["next"] is None:
        break
    after = page["next"]
print(len(macs), len(set(macs)), total)
EOF
)
check "pages of 7 list every host once, as many as the total" \
	eq "$(awk '{ print ($1 == $2 && $2 == $3) ? "yes" : $0 }' <<<"$seen")" yes
check "pxectl host list lists the real hosts too" has "$(ctl host list)" "dep2"

# --- 1. memory: the optimised build --------------------------------------------
pxed_stop
check "the sanitizer build stops cleanly" pxed_log_clean
pxed_log_rotate
PXED=$PXED_OPT pxed_start || { not_ok "setup: optimised pxed"; exit 1; }
CT5=$(capture_task 52:54:00:bb:00:09 attack) || { not_ok "setup: capture task"; exit 1; }
python3 -c 'import sys; sys.stdout.write("[" + "{},"*22369000 + "{}]")' >"$OUT/objs.json"
python3 -c 'import sys; sys.stdout.write("{\"format\":1,\"junk\":[" + "{},"*22369000 + "{}]}")' >"$OUT/objs2.json"
echo "# attack bodies: $(stat -c %s "$OUT/objs.json") and $(stat -c %s "$OUT/objs2.json") bytes"
idle=$(peak_kb)
r=$(api PUT /api/v1/agent/manifest "$CT5" --data-binary "@$OUT/objs.json")
check "a 67 MB manifest of [{},{},...]: 400" eq "$(code "$r")" 400
four=()
for i in 1 2 3 4; do
	in_cli timeout 60 curl -sS -o /dev/null -w '%{http_code}\n' -X PUT \
		-H "Authorization: Bearer $CT5" --data-binary "@$OUT/objs2.json" \
		"$URL/api/v1/agent/manifest" >"$OUT/four.$i" &
	four+=($!)
done
worst=0
for i in $(seq 1 20); do
	t=$(in_cli curl -sS -o /dev/null -w '%{time_total}' "$URL/api/v1/status")
	ms=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.05
done
wait "${four[@]}"
peak=$(peak_kb)
echo "# peak RSS: idle $idle KiB, after five 67 MB attack bodies $peak KiB; slowest status answer meanwhile $worst ms"
check "four such bodies at once (an unknown member holding them): each 400" \
	eq "$(cat "$OUT"/four.* | sort -u)" 400
check "pxed's peak memory stays under idle + 64 MiB" [ $((peak - idle)) -lt 65536 ]
check "the API answers within 100 ms meanwhile" [ "$worst" -le 100 ]
pxed_stop
lab_finish
