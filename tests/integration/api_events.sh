#!/bin/bash
# GET /api/v1/events (Server-Sent Events) and pxectl watch: two listeners
# at once get the same events, in order, of every kind (host, task, boot,
# mcast); a task's states arrive in the order they happened; Last-Event-ID
# replays what followed it; a listener needs a read token; pxed stops
# cleanly with listeners connected.
LAB_ID=${LAB_ID:-ev$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 16

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"
api() {   # METHOD PATH TOKEN [curl args]: the status
	local m=$1 p=$2 t=$3
	shift 3
	in_cli timeout 30 curl -sS -o "$OUT/body" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer $t" "$@" "$URL$p"
}
# listen NAME: a raw SSE listener in the background (its output in OUT/NAME)
listen() {
	in_cli timeout 60 curl -sS -N -H "$(lab_auth)" "$URL/api/v1/events" >"$OUT/$1" 2>&1 &
	eval "PID_$1=\$!"
}
# events NAME: "id kind" per event of a listener's output
events() { awk '/^id: /{ id = $2 } /^event: /{ print id, $2 }' "$OUT/$1"; }

pxed_start || { not_ok "setup: pxed_start"; exit 1; }
TOKEN=$(cat "$LAB_DIR/state/api-token")
check "a listener without a token: 401" eq "$(in_cli timeout 5 curl -sS -o /dev/null \
	-w '%{http_code}' "$URL/api/v1/events")" 401

listen a
listen b
in_cli timeout 60 "$PXECTL" --server "$URL" --token-file "$LAB_DIR/state/api-token" \
	watch 3 >"$OUT/watch" 2>&1 &
W=$!
sleep 1

# a host, a shell task through its life, an image and a multicast session
ctl host add 52:54:00:ee:00:01 ev1 >/dev/null || { not_ok "setup: host"; exit 1; }
ctl task shell ev1 >/dev/null || { not_ok "setup: task"; exit 1; }
T=$(token_of 52:54:00:ee:00:01)
api GET /api/v1/agent/task "$T" >/dev/null
api POST /api/v1/agent/progress "$T" -d '{"phase":"shell","bytes":1,"total":2}' >/dev/null
api POST /api/v1/agent/result "$T" -d '{"ok":true,"message":"bye"}' >/dev/null
ctl host add 52:54:00:ee:00:02 ev2 >/dev/null
ctl task capture ev2 img >/dev/null
CT=$(token_of 52:54:00:ee:00:02)
api GET /api/v1/agent/task "$CT" >/dev/null
head -c 4096 /dev/zero >"$OUT/z"
zstd -q -f "$OUT/z" -o "$OUT/z.zst"
ZS=$(sha256sum "$OUT/z" | cut -d' ' -f1)
api PUT "/api/v1/agent/chunks/$ZS" "$CT" --data-binary "@$OUT/z.zst" >/dev/null
printf '{"format":1,"name":"img","created":1,"chunk_size":4194304,"disk":{"size":65536,"sector_size":512,"table":"none"},"partitions":[],"table_chunks":[],"chunks":[[0,4096,"%s"]]}' \
	"$ZS" >"$OUT/m.json"
r=$(api PUT /api/v1/agent/manifest "$CT" --data-binary "@$OUT/m.json")
[ "$r" = 201 ] || { not_ok "setup: image ($r)"; exit 1; }
api POST /api/v1/agent/result "$CT" -d '{"ok":true}' >/dev/null
ctl host add 52:54:00:ee:00:03 ev3 >/dev/null
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"ms","image":"img","hosts":["ev3"]}')
[ "$r" = 201 ] || { not_ok "setup: session ($r)"; exit 1; }
ctl mcast cancel ms >/dev/null
sleep 2

kill "$PID_a" "$PID_b" 2>/dev/null
wait "$PID_a" "$PID_b" 2>/dev/null
wait "$W"
check "pxectl watch 3 ends after three events" [ "$(grep -c . "$OUT/watch")" -eq 3 ]
check "... printing them as lines (a host added first)" \
	has "$(head -1 "$OUT/watch")" "host   52:54:00:ee:00:01 added"
events a >"$OUT/a.ev"
events b >"$OUT/b.ev"
echo "# listener a got $(wc -l <"$OUT/a.ev") events, b $(wc -l <"$OUT/b.ev")"
check "two listeners at once get the same events" cmp "$OUT/a.ev" "$OUT/b.ev"
check "... in order (ids increase by one)" \
	eq "$(awk 'NR > 1 && $1 != prev + 1 { bad++ } { prev = $1 } END { print bad + 0 }' "$OUT/a.ev")" 0
check "... of every kind: host, task, boot, mcast" \
	eq "$(cut -d' ' -f2 "$OUT/a.ev" | sort -u | tr '\n' ' ')" "boot host mcast task "
states=$(grep -A2 '^event: task' "$OUT/a" | sed -n 's/^data: .*"id":1,.*"state":"\([a-z]*\)".*/\1/p' | uniq | tr '\n' ' ')
check "task 1's states in the order they happened" eq "$states" "pending booting running done "
check "the boot timeline's task-start and task-done come too" \
	eq "$(grep -c '"kind":"task-\(start\|done\)"' "$OUT/a")" 4
check "the multicast session's creation and end come as mcast events" \
	has "$(grep -A2 '^event: mcast' "$OUT/a" | grep -o '"state":"[a-z]*"' | sort -u | tr '\n' ' ')" 'cancelled'
check "event data is JSON: every data line parses" \
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("data: "): json.loads(l[6:])' "$OUT/a"

# Last-Event-ID replays what followed
third=$(sed -n 3p "$OUT/a.ev" | cut -d' ' -f1)
in_cli timeout 3 curl -sS -N -H "$(lab_auth)" -H "Last-Event-ID: $third" \
	"$URL/api/v1/events" >"$OUT/c" 2>&1
events c >"$OUT/c.ev"
check "Last-Event-ID: $third replays from $((third + 1))" \
	eq "$(head -1 "$OUT/c.ev" | cut -d' ' -f1)" "$((third + 1))"
check "... every event after it" eq "$(wc -l <"$OUT/c.ev")" "$(($(wc -l <"$OUT/a.ev") - 3))"
check "a bad Last-Event-ID: 400" eq "$(in_cli timeout 3 curl -sS -o /dev/null -w '%{http_code}' \
	-H "$(lab_auth)" -H 'Last-Event-ID: x' "$URL/api/v1/events")" 400

# keepalive, and a clean stop with a listener connected
in_cli timeout 40 curl -sS -N -H "$(lab_auth)" "$URL/api/v1/events" >"$OUT/d" 2>&1 &
D=$!
sleep 18
check "an idle listener gets a keepalive comment within 15 s" grep -q '^: keepalive' "$OUT/d"
pxed_stop
check "pxed stops with a listener connected, cleanly (sanitizers)" pxed_log_clean
wait "$D" 2>/dev/null
check "... and the listener's stream ends" sh -c "! kill -0 $D 2>/dev/null"
lab_finish
